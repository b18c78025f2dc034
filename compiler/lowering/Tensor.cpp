//===- Tensor.cpp - onnx shape and data-movement ops to tensor/linalg -----===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

/// Re-types an ElementsAttr to signless integers if needed.
ElementsAttr signlessAttr(ElementsAttr attr, Type type) {
  if (attr.getType() == type)
    return attr;
  auto shaped = cast<ShapedType>(type);
  if (auto dense = dyn_cast<DenseElementsAttr>(attr))
    return DenseElementsAttr::getFromRawBuffer(shaped, dense.getRawData());
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr))
    return DenseResourceElementsAttr::get(shaped, res.getRawHandle());
  return attr;
}

struct ConstantLowering : OpConversionPattern<onnx::ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type type = getTypeConverter()->convertType(op.getType());
    auto value = signlessAttr(op.getValue(), type);
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, type,
                                                   cast<TypedAttr>(value));
    return success();
  }
};

/// Inference Dropout: the data, and an all-true mask if asked for.
struct DropoutLowering : OpConversionPattern<onnx::DropoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::DropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<Value> results = {adaptor.getData()};
    if (Value mask = op.getMask()) {
      auto type = staticType(getTypeConverter(), mask);
      if (!type)
        return rewriter.notifyMatchFailure(op, "needs a static shape");
      results.push_back(
          buildFilled(rewriter, op.getLoc(), type, rewriter.getBoolAttr(true)));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Identity, Reshape, Flatten, Squeeze, Unsqueeze: the first operand with
/// the result's (static) shape.
template <typename OpTy>
struct ReshapeLikeLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(this->getTypeConverter(), op->getResult(0));
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a static shape");
    rewriter.replaceOp(op, buildReshape(rewriter, op.getLoc(),
                                        adaptor.getOperands()[0], type));
    return success();
  }
};

struct TransposeLowering : OpConversionPattern<onnx::TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(getTypeConverter(), op.getTransposed());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a static shape");
    SmallVector<int64_t> perm;
    for (Attribute a : op.getPerm())
      perm.push_back(cast<IntegerAttr>(a).getInt());
    Value init = rewriter.create<tensor::EmptyOp>(op.getLoc(), type.getShape(),
                                                  type.getElementType());
    rewriter.replaceOp(op, rewriter
                               .create<linalg::TransposeOp>(
                                   op.getLoc(), adaptor.getData(), init, perm)
                               ->getResult(0));
    return success();
  }
};

/// A generic over the result's index space whose body computes each element
/// from the loop indices (for gathers, tiles and other index arithmetic).
Value buildIndexed(
    OpBuilder &b, Location loc, RankedTensorType type, ValueRange inputs,
    ArrayRef<AffineMap> inputMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange, ArrayRef<Value>)>
        body) {
  int64_t rank = type.getRank();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init =
      b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{type}, inputs, ValueRange{init}, maps, iters,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            SmallVector<Value> idx;
            for (int64_t d = 0; d < rank; ++d)
              idx.push_back(nb.create<linalg::IndexOp>(nl, d));
            nb.create<linalg::YieldOp>(nl, body(nb, nl, args.drop_back(), idx));
          })
      .getResult(0);
}

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return b.create<arith::ConstantIndexOp>(loc, v);
}

