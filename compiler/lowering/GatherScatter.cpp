//===- GatherScatter.cpp - element gathers and scatters to linalg/scf -----===//
//
// Part of Tessera. GatherElements and GatherND are linalg.generics over the
// result whose body reads `data` at indices taken from `indices`
// (tensor.extract, which the gather vectorizer handles). ScatterElements and
// ScatterND start from `data` and visit every update in order with one scf
// loop nest (tensor.extract / tensor.insert, in place after bufferization):
// later updates of the same element see earlier ones, as `reduction` needs.
// Every index read from a tensor counts from the end when negative and is
// clamped into its dim, so no access leaves a tensor.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/OpBuilders.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/onnx/WindowGeometry.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

struct GatherElementsLowering : OpConversionPattern<onnx::GatherElementsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::GatherElementsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getOutput());
    auto dataType = rankedType(getTypeConverter(), op.getData());
    if (!type || !dataType || type.getRank() != dataType.getRank())
      return rewriter.notifyMatchFailure(op, "needs ranked operands");
    Location loc = op.getLoc();
    int64_t rank = type.getRank();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), rank);
    Value data = adaptor.getData(), indices = adaptor.getIndices();
    Value dim = rewriter.createOrFold<tensor::DimOp>(loc, data, axis);
    rewriter.replaceOp(
        op, buildIndexed(
                rewriter, loc, type,
                tensor::getMixedSizes(rewriter, loc, indices), {indices},
                {rewriter.getMultiDimIdentityMap(rank)},
                [&](OpBuilder &b, Location l, ValueRange a, ArrayRef<Value> iv) {
                  SmallVector<Value> at(iv);
                  at[axis] = clampedIndex(b, l, a[0], dim);
                  return b.create<tensor::ExtractOp>(l, data, at);
                }));
    return success();
  }
};

/// The data index that index tuple `prefix` (the leading dims of `indices`)
/// of a GatherND/ScatterND names: `batch` leading loop indices, then the
/// tuple's entries (clamped into their dims), then `rest`.
SmallVector<Value> tupleIndex(OpBuilder &b, Location l, Value data,
                              Value indices, ArrayRef<Value> prefix,
                              int64_t batch, ArrayRef<Value> rest) {
  auto idxType = cast<RankedTensorType>(indices.getType());
  int64_t last = idxType.getDimSize(idxType.getRank() - 1);
  SmallVector<Value> at(prefix.take_front(batch));
  for (int64_t j = 0; j < last; ++j) {
    SmallVector<Value> where(prefix);
    where.push_back(b.create<arith::ConstantIndexOp>(l, j));
    Value i = b.create<tensor::ExtractOp>(l, indices, where);
    Value dim = b.createOrFold<tensor::DimOp>(l, data, batch + j);
    at.push_back(clampedIndex(b, l, i, dim));
  }
  at.append(rest.begin(), rest.end());
  return at;
}

struct GatherNDLowering : OpConversionPattern<onnx::GatherNDOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::GatherNDOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getOutput());
    auto idxType = rankedType(getTypeConverter(), op.getIndices());
    if (!type || !idxType || idxType.isDynamicDim(idxType.getRank() - 1))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    Value data = adaptor.getData(), indices = adaptor.getIndices();
    int64_t batch = op.getBatchDims(), q = idxType.getRank();
    int64_t last = idxType.getDimSize(q - 1);
    // Result: indices' dims but the last, then data's dims after the tuple.
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, indices);
    sizes.pop_back();
    SmallVector<OpFoldResult> dataSizes =
        tensor::getMixedSizes(rewriter, loc, data);
    sizes.append(dataSizes.begin() + batch + last, dataSizes.end());
    rewriter.replaceOp(
        op, buildIndexed(rewriter, loc, type, sizes, {}, {},
                         [&](OpBuilder &b, Location l, ValueRange,
                             ArrayRef<Value> iv) {
                           return b.create<tensor::ExtractOp>(
                               l, data,
                               tupleIndex(b, l, data, indices,
                                          iv.take_front(q - 1), batch,
                                          iv.drop_front(q - 1)));
                         }));
    return success();
  }
};

