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
  auto elt = dyn_cast_or_null<FloatType>(t.elementType);
  if (!elt || elt.isF32()) {
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
  // A 16-bit float type: the values were read from it, so each converts
  // back exactly.
  assert(elt.getWidth() == 16 && "f32, f16 or bf16 values");
  auto type = RankedTensorType::get(t.shape, elt);
  std::vector<uint16_t> bits;
  bits.reserve(t.data.size());
  for (float x : t.data) {
    APFloat v(x);
    bool lost;
    (void)v.convert(elt.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                    &lost);
    bits.push_back(uint16_t(v.bitcastToAPInt().getZExtValue()));
  }
  ElementsAttr attr;
  if (t.resource)
    attr = DenseResourceElementsAttr::get(
        type, name,
        HeapAsmResourceBlob::allocateAndCopyInferAlign<uint16_t>(
            bits, /*dataIsMutable=*/false));
  else
    attr = DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(reinterpret_cast<const char *>(bits.data()),
                             bits.size() * sizeof(uint16_t)));
  return b.create<onnx::ConstantOp>(loc, attr);
}

} // namespace tessera