struct GatherLowering : OpConversionPattern<onnx::GatherOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(getTypeConverter(), op.getOutput());
    auto dataType = staticType(getTypeConverter(), op.getData());
    auto idxType = staticType(getTypeConverter(), op.getIndices());
    if (!type || !dataType || !idxType)
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    int64_t axis = onnx::normalizeAxis(op.getAxis(), dataType.getRank());
    int64_t q = idxType.getRank(), dim = dataType.getDimSize(axis);
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> idxExprs;
    for (int64_t i = 0; i < q; ++i)
      idxExprs.push_back(getAffineDimExpr(axis + i, ctx));
    AffineMap idxMap = AffineMap::get(type.getRank(), 0, idxExprs, ctx);
    Value data = adaptor.getData();
    Value result = buildIndexed(
        rewriter, op.getLoc(), type, {adaptor.getIndices()}, {idxMap},
        [&](OpBuilder &b, Location l, ValueRange args, ArrayRef<Value> iv) {
          // Negative indices count from the end; anything still outside
          // [0, dim) is clamped so that no read leaves the tensor (the
          // runtime rejects such model inputs before running).
          Value i = b.create<arith::IndexCastOp>(l, b.getIndexType(), args[0]);
          Value zero = indexConst(b, l, 0), n = indexConst(b, l, dim);
          Value neg =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, i, zero);
          i = b.create<arith::SelectOp>(l, neg,
                                        b.create<arith::AddIOp>(l, i, n), i);
          i = b.create<arith::MaxSIOp>(l, i, zero);
          i = b.create<arith::MinSIOp>(l, i, indexConst(b, l, dim - 1));
          SmallVector<Value> at;
          for (int64_t d = 0; d < axis; ++d)
            at.push_back(iv[d]);
          at.push_back(i);
          for (int64_t d = axis + 1; d < dataType.getRank(); ++d)
            at.push_back(iv[d - 1 + q]);
          return b.create<tensor::ExtractOp>(l, data, at);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ConcatLowering : OpConversionPattern<onnx::ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(getTypeConverter(), op.getConcatResult());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a static shape");
    Location loc = op.getLoc();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), type.getRank());
    Value result = rewriter.create<tensor::EmptyOp>(loc, type.getShape(),
                                                    type.getElementType());
    int64_t offset = 0;
    for (Value in : adaptor.getInputs()) {
      auto t = cast<RankedTensorType>(in.getType());
      if (t.getDimSize(axis) == 0)
        continue;
      SmallVector<OpFoldResult> offsets(type.getRank(),
                                        rewriter.getIndexAttr(0));
      offsets[axis] = rewriter.getIndexAttr(offset);
      SmallVector<OpFoldResult> sizes,
          strides(type.getRank(), rewriter.getIndexAttr(1));
      for (int64_t d : t.getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
      result = rewriter.create<tensor::InsertSliceOp>(loc, in, result, offsets,
                                                      sizes, strides);
      offset += t.getDimSize(axis);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Per-axis start and step of a Slice, normalised and clamped as ONNX says.
LogicalResult sliceParams(onnx::SliceOp op, RankedTensorType dataType,
                          SmallVectorImpl<int64_t> &start,
                          SmallVectorImpl<int64_t> &step) {
  SmallVector<int64_t> starts, ends, axes, steps;
  if (!getConstIntValues(op.getStarts(), starts) ||
      !getConstIntValues(op.getEnds(), ends) ||
      (op.getAxes() && !getConstIntValues(op.getAxes(), axes)) ||
      (op.getSteps() && !getConstIntValues(op.getSteps(), steps)))
    return failure();
  int64_t rank = dataType.getRank();
  onnx::fillSliceDefaults(starts.size(), axes, steps);
  start.assign(rank, 0);
  step.assign(rank, 1);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = onnx::normalizeAxis(axes[i], rank);
    start[a] = onnx::sliceIndex(starts[i], dataType.getDimSize(a), steps[i]);
    step[a] = steps[i];
  }
  return success();
}

struct SliceLowering : OpConversionPattern<onnx::SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(getTypeConverter(), op.getOutput());
    auto dataType = staticType(getTypeConverter(), op.getData());
    if (!type || !dataType)
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    SmallVector<int64_t> start, step;
    if (failed(sliceParams(op, dataType, start, step)))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    if (type.getNumElements() == 0) {
      rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, type.getShape(),
                                                   type.getElementType());
      return success();
    }
    if (llvm::all_of(step, [](int64_t s) { return s > 0; })) {
      SmallVector<OpFoldResult> offsets, sizes, strides;
      for (int64_t d = 0; d < type.getRank(); ++d) {
        offsets.push_back(rewriter.getIndexAttr(start[d]));
        sizes.push_back(rewriter.getIndexAttr(type.getDimSize(d)));
        strides.push_back(rewriter.getIndexAttr(step[d]));
      }
      rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
          op, type, adaptor.getData(), offsets, sizes, strides);
      return success();
    }
    Value data = adaptor.getData();
    rewriter.replaceOp(
        op, buildIndexed(rewriter, loc, type, {}, {},
                         [&](OpBuilder &b, Location l, ValueRange,
                             ArrayRef<Value> iv) -> Value {
                           SmallVector<Value> at;
                           for (int64_t d = 0; d < type.getRank(); ++d) {
                             Value off = b.create<arith::MulIOp>(
                                 l, iv[d], indexConst(b, l, step[d]));
                             at.push_back(b.create<arith::AddIOp>(
                                 l, off, indexConst(b, l, start[d])));
                           }
                           return b.create<tensor::ExtractOp>(l, data, at);
                         }));
    return success();
  }
};

