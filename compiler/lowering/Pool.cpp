//===- Pool.cpp - onnx pooling ops to linalg
//-------------------------------===//
//
// Part of Tessera. MaxPool, AveragePool, LpPool and their global forms are one
// lowering, parameterised by the combiner: the input, padded with the
// combiner's identity (-inf or lowest for max, 0 for sums) up to the last
// window ceil_mode asks for, is reduced by one linalg.generic over
// (n, c, out..., window...) that reads x[n, c, out * stride + k * dilation]
// (the window extents come from an empty kernel-shaped operand, as in
// linalg's named pooling ops). AveragePool then divides by each window's
// element count, a compile-time constant (the windows and the padding are
// static; only the batch may be dynamic); LpPool takes the p-th root. The
// global forms are the same with one window the size of the input. MaxPool's
// Indices output comes from a variant of the max generic that also keeps the
// flat index of each window's first maximum.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/OpBuilders.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/onnx/WindowGeometry.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

enum class PoolKind { Max, Average, Lp };

struct PoolSpec {
  PoolKind kind;
  int64_t p = 2;                // LpPool
  bool countIncludePad = false; // AveragePool
  bool isUnsigned = false;      // MaxPool on unsigned integers
};

/// The number of window elements that count for output `o` of a dim: those
/// inside the input, or inside the explicit padding with count_include_pad
/// (never those past it, which only ceil_mode reads).
int64_t windowCount(const onnx::WindowGeometry &g, size_t i, int64_t in,
                    int64_t o, bool includePad) {
  int64_t lo = includePad ? -g.padsLo[i] : 0;
  int64_t hi = includePad ? in + g.padsHi[i] : in;
  int64_t n = 0;
  for (int64_t k = 0; k < g.kernel[i]; ++k) {
    int64_t at = o * g.strides[i] + k * g.dilations[i] - g.padsLo[i];
    n += at >= lo && at < hi;
  }
  return n;
}

/// The element counts of AveragePool's windows as a tensor over the output's
/// spatial dims (a splat when they are all equal).
DenseElementsAttr windowCounts(const onnx::WindowGeometry &g,
                               ArrayRef<int64_t> in, ArrayRef<int64_t> out,
                               Type elt, bool includePad) {
  SmallVector<SmallVector<int64_t>> perDim;
  for (size_t i = 0; i < in.size(); ++i) {
    perDim.emplace_back();
    for (int64_t o = 0; o < out[i]; ++o)
      perDim.back().push_back(windowCount(g, i, in[i], o, includePad));
  }
  int64_t total = 1;
  for (int64_t o : out)
    total *= o;
  SmallVector<APFloat> counts;
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t rest = flat, n = 1;
    for (int64_t i = in.size() - 1; i >= 0; --i) {
      n *= perDim[i][rest % out[i]];
      rest /= out[i];
    }
    APFloat v(static_cast<double>(n));
    bool lost;
    v.convert(cast<FloatType>(elt).getFloatSemantics(),
              APFloat::rmNearestTiesToEven, &lost);
    counts.push_back(v);
  }
  auto type = RankedTensorType::get(out, elt);
  if (llvm::all_equal(counts))
    return DenseElementsAttr::get(type, counts.front());
  return DenseElementsAttr::get(type, counts);
}

/// The combiner's identity: lowest for max, 0 for the sums.
TypedAttr poolInit(OpBuilder &b, Type elt, const PoolSpec &spec) {
  if (spec.kind != PoolKind::Max)
    return b.getZeroAttr(elt);
  if (spec.isUnsigned)
    return b.getIntegerAttr(elt, 0);
  return lowestValue(elt);
}

Value combine(OpBuilder &b, Location l, Value acc, Value x,
              const PoolSpec &spec) {
  Type elt = x.getType();
  bool isFloat = isa<FloatType>(elt);
  switch (spec.kind) {
  case PoolKind::Max:
    if (isFloat)
      return b.create<arith::MaximumFOp>(l, acc, x);
    if (spec.isUnsigned)
      return b.create<arith::MaxUIOp>(l, acc, x);
    return b.create<arith::MaxSIOp>(l, acc, x);
  case PoolKind::Average:
    return isFloat ? Value(b.create<arith::AddFOp>(l, acc, x))
                   : Value(b.create<arith::AddIOp>(l, acc, x));
  case PoolKind::Lp: {
    Value term = spec.p == 2 ? Value(b.create<arith::MulFOp>(l, x, x))
                             : Value(b.create<math::AbsFOp>(l, x));
    if (spec.p != 1 && spec.p != 2)
      term = b.create<math::PowFOp>(
          l, term,
          b.create<arith::ConstantOp>(l, b.getFloatAttr(elt, double(spec.p))));
    return b.create<arith::AddFOp>(l, acc, term);
  }
  }
  llvm_unreachable("unknown pool kind");
}

