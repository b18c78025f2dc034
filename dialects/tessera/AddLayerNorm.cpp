//===- AddLayerNorm.cpp - tessera.add_layer_norm verifier -----------------===//

#include "dialects/tessera/TesseraDialect.h"

using namespace mlir;
using namespace tessera::fused;

/// Checks that `operand` broadcasts (numpy rules, aligned on the right) to
/// `result` without broadcasting its last axis.
static LogicalResult verifyBroadcastRows(AddLayerNormOp op, Value operand,
                                         RankedTensorType result,
                                         StringRef what) {
  auto type = cast<RankedTensorType>(operand.getType());
  int64_t offset = result.getRank() - type.getRank();
  bool ok = type.getRank() >= 1 && offset >= 0 &&
            type.getElementType() == result.getElementType();
  for (int64_t i = 0; ok && i < type.getRank(); ++i) {
    int64_t d = type.getDimSize(i), full = result.getDimSize(i + offset);
    bool last = i == type.getRank() - 1;
    ok = compatibleDim(d, full) || (!last && d == 1);
  }
  if (!ok)
    return op.emitOpError()
           << what
           << " must broadcast to the result over the leading axes only, got "
           << type << " for " << result;
  return success();
}

LogicalResult AddLayerNormOp::verify() {
  auto y = cast<RankedTensorType>(getY().getType());
  auto sum = cast<RankedTensorType>(getSum().getType());
  if (y.getRank() < 1)
    return emitOpError("results must have rank 1 or more");
  if (sum.getRank() != y.getRank() ||
      sum.getElementType() != y.getElementType())
    return emitOpError("Y and sum must have the same type");
  for (int64_t i = 0; i < y.getRank(); ++i)
    if (!compatibleDim(y.getDimSize(i), sum.getDimSize(i)))
      return emitOpError("Y and sum must have the same type");
  // X and residual broadcast to the result over the leading axes (as the
  // Add they come from does: token + position embeddings).
  if (failed(verifyBroadcastRows(*this, getX(), y, "X")) ||
      failed(verifyBroadcastRows(*this, getResidual(), y, "residual")))
    return failure();
  int64_t d = y.getDimSize(y.getRank() - 1);
  if (failed(verifyVector(*this, getBias(), d, "bias")) ||
      failed(verifyVector(*this, getGamma(), d, "gamma")) ||
      failed(verifyVector(*this, getBeta(), d, "beta")))
    return failure();
  if (getNorm() != "layer" && getNorm() != "rms")
    return emitOpError("norm must be \"layer\" or \"rms\", got ")
           << getNorm();
  if (getNorm() == "rms" && getBeta())
    return emitOpError("an RMS norm has no beta");
  if (getEpsilon().convertToFloat() < 0.0f)
    return emitOpError("epsilon must not be negative");
  return success();
}
