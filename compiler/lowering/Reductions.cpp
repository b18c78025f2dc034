//===- Reductions.cpp - onnx reductions, scans and axis ops to linalg -----===//
//
// Every Reduce* op is one linalg.reduce described by a Reduction (what each
// element contributes, how contributions combine, from which initial value,
// and what happens to the total), followed by the keepdims reshape. ArgMax
// and ArgMin are one reduction of (value, index) pairs, which Hardmax reuses;
// CumSum is a loop over the axis; LpNormalization and
// MeanVarianceNormalization are reductions mapped back over their input.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Reductions.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

//===----------------------------------------------------------------------===//
// Building blocks (Reductions.h)
//===----------------------------------------------------------------------===//

std::function<Value(OpBuilder &, Location)>
tessera::lowering::elementCount(OpBuilder &b, Location loc, Value x,
                                ArrayRef<int64_t> dims, Type elt) {
  SmallVector<OpFoldResult> sizes;
  for (int64_t d : dims)
    sizes.push_back(tensor::getMixedSize(b, loc, x, d));
  OpFoldResult count = sizeProduct(b, loc, sizes);
  auto constant = [elt](OpBuilder &nb, Location l, int64_t v) -> Value {
    if (isa<FloatType>(elt))
      return nb.create<arith::ConstantOp>(l, nb.getFloatAttr(elt, double(v)));
    return nb.create<arith::ConstantOp>(l, nb.getIntegerAttr(elt, v));
  };
  if (std::optional<int64_t> c = getConstantIntValue(count))
    return [=](OpBuilder &nb, Location l) { return constant(nb, l, *c); };
  Value i =
      b.create<arith::IndexCastOp>(loc, b.getI64Type(), cast<Value>(count));
  Value v = convertScalar(b, loc, i, elt, false, false);
  return [v](OpBuilder &, Location) { return v; };
}

Value tessera::lowering::buildReduce(
    OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> dims,
    TypedAttr init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> kept;
  SmallVector<OpFoldResult> keptSizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (!llvm::is_contained(dims, i)) {
      kept.push_back(type.getDimSize(i));
      if (type.isDynamicDim(i))
        keptSizes.push_back(b.createOrFold<tensor::DimOp>(loc, input, i));
      else
        keptSizes.push_back(b.getIndexAttr(type.getDimSize(i)));
    }
  auto outType = RankedTensorType::get(kept, type.getElementType());
  Value acc = buildFilled(b, loc, outType, keptSizes, init);
  auto reduce = b.create<linalg::ReduceOp>(
      loc, ValueRange{input}, ValueRange{acc}, dims,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        nb.create<linalg::YieldOp>(nl, combine(nb, nl, args[0], args[1]));
      });
  return reduce.getResult(0);
}

AffineMap tessera::lowering::droppingMap(MLIRContext *ctx, int64_t rank,
                                         ArrayRef<int64_t> dims) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (!llvm::is_contained(dims, i))
      exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value tessera::lowering::mapWithReduced(
    OpBuilder &b, Location loc, Value x, ArrayRef<Value> reduced,
    ArrayRef<int64_t> dims, Type resultElt,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto type = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  int64_t rank = type.getRank();
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  for (size_t i = 0; i < reduced.size(); ++i)
    maps.push_back(droppingMap(ctx, rank, dims));
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<Value> inputs = {x};
  inputs.append(reduced.begin(), reduced.end());
  Value init = buildEmpty(b, loc, type.clone(resultElt),
                          tensor::getMixedSizes(b, loc, x));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{RankedTensorType::get(type.getShape(), resultElt)},
          inputs, ValueRange{init}, maps, iters,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            nb.create<linalg::YieldOp>(nl, body(nb, nl, args.drop_back()));
          })
      .getResult(0);
}

