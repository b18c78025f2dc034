//===- Tensor.cpp - onnx shape and data-movement ops to tensor/linalg -----===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/OpBuilders.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
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

/// Checks at run time that a Dropout is not training with a non-zero ratio
/// (without a ratio input, training drops half the elements).
LogicalResult checkNotRandom(OpBuilder &b, onnx::DropoutOp op, Value training,
                             Value ratio) {
  Location loc = op.getLoc();
  auto scalar = [&](Value v) -> Value {
    if (cast<RankedTensorType>(v.getType()).getRank() != 0)
      return {};
    return b.create<tensor::ExtractOp>(loc, v, ValueRange{});
  };
  Value train = scalar(training);
  Value r = ratio ? scalar(ratio) : Value();
  if (!train || (ratio && (!r || !isa<FloatType>(r.getType()))))
    return failure();
  Value randomFree = b.create<arith::ConstantOp>(loc, b.getBoolAttr(false));
  if (r)
    randomFree = b.create<arith::CmpFOp>(
        loc, arith::CmpFPredicate::OEQ, r,
        b.create<arith::ConstantOp>(loc, b.getZeroAttr(r.getType())));
  Value isTraining = b.create<arith::CmpIOp>(
      loc, arith::CmpIPredicate::ne, train,
      b.create<arith::ConstantOp>(loc, b.getZeroAttr(train.getType())));
  Value notTraining = b.create<arith::XOrIOp>(
      loc, isTraining, b.create<arith::ConstantOp>(loc, b.getBoolAttr(true)));
  emitCheck(b, loc, b.create<arith::OrIOp>(loc, notTraining, randomFree),
            "training-mode Dropout with a non-zero ratio is random: Tessera "
            "compiles models for inference");
  return success();
}

/// Inference Dropout: the data, and an all-true mask if asked for. A
/// training_mode known only at run time is checked then: training with a
/// ratio of 0 is the identity too, any other ratio would be random.
struct DropoutLowering : OpConversionPattern<onnx::DropoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::DropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<int64_t> values;
    if (Value training = adaptor.getTrainingMode();
        training && !getConstIntValues(training, values))
      if (failed(checkNotRandom(rewriter, op, training, adaptor.getRatio())))
        return rewriter.notifyMatchFailure(op, "needs scalar parameters");
    SmallVector<Value> results = {adaptor.getData()};
    if (Value mask = op.getMask()) {
      auto type = rankedType(getTypeConverter(), mask);
      if (!type)
        return rewriter.notifyMatchFailure(op, "needs a ranked shape");
      results.push_back(buildFilled(
          rewriter, op.getLoc(), type,
          tensor::getMixedSizes(rewriter, op.getLoc(), adaptor.getData()),
          rewriter.getBoolAttr(true)));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Checks at run time that `sizes` fit `type`'s static dims (the declared
/// result type), naming what they are (`what`).
void checkDeclaredDims(OpBuilder &b, Location loc, RankedTensorType type,
                       ArrayRef<OpFoldResult> sizes, StringRef what) {
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (!type.isDynamicDim(d))
      checkSameSize(b, loc, sizes[d], b.getIndexAttr(type.getDimSize(d)),
                    Twine(what) + " gives dim " + Twine(d) +
                        " a size other than the declared " +
                        Twine(type.getDimSize(d)));
}

/// Checks that every size is >= 0.
void checkNonNegative(SizeMath &m, ArrayRef<OpFoldResult> sizes,
                      StringRef what) {
  for (auto [d, s] : llvm::enumerate(sizes))
    emitCheck(m.b, m.loc, m.cmp(arith::CmpIPredicate::sge, s, m.c(0)),
              Twine(what) + " has a negative entry " + Twine(d));
}

/// Identity, Flatten, Squeeze, Unsqueeze: the first operand with the
/// result's shape; the sizes of dynamic dims come from the input.
template <typename OpTy>
struct ReshapeLikeLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(this->getTypeConverter(), op->getResult(0));
    Value in = adaptor.getOperands()[0];
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a ranked result");
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> sizes;
    if (!type.hasStaticShape()) {
      auto inSizes = tensor::getMixedSizes(rewriter, loc, in);
      if (failed(resultSizes(op, rewriter, inSizes, type, sizes)))
        return rewriter.notifyMatchFailure(op, "axes must be constant");
    }
    rewriter.replaceOp(op, buildReshape(rewriter, loc, in, type, sizes));
    return success();
  }

  static LogicalResult resultSizes(OpTy op, OpBuilder &b,
                                   ArrayRef<OpFoldResult> in,
                                   RankedTensorType type,
                                   SmallVectorImpl<OpFoldResult> &out) {
    int64_t rank = in.size();
    SizeMath m{b, op.getLoc()};
    if constexpr (std::is_same_v<OpTy, onnx::FlattenOp>) {
      int64_t axis = op.getAxis() < 0 ? op.getAxis() + rank : op.getAxis();
      out.push_back(sizeProduct(b, op.getLoc(), in.take_front(axis)));
      out.push_back(sizeProduct(b, op.getLoc(), in.drop_front(axis)));
      return success();
    } else if constexpr (std::is_same_v<OpTy, onnx::IdentityOp>) {
      out.assign(in.begin(), in.end());
      return success();
    } else {
      SmallVector<int64_t> axes;
      if (op.getAxes() && !getConstIntValues(op.getAxes(), axes))
        return failure();
      constexpr bool squeeze = std::is_same_v<OpTy, onnx::SqueezeOp>;
      int64_t outRank = type.getRank();
      for (int64_t &a : axes)
        a = onnx::normalizeAxis(a, squeeze ? rank : outRank);
      if (squeeze) {
        for (int64_t d = 0; d < rank; ++d) {
          bool dropped = axes.empty() ? getConstantIntValue(in[d]) == 1
                                      : llvm::is_contained(axes, d);
          if (!dropped)
            out.push_back(in[d]);
          else
            checkSameSize(b, op.getLoc(), in[d], m.c(1),
                          "squeezes dim " + Twine(d) + ", which is not 1");
        }
      } else {
        for (int64_t d = 0, next = 0; d < outRank; ++d)
          out.push_back(llvm::is_contained(axes, d) ? m.c(1) : in[next++]);
      }
      return success();
    }
  }
};

