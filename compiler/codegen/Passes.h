//===- Passes.h - Tessera code generation passes ----------------*- C++ -*-===//

#ifndef TESSERA_COMPILER_CODEGEN_PASSES_H
#define TESSERA_COMPILER_CODEGEN_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace tessera {

/// What tessera-lower-asserts calls with a message's index.
constexpr llvm::StringLiteral kRaiseFunctionName = "tessera_raise";
/// The module attribute (an array of strings) holding those messages.
constexpr llvm::StringLiteral kErrorMessagesAttrName = "tessera.error_messages";

/// On an argument of the entry function: the argument is the buffer of
/// output N (an index attribute), which tessera-results-to-out-params moves
/// to its place among the outputs (tessera-cache-in-place makes them).
constexpr llvm::StringLiteral kOutputIndexAttrName = "tessera.output_index";
/// The module attribute (an array of [input, output, axis] i64 arrays)
/// listing the KV-cache pairs whose present may share the past's buffer
/// (ABI v5's TESSERA_CACHE_IN_PLACE pairs).
constexpr llvm::StringLiteral kCachePairsAttrName = "tessera.cache_pairs";

/// Upstream's canonicalization patterns of every loaded dialect and
/// registered op, plus a tensor.dim(tensor.expand_shape) pattern that reads
/// the expand's output_shape (upstream's divides by kDynamic for groups with
/// several dynamic dims in LLVM 19). Use instead of the canonicalizer.
void populateCanonicalizationPatterns(mlir::RewritePatternSet &patterns);

/// Bufferizes tensor.expand_shape with its output_shape (LLVM 19's model
/// re-infers it and crashes on groups with several dynamic dims). Call
/// before tensor::registerBufferizableOpInterfaceExternalModels.
void registerExpandShapeBufferization(mlir::DialectRegistry &registry);

#define GEN_PASS_DECL
#include "compiler/codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/codegen/Passes.h.inc"

} // namespace tessera

#endif // TESSERA_COMPILER_CODEGEN_PASSES_H