/// `old` combined with `update` by a scatter's `reduction`.
Value scatterCombine(OpBuilder &b, Location l, StringRef reduction, Value old,
                     Value update) {
  bool isFloat = isa<FloatType>(update.getType());
  if (reduction == "add")
    return isFloat ? Value(b.create<arith::AddFOp>(l, old, update))
                   : Value(b.create<arith::AddIOp>(l, old, update));
  if (reduction == "mul")
    return isFloat ? Value(b.create<arith::MulFOp>(l, old, update))
                   : Value(b.create<arith::MulIOp>(l, old, update));
  if (reduction == "max")
    return isFloat ? Value(b.create<arith::MaximumFOp>(l, old, update))
                   : Value(b.create<arith::MaxSIOp>(l, old, update));
  if (reduction == "min")
    return isFloat ? Value(b.create<arith::MinimumFOp>(l, old, update))
                   : Value(b.create<arith::MinSIOp>(l, old, update));
  return update;
}

/// `data` with every element of `updates` written at `target(indices of the
/// update)`, in order, combined by `reduction`.
Value buildScatter(
    OpBuilder &b, Location loc, Value data, Value updates,
    StringRef reduction,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ArrayRef<Value>)>
        target) {
  auto type = cast<RankedTensorType>(updates.getType());
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    lbs.push_back(b.create<arith::ConstantIndexOp>(loc, 0));
    ubs.push_back(b.createOrFold<tensor::DimOp>(loc, updates, d));
    steps.push_back(b.create<arith::ConstantIndexOp>(loc, 1));
  }
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, ValueRange{data},
      [&](OpBuilder &nb, Location l, ValueRange ivs,
          ValueRange acc) -> scf::ValueVector {
        SmallVector<Value> iv(ivs);
        Value update = nb.create<tensor::ExtractOp>(l, updates, iv);
        SmallVector<Value> at = target(nb, l, iv);
        Value old = nb.create<tensor::ExtractOp>(l, acc[0], at);
        Value v = scatterCombine(nb, l, reduction, old, update);
        return {nb.create<tensor::InsertOp>(l, v, acc[0], at)};
      });
  return nest.results.empty() ? data : nest.results.front();
}