/// The window loop nest both pool builders share: `x` padded with `init` up
/// to the last window, and a generic's (n, c, out..., window...) set-up:
/// maps reading x[n, c, o * s + k * d], the window-shaped operand and the
/// output, the iterators, and the output sizes.
struct PoolWindows {
  Value padded, windowShape;
  AffineMap read, window, result;
  SmallVector<utils::IteratorType> iters;
  SmallVector<OpFoldResult> sizes;
};

PoolWindows poolWindows(OpBuilder &b, Location loc, Value x,
                        const onnx::WindowGeometry &geom,
                        RankedTensorType outType, TypedAttr init) {
  auto xt = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> in = xt.getShape().drop_front(2);
  ArrayRef<int64_t> out = outType.getShape().drop_front(2);
  int64_t spatial = in.size();
  PoolWindows w;
  // Pad to cover every window: [-lo, (out - 1) * stride + extent - lo).
  SmallVector<int64_t> hi;
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t need = (out[i] - 1) * geom.strides[i] + geom.extent(i);
    hi.push_back(std::max<int64_t>(0, need - geom.padsLo[i] - in[i]));
  }
  w.padded = x;
  if (geom.padded() || llvm::any_of(hi, [](int64_t h) { return h > 0; }))
    w.padded = padSpatial(b, loc, x, geom.padsLo, hi, init);
  int64_t rank = 2 + 2 * spatial;
  SmallVector<AffineExpr> read = {getAffineDimExpr(0, ctx),
                                  getAffineDimExpr(1, ctx)};
  SmallVector<AffineExpr> window, result(read);
  for (int64_t i = 0; i < spatial; ++i) {
    AffineExpr o = getAffineDimExpr(2 + i, ctx);
    AffineExpr k = getAffineDimExpr(2 + spatial + i, ctx);
    read.push_back(o * geom.strides[i] + k * geom.dilations[i]);
    window.push_back(k);
    result.push_back(o);
  }
  w.read = AffineMap::get(rank, 0, read, ctx);
  w.window = AffineMap::get(rank, 0, window, ctx);
  w.result = AffineMap::get(rank, 0, result, ctx);
  w.iters.assign(2 + spatial, utils::IteratorType::parallel);
  w.iters.append(spatial, utils::IteratorType::reduction);
  w.sizes = {tensor::getMixedSize(b, loc, x, 0),
             b.getIndexAttr(outType.getDimSize(1))};
  for (int64_t o : out)
    w.sizes.push_back(b.getIndexAttr(o));
  w.windowShape =
      b.create<tensor::EmptyOp>(loc, geom.kernel, xt.getElementType());
  return w;
}

