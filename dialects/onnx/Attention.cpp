//===- Attention.cpp - onnx.Attention verifier ----------------------------===//

#include "dialects/onnx/ONNXDialect.h"

using namespace mlir;
using namespace tessera::onnx;

LogicalResult AttentionOp::verify() {
  auto rankOf = [](Value v) -> int64_t {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    return t ? t.getRank() : -1;
  };
  int64_t rank = rankOf(getQ());
  for (Value v : {getQ(), getK(), getV()})
    if (rankOf(v) != -1 && rankOf(v) != 3 && rankOf(v) != 4)
      return emitOpError("Q, K and V must be 3-D or 4-D");
  if (rankOf(getK()) != rank || rankOf(getV()) != rank)
    return emitOpError("Q, K and V must have one rank");
  if (rank == 3 && (!getQNumHeads() || !getKvNumHeads()))
    return emitOpError("3-D inputs need q_num_heads and kv_num_heads");
  for (std::optional<int64_t> h : {getQNumHeads(), getKvNumHeads()})
    if (h && *h <= 0)
      return emitOpError("head counts must be positive");
  if (!getPresent().empty() && getPresent().size() != 2)
    return emitOpError("present is present_key and present_value, or none");
  if (bool(getPastKey()) != bool(getPastValue()))
    return emitOpError("past_key and past_value go together");
  return success();
}
