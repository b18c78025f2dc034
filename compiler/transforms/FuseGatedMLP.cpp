//===- FuseGatedMLP.cpp - SwiGLU/GeGLU feed-forward -> gated GEMM ---------===//
//
// Part of Tessera. The gated feed-forward of LLaMA-style blocks,
//
//   Mul(act(MatMul(x, W1)), MatMul(x, W3))       (either operand order)
//   Mul(act(h[..., :N]), h[..., N:]),  h = MatMul(x, W13)   (Slice or Split)
//
// with act SiLU (Mul(g, Sigmoid(g)), either order) or GELU (onnx.Gelu, as
// tessera-recognize-gelu leaves it), becomes one tessera.matmul with the
// gated activation `swiglu`, `geglu_erf` or `geglu_tanh` and the weights
// [W1 | W3] side by side (a packed W13 whose second half is the gate is
// reordered). Its kernel computes the gate's and the value's products in one
// register tile and applies act(a) * b before storing (FusedMatMul.cpp,
// tessera-vectorize-matmul). Candidates: every Mul
// of an activation; each is fused or reported with the reason (the gate and
// the value the same half, different inputs, weights that are not
// constants).
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/MatchUtils.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Patterns.h"
#include "compiler/transforms/RewriteUtils.h"

#include "mlir/IR/Matchers.h"

namespace tessera {
#define GEN_PASS_DEF_FUSEGATEDMLP
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

constexpr StringLiteral kKind = "gated mlp (tessera.matmul)";

/// An activation of `g`: SiLU or GELU, with its ops.
struct Activation {
  Value g;
  StringRef name; // the gated activation: swiglu, geglu_erf, geglu_tanh
  SmallVector<Operation *> ops;
};

std::optional<Activation> activationOf(Value v) {
  Operation *def = v.getDefiningOp();
  if (auto gelu = dyn_cast_or_null<onnx::GeluOp>(def)) {
    StringRef approx = gelu.getApproximate();
    if (approx != "none" && approx != "tanh")
      return std::nullopt;
    return Activation{gelu.getX(), approx == "none" ? "geglu_erf" : "geglu_tanh",
                      {def}};
  }
  auto mul = dyn_cast_or_null<onnx::MulOp>(def);
  if (!mul)
    return std::nullopt;
  for (int i = 0; i < 2; ++i) {
    auto sig = mul->getOperand(i).getDefiningOp<onnx::SigmoidOp>();
    if (sig && sig.getX() == mul->getOperand(1 - i) && sig->hasOneUse())
      return Activation{sig.getX(), "swiglu", {def, sig}};
  }
  return std::nullopt;
}

/// A projection: columns [begin, end) of MatMul(x, W) with a constant
/// [K, N] weight, possibly a Slice/Split part of it.
struct Projection {
  onnx::MatMulOp mm;
  int64_t begin = 0, end = 0;
  Operation *part = nullptr; // the Slice or Split, if any
};

std::optional<Projection> projectionOf(Value v) {
  Projection p;
  if ((p.mm = v.getDefiningOp<onnx::MatMulOp>())) {
    auto w = dyn_cast<RankedTensorType>(p.mm.getB().getType());
    if (!w || w.getRank() != 2 || !w.hasStaticShape())
      return std::nullopt;
    p.end = w.getDimSize(1);
    return p;
  }
  Operation *def = v.getDefiningOp();
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!def || !type || type.isDynamicDim(type.getRank() - 1) ||
      def->getNumOperands() < 1)
    return std::nullopt;
  p.mm = def->getOperand(0).getDefiningOp<onnx::MatMulOp>();
  if (!p.mm || !projectionOf(p.mm.getY()))
    return std::nullopt;
  int64_t rank = type.getRank(), n = type.getDimSize(rank - 1);
  if (auto split = dyn_cast<onnx::SplitOp>(def)) {
    if (onnx::normalizeAxis(split.getAxis(), rank) != rank - 1)
      return std::nullopt;
    for (Value r : split.getResults()) {
      auto t = dyn_cast<RankedTensorType>(r.getType());
      if (!t || t.isDynamicDim(rank - 1))
        return std::nullopt;
      if (r == v)
        break;
      p.begin += t.getDimSize(rank - 1);
    }
  } else if (auto slice = dyn_cast<onnx::SliceOp>(def)) {
    SmallVector<int64_t> starts, axes, steps;
    if (!onnx::getConstantInts(slice.getStarts(), starts) ||
        starts.size() != 1 ||
        (slice.getAxes() && !onnx::getConstantInts(slice.getAxes(), axes)) ||
        (slice.getSteps() && !onnx::getConstantInts(slice.getSteps(), steps)))
      return std::nullopt;
    onnx::fillSliceDefaults(1, axes, steps);
    auto in = cast<RankedTensorType>(slice.getData().getType());
    if (onnx::normalizeAxis(axes[0], rank) != rank - 1 || steps[0] != 1)
      return std::nullopt;
    p.begin = onnx::sliceIndex(starts[0], in.getDimSize(rank - 1), 1);
  } else {
    return std::nullopt;
  }
  p.end = p.begin + n;
  p.part = def;
  return p;
}