/// Reshape: the shape operand is the truth. A constant one is applied at
/// compile time; otherwise it is read at run time. ONNX's rules apply (0
/// copies the input's dim unless allowzero, one -1 is inferred) and an
/// impossible shape is a run-time error naming the node.
struct ReshapeLowering : OpConversionPattern<onnx::ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getReshaped());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a ranked result");
    Location loc = op.getLoc();
    Value data = adaptor.getData();
    SmallVector<int64_t> constShape;
    bool constant = getConstIntValues(adaptor.getShape(), constShape);
    if (constant && type.hasStaticShape() &&
        cast<RankedTensorType>(data.getType()).hasStaticShape()) {
      rewriter.replaceOp(op, buildReshape(rewriter, loc, data, type));
      return success();
    }
    auto entries = shapeElements(rewriter, loc, op.getShape());
    if (failed(entries) || int64_t(entries->size()) != type.getRank())
      return rewriter.notifyMatchFailure(op, "needs a shape of known length");
    SmallVector<OpFoldResult> in = tensor::getMixedSizes(rewriter, loc, data);
    SmallVector<OpFoldResult> sizes =
        applyReshapeRules(rewriter, loc, in, *entries, op.getAllowzero() != 0);
    checkDeclaredDims(rewriter, loc, type, sizes, "the shape");
    rewriter.replaceOp(op, buildReshape(rewriter, loc, data, type, sizes, in));
    return success();
  }

  static SmallVector<OpFoldResult>
  applyReshapeRules(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> in,
                    ArrayRef<OpFoldResult> entries, bool allowZero) {
    using P = arith::CmpIPredicate;
    SizeMath m{b, loc};
    SmallVector<OpFoldResult> dims, known;
    SmallVector<Value> isInferred;
    OpFoldResult numInferred = m.c(0);
    for (auto [k, v] : llvm::enumerate(entries)) {
      OpFoldResult dim = v;
      if (!allowZero) {
        Value zero = m.cmp(P::eq, v, m.c(0));
        if (k < in.size())
          dim = m.select(zero, in[k], v);
        else
          emitCheck(b, loc, m.cmp(P::ne, v, m.c(0)),
                    "the shape has a 0 at " + Twine(k) +
                        ", past the input's rank");
      }
      emitCheck(b, loc, m.cmp(P::sge, v, m.c(-1)),
                "the shape has a negative entry other than -1");
      Value inferred = m.cmp(P::eq, v, m.c(-1));
      numInferred = m.add(numInferred, m.select(inferred, m.c(1), m.c(0)));
      dims.push_back(dim);
      isInferred.push_back(inferred);
      known.push_back(m.select(inferred, m.c(1), dim));
    }
    emitCheck(b, loc, m.cmp(P::sle, numInferred, m.c(1)),
              "the shape has more than one -1");
    OpFoldResult total = sizeProduct(b, loc, in);
    OpFoldResult divisor = m.max(sizeProduct(b, loc, known), m.c(1));
    OpFoldResult rest = m.div(total, divisor);
    SmallVector<OpFoldResult> sizes;
    for (auto [dim, inferred] : llvm::zip(dims, isInferred))
      sizes.push_back(m.select(inferred, rest, dim));
    checkSameSize(b, loc, sizeProduct(b, loc, sizes), total,
                  "the shape does not have the input's number of elements");
    return sizes;
  }
};

