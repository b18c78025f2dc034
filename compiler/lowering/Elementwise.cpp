//===- Elementwise.cpp - onnx elementwise ops to linalg.generic -----------===//
//
// Every elementwise op becomes one linalg.generic over the broadcast result
// shape (dynamic dims sized from the operands, checked to agree at run time);
// later elementwise fusion merges chains of them into one loop nest.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/FloatMath.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

bool isFloat(Type t) { return isa<FloatType>(t); }

/// Whether an op whose result and every operand are of the 16-bit float
/// type `elt` computes in f32: its operands widened, its result rounded
/// once by a tessera.widened_rounding truncf, which a fused chain of such
/// ops skips between them (so the chain rounds once, as ONNX Runtime's
/// float16 chains on the CPU do). An op with other operand types (Where's
/// condition, a Cast) computes as it is.
bool computesInF32(Type elt, ValueRange inputs) {
  return accumulatorType(elt) != elt && !inputs.empty() &&
         llvm::all_of(inputs, [&](Value v) {
           return getElementTypeOrSelf(v.getType()) == elt;
         });
}

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
    bool widen = computesInF32(elt, inputs);
    Value result = buildElementwise(
        rewriter, op.getLoc(), resultType, inputs,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          if (!widen)
            return compute(op, b, loc, args, elt);
          Type acc = accumulatorType(elt);
          SmallVector<Value> wide;
          for (Value a : args)
            wide.push_back(b.create<arith::ExtFOp>(loc, acc, a));
          return tessera::fused::buildWidenedRounding(
              b, loc, compute(op, b, loc, wide, acc), elt);
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

/// sqrt(1 - x^2), as sqrt((1 - x)(1 + x)), which rounds better near 1.
Value cosOfArcsine(FloatMath m, Value x) {
  Value one = m.c(1.0);
  return m.b.create<math::SqrtOp>(m.l, m.mul(m.sub(one, x), m.add(one, x)));
}

/// Registers a float activation whose scalar body is `fn(op, math, x)`.
template <typename OpTy, typename Fn>
void addActivation(RewritePatternSet &patterns, TypeConverter &tc, Fn fn) {
  add<OpTy>(
      patterns, tc,
      [fn](OpTy op, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        FloatMath m{b, l, t};
        return fn(op, m, a[0]);
      });
}

/// x mod y with ONNX Mod's signs: the divisor's (fmod 0, Python's %) or the
/// dividend's (fmod 1, C's fmod and %).
Value modulo(OpBuilder &b, Location l, Value x, Value y, bool fmod,
             bool isUnsigned) {
  Type t = x.getType();
  if (isUnsigned)
    return b.create<arith::RemUIOp>(l, x, y);
  bool isF = isFloat(t);
  Value r = isF ? Value(b.create<arith::RemFOp>(l, x, y))
                : Value(b.create<arith::RemSIOp>(l, x, y));
  if (fmod)
    return r;
  // A non-zero remainder whose sign differs from the divisor's moves by y.
  Value zero = constantLike(b, l, t, 0);
  auto cmp = [&](arith::CmpFPredicate fp, arith::CmpIPredicate ip, Value u,
                 Value v) -> Value {
    if (isF)
      return b.create<arith::CmpFOp>(l, fp, u, v);
    return b.create<arith::CmpIOp>(l, ip, u, v);
  };
  Value nonZero =
      cmp(arith::CmpFPredicate::ONE, arith::CmpIPredicate::ne, r, zero);
  Value signsDiffer = b.create<arith::XOrIOp>(
      l, cmp(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt, r, zero),
      cmp(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt, y, zero));
  Value adjusted = isF ? Value(b.create<arith::AddFOp>(l, r, y))
                       : Value(b.create<arith::AddIOp>(l, r, y));
  return b.create<arith::SelectOp>(
      l, b.create<arith::AndIOp>(l, nonZero, signsDiffer), adjusted, r);
}

/// x << y or x >> y (logical) of unsigned integers; shifts by the bit width
/// or more give 0 (as in numpy), not LLVM's poison.
Value bitShift(OpBuilder &b, Location l, Value x, Value y, bool left) {
  Type t = x.getType();
  Value shifted = left ? Value(b.create<arith::ShLIOp>(l, x, y))
                       : Value(b.create<arith::ShRUIOp>(l, x, y));
  Value tooFar =
      b.create<arith::CmpIOp>(l, arith::CmpIPredicate::uge, y,
                              constantLike(b, l, t, t.getIntOrFloatBitWidth()));
  return b.create<arith::SelectOp>(l, tooFar, constantLike(b, l, t, 0),
                                   shifted);
}

/// -1, 0 or 1 by the sign of x (NaN stays NaN, unsigned values are 0 or 1).
Value sign(OpBuilder &b, Location l, Value x, bool isUnsigned) {
  Type t = x.getType();
  Value zero = constantLike(b, l, t, 0), one = constantLike(b, l, t, 1);
  Value pos, neg;
  if (isFloat(t)) {
    pos = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, x, zero);
    neg = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, x, zero);
  } else {
    pos = b.create<arith::CmpIOp>(
        l, isUnsigned ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt,
        x, zero);
    neg = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, x, zero);
    if (isUnsigned)
      neg = b.create<arith::ConstantOp>(l, b.getBoolAttr(false));
  }
  Value minusOne = constantLike(b, l, t, -1);
  return b.create<arith::SelectOp>(
      l, pos, one, b.create<arith::SelectOp>(l, neg, minusOne, x));
}

