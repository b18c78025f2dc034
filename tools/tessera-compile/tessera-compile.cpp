//===- tessera-compile.cpp - compile an ONNX model ------------------------===//
//
// tessera-compile MODEL.onnx [-o OUT] [--emit=...] [--shape NAME=DIMS]...
//
// Every failure prints one clear error and exits 1; the output file is only
// written when everything succeeded.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Pipelines.h"
#include "compiler/driver/Driver.h"
#include "compiler/import/Importer.h"
#include "compiler/lowering/Pipelines.h"
#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Pipelines.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <chrono>
#include <map>

using namespace llvm;

namespace {

enum class Emit {
  Import,
  ONNX,
  Fused,
  Summary,
  Linalg,
  MLIRLLVM,
  LLVM,
  Obj,
  Lib,
  Exe
};

cl::OptionCategory category("tessera-compile options");

cl::opt<std::string> inputFile(cl::Positional,
                               cl::desc("<model.onnx | model.onnxtxt>"),
                               cl::cat(category));
cl::opt<bool> listOperators(
    "list-operators",
    cl::desc("Print every default-domain ONNX operator, one per line: "
             "NAME<tab>OPSET (imported from that opset on) or "
             "NAME<tab>-<tab>REASON (not imported), and exit"),
    cl::cat(category));
cl::opt<std::string> outputFile("o", cl::desc("Output file (default: stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(category));
cl::opt<Emit> emit(
    "emit", cl::desc("What to produce"), cl::init(Emit::Lib),
    cl::values(clEnumValN(Emit::Import, "import",
                          "the onnx dialect exactly as imported"),
               clEnumValN(Emit::ONNX, "onnx",
                          "the onnx dialect after folding shape arithmetic"),
               clEnumValN(Emit::Fused, "fused",
                          "the onnx and tessera dialects after fusion"),
               clEnumValN(Emit::Summary, "summary",
                          "inputs, outputs and op counts of the folded "
                          "onnx dialect"),
               clEnumValN(Emit::Linalg, "linalg",
                          "linalg/tensor/arith after lowering the onnx ops"),
               clEnumValN(Emit::MLIRLLVM, "mlir-llvm",
                          "the MLIR LLVM dialect before translation"),
               clEnumValN(Emit::LLVM, "llvm", "optimised LLVM IR with the ABI"),
               clEnumValN(Emit::Obj, "obj", "an object file"),
               clEnumValN(Emit::Lib, "lib",
                          "a shared library the runtime loads (default)"),
               clEnumValN(Emit::Exe, "exe",
                          "a standalone program: the model, the runtime and "
                          "tessera-run's options (--input, --output-dir, "
                          "--threads, --bench)")),
    cl::cat(category));
cl::list<std::string>
    shapes("shape",
           cl::desc("Pin an input's dimensions, e.g. --shape input_ids=1x128 "
                    "(? keeps a dimension dynamic); may be repeated"),
           cl::value_desc("NAME=DIMS"), cl::cat(category));
cl::list<std::string> dimSpecs(
    "dim",
    cl::desc("Pin a named dimension (an ONNX dim_param) on every input that "
             "uses it, --dim batch=1, or bound it, --dim seq=1..512 (the "
             "runtime refuses sizes outside the bounds); may be repeated"),
    cl::value_desc("NAME=N|NAME=MIN..MAX"), cl::cat(category));
cl::opt<bool> printWeights("print-weights",
                           cl::desc("Print large weights instead of eliding "
                                    "them"),
                           cl::init(false), cl::cat(category));
cl::opt<std::string> mcpu("mcpu",
                          cl::desc("Target CPU: native (default) or an LLVM "
                                   "CPU name such as znver4 or x86-64-v3"),
                          cl::init("native"), cl::cat(category));
cl::opt<char> optLevel("O",
                       cl::desc("Optimisation level: -O0, -O1, -O2 or "
                                "-O3 (default)"),
                       cl::Prefix, cl::init('3'), cl::cat(category));
cl::opt<bool> timing("timing", cl::desc("Print the time each pass takes"),
                     cl::init(false), cl::cat(category));
cl::opt<std::string>
    matmulTile("matmul-tile",
               cl::desc("Register tile of the matmul schedule, MxN "
                        "(default: from the target's vector width)"),
               cl::value_desc("MxN"), cl::cat(category), cl::Hidden);
cl::opt<bool> fuse("fuse",
                   cl::desc("Run the Transformer fusion passes (default on; "
                            "--fuse=false compiles the graph as exported)"),
                   cl::init(true), cl::cat(category));
cl::opt<bool> fusionReport(
    "fusion-report",
    cl::desc("Print how many ops each fusion produced and every candidate "
             "left unfused, with its node and the reason"),
    cl::init(false), cl::cat(category));
cl::opt<bool> externalWeights(
    "external-weights",
    cl::desc("Write the weights to OUT.weights beside the library (or "
             "program), which the runtime maps at load time, instead of into "
             "the library"),
    cl::init(false), cl::cat(category));
cl::opt<bool> quiet("quiet",
                    cl::desc("Do not show progress (shown when stderr is a "
                             "terminal)"),
                    cl::init(false), cl::cat(category));
cl::opt<bool> progressAlways("progress",
                             cl::desc("Show progress even when stderr is not "
                                      "a terminal"),
                             cl::init(false), cl::cat(category), cl::Hidden);
cl::opt<bool> textInput("text",
                        cl::desc("Read ONNX's textual syntax (default: by "
                                 "extension .onnxtxt or a leading '<')"),
                        cl::init(false), cl::cat(category));

/// "[batch, seq 1..512, 768]": each dim with its name and bounds.
std::string formatDims(const tessera::TensorInfo &t) {
  std::string s = "[";
  for (auto [d, size] : llvm::enumerate(t.dims)) {
    s += d ? ", " : "";
    if (size >= 0) {
      s += std::to_string(size);
      continue;
    }
    const tessera::DimInfo &info = t.dimInfo[d];
    s += info.name.empty() ? "?" : info.name;
    if (info.min != 1 || info.max != INT64_MAX)
      s += " " + std::to_string(info.min) + ".." +
           (info.max == INT64_MAX ? "" : std::to_string(info.max));
  }
  return s + "]";
}

/// Inputs, outputs and how many ops of each kind the entry function holds.
void printSummary(mlir::ModuleOp module, const tessera::ModelInterface &iface,
                  raw_ostream &os) {
  auto func = tessera::fused::getEntryFunctionAs<mlir::func::FuncOp>(module);
  if (auto opset = module->getAttrOfType<mlir::IntegerAttr>("onnx.opset"))
    os << "opset " << opset.getInt() << "\n";
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    os << "input  " << iface.inputs[i].name << ": "
       << func.getArgumentTypes()[i] << " " << formatDims(iface.inputs[i])
       << "\n";
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    os << "output " << iface.outputs[i].name << ": "
       << func.getResultTypes()[i] << " " << formatDims(iface.outputs[i])
       << "\n";
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

/// The stages of a compile with their elapsed seconds, on stderr:
///   tessera-compile: import 0.41 s, fold 0.02 s, ... link 0.10 s; 9.87 s
/// one stage at a time as it finishes. Off unless enabled.
class Progress {
public:
  using Clock = std::chrono::steady_clock;

  void enable() { enabled = true; }
  /// Ends the running stage (if any) and starts `stage`.
  void begin(StringRef stage) {
    end();
    if (!enabled)
      return;
    errs() << (first ? "tessera-compile: " : ", ") << stage << " ";
    errs().flush();
    first = false;
    current = stage;
    stageStart = Clock::now();
  }
  /// Ends the running stage; with `total`, the line with the total time.
  void end(bool total = false) {
    if (!enabled)
      return;
    if (!current.empty())
      errs() << format("%.2f s", seconds(stageStart));
    current = "";
    if (total && !first) {
      errs() << format("; %.2f s\n", seconds(start));
      first = true;
    }
  }
  /// Ends the line before an error message.
  void interrupt() {
    if (enabled && !first)
      errs() << "\n";
    first = true;
    current = "";
  }

private:
  static double seconds(Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
  }

  bool enabled = false, first = true;
  std::string current;
  Clock::time_point start = Clock::now(), stageStart;
};

Progress progress;

int fail(const Twine &message) {
  progress.interrupt();
  WithColor::error(errs(), "tessera-compile") << message << "\n";
  return 1;
}

/// Parses the --dim options: pins go to `options`, bounds to `bounds`.
Error parseDimOptions(tessera::ImportOptions &options,
                      std::map<std::string, std::pair<int64_t, int64_t>> &bounds) {
  for (StringRef spec : dimSpecs) {
    auto [name, value] = spec.split('=');
    auto bad = [&](const Twine &why) {
      return createStringError(inconvertibleErrorCode(),
                               "--dim '" + spec + "': " + why);
    };
    if (name.empty() || value.empty())
      return bad("expected NAME=N or NAME=MIN..MAX");
    int64_t lo, hi;
    if (value.contains("..")) {
      auto [l, h] = value.split("..");
      if (l.getAsInteger(10, lo) || h.getAsInteger(10, hi) || lo < 0 ||
          hi < lo)
        return bad("expected MIN..MAX with 0 <= MIN <= MAX");
      bounds[name.str()] = {lo, hi};
    } else {
      if (value.getAsInteger(10, lo) || lo < 0)
        return bad("'" + value + "' is not a non-negative integer");
      options.dimValues.emplace_back(name.str(), lo);
    }
  }
  return Error::success();
}

/// Applies --dim bounds to every dynamic dim of that name.
Error applyDimBounds(
    tessera::ModelInterface &iface,
    const std::map<std::string, std::pair<int64_t, int64_t>> &bounds) {
  for (const auto &[name, range] : bounds) {
    bool used = false;
    for (auto *list : {&iface.inputs, &iface.outputs})
      for (tessera::TensorInfo &t : *list)
        for (tessera::DimInfo &d : t.dimInfo)
          if (d.name == name) {
            // Within what the model implies (a position table's rows).
            d.min = std::max(d.min == 1 ? range.first : d.min, range.first);
            d.max = std::min(d.max, range.second);
            used = true;
          }
    if (!used)
      return createStringError(inconvertibleErrorCode(),
                               "--dim names '" + name +
                                   "', which no dynamic dimension of the "
                                   "model is named");
  }
  return Error::success();
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "Tessera: ahead-of-time compiler for ONNX "
                              "Transformer models\n");

  if (listOperators) {
    for (const tessera::OperatorSupport &op : tessera::operatorSupport())
      if (op.sinceOpset)
        llvm::outs() << op.name << '\t' << op.sinceOpset << '\n';
      else
        llvm::outs() << op.name << "\t-\t" << op.reason << '\n';
    return 0;
  }
  if (inputFile.empty())
    return fail("no input model given (tessera-compile MODEL.onnx -o OUT)");

  tessera::ImportOptions options;
  if (textInput)
    options.textFormat = true;
  for (const std::string &spec : shapes)
    if (Error err = tessera::parseShapeOption(spec, options))
      return fail(toString(std::move(err)));
  std::map<std::string, std::pair<int64_t, int64_t>> dimBounds;
  if (Error err = parseDimOptions(options, dimBounds))
    return fail(toString(std::move(err)));

  llvm::Expected<tessera::TargetDescription> target =
      tessera::describeTarget(mcpu);
  if (!target)
    return fail(toString(target.takeError()));

  if (!quiet && (progressAlways || sys::Process::StandardErrIsDisplayed()))
    progress.enable();
  // Every successful return ends the line with the total time.
  struct EndProgress {
    ~EndProgress() { progress.end(/*total=*/true); }
  } endProgress;
  progress.begin("import");
  mlir::DialectRegistry registry;
  tessera::registerDialects(registry);
  mlir::MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  auto module = tessera::importONNXFile(inputFile, context, options);
  if (!module)
    return fail(toString(module.takeError()));

  if (optLevel < '0' || optLevel > '3')
    return fail(Twine("-O") + std::string(1, optLevel) +
                " is not an optimisation level (use "
                "-O0 to -O3)");
  // `--fusion-report` alone reports without compiling.
  bool reportOnly = fusionReport && emit == Emit::Lib && outputFile == "-";
  bool binary = emit == Emit::Obj || emit == Emit::Lib || emit == Emit::Exe;
  if (binary && outputFile == "-" && !reportOnly)
    return fail("--emit=lib and --emit=obj need an output file (-o FILE)");

  if (externalWeights && emit != Emit::Lib && emit != Emit::Exe &&
      emit != Emit::LLVM)
    return fail("--external-weights needs --emit=lib, --emit=exe or "
                "--emit=llvm");

  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    std::string where;
    if (auto name = dyn_cast<mlir::NameLoc>(d.getLocation()))
      where = "node '" + name.getName().str() + "': ";
    diagnostics += "\n  " + where + d.str();
    return mlir::success();
  });
  auto runPipeline = [&](llvm::function_ref<void(mlir::OpPassManager &)> build,
                         StringRef what) -> bool {
    mlir::PassManager pm(&context);
    if (timing)
      pm.enableTiming();
    build(pm);
    if (succeeded(pm.run(**module)))
      return true;
    fail(what + " failed:" + diagnostics);
    return false;
  };

  if (emit != Emit::Import) {
    progress.begin("fold");
    if (!runPipeline(
            [](mlir::OpPassManager &pm) {
              pm.addNestedPass<mlir::func::FuncOp>(
                  tessera::createONNXFoldShapes());
            },
            "folding shape arithmetic"))
      return 1;
  }
  if (fuse && emit != Emit::Import && emit != Emit::ONNX) {
    std::optional<tessera::FusionReport> report;
    if (fusionReport)
      report.emplace(&context);
    progress.begin("fuse");
    if (!runPipeline(
            [](mlir::OpPassManager &pm) {
              tessera::buildFusionPipeline(pm, fusionReport);
            },
            "fusion"))
      return 1;
    if (report) {
      progress.end(/*total=*/true);
      report->print(outputFile == "-" && !reportOnly ? errs() : outs());
    }
  }
  if (reportOnly)
    return 0;
  std::optional<tessera::ModelInterface> iface;
  if (emit != Emit::Import && emit != Emit::ONNX && emit != Emit::Fused) {
    auto described = tessera::describeModel(**module);
    if (!described)
      return fail(toString(described.takeError()));
    iface = std::move(*described);
    if (Error err = applyDimBounds(*iface, dimBounds))
      return fail(toString(std::move(err)));
  }
  if (iface && emit != Emit::Summary) {
    if (!matmulTile.empty()) {
      llvm::Expected<tessera::MatmulTile> tile =
          tessera::parseMatmulTile(matmulTile);
      if (!tile)
        return fail("--matmul-tile " + toString(tile.takeError()));
      target->matmulTile = *tile;
    }
    progress.begin("lower");
    if (!runPipeline(
            [&](mlir::OpPassManager &pm) {
              tessera::buildLowerToLinalgPipeline(pm, target->vectorBits);
              tessera::buildCPUCodegenPipeline(pm, *target);
            },
            "lowering to linalg"))
      return 1;
    if (emit != Emit::Linalg &&
        !runPipeline(
            [&](mlir::OpPassManager &pm) {
              tessera::buildLowerToLLVMPipeline(pm, *target);
            },
            "lowering to the LLVM dialect"))
      return 1;
    if (emit == Emit::LLVM || binary) {
      tessera::CodegenOptions codegen;
      codegen.target = *target;
      codegen.optLevel = optLevel - '0';
      codegen.timing = timing;
      std::string weights;
      const std::string *weightsFile = externalWeights ? &weights : nullptr;
      if (externalWeights)
        codegen.externalWeightsFile =
            tessera::externalWeightsFileName(outputFile);
      if (emit == Emit::LLVM || emit == Emit::Obj) {
        std::error_code ec;
        ToolOutputFile out(outputFile, ec, sys::fs::OF_None);
        if (ec)
          return fail("cannot write '" + outputFile + "': " + ec.message());
        progress.begin("codegen");
        if (Error err = tessera::generateCode(**module, *iface, codegen,
                                              out.os(), emit == Emit::Obj))
          return fail(toString(std::move(err)));
        out.os().flush();
        if (out.os().has_error())
          return fail("cannot write '" + outputFile + "'");
        out.keep();
        return 0;
      }
      // The object goes to a temporary file, the linker's input.
      SmallString<128> objectPath;
      int fd;
      if (std::error_code ec =
              sys::fs::createTemporaryFile("tessera", "o", fd, objectPath))
        return fail("cannot create a temporary file: " + ec.message());
      FileRemover removeObject(objectPath);
      {
        raw_fd_ostream os(fd, /*shouldClose=*/true);
        progress.begin("codegen");
        if (Error err = tessera::generateCode(**module, *iface, codegen, os,
                                              /*emitObject=*/true, &weights))
          return fail(toString(std::move(err)));
        os.close();
        if (os.has_error())
          return fail("cannot write the object file '" + objectPath +
                      "': " + os.error().message());
      }
      progress.begin("link");
      if (emit == Emit::Lib) {
        if (Error err =
                tessera::linkSharedLibrary(objectPath, outputFile, weightsFile))
          return fail(toString(std::move(err)));
        return 0;
      }
      // The runtime and tessera-run's main, as built with this compiler.
      std::vector<std::string> inputs = {TESSERA_EXE_MAIN_OBJECT,
                                         TESSERA_RUN_LIB,
                                         TESSERA_RUNTIME_LIB,
                                         TESSERA_ONNX_PROTO_LIB,
                                         TESSERA_PROTOBUF_LIB,
                                         "-lstdc++",
                                         "-lpthread",
                                         "-ldl"};
      if (Error err = tessera::linkExecutable(objectPath, outputFile, inputs,
                                              weightsFile))
        return fail(toString(std::move(err)));
      return 0;
    }
  }

  std::error_code ec;
  auto out = std::make_unique<ToolOutputFile>(outputFile, ec, sys::fs::OF_None);
  if (ec)
    return fail("cannot write '" + outputFile + "': " + ec.message());
  if (emit == Emit::Summary) {
    printSummary(**module, *iface, out->os());
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
