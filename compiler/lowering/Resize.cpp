//===- Resize.cpp - onnx.Resize to linalg ----------------------------------===//
//
// Part of Tessera. One linalg.generic over the output: each resized axis maps
// its output index to an input coordinate (half_pixel, pytorch_half_pixel,
// align_corners, asymmetric, tf_half_pixel_for_nn, tf_crop_and_resize), which
// gives 1 (nearest), 2 (linear) or 4 (cubic) taps with weights; the output
// is the weighted sum over every combination of the axes' taps, read with
// tensor.extract at indices clamped into the input (edge padding, as ONNX's
// reference). Coordinates and weights are f64, as in the reference. Scales,
// sizes and roi may be run-time values; the output shape is the declared
// one (static).
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/OpBuilders.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

/// One input index of an axis and its weight.
struct Tap {
  Value index, weight;
};

/// Per-axis parameters, computed once outside the generic (f64 scalars).
struct AxisParams {
  bool resized = false;
  Value in, last, scale, outWidth, roiStart, roiEnd, inIndex;
};

Value f64(OpBuilder &b, Location l, double v) {
  return b.create<arith::ConstantOp>(l, b.getF64FloatAttr(v));
}

/// The input coordinate of output index `x` (f64) along an axis.
Value sourceCoordinate(OpBuilder &b, Location l, StringRef mode, Value x,
                       const AxisParams &p) {
  Value half = f64(b, l, 0.5), one = f64(b, l, 1.0);
  auto add = [&](Value u, Value v) { return b.create<arith::AddFOp>(l, u, v); };
  auto sub = [&](Value u, Value v) { return b.create<arith::SubFOp>(l, u, v); };
  auto mul = [&](Value u, Value v) { return b.create<arith::MulFOp>(l, u, v); };
  auto div = [&](Value u, Value v) { return b.create<arith::DivFOp>(l, u, v); };
  Value single = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ,
                                         p.outWidth, one);
  Value inLast = sub(p.in, one);
  if (mode == "asymmetric")
    return div(x, p.scale);
  if (mode == "tf_half_pixel_for_nn")
    return div(add(x, half), p.scale);
  if (mode == "align_corners")
    return b.create<arith::SelectOp>(
        l, single, f64(b, l, 0.0), div(mul(x, inLast), sub(p.outWidth, one)));
  if (mode == "tf_crop_and_resize") {
    Value span = mul(sub(p.roiEnd, p.roiStart), inLast);
    Value v = b.create<arith::SelectOp>(
        l, single, div(span, f64(b, l, 2.0)),
        div(mul(x, span), sub(p.outWidth, one)));
    return add(v, mul(p.roiStart, inLast));
  }
  Value v = sub(div(add(x, half), p.scale), half);
  if (mode == "pytorch_half_pixel")
    return b.create<arith::SelectOp>(l, single, f64(b, l, -0.5), v);
  return v; // half_pixel
}

/// Cubic convolution weights of the taps floor-1 .. floor+2 at fraction r.
SmallVector<Value> cubicWeights(OpBuilder &b, Location l, Value r, double a) {
  auto c = [&](double v) { return f64(b, l, v); };
  auto mul = [&](Value u, Value v) { return b.create<arith::MulFOp>(l, u, v); };
  auto add = [&](Value u, Value v) { return b.create<arith::AddFOp>(l, u, v); };
  auto sub = [&](Value u, Value v) { return b.create<arith::SubFOp>(l, u, v); };
  // Distance t in [1, 2]: ((a t - 5a) t + 8a) t - 4a; in [0, 1]:
  // ((a + 2) t - (a + 3)) t t + 1.
  auto far = [&](Value t) {
    return sub(mul(add(mul(sub(mul(c(a), t), c(5 * a)), t), c(8 * a)), t),
               c(4 * a));
  };
  auto near = [&](Value t) {
    return add(mul(mul(sub(mul(c(a + 2), t), c(a + 3)), t), t), c(1.0));
  };
  Value s = sub(c(1.0), r);
  return {far(add(r, c(1.0))), near(r), near(s), far(add(s, c(1.0)))};
}