/// Pools `x` [N, C, in...] (only N dynamic) into `outType` [N, C, out...].
Value buildPool(OpBuilder &b, Location loc, Value x,
                const onnx::WindowGeometry &geom, RankedTensorType outType,
                const PoolSpec &spec) {
  auto xt = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  Type elt = xt.getElementType();
  ArrayRef<int64_t> in = xt.getShape().drop_front(2);
  ArrayRef<int64_t> out = outType.getShape().drop_front(2);
  TypedAttr init = poolInit(b, elt, spec);
  PoolWindows w = poolWindows(b, loc, x, geom, outType, init);
  SmallVector<OpFoldResult> &sizes = w.sizes;
  Value pooled =
      b.create<linalg::GenericOp>(
           loc, TypeRange{outType}, ValueRange{w.padded, w.windowShape},
           ValueRange{buildFilled(b, loc, outType, sizes, init)},
           ArrayRef<AffineMap>{w.read, w.window, w.result}, w.iters,
           [&](OpBuilder &nb, Location l, ValueRange a) {
             nb.create<linalg::YieldOp>(l, combine(nb, l, a[2], a[0], spec));
           })
          .getResult(0);
  if (spec.kind == PoolKind::Max || (spec.kind == PoolKind::Lp && spec.p == 1))
    return pooled;

  // Mean: divide by the window counts; Lp: the p-th root.
  SmallVector<Value> inputs = {pooled};
  if (spec.kind == PoolKind::Average) {
    DenseElementsAttr counts =
        windowCounts(geom, in, out, elt, spec.countIncludePad);
    inputs.push_back(b.create<arith::ConstantOp>(loc, counts));
  }
  int64_t outRank = outType.getRank();
  SmallVector<AffineMap> finalMaps = {b.getMultiDimIdentityMap(outRank)};
  if (inputs.size() > 1)
    finalMaps.push_back(
        AffineMap::get(outRank, 0, w.result.getResults().drop_front(2), ctx));
  finalMaps.push_back(b.getMultiDimIdentityMap(outRank));
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{outType}, inputs,
          ValueRange{buildEmpty(b, loc, outType, sizes)}, finalMaps,
          SmallVector<utils::IteratorType>(outRank,
                                           utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value v;
            if (spec.kind == PoolKind::Average)
              v = nb.create<arith::DivFOp>(l, a[0], a[1]);
            else if (spec.p == 2)
              v = nb.create<math::SqrtOp>(l, a[0]);
            else
              v = nb.create<math::PowFOp>(
                  l, a[0],
                  nb.create<arith::ConstantOp>(
                      l, nb.getFloatAttr(elt, 1.0 / double(spec.p))));
            nb.create<linalg::YieldOp>(l, v);
          })
      .getResult(0);
}

/// MaxPool with its Indices: one generic over (n, c, out..., window...) on
/// the padded `x` keeps the value and flat index of each window's first
/// strict maximum (windows are read in row-major order). The index is into
/// the unpadded X: (n * C + c) * prod(in) + the position's offset, row-major
/// or (storage_order 1) with the last two spatial dims swapped.
std::pair<Value, Value> buildMaxPoolWithIndices(
    OpBuilder &b, Location loc, Value x, const onnx::WindowGeometry &geom,
    RankedTensorType outType, const PoolSpec &spec, bool columnMajor) {
  auto xt = cast<RankedTensorType>(x.getType());
  Type elt = xt.getElementType();
  SmallVector<int64_t> in(xt.getShape().drop_front(2));
  int64_t spatial = in.size(), channels = xt.getDimSize(1);
  TypedAttr init = poolInit(b, elt, spec);
  PoolWindows w = poolWindows(b, loc, x, geom, outType, init);
  // Each spatial dim's stride in the flat index.
  SmallVector<int64_t> order(spatial), step(spatial);
  for (int64_t i = 0; i < spatial; ++i)
    order[i] = i;
  if (columnMajor && spatial >= 2)
    std::swap(order[spatial - 1], order[spatial - 2]);
  int64_t volume = 1;
  for (int64_t i = spatial - 1; i >= 0; --i) {
    step[order[i]] = volume;
    volume *= in[order[i]];
  }

  auto indexType = RankedTensorType::get(outType.getShape(), b.getI64Type());
  auto pooled = b.create<linalg::GenericOp>(
      loc, TypeRange{outType, indexType}, ValueRange{w.padded, w.windowShape},
      ValueRange{
          buildFilled(b, loc, outType, w.sizes, init),
          buildFilled(b, loc, indexType, w.sizes, b.getI64IntegerAttr(0))},
      ArrayRef<AffineMap>{w.read, w.window, w.result, w.result}, w.iters,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        // The flat index: (n * C + c) * volume + sum of (o * s + k * d -
        // lo) * step over the spatial dims.
        auto index = [&](int64_t d) {
          return nb.create<linalg::IndexOp>(l, d).getResult();
        };
        auto c = [&](int64_t v) {
          return nb.create<arith::ConstantIndexOp>(l, v).getResult();
        };
        auto mul = [&](Value u, Value v) {
          return nb.create<arith::MulIOp>(l, u, v).getResult();
        };
        auto add = [&](Value u, Value v) {
          return nb.create<arith::AddIOp>(l, u, v).getResult();
        };
        // Each step is named, so that the IR does not depend on the order
        // in which the C++ compiler evaluates nested calls.
        Value n = index(0), ch = index(1);
        Value nc = add(mul(n, c(channels)), ch);
        Value at = mul(nc, c(volume));
        for (int64_t i = 0; i < spatial; ++i) {
          Value o = index(2 + i), k = index(2 + spatial + i);
          Value start = mul(o, c(geom.strides[i]));
          Value offset = mul(k, c(geom.dilations[i]));
          Value pos = nb.create<arith::SubIOp>(l, add(start, offset),
                                               c(geom.padsLo[i]));
          at = add(at, mul(pos, c(step[i])));
        }
        at = nb.create<arith::IndexCastOp>(l, nb.getI64Type(), at);
        Value greater;
        if (isa<FloatType>(elt))
          greater = nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, a[0],
                                             a[2]);
        else
          greater = nb.create<arith::CmpIOp>(l,
                                             spec.isUnsigned
                                                 ? arith::CmpIPredicate::ugt
                                                 : arith::CmpIPredicate::sgt,
                                             a[0], a[2]);
        Value v = nb.create<arith::SelectOp>(l, greater, a[0], a[2]);
        Value i = nb.create<arith::SelectOp>(l, greater, at, a[3]);
        nb.create<linalg::YieldOp>(l, ValueRange{v, i});
      });
  return {pooled.getResult(0), pooled.getResult(1)};
}