struct TransposeLowering : OpConversionPattern<onnx::TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getTransposed());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a ranked result");
    SmallVector<int64_t> perm;
    for (Attribute a : op.getPerm())
      perm.push_back(cast<IntegerAttr>(a).getInt());
    SmallVector<OpFoldResult> in =
        tensor::getMixedSizes(rewriter, op.getLoc(), adaptor.getData());
    SmallVector<OpFoldResult> sizes;
    for (int64_t p : perm)
      sizes.push_back(in[p]);
    // Moving only dims of size 1 (197x1x768 -> 1x197x768, as
    // nn.MultiheadAttention's batch-first exports do) keeps the order of
    // the elements: a reshape, not a copy.
    auto inType = cast<RankedTensorType>(adaptor.getData().getType());
    SmallVector<int64_t> moved;
    for (int64_t p : perm)
      if (inType.getDimSize(p) != 1)
        moved.push_back(p);
    if (llvm::is_sorted(moved)) {
      rewriter.replaceOp(op, buildReshape(rewriter, op.getLoc(),
                                          adaptor.getData(), type, sizes, in));
      return success();
    }
    Value init = buildEmpty(rewriter, op.getLoc(), type, sizes);
    rewriter.replaceOp(op, rewriter
                               .create<linalg::TransposeOp>(
                                   op.getLoc(), adaptor.getData(), init, perm)
                               ->getResult(0));
    return success();
  }
};

/// The bounds of an integer Range, traced to sizes (see shapeElements).
struct TracedRange {
  OpFoldResult start, limit, delta;

  static FailureOr<TracedRange> get(ConversionPatternRewriter &rewriter,
                                    onnx::RangeOp op) {
    auto bound = [&](Value v) -> OpFoldResult {
      auto e = shapeElements(rewriter, op.getLoc(), v);
      return succeeded(e) && e->size() == 1 ? e->front() : OpFoldResult();
    };
    TracedRange r{bound(op.getStart()), bound(op.getLimit()),
                  bound(op.getDelta())};
    if (!r.start || !r.limit || !r.delta)
      return failure();
    return r;
  }

  /// max(ceil((limit - start) / delta), 0).
  OpFoldResult length(SizeMath &m) const {
    OpFoldResult span = m.sub(limit, start);
    OpFoldResult n = getConstantIntValue(delta) == 1
                         ? span
                         : m.fold(m.b.createOrFold<arith::CeilDivSIOp>(
                               m.loc, m.v(span), m.v(delta)));
    return m.max(n, m.c(0));
  }
};

/// Indices made by an integer Range with a constant step > 0 (GPT-2's
/// position ids, up to the sequence length) must fall in [-dim, dim): a
/// check on sizes only, so a sequence longer than a position table is
/// refused before a run, naming the node, instead of being clamped.
void checkRangeIndices(ConversionPatternRewriter &rewriter, Location loc,
                       Value indices, OpFoldResult dim, int64_t axis) {
  using P = arith::CmpIPredicate;
  auto range = indices.getDefiningOp<onnx::RangeOp>();
  if (!range)
    return;
  auto r = TracedRange::get(rewriter, range);
  if (failed(r))
    return;
  std::optional<int64_t> step = getConstantIntValue(r->delta);
  if (!step || *step <= 0)
    return;
  SizeMath m{rewriter, loc};
  OpFoldResult n = r->length(m);
  OpFoldResult last = m.add(r->start, m.mul(m.sub(n, m.c(1)), r->delta));
  Value inside = m.all({m.cmp(P::sge, r->start, m.sub(m.c(0), dim)),
                        m.cmp(P::slt, last, dim)});
  Value ok = rewriter.createOrFold<arith::OrIOp>(
      loc, m.cmp(P::eq, n, m.c(0)), inside);
  std::optional<int64_t> size = getConstantIntValue(dim);
  emitCheck(rewriter, loc, ok,
            "the indices (a Range) run past the " +
                (size ? Twine(*size) : Twine("run-time number of")) +
                " entries of axis " + Twine(axis));
}