struct Match {
  Value x;
  ConstTensor weights; // [K, 2N]: the gate's columns, the value's
  int64_t k = 0, n = 0;
  StringRef act;
  SmallVector<Operation *> ops;
};

struct FuseGatedMLP : FusionPattern<onnx::MulOp, FuseGatedMLP> {
  FuseGatedMLP(MLIRContext *ctx, bool report)
      : FusionPattern(ctx, kKind, report) {}

  std::optional<Match> matchCandidate(onnx::MulOp mul, std::string &why) const;
  Operation *rewriteMatch(onnx::MulOp mul, Match &m,
                          PatternRewriter &rewriter) const;
};

std::optional<Match> FuseGatedMLP::matchCandidate(onnx::MulOp mul,
                                                  std::string &why) const {
  auto fail = [&](const Twine &reason) -> std::optional<Match> {
    why = reason.str();
    return std::nullopt;
  };
  std::optional<Activation> act;
  Value value;
  for (int i = 0; i < 2 && !act; ++i)
    if ((act = activationOf(mul->getOperand(i))))
      value = mul->getOperand(1 - i);
  if (!act || act->g == value)
    return std::nullopt; // not a candidate (e.g. SiLU itself: g * sig(g))
  std::optional<Projection> gate = projectionOf(act->g);
  std::optional<Projection> up = projectionOf(value);
  if (!gate || !up)
    return fail("the gate or the value is not a projection (MatMul, or a "
                "Slice/Split of one)");
  if (gate->mm.getA() != up->mm.getA())
    return fail("the gate and the value project different inputs");
  if (gate->mm == up->mm && gate->begin < up->end && up->begin < gate->end)
    return fail("the gate and the value are the same (or overlapping) half "
                "of the packed projection");
  int64_t n = gate->end - gate->begin;
  if (up->end - up->begin != n)
    return fail("the gate and the value have different widths");
  auto yType = dyn_cast<RankedTensorType>(mul.getC().getType());
  auto gType = dyn_cast<RankedTensorType>(act->g.getType());
  Type elt = yType ? yType.getElementType() : Type();
  if (!yType || !gType || yType != gType || value.getType() != gType ||
      !isKernelFloat(elt))
    return fail("the gate, the value and the product are not of one f32, "
                "f16 or bf16 type");
  auto gw = readFloatConstant(gate->mm.getB());
  auto uw = readFloatConstant(up->mm.getB());
  if (!gw || !uw)
    return fail("the weights are not float constants");
  for (Operation *op : act->ops)
    for (Value r : op->getResults())
      if (!llvm::all_of(r.getUsers(), [&](Operation *u) {
            return u == mul.getOperation() || llvm::is_contained(act->ops, u);
          }))
        return fail("the activation has other uses");
  auto wType = cast<RankedTensorType>(gate->mm.getB().getType());
  auto uType = cast<RankedTensorType>(up->mm.getB().getType());
  Match m;
  m.x = gate->mm.getA();
  m.k = wType.getDimSize(0);
  m.n = n;
  m.act = act->name;
  m.weights.elementType = elt;
  m.weights.shape = {m.k, 2 * n};
  m.weights.data.resize(m.k * 2 * n);
  int64_t gCols = wType.getDimSize(1), uCols = uType.getDimSize(1);
  for (int64_t r = 0; r < m.k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      m.weights.data[r * 2 * n + c] = (*gw)[r * gCols + gate->begin + c];
      m.weights.data[r * 2 * n + n + c] = (*uw)[r * uCols + up->begin + c];
    }
  m.ops = {mul};
  m.ops.append(act->ops);
  for (const Projection &p : {*gate, *up}) {
    if (p.part)
      m.ops.push_back(p.part);
    m.ops.push_back(p.mm);
  }
  return m;
}

Operation *FuseGatedMLP::rewriteMatch(onnx::MulOp mul, Match &m,
                                      PatternRewriter &b) const {
  b.setInsertionPoint(mul);
  Value w = buildConstant(b, mul.getLoc(), m.weights, "gated_weight");
  auto fusedOp = b.create<fused::MatMulOp>(
      fusedLocOf(b, m.ops), mul.getC().getType(), m.x, w, Value(),
      b.getStringAttr(m.act));
  b.replaceAllUsesWith(mul.getC(), fusedOp.getY());
  eraseDeadONNXOps(b, m.ops);
  return fusedOp;
}

struct FuseGatedMLPPass : impl::FuseGatedMLPBase<FuseGatedMLPPass> {
  using FuseGatedMLPBase::FuseGatedMLPBase;
  void runOnOperation() override {
    SmallVector<Operation *> candidates;
    getOperation().walk([&](onnx::MulOp mul) {
      if (activationOf(mul.getA()) || activationOf(mul.getB()))
        candidates.push_back(mul);
    });
    applyToCandidates(populateFuseGatedMLPPatterns, candidates, kKind, report);
  }
};

} // namespace

void populateFuseGatedMLPPatterns(RewritePatternSet &patterns, bool report) {
  patterns.add<FuseGatedMLP>(patterns.getContext(), report);
}

} // namespace tessera
