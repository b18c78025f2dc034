//===- Elementwise.cpp - onnx elementwise ops to linalg.generic -----------===//
//
// Every elementwise op becomes one linalg.generic over the broadcast result
// shape (dynamic dims sized from the operands, checked to agree at run time);
// later elementwise fusion merges chains of them into one loop nest.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

bool isFloat(Type t) { return isa<FloatType>(t); }

/// Lowers an elementwise op whose scalar semantics are given by `compute`,
/// which sees the op (for attributes and original signedness), the scalar
/// arguments, and the result element type.
template <typename OpTy>
struct ElementwiseLowering : OpConversionPattern<OpTy> {
  using Compute =
      std::function<Value(OpTy, OpBuilder &, Location, ValueRange, Type)>;
  ElementwiseLowering(TypeConverter &tc, MLIRContext *ctx, Compute compute)
      : OpConversionPattern<OpTy>(tc, ctx), compute(std::move(compute)) {}

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = rankedType(this->getTypeConverter(), op->getResult(0));
    if (!resultType)
      return rewriter.notifyMatchFailure(op, "needs a ranked result");
    SmallVector<Value> inputs;
    for (Value v : adaptor.getOperands())
      if (v)
        inputs.push_back(v);
    if constexpr (std::is_same_v<OpTy, onnx::CastLikeOp>)
      inputs.resize(1); // target_type only supplies the element type
    Type elt = resultType.getElementType();
    Value result =
        buildElementwise(rewriter, op.getLoc(), resultType, inputs,
                         [&](OpBuilder &b, Location loc, ValueRange args) {
                           return compute(op, b, loc, args, elt);
                         });
    rewriter.replaceOp(op, result);
    return success();
  }

  Compute compute;
};

template <typename OpTy, typename Fn>
void add(RewritePatternSet &patterns, TypeConverter &tc, Fn fn) {
  patterns.add<ElementwiseLowering<OpTy>>(
      tc, patterns.getContext(),
      typename ElementwiseLowering<OpTy>::Compute(fn));
}

/// An onnx op that is one math op on its single operand.
template <typename OpTy, typename MathOp>
void addUnaryMath(RewritePatternSet &patterns, TypeConverter &tc) {
  add<OpTy>(patterns, tc,
            [](auto, OpBuilder &b, Location l, ValueRange a, Type) -> Value {
              return b.create<MathOp>(l, a[0]);
            });
}

Value constantLike(OpBuilder &b, Location loc, Type t, double v) {
  if (isFloat(t))
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(t, v));
  return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(t, int64_t(v)));
}

/// The scalar constant an exponent operand holds if it is a splat constant.
std::optional<double> splatExponent(Value v) {
  DenseElementsAttr dense;
  if (auto c = v.getDefiningOp<onnx::ConstantOp>())
    dense = dyn_cast<DenseElementsAttr>(c.getValue());
  if (!dense || !dense.isSplat())
    return std::nullopt;
  if (isa<FloatType>(dense.getElementType()))
    return dense.getSplatValue<APFloat>().convertToDouble();
  return double(dense.getSplatValue<APInt>().getSExtValue());
}

Value gelu(OpBuilder &b, Location loc, Value x, bool tanhForm) {
  Type t = x.getType();
  Value half = constantLike(b, loc, t, 0.5);
  Value one = constantLike(b, loc, t, 1.0);
  Value inner;
  if (tanhForm) {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Value x3 =
        b.create<arith::MulFOp>(loc, b.create<arith::MulFOp>(loc, x, x), x);
    Value poly = b.create<arith::AddFOp>(
        loc, x,
        b.create<arith::MulFOp>(loc, constantLike(b, loc, t, 0.044715), x3));
    inner = b.create<math::TanhOp>(
        loc, b.create<arith::MulFOp>(
                 loc, constantLike(b, loc, t, 0.7978845608028654), poly));
  } else {
    // 0.5 x (1 + erf(x / sqrt(2)))
    inner = b.create<math::ErfOp>(
        loc, b.create<arith::MulFOp>(
                 loc, x, constantLike(b, loc, t, 0.7071067811865476)));
  }
  Value sum = b.create<arith::AddFOp>(loc, one, inner);
  return b.create<arith::MulFOp>(loc, b.create<arith::MulFOp>(loc, half, x),
                                 sum);
}

} // namespace

Value tessera::lowering::buildGelu(OpBuilder &b, Location loc, Value x,
                                   bool tanhForm) {
  return gelu(b, loc, x, tanhForm);
}

