//===- Reductions.h - reductions over axes, shared lowering helpers -*- C++
//-*-===//
//
// Part of Tessera. The building blocks of every reduction-shaped lowering
// (Reduce*, ArgMax/ArgMin, Hardmax, CumSum, LpNormalization,
// MeanVarianceNormalization in Reductions.cpp; Softmax and LayerNormalization
// in NN.cpp): a linalg.reduce over some dims, and an elementwise map that
// reads reduced values broadcast back.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_LOWERING_REDUCTIONS_H
#define TESSERA_COMPILER_LOWERING_REDUCTIONS_H

#include "mlir/IR/Builders.h"

#include <optional>
#include <string>

#include <functional>

namespace tessera::lowering {

/// The number of elements of `x` over `dims` as a scalar of `elt`: a
/// constant built where it is used if static, else computed once here.
std::function<mlir::Value(mlir::OpBuilder &, mlir::Location)>
elementCount(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
             llvm::ArrayRef<int64_t> dims, mlir::Type elt);

/// Reduces `input` over `dims` (sorted) with `combine(element, accumulator)`,
/// starting from `init`. The result drops the reduced dims.
mlir::Value
buildReduce(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
            llvm::ArrayRef<int64_t> dims, mlir::TypedAttr init,
            llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                           mlir::Value, mlir::Value)>
                combine);

/// The map from the full iteration space of rank `rank` to the reduced
/// tensor (`dims` removed).
mlir::AffineMap droppingMap(mlir::MLIRContext *ctx, int64_t rank,
                            llvm::ArrayRef<int64_t> dims);

/// out = body(x, reduced...) over x's shape, reading each of `reduced` (the
/// results of reductions over `dims`) broadcast back.
mlir::Value
mapWithReduced(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
               llvm::ArrayRef<mlir::Value> reduced,
               llvm::ArrayRef<int64_t> dims, mlir::Type resultElt,
               llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                              mlir::ValueRange)>
                   body);

/// What normalizeOver computes: the normalised x, and the statistics over
/// the reduced dims (those dims removed).
struct Normalized {
  mlir::Value normed, mean, variance, invStd;
};

/// (x - mean) * rsqrt(var + eps) over `dims` of `x` (already in the
/// statistics' type), with the mean, the (population) variance and
/// rsqrt(var + eps). `count` gives the number of elements reduced.
Normalized normalizeOver(
    mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
    llvm::ArrayRef<int64_t> dims, double eps,
    const std::function<mlir::Value(mlir::OpBuilder &, mlir::Location)> &count);

/// Softmax (or with `isLog` its log) of `x` along `axis`, shifted by the
/// maximum. With `zeroEmptyRows` a row whose exponentials sum to 0 (every
/// element -inf: a fully masked attention row) gives 0 instead of NaN. A
/// 16-bit float `x` is widened, its softmax computed in f32 and rounded once.
mlir::Value buildSoftmax(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                         int64_t axis, bool isLog, bool zeroEmptyRows = false);

/// y = normed * scale (+ shift) into `outType`: `scale` and `shift`
/// (optional) broadcast against `normed` and computed in its element type,
/// the result converted to `outType`'s (LayerNormalization's last step).
mlir::Value buildScaleShift(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::RankedTensorType outType, mlir::Value normed,
                            mlir::Value scale, mlir::Value shift);

/// Why the reduction `op` cannot be lowered (axes computed at run time, an
/// integer input to a reduction that takes a square root or a logarithm), or
/// nothing, also for ops that are not reductions.
std::optional<std::string> reductionProblem(mlir::Operation *op);

} // namespace tessera::lowering

#endif // TESSERA_COMPILER_LOWERING_REDUCTIONS_H
