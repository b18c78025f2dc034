//===- Quantize.cpp - QuantizeLinear, DequantizeLinear to linalg ----------===//
//
// Part of Tessera. One elementwise generic each; the scale and zero point
// are read per tensor (a scalar or one-element tensor) or per `axis` (a 1-D
// tensor along that dim). MatMulInteger's operands go through the same
// zero-point subtraction (widened to i32) before NN.cpp's matmul.
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

/// Reads a quantization parameter while iterating over `rank` dims: one
/// value, or entry i along dim `axis`.
AffineMap paramMap(MLIRContext *ctx, int64_t rank, int64_t axis, Value param) {
  auto type = cast<RankedTensorType>(param.getType());
  SmallVector<AffineExpr> exprs;
  bool perAxis = type.getRank() == 1 && type.getDimSize(0) != 1;
  for (int64_t d = 0; d < type.getRank(); ++d)
    exprs.push_back(perAxis ? getAffineDimExpr(axis, ctx)
                            : getAffineConstantExpr(0, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

} // namespace

Value tessera::lowering::buildParamElementwise(
    OpBuilder &b, Location loc, RankedTensorType type, Value x,
    ArrayRef<Value> params, int64_t axis,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  int64_t rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> inputs = {x};
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  for (Value p : params)
    if (p) {
      inputs.push_back(p);
      maps.push_back(paramMap(ctx, rank, axis, p));
    }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{type}, inputs,
          ValueRange{buildEmpty(b, loc, type, tensor::getMixedSizes(b, loc, x))},
          maps,
          SmallVector<utils::IteratorType>(rank,
                                           utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location l, ValueRange a) {
            nb.create<linalg::YieldOp>(l, body(nb, l, a.drop_back()));
          })
      .getResult(0);
}

Value tessera::lowering::saturateToInt(OpBuilder &b, Location l, Value v,
                                       Type q, bool isUnsigned) {
  unsigned bits = q.getIntOrFloatBitWidth();
  APInt lo =
      isUnsigned ? APInt::getMinValue(bits) : APInt::getSignedMinValue(bits);
  APInt hi =
      isUnsigned ? APInt::getMaxValue(bits) : APInt::getSignedMaxValue(bits);
  // Each branch converts on its own: a conditional of uint64_t and int64_t
  // would make the signed minimum 2^64 - 2^(bits - 1).
  double qmin =
      isUnsigned ? double(lo.getZExtValue()) : double(lo.getSExtValue());
  double qmax =
      isUnsigned ? double(hi.getZExtValue()) : double(hi.getSExtValue());
  Type f = v.getType();
  v = b.create<arith::MaximumFOp>(
      l, v, b.create<arith::ConstantOp>(l, b.getFloatAttr(f, qmin)));
  return b.create<arith::MinimumFOp>(
      l, v, b.create<arith::ConstantOp>(l, b.getFloatAttr(f, qmax)));
}

Value tessera::lowering::widenWithZeroPoint(OpBuilder &rewriter, Location loc,
                                            Type i32, Value x, Value original,
                                            Value zp, Value zpOriginal,
                                            int64_t axis) {
  bool xU = isUnsignedInt(original.getType());
  bool zU = zpOriginal && isUnsignedInt(zpOriginal.getType());
  auto t = cast<RankedTensorType>(x.getType());
  return buildParamElementwise(
      rewriter, loc, RankedTensorType::get(t.getShape(), i32), x, {zp}, axis,
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value v = convertScalar(b, l, a[0], i32, xU, false);
        if (a.size() > 1)
          v = b.create<arith::SubIOp>(
              l, v, convertScalar(b, l, a[1], i32, zU, false));
        return v;
      });
}

Value tessera::lowering::buildRequantize(OpBuilder &b, Location loc, Value acc,
                                         RankedTensorType outType, Value aScale,
                                         Value bScale, int64_t axis,
                                         Value yScale, Value yZeroPoint,
                                         bool yUnsigned) {
  Type f32 = b.getF32Type();
  Value as = firstElement(b, loc, aScale);
  Value ys = firstElement(b, loc, yScale);
  Value zp = convertScalar(b, loc, firstElement(b, loc, yZeroPoint), f32,
                           yUnsigned, false);
  Type q = outType.getElementType();
  return buildParamElementwise(
      b, loc, outType, acc, {bScale}, axis,
      [&](OpBuilder &nb, Location l, ValueRange v) {
        // ORT's order: (a_scale * b_scale) / y_scale, in f32.
        Value scale = nb.create<arith::DivFOp>(
            l, nb.create<arith::MulFOp>(l, as, v[1]), ys);
        Value x = convertScalar(nb, l, v[0], f32, false, false);
        Value r = nb.create<math::RoundEvenOp>(
            l, nb.create<arith::MulFOp>(l, x, scale));
        r = nb.create<arith::AddFOp>(l, r, zp);
        r = saturateToInt(nb, l, r, q, yUnsigned);
        return convertScalar(nb, l, r, q, false, yUnsigned);
      });
}

