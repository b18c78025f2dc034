//===- ImporterFuzzer.cpp - libFuzzer targets: import, transform, lower ---===//
//
// Feeds each input to the importer as a model (binary protobuf, or ONNX text
// when it starts with '<') and, when it imports, runs what tessera-compile
// runs up to, not including, code generation: shape folding, the fusion
// passes and describeModel (tessera-fuzz-import). Built with
// TESSERA_FUZZ_LOWER (tessera-fuzz-lower), it goes on through lowering to
// linalg, the CPU code generation passes and the LLVM dialect: several times
// slower per input, so the two run separately. Any crash, sanitizer report
// or leak is a bug: a malformed model must be an error.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Pipelines.h"
#include "compiler/driver/Driver.h"
#include "compiler/import/Importer.h"
#include "compiler/lowering/Pipelines.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"

#include <cstdint>
#include <cstdlib>

using namespace mlir;

namespace {

bool runPipeline(ModuleOp module,
                 llvm::function_ref<void(OpPassManager &)> build) {
  PassManager pm(module.getContext());
  build(pm);
  return succeeded(pm.run(module));
}

/// An empty directory as the model's directory: external data never
/// resolves to a real file (and a fuzzed location cannot read this tree).
const std::string &modelDir() {
  static std::string dir = [] {
    llvm::SmallString<128> path;
    if (llvm::sys::fs::createUniqueDirectory("tessera-fuzz", path))
      std::abort();
    return std::string(path);
  }();
  return dir;
}

/// One MLIRContext serves many inputs: creating a context and loading the
/// dialects costs more than importing most inputs. A fresh one every
/// kInputsPerContext inputs bounds what uniqued attributes and resource
/// blobs (the weights of every imported input) accumulate.
class FuzzContext {
public:
  MLIRContext &get() {
    if (!context || ++uses > kInputsPerContext) {
      quiet.reset();
      context = std::make_unique<MLIRContext>(
          registry(), MLIRContext::Threading::DISABLED);
      context->loadAllAvailableDialects();
      context->printOpOnDiagnostic(false);
      quiet = std::make_unique<ScopedDiagnosticHandler>(
          context.get(), [](Diagnostic &) { return success(); });
      uses = 1;
    }
    return *context;
  }

private:
  static constexpr unsigned kInputsPerContext = 64;

  static const DialectRegistry &registry() {
    static DialectRegistry *r = [] {
      auto *r = new DialectRegistry();
      tessera::registerDialects(*r);
      return r;
    }();
    return *r;
  }

  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<ScopedDiagnosticHandler> quiet;
  unsigned uses = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FuzzContext *contexts = new FuzzContext();
  MLIRContext &context = contexts->get();
  auto module = tessera::importONNXBuffer(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), modelDir(),
      context);
  if (!module) {
    llvm::consumeError(module.takeError());
    return 0;
  }
  ModuleOp m = **module;
  if (!runPipeline(m, [](OpPassManager &pm) {
        pm.addNestedPass<func::FuncOp>(tessera::createONNXFoldShapes());
      }))
    return 0;
  if (!runPipeline(m, [](OpPassManager &pm) {
        tessera::buildFusionPipeline(pm, /*report=*/true);
      }))
    return 0;
  auto iface = tessera::describeModel(m);
  if (!iface) {
    llvm::consumeError(iface.takeError());
    return 0;
  }
#ifdef TESSERA_FUZZ_LOWER
  static tessera::TargetDescription target =
      llvm::cantFail(tessera::describeTarget("native"));
  if (!runPipeline(m, [](OpPassManager &pm) {
        tessera::buildLowerToLinalgPipeline(pm);
        tessera::buildCPUCodegenPipeline(pm, target);
      }))
    return 0;
  (void)runPipeline(m, [](OpPassManager &pm) {
    tessera::buildLowerToLLVMPipeline(pm, target);
  });
#endif
  return 0;
}
