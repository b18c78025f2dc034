//===- AddLayerNorm.cpp - tessera.add_layer_norm verifier -----------------===//

#include "dialects/tessera/TesseraDialect.h"

using namespace mlir;
using namespace tessera::fused;

LogicalResult AddLayerNormOp::verify() {
  auto x = cast<RankedTensorType>(getX().getType());
  auto residual = cast<RankedTensorType>(getResidual().getType());
  if (x.getRank() < 1)
    return emitOpError("X must have rank 1 or more");
  if (residual.getRank() != x.getRank())
    return emitOpError("residual must have the shape of X, got ")
           << residual << " for " << x;
  for (int64_t i = 0; i < x.getRank(); ++i)
    if (!compatibleDim(x.getDimSize(i), residual.getDimSize(i)))
      return emitOpError("residual must have the shape of X, got ")
             << residual << " for " << x;
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