struct GatherLowering : OpConversionPattern<onnx::GatherOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getOutput());
    auto dataType = rankedType(getTypeConverter(), op.getData());
    auto idxType = rankedType(getTypeConverter(), op.getIndices());
    if (!type || !dataType || !idxType)
      return rewriter.notifyMatchFailure(op, "needs ranked shapes");
    Location loc = op.getLoc();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), dataType.getRank());
    int64_t q = idxType.getRank();
    SmallVector<OpFoldResult> dataSizes =
        tensor::getMixedSizes(rewriter, loc, adaptor.getData());
    SmallVector<OpFoldResult> idxSizes =
        tensor::getMixedSizes(rewriter, loc, adaptor.getIndices());
    SmallVector<OpFoldResult> sizes(dataSizes.begin(), dataSizes.begin() + axis);
    sizes.append(idxSizes);
    sizes.append(dataSizes.begin() + axis + 1, dataSizes.end());
    // Indices are clamped into [0, dim): that needs dim > 0 unless nothing
    // is gathered.
    SizeMath m{rewriter, loc};
    std::optional<int64_t> dim = getConstantIntValue(dataSizes[axis]);
    Value dimValue = indexValue(rewriter, loc, dataSizes[axis]);
    Value lastValue = dim ? Value() : indexValue(rewriter, loc,
                                                 m.sub(dataSizes[axis], m.c(1)));
    if (!dim || *dim == 0)
      emitCheck(rewriter, loc,
                rewriter.createOrFold<arith::OrIOp>(
                    loc,
                    m.cmp(arith::CmpIPredicate::sgt, dataSizes[axis], m.c(0)),
                    m.cmp(arith::CmpIPredicate::eq,
                          sizeProduct(rewriter, loc, idxSizes), m.c(0))),
                "gathers from an empty axis");
    checkRangeIndices(rewriter, loc, op.getIndices(), dataSizes[axis], axis);
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> idxExprs;
    for (int64_t i = 0; i < q; ++i)
      idxExprs.push_back(getAffineDimExpr(axis + i, ctx));
    AffineMap idxMap = AffineMap::get(type.getRank(), 0, idxExprs, ctx);
    Value data = adaptor.getData();
    Value result = buildIndexed(
        rewriter, loc, type, sizes, {adaptor.getIndices()}, {idxMap},
        [&](OpBuilder &b, Location l, ValueRange args, ArrayRef<Value> iv) {
          // Negative indices count from the end; anything still outside
          // [0, dim) is clamped so that no read leaves the tensor (the
          // runtime rejects such model inputs before running).
          Value i = b.create<arith::IndexCastOp>(l, b.getIndexType(), args[0]);
          Value zero = indexConst(b, l, 0);
          Value n = dim ? indexConst(b, l, *dim) : dimValue;
          Value neg =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, i, zero);
          i = b.create<arith::SelectOp>(l, neg,
                                        b.create<arith::AddIOp>(l, i, n), i);
          i = b.create<arith::MaxSIOp>(l, i, zero);
          i = b.create<arith::MinSIOp>(
              l, i, dim ? indexConst(b, l, *dim - 1) : lastValue);
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
    auto type = rankedType(getTypeConverter(), op.getConcatResult());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a ranked result");
    Location loc = op.getLoc();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), type.getRank());
    SizeMath m{rewriter, loc};
    // The other dims from the first input (all must agree); the axis sums.
    SmallVector<SmallVector<OpFoldResult>> inSizes;
    for (Value in : adaptor.getInputs())
      inSizes.push_back(tensor::getMixedSizes(rewriter, loc, in));
    SmallVector<OpFoldResult> sizes(inSizes.front());
    sizes[axis] = m.c(0);
    for (auto [k, in] : llvm::enumerate(inSizes)) {
      sizes[axis] = m.add(sizes[axis], in[axis]);
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (d != axis && k > 0)
          checkSameSize(rewriter, loc, in[d], sizes[d],
                        "input " + Twine(k) + " differs from input 0 in dim " +
                            Twine(d));
    }
    Value result = buildEmpty(rewriter, loc, type, sizes);
    OpFoldResult offset = m.c(0);
    for (auto [in, inSize] : llvm::zip(adaptor.getInputs(), inSizes)) {
      if (getConstantIntValue(inSize[axis]) == 0)
        continue;
      SmallVector<OpFoldResult> offsets(type.getRank(), m.c(0));
      offsets[axis] = offset;
      SmallVector<OpFoldResult> strides(type.getRank(), m.c(1));
      result = rewriter.create<tensor::InsertSliceOp>(loc, in, result, offsets,
                                                      inSize, strides);
      offset = m.add(offset, inSize[axis]);
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

/// The first index read and the number of elements of one sliced dim of
/// size `n`, for a `step` of either sign (ONNX's clamping).
std::pair<OpFoldResult, OpFoldResult> sliceRange(SizeMath &m, OpFoldResult n,
                                                 OpFoldResult start,
                                                 OpFoldResult end,
                                                 OpFoldResult step) {
  using P = arith::CmpIPredicate;
  // Negative positions count from the end; then clamp into range.
  auto normalize = [&](OpFoldResult x, int64_t lo, OpFoldResult hi) {
    Value neg = m.cmp(P::slt, x, m.c(0));
    x = m.select(neg, m.add(x, n), x);
    return m.min(m.max(x, m.c(lo)), hi);
  };
  auto forward = [&] {
    OpFoldResult first = normalize(start, 0, n);
    OpFoldResult last = normalize(end, 0, n);
    return std::pair(first, m.sub(m.add(last, m.sub(step, m.c(1))), first));
  };
  auto backward = [&] {
    OpFoldResult first = normalize(start, 0, m.sub(n, m.c(1)));
    OpFoldResult last = normalize(end, -1, m.sub(n, m.c(1)));
    OpFoldResult count =
        m.sub(m.add(first, m.sub(m.c(0), m.add(step, m.c(1)))), last);
    return std::pair(first, count);
  };
  std::pair<OpFoldResult, OpFoldResult> range;
  if (auto s = getConstantIntValue(step)) {
    range = *s > 0 ? forward() : backward();
  } else {
    Value positive = m.cmp(P::sgt, step, m.c(0));
    auto [f1, c1] = forward();
    auto [f2, c2] = backward();
    range = {m.select(positive, f1, f2), m.select(positive, c1, c2)};
  }
  Value negative = m.cmp(P::slt, step, m.c(0));
  OpFoldResult magnitude = m.select(negative, m.sub(m.c(0), step), step);
  return {range.first, m.max(m.div(range.second, magnitude), m.c(0))};
}

/// The same at run time (dynamic dims, starts/ends computed by the graph,
/// axes and steps that are graph inputs): per dim the first index read, the
/// number of elements and the step. A dim takes the parameters of the last
/// entry whose axis names it; run-time axes and steps are selected per dim.
LogicalResult dynamicSliceParams(ConversionPatternRewriter &rewriter,
                                 SizeMath &m, onnx::SliceOp op, Value data,
                                 SmallVectorImpl<OpFoldResult> &offsets,
                                 SmallVectorImpl<OpFoldResult> &sizes,
                                 SmallVectorImpl<OpFoldResult> &step) {
  using P = arith::CmpIPredicate;
  auto starts = shapeElements(rewriter, m.loc, op.getStarts());
  auto ends = shapeElements(rewriter, m.loc, op.getEnds());
  if (failed(starts) || failed(ends))
    return failure();
  size_t count = starts->size();
  SmallVector<OpFoldResult> axes, steps;
  for (auto [v, out] : {std::pair{op.getAxes(), &axes}, {op.getSteps(), &steps}}) {
    if (!v)
      continue;
    auto elements = shapeElements(rewriter, m.loc, v);
    if (failed(elements) || elements->size() != count)
      return failure();
    *out = *elements;
  }
  if (axes.empty())
    for (size_t i = 0; i < count; ++i)
      axes.push_back(m.c(i));
  if (steps.empty())
    steps.assign(count, m.c(1));
  sizes = tensor::getMixedSizes(m.b, m.loc, data);
  int64_t rank = sizes.size();
  offsets.assign(rank, m.c(0));
  step.assign(rank, m.c(1));
  SmallVector<OpFoldResult> dims(sizes.begin(), sizes.end());
  for (size_t i = 0; i < count; ++i) {
    emitCheck(m.b, m.loc, m.cmp(P::ne, steps[i], m.c(0)), "slice step is 0");
    OpFoldResult axis = axes[i];
    axis = m.select(m.cmp(P::slt, axis, m.c(0)), m.add(axis, m.c(rank)), axis);
    emitCheck(m.b, m.loc,
              m.all({m.cmp(P::sge, axis, m.c(0)),
                     m.cmp(P::slt, axis, m.c(rank))}),
              "slice axis out of range");
    for (int64_t d = 0; d < rank; ++d) {
      Value here = m.cmp(P::eq, axis, m.c(d));
      if (auto c = getConstantIntValue(here); c && !*c)
        continue;
      auto [first, n] = sliceRange(m, dims[d], (*starts)[i], (*ends)[i],
                                   steps[i]);
      offsets[d] = m.select(here, first, offsets[d]);
      sizes[d] = m.select(here, n, sizes[d]);
      step[d] = m.select(here, steps[i], step[d]);
    }
  }
  return success();
}

struct SliceLowering : OpConversionPattern<onnx::SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getOutput());
    auto dataType = rankedType(getTypeConverter(), op.getData());
    if (!type || !dataType)
      return rewriter.notifyMatchFailure(op, "needs ranked shapes");
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> offsets, sizes, step;
    SmallVector<int64_t> start, staticStep;
    if (type.hasStaticShape() && dataType.hasStaticShape() &&
        succeeded(sliceParams(op, dataType, start, staticStep))) {
      for (int64_t d = 0; d < type.getRank(); ++d) {
        offsets.push_back(rewriter.getIndexAttr(start[d]));
        sizes.push_back(rewriter.getIndexAttr(type.getDimSize(d)));
        step.push_back(rewriter.getIndexAttr(staticStep[d]));
      }
    } else {
      SizeMath m{rewriter, loc};
      if (failed(dynamicSliceParams(rewriter, m, op, adaptor.getData(),
                                    offsets, sizes, step)))
        return rewriter.notifyMatchFailure(op, "checked before conversion");
      checkDeclaredDims(rewriter, loc, type, sizes, "the slice");
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (!type.isDynamicDim(d))
          sizes[d] = rewriter.getIndexAttr(type.getDimSize(d));
    }
    if (type.hasStaticShape() && type.getNumElements() == 0) {
      rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, type.getShape(),
                                                   type.getElementType());
      return success();
    }
    if (llvm::all_of(step, [](OpFoldResult s) {
          auto c = getConstantIntValue(s);
          return c && *c > 0;
        })) {
      Value slice = rewriter.create<tensor::ExtractSliceOp>(
          loc, adaptor.getData(), offsets, sizes, step);
      if (slice.getType() != type)
        slice = rewriter.create<tensor::CastOp>(loc, type, slice);
      rewriter.replaceOp(op, slice);
      return success();
    }
    // Negative or run-time steps: a gather.
    Value data = adaptor.getData();
    rewriter.replaceOp(
        op, buildIndexed(rewriter, loc, type, sizes, {}, {},
                         [&](OpBuilder &b, Location l, ValueRange,
                             ArrayRef<Value> iv) -> Value {
                           SmallVector<Value> at;
                           for (int64_t d = 0; d < type.getRank(); ++d) {
                             Value off = b.create<arith::MulIOp>(
                                 l, iv[d], indexValue(b, l, step[d]));
                             at.push_back(b.create<arith::AddIOp>(
                                 l, off, indexValue(b, l, offsets[d])));
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
    auto inType = rankedType(getTypeConverter(), op.getInput());
    if (!inType)
      return rewriter.notifyMatchFailure(op, "needs a ranked input");
    Location loc = op.getLoc();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), inType.getRank());
    SizeMath m{rewriter, loc};
    SmallVector<OpFoldResult> inSizes =
        tensor::getMixedSizes(rewriter, loc, adaptor.getInput());
    // A dynamic part (an even split of a dynamic dim) is ceil(n / parts),
    // the last one what is left.
    int64_t parts = op.getOutputs().size();
    OpFoldResult chunk =
        m.div(m.add(inSizes[axis], m.c(parts - 1)), m.c(parts));
    SmallVector<Value> results;
    OpFoldResult offset = m.c(0);
    for (Value r : op.getOutputs()) {
      auto type = rankedType(getTypeConverter(), r);
      if (!type)
        return rewriter.notifyMatchFailure(op, "needs ranked results");
      SmallVector<OpFoldResult> offsets(type.getRank(), m.c(0));
      offsets[axis] = offset;
      SmallVector<OpFoldResult> sizes(inSizes), strides(type.getRank(), m.c(1));
      sizes[axis] =
          type.isDynamicDim(axis)
              ? m.max(m.min(chunk, m.sub(inSizes[axis], offset)), m.c(0))
              : m.c(type.getDimSize(axis));
      checkDeclaredDims(rewriter, loc, type, sizes, "the split");
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (!type.isDynamicDim(d))
          sizes[d] = m.c(type.getDimSize(d));
      results.push_back(rewriter.create<tensor::ExtractSliceOp>(
          loc, type, adaptor.getInput(), offsets, sizes, strides));
      offset = m.add(offset, sizes[axis]);
    }
    checkSameSize(rewriter, loc, offset, inSizes[axis],
                  "the parts do not add up to the split dim");
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Expand: the numpy broadcast of the input and the shape operand (read at
/// run time unless constant).
struct ExpandLowering : OpConversionPattern<onnx::ExpandOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    using P = arith::CmpIPredicate;
    auto type = rankedType(getTypeConverter(), op.getOutput());
    auto inType = rankedType(getTypeConverter(), op.getInput());
    if (!type || !inType)
      return rewriter.notifyMatchFailure(op, "needs ranked shapes");
    Location loc = op.getLoc();
    Value in = adaptor.getInput();
    auto identity = [](OpBuilder &, Location, ValueRange a) { return a[0]; };
    SmallVector<int64_t> constShape;
    if (type.hasStaticShape() && inType.hasStaticShape() &&
        getConstIntValues(adaptor.getShape(), constShape)) {
      rewriter.replaceOp(
          op, buildElementwise(rewriter, loc, type, {in}, identity));
      return success();
    }
    auto shape = shapeElements(rewriter, loc, op.getShape());
    int64_t rank = type.getRank();
    if (failed(shape) || int64_t(shape->size()) > rank)
      return rewriter.notifyMatchFailure(op, "needs a shape of known length");
    SizeMath m{rewriter, loc};
    SmallVector<OpFoldResult> inSizes = tensor::getMixedSizes(rewriter, loc, in);
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t sd = d - (rank - shape->size()), id = d - (rank - inSizes.size());
      OpFoldResult s = sd >= 0 ? (*shape)[sd] : m.c(1);
      if (id < 0 || inType.getDimSize(id) == 1) {
        emitCheck(rewriter, loc, m.cmp(P::sge, s, m.c(0)),
                  "the shape has a negative entry");
        sizes.push_back(s);
        continue;
      }
      // The input's dim stays; the shape must say 1 or the same.
      emitCheck(rewriter, loc,
                rewriter.createOrFold<arith::OrIOp>(
                    loc, m.cmp(P::eq, s, m.c(1)), m.cmp(P::eq, s, inSizes[id])),
                "the shape does not broadcast with the input in dim " +
                    Twine(d));
      sizes.push_back(inSizes[id]);
    }
    checkDeclaredDims(rewriter, loc, type, sizes, "the shape");
    rewriter.replaceOp(
        op, buildElementwise(rewriter, loc, type, sizes, {in}, identity));
    return success();
  }
};