tessera::lowering::Normalized tessera::lowering::normalizeOver(
    OpBuilder &rewriter, Location loc, Value x, ArrayRef<int64_t> dims,
    double eps, const std::function<Value(OpBuilder &, Location)> &count) {
  Type acc = cast<RankedTensorType>(x.getType()).getElementType();
  auto add = [](OpBuilder &b, Location l, Value a, Value c) -> Value {
    return b.create<arith::AddFOp>(l, a, c);
  };
  auto perRow = [&](Value reduced,
                    function_ref<Value(OpBuilder &, Location, Value)> fn) {
    return buildElementwise(
        rewriter, loc, cast<RankedTensorType>(reduced.getType()), {reduced},
        [&](OpBuilder &b, Location l, ValueRange a) { return fn(b, l, a[0]); });
  };
  Value sum =
      buildReduce(rewriter, loc, x, dims, rewriter.getZeroAttr(acc), add);
  Value mean = perRow(sum, [&](OpBuilder &b, Location l, Value v) -> Value {
    return b.create<arith::DivFOp>(l, v, count(b, l));
  });
  Value centered =
      mapWithReduced(rewriter, loc, x, {mean}, dims, acc,
                     [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                       return b.create<arith::SubFOp>(l, a[0], a[1]);
                     });
  Value squares =
      mapWithReduced(rewriter, loc, centered, {}, dims, acc,
                     [](OpBuilder &b, Location l, ValueRange a) -> Value {
                       return b.create<arith::MulFOp>(l, a[0], a[0]);
                     });
  Value sq =
      buildReduce(rewriter, loc, squares, dims, rewriter.getZeroAttr(acc), add);
  Value variance = perRow(sq, [&](OpBuilder &b, Location l, Value v) -> Value {
    return b.create<arith::DivFOp>(l, v, count(b, l));
  });
  Value invStd =
      perRow(variance, [&](OpBuilder &b, Location l, Value var) -> Value {
        return b.create<math::RsqrtOp>(
            l, b.create<arith::AddFOp>(
                   l, var,
                   b.create<arith::ConstantOp>(l, b.getFloatAttr(acc, eps))));
      });
  Value normed =
      mapWithReduced(rewriter, loc, centered, {invStd}, dims, acc,
                     [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                       return b.create<arith::MulFOp>(l, a[0], a[1]);
                     });
  return {normed, mean, variance, invStd};
}

Value tessera::lowering::buildSoftmax(OpBuilder &b, Location loc, Value x,
                                      int64_t axis, bool isLog,
                                      bool zeroEmptyRows) {
  auto type = cast<RankedTensorType>(x.getType());
  Type elt = type.getElementType();
  if (Type acc = accumulatorType(elt); acc != elt) {
    // 16-bit floats: computed in f32 (vectorised like f32), rounded once.
    Value wide =
        buildSoftmax(b, loc, convertElements(b, loc, type.clone(acc), x), axis,
                     isLog, zeroEmptyRows);
    return convertElements(b, loc, type, wide);
  }
  SmallVector<int64_t> dims = {axis};
  // The shift is maxnumf, not maximumf: x86 has no NaN-propagating maximum,
  // and LLVM scalarises its vector reduction (half the softmax's time). A
  // NaN in a row still makes the whole row NaN, through the sum.
  Value max = buildReduce(b, loc, x, dims, lowestValue(elt),
                          [](OpBuilder &nb, Location l, Value a, Value c) {
                            return nb.create<arith::MaxNumFOp>(l, a, c);
                          });
  Value shifted =
      mapWithReduced(b, loc, x, {max}, dims, elt,
                     [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                       return nb.create<arith::SubFOp>(l, a[0], a[1]);
                     });
  Value exps =
      mapWithReduced(b, loc, shifted, {}, dims, elt,
                     [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                       return nb.create<math::ExpOp>(l, a[0]);
                     });
  Value sum = buildReduce(b, loc, exps, dims, b.getZeroAttr(elt),
                          [](OpBuilder &nb, Location l, Value a, Value c) {
                            return nb.create<arith::AddFOp>(l, a, c);
                          });
  if (isLog)
    return mapWithReduced(b, loc, shifted, {sum}, dims, elt,
                          [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                            return nb.create<arith::SubFOp>(
                                l, a[0], nb.create<math::LogOp>(l, a[1]));
                          });
  return mapWithReduced(
      b, loc, exps, {sum}, dims, elt,
      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value p = nb.create<arith::DivFOp>(l, a[0], a[1]);
        if (!zeroEmptyRows)
          return p;
        Value zero = nb.create<arith::ConstantOp>(l, nb.getZeroAttr(elt));
        Value empty =
            nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, a[1], zero);
        return nb.create<arith::SelectOp>(l, empty, zero, p);
      });
}

