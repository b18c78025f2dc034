//===- ONNXDialect.cpp - onnx dialect registration ------------------------===//

#include "dialects/onnx/ONNXDialect.h"

using namespace mlir;
using namespace tessera::onnx;

#include "dialects/onnx/ONNXDialect.cpp.inc"
#include "dialects/onnx/ONNXInterfaces.cpp.inc"

void ONNXDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/onnx/ONNXOps.cpp.inc"
      >();
}

Operation *ONNXDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, elements);
}

namespace tessera::onnx {

LogicalResult broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
                              SmallVectorImpl<int64_t> &result) {
  size_t rank = std::max(a.size(), b.size());
  result.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == 1) {
      result[i] = db;
    } else if (db == 1) {
      result[i] = da;
    } else if (ShapedType::isDynamic(da)) {
      result[i] = db;
    } else if (ShapedType::isDynamic(db)) {
      result[i] = da;
    } else if (da == db) {
      result[i] = da;
    } else {
      return failure();
    }
  }
  return success();
}

bool getConstantInts(Attribute attr, SmallVectorImpl<int64_t> &values) {
  auto dense = dyn_cast_or_null<DenseIntElementsAttr>(attr);
  // Integer constants the compiler reasons about (shapes, axes, indices it
  // folds) are small; a splat can claim 2^29 values in a few bytes.
  if (!dense || dense.getNumElements() > kMaxFoldedInts)
    return false;
  values.clear();
  for (const APInt &x : dense.getValues<APInt>())
    values.push_back(x.getBitWidth() == 1 ? x.getZExtValue()
                                          : x.getSExtValue());
  return true;
}

bool getConstantInts(Value v, SmallVectorImpl<int64_t> &values) {
  auto cst = v.getDefiningOp<ConstantOp>();
  return cst && getConstantInts(cst.getValue(), values);
}

int64_t sliceIndex(int64_t v, int64_t dim, int64_t step) {
  if (v < 0)
    v += dim;
  return step > 0 ? std::clamp<int64_t>(v, 0, dim)
                  : std::clamp<int64_t>(v, -1, dim - 1);
}

void fillSliceDefaults(size_t n, SmallVectorImpl<int64_t> &axes,
                       SmallVectorImpl<int64_t> &steps) {
  if (axes.empty())
    for (size_t i = 0; i < n; ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(n, 1);
}

int64_t normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return -1;
  return axis < 0 ? axis + rank : axis;
}

} // namespace tessera::onnx
