//===- Driver.h - what the tools need besides the stages --------*- C++ -*-===//
//
// Part of Tessera. The dialects and interface models of the whole pipeline,
// and the model's interface read from the imported graph. Each stage has its
// own API: the fusions in compiler/transforms/Pipelines.h, the lowering in
// compiler/lowering/Pipelines.h, code generation in
// compiler/codegen/Pipelines.h (to the LLVM dialect) and
// compiler/codegen/Codegen.h (LLVM IR with the ABI, objects, the link).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_DRIVER_DRIVER_H
#define TESSERA_COMPILER_DRIVER_DRIVER_H

#include "compiler/codegen/Codegen.h" // ModelInterface

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/Support/Error.h"

namespace tessera {

/// Every dialect and interface model the pipeline needs (bufferization
/// models for arith/linalg/tensor/func, LLVM translation).
void registerDialects(mlir::DialectRegistry &registry);

/// Reads names, element types and shapes from the imported entry function,
/// and the range of valid values for integer inputs used as Gather indices.
llvm::Expected<ModelInterface> describeModel(mlir::ModuleOp module);

} // namespace tessera

#endif // TESSERA_COMPILER_DRIVER_DRIVER_H
