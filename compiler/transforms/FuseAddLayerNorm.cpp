//===- FuseAddLayerNorm.cpp - residual Add + LayerNorm/RMSNorm fusion -----===//
//
// Part of Tessera. onnx.LayerNormalization or onnx.RMSNormalization over the
// last axis whose input is a residual Add becomes tessera.add_layer_norm
// (norm "layer" or "rms"):
//
//   LN(Add(x, r))                      -> add_layer_norm(x, r)
//   LN(Add(Add(x, bias), r))           -> add_layer_norm(x, r, bias)
//   LN(Add(Add(x, r), bias))           -> add_layer_norm(x, r, bias)
//
// in either operand order, where x and r end with the same static D (they
// may broadcast over the leading axes, as token + position embeddings
// [B, S, D] + [1, S, D] do: the fused op broadcasts them as the Add did) and
// bias is a [D] constant. The Add's other uses (the next residual in pre-LN
// models) take the op's `sum` result. Candidates: every normalisation
// whose input is an Add; each is fused or, with `report`, reported with the
// reason.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/MatchUtils.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Patterns.h"

namespace tessera {
#define GEN_PASS_DEF_FUSEADDLAYERNORM
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

constexpr StringLiteral kKind = "tessera.add_layer_norm";
constexpr StringLiteral kRMSKind = "tessera.add_rms_norm";

// What differs between the two normalisations.
Value betaOf(onnx::LayerNormalizationOp ln) { return ln.getB(); }
Value betaOf(onnx::RMSNormalizationOp) { return {}; }
bool statsUsed(onnx::LayerNormalizationOp ln) {
  return llvm::any_of(ln.getStats(), [](Value v) { return !v.use_empty(); });
}
bool statsUsed(onnx::RMSNormalizationOp) { return false; }
StringRef normOf(onnx::LayerNormalizationOp) { return "layer"; }
StringRef normOf(onnx::RMSNormalizationOp) { return "rms"; }

/// Whether `v` has exactly `type`'s shape: same rank, equal static dims and
/// dynamic dims in the same places, and the same element type.
bool hasFullShape(Value v, RankedTensorType type) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getElementType() == type.getElementType() &&
         t.getShape() == type.getShape();
}

/// Whether summand `v` broadcasts to `type` over its leading axes only: the
/// same element type, rank 1 to `type`'s, and the last dim static and equal
/// to `type`'s (static) last dim. The other dims are whatever the Add
/// accepted: each is, at run time, the result's or 1, and the fused op
/// broadcasts either way (a position embedding [1, S, D] added to [B, S, D]
/// token embeddings; [?, ?, D] + [1, S, D] while the batch is dynamic).
bool broadcastsToRows(Value v, RankedTensorType type) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || t.getElementType() != type.getElementType() || t.getRank() < 1 ||
      t.getRank() > type.getRank())
    return false;
  int64_t d = type.getDimSize(type.getRank() - 1);
  return !ShapedType::isDynamic(d) && t.getDimSize(t.getRank() - 1) == d;
}

/// Orders two summands as (x, residual), the one with the full shape first.
std::optional<std::pair<Value, Value>> orderSummands(Value a, Value b,
                                                     RankedTensorType type) {
  if (!broadcastsToRows(a, type) || !broadcastsToRows(b, type))
    return std::nullopt;
  if (!hasFullShape(a, type) && hasFullShape(b, type))
    return std::make_pair(b, a);
  return std::make_pair(a, b);
}

/// Whether `v` is a constant [D] vector of `type`'s element type, D being
/// `type`'s (static) last dimension.
bool isBiasVector(Value v, RankedTensorType type) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  int64_t d = type.getDimSize(type.getRank() - 1);
  Operation *def = v.getDefiningOp();
  return t && t.getRank() == 1 && !ShapedType::isDynamic(d) &&
         t.getDimSize(0) == d && t.getElementType() == type.getElementType() &&
         def && def->hasTrait<OpTrait::ConstantLike>();
}

/// Whether `v` (a parameter vector of the LayerNormalization) is rank 1 and
/// can have `d` elements.
bool isParamVector(Value v, int64_t d, Type elt) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getRank() == 1 && t.getElementType() == elt &&
         fused::compatibleDim(t.getDimSize(0), d);
}

/// Whether `v` is available before `op` (same block).
bool definedBefore(Value v, Operation *op) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    return arg.getOwner() == op->getBlock() ||
           arg.getOwner()->getParentOp()->isProperAncestor(op);
  Operation *def = v.getDefiningOp();
  if (def->getBlock() == op->getBlock())
    return def->isBeforeInBlock(op);
  return def->getBlock() != nullptr &&
         def->getBlock()->getParentOp()->isProperAncestor(op);
}

struct Match {
  Value x, residual, bias;
  onnx::AddOp add;
  onnx::AddOp inner; // the bias Add, if any
  bool atAdd = true; // insert right after the Add (else at the LN)
};