void tessera::populateONNXElementwiseToLinalgPatterns(
    TypeConverter &tc, RewritePatternSet &patterns) {
  // Binary arithmetic.
  add<onnx::AddOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        if (isFloat(t))
          return b.create<arith::AddFOp>(l, a[0], a[1]);
        return b.create<arith::AddIOp>(l, a[0], a[1]);
      });
  add<onnx::SubOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        if (isFloat(t))
          return b.create<arith::SubFOp>(l, a[0], a[1]);
        return b.create<arith::SubIOp>(l, a[0], a[1]);
      });
  add<onnx::MulOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        if (isFloat(t))
          return b.create<arith::MulFOp>(l, a[0], a[1]);
        return b.create<arith::MulIOp>(l, a[0], a[1]);
      });
  add<onnx::DivOp>(patterns, tc,
                   [](onnx::DivOp op, OpBuilder &b, Location l, ValueRange a,
                      Type t) -> Value {
                     if (isFloat(t))
                       return b.create<arith::DivFOp>(l, a[0], a[1]);
                     if (isUnsignedInt(op.getType()))
                       return b.create<arith::DivUIOp>(l, a[0], a[1]);
                     return b.create<arith::DivSIOp>(l, a[0], a[1]);
                   });
  add<onnx::PowOp>(
      patterns, tc,
      [](onnx::PowOp op, OpBuilder &b, Location l, ValueRange a,
         Type t) -> Value {
        Value x = a[0], y = a[1];
        if (auto e = splatExponent(op.getY())) {
          if (*e == 1.0)
            return x;
          if (*e == 2.0)
            return isFloat(t) ? Value(b.create<arith::MulFOp>(l, x, x))
                              : Value(b.create<arith::MulIOp>(l, x, x));
          if (*e == 3.0 && isFloat(t))
            return b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, x, x),
                                           x);
          if (*e == 0.5 && isFloat(t))
            return b.create<math::SqrtOp>(l, x);
        }
        if (isFloat(t)) {
          y = convertScalar(b, l, y, t, isUnsignedInt(op.getY().getType()),
                            false);
          return b.create<math::PowFOp>(l, x, y);
        }
        // Integer base: compute in f64 and convert back.
        Type f64 = b.getF64Type();
        bool uns = isUnsignedInt(op.getType());
        Value xf = convertScalar(b, l, x, f64, uns, false);
        Value yf = convertScalar(b, l, y, f64,
                                 isUnsignedInt(op.getY().getType()), false);
        return convertScalar(b, l, b.create<math::PowFOp>(l, xf, yf), t, false,
                             uns);
      });
  add<onnx::MaxOp>(patterns, tc,
                   [](onnx::MaxOp op, OpBuilder &b, Location l, ValueRange a,
                      Type t) -> Value {
                     Value r = a[0];
                     for (Value v : a.drop_front())
                       r = isFloat(t)
                               ? Value(b.create<arith::MaximumFOp>(l, r, v))
                           : isUnsignedInt(op.getType())
                               ? Value(b.create<arith::MaxUIOp>(l, r, v))
                               : Value(b.create<arith::MaxSIOp>(l, r, v));
                     return r;
                   });
  add<onnx::MinOp>(patterns, tc,
                   [](onnx::MinOp op, OpBuilder &b, Location l, ValueRange a,
                      Type t) -> Value {
                     Value r = a[0];
                     for (Value v : a.drop_front())
                       r = isFloat(t)
                               ? Value(b.create<arith::MinimumFOp>(l, r, v))
                           : isUnsignedInt(op.getType())
                               ? Value(b.create<arith::MinUIOp>(l, r, v))
                               : Value(b.create<arith::MinSIOp>(l, r, v));
                     return r;
                   });

  // Comparisons and logic.
  auto compare = [](arith::CmpFPredicate fp, arith::CmpIPredicate sp,
                    arith::CmpIPredicate up) {
    return [=](auto op, OpBuilder &b, Location l, ValueRange a, Type) -> Value {
      if (isFloat(a[0].getType()))
        return b.create<arith::CmpFOp>(l, fp, a[0], a[1]);
      bool uns =
          isUnsignedInt(op.getA().getType()) || a[0].getType().isInteger(1);
      return b.create<arith::CmpIOp>(l, uns ? up : sp, a[0], a[1]);
    };
  };
  using FP = arith::CmpFPredicate;
  using IP = arith::CmpIPredicate;
  add<onnx::EqualOp>(patterns, tc, compare(FP::OEQ, IP::eq, IP::eq));
  add<onnx::LessOp>(patterns, tc, compare(FP::OLT, IP::slt, IP::ult));
  add<onnx::GreaterOp>(patterns, tc, compare(FP::OGT, IP::sgt, IP::ugt));
  add<onnx::LessOrEqualOp>(patterns, tc, compare(FP::OLE, IP::sle, IP::ule));
  add<onnx::GreaterOrEqualOp>(patterns, tc, compare(FP::OGE, IP::sge, IP::uge));
  add<onnx::AndOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type) -> Value {
        return b.create<arith::AndIOp>(l, a[0], a[1]);
      });
  add<onnx::OrOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type) -> Value {
        return b.create<arith::OrIOp>(l, a[0], a[1]);
      });
  add<onnx::NotOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type) -> Value {
        Value one = b.create<arith::ConstantOp>(l, b.getBoolAttr(true));
        return b.create<arith::XOrIOp>(l, a[0], one);
      });
  add<onnx::WhereOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type) -> Value {
        return b.create<arith::SelectOp>(l, a[0], a[1], a[2]);
      });

  // Unary math.
  addUnaryMath<onnx::SqrtOp, math::SqrtOp>(patterns, tc);
  add<onnx::ReciprocalOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        return b.create<arith::DivFOp>(l, constantLike(b, l, t, 1.0), a[0]);
      });
  add<onnx::NegOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        if (isFloat(t))
          return b.create<arith::NegFOp>(l, a[0]);
        return b.create<arith::SubIOp>(l, constantLike(b, l, t, 0), a[0]);
      });
  add<onnx::AbsOp>(patterns, tc,
                   [](onnx::AbsOp op, OpBuilder &b, Location l, ValueRange a,
                      Type t) -> Value {
                     if (isFloat(t))
                       return b.create<math::AbsFOp>(l, a[0]);
                     if (isUnsignedInt(op.getType()))
                       return a[0];
                     return b.create<math::AbsIOp>(l, a[0]);
                   });
  addUnaryMath<onnx::ExpOp, math::ExpOp>(patterns, tc);
  addUnaryMath<onnx::LogOp, math::LogOp>(patterns, tc);
  addUnaryMath<onnx::ErfOp, math::ErfOp>(patterns, tc);
  addUnaryMath<onnx::TanhOp, math::TanhOp>(patterns, tc);
  add<onnx::SigmoidOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        Value one = constantLike(b, l, t, 1.0);
        Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, a[0]));
        return b.create<arith::DivFOp>(l, one,
                                       b.create<arith::AddFOp>(l, one, e));
      });
  add<onnx::ReluOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        Value zero = constantLike(b, l, t, 0.0);
        if (isFloat(t))
          return b.create<arith::MaximumFOp>(l, a[0], zero);
        return b.create<arith::MaxSIOp>(l, a[0], zero);
      });
  add<onnx::GeluOp>(patterns, tc,
                    [](onnx::GeluOp op, OpBuilder &b, Location l, ValueRange a,
                       Type) -> Value {
                      return gelu(b, l, a[0], op.getApproximate() == "tanh");
                    });
  add<onnx::ClipOp>(patterns, tc,
                    [](onnx::ClipOp op, OpBuilder &b, Location l, ValueRange a,
                       Type t) -> Value {
                      // numpy.clip: min(max(x, lo), hi); operands in order
                      // input, [min], [max].
                      Value r = a[0];
                      size_t next = 1;
                      bool uns = isUnsignedInt(op.getType());
                      if (op.getMin()) {
                        Value lo = a[next++];
                        r = isFloat(t)
                                ? Value(b.create<arith::MaximumFOp>(l, r, lo))
                            : uns ? Value(b.create<arith::MaxUIOp>(l, r, lo))
                                  : Value(b.create<arith::MaxSIOp>(l, r, lo));
                      }
                      if (op.getMax()) {
                        Value hi = a[next++];
                        r = isFloat(t)
                                ? Value(b.create<arith::MinimumFOp>(l, r, hi))
                            : uns ? Value(b.create<arith::MinUIOp>(l, r, hi))
                                  : Value(b.create<arith::MinSIOp>(l, r, hi));
                      }
                      return r;
                    });
  add<onnx::CastOp>(patterns, tc,
                    [](onnx::CastOp op, OpBuilder &b, Location l, ValueRange a,
                       Type t) -> Value {
                      return convertScalar(
                          b, l, a[0], t, isUnsignedInt(op.getInput().getType()),
                          isUnsignedInt(op.getTo()));
                    });
  add<onnx::CastLikeOp>(patterns, tc,
                        [](onnx::CastLikeOp op, OpBuilder &b, Location l,
                           ValueRange a, Type t) -> Value {
                          return convertScalar(
                              b, l, a[0], t,
                              isUnsignedInt(op.getInput().getType()),
                              isUnsignedInt(op.getType()));
                        });
}
