//===- WindowAndDataInference.cpp - result types of window and data ops ---===//
//
// Shape inference for the pooling ops, ConvTranspose, the normalisations and
// the element gathers/scatters (see ShapeInference.cpp for the others).
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/ONNXDialect.h"
#include "dialects/onnx/WindowGeometry.h"

using namespace mlir;
using namespace tessera::onnx;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

Type elementTypeOf(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
}

/// The type of `like` (if ranked) with element type `elt`.
LogicalResult shapeLike(Value like, Type elt, SmallVectorImpl<Type> &types) {
  if (auto t = dyn_cast<RankedTensorType>(like.getType()))
    types.push_back(RankedTensorType::get(t.getShape(), elt));
  else
    types.push_back(UnrankedTensorType::get(elt));
  return success();
}

/// [N, C or `channels`, out...] of a window op over input `x`.
LogicalResult inferWindow(Operation *op, Value x, int64_t channels,
                          ArrayRef<int64_t> weightKernel,
                          SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(x);
  auto xt = dyn_cast<RankedTensorType>(x.getType());
  if (!xt || xt.getRank() < 3) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  ArrayRef<int64_t> in = xt.getShape().drop_front(2);
  SmallVector<int64_t> out = {xt.getDimSize(0), channels};
  auto geom = windowGeometry(op, in, weightKernel);
  for (size_t i = 0; i < in.size(); ++i)
    out.push_back(geom ? geom->outputSize(i, in[i]) : kDyn);
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

template <typename OpTy>
LogicalResult inferPool(OpTy op, SmallVectorImpl<Type> &types) {
  auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
  return inferWindow(op, op.getX(), xt ? xt.getDimSize(1) : kDyn, {}, types);
}

/// [N, C, 1, ...] of a global pool.
LogicalResult inferGlobalPool(Value x, SmallVectorImpl<Type> &types) {
  auto xt = dyn_cast<RankedTensorType>(x.getType());
  if (!xt || xt.getRank() < 2)
    return shapeLike(x, elementTypeOf(x), types);
  SmallVector<int64_t> out(xt.getShape().take_front(2));
  out.resize(xt.getRank(), 1);
  types.push_back(RankedTensorType::get(out, xt.getElementType()));
  return success();
}

} // namespace

LogicalResult MaxPoolOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  if (failed(inferPool(*this, types)))
    return failure();
  // Indices: Y's shape, int64.
  if (getIndices()) {
    Type i64 = IntegerType::get(getContext(), 64);
    if (auto y = dyn_cast<RankedTensorType>(types.front()))
      types.push_back(RankedTensorType::get(y.getShape(), i64));
    else
      types.push_back(UnrankedTensorType::get(i64));
  }
  return success();
}
LogicalResult AveragePoolOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferPool(*this, types);
}
LogicalResult LpPoolOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferPool(*this, types);
}
LogicalResult GlobalMaxPoolOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferGlobalPool(getX(), types);
}
LogicalResult
GlobalAveragePoolOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferGlobalPool(getX(), types);
}
LogicalResult GlobalLpPoolOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferGlobalPool(getX(), types);
}

LogicalResult ConvOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  // W is [M, C / group, kernel...].
  auto wt = dyn_cast<RankedTensorType>(getW().getType());
  if (!wt || wt.getRank() < 3) {
    types.push_back(UnrankedTensorType::get(elementTypeOf(getX())));
    return success();
  }
  return inferWindow(*this, getX(), wt.getDimSize(0),
                     wt.getShape().drop_front(2), types);
}

LogicalResult ConvTransposeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  // W is [C, M / group, kernel...].
  auto wt = dyn_cast<RankedTensorType>(getW().getType());
  if (!wt || wt.getRank() < 3) {
    types.push_back(UnrankedTensorType::get(elementTypeOf(getX())));
    return success();
  }
  int64_t m = wt.isDynamicDim(1) ? kDyn : wt.getDimSize(1) * getGroup();
  return inferWindow(*this, getX(), m, wt.getShape().drop_front(2), types);
}

LogicalResult
BatchNormalizationOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  if (failed(shapeLike(getX(), elementTypeOf(getX()), types)))
    return failure();
  for (Value r : getRunning())
    types.push_back(r.getType());
  return success();
}
LogicalResult
InstanceNormalizationOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return shapeLike(getInput(), elementTypeOf(getInput()), types);
}
LogicalResult
GroupNormalizationOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return shapeLike(getX(), elementTypeOf(getX()), types);
}
/// num_groups divides the channel count, which Tessera needs static; scale
/// and bias hold one value per channel (opset 21) or per group (opsets 18
/// to 20, which Tessera keeps as they are).
LogicalResult LRNOp::verify() {
  if (getSize() < 1)
    return emitOpError() << "size " << getSize() << " is not positive";
  auto x = dyn_cast<RankedTensorType>(getX().getType());
  if (x && x.getRank() < 2)
    return emitOpError() << "needs an input [N, C, ...], not rank "
                         << x.getRank();
  return success();
}
LogicalResult LRNOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return shapeLike(getX(), elementTypeOf(getX()), types);
}

LogicalResult GroupNormalizationOp::verify() {
  int64_t groups = getNumGroups();
  if (groups < 1)
    return emitOpError() << "num_groups " << groups << " is not positive";
  auto x = dyn_cast<RankedTensorType>(getX().getType());
  if (!x)
    return success();
  if (x.getRank() < 2)
    return emitOpError() << "needs an input [N, C, ...], not rank "
                         << x.getRank();
  if (x.isDynamicDim(1))
    return emitOpError()
           << "needs the channel count (dim 1) known at compile time";
  int64_t channels = x.getDimSize(1);
  if (channels % groups)
    return emitOpError() << channels << " channels are not divisible by "
                         << "num_groups " << groups;
  for (auto [name, v] : {std::pair<StringRef, Value>{"scale", getScale()},
                         {"bias", getBias()}}) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (t && (t.getRank() != 1 ||
              (!t.isDynamicDim(0) && t.getDimSize(0) != channels &&
               t.getDimSize(0) != groups)))
      return emitOpError() << name << " must hold one value per channel ("
                           << channels << ") or per group (" << groups
                           << "), not " << t;
  }
  return success();
}

LogicalResult GatherElementsOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return shapeLike(getIndices(), elementTypeOf(getData()), types);
}
LogicalResult
ScatterElementsOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return shapeLike(getData(), elementTypeOf(getData()), types);
}
LogicalResult ScatterNDOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return shapeLike(getData(), elementTypeOf(getData()), types);
}
LogicalResult EyeLikeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return shapeLike(getInput(), elementTypeOf(getOutput()), types);
}
