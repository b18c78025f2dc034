//===- Driver.h - the compilation pipeline as a library ---------*- C++ -*-===//
//
// Part of Tessera. From an imported module to an object file or a shared
// library: shape folding, lowering to linalg, bufferization, lowering to the
// LLVM dialect, LLVM IR with the model ABI, -O3 code generation for the host
// or a chosen CPU, and the link into a shared library.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_DRIVER_DRIVER_H
#define TESSERA_COMPILER_DRIVER_DRIVER_H

#include "compiler/codegen/Codegen.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace tessera {

/// Every dialect and interface model the pipeline needs (bufferization
/// models for arith/linalg/tensor/func, LLVM translation).
void registerDialects(mlir::DialectRegistry &registry);

/// Reads names, element types and shapes from the imported entry function,
/// and the range of valid values for integer inputs used as Gather indices.
llvm::Expected<ModelInterface> describeModel(mlir::ModuleOp module);

/// The fusion passes on the `onnx` dialect, in order: LayerNorm and GELU
/// recognisers, attention, Q/K/V projection, residual + LayerNorm, GEMM
/// epilogues. With `report`, each emits fusion remarks (see FusionReport.h).
void buildFusionPipeline(mlir::OpPassManager &pm, bool report = false);

/// onnx-fold-shapes, then onnx -> linalg on tensors (fusion, vectorized
/// matmuls with the target's register tile, or `tile` when given).
void buildONNXToLinalgPipeline(mlir::OpPassManager &pm,
                               const TargetDescription &target,
                               std::optional<MatmulTile> tile = std::nullopt);

/// linalg on tensors -> LLVM dialect (bufferization, loops, math, LLVM).
void buildLinalgToLLVMPipeline(mlir::OpPassManager &pm);

} // namespace tessera

#endif // TESSERA_COMPILER_DRIVER_DRIVER_H