struct SplitLowering : OpConversionPattern<onnx::SplitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::SplitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = staticType(getTypeConverter(), op.getInput());
    if (!inType)
      return rewriter.notifyMatchFailure(op, "needs a static shape");
    int64_t axis = onnx::normalizeAxis(op.getAxis(), inType.getRank());
    SmallVector<Value> results;
    int64_t offset = 0;
    for (Value r : op.getOutputs()) {
      auto type = staticType(getTypeConverter(), r);
      if (!type)
        return rewriter.notifyMatchFailure(op, "needs static shapes");
      SmallVector<OpFoldResult> offsets(type.getRank(),
                                        rewriter.getIndexAttr(0));
      offsets[axis] = rewriter.getIndexAttr(offset);
      SmallVector<OpFoldResult> sizes,
          strides(type.getRank(), rewriter.getIndexAttr(1));
      for (int64_t d : type.getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
      results.push_back(rewriter.create<tensor::ExtractSliceOp>(
          op.getLoc(), type, adaptor.getInput(), offsets, sizes, strides));
      offset += type.getDimSize(axis);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct ExpandLowering : OpConversionPattern<onnx::ExpandOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(getTypeConverter(), op.getOutput());
    if (!type || !staticType(getTypeConverter(), op.getInput()))
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    rewriter.replaceOp(op, buildElementwise(rewriter, op.getLoc(), type,
                                            {adaptor.getInput()},
                                            [](OpBuilder &, Location,
                                               ValueRange a) { return a[0]; }));
    return success();
  }
};

struct TileLowering : OpConversionPattern<onnx::TileOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::TileOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(getTypeConverter(), op.getOutput());
    auto inType = staticType(getTypeConverter(), op.getInput());
    if (!type || !inType)
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    Value in = adaptor.getInput();
    rewriter.replaceOp(
        op,
        buildIndexed(rewriter, op.getLoc(), type, {}, {},
                     [&](OpBuilder &b, Location l, ValueRange,
                         ArrayRef<Value> iv) -> Value {
                       SmallVector<Value> at;
                       for (int64_t d = 0; d < type.getRank(); ++d)
                         at.push_back(b.create<arith::RemUIOp>(
                             l, iv[d], indexConst(b, l, inType.getDimSize(d))));
                       return b.create<tensor::ExtractOp>(l, in, at);
                     }));
    return success();
  }
};

/// A scalar of `elt` read from a rank-0 or one-element tensor.
Value extractScalar(OpBuilder &b, Location loc, Value t) {
  auto type = cast<RankedTensorType>(t.getType());
  SmallVector<Value> zeros(type.getRank(), indexConst(b, loc, 0));
  return b.create<tensor::ExtractOp>(loc, t, zeros);
}

struct RangeLowering : OpConversionPattern<onnx::RangeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::RangeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(getTypeConverter(), op.getOutput());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a static shape");
    Location loc = op.getLoc();
    Value start = extractScalar(rewriter, loc, adaptor.getStart());
    Value delta = extractScalar(rewriter, loc, adaptor.getDelta());
    Type elt = type.getElementType();
    rewriter.replaceOp(
        op,
        buildIndexed(rewriter, loc, type, {}, {},
                     [&](OpBuilder &b, Location l, ValueRange,
                         ArrayRef<Value> iv) -> Value {
                       Value i = b.create<arith::IndexCastOp>(l, b.getI64Type(),
                                                              iv[0]);
                       Value k = convertScalar(b, l, i, elt, false, false);
                       if (isa<FloatType>(elt))
                         return b.create<arith::AddFOp>(
                             l, start, b.create<arith::MulFOp>(l, k, delta));
                       return b.create<arith::AddIOp>(
                           l, start, b.create<arith::MulIOp>(l, k, delta));
                     }));
    return success();
  }
};