PoolSpec poolSpec(onnx::MaxPoolOp op) {
  return {PoolKind::Max, 2, false, isUnsignedInt(op.getX().getType())};
}
PoolSpec poolSpec(onnx::AveragePoolOp op) {
  return {PoolKind::Average, 2, op.getCountIncludePad() != 0, false};
}
PoolSpec poolSpec(onnx::LpPoolOp op) { return {PoolKind::Lp, op.getP()}; }
PoolSpec poolSpec(onnx::GlobalMaxPoolOp op) {
  return {PoolKind::Max, 2, false, isUnsignedInt(op.getX().getType())};
}
PoolSpec poolSpec(onnx::GlobalAveragePoolOp) { return {PoolKind::Average}; }
PoolSpec poolSpec(onnx::GlobalLpPoolOp op) { return {PoolKind::Lp, op.getP()}; }

template <typename OpTy>
struct PoolLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  static constexpr bool isGlobal =
      std::is_same_v<OpTy, onnx::GlobalMaxPoolOp> ||
      std::is_same_v<OpTy, onnx::GlobalAveragePoolOp> ||
      std::is_same_v<OpTy, onnx::GlobalLpPoolOp>;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto xt = rankedType(this->getTypeConverter(), op.getX());
    auto outType = rankedType(this->getTypeConverter(), op.getY());
    // Only the batch may be dynamic (checked before conversion).
    if (!xt || !outType || xt.getRank() < 3 ||
        llvm::any_of(xt.getShape().drop_front(), ShapedType::isDynamic) ||
        llvm::any_of(outType.getShape().drop_front(), ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    ArrayRef<int64_t> in = xt.getShape().drop_front(2);
    std::optional<onnx::WindowGeometry> geom;
    if constexpr (isGlobal) {
      geom.emplace();
      geom->kernel.assign(in.begin(), in.end());
      geom->strides.assign(in.size(), 1);
      geom->dilations.assign(in.size(), 1);
      geom->padsLo.assign(in.size(), 0);
      geom->padsHi.assign(in.size(), 0);
    } else {
      geom = onnx::windowGeometry(op, in);
    }
    if (!geom)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    if constexpr (std::is_same_v<OpTy, onnx::MaxPoolOp>) {
      if (op.getIndices()) {
        auto [y, indices] = buildMaxPoolWithIndices(
            rewriter, op.getLoc(), adaptor.getX(), *geom, outType, poolSpec(op),
            op.getStorageOrder() != 0);
        rewriter.replaceOp(op, ValueRange{y, indices});
        return success();
      }
    }
    rewriter.replaceOp(op, buildPool(rewriter, op.getLoc(), adaptor.getX(),
                                     *geom, outType, poolSpec(op)));
    return success();
  }
};

} // namespace

void tessera::populateONNXPoolToLinalgPatterns(TypeConverter &converter,
                                               RewritePatternSet &patterns) {
  patterns.add<PoolLowering<onnx::MaxPoolOp>, PoolLowering<onnx::AveragePoolOp>,
               PoolLowering<onnx::LpPoolOp>,
               PoolLowering<onnx::GlobalMaxPoolOp>,
               PoolLowering<onnx::GlobalAveragePoolOp>,
               PoolLowering<onnx::GlobalLpPoolOp>>(converter,
                                                   patterns.getContext());
}