/// The sum of `args` in `t` (float or integer).
Value sumOf(OpBuilder &b, Location l, ValueRange args, Type t) {
  Value r = args[0];
  for (Value v : args.drop_front())
    r = isFloat(t) ? Value(b.create<arith::AddFOp>(l, r, v))
                   : Value(b.create<arith::AddIOp>(l, r, v));
  return r;
}

/// Registers ops that are one arith op on two integers (bitwise logic).
template <typename OpTy, typename ArithOp>
void addBitwise(RewritePatternSet &patterns, TypeConverter &tc) {
  add<OpTy>(patterns, tc,
            [](auto, OpBuilder &b, Location l, ValueRange a, Type) -> Value {
              return b.create<ArithOp>(l, a[0], a[1]);
            });
}

/// The activations and math functions of Math.td beyond the basics above:
/// each is one scalar body (a math op, or arith on FloatMath).
void populateMathFunctionPatterns(TypeConverter &tc,
                                  RewritePatternSet &patterns) {
  addUnaryMath<onnx::FloorOp, math::FloorOp>(patterns, tc);
  addUnaryMath<onnx::CeilOp, math::CeilOp>(patterns, tc);
  addUnaryMath<onnx::RoundOp, math::RoundEvenOp>(patterns, tc);
  addUnaryMath<onnx::SinOp, math::SinOp>(patterns, tc);
  addUnaryMath<onnx::CosOp, math::CosOp>(patterns, tc);
  addUnaryMath<onnx::TanOp, math::TanOp>(patterns, tc);
  // asin x = atan2(x, sqrt(1 - x^2)), acos x = atan2(sqrt(1 - x^2), x):
  // MLIR 19's approximations of asin and acos are off by 3% near |x| = 1.
  add<onnx::AsinOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        return b.create<math::Atan2Op>(l, a[0],
                                       cosOfArcsine(FloatMath{b, l, t}, a[0]));
      });
  add<onnx::AcosOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        return b.create<math::Atan2Op>(
            l, cosOfArcsine(FloatMath{b, l, t}, a[0]), a[0]);
      });
  addUnaryMath<onnx::AtanOp, math::AtanOp>(patterns, tc);
  addUnaryMath<onnx::SinhOp, math::SinhOp>(patterns, tc);
  addUnaryMath<onnx::CoshOp, math::CoshOp>(patterns, tc);
  addUnaryMath<onnx::AsinhOp, math::AsinhOp>(patterns, tc);
  addUnaryMath<onnx::AcoshOp, math::AcoshOp>(patterns, tc);
  addUnaryMath<onnx::AtanhOp, math::AtanhOp>(patterns, tc);
  add<onnx::SignOp>(patterns, tc,
                    [](onnx::SignOp op, OpBuilder &b, Location l, ValueRange a,
                       Type) -> Value {
                      return sign(b, l, a[0], isUnsignedInt(op.getType()));
                    });
  add<onnx::IsNaNOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type) -> Value {
        return b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNO, a[0],
                                       a[0]);
      });
  add<onnx::IsInfOp>(
      patterns, tc,
      [](onnx::IsInfOp op, OpBuilder &b, Location l, ValueRange a,
         Type) -> Value {
        Type t = a[0].getType();
        Value r = b.create<arith::ConstantOp>(l, b.getBoolAttr(false));
        auto is = [&](bool negative) {
          Value inf = b.create<arith::ConstantOp>(l, highestValue(t));
          if (negative)
            inf = b.create<arith::NegFOp>(l, inf);
          Value eq =
              b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, a[0], inf);
          r = b.create<arith::OrIOp>(l, r, eq);
        };
        if (op.getDetectPositive())
          is(false);
        if (op.getDetectNegative())
          is(true);
        return r;
      });

  // Activations.
  addActivation<onnx::SoftplusOp>(
      patterns, tc, [](auto, FloatMath &m, Value x) { return m.softplus(x); });
  addActivation<onnx::SoftsignOp>(
      patterns, tc, [](auto, FloatMath &m, Value x) {
        return m.div(x, m.add(m.c(1.0), m.b.create<math::AbsFOp>(m.l, x)));
      });
  addActivation<onnx::HardSwishOp>(
      patterns, tc, [](auto, FloatMath &m, Value x) {
        return m.mul(x, m.saturate(m.add(m.mul(x, m.c(1.0 / 6)), m.c(0.5))));
      });
  addActivation<onnx::MishOp>(patterns, tc, [](auto, FloatMath &m, Value x) {
    return m.mul(x, m.tanh(m.softplus(x)));
  });
  addActivation<onnx::HardSigmoidOp>(
      patterns, tc, [](onnx::HardSigmoidOp op, FloatMath &m, Value x) {
        return m.saturate(
            m.add(m.mul(m.c(op.getAlphaAttr()), x), m.c(op.getBetaAttr())));
      });
  addActivation<onnx::EluOp>(
      patterns, tc, [](onnx::EluOp op, FloatMath &m, Value x) {
        Value neg = m.expm1Times(x, op.getAlphaAttr());
        Value isNeg = m.lt(x, m.c(0.0));
        return m.select(isNeg, neg, x);
      });
  addActivation<onnx::SeluOp>(
      patterns, tc, [](onnx::SeluOp op, FloatMath &m, Value x) {
        Value neg = m.expm1Times(x, op.getAlphaAttr());
        Value isPos = m.gt(x, m.c(0.0));
        Value y = m.select(isPos, x, neg);
        return m.mul(m.c(op.getGammaAttr()), y);
      });
  addActivation<onnx::CeluOp>(
      patterns, tc, [](onnx::CeluOp op, FloatMath &m, Value x) {
        Value alpha = m.c(op.getAlphaAttr());
        Value neg = m.mul(alpha, m.sub(m.exp(m.div(x, alpha)), m.c(1.0)));
        return m.add(m.max(m.c(0.0), x), m.min(m.c(0.0), neg));
      });
  addActivation<onnx::LeakyReluOp>(
      patterns, tc, [](onnx::LeakyReluOp op, FloatMath &m, Value x) {
        return m.select(m.lt(x, m.c(0.0)), m.mul(m.c(op.getAlphaAttr()), x), x);
      });
  addActivation<onnx::ThresholdedReluOp>(
      patterns, tc, [](onnx::ThresholdedReluOp op, FloatMath &m, Value x) {
        return m.select(m.gt(x, m.c(op.getAlphaAttr())), x, m.c(0.0));
      });
  add<onnx::ShrinkOp>(patterns, tc,
                      [](onnx::ShrinkOp op, OpBuilder &b, Location l,
                         ValueRange a, Type t) -> Value {
                        // Integers are shrunk in f64 (lambd and bias are
                        // floats) and converted back.
                        bool uns = isUnsignedInt(op.getType());
                        Type ft = isFloat(t) ? t : b.getF64Type();
                        FloatMath m{b, l, ft};
                        Value x = convertScalar(b, l, a[0], ft, uns, false);
                        Value lambd = m.c(op.getLambdAttr());
                        Value bias = m.c(op.getBiasAttr());
                        Value y = m.select(
                            m.lt(x, m.sub(m.c(0.0), lambd)), m.add(x, bias),
                            m.select(m.gt(x, lambd), m.sub(x, bias), m.c(0.0)));
                        return convertScalar(b, l, y, t, false, uns);
                      });
  add<onnx::PReluOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        FloatMath m{b, l, t};
        return m.select(m.lt(a[0], m.c(0.0)), m.mul(a[1], a[0]), a[0]);
      });

  // Integer, bitwise and variadic arithmetic.
  add<onnx::ModOp>(patterns, tc,
                   [](onnx::ModOp op, OpBuilder &b, Location l, ValueRange a,
                      Type) -> Value {
                     return modulo(b, l, a[0], a[1], op.getFmod(),
                                   isUnsignedInt(op.getType()));
                   });
  add<onnx::BitShiftOp>(patterns, tc,
                        [](onnx::BitShiftOp op, OpBuilder &b, Location l,
                           ValueRange a, Type) -> Value {
                          return bitShift(b, l, a[0], a[1],
                                          op.getDirection() == "LEFT");
                        });
  addBitwise<onnx::BitwiseAndOp, arith::AndIOp>(patterns, tc);
  addBitwise<onnx::BitwiseOrOp, arith::OrIOp>(patterns, tc);
  addBitwise<onnx::BitwiseXorOp, arith::XOrIOp>(patterns, tc);
  addBitwise<onnx::XorOp, arith::XOrIOp>(patterns, tc);
  add<onnx::BitwiseNotOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        return b.create<arith::XOrIOp>(l, a[0], constantLike(b, l, t, -1));
      });
  add<onnx::SumOp>(patterns, tc,
                   [](auto, OpBuilder &b, Location l, ValueRange a,
                      Type t) -> Value { return sumOf(b, l, a, t); });
  add<onnx::MeanOp>(
      patterns, tc,
      [](auto, OpBuilder &b, Location l, ValueRange a, Type t) -> Value {
        Value n = constantLike(b, l, t, double(a.size()));
        if (isFloat(t))
          return b.create<arith::DivFOp>(l, sumOf(b, l, a, t), n);
        return b.create<arith::DivSIOp>(l, sumOf(b, l, a, t), n);
      });
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
        return FloatMath{b, l, t}.sigmoid(a[0]);
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
  populateMathFunctionPatterns(tc, patterns);
}