struct TileLowering : OpConversionPattern<onnx::TileOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::TileOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getOutput());
    auto inType = rankedType(getTypeConverter(), op.getInput());
    if (!type || !inType)
      return rewriter.notifyMatchFailure(op, "needs ranked shapes");
    Location loc = op.getLoc();
    Value in = adaptor.getInput();
    SmallVector<OpFoldResult> inSizes = tensor::getMixedSizes(rewriter, loc, in);
    SmallVector<OpFoldResult> sizes;
    SmallVector<int64_t> constRepeats;
    if (!type.hasStaticShape() || !inType.hasStaticShape() ||
        !getConstIntValues(adaptor.getRepeats(), constRepeats)) {
      auto repeats = shapeElements(rewriter, loc, op.getRepeats());
      if (failed(repeats) || int64_t(repeats->size()) != type.getRank())
        return rewriter.notifyMatchFailure(op, "needs repeats of known length");
      SizeMath m{rewriter, loc};
      checkNonNegative(m, *repeats, "repeats");
      for (auto [r, n] : llvm::zip(*repeats, inSizes))
        sizes.push_back(m.mul(r, n));
      checkDeclaredDims(rewriter, loc, type, sizes, "the repeats");
    }
    SmallVector<Value> inDims;
    for (int64_t d = 0; d < inType.getRank(); ++d)
      inDims.push_back(inType.isDynamicDim(d)
                           ? indexValue(rewriter, loc, inSizes[d])
                           : Value());
    rewriter.replaceOp(
        op, buildIndexed(rewriter, loc, type, sizes, {}, {},
                         [&](OpBuilder &b, Location l, ValueRange,
                             ArrayRef<Value> iv) -> Value {
                           SmallVector<Value> at;
                           for (int64_t d = 0; d < type.getRank(); ++d)
                             at.push_back(b.create<arith::RemUIOp>(
                                 l, iv[d],
                                 inDims[d] ? inDims[d]
                                           : indexConst(b, l,
                                                        inType.getDimSize(d))));
                           return b.create<tensor::ExtractOp>(l, in, at);
                         }));
    return success();
  }
};

