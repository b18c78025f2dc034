//===- RecognizeRMSNorm.cpp - decomposed RMSNorm -> onnx op ---------------===//
//
// Part of Tessera. LLaMA, Mistral, Qwen and T5 exports spell RMSNorm out as
//
//   ms = ReduceMean(Pow(x, 2) | Mul(x, x), [-1], keepdims=1)
//   r = Sqrt(Add(ms, eps))
//   n = Div(x, r) | Mul(x, Reciprocal(r)) | Mul(x, Div(1, r))
//   y = Mul(n, w)                              (w a [D] vector, optional)
//
// with x optionally Cast to f32 first and n Cast back (HF's
// `hidden_states.to(torch.float32)` ... `.to(input_dtype)`), the weight Mul
// in either operand order (before the Cast back or after it). This pass
// turns that into one onnx.RMSNormalization (axis -1, opset-23 semantics).
// Candidates: the ReduceMeans of a square; each is rewritten or, with
// `report`, reported with the reason (a mean over another axis than the
// last is the usual near miss).
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/MatchUtils.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Patterns.h"
#include "compiler/transforms/RewriteUtils.h"

namespace tessera {
#define GEN_PASS_DEF_RECOGNIZERMSNORM
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

constexpr StringLiteral kKind = "rms_norm recogniser";

/// The value `sq` squares (Pow(x, 2) or Mul(x, x)), or null.
Value squared(Value sq) {
  Operation *def = sq.getDefiningOp();
  if (auto pow = dyn_cast_or_null<onnx::PowOp>(def)) {
    std::optional<double> e = scalarConstant(pow.getY());
    return e && *e == 2.0 ? pow.getX() : Value();
  }
  if (auto mul = dyn_cast_or_null<onnx::MulOp>(def))
    return mul.getA() == mul.getB() ? mul.getA() : Value();
  return {};
}

/// The axes of a ReduceMean, normalised, if constant.
std::optional<SmallVector<int64_t>> meanAxes(onnx::ReduceMeanOp op,
                                             int64_t rank) {
  SmallVector<int64_t> axes;
  if (!op.getAxes() || !onnx::getConstantInts(op.getAxes(), axes))
    return std::nullopt;
  for (int64_t &a : axes)
    a = onnx::normalizeAxis(a, rank);
  return axes;
}

/// Whether `v` is a rank-1 tensor of `d` elements of type `elt`.
bool isWeightVector(Value v, int64_t d, Type elt) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getRank() == 1 && !ShapedType::isDynamic(d) &&
         type.getDimSize(0) == d && type.getElementType() == elt;
}

struct Match {
  Value input;  // the RMSNormalization's X
  Value weight; // null if none
  double epsilon = 0;
  Value result;                 // the value the RMSNormalization replaces
  SmallVector<Operation *> ops; // erased after the rewrite when dead
};

/// If `n` is only multiplied by a [D] vector of type `elt`, absorbs it.
void absorbWeight(Match &m, Value &cur, int64_t d, Type elt) {
  auto mul = dyn_cast_or_null<onnx::MulOp>(singleUser(cur));
  if (!mul)
    return;
  Value w = otherOperand(mul, cur);
  if (!w || !isWeightVector(w, d, elt) || mul.getC().getType() != cur.getType())
    return;
  m.weight = w;
  m.ops.push_back(mul);
  cur = mul.getC();
}

struct RecognizeRMSNorm : FusionPattern<onnx::ReduceMeanOp, RecognizeRMSNorm> {
  RecognizeRMSNorm(MLIRContext *ctx, bool report)
      : FusionPattern(ctx, kKind, report) {}

  std::optional<Match> matchCandidate(onnx::ReduceMeanOp mean,
                                      std::string &why) const;
  Operation *rewriteMatch(onnx::ReduceMeanOp mean, Match &m,
                          PatternRewriter &rewriter) const;
};

/// The normalisation of `x` by the deviation `dev` (the only user of which
/// it must be): Div(x, dev), Mul(x, Reciprocal(dev)) or Mul(x, Div(1, dev)).
/// Returns the ops (the reciprocal, then the normalisation) or nothing.
std::optional<SmallVector<Operation *>> normalisation(Value x, Value dev) {
  Operation *user = singleUser(dev);
  if (auto div = dyn_cast_or_null<onnx::DivOp>(user)) {
    if (div.getA() == x && div.getB() == dev)
      return SmallVector<Operation *>{div};
    if (!isScalarNear(div.getA(), 1.0, 0) || div.getB() != dev)
      return std::nullopt;
  } else if (!isa_and_nonnull<onnx::ReciprocalOp>(user)) {
    return std::nullopt;
  }
  Value inv = user->getResult(0);
  auto mul = dyn_cast_or_null<onnx::MulOp>(singleUser(inv));
  if (!mul || otherOperand(mul, inv) != x)
    return std::nullopt;
  return SmallVector<Operation *>{user, mul};
}

