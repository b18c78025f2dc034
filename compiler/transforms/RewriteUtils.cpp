//===- RewriteUtils.cpp - building the fused replacements -----------------===//

#include "compiler/transforms/RewriteUtils.h"
#include "dialects/onnx/ONNXDialect.h"

using namespace mlir;

namespace tessera {

Location fusedLocOf(OpBuilder &b, ArrayRef<Operation *> ops) {
  SmallVector<Location> locs;
  for (Operation *op : ops)
    locs.push_back(op->getLoc());
  return b.getFusedLoc(locs);
}

Value onesVector(OpBuilder &b, Location loc, int64_t d, Type elt) {
  auto type = RankedTensorType::get({d}, elt);
  return b.create<onnx::ConstantOp>(
      loc, DenseElementsAttr::get(type, b.getFloatAttr(elt, 1.0)));
}

} // namespace tessera