struct ConstantOfShapeLowering : OpConversionPattern<onnx::ConstantOfShapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::ConstantOfShapeOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(getTypeConverter(), op.getOutput());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a static shape");
    TypedAttr value = rewriter.getZeroAttr(type.getElementType());
    if (auto v = op.getValueAttr()) {
      auto dense = dyn_cast<DenseElementsAttr>(v);
      if (!dense)
        return rewriter.notifyMatchFailure(op, "checked before conversion");
      auto splat = dense.getValues<TypedAttr>()[0];
      if (auto i = dyn_cast<IntegerAttr>(splat))
        value = rewriter.getIntegerAttr(type.getElementType(), i.getValue());
      else
        value = splat;
    }
    rewriter.replaceOp(op, buildFilled(rewriter, op.getLoc(), type, value));
    return success();
  }
};

struct TriluLowering : OpConversionPattern<onnx::TriluOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::TriluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(getTypeConverter(), op.getOutput());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a static shape");
    Location loc = op.getLoc();
    Value k = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    if (adaptor.getK())
      k = rewriter.create<arith::IndexCastOp>(
          loc, rewriter.getIndexType(),
          extractScalar(rewriter, loc, adaptor.getK()));
    bool upper = op.getUpper() != 0;
    int64_t rank = type.getRank();
    Value zero = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(type.getElementType()));
    rewriter.replaceOp(
        op, buildIndexed(
                rewriter, loc, type, {adaptor.getInput()},
                {rewriter.getMultiDimIdentityMap(rank)},
                [&](OpBuilder &b, Location l, ValueRange a,
                    ArrayRef<Value> iv) -> Value {
                  // Keep x[i][j] where j - i >= k (upper) or j - i <= k.
                  Value diff =
                      b.create<arith::SubIOp>(l, iv[rank - 1], iv[rank - 2]);
                  Value keep =
                      b.create<arith::CmpIOp>(l,
                                              upper ? arith::CmpIPredicate::sge
                                                    : arith::CmpIPredicate::sle,
                                              diff, k);
                  return b.create<arith::SelectOp>(l, keep, a[0], zero);
                }));
    return success();
  }
};

/// Shape and Size of a static tensor are constants.
template <typename OpTy>
struct StaticShapeQueryLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto in = staticType(this->getTypeConverter(), op.getData());
    if (!in)
      return rewriter.notifyMatchFailure(op, "needs a static shape");
    SmallVector<int64_t> values;
    if constexpr (std::is_same_v<OpTy, onnx::SizeOp>) {
      values.push_back(in.getNumElements());
    } else {
      auto [start, end] = onnx::shapeRange(op, in.getRank());
      for (int64_t d = start; d < end; ++d)
        values.push_back(in.getDimSize(d));
    }
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseIntElementsAttr::get(type, values));
    return success();
  }
};

} // namespace

void tessera::populateONNXTensorToLinalgPatterns(TypeConverter &tc,
                                                 RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns
      .add<ConstantLowering, ReshapeLikeLowering<onnx::IdentityOp>,
           DropoutLowering, ReshapeLikeLowering<onnx::ReshapeOp>,
           ReshapeLikeLowering<onnx::FlattenOp>,
           ReshapeLikeLowering<onnx::SqueezeOp>,
           ReshapeLikeLowering<onnx::UnsqueezeOp>, TransposeLowering,
           GatherLowering, ConcatLowering, SliceLowering, SplitLowering,
           ExpandLowering, TileLowering, RangeLowering, ConstantOfShapeLowering,
           TriluLowering, StaticShapeQueryLowering<onnx::ShapeOfOp>,
           StaticShapeQueryLowering<onnx::SizeOp>>(tc, ctx);
}