std::optional<Match>
RecognizeRMSNorm::matchCandidate(onnx::ReduceMeanOp mean,
                                 std::string &why) const {
  auto fail = [&](const Twine &reason) -> std::optional<Match> {
    why = reason.str();
    return std::nullopt;
  };
  Value sq = mean.getData();
  Value x = squared(sq);
  auto xType = dyn_cast<RankedTensorType>(x.getType());
  if (!xType || xType.getRank() < 1)
    return fail("the input is not a ranked tensor");
  Type elt = xType.getElementType();
  if (!isa<FloatType>(elt))
    return fail("the input is not a float tensor");
  int64_t rank = xType.getRank();
  std::optional<SmallVector<int64_t>> axes = meanAxes(mean, rank);
  if (!axes)
    return fail("the mean's axes are not constant");
  if (*axes != SmallVector<int64_t>{rank - 1})
    return fail("the mean is not over the trailing axis (RMSNormalization "
                "here normalises the last axis only)");
  if (mean.getKeepdims() != 1)
    return fail("the mean does not keep the reduced axis");
  if (sq.getType() != x.getType() || !sq.hasOneUse())
    return fail("the square has other uses or another type");
  Operation *addEps = singleUser(mean.getReduced());
  if (!isa_and_nonnull<onnx::AddOp>(addEps))
    return fail("the mean square is not (only) added to epsilon");
  std::optional<double> eps = scalarConstant(addEps->getOperand(1));
  if (!eps || *eps < 0)
    return fail("epsilon is not a non-negative scalar constant");
  if (addEps->getResult(0).getType() != mean.getReduced().getType())
    return fail("epsilon broadcasts the mean square");
  auto sqrt = dyn_cast_or_null<onnx::SqrtOp>(singleUser(addEps->getResult(0)));
  if (!sqrt)
    return fail("the mean square plus epsilon is not (only) square-rooted");
  std::optional<SmallVector<Operation *>> norm =
      normalisation(x, sqrt.getY());
  if (!norm)
    return fail("the input is not divided by the root mean square (Div, or "
                "Mul by its Reciprocal)");
  Value n = norm->back()->getResult(0);
  if (n.getType() != x.getType())
    return fail("the normalised value has another type than the input");

  Match m;
  m.epsilon = *eps;
  m.input = x;
  m.ops = {sq.getDefiningOp(), mean, addEps, sqrt};
  m.ops.append(*norm);
  Value cur = n;
  int64_t d = xType.getDimSize(rank - 1);
  absorbWeight(m, cur, d, elt);
  // A Cast of the normalised value back to the type x was cast from (kept,
  // with x's Cast, when a weight was applied in the wider type).
  auto in = x.getDefiningOp<onnx::CastOp>();
  auto back = dyn_cast_or_null<onnx::CastOp>(singleUser(cur));
  Type narrow = back ? cast<TensorType>(back.getOutput().getType())
                           .getElementType()
                     : Type();
  if (in && back && in.getInput().getType() == back.getOutput().getType() &&
      isa<FloatType>(narrow) && (!m.weight || narrow == elt) &&
      llvm::all_of(x.getUsers(), [&](Operation *u) {
        return llvm::is_contained(m.ops, u);
      })) {
    m.input = in.getInput();
    m.ops.insert(m.ops.begin(), in);
    m.ops.push_back(back);
    cur = back.getOutput();
    if (!m.weight)
      absorbWeight(m, cur, d, narrow);
  }
  if (!m.weight && ShapedType::isDynamic(d))
    return fail("no weight and a dynamic last dimension (no ones to scale by)");
  m.result = cur;
  return m;
}

Operation *RecognizeRMSNorm::rewriteMatch(onnx::ReduceMeanOp, Match &m,
                                          PatternRewriter &b) const {
  b.setInsertionPoint(m.result.getDefiningOp());
  Location loc = fusedLocOf(b, m.ops);
  auto inType = cast<RankedTensorType>(m.input.getType());
  Type elt = inType.getElementType();
  Value weight = m.weight;
  if (!weight)
    weight = onesVector(b, loc, inType.getDimSize(inType.getRank() - 1), elt);
  auto si64 = b.getIntegerType(64, true);
  auto rms = b.create<onnx::RMSNormalizationOp>(
      loc, m.result.getType(), m.input, weight, b.getIntegerAttr(si64, -1),
      b.getF32FloatAttr(static_cast<float>(m.epsilon)),
      b.getIntegerAttr(si64, 1));
  b.replaceAllUsesWith(m.result, rms.getY());
  eraseDeadONNXOps(b, m.ops);
  return rms;
}

struct RecognizeRMSNormPass
    : impl::RecognizeRMSNormBase<RecognizeRMSNormPass> {
  using RecognizeRMSNormBase::RecognizeRMSNormBase;
  void runOnOperation() override {
    // Candidates: means of a square whose base is also divided by (or
    // multiplied with) something, i.e. not a variance nobody normalises by.
    SmallVector<Operation *> candidates;
    getOperation().walk([&](onnx::ReduceMeanOp mean) {
      Value x = squared(mean.getData());
      if (x && llvm::any_of(x.getUsers(), [](Operation *u) {
            return isa<onnx::DivOp, onnx::MulOp>(u) &&
                   u->getOperand(0) != u->getOperand(1);
          }))
        candidates.push_back(mean);
    });
    applyToCandidates(populateRecognizeRMSNormPatterns, candidates, kKind,
                      report);
  }
};

} // namespace

void populateRecognizeRMSNormPatterns(RewritePatternSet &patterns,
                                      bool report) {
  patterns.add<RecognizeRMSNorm>(patterns.getContext(), report);
}

} // namespace tessera
