//===- ApproximateMath.cpp - math ops as polynomials ----------------------===//
//
// Part of Tessera. Math ops without a native instruction become arithmetic
// that vectorises (MLIR's polynomial approximations, and Tessera's own for
// f32 erf); what remains becomes libm calls.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Passes.h"

#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tessera {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "compiler/lowering/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

/// f32 erf as x P(x^2) / Q(x^2) on x clamped to [-kErfClamp, kErfClamp]
/// (beyond it erf rounds to +-1 in f32), the result clamped to [-1, 1].
/// A rational fit (weighted least squares on [0, kErfClamp]) with a maximum
/// error of 3.4e-7 evaluated in f32 (about 6 ulp of 1.0; 2.4e-7 relative
/// below 0.5). It is about a third of the instructions of MLIR's piecewise
/// approximation (one division, no blends of coefficients), which matters
/// in GELU: the epilogue of every Transformer's first FFN GEMM. NaN stays
/// NaN: the clamps are ordered comparisons.
constexpr double kErfClamp = 3.925;
constexpr double kErfP[] = {1.12837902,    0.192970828,    0.0530841233,
                            0.00387625492, 0.000287490781, 2.03088398e-06};
constexpr double kErfQ[] = {1.0,          0.504347582,   0.115166746,
                            0.0151882085, 0.00118973317, 3.80315313e-05};

struct RationalErf : OpRewritePattern<math::ErfOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(math::ErfOp op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isF32())
      return failure();
    Location loc = op.getLoc();
    auto constant = [&](double v) -> Value {
      Attribute value = rewriter.getF32FloatAttr(static_cast<float>(v));
      if (auto vector = dyn_cast<VectorType>(type))
        value = SplatElementsAttr::get(vector, value);
      return rewriter.create<arith::ConstantOp>(loc, cast<TypedAttr>(value));
    };
    // x past `bound` (in the direction of `pred`) becomes `bound`.
    auto clampTo = [&](Value x, double bound, arith::CmpFPredicate pred) {
      Value c = constant(bound);
      Value past = rewriter.create<arith::CmpFOp>(loc, pred, x, c);
      return rewriter.create<arith::SelectOp>(loc, past, c, x).getResult();
    };
    auto clamp = [&](Value x, double bound) {
      Value upper = clampTo(x, bound, arith::CmpFPredicate::OGT);
      return clampTo(upper, -bound, arith::CmpFPredicate::OLT);
    };
    auto horner = [&](ArrayRef<double> coefficients, Value t) {
      Value acc = constant(coefficients.back());
      for (double c : llvm::reverse(coefficients.drop_back()))
        acc = rewriter.create<math::FmaOp>(loc, acc, t, constant(c));
      return acc;
    };
    Value x = clamp(op.getOperand(), kErfClamp);
    Value t = rewriter.create<arith::MulFOp>(loc, x, x);
    Value p = rewriter.create<arith::MulFOp>(loc, x, horner(kErfP, t));
    Value ratio =
        rewriter.create<arith::DivFOp>(loc, p, horner(kErfQ, t)).getResult();
    rewriter.replaceOp(op, clamp(ratio, 1.0));
    return success();
  }
};

struct ApproximateMathPass : impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // tan, sinh, cosh and the inverse hyperbolics in terms of sin/cos, exp,
    // log and sqrt, which the approximations (or LLVM) then take.
    populateExpandTanPattern(patterns);
    populateExpandSinhPattern(patterns);
    populateExpandCoshPattern(patterns);
    populateExpandAsinhPattern(patterns);
    populateExpandAcoshPattern(patterns);
    populateExpandAtanhPattern(patterns);
    // Ahead of MLIR's erf approximation.
    patterns.add<RationalErf>(&getContext(), /*benefit=*/2);
    MathPolynomialApproximationOptions options;
    options.enableAvx2 = false;
    populateMathPolynomialApproximationPatterns(patterns, options);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();

    // What is left that LLVM has no intrinsic for (f64 atan, asin, acos,
    // erf, tanh) becomes libm calls (vectors element by element).
    RewritePatternSet libm(&getContext());
    populateMathToLibmConversionPatterns(libm);
    ConversionTarget target(getContext());
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    target.addIllegalOp<math::AtanOp, math::Atan2Op, math::AsinOp, math::AcosOp,
                        math::ErfOp, math::TanhOp>();
    if (failed(applyPartialConversion(getOperation(), target, std::move(libm))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace tessera
