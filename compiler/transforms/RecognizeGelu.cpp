//===- RecognizeGelu.cpp - decomposed GELU -> onnx.Gelu -------------------===//
//
// Part of Tessera. Recognises the two spellings exporters produce:
//
//   erf:  0.5 * x * (1 + Erf(x / sqrt(2)))      (or x * (1 / sqrt(2)))
//   tanh: 0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
//         with x^3 = Pow(x, 3), x * (x * x) or (x * x) * x   (GPT-2 gelu_new)
//
// The product of x, 0.5 and (1 + ...) may be associated in any order and
// every binary op may take its operands in either order. Constants are
// one-element float tensors within 1e-6 (relative) of their exact values.
// Candidates are the Erf ops and the Tanh ops with a trace of the polynomial
// (a constant factor on the argument, or 1 added to the result: a BERT
// pooler's Tanh of a projection is not one); each becomes onnx.Gelu
// (approximate "none" or "tanh") or, with `report`, is reported with the
// reason.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/MatchUtils.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Patterns.h"

#include "mlir/IR/Matchers.h"

#include <cmath>

namespace tessera {
#define GEN_PASS_DEF_RECOGNIZEGELU
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

constexpr StringLiteral kKind = "gelu recogniser";
constexpr double kTolerance = 1e-6;

/// Whether `v` is a one-element constant within the tolerance of `expected`.
bool isConstant(Value v, double expected) {
  return isScalarNear(v, expected, kTolerance);
}

/// If `op` is a binary `OpTy` of a value and a one-element constant within
/// the tolerance of `c` (last, in canonical order), the value.
template <typename OpTy> Value operandBesideConstant(Operation *op, double c) {
  return tessera::operandBesideConstant<OpTy>(op, c, kTolerance);
}

/// Whether `v` is x^3 (Pow(x, 3), x * (x * x) or (x * x) * x) computed from
/// `x`; collects the ops.
bool isCube(Value v, Value x, SmallVectorImpl<Operation *> &ops) {
  Operation *op = v.getDefiningOp();
  if (auto pow = dyn_cast_or_null<onnx::PowOp>(op)) {
    if (pow.getX() != x || !isConstant(pow.getY(), 3.0))
      return false;
    ops.push_back(op);
    return true;
  }
  auto mul = dyn_cast_or_null<onnx::MulOp>(op);
  if (!mul)
    return false;
  Value sq = otherOperand(mul, x);
  auto inner = sq ? sq.getDefiningOp<onnx::MulOp>() : nullptr;
  if (!inner || inner.getA() != x || inner.getB() != x || !sq.hasOneUse())
    return false;
  ops.push_back(inner);
  ops.push_back(mul);
  return true;
}

struct Match {
  Value x;
  bool tanh = false;
  Value result;
  SmallVector<Operation *> ops; // erased after the rewrite when unused
};

/// Matches the argument of `fn` (Erf or Tanh): returns x and collects ops.
Value matchArgument(Operation *fn, SmallVectorImpl<Operation *> &ops,
                    std::string &why) {
  Value u = fn->getOperand(0);
  Operation *def = u.getDefiningOp();
  if (!u.hasOneUse()) {
    why = "the argument has other uses";
    return {};
  }
  if (isa<onnx::ErfOp>(fn)) {
    Value x = operandBesideConstant<onnx::DivOp>(def, std::sqrt(2.0));
    if (!x)
      x = operandBesideConstant<onnx::MulOp>(def, 1.0 / std::sqrt(2.0));
    if (!x) {
      why = "the argument is not x / sqrt(2) or x * (1 / sqrt(2))";
      return {};
    }
    ops.push_back(def);
    return x;
  }
  // sqrt(2/pi) * (x + 0.044715 * x^3)
  Value inner = operandBesideConstant<onnx::MulOp>(
      def, 0.7978845608028654 /* sqrt(2/pi) */);
  Operation *add = inner ? inner.getDefiningOp() : nullptr;
  if (!isa_and_nonnull<onnx::AddOp>(add) || !inner.hasOneUse()) {
    why = "the argument is not sqrt(2/pi) * (x + 0.044715 * x^3)";
    return {};
  }
  for (int i = 0; i < 2; ++i) {
    Value x = add->getOperand(i);
    Value scaled = add->getOperand(1 - i);
    Operation *mul = scaled.getDefiningOp();
    Value cube = operandBesideConstant<onnx::MulOp>(mul, 0.044715);
    SmallVector<Operation *> cubeOps;
    if (!cube || !scaled.hasOneUse() || !cube.hasOneUse() ||
        !isCube(cube, x, cubeOps))
      continue;
    ops.append(cubeOps);
    ops.append({mul, add, def});
    return x;
  }
  why = "the argument is not sqrt(2/pi) * (x + 0.044715 * x^3)";
  return {};
}

std::optional<Match> match(Operation *fn, std::string &why) {
  auto fail = [&](const Twine &reason) -> std::optional<Match> {
    why = reason.str();
    return std::nullopt;
  };
  Match m;
  m.tanh = isa<onnx::TanhOp>(fn);
  m.x = matchArgument(fn, m.ops, why);
  if (!m.x)
    return std::nullopt;
  auto xType = dyn_cast<RankedTensorType>(m.x.getType());
  if (!xType || !isa<FloatType>(xType.getElementType()))
    return fail("x is not a ranked float tensor");
  m.ops.push_back(fn);
  // t = 1 + fn(...)
  Operation *addOne = singleUser(fn->getResult(0));
  if (operandBesideConstant<onnx::AddOp>(addOne, 1.0) != fn->getResult(0))
    return fail("the result is not (only) added to 1");
  m.ops.push_back(addOne);
  Value t = addOne->getResult(0);
  // The product of x, t and 0.5 in any association.
  Operation *m1 = singleUser(t);
  Value a = isa_and_nonnull<onnx::MulOp>(m1) ? otherOperand(m1, t) : Value();
  if (!a)
    return fail("1 + the result is not (only) multiplied");
  m.ops.push_back(m1);
  Value v1 = m1->getResult(0);
  if (a == m.x || isConstant(a, 0.5)) {
    // (x * t) * 0.5 or (t * 0.5) * x
    Operation *m2 = singleUser(v1);
    Value b = isa_and_nonnull<onnx::MulOp>(m2) ? otherOperand(m2, v1) : Value();
    if (!b || !(a == m.x ? isConstant(b, 0.5) : b == m.x))
      return fail("the product is not 0.5 * x * (1 + ...)");
    m.ops.push_back(m2);
    m.result = m2->getResult(0);
  } else if (Value xa =
                 operandBesideConstant<onnx::MulOp>(a.getDefiningOp(), 0.5);
             xa == m.x && a.hasOneUse()) {
    // (x * 0.5) * t
    m.ops.insert(m.ops.begin(), a.getDefiningOp());
    m.result = v1;
  } else {
    return fail("the product is not 0.5 * x * (1 + ...)");
  }
  if (m.result.getType() != m.x.getType())
    return fail("the constants broadcast x to another type");
  return m;
}

Operation *rewrite(Match &m, PatternRewriter &b) {
  b.setInsertionPoint(m.result.getDefiningOp());
  SmallVector<Location> locs;
  for (Operation *op : m.ops)
    locs.push_back(op->getLoc());
  auto gelu = b.create<onnx::GeluOp>(b.getFusedLoc(locs), m.x.getType(), m.x,
                                     StringRef(m.tanh ? "tanh" : "none"));
  b.replaceAllUsesWith(m.result, gelu.getY());
  eraseDeadONNXOps(b, m.ops);
  return gelu;
}

/// Erf or Tanh as the candidate of one of the two spellings.
template <typename OpTy>
struct RecognizeGelu : FusionPattern<OpTy, RecognizeGelu<OpTy>> {
  RecognizeGelu(MLIRContext *ctx, bool report)
      : FusionPattern<OpTy, RecognizeGelu<OpTy>>(ctx, kKind, report) {}

