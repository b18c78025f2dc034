//===- Pipelines.h - the fusion stage as a pipeline -------------*- C++ -*-===//
//
// Part of Tessera. The passes on the `onnx` dialect that find Transformer
// structure and fuse it into `tessera` ops, in order; `tessera-opt
// --tessera-fuse` runs them.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_TRANSFORMS_PIPELINES_H
#define TESSERA_COMPILER_TRANSFORMS_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace tessera {

/// The fusion passes on the `onnx` dialect, in order: LayerNorm and GELU
/// recognisers, attention, Q/K/V projection, residual + LayerNorm, GEMM
/// epilogues. With `report`, each emits fusion remarks (see FusionReport.h).
void buildFusionPipeline(mlir::OpPassManager &pm, bool report = false);

/// Registers `tessera-fuse` (option `report`) with buildFusionPipeline.
void registerFusionPipeline();

} // namespace tessera

#endif // TESSERA_COMPILER_TRANSFORMS_PIPELINES_H
