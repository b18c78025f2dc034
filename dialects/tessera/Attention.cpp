//===- Attention.cpp - tessera.attention verifier -------------------------===//

#include "dialects/tessera/TesseraDialect.h"

#include <cmath>

using namespace mlir;
using namespace tessera::fused;

LogicalResult AttentionOp::verify() {
  auto q = cast<RankedTensorType>(getQ().getType());
  auto k = cast<RankedTensorType>(getK().getType());
  auto v = cast<RankedTensorType>(getV().getType());
  if (q.getRank() != 4 || k.getRank() != 4 || v.getRank() != 4)
    return emitOpError("Q, K and V must be [B, H, S, Dh]");
  auto out0 = cast<RankedTensorType>(getOutput().getType());
  if (k.getElementType() != q.getElementType() ||
      v.getElementType() != q.getElementType() ||
      out0.getElementType() != q.getElementType())
    return emitOpError("Q, K, V and the result must have one element type");
  if (!compatibleDim(q.getDimSize(0), k.getDimSize(0)) ||
      !compatibleDim(k.getDimSize(0), v.getDimSize(0)))
    return emitOpError("Q, K and V must agree on batch");
  if (!compatibleDim(k.getDimSize(1), v.getDimSize(1)))
    return emitOpError("K and V must have the same number of heads");
  int64_t heads = q.getDimSize(1), kvHeads = k.getDimSize(1);
  if (kvHeads == 0 || (!ShapedType::isDynamic(heads) &&
                       !ShapedType::isDynamic(kvHeads) && heads % kvHeads))
    return emitOpError("K/V heads (")
           << kvHeads << ") must divide the query heads (" << heads << ")";
  if (!compatibleDim(k.getDimSize(2), v.getDimSize(2)))
    return emitOpError("K and V must have the same number of keys");
  if (!compatibleDim(q.getDimSize(3), k.getDimSize(3)))
    return emitOpError("Q and K must have the same head size");
  if (Value mask = getMask()) {
    auto m = cast<RankedTensorType>(mask.getType());
    if (m.getRank() > 4)
      return emitOpError("mask must broadcast to [B, H, Sq, Sk], got ") << m;
    SmallVector<int64_t> full = {q.getDimSize(0), q.getDimSize(1),
                                 q.getDimSize(2), k.getDimSize(2)};
    for (int64_t i = 0; i < m.getRank(); ++i) {
      int64_t d = m.getDimSize(i), f = full[4 - m.getRank() + i];
      if (d != 1 && !compatibleDim(d, f))
        return emitOpError("mask must broadcast to [B, H, Sq, Sk], got ") << m;
    }
    if (!m.getElementType().isInteger(1) &&
        m.getElementType() != q.getElementType())
      return emitOpError("mask must be i1 or have Q's element type");
  }
  auto out = cast<RankedTensorType>(getOutput().getType());
  SmallVector<int64_t> want;
  if (getSeqFirst() && !getMergeHeads())
    return emitOpError("seq_first needs merge_heads");
  if (!getScale().convertToFloat() || std::isnan(getScale().convertToFloat()))
    return emitOpError("scale must be a nonzero number");
  if (getMergeHeads()) {
    int64_t hd = ShapedType::isDynamic(heads) ||
                         ShapedType::isDynamic(v.getDimSize(3))
                     ? ShapedType::kDynamic
                     : heads * v.getDimSize(3);
    want = {q.getDimSize(0), q.getDimSize(2), hd};
    if (getSeqFirst())
      std::swap(want[0], want[1]);
  } else {
    want = {q.getDimSize(0), q.getDimSize(1), q.getDimSize(2), v.getDimSize(3)};
  }
  if (out.getRank() != int64_t(want.size()))
    return emitOpError("result must have rank ") << want.size();
  for (size_t i = 0; i < want.size(); ++i)
    if (!compatibleDim(out.getDimSize(i), want[i]))
      return emitOpError("result dimension ") << i << " must be " << want[i];
  return success();
}