/// MaxUnpool: zeros of the output's shape with every element of X written
/// at its flat index in I, clamped into the unpooled shape (as Gather
/// clamps) and split into its dims (output_shape only adds room after it,
/// as ONNX's reference pads).
struct MaxUnpoolLowering : OpConversionPattern<onnx::MaxUnpoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::MaxUnpoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getOutput());
    auto xt = dyn_cast<RankedTensorType>(adaptor.getX().getType());
    if (!type || !xt || xt.getRank() < 3 || type.getRank() != xt.getRank())
      return rewriter.notifyMatchFailure(op, "needs ranked [N, C, ...]");
    Location loc = op.getLoc();
    int64_t rank = type.getRank(), spatial = rank - 2;
    // The flat indices count in the unpooled shape, (in - 1) * stride -
    // pad_lo - pad_hi + kernel per spatial dim; output_shape, when given,
    // may add room after it.
    SizeMath m{rewriter, loc};
    std::optional<onnx::WindowGeometry> geom = onnx::windowGeometry(
        op, xt.getShape().drop_front(2)); // checked by the importer
    if (!geom)
      return rewriter.notifyMatchFailure(op, "needs a valid window");
    SmallVector<OpFoldResult> in =
        tensor::getMixedSizes(rewriter, loc, adaptor.getX());
    SmallVector<OpFoldResult> unpooled = {in[0], in[1]};
    for (int64_t i = 0; i < spatial; ++i) {
      OpFoldResult span =
          m.mul(m.sub(in[2 + i], m.c(1)), m.c(geom->strides[i]));
      unpooled.push_back(m.sub(
          span, m.c(geom->padsLo[i] + geom->padsHi[i] - geom->kernel[i])));
    }
    SmallVector<OpFoldResult> sizes = unpooled;
    if (op.getOutputShape()) {
      auto entries = shapeElements(rewriter, loc, op.getOutputShape());
      if (failed(entries) || int64_t(entries->size()) != rank)
        return rewriter.notifyMatchFailure(op, "needs output_shape's length");
      sizes = *entries;
      for (int64_t d = 0; d < rank; ++d)
        emitCheck(rewriter, loc,
                  m.cmp(arith::CmpIPredicate::sge, sizes[d], unpooled[d]),
                  "output_shape is smaller than the unpooled shape");
    }
    auto outType = refineType(type, sizes);
    Value zeros = buildFilled(rewriter, loc, outType, sizes,
                              rewriter.getZeroAttr(type.getElementType()));
    Value indices = adaptor.getI();
    Value total =
        indexValue(rewriter, loc, sizeProduct(rewriter, loc, unpooled));
    // A dynamic spatial dim can make the unpooled size empty or negative
    // (static ones are checked at import); an empty N or C leaves no writes.
    for (int64_t d = 2; d < rank; ++d)
      emitCheck(rewriter, loc,
                m.cmp(arith::CmpIPredicate::sgt, unpooled[d], m.c(0)),
                "MaxUnpool's unpooled size is not positive");
    SmallVector<Value> dims;
    for (OpFoldResult v : unpooled)
      dims.push_back(indexValue(rewriter, loc, v));
    Value y = buildScatter(
        rewriter, loc, zeros, adaptor.getX(), "none",
        [&](OpBuilder &b, Location l, ArrayRef<Value> iv) {
          Value flat = b.create<tensor::ExtractOp>(l, indices, iv);
          flat = clampedIndex(b, l, flat, total);
          // Row-major: the last dim varies fastest.
          SmallVector<Value> at(rank);
          for (int64_t d = rank - 1; d >= 0; --d) {
            at[d] = d == 0 ? flat : b.create<arith::RemUIOp>(l, flat, dims[d]);
            if (d > 0)
              flat = b.create<arith::DivUIOp>(l, flat, dims[d]);
          }
          return at;
        });
    if (y.getType() != type)
      y = rewriter.create<tensor::CastOp>(loc, type, y);
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct ScatterElementsLowering : OpConversionPattern<onnx::ScatterElementsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::ScatterElementsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto dataType = rankedType(getTypeConverter(), op.getData());
    if (!dataType || !rankedType(getTypeConverter(), op.getUpdates()))
      return rewriter.notifyMatchFailure(op, "needs ranked operands");
    Location loc = op.getLoc();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), dataType.getRank());
    Value data = adaptor.getData(), indices = adaptor.getIndices();
    Value dim = rewriter.createOrFold<tensor::DimOp>(loc, data, axis);
    rewriter.replaceOp(
        op, buildScatter(rewriter, loc, data, adaptor.getUpdates(),
                         op.getReduction(),
                         [&](OpBuilder &b, Location l, ArrayRef<Value> iv) {
                           SmallVector<Value> at(iv);
                           at[axis] = clampedIndex(
                               b, l, b.create<tensor::ExtractOp>(l, indices, iv),
                               dim);
                           return at;
                         }));
    return success();
  }
};

struct ScatterNDLowering : OpConversionPattern<onnx::ScatterNDOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::ScatterNDOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto idxType = rankedType(getTypeConverter(), op.getIndices());
    if (!idxType || idxType.isDynamicDim(idxType.getRank() - 1) ||
        !rankedType(getTypeConverter(), op.getUpdates()))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Value data = adaptor.getData(), indices = adaptor.getIndices();
    int64_t q = idxType.getRank();
    rewriter.replaceOp(
        op, buildScatter(rewriter, op.getLoc(), data, adaptor.getUpdates(),
                         op.getReduction(),
                         [&](OpBuilder &b, Location l, ArrayRef<Value> iv) {
                           return tupleIndex(b, l, data, indices,
                                             iv.take_front(q - 1), 0,
                                             iv.drop_front(q - 1));
                         }));
    return success();
  }
};

} // namespace

void tessera::populateONNXGatherScatterToLinalgPatterns(
    TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<GatherElementsLowering, GatherNDLowering,
               ScatterElementsLowering, ScatterNDLowering, MaxUnpoolLowering>(
      converter, patterns.getContext());
}
