//===- Pipelines.h - the lowering stage as a pipeline -----------*- C++ -*-===//
//
// Part of Tessera. `onnx` and `tessera` ops to tensor-level linalg (and the
// fused kernels' loops); `tessera-opt --tessera-lower-to-linalg` runs it.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_LOWERING_PIPELINES_H
#define TESSERA_COMPILER_LOWERING_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace tessera {

/// onnx-fold-shapes, convert-onnx-to-linalg, then tessera-lower-fused-kernels.
/// `vectorBits`: the target's widest vector register (TargetDescription's).
void buildLowerToLinalgPipeline(mlir::OpPassManager &pm,
                                unsigned vectorBits = 256);

/// Registers `tessera-lower-to-linalg` with buildLowerToLinalgPipeline.
void registerLowerToLinalgPipeline();

} // namespace tessera

#endif // TESSERA_COMPILER_LOWERING_PIPELINES_H
