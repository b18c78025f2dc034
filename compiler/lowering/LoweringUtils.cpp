//===- LoweringUtils.cpp - helpers shared by the onnx lowerings -----------===//

#include "compiler/lowering/LoweringUtils.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;

namespace tessera::lowering {

AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> shape,
                       ArrayRef<int64_t> resultShape) {
  SmallVector<AffineExpr> exprs;
  size_t offset = resultShape.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1 && resultShape[i + offset] != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(i + offset, ctx));
  }
  return AffineMap::get(resultShape.size(), 0, exprs, ctx);
}

Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ValueRange inputs, ScalarFn body) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = resultType.getShape();
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(
        ctx, cast<RankedTensorType>(in.getType()).getShape(), shape));
  maps.push_back(b.getMultiDimIdentityMap(shape.size()));
  Value init =
      b.create<tensor::EmptyOp>(loc, shape, resultType.getElementType());
  SmallVector<utils::IteratorType> iters(shape.size(),
                                         utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value r = body(nb, nloc, args.drop_back());
        nb.create<linalg::YieldOp>(nloc, r);
      });
  return generic.getResult(0);
}

Value buildFilled(OpBuilder &b, Location loc, RankedTensorType type,
                  TypedAttr value) {
  Value init =
      b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
  Value scalar = b.create<arith::ConstantOp>(loc, value);
  return b.create<linalg::FillOp>(loc, scalar, init).getResult(0);
}

Value buildReshape(OpBuilder &b, Location loc, Value value,
                   RankedTensorType type) {
  auto from = cast<RankedTensorType>(value.getType());
  if (from.getShape() == type.getShape())
    return value;
  // Try a single collapse or expand first, then go through 1-D.
  if (auto reassoc = getReassociationIndicesForReshape(from, type)) {
    if (from.getRank() > type.getRank())
      return b.create<tensor::CollapseShapeOp>(loc, type, value, *reassoc);
    return b.create<tensor::ExpandShapeOp>(loc, type, value, *reassoc);
  }
  auto flatType =
      RankedTensorType::get({from.getNumElements()}, from.getElementType());
  Value flat = value;
  if (from.getRank() != 1) {
    SmallVector<ReassociationIndices> all(1);
    for (int64_t i = 0; i < from.getRank(); ++i)
      all[0].push_back(i);
    if (from.getRank() == 0)
      all.clear();
    flat = b.create<tensor::CollapseShapeOp>(loc, flatType, value, all);
  }
  if (type.getRank() == 1)
    return flat;
  SmallVector<ReassociationIndices> all(1);
  for (int64_t i = 0; i < type.getRank(); ++i)
    all[0].push_back(i);
  if (type.getRank() == 0)
    all.clear();
  return b.create<tensor::ExpandShapeOp>(loc, type, flat, all);
}

bool isUnsignedInt(Type type) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    type = shaped.getElementType();
  auto it = dyn_cast<IntegerType>(type);
  return it && it.isUnsigned();
}

Type signlessElementType(Type type) {
  if (auto it = dyn_cast<IntegerType>(type))
    if (!it.isSignless())
      return IntegerType::get(type.getContext(), it.getWidth());
  return type;
}

Value convertScalar(OpBuilder &b, Location loc, Value v, Type to,
                    bool fromUnsigned, bool toUnsigned) {
  Type from = v.getType();
  if (from == to)
    return v;
  auto fromF = dyn_cast<FloatType>(from), toF = dyn_cast<FloatType>(to);
  auto fromI = dyn_cast<IntegerType>(from), toI = dyn_cast<IntegerType>(to);
  if (toI && toI.getWidth() == 1) {
    // x != 0
    if (fromF) {
      Value zero = b.create<arith::ConstantOp>(loc, b.getFloatAttr(from, 0.0));
      return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, v, zero);
    }
    Value zero = b.create<arith::ConstantOp>(loc, b.getIntegerAttr(from, 0));
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, v, zero);
  }
  if (fromI && fromI.getWidth() == 1)
    fromUnsigned = true;
  if (fromF && toF) {
    if (fromF.getWidth() < toF.getWidth())
      return b.create<arith::ExtFOp>(loc, to, v);
    if (fromF.getWidth() > toF.getWidth())
      return b.create<arith::TruncFOp>(loc, to, v);
    // bf16 <-> f16: through f32.
    Value wide = b.create<arith::ExtFOp>(loc, b.getF32Type(), v);
    return b.create<arith::TruncFOp>(loc, to, wide);
  }
  if (fromF && toI) {
    if (toUnsigned)
      return b.create<arith::FPToUIOp>(loc, to, v);
    return b.create<arith::FPToSIOp>(loc, to, v);
  }
  if (fromI && toF) {
    if (fromUnsigned)
      return b.create<arith::UIToFPOp>(loc, to, v);
    return b.create<arith::SIToFPOp>(loc, to, v);
  }
  if (fromI && toI) {
    if (fromI.getWidth() < toI.getWidth()) {
      if (fromUnsigned)
        return b.create<arith::ExtUIOp>(loc, to, v);
      return b.create<arith::ExtSIOp>(loc, to, v);
    }
    return b.create<arith::TruncIOp>(loc, to, v);
  }
  return v;
}

RankedTensorType staticType(const TypeConverter *converter, Value v) {
  auto t =
      dyn_cast_or_null<RankedTensorType>(converter->convertType(v.getType()));
  return t && t.hasStaticShape() ? t : RankedTensorType();
}

bool getConstIntValues(Value v, SmallVectorImpl<int64_t> &out) {
  // During conversion, operands may already be arith.constant (or a cast of
  // one); otherwise they are still onnx.Constant.
  if (auto cast = v.getDefiningOp<UnrealizedConversionCastOp>())
    return cast->getNumOperands() == 1 &&
           getConstIntValues(cast->getOperand(0), out);
  auto c = v.getDefiningOp<arith::ConstantOp>();
  auto dense = c ? dyn_cast<DenseIntElementsAttr>(c.getValue()) : nullptr;
  if (!dense)
    return onnx::getConstantInts(v, out);
  out.clear();
  for (const APInt &x : dense.getValues<APInt>())
    out.push_back(x.getBitWidth() == 1 ? x.getZExtValue() : x.getSExtValue());
  return true;
}

TypedAttr lowestValue(Type elt) {
  OpBuilder b(elt.getContext());
  if (auto ft = dyn_cast<FloatType>(elt))
    return b.getFloatAttr(elt, APFloat::getInf(ft.getFloatSemantics(), true));
  auto it = cast<IntegerType>(elt);
  return b.getIntegerAttr(signlessElementType(elt),
                          it.isUnsigned() || it.getWidth() == 1
                              ? APInt::getMinValue(it.getWidth())
                              : APInt::getSignedMinValue(it.getWidth()));
}

TypedAttr highestValue(Type elt) {
  OpBuilder b(elt.getContext());
  if (auto ft = dyn_cast<FloatType>(elt))
    return b.getFloatAttr(elt, APFloat::getInf(ft.getFloatSemantics(), false));
  auto it = cast<IntegerType>(elt);
  return b.getIntegerAttr(signlessElementType(elt),
                          it.isUnsigned() || it.getWidth() == 1
                              ? APInt::getMaxValue(it.getWidth())
                              : APInt::getSignedMaxValue(it.getWidth()));
}

} // namespace tessera::lowering
