//===- Resize.cpp - onnx.Resize and onnx.GridSample to linalg
//--------------===//
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
// GridSample is one generic over its output too: each output point reads its
// (x, y) from the grid and samples X there with 1, 4 or 16 taps, computed in
// f32 as ONNX Runtime does (the padding applied to the coordinate, then to
// each tap).
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

/// Cubic convolution weights of the taps floor-1 .. floor+2 at fraction r
/// (in r's type).
SmallVector<Value> cubicWeights(OpBuilder &b, Location l, Value r, double a) {
  auto c = [&](double v) {
    return b.create<arith::ConstantOp>(l, b.getFloatAttr(r.getType(), v));
  };
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

/// The sampling of one GridSample point, in f32 scalars: the pixel
/// coordinate range and padding of one image, and X's reader.
struct GridSampler {
  OpBuilder &b;
  Location l;
  StringRef padding;
  bool alignCorners;
  Value x, n, c; // X [N, C, H, W] and the point's batch and channel
  Value hf, wf;  // H and W as f32

  Value cst(double v) {
    return b.create<arith::ConstantOp>(l, b.getF32FloatAttr(v));
  }
  Value add(Value u, Value v) { return b.create<arith::AddFOp>(l, u, v); }
  Value sub(Value u, Value v) { return b.create<arith::SubFOp>(l, u, v); }
  Value mul(Value u, Value v) { return b.create<arith::MulFOp>(l, u, v); }
  Value cmp(arith::CmpFPredicate p, Value u, Value v) {
    return b.create<arith::CmpFOp>(l, p, u, v);
  }
  Value select(Value c, Value u, Value v) {
    return b.create<arith::SelectOp>(l, c, u, v);
  }
  Value clamp(Value v, Value lo, Value hi) {
    return b.create<arith::MinimumFOp>(l, b.create<arith::MaximumFOp>(l, v, lo),
                                       hi);
  }
  /// The coordinate range inside the image: pixel centres with
  /// align_corners, else their outer edges.
  std::pair<Value, Value> bounds(Value size) {
    if (alignCorners)
      return {cst(0.0), sub(size, cst(1.0))};
    return {cst(-0.5), sub(size, cst(0.5))};
  }
  /// The pixel coordinate of normalised `v` along an axis of `size`.
  Value denormalize(Value v, Value size) {
    Value one = cst(1.0);
    if (alignCorners)
      return mul(mul(add(v, one), cst(0.5)), sub(size, one));
    return mul(sub(mul(add(v, one), size), one), cst(0.5));
  }
  /// `v` reflected into [lo, hi] (ONNX Runtime's GsReflect).
  Value reflect(Value v, Value lo, Value hi) {
    Value range = sub(hi, lo);
    Value below = cmp(arith::CmpFPredicate::OLT, v, lo);
    Value dist = select(below, sub(lo, v), sub(v, hi));
    Value folds =
        b.create<math::FloorOp>(l, b.create<arith::DivFOp>(l, dist, range));
    Value rest = sub(dist, mul(folds, range));
    Value odd = b.create<arith::CmpFOp>(
        l, arith::CmpFPredicate::ONE,
        b.create<math::FloorOp>(l, mul(folds, cst(0.5))), mul(folds, cst(0.5)));
    // Below lo: lo + rest after an even number of folds, else hi - rest;
    // above hi the other way round.
    Value fromLo = add(lo, rest), fromHi = sub(hi, rest);
    Value towardLo = b.create<arith::XOrIOp>(l, below, odd);
    Value reflected = select(towardLo, fromLo, fromHi);
    Value inside =
        b.create<arith::AndIOp>(l, cmp(arith::CmpFPredicate::OGE, v, lo),
                                cmp(arith::CmpFPredicate::OLE, v, hi));
    // A one-pixel axis has no range to fold into.
    Value flat = cmp(arith::CmpFPredicate::OEQ, range, cst(0.0));
    return select(inside, v, select(flat, lo, reflected));
  }
  /// X at integer pixel (yi, xi) (f32 values) with the padding.
  Value pixel(Value yi, Value xi) {
    Value zero = cst(0.0);
    if (padding == "reflection") {
      auto [xlo, xhi] = bounds(wf);
      auto [ylo, yhi] = bounds(hf);
      xi = reflect(xi, xlo, xhi);
      yi = reflect(yi, ylo, yhi);
    }
    // Every read is clamped into the image (maxnumf / minnumf also map a
    // NaN coordinate into it); zeros padding then discards the outside.
    auto index = [&](Value v, Value size) {
      Value inside = b.create<arith::MinNumFOp>(
          l, b.create<arith::MaxNumFOp>(l, v, cst(0.0)), sub(size, cst(1.0)));
      Value i = b.create<arith::FPToSIOp>(l, b.getI64Type(), inside);
      return b.create<arith::IndexCastOp>(l, b.getIndexType(), i);
    };
    Value v = b.create<tensor::ExtractOp>(
        l, x, ValueRange{n, c, index(yi, hf), index(xi, wf)});
    v = convertScalar(b, l, v, b.getF32Type(), false, false);
    if (padding != "zeros")
      return v;
    Value inside = b.create<arith::AndIOp>(
        l,
        b.create<arith::AndIOp>(l, cmp(arith::CmpFPredicate::OGE, xi, zero),
                                cmp(arith::CmpFPredicate::OLT, xi, wf)),
        b.create<arith::AndIOp>(l, cmp(arith::CmpFPredicate::OGE, yi, zero),
                                cmp(arith::CmpFPredicate::OLT, yi, hf)));
    return select(inside, v, zero);
  }
  /// The sample at normalised (gx, gy).
  Value sample(StringRef mode, Value gx, Value gy) {
    Value px = denormalize(gx, wf), py = denormalize(gy, hf);
    if (mode == "nearest") {
      px = b.create<math::RoundEvenOp>(l, px);
      py = b.create<math::RoundEvenOp>(l, py);
    }
    auto [xlo, xhi] = bounds(wf);
    auto [ylo, yhi] = bounds(hf);
    Value outside = b.create<arith::OrIOp>(
        l,
        b.create<arith::OrIOp>(l, cmp(arith::CmpFPredicate::OLT, px, xlo),
                               cmp(arith::CmpFPredicate::OGT, px, xhi)),
        b.create<arith::OrIOp>(l, cmp(arith::CmpFPredicate::OLT, py, ylo),
                               cmp(arith::CmpFPredicate::OGT, py, yhi)));
    // Bicubic clamps each tap to the border, not the coordinate (ONNX
    // Runtime; reflection folds both).
    bool cubic = mode == "bicubic" || mode == "cubic";
    if (padding == "border" && !cubic) {
      px = select(outside, clamp(px, cst(0.0), sub(wf, cst(1.0))), px);
      py = select(outside, clamp(py, cst(0.0), sub(hf, cst(1.0))), py);
    } else if (padding == "reflection") {
      px = select(outside, reflect(px, xlo, xhi), px);
      py = select(outside, reflect(py, ylo, yhi), py);
    }
    if (mode == "nearest")
      return pixel(py, px);
    Value x0 = b.create<math::FloorOp>(l, px);
    Value y0 = b.create<math::FloorOp>(l, py);
    if (mode == "bilinear" || mode == "linear") {
      Value x1 = add(x0, cst(1.0)), y1 = add(y0, cst(1.0));
      Value dx1 = sub(px, x0), dx2 = sub(x1, px);
      Value dy1 = sub(py, y0), dy2 = sub(y1, py);
      // Each step is named: C++ leaves the order of nested calls open, and
      // the IR should not depend on the compiler that built Tessera.
      Value p00 = pixel(y0, x0), p01 = pixel(y0, x1);
      Value p10 = pixel(y1, x0), p11 = pixel(y1, x1);
      Value top = add(mul(dx2, p00), mul(dx1, p01));
      Value bottom = add(mul(dx2, p10), mul(dx1, p11));
      return add(mul(dy2, top), mul(dy1, bottom));
    }
    // Bicubic: 4 x 4 taps from floor - 1, cubic convolution with a = -0.75.
    SmallVector<Value> wx = cubicWeights(b, l, sub(px, x0), -0.75);
    SmallVector<Value> wy = cubicWeights(b, l, sub(py, y0), -0.75);
    Value sum;
    for (int64_t i = 0; i < 4; ++i) {
      Value yi = add(y0, cst(double(i - 1)));
      Value row;
      for (int64_t j = 0; j < 4; ++j) {
        Value xj = add(x0, cst(double(j - 1)));
        Value term = mul(wx[j], pixel(yi, xj));
        row = row ? add(row, term) : term;
      }
      Value term = mul(wy[i], row);
      sum = sum ? add(sum, term) : term;
    }
    return sum;
  }
};

struct GridSampleLowering : OpConversionPattern<onnx::GridSampleOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::GridSampleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getY());
    auto gridType = dyn_cast<RankedTensorType>(adaptor.getGrid().getType());
    if (!type || type.getRank() != 4 || !gridType ||
        !isa<FloatType>(type.getElementType()) ||
        !isa<FloatType>(gridType.getElementType()))
      return rewriter.notifyMatchFailure(op, "needs float [N, C, H, W]");
    Location loc = op.getLoc();
    Value x = adaptor.getX(), grid = adaptor.getGrid();
    SmallVector<OpFoldResult> xSizes = tensor::getMixedSizes(rewriter, loc, x);
    SmallVector<OpFoldResult> gSizes =
        tensor::getMixedSizes(rewriter, loc, grid);
    SmallVector<OpFoldResult> sizes = {xSizes[0], xSizes[1], gSizes[1],
                                       gSizes[2]};
    auto asF32 = [&](Value index) -> Value {
      Value i = rewriter.create<arith::IndexCastOp>(loc, rewriter.getI64Type(),
                                                    index);
      return rewriter.create<arith::SIToFPOp>(loc, rewriter.getF32Type(), i);
    };
    Value h = indexValue(rewriter, loc, xSizes[2]);
    Value w = indexValue(rewriter, loc, xSizes[3]);
    Value hf = asF32(h), wf = asF32(w);
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    emitCheck(rewriter, loc,
              rewriter.create<arith::AndIOp>(
                  loc,
                  rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                                 h, zero),
                  rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                                 w, zero)),
              "GridSample needs an image of at least one pixel");
    Type elt = type.getElementType();
    Value y = buildIndexed(
        rewriter, loc, refineType(type, sizes), sizes, {}, {},
        [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> iv) {
          auto coordinate = [&](int64_t k) {
            Value kIndex = b.create<arith::ConstantIndexOp>(l, k);
            Value v = b.create<tensor::ExtractOp>(
                l, grid, ValueRange{iv[0], iv[2], iv[3], kIndex});
            return convertScalar(b, l, v, b.getF32Type(), false, false);
          };
          GridSampler s{b,
                        l,
                        op.getPaddingMode(),
                        op.getAlignCorners() != 0,
                        x,
                        iv[0],
                        iv[1],
                        hf,
                        wf};
          Value gx = coordinate(0);
          Value gy = coordinate(1);
          Value v = s.sample(op.getMode(), gx, gy);
          return convertScalar(b, l, v, elt, false, false);
        });
    if (y.getType() != type)
      y = rewriter.create<tensor::CastOp>(loc, type, y);
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void tessera::populateONNXResizeToLinalgPatterns(TypeConverter &converter,
                                                 RewritePatternSet &patterns) {
  patterns.add<ResizeLowering, GridSampleLowering>(converter,
                                                   patterns.getContext());
}
