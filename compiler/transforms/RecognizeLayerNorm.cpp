//===- RecognizeLayerNorm.cpp - decomposed LayerNorm -> onnx op ----------===//
//
// Part of Tessera. Exporters below opset 17 (and some above) spell LayerNorm
// out as
//
//   mean = ReduceMean(x, [-1], keepdims=1)     d = Sub(x, mean)
//   var = ReduceMean(Pow(d, 2) | Mul(d, d), [-1], keepdims=1)
//   n = Div(d, Sqrt(Add(var, eps)))  |  Mul(d, Reciprocal(Sqrt(...)))
//   y = Add(Mul(n, gamma), beta)
//
// This pass turns that into one onnx.LayerNormalization (axis -1). The
// candidates are the ReduceMeans whose result is subtracted from their own
// input; each is either rewritten or, with `report`, reported with the reason.
// Optional Casts: x = Cast(x0) to a wider float and n cast back to x0's type
// are absorbed (LayerNormalization keeps its statistics in f32).
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/MatchUtils.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Patterns.h"
#include "compiler/transforms/RewriteUtils.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace tessera {
#define GEN_PASS_DEF_RECOGNIZELAYERNORM
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

constexpr StringLiteral kKind = "layer_norm recogniser";

/// Whether `op` reduces over exactly the last axis of its input and keeps it.
bool isTrailingMean(onnx::ReduceMeanOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getData().getType());
  if (!type || type.getRank() < 1 || op.getKeepdims() != 1 || !op.getAxes())
    return false;
  SmallVector<int64_t> axes;
  if (!onnx::getConstantInts(op.getAxes(), axes) || axes.size() != 1)
    return false;
  return onnx::normalizeAxis(axes[0], type.getRank()) == type.getRank() - 1;
}

/// Whether `v` is a rank-1 float tensor of `d` elements of type `elt`.
bool isRowVector(Value v, int64_t d, Type elt) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getRank() == 1 && type.getDimSize(0) == d &&
         !ShapedType::isDynamic(d) && type.getElementType() == elt;
}

struct Match {
  Value input;       // the LayerNormalization's X
  Value gamma, beta; // null if not absorbed
  double epsilon = 0;
  Value result;   // the value the LayerNormalization replaces
  Value castBack; // n cast to another type when kept (not absorbed)
  SmallVector<Operation *> ops; // in program order, erased after the rewrite
};

struct RecognizeLayerNorm
    : FusionPattern<onnx::ReduceMeanOp, RecognizeLayerNorm> {
  RecognizeLayerNorm(MLIRContext *ctx, bool report)
      : FusionPattern(ctx, kKind, report) {}

  std::optional<Match> matchCandidate(onnx::ReduceMeanOp mean,
                                      std::string &why) const;
  Operation *rewriteMatch(onnx::ReduceMeanOp mean, Match &m,
                          PatternRewriter &rewriter) const;
};

