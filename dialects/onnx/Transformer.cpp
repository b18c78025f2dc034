//===- Transformer.cpp - opset-23 Transformer ops: verifiers, shapes ------===//
//
// The C++ of the ops in Transformer.td, block by block.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/ONNXDialect.h"

using namespace mlir;
using namespace tessera::onnx;

//===----------------------------------------------------------------------===//
// RMSNormalization, RotaryEmbedding
//===----------------------------------------------------------------------===//

namespace {

/// Y has X's shape and element type.
LogicalResult inferLikeX(Value x, SmallVectorImpl<Type> &types) {
  auto type = cast<ShapedType>(x.getType());
  if (auto ranked = dyn_cast<RankedTensorType>(type))
    types.push_back(ranked);
  else
    types.push_back(UnrankedTensorType::get(type.getElementType()));
  return success();
}

/// Y has X's shape (where both are known) and element type.
LogicalResult verifyLikeX(Operation *op, Value x, Value y) {
  auto in = dyn_cast<RankedTensorType>(x.getType());
  auto out = dyn_cast<RankedTensorType>(y.getType());
  if (cast<ShapedType>(x.getType()).getElementType() !=
      cast<ShapedType>(y.getType()).getElementType())
    return op->emitOpError("Y must have X's element type");
  if (!in || !out)
    return success();
  if (in.getRank() != out.getRank())
    return op->emitOpError("Y must have X's rank");
  for (auto [a, b] : llvm::zip(in.getShape(), out.getShape()))
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
      return op->emitOpError("Y must have X's shape");
  return success();
}

} // namespace

LogicalResult RMSNormalizationOp::verify() {
  if (auto x = dyn_cast<RankedTensorType>(getX().getType()))
    if (normalizeAxis(getAxis(), x.getRank()) < 0)
      return emitOpError("axis ") << getAxis() << " is out of range for rank "
                                  << x.getRank();
  if (getEpsilon().convertToFloat() < 0)
    return emitOpError("epsilon must be non-negative");
  return verifyLikeX(*this, getX(), getY());
}

LogicalResult
RMSNormalizationOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferLikeX(getX(), types);
}

LogicalResult RotaryEmbeddingOp::verify() {
  if (getInterleaved() != 0 && getInterleaved() != 1)
    return emitOpError("interleaved must be 0 or 1");
  if (getNumHeads() < 0 || getRotaryEmbeddingDim() < 0)
    return emitOpError("num_heads and rotary_embedding_dim must not be "
                       "negative");
  if (getRotaryEmbeddingDim() % 2)
    return emitOpError("rotary_embedding_dim must be even");
  auto x = dyn_cast<RankedTensorType>(getX().getType());
  if (x && x.getRank() != 3 && x.getRank() != 4)
    return emitOpError("X must be [B, H, S, Dh] or [B, S, H * Dh], got ") << x;
  if (x && x.getRank() == 3 && getNumHeads() == 0)
    return emitOpError("a 3-D X needs num_heads");
  for (Value cache : {getCosCache(), getSinCache()}) {
    auto t = dyn_cast<RankedTensorType>(cache.getType());
    int64_t want = getPositionIds() ? 2 : 3;
    if (t && t.getRank() != want)
      return emitOpError("cos_cache and sin_cache must have rank ")
             << want << (getPositionIds() ? " with" : " without")
             << " position_ids, got " << t;
  }
  return verifyLikeX(*this, getX(), getY());
}

LogicalResult RotaryEmbeddingOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferLikeX(getX(), types);
}
