//===- Pipelines.cpp - the lowering stage as a pipeline -------------------===//

#include "compiler/lowering/Pipelines.h"
#include "compiler/lowering/Passes.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace tessera {

void buildLowerToLinalgPipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createONNXFoldShapes());
  pm.addPass(createConvertONNXToLinalg());
}

void registerLowerToLinalgPipeline() {
  PassPipelineRegistration<>(
      "tessera-lower-to-linalg",
      "The lowering stage: onnx and tessera ops to linalg on tensors",
      buildLowerToLinalgPipeline);
}

} // namespace tessera
