//===- Pipelines.h - the code generation stage as pipelines -----*- C++ -*-===//
//
// Part of Tessera. From linalg on tensors to the LLVM dialect, in two
// pipelines that tessera-opt runs too:
//   --tessera-cpu-codegen="mcpu=NAME"  the host CPU's schedules on tensors
//       (elementwise fusion, register-tiled matmuls, vectorised elementwise
//       ops and reductions), with every parameter from describeTarget(NAME);
//   --tessera-lower-to-llvm="mcpu=NAME"  bufferization, parallel outlining
//       and its lowering, vector lowering, then the LLVM dialect.
// Code generation's other API (LLVM IR with the ABI, objects, the link) is
// in Codegen.h; the target description in Target.h.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_CODEGEN_PIPELINES_H
#define TESSERA_COMPILER_CODEGEN_PIPELINES_H

#include "compiler/codegen/Target.h"

#include "mlir/Pass/PassManager.h"

namespace tessera {

/// The CPU schedules on tensors; tile sizes and vector widths come from
/// `target` (its matmulTile and f32Lanes).
void buildCPUCodegenPipeline(mlir::OpPassManager &pm,
                             const TargetDescription &target);

/// linalg on tensors (after buildCPUCodegenPipeline) -> LLVM dialect; the
/// copies' vector width comes from `target`.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                              const TargetDescription &target);

/// Registers `tessera-cpu-codegen` (options `mcpu`, default native, and
/// `matmul-tile`, MxN) and `tessera-lower-to-llvm` (option `mcpu`).
void registerCodegenPipelines();

} // namespace tessera

#endif // TESSERA_COMPILER_CODEGEN_PIPELINES_H
