//===- FuseMatMulEpilogue.cpp - MatMul + bias + activation ----------------===//
//
// Part of Tessera. Folds a GEMM with a constant 2-D weight, its bias and an
// optional activation into one tessera.matmul:
//
//   MatMul(A, W) -> Add(bias [N]) (either operand order) -> [Relu | Gelu]
//   Gemm(A, W, bias [N]) (transB folded into the constant) -> [Relu | Gelu]
//
// W may also be Transposes and Slices of a constant: it is computed here,
// so that the weight is packed at compile time, not transposed per run.
//
// A value in the chain that has other uses ends the chain there: a MatMul
// with other uses is left alone, an Add whose result is used elsewhere keeps
// its activation separate. The bias must broadcast along the last axis only.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/MatchUtils.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Patterns.h"
#include "compiler/transforms/RewriteUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"

namespace tessera {
#define GEN_PASS_DEF_FUSEMATMULEPILOGUE
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

constexpr StringLiteral kKind = "tessera.matmul";

/// A static rank-2 tensor produced by a constant, or by Transposes and
/// Slices of one (nn.MultiheadAttention's cross-attention query weight is
/// a Transpose of a Slice of in_proj_weight).
bool isConstantWeight(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getRank() == 2 && type.hasStaticShape() &&
         (matchPattern(v, m_Constant()) || isConstantView(v));
}

/// The activation name of `op` if it is one the epilogue supports.
std::optional<StringRef> activationOf(Operation *op) {
  if (isa_and_nonnull<onnx::ReluOp>(op))
    return StringRef("relu");
  if (auto gelu = dyn_cast_or_null<onnx::GeluOp>(op)) {
    if (gelu.getApproximate() == "none")
      return StringRef("gelu_erf");
    if (gelu.getApproximate() == "tanh")
      return StringRef("gelu_tanh");
  }
  return std::nullopt;
}

/// Checks the bias: a rank-1 tensor of N elements with the result's element
/// type. Returns the reason it does not fit, or empty.
std::string checkBias(Value bias, int64_t n, Type elt) {
  auto type = dyn_cast<RankedTensorType>(bias.getType());
  if (!type || type.getRank() != 1 || type.getDimSize(0) != n)
    return "the bias is not a [" + std::to_string(n) +
           "] vector broadcast along the last axis";
  if (type.getElementType() != elt)
    return "the bias has another element type";
  return "";
}

/// The activation after `value` if `value` feeds only it and its result
/// is ranked like `value`.
Operation *activationAfter(Value value, StringRef &act) {
  act = "none";
  Operation *user = singleUser(value);
  std::optional<StringRef> name = activationOf(user);
  if (!name)
    return nullptr;
  auto in = cast<RankedTensorType>(value.getType());
  auto out = dyn_cast<RankedTensorType>(user->getResult(0).getType());
  if (!out || out.getRank() != in.getRank() ||
      out.getElementType() != in.getElementType())
    return nullptr;
  act = *name;
  return user;
}

/// Common checks on A, the weight and the result.
/// `k` is the weight's contraction size, `elt` its element type.
std::string checkOperands(Value a, int64_t k, Type elt, Value y) {
  auto at = dyn_cast<RankedTensorType>(a.getType());
  auto yt = dyn_cast<RankedTensorType>(y.getType());
  if (!at || !yt)
    return "A or the result is unranked";
  if (at.getRank() < 2)
    return "A has rank " + std::to_string(at.getRank()) + ", not 2 or more";
  if (yt.getRank() != at.getRank())
    return "the result does not have A's rank";
  if (!isa<FloatType>(elt) || at.getElementType() != elt ||
      yt.getElementType() != elt)
    return "operands are not of one floating-point type";
  int64_t ak = at.getDimSize(at.getRank() - 1);
  if (!ShapedType::isDynamic(ak) && ak != k)
    return "contraction sizes differ";
  return "";
}

/// tessera.matmul(a, w, bias, act) replacing `chain` (last op first).
struct Match {
  Value a, w, bias;
  StringRef act;
  SmallVector<Operation *> chain;
  /// The [K, N] weight computed at compile time, replacing `w` when `w` is
  /// not a constant itself (a Transpose or Slice of one) or is Gemm's
  /// transposed B.
  std::optional<ConstTensor> weight;
};

/// Computes `m.weight` unless `m.w` is a [K, N] constant already (`transB`:
/// Gemm's B is [N, K]). Returns the reason it cannot, or empty.
std::string resolveWeight(Match &m, bool transB) {
  if (!transB && matchPattern(m.w, m_Constant()))
    return "";
  std::optional<ConstTensor> w = evaluateFloatConstant(m.w);
  if (!w || w->shape.size() != 2)
    return "the weight is not a float constant that can be computed at "
           "compile time";
  if (transB) {
    int64_t rows = w->shape[0], cols = w->shape[1];
    std::vector<float> t(w->data.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        t[c * rows + r] = w->data[r * cols + c];
    w->data = std::move(t);
    w->shape = {cols, rows};
  }
  m.weight = std::move(*w);
  return "";
}

/// Ends the chain at `value` with the activation after it, if any.
void addActivation(Match &m, Value value) {
  if (Operation *activation = activationAfter(value, m.act))
    m.chain.insert(m.chain.begin(), activation);
}

Operation *replaceChain(Operation *anchor, Match &m,
                        PatternRewriter &rewriter) {
  Operation *last = m.chain.front();
  rewriter.setInsertionPoint(anchor);
  Value w = m.w;
  if (m.weight)
    w = buildConstant(rewriter, w.getLoc(), *m.weight, "matmul_weight");
  rewriter.setInsertionPoint(last);
  auto fusedOp = rewriter.create<fused::MatMulOp>(
      anchor->getLoc(), last->getResult(0).getType(), m.a, w, m.bias,
      rewriter.getStringAttr(m.act));
  rewriter.replaceAllUsesWith(last->getResult(0), fusedOp.getResult());
  eraseDeadONNXOps(rewriter, m.chain);
  return fusedOp;
}

/// MatMul(A, W) -> Add(bias) -> [activation].
struct FuseMatMulBias : FusionPattern<onnx::MatMulOp, FuseMatMulBias> {
  FuseMatMulBias(MLIRContext *ctx, bool report)
      : FusionPattern(ctx, kKind, report) {}

  std::optional<Match> matchCandidate(onnx::MatMulOp mm,
                                      std::string &why) const {
    auto fail = [&](const Twine &reason) -> std::optional<Match> {
      why = reason.str();
      return std::nullopt;
    };
    Value y = mm.getY();
    // A bias is a constant or one row (all dims but the last 1); an Add of
    // two activations (the residual after an output projection) is not a
    // candidate.
    auto isBiasAdd = [&](Operation *user) {
      Value other = isa<onnx::AddOp>(user) ? otherOperand(user, y) : Value();
      auto type = other ? dyn_cast<RankedTensorType>(other.getType())
                        : RankedTensorType();
      return other && other != y &&
             (matchPattern(other, m_Constant()) ||
              (type && llvm::all_of(type.getShape().drop_back(),
                                    [](int64_t d) { return d == 1; })));
    };
    if (!isConstantWeight(mm.getB()) || !llvm::any_of(y.getUsers(), isBiasAdd))
      return std::nullopt; // not a candidate: no constant weight or no bias
    if (!y.hasOneUse())
      return fail("the MatMul result has other uses");
    auto add = cast<onnx::AddOp>(*y.getUsers().begin());
    auto wt = cast<RankedTensorType>(mm.getB().getType());
    std::string reason =
        checkOperands(mm.getA(), wt.getDimSize(0), wt.getElementType(), y);
    if (!reason.empty())
      return fail(reason);
    Match m;
    m.a = mm.getA();
    m.w = mm.getB();
    m.bias = otherOperand(add, y);
    reason = checkBias(m.bias, wt.getDimSize(1), wt.getElementType());
    if (!reason.empty())
      return fail(reason);
    auto addType = dyn_cast<RankedTensorType>(add->getResult(0).getType());
    auto yType = cast<RankedTensorType>(y.getType());
    if (!addType || addType.getRank() != yType.getRank() ||
        addType.getElementType() != yType.getElementType())
      return fail("the Add changes the rank or element type");
    reason = resolveWeight(m, /*transB=*/false);
    if (!reason.empty())
      return fail(reason);
    m.chain = {add, mm};
    addActivation(m, add->getResult(0));
    return m;
  }

  Operation *rewriteMatch(onnx::MatMulOp mm, Match &m,
                          PatternRewriter &rewriter) const {
    return replaceChain(mm, m, rewriter);
  }
};

/// Gemm(A, W, bias) -> [activation].
struct FuseGemm : FusionPattern<onnx::GemmOp, FuseGemm> {
  FuseGemm(MLIRContext *ctx, bool report) : FusionPattern(ctx, kKind, report) {}

  std::optional<Match> matchCandidate(onnx::GemmOp gemm,
                                      std::string &why) const {
    auto fail = [&](const Twine &reason) -> std::optional<Match> {
      why = reason.str();
      return std::nullopt;
    };
    if (!isConstantWeight(gemm.getB()) || !gemm.getC())
      return std::nullopt; // not a candidate
    if (gemm.getTransA())
      return fail("transA is set");
    if (gemm.getAlpha().convertToDouble() != 1.0 ||
        gemm.getBeta().convertToDouble() != 1.0)
      return fail("alpha or beta is not 1");
    auto wt = cast<RankedTensorType>(gemm.getB().getType());
    bool transB = gemm.getTransB();
    int64_t k = wt.getDimSize(transB ? 1 : 0);
    int64_t n = wt.getDimSize(transB ? 0 : 1);
    std::string reason =
        checkOperands(gemm.getA(), k, wt.getElementType(), gemm.getY());
    if (!reason.empty())
      return fail(reason);
    reason = checkBias(gemm.getC(), n, wt.getElementType());
    if (!reason.empty())
      return fail(reason);
    Match m;
    m.a = gemm.getA();
    m.w = gemm.getB();
    m.bias = gemm.getC();
    // Transposed once here, so the weight is [K, N] like MatMul's.
    reason = resolveWeight(m, transB);
    if (!reason.empty())
      return fail(reason);
    m.chain = {gemm};
    addActivation(m, gemm.getY());
    return m;
  }

  Operation *rewriteMatch(onnx::GemmOp gemm, Match &m,
                          PatternRewriter &rewriter) const {
    return replaceChain(gemm, m, rewriter);
  }
};

struct FuseMatMulEpiloguePass
    : impl::FuseMatMulEpilogueBase<FuseMatMulEpiloguePass> {
  using FuseMatMulEpilogueBase::FuseMatMulEpilogueBase;

  void runOnOperation() override {
    SmallVector<Operation *> anchors;
    getOperation().walk([&](Operation *op) {
      if (isa<onnx::MatMulOp, onnx::GemmOp>(op))
        anchors.push_back(op);
    });
    applyToCandidates(populateFuseMatMulEpiloguePatterns, anchors, kKind,
                      report);
  }
};

} // namespace

void populateFuseMatMulEpiloguePatterns(RewritePatternSet &patterns,
                                        bool report) {
  patterns.add<FuseMatMulBias, FuseGemm>(patterns.getContext(), report);
}

} // namespace tessera