Value tessera::lowering::buildScaleShift(OpBuilder &b, Location loc,
                                         RankedTensorType outType, Value normed,
                                         Value scale, Value shift) {
  Type acc = cast<RankedTensorType>(normed.getType()).getElementType();
  Type elt = outType.getElementType();
  SmallVector<Value> inputs = {normed, scale};
  if (shift)
    inputs.push_back(shift);
  return buildElementwise(
      b, loc, outType, inputs,
      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value s = convertScalar(nb, l, a[1], acc, false, false);
        Value r = nb.create<arith::MulFOp>(l, a[0], s);
        if (a.size() > 2)
          r = nb.create<arith::AddFOp>(
              l, r, convertScalar(nb, l, a[2], acc, false, false));
        return convertScalar(nb, l, r, elt, false, false);
      });
}

//===----------------------------------------------------------------------===//
// Reduce*
//===----------------------------------------------------------------------===//

namespace {

/// One reduction: total = combine(... combine(init, pre(x0)) ..., pre(xn)),
/// result = post(total). `init` is the identity of `combine`.
struct Reduction {
  enum class Pre { None, Abs, Square, Exp };
  enum class Combine { Add, Mul, Max, Min };
  enum class Post { None, Mean, Sqrt, Log };
  Pre pre = Pre::None;
  Combine combine = Combine::Add;
  Post post = Post::None;
};

/// Scalar ops on one element type, integer ones by signedness.
struct ScalarOps {
  Type elt;
  bool isUnsigned;
  bool isFloat() const { return isa<FloatType>(elt); }

  Value pre(OpBuilder &b, Location l, Reduction::Pre p, Value x) const {
    switch (p) {
    case Reduction::Pre::None:
      return x;
    case Reduction::Pre::Abs:
      if (isFloat())
        return b.create<math::AbsFOp>(l, x);
      return isUnsigned ? x : b.create<math::AbsIOp>(l, x);
    case Reduction::Pre::Square:
      return combine(b, l, Reduction::Combine::Mul, x, x);
    case Reduction::Pre::Exp:
      return b.create<math::ExpOp>(l, x);
    }
    llvm_unreachable("unknown pre-map");
  }

  Value combine(OpBuilder &b, Location l, Reduction::Combine c, Value x,
                Value y) const {
    bool f = isFloat();
    switch (c) {
    case Reduction::Combine::Add:
      return f ? Value(b.create<arith::AddFOp>(l, x, y))
               : Value(b.create<arith::AddIOp>(l, x, y));
    case Reduction::Combine::Mul:
      return f ? Value(b.create<arith::MulFOp>(l, x, y))
               : Value(b.create<arith::MulIOp>(l, x, y));
    case Reduction::Combine::Max:
      return f            ? Value(b.create<arith::MaximumFOp>(l, x, y))
             : isUnsigned ? Value(b.create<arith::MaxUIOp>(l, x, y))
                          : Value(b.create<arith::MaxSIOp>(l, x, y));
    case Reduction::Combine::Min:
      return f            ? Value(b.create<arith::MinimumFOp>(l, x, y))
             : isUnsigned ? Value(b.create<arith::MinUIOp>(l, x, y))
                          : Value(b.create<arith::MinSIOp>(l, x, y));
    }
    llvm_unreachable("unknown combiner");
  }

  /// The identity of `c`; `original` is the element type before signedness
  /// was dropped (unsigned extremes differ).
  TypedAttr init(OpBuilder &b, Reduction::Combine c, Type original) const {
    switch (c) {
    case Reduction::Combine::Add:
      return b.getZeroAttr(elt);
    case Reduction::Combine::Mul:
      return isFloat() ? TypedAttr(b.getFloatAttr(elt, 1.0))
                       : TypedAttr(b.getIntegerAttr(elt, 1));
    case Reduction::Combine::Max:
      return lowestValue(original);
    case Reduction::Combine::Min:
      return highestValue(original);
    }
    llvm_unreachable("unknown combiner");
  }