struct RangeLowering : OpConversionPattern<onnx::RangeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::RangeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getOutput());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a ranked result");
    Location loc = op.getLoc();
    Value start = firstElement(rewriter, loc, adaptor.getStart());
    Value delta = firstElement(rewriter, loc, adaptor.getDelta());
    Type elt = type.getElementType();
    SmallVector<OpFoldResult> sizes;
    if (type.isDynamicDim(0) && isa<IntegerType>(elt)) {
      // Integer bounds come from shape arithmetic (position ids up to the
      // sequence length): traced, the length reifies to input dims.
      auto r = TracedRange::get(rewriter, op);
      if (failed(r))
        return rewriter.notifyMatchFailure(op, "needs scalar bounds");
      SizeMath m{rewriter, loc};
      emitCheck(rewriter, loc,
                m.cmp(arith::CmpIPredicate::ne, r->delta, m.c(0)),
                "delta is 0");
      sizes.push_back(r->length(m));
    } else if (type.isDynamicDim(0)) {
      // Floats: max(ceil((limit - start) / delta), 0) elements; delta != 0.
      Value limit = firstElement(rewriter, loc, adaptor.getLimit());
      Value q = rewriter.create<arith::DivFOp>(
          loc, rewriter.create<arith::SubFOp>(loc, limit, start), delta);
      Value n = rewriter.create<arith::FPToSIOp>(
          loc, rewriter.getI64Type(), rewriter.create<math::CeilOp>(loc, q));
      Value zero = rewriter.create<arith::ConstantOp>(
          loc, rewriter.getFloatAttr(elt, 0.0));
      emitCheck(rewriter, loc,
                rewriter.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE,
                                               delta, zero),
                "delta is 0");
      n = rewriter.create<arith::IndexCastOp>(loc, rewriter.getIndexType(), n);
      n = rewriter.create<arith::MaxSIOp>(
          loc, n, rewriter.create<arith::ConstantIndexOp>(loc, 0));
      sizes.push_back(n);
    }
    rewriter.replaceOp(
        op,
        buildIndexed(rewriter, loc, type, sizes, {}, {},
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
  matchAndRewrite(onnx::ConstantOfShapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getOutput());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a ranked result");
    // The shape operand, read at run time unless constant.
    SmallVector<int64_t> constShape;
    SmallVector<OpFoldResult> sizes;
    if (!type.hasStaticShape() ||
        !getConstIntValues(adaptor.getInput(), constShape)) {
      auto shape = shapeElements(rewriter, op.getLoc(), op.getInput());
      if (failed(shape) || int64_t(shape->size()) != type.getRank())
        return rewriter.notifyMatchFailure(op, "needs a shape of known length");
      SizeMath m{rewriter, op.getLoc()};
      checkNonNegative(m, *shape, "the shape");
      checkDeclaredDims(rewriter, op.getLoc(), type, *shape, "the shape");
      sizes = *shape;
    }
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
    rewriter.replaceOp(op,
                       buildFilled(rewriter, op.getLoc(), type, sizes, value));
    return success();
  }
};