/// The taps of one resized axis for output index `iv`.
SmallVector<Tap> axisTaps(OpBuilder &b, Location l, onnx::ResizeOp op,
                          const AxisParams &p, Value iv, Value &outside) {
  Value x = b.create<arith::SIToFPOp>(
      l, b.getF64Type(), b.create<arith::IndexCastOp>(l, b.getI64Type(), iv));
  StringRef mode = op.getMode(), ctm = op.getCoordinateTransformationMode();
  Value xo = sourceCoordinate(b, l, ctm, x, p);
  if (ctm == "tf_crop_and_resize") {
    Value out = b.create<arith::OrIOp>(
        l,
        b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, xo,
                                f64(b, l, 0.0)),
        b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, xo,
                                b.create<arith::SubFOp>(l, p.in,
                                                        f64(b, l, 1.0))));
    outside = outside ? b.create<arith::OrIOp>(l, outside, out) : out;
  }
  Value fl = b.create<math::FloorOp>(l, xo);
  Value r = b.create<arith::SubFOp>(l, xo, fl);
  Value base = b.create<arith::IndexCastOp>(
      l, b.getIndexType(), b.create<arith::FPToSIOp>(l, b.getI64Type(), fl));
  auto at = [&](int64_t k) -> Value {
    return b.create<arith::AddIOp>(l, base,
                                   b.create<arith::ConstantIndexOp>(l, k));
  };
  SmallVector<Tap> taps;
  if (mode == "nearest") {
    StringRef nm = op.getNearestMode();
    Value half = f64(b, l, 0.5);
    Value up;
    if (nm == "floor")
      up = b.create<arith::ConstantIntOp>(l, 0, 1);
    else if (nm == "ceil")
      up = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, r,
                                   f64(b, l, 0.0));
    else
      up = b.create<arith::CmpFOp>(l,
                                   nm == "round_prefer_ceil"
                                       ? arith::CmpFPredicate::OGE
                                       : arith::CmpFPredicate::OGT,
                                   r, half);
    taps.push_back({b.create<arith::SelectOp>(l, up, at(1), at(0)),
                    f64(b, l, 1.0)});
  } else if (mode == "linear") {
    taps.push_back({at(0), b.create<arith::SubFOp>(l, f64(b, l, 1.0), r)});
    taps.push_back({at(1), r});
  } else {
    SmallVector<Value> w =
        cubicWeights(b, l, r, op.getCubicCoeffA().convertToDouble());
    for (int64_t k = 0; k < 4; ++k)
      taps.push_back({at(k - 1), w[k]});
  }
  // Edge padding: clamp; exclude_outside drops outside taps and renormalises.
  Value zero = b.create<arith::ConstantIndexOp>(l, 0);
  Value sum;
  for (Tap &t : taps) {
    if (op.getExcludeOutside() && taps.size() > 1) {
      Value inside = b.create<arith::AndIOp>(
          l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, t.index, zero),
          b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sle, t.index,
                                  p.inIndex));
      t.weight = b.create<arith::SelectOp>(l, inside, t.weight, f64(b, l, 0.0));
      sum = sum ? b.create<arith::AddFOp>(l, sum, t.weight) : t.weight;
    }
    t.index = b.create<arith::MinSIOp>(
        l, b.create<arith::MaxSIOp>(l, t.index, zero), p.inIndex);
  }
  if (sum)
    for (Tap &t : taps)
      t.weight = b.create<arith::DivFOp>(l, t.weight, sum);
  return taps;
}