  Value post(OpBuilder &b, Location l, Reduction::Post p, Value x,
             Value count) const {
    switch (p) {
    case Reduction::Post::None:
      return x;
    case Reduction::Post::Mean:
      if (isFloat())
        return b.create<arith::DivFOp>(l, x, count);
      return isUnsigned ? Value(b.create<arith::DivUIOp>(l, x, count))
                        : Value(b.create<arith::DivSIOp>(l, x, count));
    case Reduction::Post::Sqrt:
      return b.create<math::SqrtOp>(l, x);
    case Reduction::Post::Log:
      return b.create<math::LogOp>(l, x);
    }
    llvm_unreachable("unknown finaliser");
  }
};

/// `r` of `x` over `dims` (sorted, unique); the result drops them. `original`
/// is x's element type before conversion. A log-sum-exp subtracts the
/// maximum first so that exp cannot overflow. 16-bit floats are reduced in
/// f32 and the result rounded once.
Value reduce(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> dims,
             const Reduction &r, Type original) {
  auto type = cast<RankedTensorType>(x.getType());
  Type elt = type.getElementType();
  if (Type acc = accumulatorType(elt); acc != elt) {
    // 16-bit floats: reduced in f32 (vectorised like f32), rounded once.
    Value wide = reduce(b, loc, convertElements(b, loc, type.clone(acc), x),
                        dims, r, original);
    return convertElements(
        b, loc, cast<RankedTensorType>(wide.getType()).clone(elt), wide);
  }
  ScalarOps ops{elt, isUnsignedInt(original)};
  Value shift;
  if (r.pre == Reduction::Pre::Exp) {
    shift = reduce(b, loc, x, dims,
                   Reduction{Reduction::Pre::None, Reduction::Combine::Max},
                   original);
    x = mapWithReduced(b, loc, x, {shift}, dims, elt,
                       [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                         return nb.create<arith::SubFOp>(l, a[0], a[1]);
                       });
  }
  Value total = buildReduce(b, loc, x, dims, ops.init(b, r.combine, original),
                            [&](OpBuilder &nb, Location l, Value v, Value acc) {
                              return ops.combine(nb, l, r.combine,
                                                 ops.pre(nb, l, r.pre, v), acc);
                            });
  if (r.post == Reduction::Post::None)
    return total;
  std::function<Value(OpBuilder &, Location)> count;
  if (r.post == Reduction::Post::Mean)
    count = elementCount(b, loc, x, dims, elt);
  SmallVector<Value> operands = {total};
  if (shift)
    operands.push_back(shift);
  return buildElementwise(
      b, loc, cast<RankedTensorType>(total.getType()), operands,
      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value v = ops.post(nb, l, r.post, a[0], count ? count(nb, l) : Value());
        return shift ? Value(nb.create<arith::AddFOp>(l, v, a[1])) : v;
      });
}

/// The sorted, unique dims named by `axes` (all of them when empty).
SmallVector<int64_t> reducedDims(ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> dims;
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      dims.push_back(i);
  for (int64_t a : axes)
    dims.push_back(onnx::normalizeAxis(a, rank));
  llvm::sort(dims);
  dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
  return dims;
}

/// `reduced` (x reduced over `dims`, which it drops) reshaped to `outType`:
/// with keepdims the reduced dims come back as 1s.
Value keepDims(OpBuilder &b, Location loc, Value x, Value reduced,
               ArrayRef<int64_t> dims, RankedTensorType outType) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  SmallVector<OpFoldResult> outSizes, keptSizes;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(dims, d)) {
      outSizes.push_back(tensor::getMixedSize(b, loc, x, d));
      keptSizes.push_back(outSizes.back());
    } else if (outType.getRank() == rank) {
      outSizes.push_back(b.getIndexAttr(1));
    }
  return buildReshape(b, loc, reduced, outType, outSizes, keptSizes);
}

/// The converted (ranked) types of a reduction's data and result.
template <typename OpTy>
LogicalResult rankedTypes(OpTy op, const ConversionPattern &pattern,
                          ConversionPatternRewriter &rewriter,
                          RankedTensorType &type, RankedTensorType &outType) {
  type = rankedType(pattern.getTypeConverter(), op.getData());
  outType = rankedType(pattern.getTypeConverter(), op.getReduced());
  if (!type || !outType)
    return rewriter.notifyMatchFailure(op, "needs ranked shapes");
  return success();
}