struct TriluLowering : OpConversionPattern<onnx::TriluOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::TriluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getOutput());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a ranked result");
    Location loc = op.getLoc();
    Value k = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    if (adaptor.getK())
      k = rewriter.create<arith::IndexCastOp>(
          loc, rewriter.getIndexType(),
          firstElement(rewriter, loc, adaptor.getK()));
    bool upper = op.getUpper() != 0;
    int64_t rank = type.getRank();
    Value zero = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(type.getElementType()));
    rewriter.replaceOp(
        op, buildIndexed(
                rewriter, loc, type,
                tensor::getMixedSizes(rewriter, loc, adaptor.getInput()),
                {adaptor.getInput()},
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

/// Shape and Size: constants for static dims, tensor.dim for dynamic ones.
template <typename OpTy>
struct ShapeQueryLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto in = rankedType(this->getTypeConverter(), op.getData());
    if (!in)
      return rewriter.notifyMatchFailure(op, "needs a ranked input");
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, adaptor.getData());
    SmallVector<OpFoldResult> values;
    if constexpr (std::is_same_v<OpTy, onnx::SizeOp>) {
      values.push_back(sizeProduct(rewriter, loc, sizes));
    } else {
      auto [start, end] = onnx::shapeRange(op, in.getRank());
      values.assign(sizes.begin() + start, sizes.begin() + end);
    }
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    if (llvm::all_of(values, [](OpFoldResult v) {
          return getConstantIntValue(v).has_value();
        })) {
      SmallVector<int64_t> ints = llvm::map_to_vector(
          values, [](OpFoldResult v) { return *getConstantIntValue(v); });
      rewriter.replaceOpWithNewOp<arith::ConstantOp>(
          op, DenseIntElementsAttr::get(type, ints));
      return success();
    }
    SmallVector<Value> elements;
    for (OpFoldResult v : values)
      elements.push_back(rewriter.create<arith::IndexCastOp>(
          loc, rewriter.getI64Type(), indexValue(rewriter, loc, v)));
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, type, elements);
    return success();
  }
};

} // namespace

