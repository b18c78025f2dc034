//===- RewriteUtils.cpp - building the fused replacements -----------------===//

#include "compiler/transforms/RewriteUtils.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/IR/DialectResourceBlobManager.h"

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

Value buildConstant(OpBuilder &b, Location loc, const ConstTensor &t,
                    StringRef name) {
  auto type = RankedTensorType::get(t.shape, b.getF32Type());
  ElementsAttr attr;
  if (t.resource)
    attr = DenseResourceElementsAttr::get(
        type, name,
        HeapAsmResourceBlob::allocateAndCopyInferAlign<float>(
            t.data, /*dataIsMutable=*/false));
  else
    attr = DenseElementsAttr::get(type, ArrayRef<float>(t.data));
  return b.create<onnx::ConstantOp>(loc, attr);
}

} // namespace tessera
