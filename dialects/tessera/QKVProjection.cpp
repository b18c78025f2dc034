//===- QKVProjection.cpp - tessera.qkv_projection verifier ----------------===//

#include "dialects/tessera/TesseraDialect.h"

using namespace mlir;
using namespace tessera::fused;

LogicalResult QKVProjectionOp::verify() {
  auto x = cast<RankedTensorType>(getX().getType());
  auto w = cast<RankedTensorType>(getW().getType());
  size_t n = getOutputs().size();
  if (n != 2 && n != 3)
    return emitOpError("expects 3 results (Q, K, V) or 2 (K, V), got ") << n;
  if (x.getRank() != 3)
    return emitOpError("X must be ")
           << (getSeqFirst() ? "[S, B, E]" : "[B, S, E]") << ", got " << x;
  if (w.getRank() != 2 || !compatibleDim(w.getDimSize(0), x.getDimSize(2)))
    return emitOpError("W must be [E, n * H * Dh] with E = ")
           << x.getDimSize(2) << ", got " << w;
  if (w.getElementType() != x.getElementType())
    return emitOpError("W's element type must be X's (")
           << x.getElementType() << "), got " << w.getElementType();
  int64_t heads = getNumHeads();
  if (getKvHeads() && n != 3)
    return emitOpError("kv_heads needs 3 results (Q, K, V)");
  SmallVector<int64_t> headsOf = headCounts();
  int64_t total = 0;
  for (int64_t h : headsOf)
    total += h;
  int64_t packed = w.getDimSize(1);
  if (ShapedType::isDynamic(packed) || packed % total) {
    auto diag = emitOpError("W's columns (") << packed << ") must split into ";
    if (std::optional<uint64_t> kv = getKvHeads())
      return diag << heads << " + 2 x " << *kv << " heads";
    return diag << n << " x " << heads << " heads";
  }
  int64_t dh = packed / total;
  if (failed(verifyVector(*this, getBias(), packed, "bias")))
    return failure();
  if (Value bias = getBias()) {
    Type elt = cast<RankedTensorType>(bias.getType()).getElementType();
    if (elt != x.getElementType())
      return emitOpError("bias's element type must be X's (")
             << x.getElementType() << "), got " << elt;
  }
  int64_t b = x.getDimSize(getSeqFirst() ? 1 : 0);
  int64_t s = x.getDimSize(getSeqFirst() ? 0 : 1);
  for (auto [out, h] : llvm::zip(getOutputs(), headsOf)) {
    SmallVector<int64_t> want = {b, h, s, dh};
    auto type = cast<RankedTensorType>(out.getType());
    if (type.getRank() != 4 || type.getElementType() != x.getElementType())
      return emitOpError("results must be [B, H, S, Dh] of X's element type, "
                         "got ")
             << type;
    for (int i = 0; i < 4; ++i)
      if (!compatibleDim(type.getDimSize(i), want[i]))
        return emitOpError("results must be [B, H, S, Dh] = [")
               << want[0] << ", " << want[1] << ", " << want[2] << ", "
               << want[3] << "], got " << type;
  }
  return verifyRotary(dh);
}

LogicalResult QKVProjectionOp::verifyRotary(int64_t dh) {
  std::optional<ArrayRef<int64_t>> rotated = getRotaryResults();
  if (!rotated) {
    if (getCosCache() || getSinCache() || getPositionIds())
      return emitOpError("cos_cache, sin_cache and position_ids need "
                         "rotary_results");
    return success();
  }
  if (rotated->empty() || !getCosCache() || !getSinCache())
    return emitOpError("rotary_results need cos_cache and sin_cache");
  int64_t n = getOutputs().size(), previous = -1;
  for (int64_t i : *rotated) {
    if (i <= previous || i >= n)
      return emitOpError("rotary_results must be increasing result indices "
                         "below ")
             << n;
    previous = i;
  }
  int64_t features = rotatedFeatures();
  if (features <= 0 || features > dh || features % 2)
    return emitOpError("rotary_dim must be even and at most the head size ")
           << dh << ", got " << getRotaryDim();
  for (Value table : {getCosCache(), getSinCache()}) {
    auto t = cast<RankedTensorType>(table.getType());
    if (t.getRank() != 2 || !compatibleDim(t.getDimSize(1), features / 2) ||
        t.getElementType() != getX().getType().getElementType())
      return emitOpError("cos_cache and sin_cache must be [P, ")
             << features / 2 << "] of X's element type, got " << t;
  }
  if (Value ids = getPositionIds()) {
    auto t = cast<RankedTensorType>(ids.getType());
    if (t.getRank() != 2 || !t.getElementType().isInteger(64))
      return emitOpError("position_ids must be [B, S] or [1, S] of i64, got ")
             << t;
  }
  return success();
}

int64_t QKVProjectionOp::headDim() {
  int64_t total = 0;
  for (int64_t h : headCounts())
    total += h;
  int64_t packed = cast<RankedTensorType>(getW().getType()).getDimSize(1);
  return ShapedType::isDynamic(packed) || packed % total ? 0 : packed / total;
}

int64_t QKVProjectionOp::rotatedFeatures() {
  return getRotaryDim() ? getRotaryDim() : headDim();
}

SmallVector<int64_t> QKVProjectionOp::headCounts() {
  int64_t n = getOutputs().size(), heads = getNumHeads();
  SmallVector<int64_t> counts(n, heads);
  if (std::optional<uint64_t> kv = getKvHeads(); kv && n == 3)
    counts[1] = counts[2] = int64_t(*kv);
  return counts;
}
