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
  return success();
}

SmallVector<int64_t> QKVProjectionOp::headCounts() {
  int64_t n = getOutputs().size(), heads = getNumHeads();
  SmallVector<int64_t> counts(n, heads);
  if (std::optional<uint64_t> kv = getKvHeads(); kv && n == 3)
    counts[1] = counts[2] = int64_t(*kv);
  return counts;
}