  std::optional<Match> matchCandidate(OpTy fn, std::string &why) const {
    return match(fn, why);
  }
  Operation *rewriteMatch(OpTy, Match &m, PatternRewriter &rewriter) const {
    return rewrite(m, rewriter);
  }
};

/// Whether a Tanh may be GELU's: its argument is scaled by a constant
/// (sqrt(2/pi), possibly a near miss), or 1 is added to its result.
bool mayBeGeluTanh(onnx::TanhOp tanh) {
  auto scaled = [](Operation *op) {
    return isa_and_nonnull<onnx::MulOp>(op) &&
           scalarConstant(op->getOperand(1)).has_value();
  };
  Operation *user = singleUser(tanh.getY());
  return scaled(tanh.getX().getDefiningOp()) ||
         (isa_and_nonnull<onnx::AddOp>(user) &&
          scalarConstant(user->getOperand(1)).has_value());
}

struct RecognizeGeluPass : impl::RecognizeGeluBase<RecognizeGeluPass> {
  using RecognizeGeluBase::RecognizeGeluBase;
  void runOnOperation() override {
    SmallVector<Operation *> candidates;
    getOperation().walk([&](Operation *op) {
      auto tanh = dyn_cast<onnx::TanhOp>(op);
      if (isa<onnx::ErfOp>(op) || (tanh && mayBeGeluTanh(tanh)))
        candidates.push_back(op);
    });
    applyToCandidates(populateRecognizeGeluPatterns, candidates, kKind, report);
  }
};

} // namespace

void populateRecognizeGeluPatterns(RewritePatternSet &patterns, bool report) {
  patterns.add<RecognizeGelu<onnx::ErfOp>, RecognizeGelu<onnx::TanhOp>>(
      patterns.getContext(), report);
}

} // namespace tessera
