//===- DataMovement.cpp - onnx data-movement ops to linalg ----------------===//
//
// Part of Tessera. DepthToSpace/SpaceToDepth (one generic reading the input
// through a floordiv/mod map), EyeLike and OneHot (generics over the result's
// indices), Pad (every mode: constant, edge, reflect, wrap; pads traced to
// sizes or read at run time, checked against the declared shape) and TopK
// (each element's rank in its row, counted by one reduction, then the k
// elements of rank 0..k-1 selected by a second: no sort, only linalg).
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/OpBuilders.h"
#include "dialects/onnx/ONNXDialect.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

using P = arith::CmpIPredicate;

/// A generic copying `x` into `type` (sizes `sizes`), reading x through
/// `read` (a map from the result's indices).
Value buildPermutingCopy(OpBuilder &b, Location loc, Value x,
                         RankedTensorType type, ArrayRef<OpFoldResult> sizes,
                         AffineMap read) {
  int64_t rank = type.getRank();
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{type}, ValueRange{x},
          ValueRange{buildEmpty(b, loc, type, sizes)},
          SmallVector<AffineMap>{read, b.getMultiDimIdentityMap(rank)},
          SmallVector<utils::IteratorType>(rank,
                                           utils::IteratorType::parallel),
          [](OpBuilder &nb, Location l, ValueRange a) {
            nb.create<linalg::YieldOp>(l, a[0]);
          })
      .getResult(0);
}

/// DepthToSpace (DCR or CRD) and SpaceToDepth on [N, C, H, W].
template <typename OpTy>
struct BlockMoveLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  static constexpr bool toSpace = std::is_same_v<OpTy, onnx::DepthToSpaceOp>;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(this->getTypeConverter(), op.getOutput());
    auto in = rankedType(this->getTypeConverter(), op.getInput());
    int64_t b = op.getBlocksize();
    if (!type || !in || in.getRank() != 4 || in.isDynamicDim(1) || b < 1)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr n = getAffineDimExpr(0, ctx), c = getAffineDimExpr(1, ctx),
               h = getAffineDimExpr(2, ctx), w = getAffineDimExpr(3, ctx);
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, adaptor.getInput());
    SizeMath m{rewriter, loc};
    SmallVector<AffineExpr> read;
    if constexpr (toSpace) {
      int64_t channels = in.getDimSize(1) / (b * b);
      AffineExpr block = (h % b) * b + w % b;
      AffineExpr source = op.getMode() == "CRD" ? c * (b * b) + block
                                                : block * channels + c;
      read = {n, source, h.floorDiv(b), w.floorDiv(b)};
      sizes = {sizes[0], m.c(channels), m.mul(sizes[2], m.c(b)),
               m.mul(sizes[3], m.c(b))};
    } else {
      int64_t channels = in.getDimSize(1);
      AffineExpr block = c.floorDiv(channels);
      read = {n, c % channels, h * b + block.floorDiv(b), w * b + block % b};
      sizes = {sizes[0], m.c(channels * b * b), m.div(sizes[2], m.c(b)),
               m.div(sizes[3], m.c(b))};
    }
    rewriter.replaceOp(op, buildPermutingCopy(rewriter, loc, adaptor.getInput(),
                                              type, sizes,
                                              AffineMap::get(4, 0, read, ctx)));
    return success();
  }
};

Value scalarConstant(OpBuilder &b, Location loc, Type elt, double v) {
  if (isa<FloatType>(elt))
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(elt, v));
  return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(elt, int64_t(v)));
}

