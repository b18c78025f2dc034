//===- Pipelines.cpp - the lowering stage as a pipeline -------------------===//

#include "compiler/lowering/Pipelines.h"
#include "compiler/lowering/Passes.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace tessera {

void buildLowerToLinalgPipeline(OpPassManager &pm, unsigned vectorBits) {
  pm.addNestedPass<func::FuncOp>(createONNXFoldShapes());
  pm.addPass(createConvertONNXToLinalg());
  LowerFusedKernelsOptions options;
  options.vectorBits = vectorBits;
  pm.addNestedPass<func::FuncOp>(createLowerFusedKernels(options));
}

void registerLowerToLinalgPipeline() {
  PassPipelineRegistration<>(
      "tessera-lower-to-linalg",
      "The lowering stage: onnx and tessera ops to linalg on tensors",
      [](OpPassManager &pm) { buildLowerToLinalgPipeline(pm); });
}

} // namespace tessera
