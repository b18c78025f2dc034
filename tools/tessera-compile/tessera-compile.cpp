//===- tessera-compile.cpp - compile an ONNX model ------------------------===//
//
// tessera-compile MODEL.onnx [-o OUT] [--emit=...] [--shape NAME=DIMS]...
//
// Every failure prints one clear error and exits 1; the output file is only
// written when everything succeeded.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Importer.h"
#include "compiler/transforms/Passes.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <map>

using namespace llvm;

namespace {

enum class Emit { Import, ONNX, Summary };

cl::OptionCategory category("tessera-compile options");

cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                               cl::desc("<model.onnx | model.onnxtxt>"),
                               cl::cat(category));
cl::opt<std::string> outputFile("o", cl::desc("Output file (default: stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(category));
cl::opt<Emit> emit(
    "emit", cl::desc("What to produce"), cl::init(Emit::ONNX),
    cl::values(clEnumValN(Emit::Import, "import",
                          "the onnx dialect exactly as imported"),
               clEnumValN(Emit::ONNX, "onnx",
                          "the onnx dialect after folding shape arithmetic"),
               clEnumValN(Emit::Summary, "summary",
                          "inputs, outputs and op counts of the folded "
                          "onnx dialect")),
    cl::cat(category));
cl::list<std::string>
    shapes("shape",
           cl::desc("Pin an input's dimensions, e.g. --shape input_ids=1x128 "
                    "(? keeps a dimension dynamic); may be repeated"),
           cl::value_desc("NAME=DIMS"), cl::cat(category));
cl::opt<bool> printWeights("print-weights",
                           cl::desc("Print large weights instead of eliding "
                                    "them"),
                           cl::init(false), cl::cat(category));
cl::opt<bool> textInput("text",
                        cl::desc("Read ONNX's textual syntax (default: by "
                                 "extension .onnxtxt or a leading '<')"),
                        cl::init(false), cl::cat(category));

/// Inputs, outputs and how many ops of each kind the entry function holds.
void printSummary(mlir::ModuleOp module, raw_ostream &os) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>(tessera::kEntryFunctionName);
  auto name = [](mlir::DictionaryAttr attrs) {
    auto n = attrs ? attrs.getAs<mlir::StringAttr>("onnx.name") : nullptr;
    return n ? n.getValue().str() : std::string("?");
  };
  if (auto opset = module->getAttrOfType<mlir::IntegerAttr>("onnx.opset"))
    os << "opset " << opset.getInt() << "\n";
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    os << "input  " << name(func.getArgAttrDict(i)) << ": "
       << func.getArgumentTypes()[i] << "\n";
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    os << "output " << name(func.getResultAttrDict(i)) << ": "
       << func.getResultTypes()[i] << "\n";
  std::map<std::string, unsigned> counts;
  int64_t weights = 0;
  func.walk([&](mlir::Operation *op) {
    if (op == func.getOperation() || isa<mlir::func::ReturnOp>(op))
      return;
    ++counts[op->getName().getStringRef().str()];
    if (auto cst = dyn_cast<tessera::onnx::ConstantOp>(op))
      weights += cst.getValue().getNumElements();
  });
  unsigned total = 0;
  for (auto &[op, n] : counts)
    total += n;
  os << total << " ops, " << weights << " constant elements\n";
  for (auto &[op, n] : counts)
    os << "  " << op << ": " << n << "\n";
}

int fail(const Twine &message) {
  WithColor::error(errs(), "tessera-compile") << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "Tessera: ahead-of-time compiler for ONNX "
                              "Transformer models\n");

  tessera::ImportOptions options;
  if (textInput)
    options.textFormat = true;
  for (const std::string &spec : shapes)
    if (Error err = tessera::parseShapeOption(spec, options))
      return fail(toString(std::move(err)));

  mlir::MLIRContext context;
  context.printOpOnDiagnostic(false);
  auto module = tessera::importONNXFile(inputFile, context, options);
  if (!module)
    return fail(toString(module.takeError()));

  if (emit != Emit::Import) {
    std::string diagnostics;
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      std::string where;
      if (auto name = dyn_cast<mlir::NameLoc>(d.getLocation()))
        where = "node '" + name.getName().str() + "': ";
      diagnostics += "\n  " + where + d.str();
      return mlir::success();
    });
    mlir::PassManager pm(&context);
    pm.addNestedPass<mlir::func::FuncOp>(tessera::createONNXFoldShapes());
    if (failed(pm.run(**module)))
      return fail("folding shape arithmetic failed:" + diagnostics);
  }

  std::error_code ec;
  auto out = std::make_unique<ToolOutputFile>(outputFile, ec, sys::fs::OF_None);
  if (ec)
    return fail("cannot write '" + outputFile + "': " + ec.message());
  if (emit == Emit::Summary) {
    printSummary(**module, out->os());
    out->keep();
    return 0;
  }
  mlir::OpPrintingFlags flags;
  if (!printWeights) {
    flags.elideLargeResourceString(64);
    flags.elideLargeElementsAttrs(64);
  }
  (*module)->print(out->os(), flags);
  out->os().flush();
  if (out->os().has_error())
    return fail("cannot write '" + outputFile + "'");
  out->keep();
  return 0;
}