Value tessera::lowering::buildIndexed(
    OpBuilder &b, Location loc, RankedTensorType type,
    ArrayRef<OpFoldResult> sizes, ValueRange inputs,
    ArrayRef<AffineMap> inputMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange, ArrayRef<Value>)>
        body) {
  int64_t rank = type.getRank();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = buildEmpty(b, loc, type, sizes);
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

Value tessera::lowering::clampedIndex(OpBuilder &b, Location l, Value i,
                                      Value dim) {
  i = b.create<arith::IndexCastOp>(l, b.getIndexType(), i);
  Value zero = b.create<arith::ConstantIndexOp>(l, 0);
  Value neg = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, i, zero);
  i = b.create<arith::SelectOp>(l, neg, b.create<arith::AddIOp>(l, i, dim), i);
  i = b.create<arith::MaxSIOp>(l, i, zero);
  return b.create<arith::MinSIOp>(
      l, i,
      b.create<arith::SubIOp>(l, dim, b.create<arith::ConstantIndexOp>(l, 1)));
}

void tessera::populateONNXTensorToLinalgPatterns(TypeConverter &tc,
                                                 RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns
      .add<ConstantLowering, ReshapeLikeLowering<onnx::IdentityOp>,
           DropoutLowering, ReshapeLowering,
           ReshapeLikeLowering<onnx::FlattenOp>,
           ReshapeLikeLowering<onnx::SqueezeOp>,
           ReshapeLikeLowering<onnx::UnsqueezeOp>, TransposeLowering,
           GatherLowering, ConcatLowering, SliceLowering, SplitLowering,
           ExpandLowering, TileLowering, RangeLowering, ConstantOfShapeLowering,
           TriluLowering, ShapeQueryLowering<onnx::ShapeOfOp>,
           ShapeQueryLowering<onnx::SizeOp>>(tc, ctx);
}