template <typename OpTy> struct ReduceLowering : OpConversionPattern<OpTy> {
  ReduceLowering(TypeConverter &tc, MLIRContext *ctx, Reduction reduction)
      : OpConversionPattern<OpTy>(tc, ctx), reduction(reduction) {}

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType type, outType;
    if (failed(rankedTypes(op, *this, rewriter, type, outType)))
      return failure();
    SmallVector<int64_t> axes;
    if (op.getAxes() && !getConstIntValues(op.getAxes(), axes))
      return rewriter.notifyMatchFailure(op, "axes must be constant");
    Location loc = op.getLoc();
    Value x = adaptor.getData();
    Type original = getElementTypeOrSelf(op.getData().getType());
    Value result;
    if (axes.empty() && op.getNoopWithEmptyAxes()) {
      // No reduction: each element is its own total.
      ScalarOps ops{type.getElementType(), isUnsignedInt(original)};
      Reduction r = reduction;
      result = buildElementwise(
          rewriter, loc, type, {x},
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            Value one = b.create<arith::ConstantOp>(
                l, ops.init(b, Reduction::Combine::Mul, original));
            return ops.post(b, l, r.post, ops.pre(b, l, r.pre, a[0]), one);
          });
    } else {
      SmallVector<int64_t> dims = reducedDims(axes, type.getRank());
      result = keepDims(rewriter, loc, x,
                        reduce(rewriter, loc, x, dims, reduction, original),
                        dims, outType);
    }
    rewriter.replaceOp(op, result);
    return success();
  }

  Reduction reduction;
};

//===----------------------------------------------------------------------===//
// ArgMax, ArgMin, Hardmax
//===----------------------------------------------------------------------===//

/// The i64 index of the largest (`isMax`) or smallest element of `x` along
/// `axis`, the first one or with `last` the last one; the result drops the
/// axis. One linalg.generic reducing (value, index) pairs.
Value buildArgReduce(OpBuilder &b, Location loc, Value x, int64_t axis,
                     bool isMax, bool last, Type original) {
  auto type = cast<RankedTensorType>(x.getType());
  Type elt = type.getElementType(), i64 = b.getI64Type();
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis) {
      shape.push_back(type.getDimSize(d));
      sizes.push_back(tensor::getMixedSize(b, loc, x, d));
    }
  auto valueType = RankedTensorType::get(shape, elt);
  auto indexType = RankedTensorType::get(shape, i64);
  Value values =
      buildFilled(b, loc, valueType, sizes,
                  isMax ? lowestValue(original) : highestValue(original));
  Value indices = buildFilled(b, loc, indexType, sizes, b.getZeroAttr(i64));
  MLIRContext *ctx = b.getContext();
  AffineMap out = droppingMap(ctx, rank, {axis});
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters[axis] = utils::IteratorType::reduction;
  bool uns = isUnsignedInt(original);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{valueType, indexType}, ValueRange{x},
      ValueRange{values, indices},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank), out, out}, iters,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        // Strictly better, or as good when the last index is wanted.
        Value better;
        if (isa<FloatType>(elt)) {
          using P = arith::CmpFPredicate;
          P p = isMax ? (last ? P::OGE : P::OGT) : (last ? P::OLE : P::OLT);
          better = nb.create<arith::CmpFOp>(l, p, a[0], a[1]);
        } else {
          using P = arith::CmpIPredicate;
          P p =
              isMax
                  ? (last ? (uns ? P::uge : P::sge) : (uns ? P::ugt : P::sgt))
                  : (last ? (uns ? P::ule : P::sle) : (uns ? P::ult : P::slt));
          better = nb.create<arith::CmpIOp>(l, p, a[0], a[1]);
        }
        Value index = nb.create<arith::IndexCastOp>(
            l, i64, nb.create<linalg::IndexOp>(l, axis));
        nb.create<linalg::YieldOp>(
            l, ValueRange{nb.create<arith::SelectOp>(l, better, a[0], a[1]),
                          nb.create<arith::SelectOp>(l, better, index, a[2])});
      });
  return generic.getResult(1);
}

template <typename OpTy, bool isMax>
struct ArgReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType type, outType;
    if (failed(rankedTypes(op, *this, rewriter, type, outType)))
      return failure();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), type.getRank());
    Value x = adaptor.getData();
    Value indices = buildArgReduce(
        rewriter, op.getLoc(), x, axis, isMax, op.getSelectLastIndex(),
        getElementTypeOrSelf(op.getData().getType()));
    rewriter.replaceOp(
        op, keepDims(rewriter, op.getLoc(), x, indices, {axis}, outType));
    return success();
  }
};