namespace {

struct QuantizeLowering : OpConversionPattern<onnx::QuantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::QuantizeLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getY());
    if (!type || op.getBlockSize() != 0 ||
        !isa<IntegerType>(type.getElementType()))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    auto qType = cast<IntegerType>(type.getElementType());
    bool isUnsigned = isUnsignedInt(op.getY().getType());
    bool zpUnsigned =
        op.getYZeroPoint() && isUnsignedInt(op.getYZeroPoint().getType());
    int64_t axis = onnx::normalizeAxis(op.getAxis(), type.getRank());
    Value y = buildParamElementwise(
        rewriter, op.getLoc(), type, adaptor.getX(),
        {adaptor.getYScale(), adaptor.getYZeroPoint()}, axis,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Type f = a[1].getType();
          Value x = convertScalar(b, l, a[0], f, false, false);
          Value v = b.create<math::RoundEvenOp>(
              l, b.create<arith::DivFOp>(l, x, a[1]));
          if (a.size() > 2)
            v = b.create<arith::AddFOp>(
                l, v, convertScalar(b, l, a[2], f, zpUnsigned, false));
          v = saturateToInt(b, l, v, qType, isUnsigned);
          return convertScalar(b, l, v, qType, false, isUnsigned);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct DequantizeLowering : OpConversionPattern<onnx::DequantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::DequantizeLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getY());
    if (!type || op.getBlockSize() != 0)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    bool xUnsigned = isUnsignedInt(op.getX().getType());
    int64_t axis = onnx::normalizeAxis(op.getAxis(), type.getRank());
    Type f = type.getElementType();
    Value y = buildParamElementwise(
        rewriter, op.getLoc(), type, adaptor.getX(),
        {adaptor.getXScale(), adaptor.getXZeroPoint()}, axis,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value x = convertScalar(b, l, a[0], f, xUnsigned, false);
          if (a.size() > 2)
            x = b.create<arith::SubFOp>(
                l, x, convertScalar(b, l, a[2], f, xUnsigned, false));
          return b.create<arith::MulFOp>(
              l, x, convertScalar(b, l, a[1], f, false, false));
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// DynamicQuantizeLinear: one generic takes min(0, min x) and max(0, max x),
/// the scale and zero point are scalar arithmetic on them, and one
/// elementwise generic quantizes (QuantizeLinear's rounding and saturation
/// to [0, 255]).
struct DynamicQuantizeLowering
    : OpConversionPattern<onnx::DynamicQuantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::DynamicQuantizeLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getY());
    auto xType = dyn_cast<RankedTensorType>(adaptor.getX().getType());
    if (!type || !xType || !xType.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs a ranked f32 input");
    Location loc = op.getLoc();
    Value x = adaptor.getX();
    Type f32 = rewriter.getF32Type();
    int64_t rank = xType.getRank();
    // lo and hi start at 0, so that the range always holds 0.
    auto scalarType = RankedTensorType::get({}, f32);
    auto zero = [&] {
      return buildFilled(rewriter, loc, scalarType, rewriter.getZeroAttr(f32));
    };
    AffineMap toScalar = AffineMap::get(rank, 0, {}, rewriter.getContext());
    auto range = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{scalarType, scalarType}, ValueRange{x},
        ValueRange{zero(), zero()},
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(rank), toScalar,
                            toScalar},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::reduction),
        [](OpBuilder &b, Location l, ValueRange a) {
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::MinimumFOp>(l, a[1], a[0]),
                            b.create<arith::MaximumFOp>(l, a[2], a[0])});
        });
    auto c = [&](double v) {
      return rewriter.create<arith::ConstantOp>(loc,
                                                rewriter.getF32FloatAttr(v));
    };
    Value lo = rewriter.create<tensor::ExtractOp>(loc, range.getResult(0),
                                                  ValueRange{});
    Value hi = rewriter.create<tensor::ExtractOp>(loc, range.getResult(1),
                                                  ValueRange{});
    Value scale = rewriter.create<arith::DivFOp>(
        loc, rewriter.create<arith::SubFOp>(loc, hi, lo), c(255.0));
    Type u8 = type.getElementType();
    Value zp = saturateToInt(
        rewriter, loc,
        rewriter.create<math::RoundEvenOp>(
            loc, rewriter.create<arith::NegFOp>(
                     loc, rewriter.create<arith::DivFOp>(loc, lo, scale))),
        u8, /*isUnsigned=*/true);
    Value y = buildElementwise(
        rewriter, loc, type, tensor::getMixedSizes(rewriter, loc, x),
        ValueRange{x}, [&](OpBuilder &b, Location l, ValueRange a) {
          Value q = b.create<math::RoundEvenOp>(
              l, b.create<arith::DivFOp>(l, a[0], scale));
          Value v = saturateToInt(b, l, b.create<arith::AddFOp>(l, q, zp), u8,
                                  /*isUnsigned=*/true);
          return convertScalar(b, l, v, u8, false, true);
        });
    Value scaleT = rewriter.create<tensor::FromElementsOp>(loc, scalarType,
                                                           ValueRange{scale});
    Value zpT = rewriter.create<tensor::FromElementsOp>(
        loc, RankedTensorType::get({}, u8),
        ValueRange{convertScalar(rewriter, loc, zp, u8, false, true)});
    rewriter.replaceOp(op, ValueRange{y, scaleT, zpT});
    return success();
  }
};

} // namespace

void tessera::populateONNXQuantizeToLinalgPatterns(
    TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<QuantizeLowering, DequantizeLowering, DynamicQuantizeLowering>(
      converter, patterns.getContext());
}
