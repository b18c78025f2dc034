//===- Passes.h - Tessera code generation passes ----------------*- C++ -*-===//

#ifndef TESSERA_COMPILER_CODEGEN_PASSES_H
#define TESSERA_COMPILER_CODEGEN_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace tessera {

/// The function tessera-build-output-dims derives from the entry function.
constexpr llvm::StringLiteral kOutputDimsFunctionName = "main_graph_output_dims";
/// What tessera-lower-asserts calls with a message's index.
constexpr llvm::StringLiteral kRaiseFunctionName = "tessera_raise";
/// The module attribute (an array of strings) holding those messages.
constexpr llvm::StringLiteral kErrorMessagesAttrName = "tessera.error_messages";

#define GEN_PASS_DECL
#include "compiler/codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/codegen/Passes.h.inc"

} // namespace tessera

#endif // TESSERA_COMPILER_CODEGEN_PASSES_H