struct HardmaxLowering : OpConversionPattern<onnx::HardmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::HardmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getInput());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a ranked input");
    Location loc = op.getLoc();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), type.getRank());
    Value x = adaptor.getInput();
    Type elt = type.getElementType();
    Value first = buildArgReduce(rewriter, loc, x, axis, true, false,
                                 getElementTypeOrSelf(op.getInput().getType()));
    Value y = mapWithReduced(
        rewriter, loc, x, {first}, {axis}, elt,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value index = b.create<arith::IndexCastOp>(
              l, b.getI64Type(), b.create<linalg::IndexOp>(l, axis));
          Value hit =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, index, a[1]);
          return b.create<arith::SelectOp>(
              l, hit, b.create<arith::ConstantOp>(l, b.getOneAttr(elt)),
              b.create<arith::ConstantOp>(l, b.getZeroAttr(elt)));
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// CumSum
//===----------------------------------------------------------------------===//

/// The cumulative sum of `x` along `axis`: a loop over the axis carrying the
/// running sum of the slices before (or, reversed, after) the current one;
/// each step is one elementwise add of a slice and one insert.
Value buildCumSum(OpBuilder &rewriter, Location loc, Value x, int64_t axis,
                  bool exclusive, bool reverse) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, x);
  OpFoldResult n = sizes[axis];
  sizes[axis] = rewriter.getIndexAttr(1);
  SmallVector<int64_t> sliceShape(type.getShape());
  sliceShape[axis] = 1;
  auto sliceType = RankedTensorType::get(sliceShape, type.getElementType());
  Value zero = buildFilled(rewriter, loc, sliceType, sizes,
                           rewriter.getZeroAttr(type.getElementType()));
  Value init =
      buildEmpty(rewriter, loc, type, tensor::getMixedSizes(rewriter, loc, x));
  SizeMath m{rewriter, loc};
  bool isF = isa<FloatType>(type.getElementType());
  SmallVector<OpFoldResult> strides(type.getRank(), rewriter.getIndexAttr(1));
  auto loop = rewriter.create<scf::ForOp>(
      loc, m.v(m.c(0)), m.v(n), m.v(m.c(1)), ValueRange{init, zero},
      [&](OpBuilder &b, Location l, Value k, ValueRange carried) {
        SizeMath km{b, l};
        Value pos = reverse ? km.v(km.sub(km.sub(n, km.c(1)), k)) : k;
        SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
        offsets[axis] = pos;
        Value slice = b.create<tensor::ExtractSliceOp>(l, sliceType, x, offsets,
                                                       sizes, strides);
        // The running sum is updated in place (its buffer is the loop's);
        // an exclusive sum is stored before the update, an inclusive one
        // after.
        auto store = [&](Value value) {
          return b.create<tensor::InsertSliceOp>(l, value, carried[0],
                                                 offsets, sizes, strides);
        };
        Value out = exclusive ? store(carried[1]) : Value();
        AffineMap id = b.getMultiDimIdentityMap(type.getRank());
        Value sum =
            b.create<linalg::GenericOp>(
                 l, TypeRange{sliceType}, ValueRange{slice},
                 ValueRange{carried[1]}, SmallVector<AffineMap>{id, id},
                 SmallVector<utils::IteratorType>(
                     type.getRank(), utils::IteratorType::parallel),
                 [&](OpBuilder &nb, Location nl, ValueRange a) {
                   Value r =
                       isF ? Value(nb.create<arith::AddFOp>(nl, a[1], a[0]))
                           : Value(nb.create<arith::AddIOp>(nl, a[1], a[0]));
                   nb.create<linalg::YieldOp>(nl, r);
                 })
                .getResult(0);
        if (!exclusive)
          out = store(sum);
        b.create<scf::YieldOp>(l, ValueRange{out, sum});
      });
  return loop.getResult(0);
}