/// ReverseSequence: one gather over the input; along the time axis, step t
/// of batch entry b reads step len_b - 1 - t while t < len_b (lengths
/// clamped into [0, steps]).
struct ReverseSequenceLowering : OpConversionPattern<onnx::ReverseSequenceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::ReverseSequenceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getY());
    if (!type || type.getRank() < 2)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), lens = adaptor.getSequenceLens();
    int64_t time = op.getTimeAxis(), batch = op.getBatchAxis();
    Value steps = rewriter.create<tensor::DimOp>(loc, input, time);
    rewriter.replaceOp(
        op, buildIndexed(
                rewriter, loc, type,
                tensor::getMixedSizes(rewriter, loc, input), {}, {},
                [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> iv) {
                  Value len = b.create<tensor::ExtractOp>(l, lens, iv[batch]);
                  len = b.create<arith::IndexCastOp>(l, b.getIndexType(), len);
                  Value zero = b.create<arith::ConstantIndexOp>(l, 0);
                  len = b.create<arith::MinSIOp>(
                      l, b.create<arith::MaxSIOp>(l, len, zero), steps);
                  Value t = iv[time];
                  Value one = b.create<arith::ConstantIndexOp>(l, 1);
                  Value back = b.create<arith::SubIOp>(
                      l, b.create<arith::SubIOp>(l, len, one), t);
                  Value reversed = b.create<arith::CmpIOp>(l, P::slt, t, len);
                  SmallVector<Value> at(iv);
                  at[time] = b.create<arith::SelectOp>(l, reversed, back, t);
                  return b.create<tensor::ExtractOp>(l, input, at);
                }));
    return success();
  }
};

struct EyeLikeLowering : OpConversionPattern<onnx::EyeLikeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::EyeLikeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getOutput());
    if (!type || type.getRank() != 2)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    Type elt = type.getElementType();
    int64_t k = op.getK();
    rewriter.replaceOp(
        op, buildIndexed(
                rewriter, loc, type,
                tensor::getMixedSizes(rewriter, loc, adaptor.getInput()), {},
                {},
                [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> iv) {
                  Value diff = b.create<arith::SubIOp>(l, iv[1], iv[0]);
                  Value on = b.create<arith::CmpIOp>(
                      l, P::eq, diff, b.create<arith::ConstantIndexOp>(l, k));
                  return b.create<arith::SelectOp>(
                      l, on, scalarConstant(b, l, elt, 1),
                      scalarConstant(b, l, elt, 0));
                }));
    return success();
  }
};

struct OneHotLowering : OpConversionPattern<onnx::OneHotOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::OneHotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getOutput());
    if (!type || !rankedType(getTypeConverter(), op.getIndices()))
      return rewriter.notifyMatchFailure(op, "needs ranked operands");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = type.getRank();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), rank);
    Value depth = toIndex(rewriter, loc, firstElement(rewriter, loc,
                                                      adaptor.getDepth()));
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, adaptor.getIndices());
    OpFoldResult depthSize = depth;
    if (!type.isDynamicDim(axis)) {
      depthSize = rewriter.getIndexAttr(type.getDimSize(axis));
      checkSameSize(rewriter, loc, depth, depthSize,
                    "depth differs from the output size the model declares");
    }
    sizes.insert(sizes.begin() + axis, depthSize);
    Value values = adaptor.getValues();
    Value c0 = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value c1 = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    Value off = rewriter.create<tensor::ExtractOp>(loc, values, c0);
    Value on = rewriter.create<tensor::ExtractOp>(loc, values, c1);
    Value n = indexValue(rewriter, loc, depthSize);
    SmallVector<AffineExpr> read;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        read.push_back(getAffineDimExpr(d, ctx));
    rewriter.replaceOp(
        op, buildIndexed(
                rewriter, loc, type, sizes, {adaptor.getIndices()},
                {AffineMap::get(rank, 0, read, ctx)},
                [&](OpBuilder &b, Location l, ValueRange a, ArrayRef<Value> iv) {
                  Value i = toIndex(b, l, a[0]);
                  Value zero = b.create<arith::ConstantIndexOp>(l, 0);
                  Value neg = b.create<arith::CmpIOp>(l, P::slt, i, zero);
                  i = b.create<arith::SelectOp>(
                      l, neg, b.create<arith::AddIOp>(l, i, n), i);
                  Value hit = b.create<arith::CmpIOp>(l, P::eq, i, iv[axis]);
                  return b.create<arith::SelectOp>(l, hit, on, off);
                }));
    return success();
  }
};