struct ResizeLowering : OpConversionPattern<onnx::ResizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::ResizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getY());
    auto in = rankedType(getTypeConverter(), op.getX());
    if (!type || !in || !type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    StringRef ctm = op.getCoordinateTransformationMode();
    bool identityOnSameSize = !llvm::is_contained(
        {"tf_crop_and_resize", "tf_half_pixel_for_nn"}, ctm);
    int64_t rank = type.getRank();
    auto scalarAt = [&](Value t, int64_t i) -> Value {
      Value v = rewriter.create<tensor::ExtractOp>(
          loc, t, ValueRange{rewriter.create<arith::ConstantIndexOp>(loc, i)});
      return convertScalar(rewriter, loc, v, rewriter.getF64Type(), false,
                           false);
    };
    auto numElements = [](Value v) {
      auto t = v ? dyn_cast<RankedTensorType>(v.getType()) : nullptr;
      return t && t.hasStaticShape() ? t.getNumElements() : 0;
    };
    bool useScales = numElements(adaptor.getScales()) == rank;
    SmallVector<AxisParams> axes(rank);
    for (int64_t d = 0; d < rank; ++d) {
      AxisParams &p = axes[d];
      p.resized = in.isDynamicDim(d) || in.getDimSize(d) != type.getDimSize(d) ||
                  !identityOnSameSize;
      if (!p.resized)
        continue;
      p.inIndex = rewriter.create<arith::SubIOp>(
          loc, rewriter.createOrFold<tensor::DimOp>(loc, adaptor.getX(), d),
          rewriter.create<arith::ConstantIndexOp>(loc, 1));
      p.in = rewriter.create<arith::SIToFPOp>(
          loc, rewriter.getF64Type(),
          rewriter.create<arith::IndexCastOp>(
              loc, rewriter.getI64Type(),
              rewriter.createOrFold<tensor::DimOp>(loc, adaptor.getX(), d)));
      Value out = f64(rewriter, loc, double(type.getDimSize(d)));
      p.scale = useScales ? scalarAt(adaptor.getScales(), d)
                          : rewriter.create<arith::DivFOp>(loc, out, p.in);
      p.outWidth = rewriter.create<arith::MulFOp>(loc, p.scale, p.in);
      if (ctm == "tf_crop_and_resize") {
        p.roiStart = scalarAt(adaptor.getRoi(), d);
        p.roiEnd = scalarAt(adaptor.getRoi(), rank + d);
      }
    }
    Type elt = type.getElementType();
    Value x = adaptor.getX();
    double extrapolation = op.getExtrapolationValue().convertToDouble();
    Value result = buildIndexed(
        rewriter, loc, type, tensor::getMixedSizes(rewriter, loc, x), {}, {},
        [&](OpBuilder &b, Location l, ValueRange,
            ArrayRef<Value> iv) -> Value {
          Value outside;
          SmallVector<SmallVector<Tap>> taps;
          for (int64_t d = 0; d < rank; ++d)
            taps.push_back(axes[d].resized
                               ? axisTaps(b, l, op, axes[d], iv[d], outside)
                               : SmallVector<Tap>{{iv[d], Value()}});
          // Sum over every combination of the axes' taps.
          Value acc;
          SmallVector<size_t> pick(rank, 0);
          while (true) {
            SmallVector<Value> at;
            Value w;
            for (int64_t d = 0; d < rank; ++d) {
              const Tap &t = taps[d][pick[d]];
              at.push_back(t.index);
              if (t.weight && taps[d].size() > 1)
                w = w ? b.create<arith::MulFOp>(l, w, t.weight) : t.weight;
            }
            Value v = b.create<tensor::ExtractOp>(l, x, at);
            if (w) {
              v = b.create<arith::MulFOp>(
                  l, convertScalar(b, l, v, b.getF64Type(), false, false), w);
              acc = acc ? b.create<arith::AddFOp>(l, acc, v) : v;
            } else {
              acc = v;
            }
            int64_t d = rank - 1;
            while (d >= 0 && ++pick[d] == taps[d].size())
              pick[d--] = 0;
            if (d < 0)
              break;
          }
          if (acc.getType() != elt)
            acc = convertScalar(b, l, acc, elt, false, false);
          if (outside)
            acc = b.create<arith::SelectOp>(
                l, outside,
                b.create<arith::ConstantOp>(l, b.getFloatAttr(elt, extrapolation)),
                acc);
          return acc;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void tessera::populateONNXResizeToLinalgPatterns(TypeConverter &converter,
                                                 RewritePatternSet &patterns) {
  patterns.add<ResizeLowering>(converter, patterns.getContext());
}