/// CumSum along a constant axis, or along one read at run time (a graph
/// input): then an scf.index_switch over the rank's axes, after a check that
/// the axis is in range.
struct CumSumLowering : OpConversionPattern<onnx::CumSumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::CumSumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getX());
    auto axisType = rankedType(getTypeConverter(), op.getAxis());
    if (!type || type.getRank() == 0 || !axisType ||
        axisType.getNumElements() != 1)
      return rewriter.notifyMatchFailure(op, "needs a ranked input and a "
                                             "scalar axis");
    Location loc = op.getLoc();
    Value x = adaptor.getX();
    bool exclusive = op.getExclusive(), reverse = op.getReverse();
    int64_t rank = type.getRank();
    SmallVector<int64_t> constAxis;
    if (getConstIntValues(op.getAxis(), constAxis)) {
      rewriter.replaceOp(op,
                         buildCumSum(rewriter, loc, x,
                                     onnx::normalizeAxis(constAxis[0], rank),
                                     exclusive, reverse));
      return success();
    }
    SmallVector<Value> zeros(
        axisType.getRank(), rewriter.create<arith::ConstantIndexOp>(loc, 0));
    Value axis = rewriter.create<arith::IndexCastOp>(
        loc, rewriter.getIndexType(),
        rewriter.create<tensor::ExtractOp>(loc, adaptor.getAxis(), zeros));
    SizeMath m{rewriter, loc};
    Value negative = m.cmp(arith::CmpIPredicate::slt, axis, m.c(0));
    axis = m.v(m.select(negative, m.add(axis, m.c(rank)), axis));
    emitCheck(rewriter, loc,
              m.all({m.cmp(arith::CmpIPredicate::sge, axis, m.c(0)),
                     m.cmp(arith::CmpIPredicate::slt, axis, m.c(rank))}),
              "the CumSum axis is out of range for rank " + Twine(rank));
    auto cases = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    auto sw = rewriter.create<scf::IndexSwitchOp>(loc, TypeRange{type}, axis,
                                                  cases, rank);
    OpBuilder::InsertionGuard guard(rewriter);
    for (int64_t a = 0; a < rank; ++a) {
      rewriter.setInsertionPointToStart(
          &sw.getCaseRegions()[a].emplaceBlock());
      rewriter.create<scf::YieldOp>(
          loc, buildCumSum(rewriter, loc, x, a, exclusive, reverse));
    }
    // Never taken (the axis was checked above).
    rewriter.setInsertionPointToStart(&sw.getDefaultRegion().emplaceBlock());
    rewriter.create<scf::YieldOp>(loc, x);
    rewriter.replaceOp(op, sw.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// LpNormalization, MeanVarianceNormalization
//===----------------------------------------------------------------------===//

/// x / norm, the norm being x's L1 or L2 norm along `axis`.
struct LpNormalizationLowering : OpConversionPattern<onnx::LpNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::LpNormalizationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getInput());
    if (!type || !isa<FloatType>(type.getElementType()))
      return rewriter.notifyMatchFailure(op, "needs a ranked float input");
    int64_t axis = onnx::normalizeAxis(op.getAxis(), type.getRank());
    Reduction norm = op.getP() == 1 ? Reduction{Reduction::Pre::Abs}
                                    : Reduction{Reduction::Pre::Square,
                                                Reduction::Combine::Add,
                                                Reduction::Post::Sqrt};
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    Value n = reduce(rewriter, loc, x, {axis}, norm, type.getElementType());
    rewriter.replaceOp(
        op, mapWithReduced(rewriter, loc, x, {n}, {axis}, type.getElementType(),
                           [](OpBuilder &b, Location l, ValueRange a) -> Value {
                             return b.create<arith::DivFOp>(l, a[0], a[1]);
                           }));
    return success();
  }
};