/// Where output index `i` of a padded dim reads the input (size `n`, `lo`
/// elements before it), and whether it reads it at all (constant mode).
std::pair<Value, Value> padSource(OpBuilder &b, Location l, StringRef mode,
                                  Value i, Value lo, Value n) {
  Value zero = b.create<arith::ConstantIndexOp>(l, 0);
  Value one = b.create<arith::ConstantIndexOp>(l, 1);
  Value last = b.create<arith::SubIOp>(l, n, one);
  Value src = b.create<arith::SubIOp>(l, i, lo);
  auto clamp = [&](Value v) {
    return b.create<arith::MinSIOp>(l, b.create<arith::MaxSIOp>(l, v, zero),
                                    last);
  };
  auto positiveRem = [&](Value v, Value p) -> Value {
    Value r = b.create<arith::RemSIOp>(l, v, p);
    return b.create<arith::RemSIOp>(l, b.create<arith::AddIOp>(l, r, p), p);
  };
  Value inside = b.create<arith::AndIOp>(
      l, b.create<arith::CmpIOp>(l, P::sge, src, zero),
      b.create<arith::CmpIOp>(l, P::slt, src, n));
  if (mode == "wrap")
    return {positiveRem(src, n), inside};
  if (mode == "reflect") {
    // Period 2 (n - 1): ... 2 1 | 0 1 2 ... n-1 | n-2 ...; n = 1 repeats.
    Value period = b.create<arith::MaxSIOp>(
        l, b.create<arith::AddIOp>(l, last, last), one);
    Value r = positiveRem(src, period);
    Value back = b.create<arith::SubIOp>(l, period, r);
    Value j = b.create<arith::SelectOp>(
        l, b.create<arith::CmpIOp>(l, P::sge, r, n), back, r);
    return {clamp(j), inside};
  }
  return {clamp(src), inside};
}

struct PadLowering : OpConversionPattern<onnx::PadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getOutput());
    auto in = rankedType(getTypeConverter(), op.getData());
    if (!type || !in)
      return rewriter.notifyMatchFailure(op, "needs ranked operands");
    Location loc = op.getLoc();
    int64_t rank = in.getRank();
    StringRef mode = op.getMode();
    SmallVector<int64_t> axes;
    if (op.getAxes() && !getConstIntValues(adaptor.getAxes(), axes))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    if (!op.getAxes())
      for (int64_t d = 0; d < rank; ++d)
        axes.push_back(d);
    auto pads = shapeElements(rewriter, loc, op.getPads());
    if (failed(pads) || pads->size() != 2 * axes.size())
      return rewriter.notifyMatchFailure(op, "pads must match the axes");
    SizeMath m{rewriter, loc};
    SmallVector<OpFoldResult> inSizes =
        tensor::getMixedSizes(rewriter, loc, adaptor.getData());
    SmallVector<OpFoldResult> lo(rank, m.c(0)), sizes(inSizes);
    for (auto [j, a] : llvm::enumerate(axes)) {
      int64_t d = onnx::normalizeAxis(a, rank);
      lo[d] = (*pads)[j];
      sizes[d] = m.add(m.add(inSizes[d], (*pads)[j]),
                       (*pads)[j + axes.size()]);
    }
    for (int64_t d = 0; d < rank; ++d)
      if (!type.isDynamicDim(d)) {
        checkSameSize(rewriter, loc, sizes[d], m.c(type.getDimSize(d)),
                      "the pads give another output shape than the model "
                      "declares");
        sizes[d] = m.c(type.getDimSize(d));
      }
    Type elt = type.getElementType();
    Value fill = adaptor.getConstantValue()
                     ? firstElement(rewriter, loc, adaptor.getConstantValue())
                     : scalarConstant(rewriter, loc, elt, 0);
    SmallVector<Value> loValues, inValues;
    for (int64_t d = 0; d < rank; ++d) {
      loValues.push_back(indexValue(rewriter, loc, lo[d]));
      inValues.push_back(indexValue(rewriter, loc, inSizes[d]));
    }
    Value data = adaptor.getData();
    rewriter.replaceOp(
        op, buildIndexed(
                rewriter, loc, type, sizes, {}, {},
                [&](OpBuilder &b, Location l, ValueRange,
                    ArrayRef<Value> iv) -> Value {
                  SmallVector<Value> at;
                  Value inside = b.create<arith::ConstantIntOp>(l, 1, 1);
                  for (int64_t d = 0; d < rank; ++d) {
                    auto [src, ok] = padSource(b, l, mode, iv[d], loValues[d],
                                               inValues[d]);
                    at.push_back(src);
                    inside = b.create<arith::AndIOp>(l, inside, ok);
                  }
                  Value v = b.create<tensor::ExtractOp>(l, data, at);
                  if (mode != "constant")
                    return v;
                  return b.create<arith::SelectOp>(l, inside, v, fill);
                }));
    return success();
  }
};

