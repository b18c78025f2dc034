//===- FloatMath.h - scalar float arithmetic for generic bodies -*- C++ -*-===//
//
// Part of Tessera. Builders of the scalar bodies of elementwise ops and of
// other lowerings that apply activations (recurrent cells).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_LOWERING_FLOATMATH_H
#define TESSERA_COMPILER_LOWERING_FLOATMATH_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"

namespace tessera::lowering {

/// A constant of scalar type `t` (float or integer) holding `v`.
inline mlir::Value constantLike(mlir::OpBuilder &b, mlir::Location loc,
                                mlir::Type t, double v) {
  if (mlir::isa<mlir::FloatType>(t))
    return b.create<mlir::arith::ConstantOp>(loc, b.getFloatAttr(t, v));
  return b.create<mlir::arith::ConstantOp>(loc,
                                           b.getIntegerAttr(t, int64_t(v)));
}

/// Scalar float arithmetic in one element type, so that activation
/// bodies read like their ONNX definitions (elementwise activations, the
/// gates of recurrent cells).
struct FloatMath {
  mlir::OpBuilder &b;
  mlir::Location l;
  mlir::Type t;
  mlir::Value c(double v) { return constantLike(b, l, t, v); }
  mlir::Value c(mlir::FloatAttr v) { return c(v.getValueAsDouble()); }
  mlir::Value add(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::AddFOp>(l, x, y);
  }
  mlir::Value sub(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::SubFOp>(l, x, y);
  }
  mlir::Value mul(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::MulFOp>(l, x, y);
  }
  mlir::Value div(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::DivFOp>(l, x, y);
  }
  mlir::Value max(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::MaximumFOp>(l, x, y);
  }
  mlir::Value min(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::MinimumFOp>(l, x, y);
  }
  mlir::Value exp(mlir::Value x) { return b.create<mlir::math::ExpOp>(l, x); }
  mlir::Value lt(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::CmpFOp>(l, mlir::arith::CmpFPredicate::OLT, x,
                                         y);
  }
  mlir::Value gt(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::CmpFOp>(l, mlir::arith::CmpFPredicate::OGT, x,
                                         y);
  }
  mlir::Value select(mlir::Value c, mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::SelectOp>(l, c, x, y);
  }
  /// min(1, max(0, x)).
  mlir::Value saturate(mlir::Value x) { return min(c(1.0), max(c(0.0), x)); }
  /// log(1 + e^x), as max(x, 0) + log1p(e^-|x|) so that it cannot overflow.
  // Nested calls evaluate their arguments in an order C++ leaves open (GCC
  // and clang differ), so the bodies below name each step: the IR is the
  // same whichever compiler built Tessera.
  mlir::Value softplus(mlir::Value x) {
    mlir::Value abs = b.create<mlir::math::AbsFOp>(l, x);
    mlir::Value e = exp(b.create<mlir::arith::NegFOp>(l, abs));
    mlir::Value log = b.create<mlir::math::Log1pOp>(l, e);
    mlir::Value positive = max(x, c(0.0));
    return add(positive, log);
  }
  /// alpha * (e^x - 1), the negative side of Elu and Selu.
  mlir::Value expm1Times(mlir::Value x, mlir::FloatAttr alpha) {
    mlir::Value ex = exp(x);
    mlir::Value em1 = sub(ex, c(1.0));
    mlir::Value a = c(alpha);
    return mul(a, em1);
  }
  /// 1 / (1 + e^-x).
  mlir::Value sigmoid(mlir::Value x) {
    mlir::Value one = c(1.0);
    mlir::Value e = exp(b.create<mlir::arith::NegFOp>(l, x));
    return div(one, add(one, e));
  }
  mlir::Value tanh(mlir::Value x) { return b.create<mlir::math::TanhOp>(l, x); }
};

} // namespace tessera::lowering

#endif // TESSERA_COMPILER_LOWERING_FLOATMATH_H