/// Splits the residual Add `add` into x, residual and bias.
std::optional<Match> splitAdd(onnx::AddOp add, std::string &why) {
  auto type = cast<RankedTensorType>(add.getC().getType());
  Match m;
  m.add = add;
  Value ops[2] = {add.getA(), add.getB()};
  for (int i = 0; i < 2; ++i) {
    auto inner = ops[i].getDefiningOp<onnx::AddOp>();
    if (!inner || !ops[i].hasOneUse())
      continue;
    Value other = ops[1 - i];
    Value a = inner.getA(), b = inner.getB();
    // Add(Add(x, bias), r), r in either place, the constant bias last
    // (canonical order).
    if (broadcastsToRows(other, type) && broadcastsToRows(a, type) &&
        isBiasVector(b, type)) {
      m.x = a;
      m.bias = b;
      m.residual = other;
      m.inner = inner;
      return m;
    }
    // Add(Add(x, r), bias) in any order.
    if (isBiasVector(other, type))
      if (auto xr = orderSummands(a, b, type)) {
        std::tie(m.x, m.residual) = *xr;
        m.bias = other;
        m.inner = inner;
        return m;
      }
  }
  if (auto xr = orderSummands(ops[0], ops[1], type)) {
    std::tie(m.x, m.residual) = *xr;
    return m;
  }
  why = "the Add may broadcast along the normalised axis (the summands "
        "must end with the same static D; only a constant [D] bias may be "
        "added besides)";
  return std::nullopt;
}

/// The fusion for LayerNormalization or RMSNormalization (`NormOp`).
template <typename NormOp>
struct FuseAddNorm : FusionPattern<NormOp, FuseAddNorm<NormOp>> {
  FuseAddNorm(MLIRContext *ctx, StringRef kind, bool report)
      : FusionPattern<NormOp, FuseAddNorm<NormOp>>(ctx, kind, report) {}

  std::optional<Match> matchCandidate(NormOp ln, std::string &why) const;
  Operation *rewriteMatch(NormOp ln, Match &m, PatternRewriter &rewriter) const;
};

template <typename NormOp>
std::optional<Match> FuseAddNorm<NormOp>::matchCandidate(NormOp ln,
                                                         std::string &why) const {
  auto fail = [&](const Twine &reason) -> std::optional<Match> {
    why = reason.str();
    return std::nullopt;
  };
  auto add = ln.getX().template getDefiningOp<onnx::AddOp>();
  if (!add) // Another normalisation of the same Add fused it.
    return fail("the Add is already fused with another " +
                ln->getName().stripDialect());
  auto type = dyn_cast<RankedTensorType>(ln.getX().getType());
  if (!type || type.getRank() < 1 || !isa<FloatType>(type.getElementType()))
    return fail("the input is not a ranked float tensor");
  if (onnx::normalizeAxis(ln.getAxis(), type.getRank()) != type.getRank() - 1)
    return fail("it normalises more than the last axis");
  if (statsUsed(ln))
    return fail("its Mean or InvStdDev output is used");
  if (ln.getStashType() != 1)
    return fail("stash_type is not float");
  if (ln.getY().getType() != type)
    return fail("the output type differs from the input type");
  int64_t d = type.getDimSize(type.getRank() - 1);
  Type elt = type.getElementType();
  Value beta = betaOf(ln);
  if (!isParamVector(ln.getScale(), d, elt) ||
      (beta && !isParamVector(beta, d, elt)))
    return fail("scale or bias is not a [D] vector");
  std::optional<Match> m = splitAdd(add, why);
  if (!m)
    return std::nullopt;
  // Right after the Add if gamma and beta are available there, so that the
  // Add's other users (wherever they are) can read `sum`; else at the LN if
  // all of them come after it.
  m->atAdd = definedBefore(ln.getScale(), add) &&
             (!beta || definedBefore(beta, add));
  if (!m->atAdd && llvm::any_of(add->getUsers(), [&](Operation *user) {
        return user != ln.getOperation() &&
               (user->getBlock() != ln->getBlock() ||
                user->isBeforeInBlock(ln));
      }))
    return fail("the Add is used before the normalisation, whose gamma "
                "or beta is defined after the Add");
  return m;
}

template <typename NormOp>
Operation *FuseAddNorm<NormOp>::rewriteMatch(NormOp ln, Match &m,
                                             PatternRewriter &b) const {
  onnx::AddOp add = m.add;
  b.setInsertionPoint(m.atAdd ? add->getNextNode() : ln.getOperation());
  Location loc = b.getFusedLoc({ln.getLoc(), add.getLoc()});
  auto fusedOp = b.create<fused::AddLayerNormOp>(
      loc, ln.getY().getType(), add.getC().getType(), m.x, m.residual, m.bias,
      ln.getScale(), betaOf(ln), ln.getEpsilonAttr(),
      b.getStringAttr(normOf(ln)));
  b.replaceAllUsesWith(ln.getY(), fusedOp.getY());
  b.eraseOp(ln);
  b.replaceAllUsesWith(add.getC(), fusedOp.getSum());
  eraseDeadONNXOps(b, add.getOperation()); // and the bias Add
  return fusedOp;
}

struct FuseAddLayerNormPass : impl::FuseAddLayerNormBase<FuseAddLayerNormPass> {
  using FuseAddLayerNormBase::FuseAddLayerNormBase;
  void runOnOperation() override {
    SmallVector<Operation *> layer, rms;
    getOperation().walk([&](Operation *op) {
      if (!isa<onnx::LayerNormalizationOp, onnx::RMSNormalizationOp>(op) ||
          !op->getOperand(0).getDefiningOp<onnx::AddOp>())
        return;
      (isa<onnx::RMSNormalizationOp>(op) ? rms : layer).push_back(op);
    });
    applyToCandidates(populateFuseAddLayerNormPatterns, layer, kKind, report);
    applyToCandidates(populateFuseAddLayerNormPatterns, rms, kRMSKind, report);
  }
};

} // namespace

void populateFuseAddLayerNormPatterns(RewritePatternSet &patterns,
                                      bool report) {
  patterns.add<FuseAddNorm<onnx::LayerNormalizationOp>>(patterns.getContext(),
                                                        kKind, report);
  patterns.add<FuseAddNorm<onnx::RMSNormalizationOp>>(patterns.getContext(),
                                                      kRMSKind, report);
}

} // namespace tessera