/// Whether `a` (at index `ia`) comes before `c` (at `ic`) in TopK's order:
/// larger (or smaller) first, ties by the smaller index.
Value topKBefore(OpBuilder &b, Location l, Value a, Value ia, Value c,
                 Value ic, bool largest) {
  Value better, equal;
  if (isa<FloatType>(a.getType())) {
    better = b.create<arith::CmpFOp>(l, largest ? arith::CmpFPredicate::OGT
                                                : arith::CmpFPredicate::OLT,
                                     a, c);
    equal = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, a, c);
  } else {
    better = b.create<arith::CmpIOp>(l, largest ? P::sgt : P::slt, a, c);
    equal = b.create<arith::CmpIOp>(l, P::eq, a, c);
  }
  Value earlier = b.create<arith::CmpIOp>(l, P::slt, ia, ic);
  return b.create<arith::OrIOp>(l, better,
                                b.create<arith::AndIOp>(l, equal, earlier));
}

struct TopKLowering : OpConversionPattern<onnx::TopKOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::TopKOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto in = rankedType(getTypeConverter(), op.getX());
    auto valuesType = rankedType(getTypeConverter(), op.getValues());
    auto indicesType = rankedType(getTypeConverter(), op.getIndices());
    if (!in || !valuesType || !indicesType)
      return rewriter.notifyMatchFailure(op, "needs ranked operands");
    int64_t rank = in.getRank();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), rank);
    if (valuesType.isDynamicDim(axis))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    bool largest = op.getLargest() != 0;
    int64_t k = valuesType.getDimSize(axis);
    Value x = adaptor.getX();
    Value kGiven = toIndex(rewriter, loc, firstElement(rewriter, loc,
                                                       adaptor.getK()));
    checkSameSize(rewriter, loc, kGiven, rewriter.getIndexAttr(k),
                  "k differs from the output size the model declares");

    // rank[..., i, ...] = #{l : x[..., l, ...] comes before x[..., i, ...]},
    // over (dims of x..., l).
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, x);
    SmallVector<AffineExpr> own, other;
    for (int64_t d = 0; d < rank; ++d) {
      own.push_back(getAffineDimExpr(d, ctx));
      other.push_back(getAffineDimExpr(d == axis ? rank : d, ctx));
    }
    auto i64 = rewriter.getI64Type();
    auto ranksType = RankedTensorType::get(in.getShape(), i64);
    SmallVector<utils::IteratorType> iters(rank,
                                           utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    Value ranks =
        rewriter
            .create<linalg::GenericOp>(
                loc, TypeRange{ranksType}, ValueRange{x, x},
                ValueRange{buildFilled(rewriter, loc, ranksType, sizes,
                                       rewriter.getI64IntegerAttr(0))},
                SmallVector<AffineMap>{AffineMap::get(rank + 1, 0, own, ctx),
                                       AffineMap::get(rank + 1, 0, other, ctx),
                                       AffineMap::get(rank + 1, 0, own, ctx)},
                iters,
                [&](OpBuilder &b, Location l, ValueRange a) {
                  Value i = b.create<linalg::IndexOp>(l, axis);
                  Value j = b.create<linalg::IndexOp>(l, rank);
                  Value before = topKBefore(b, l, a[1], j, a[0], i, largest);
                  Value one = b.create<arith::ExtUIOp>(l, i64, before);
                  b.create<linalg::YieldOp>(
                      l, ValueRange{b.create<arith::AddIOp>(l, a[2], one)});
                })
            .getResult(0);

    // values/indices[..., j, ...] = the element of rank j, over (out..., i).
    SmallVector<OpFoldResult> outSizes(sizes);
    outSizes[axis] = rewriter.getIndexAttr(k);
    Type elt = valuesType.getElementType();
    Value values = buildFilled(rewriter, loc, valuesType, outSizes,
                               rewriter.getZeroAttr(elt));
    Value indices = buildFilled(rewriter, loc, indicesType, outSizes,
                                rewriter.getI64IntegerAttr(0));
    auto select = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{valuesType, indicesType}, ValueRange{x, ranks},
        ValueRange{values, indices},
        SmallVector<AffineMap>{AffineMap::get(rank + 1, 0, other, ctx),
                               AffineMap::get(rank + 1, 0, other, ctx),
                               AffineMap::get(rank + 1, 0, own, ctx),
                               AffineMap::get(rank + 1, 0, own, ctx)},
        iters, [&](OpBuilder &b, Location l, ValueRange a) {
          Value j = b.create<arith::IndexCastOp>(
              l, i64, b.create<linalg::IndexOp>(l, axis));
          Value i = b.create<arith::IndexCastOp>(
              l, i64, b.create<linalg::IndexOp>(l, rank));
          Value hit = b.create<arith::CmpIOp>(l, P::eq, a[1], j);
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::SelectOp>(l, hit, a[0], a[2]),
                            b.create<arith::SelectOp>(l, hit, i, a[3])});
        });
    rewriter.replaceOp(op, select.getResults());
    return success();
  }
};