/// (x - mean) / (sqrt(variance) + 1e-9) over `axes`, as ONNX's function
/// body (the variance of the centred values, which is the same and rounds
/// better than E[x^2] - E[x]^2).
struct MeanVarianceNormalizationLowering
    : OpConversionPattern<onnx::MeanVarianceNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::MeanVarianceNormalizationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getX());
    if (!type || !isa<FloatType>(type.getElementType()))
      return rewriter.notifyMatchFailure(op, "needs a ranked float input");
    SmallVector<int64_t> axes;
    for (Attribute a : op.getAxes())
      axes.push_back(cast<IntegerAttr>(a).getInt());
    SmallVector<int64_t> dims = reducedDims(axes, type.getRank());
    Location loc = op.getLoc();
    Type elt = type.getElementType();
    Value x = adaptor.getX();
    Reduction mean{Reduction::Pre::None, Reduction::Combine::Add,
                   Reduction::Post::Mean};
    Value mu = reduce(rewriter, loc, x, dims, mean, elt);
    Value centered =
        mapWithReduced(rewriter, loc, x, {mu}, dims, elt,
                       [](OpBuilder &b, Location l, ValueRange a) -> Value {
                         return b.create<arith::SubFOp>(l, a[0], a[1]);
                       });
    mean.pre = Reduction::Pre::Square;
    Value variance = reduce(rewriter, loc, centered, dims, mean, elt);
    rewriter.replaceOp(
        op,
        mapWithReduced(rewriter, loc, centered, {variance}, dims, elt,
                       [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                         Value std = b.create<math::SqrtOp>(l, a[1]);
                         Value eps = b.create<arith::ConstantOp>(
                             l, b.getFloatAttr(elt, 1e-9));
                         return b.create<arith::DivFOp>(
                             l, a[0], b.create<arith::AddFOp>(l, std, eps));
                       }));
    return success();
  }
};

template <typename OpTy>
void add(RewritePatternSet &patterns, TypeConverter &tc, Reduction r) {
  patterns.add<ReduceLowering<OpTy>>(tc, patterns.getContext(), r);
}

} // namespace

std::optional<std::string> tessera::lowering::reductionProblem(Operation *op) {
  bool reduceOp = isa<onnx::ReduceMeanOp, onnx::ReduceSumOp, onnx::ReduceMaxOp,
                      onnx::ReduceMinOp, onnx::ReduceProdOp, onnx::ReduceL1Op,
                      onnx::ReduceL2Op, onnx::ReduceLogSumOp,
                      onnx::ReduceLogSumExpOp, onnx::ReduceSumSquareOp>(op);
  if (!reduceOp)
    return std::nullopt;
  // ReduceSum over run-time axes is RuntimeAxesReduce.cpp's.
  SmallVector<int64_t> values;
  if (!isa<onnx::ReduceSumOp>(op) && op->getNumOperands() > 1 &&
      !getConstIntValues(op->getOperand(1), values))
    return std::string("reduction axes must be constants (here they are "
                       "computed at run time)");
  if (isa<onnx::ReduceL2Op, onnx::ReduceLogSumOp, onnx::ReduceLogSumExpOp>(
          op) &&
      !isa<FloatType>(getElementTypeOrSelf(op->getOperand(0).getType())))
    return std::string("integer inputs are not supported (the result is a "
                       "square root or a logarithm)");
  return std::nullopt;
}

void tessera::populateONNXReductionToLinalgPatterns(
    TypeConverter &tc, RewritePatternSet &patterns) {
  using R = Reduction;
  MLIRContext *ctx = patterns.getContext();
  // Pre-map, combiner and finaliser of each Reduce* op.
  add<onnx::ReduceSumOp>(patterns, tc, R{});
  add<onnx::ReduceMeanOp>(patterns, tc,
                          R{R::Pre::None, R::Combine::Add, R::Post::Mean});
  add<onnx::ReduceMaxOp>(patterns, tc, R{R::Pre::None, R::Combine::Max});
  add<onnx::ReduceMinOp>(patterns, tc, R{R::Pre::None, R::Combine::Min});
  add<onnx::ReduceProdOp>(patterns, tc, R{R::Pre::None, R::Combine::Mul});
  add<onnx::ReduceL1Op>(patterns, tc, R{R::Pre::Abs});
  add<onnx::ReduceL2Op>(patterns, tc,
                        R{R::Pre::Square, R::Combine::Add, R::Post::Sqrt});
  add<onnx::ReduceSumSquareOp>(patterns, tc, R{R::Pre::Square});
  add<onnx::ReduceLogSumOp>(patterns, tc,
                            R{R::Pre::None, R::Combine::Add, R::Post::Log});
  add<onnx::ReduceLogSumExpOp>(patterns, tc,
                               R{R::Pre::Exp, R::Combine::Add, R::Post::Log});
  patterns.add<ArgReduceLowering<onnx::ArgMaxOp, true>,
               ArgReduceLowering<onnx::ArgMinOp, false>, HardmaxLowering,
               CumSumLowering, LpNormalizationLowering,
               MeanVarianceNormalizationLowering>(tc, ctx);
}
