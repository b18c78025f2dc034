//===- RowNorm.h - the row-normalisation kernel builder ---------*- C++ -*-===//
//
// Part of Tessera. One kernel for every normalisation over the last axis:
// tessera.add_layer_norm (LayerNorm or RMSNorm after a residual Add) and
// onnx.RMSNormalization on its own. See FusedAddLayerNorm.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_LOWERING_ROWNORM_H
#define TESSERA_COMPILER_LOWERING_ROWNORM_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/DialectConversion.h"

#include <algorithm>
#include <optional>
#include <string>

namespace tessera::kernels {

/// The body of a chunk of a row: `n` lanes from column `col`, with the
/// loop-carried values; returns their next values.
using ChunkFn = llvm::function_ref<llvm::SmallVector<mlir::Value>(
    mlir::OpBuilder &, mlir::Value col, int64_t n, mlir::ValueRange carried)>;

/// Runs `body` over columns [begin, end) in chunks of `width` lanes (an
/// scf.for), then once over the remainder (fewer lanes), threading the
/// carried values (tensors being written, accumulators) through.
llvm::SmallVector<mlir::Value> overChunks(mlir::OpBuilder &b,
                                          mlir::Location loc, int64_t begin,
                                          int64_t end, int64_t width,
                                          mlir::ValueRange init, ChunkFn body);

/// The body of one row: its indices along the leading axes, the tensors
/// being written; returns their next values.
using RowFn = llvm::function_ref<llvm::SmallVector<mlir::Value>(
    mlir::OpBuilder &, llvm::ArrayRef<mlir::Value> row, mlir::ValueRange outs)>;

/// One scf.for per leading axis of `sizes` (static or dynamic) around
/// `body`, threading the output tensors `outs` through; with dynamic sizes
/// the outermost loop writes through whole slices (KernelShapes.h
/// extractWhole), so that the results' dims fold to the outputs'.
llvm::SmallVector<mlir::Value> overRows(mlir::OpBuilder &b, mlir::Location loc,
                                        llvm::ArrayRef<mlir::OpFoldResult> sizes,
                                        mlir::ValueRange outs, RowFn body);

/// What the kernel computes: `sum = X (+ bias) (+ residual)` (written only
/// with a residual), then `Y = norm(sum) * gamma (+ beta)` over the last
/// axis, where norm is LayerNorm's (s - mean) * rstd or, with `rms`, RMSNorm's
/// s * rstd. X and the residual broadcast over the leading axes.
struct RowNorm {
  mlir::Value x, residual, bias, gamma, beta; // residual, bias, beta optional
  mlir::RankedTensorType yType;               // converted result types
  mlir::RankedTensorType sumType;             // null without a residual
  bool rms = false;
  float epsilon = 1e-5f;
  /// Lanes of the kernel's f32 vectors (vectorLanes of the target).
  int64_t width = 16;
};

/// The f32 lanes of one vector register of `vectorBits` (the target
/// description's widest): the vector width of the row kernels (row norms,
/// rotary embedding).
inline int64_t vectorLanes(unsigned vectorBits) {
  return std::max<int64_t>(vectorBits / 32, 4);
}

/// Why the kernel cannot take `spec`, if it cannot: a dynamic or empty row,
/// non-float or wider than f32 types, X or the residual not broadcasting to
/// the result. Builds nothing.
std::optional<std::string> rowNormProblem(const RowNorm &spec);

/// Builds the kernel in place of `op` and returns its results ({Y}, or
/// {Y, sum} with a residual), or fails (notified on `rewriter`, before it
/// builds anything) where rowNormProblem says why.
mlir::FailureOr<llvm::SmallVector<mlir::Value>>
buildRowNorm(mlir::RewriterBase &rewriter, mlir::Operation *op,
             const RowNorm &spec);

/// Replaces `op` by the kernel (see buildRowNorm).
mlir::LogicalResult replaceWithRowNorm(mlir::RewriterBase &rewriter,
                                       mlir::Operation *op,
                                       const RowNorm &spec);

} // namespace tessera::kernels

#endif // TESSERA_COMPILER_LOWERING_ROWNORM_H