/// Matches the decomposition starting at `mean`; on failure returns the
/// reason in `why`.
std::optional<Match>
RecognizeLayerNorm::matchCandidate(onnx::ReduceMeanOp mean,
                                   std::string &why) const {
  Value x = mean.getData();
  auto xType = cast<RankedTensorType>(x.getType());
  Type elt = xType.getElementType();
  auto fail = [&](const Twine &reason) -> std::optional<Match> {
    why = reason.str();
    return std::nullopt;
  };
  if (!isa<FloatType>(elt))
    return fail("the input is not a float tensor");
  if (!isTrailingMean(mean))
    return fail("the mean is not over the trailing axis with keepdims");
  if (!mean.getReduced().hasOneUse())
    return fail("the mean has other uses");
  auto sub = cast<onnx::SubOp>(*mean.getReduced().getUsers().begin());
  if (sub.getA() != x)
    return fail("the mean is not subtracted from its input");
  Value d = sub.getC();
  if (d.getType() != x.getType())
    return fail("the centred value has another type than the input");

  // The users of the centred value: its square and the normalisation.
  Operation *square = nullptr, *norm = nullptr;
  for (Operation *user : llvm::make_early_inc_range(d.getUsers())) {
    if (user == square || user == norm)
      continue;
    if (auto pow = dyn_cast<onnx::PowOp>(user)) {
      std::optional<double> e = scalarConstant(pow.getY());
      if (!square && pow.getX() == d && e && *e == 2.0) {
        square = user;
        continue;
      }
    }
    if (auto mul = dyn_cast<onnx::MulOp>(user)) {
      if (!square && mul.getA() == d && mul.getB() == d) {
        square = user;
        continue;
      }
      Value r = otherOperand(user, d);
      if (!norm && r && r.getDefiningOp<onnx::ReciprocalOp>()) {
        norm = user;
        continue;
      }
    }
    if (auto div = dyn_cast<onnx::DivOp>(user)) {
      if (!norm && div.getA() == d) {
        norm = user;
        continue;
      }
    }
    return fail("the centred value has other uses");
  }
  if (!square)
    return fail("the centred value is not squared (Pow 2 or Mul by itself)");
  if (!norm)
    return fail("the centred value is not divided by the deviation");
  Value sq = square->getResult(0);
  if (sq.getType() != x.getType())
    return fail("the square has another type than the input");
  auto var = dyn_cast_or_null<onnx::ReduceMeanOp>(singleUser(sq));
  if (!var || var.getData() != sq)
    return fail("the square is not (only) averaged");
  if (!isTrailingMean(var))
    return fail("the variance is not over the trailing axis with keepdims");
  Operation *addEps = singleUser(var.getReduced());
  if (!addEps || !isa<onnx::AddOp>(addEps))
    return fail("the variance is not (only) added to epsilon");
  std::optional<double> eps =
      scalarConstant(addEps->getOperand(1)); // canonical: constant last
  if (!eps || *eps < 0)
    return fail("epsilon is not a non-negative scalar constant");
  if (addEps->getResult(0).getType() != var.getReduced().getType())
    return fail("epsilon broadcasts the variance");
  auto sqrt = dyn_cast_or_null<onnx::SqrtOp>(singleUser(addEps->getResult(0)));
  if (!sqrt)
    return fail("the variance plus epsilon is not (only) square-rooted");
  Value dev = sqrt.getY();
  if (!dev.hasOneUse())
    return fail("the deviation has other uses");
  Operation *recip = nullptr;
  if (isa<onnx::DivOp>(norm)) {
    if (norm->getOperand(1) != dev)
      return fail("the centred value is not divided by the deviation");
  } else {
    recip = otherOperand(norm, d).getDefiningOp();
    if (recip->getOperand(0) != dev || !recip->getResult(0).hasOneUse())
      return fail("the centred value is not divided by the deviation");
  }
  Value n = norm->getResult(0);
  if (n.getType() != x.getType())
    return fail("the normalised value has another type than the input");

  Match m;
  m.epsilon = *eps;
  m.input = x;
  m.ops = {mean, sub, square, var, addEps, sqrt};
  if (recip)
    m.ops.push_back(recip);
  m.ops.push_back(norm);
  Value cur = n;
  int64_t dim = xType.getDimSize(xType.getRank() - 1);

  // A Cast of the normalised value back to the type x was cast from.
  if (auto back = dyn_cast_or_null<onnx::CastOp>(singleUser(n))) {
    auto in = x.getDefiningOp<onnx::CastOp>();
    auto backType = cast<TensorType>(back.getOutput().getType());
    bool absorb = in && in.getInput().getType() == backType &&
                  isa<FloatType>(backType.getElementType()) &&
                  llvm::all_of(x.getUsers(), [&](Operation *u) {
                    return u == mean || u == sub;
                  });
    if (!absorb) {
      // Normalise in x's type, keep the Cast (and gamma/beta after it).
      m.result = n;
      return m;
    }
    m.input = in.getInput();
    m.ops.insert(m.ops.begin(), in);
    m.ops.push_back(back);
    cur = back.getOutput();
    elt = backType.getElementType();
  }
  // gamma, then beta, each a [D] vector of the element type.
  if (auto mul = dyn_cast_or_null<onnx::MulOp>(singleUser(cur))) {
    Value g = otherOperand(mul, cur);
    if (isRowVector(g, dim, elt) && mul.getC().getType() == cur.getType()) {
      m.gamma = g;
      m.ops.push_back(mul);
      cur = mul.getC();
    }
  }
  if (auto add = dyn_cast_or_null<onnx::AddOp>(singleUser(cur))) {
    Value b = otherOperand(add, cur);
    if (isRowVector(b, dim, elt) && add.getC().getType() == cur.getType()) {
      m.beta = b;
      m.ops.push_back(add);
      cur = add.getC();
    }
  }
  if (!m.gamma && ShapedType::isDynamic(dim))
    return fail("no gamma and a dynamic last dimension (no ones to scale by)");
  m.result = cur;
  return m;
}

Operation *RecognizeLayerNorm::rewriteMatch(onnx::ReduceMeanOp, Match &m,
                                            PatternRewriter &b) const {
  b.setInsertionPoint(m.ops.back());
  Location loc = fusedLocOf(b, m.ops);
  auto inType = cast<RankedTensorType>(m.input.getType());
  Type elt = inType.getElementType();
  Value gamma = m.gamma;
  if (!gamma)
    gamma = onesVector(b, loc, inType.getDimSize(inType.getRank() - 1), elt);
  auto resultType = RankedTensorType::get(
      cast<RankedTensorType>(m.result.getType()).getShape(), elt);
  auto ln = b.create<onnx::LayerNormalizationOp>(
      loc, resultType, TypeRange{}, m.input, gamma, m.beta,
      b.getIntegerAttr(b.getIntegerType(64, true), -1),
      b.getF32FloatAttr(static_cast<float>(m.epsilon)),
      b.getIntegerAttr(b.getIntegerType(64, true), 1));
  b.replaceAllUsesWith(m.result, ln.getY());
  eraseDeadONNXOps(b, m.ops);
  return ln;
}

struct RecognizeLayerNormPass
    : impl::RecognizeLayerNormBase<RecognizeLayerNormPass> {
  using RecognizeLayerNormBase::RecognizeLayerNormBase;
  void runOnOperation() override {
    // Candidates: means subtracted from their own input.
    SmallVector<Operation *> candidates;
    getOperation().walk([&](onnx::ReduceMeanOp mean) {
      if (!isa<RankedTensorType>(mean.getData().getType()))
        return;
      for (Operation *user : mean.getReduced().getUsers())
        if (auto sub = dyn_cast<onnx::SubOp>(user))
          if (sub.getA() == mean.getData() && sub.getB() == mean.getReduced()) {
            candidates.push_back(mean);
            return;
          }
    });
    applyToCandidates(populateRecognizeLayerNormPatterns, candidates, kKind,
                      report);
  }
};

} // namespace

void populateRecognizeLayerNormPatterns(RewritePatternSet &patterns,
                                        bool report) {
  patterns.add<RecognizeLayerNorm>(patterns.getContext(), report);
}

} // namespace tessera