/// Whether every dim of `v` but the first is static (only the batch may be dynamic).
bool staticAfterBatch(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && llvm::none_of(t.getShape().drop_front(), ShapedType::isDynamic);
}

} // namespace

std::optional<std::string> tessera::dataAndWindowOpProblem(Operation *op) {
  if (isa<onnx::MaxPoolOp, onnx::AveragePoolOp, onnx::LpPoolOp,
          onnx::GlobalMaxPoolOp, onnx::GlobalAveragePoolOp,
          onnx::GlobalLpPoolOp, onnx::ConvTransposeOp>(op) &&
      (!staticAfterBatch(op->getOperand(0)) ||
       !staticAfterBatch(op->getResult(0))))
    return std::string("only the batch dimension of a pooling or transposed "
                       "convolution may be dynamic");
  if (auto resize = dyn_cast<onnx::ResizeOp>(op)) {
    auto type = dyn_cast<RankedTensorType>(resize.getY().getType());
    if (!type || !type.hasStaticShape())
      return std::string("Resize needs a static output shape (scales or "
                         "sizes computed at run time give none)");
    if (resize.getAntialias() || resize.getAxes() ||
        resize.getKeepAspectRatioPolicy() != "stretch")
      return std::string("Resize's antialias, axes and "
                         "keep_aspect_ratio_policy are not supported");
    if (resize.getCoordinateTransformationMode() == "tf_crop_and_resize" &&
        !resize.getRoi())
      return std::string("tf_crop_and_resize needs roi");
  }
  if (auto topk = dyn_cast<onnx::TopKOp>(op)) {
    auto type = dyn_cast<RankedTensorType>(topk.getValues().getType());
    auto in = dyn_cast<RankedTensorType>(topk.getX().getType());
    if (!type || !in ||
        type.isDynamicDim(onnx::normalizeAxis(topk.getAxis(), in.getRank())))
      return std::string("TopK needs a k known at compile time (here the "
                         "output size along the axis is not)");
  }
  if (auto q = dyn_cast<onnx::QuantizeLinearOp>(op); q && q.getBlockSize())
    return std::string("blocked quantization is not supported");
  if (auto q = dyn_cast<onnx::DequantizeLinearOp>(op); q && q.getBlockSize())
    return std::string("blocked quantization is not supported");
  if (isa<onnx::GatherNDOp, onnx::ScatterNDOp>(op)) {
    auto t = dyn_cast<RankedTensorType>(op->getOperand(1).getType());
    if (!t || t.isDynamicDim(t.getRank() - 1))
      return std::string("the last dimension of indices must be static");
  }
  if (auto pad = dyn_cast<onnx::PadOp>(op)) {
    SmallVector<int64_t> axes;
    if (pad.getAxes() && !getConstIntValues(pad.getAxes(), axes))
      return std::string("Pad's axes must be a constant");
  }
  return std::nullopt;
}

void tessera::populateONNXDataMovementToLinalgPatterns(
    TypeConverter &converter, RewritePatternSet &patterns) {
  patterns
      .add<BlockMoveLowering<onnx::DepthToSpaceOp>,
           BlockMoveLowering<onnx::SpaceToDepthOp>, EyeLikeLowering,
           OneHotLowering, PadLowering, ReverseSequenceLowering, TopKLowering>(
          converter, patterns.getContext());
}
