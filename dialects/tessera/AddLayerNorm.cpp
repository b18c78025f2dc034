//===- AddLayerNorm.cpp - tessera.add_layer_norm verifier -----------------===//

#include "dialects/tessera/TesseraDialect.h"

using namespace mlir;
using namespace tessera::fused;

LogicalResult AddLayerNormOp::verify() {
  auto x = cast<RankedTensorType>(getX().getType());
  auto residual = cast<RankedTensorType>(getResidual().getType());
  if (x.getRank() < 1)
    return emitOpError("X must have rank 1 or more");
  // residual broadcasts to X over the leading axes (aligned on the right).
  int64_t offset = x.getRank() - residual.getRank();
  if (residual.getRank() < 1 || offset < 0)
    return emitOpError("residual must broadcast to the shape of X, got ")
           << residual << " for " << x;
  for (int64_t i = 0; i < residual.getRank(); ++i) {
    int64_t r = residual.getDimSize(i), xd = x.getDimSize(i + offset);
    bool last = i == residual.getRank() - 1;
    if (!compatibleDim(xd, r) && (last || r != 1))
      return emitOpError("residual must broadcast to the shape of X over its "
                         "leading axes, got ")
             << residual << " for " << x;
  }
  int64_t d = x.getDimSize(x.getRank() - 1);
  if (failed(verifyVector(*this, getBias(), d, "bias")) ||
      failed(verifyVector(*this, getGamma(), d, "gamma")) ||
      failed(verifyVector(*this, getBeta(), d, "beta")))
    return failure();
  for (Value result : getResults()) {
    auto type = cast<RankedTensorType>(result.getType());
    if (type.getRank() != x.getRank() ||
        type.getElementType() != x.getElementType())
      return emitOpError("results must have the type of X");
    for (int64_t i = 0; i < x.getRank(); ++i)
      if (!compatibleDim(x.getDimSize(i), type.getDimSize(i)))
        return emitOpError("results must have the type of X");
  }
  if (getEpsilon().convertToFloat() < 0.0f)
    return emitOpError("epsilon must not be negative");
  return success();
}
