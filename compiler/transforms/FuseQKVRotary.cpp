//===- FuseQKVRotary.cpp - rotary embeddings into the Q/K projection ------===//
//
// Part of Tessera. An onnx.RotaryEmbedding of a [B, H, S, Dh] result of a
// tessera.qkv_projection (LLaMA-style Q and K, as tessera-recognize-rotary
// and tessera-fuse-qkv leave them) becomes part of the projection: its
// `rotary_results`, tables and position ids, so that the rotation is the
// GEMM's epilogue (FusedQKVProjection.cpp) and Q and K are stored once,
// rotated. The rotations fused into one projection share their tables
// (the same values or equal constants), position ids, layout and
// rotary_embedding_dim. Candidates: every projection with a rotated result;
// each is fused or reported with the reason.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/MatchUtils.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Patterns.h"
#include "compiler/transforms/RewriteUtils.h"
#include "dialects/tessera/TesseraDialect.h"

namespace tessera {
#define GEN_PASS_DEF_FUSEQKVROTARY
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

constexpr StringLiteral kKind = "rotary in tessera.qkv_projection";

/// The rotary embedding applied to `result`, if that is its only user.
onnx::RotaryEmbeddingOp rotaryOf(Value result) {
  auto rotary = dyn_cast_or_null<onnx::RotaryEmbeddingOp>(singleUser(result));
  return rotary && rotary.getX() == result ? rotary : nullptr;
}

/// Whether two tables are the same: one value, or equal float constants.
bool sameTable(Value a, Value b) {
  if (a == b)
    return true;
  std::optional<std::vector<float>> x = readFloatConstant(a);
  return x && x == readFloatConstant(b) && a.getType() == b.getType();
}

/// Whether two position ids are the same: one value, or equal constants
/// (the ids of a model with pinned shapes fold to one constant per use).
bool sameIds(Value a, Value b) {
  if (a == b)
    return true;
  SmallVector<int64_t> x, y;
  return a && b && a.getType() == b.getType() &&
         onnx::getConstantInts(a, x) && onnx::getConstantInts(b, y) && x == y;
}

/// Whether `b` rotates like `a`: same tables, ids, layout and dims.
bool sameRotation(onnx::RotaryEmbeddingOp a, onnx::RotaryEmbeddingOp b) {
  return sameIds(a.getPositionIds(), b.getPositionIds()) &&
         a.getInterleaved() == b.getInterleaved() &&
         a.getRotaryEmbeddingDim() == b.getRotaryEmbeddingDim() &&
         sameTable(a.getCosCache(), b.getCosCache()) &&
         sameTable(a.getSinCache(), b.getSinCache());
}

struct Match {
  SmallVector<int64_t> results;
  SmallVector<onnx::RotaryEmbeddingOp> rotaries;
  Operation *after = nullptr; // the fused op goes after this op
  // Rotations of other results left as they are, with the reason.
  SmallVector<std::pair<Operation *, std::string>> missed;
};

/// The last op of `op` and the producers of `values` in `op`'s block (the
/// fused op's place), or null if one is in another block after `op`.
Operation *lastDefinition(Operation *op, ValueRange values) {
  Operation *last = op;
  for (Value v : values) {
    Operation *def = v ? v.getDefiningOp() : nullptr;
    if (!def || def->getBlock() != op->getBlock()) {
      if (def && op->getBlock()->getParentOp()->isAncestor(def))
        return nullptr;
      continue;
    }
    if (last->isBeforeInBlock(def))
      last = def;
  }
  return last;
}

struct FuseQKVRotary
    : FusionPattern<fused::QKVProjectionOp, FuseQKVRotary> {
  FuseQKVRotary(MLIRContext *ctx, bool report)
      : FusionPattern(ctx, kKind, report), report(report) {}

  std::optional<Match> matchCandidate(fused::QKVProjectionOp op,
                                      std::string &why) const;
  Operation *rewriteMatch(fused::QKVProjectionOp op, Match &m,
                          PatternRewriter &rewriter) const;

  bool report;
};

std::optional<Match>
FuseQKVRotary::matchCandidate(fused::QKVProjectionOp op,
                              std::string &why) const {
  auto fail = [&](const Twine &reason) -> std::optional<Match> {
    why = reason.str();
    return std::nullopt;
  };
  if (op.getRotaryResults())
    return std::nullopt;
  Match m;
  onnx::RotaryEmbeddingOp first;
  auto miss = [&](Operation *rotary, const Twine &reason) {
    m.missed.emplace_back(rotary, reason.str());
  };
  for (auto [i, result] : llvm::enumerate(op.getOutputs())) {
    onnx::RotaryEmbeddingOp rotary = rotaryOf(result);
    if (!rotary) {
      for (Operation *user : result.getUsers())
        if (isa<onnx::RotaryEmbeddingOp>(user))
          miss(user, "the rotated result has other users");
      continue;
    }
    auto cos = dyn_cast<RankedTensorType>(rotary.getCosCache().getType());
    auto ids = rotary.getPositionIds();
    int64_t dh = op.headDim();
    int64_t features = rotary.getRotaryEmbeddingDim()
                           ? rotary.getRotaryEmbeddingDim()
                           : dh;
    if (!ids || !cos || cos.getRank() != 2 || !cos.hasStaticShape() ||
        rotary.getCosCache().getType() != rotary.getSinCache().getType() ||
        cos.getDimSize(1) != features / 2 || features > dh) {
      miss(rotary, "the rotary does not read [P, rotary_dim / 2] tables by "
                   "position ids");
      continue;
    }
    if (first && !sameRotation(first, rotary)) {
      miss(rotary, "its tables, position ids or layout differ from the "
                   "other rotation's");
      continue;
    }
    first = first ? first : rotary;
    m.results.push_back(i);
    m.rotaries.push_back(rotary);
  }
  if (m.results.empty())
    return m.missed.empty() ? std::nullopt : fail(m.missed.front().second);
  // The fused op reads the tables and ids: it goes after them and the
  // projection, before every user of the values it replaces.
  m.after = lastDefinition(op, {first.getCosCache(), first.getSinCache(),
                                first.getPositionIds()});
  auto usedBefore = [&](Value v) {
    return llvm::any_of(v.getUsers(), [&](Operation *user) {
      while (user && user->getBlock() != op->getBlock())
        user = user->getParentOp();
      return user && !llvm::is_contained(m.rotaries, user) &&
             !m.after->isBeforeInBlock(user);
    });
  };
  bool early = !m.after;
  for (Value r : op.getOutputs())
    early = early || usedBefore(r);
  for (onnx::RotaryEmbeddingOp r : m.rotaries)
    early = early || usedBefore(r.getY());
  if (early)
    return fail("a result is used before the rotary tables are computed");
  Type elt = cast<RankedTensorType>(op.getX().getType()).getElementType();
  if (!isKernelFloat(elt) || !readFloatConstant(op.getW()) ||
      (op.getBias() && !readFloatConstant(op.getBias())))
    return fail("the projection's weight or bias is not an f32, f16 or bf16 "
                "constant");
  return m;
}

Operation *FuseQKVRotary::rewriteMatch(fused::QKVProjectionOp op, Match &m,
                                       PatternRewriter &b) const {
  onnx::RotaryEmbeddingOp rotary = m.rotaries.front();
  SmallVector<Operation *> ops = {op};
  SmallVector<Type> types(op.getOutputs().getTypes());
  for (auto [i, r] : llvm::zip(m.results, m.rotaries)) {
    types[i] = r.getY().getType();
    ops.push_back(r);
  }
  b.setInsertionPointAfter(m.after);
  auto fusedOp = b.create<fused::QKVProjectionOp>(
      fusedLocOf(b, ops), types, op.getX(), op.getW(), op.getBias(),
      rotary.getCosCache(), rotary.getSinCache(), rotary.getPositionIds(),
      op.getNumHeadsAttr(), op.getKvHeadsAttr(), op.getSeqFirstAttr(),
      b.getDenseI64ArrayAttr(m.results),
      b.getBoolAttr(rotary.getInterleaved() != 0),
      b.getI64IntegerAttr(rotary.getRotaryEmbeddingDim()));
  for (auto [i, result] : llvm::enumerate(op.getOutputs())) {
    auto *it = llvm::find(m.results, int64_t(i));
    Value old = it == m.results.end()
                    ? Value(result)
                    : Value(m.rotaries[it - m.results.begin()].getY());
    b.replaceAllUsesWith(old, fusedOp.getOutputs()[i]);
  }
  for (onnx::RotaryEmbeddingOp r : m.rotaries)
    b.eraseOp(r);
  if (report)
    for (auto &[rotary, why] : m.missed)
      reportNotFused(rotary, kKind, why);
  b.eraseOp(op);
  return fusedOp;
}

struct FuseQKVRotaryPass : impl::FuseQKVRotaryBase<FuseQKVRotaryPass> {
  using FuseQKVRotaryBase::FuseQKVRotaryBase;
  void runOnOperation() override {
    SmallVector<Operation *> candidates;
    getOperation().walk([&](fused::QKVProjectionOp op) {
      if (llvm::any_of(op->getUsers(), [](Operation *user) {
            return isa<onnx::RotaryEmbeddingOp>(user);
          }))
        candidates.push_back(op);
    });
    applyToCandidates(populateFuseQKVRotaryPatterns, candidates, kKind,
                      report);
  }
};

} // namespace

void populateFuseQKVRotaryPatterns(RewritePatternSet &patterns, bool report) {
  patterns.add<FuseQKVRotary>(patterns.getContext(), report);
}

} // namespace tessera
