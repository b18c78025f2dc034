//===- NN.cpp - onnx matmul, normalisation and reduction ops to linalg ----===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/OpBuilders.h"
#include "compiler/lowering/Reductions.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <map>

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

Value zeroFilled(OpBuilder &b, Location loc, RankedTensorType type,
                 ArrayRef<OpFoldResult> sizes = {}) {
  return buildFilled(b, loc, type, sizes, b.getZeroAttr(type.getElementType()));
}

Value fconst(OpBuilder &b, Location loc, Type t, double v) {
  return b.create<arith::ConstantOp>(loc, b.getFloatAttr(t, v));
}

template <typename OpTy, bool isLog>
struct SoftmaxLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(this->getTypeConverter(), op.getInput());
    if (!type)
      return rewriter.notifyMatchFailure(op, "needs a ranked input");
    int64_t axis = onnx::normalizeAxis(op.getAxis(), type.getRank());
    rewriter.replaceOp(op, buildSoftmax(rewriter, op.getLoc(),
                                        adaptor.getInput(), axis, isLog));
    return success();
  }
};

struct LayerNormLowering : OpConversionPattern<onnx::LayerNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::LayerNormalizationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getX());
    if (!type || !rankedType(getTypeConverter(), op.getScale()))
      return rewriter.notifyMatchFailure(op, "needs ranked operands");
    Location loc = op.getLoc();
    Type elt = type.getElementType();
    // Statistics in f32 at least (stash_type 1).
    Type acc = accumulatorType(elt);
    int64_t rank = type.getRank();
    int64_t axis = onnx::normalizeAxis(op.getAxis(), rank);
    SmallVector<int64_t> dims;
    for (int64_t i = axis; i < rank; ++i)
      dims.push_back(i);
    Value x = adaptor.getX();
    auto count = elementCount(rewriter, loc, x, dims, acc);
    if (acc != elt)
      x = mapWithReduced(rewriter, loc, x, {}, dims, acc,
                         [&](OpBuilder &b, Location l, ValueRange a) {
                           return convertScalar(b, l, a[0], acc, false, false);
                         });
    double eps = op.getEpsilon().convertToDouble();
    Normalized n = normalizeOver(rewriter, loc, x, dims, eps, count);
    Value normed = n.normed, mean = n.mean, invStd = n.invStd;
    auto perRow = [&](Value reduced,
                      function_ref<Value(OpBuilder &, Location, Value)> fn) {
      return buildElementwise(
          rewriter, loc, cast<RankedTensorType>(reduced.getType()), {reduced},
          [&](OpBuilder &b, Location l, ValueRange a) {
            return fn(b, l, a[0]);
          });
    };
    // y = normed * scale (+ bias), broadcast over the normalised dims.
    auto outType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getY().getType()));
    Value y = buildScaleShift(rewriter, loc, outType, normed,
                              adaptor.getScale(), adaptor.getB());
    SmallVector<Value> results = {y};
    Value statValues[] = {mean, invStd};
    // The statistics keep the normalised dims as 1s.
    SmallVector<OpFoldResult> statSizes =
        tensor::getMixedSizes(rewriter, loc, adaptor.getX());
    SmallVector<OpFoldResult> rowSizes(statSizes.begin(),
                                       statSizes.begin() + axis);
    for (int64_t d : dims)
      statSizes[d] = rewriter.getIndexAttr(1);
    for (auto [stat, value] : llvm::zip(op.getStats(), statValues)) {
      auto t = cast<RankedTensorType>(
          getTypeConverter()->convertType(stat.getType()));
      Value v = value;
      if (t.getElementType() != acc)
        v = perRow(v, [&](OpBuilder &b, Location l, Value s) {
          return convertScalar(b, l, s, t.getElementType(), false, false);
        });
      results.push_back(
          buildReshape(rewriter, loc, v, t, statSizes, rowSizes));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// The static extent of `size`, or ShapedType::kDynamic.
int64_t staticSize(OpFoldResult size) {
  return getConstantIntValue(size).value_or(ShapedType::kDynamic);
}

SmallVector<int64_t> staticSizes(ArrayRef<OpFoldResult> sizes) {
  return llvm::map_to_vector(sizes, staticSize);
}

/// Broadcasts `v` (rank >= 2) to the shape with `sizes` (batch dims + its
/// last two dims).
Value broadcastBatch(OpBuilder &b, Location loc, Value v,
                     ArrayRef<OpFoldResult> sizes) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape = staticSizes(sizes);
  // Only static 1s broadcast: other dims were checked to agree.
  int64_t batchRank = type.getRank() - 2;
  if (int64_t(shape.size()) == type.getRank() &&
      llvm::none_of(llvm::seq<int64_t>(0, batchRank), [&](int64_t d) {
        return type.getDimSize(d) == 1 && shape[d] != 1;
      }))
    return v;
  auto outType = RankedTensorType::get(shape, type.getElementType());
  return buildElementwise(
      b, loc, outType, sizes, {v},
      [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

/// C = A x B for A [..., M, K] and B [..., K, N] (already rank >= 2), with
/// numpy batch broadcasting into `outType` of `outSizes`; uses linalg.matmul
/// or linalg.batch_matmul. Dynamic M and batch dims keep K and N static.
/// f16 and bf16 products accumulate in f32 (as ONNX Runtime's do) and are
/// narrowed once.
Value buildMatMul(OpBuilder &b, Location loc, Value a, Value bm,
                  RankedTensorType outType, ArrayRef<OpFoldResult> outSizes) {
  auto at = cast<RankedTensorType>(a.getType());
  auto bt = cast<RankedTensorType>(bm.getType());
  Type elt = outType.getElementType();
  Type acc = accumulatorType(elt);
  if (acc != elt && at.getElementType() == elt && bt.getElementType() == elt) {
    // (One at a time: the order of function arguments is unspecified.)
    Value wideA = widenToF32(b, loc, a);
    Value wideB = widenToF32(b, loc, bm);
    Value product =
        buildMatMul(b, loc, wideA, wideB, outType.clone(acc), outSizes);
    return convertElements(b, loc, outType, product);
  }
  SmallVector<OpFoldResult> aSizes = tensor::getMixedSizes(b, loc, a);
  SmallVector<OpFoldResult> bSizes = tensor::getMixedSizes(b, loc, bm);
  OpFoldResult m = aSizes[at.getRank() - 2], k = aSizes.back();
  OpFoldResult n = bSizes.back();
  checkSameSize(b, loc, k, bSizes[bt.getRank() - 2],
                "the inner dimensions of the matrix product differ");
  if (bt.getRank() == 2) {
    // Fold A's batch dims into M.
    OpFoldResult rows = sizeProduct(b, loc, ArrayRef(aSizes).drop_back());
    Value a2 = buildReshape(b, loc, a,
                            RankedTensorType::get(staticSizes({rows, k}),
                                                  at.getElementType()),
                            {rows, k}, aSizes);
    auto cType = RankedTensorType::get(staticSizes({rows, n}), elt);
    Value c = b.create<linalg::MatmulOp>(
                   loc, TypeRange{cType}, ValueRange{a2, bm},
                   ValueRange{zeroFilled(b, loc, cType, {rows, n})})
                  .getResult(0);
    return buildReshape(b, loc, c, outType, outSizes, {rows, n});
  }
  // outSizes are the broadcast batch dims (checked by the caller), M, N.
  SmallVector<OpFoldResult> batchSizes(outSizes.drop_back(2));
  auto withBatch = [&](OpFoldResult x, OpFoldResult y) {
    SmallVector<OpFoldResult> sizes(batchSizes);
    sizes.append({x, y});
    return sizes;
  };
  a = broadcastBatch(b, loc, a, withBatch(m, k));
  bm = broadcastBatch(b, loc, bm, withBatch(k, n));
  OpFoldResult nb = sizeProduct(b, loc, batchSizes);
  auto as3 = SmallVector<OpFoldResult>{nb, m, k};
  auto bs3 = SmallVector<OpFoldResult>{nb, k, n};
  auto cs3 = SmallVector<OpFoldResult>{nb, m, n};
  Value a3 = buildReshape(
      b, loc, a, RankedTensorType::get(staticSizes(as3), at.getElementType()),
      as3, withBatch(m, k));
  Value b3 = buildReshape(
      b, loc, bm, RankedTensorType::get(staticSizes(bs3), bt.getElementType()),
      bs3, withBatch(k, n));
  auto cType = RankedTensorType::get(staticSizes(cs3), elt);
  Value c =
      b.create<linalg::BatchMatmulOp>(loc, TypeRange{cType}, ValueRange{a3, b3},
                                      ValueRange{zeroFilled(b, loc, cType, cs3)})
          .getResult(0);
  return buildReshape(b, loc, c, outType, outSizes, cs3);
}

/// numpy's matmul of `a` and `b` (ranks >= 1, already converted) into
/// `outType`.
Value buildNumpyMatMul(ConversionPatternRewriter &rewriter, Location loc,
                       Value a, Value b, RankedTensorType outType) {
  int64_t aRank = cast<RankedTensorType>(a.getType()).getRank();
  int64_t bRank = cast<RankedTensorType>(b.getType()).getRank();
  // 1-D operands: promote, multiply, and drop the promoted dim again.
  auto promote = [&](Value v, int64_t unitDim) {
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, v);
    sizes.insert(sizes.begin() + unitDim, rewriter.getIndexAttr(1));
    auto type = RankedTensorType::get(staticSizes(sizes),
                                      getElementTypeOrSelf(v.getType()));
    return buildReshape(rewriter, loc, v, type, sizes);
  };
  if (aRank == 1)
    a = promote(a, 0);
  if (bRank == 1)
    b = promote(b, 1);
  auto a2 = cast<RankedTensorType>(a.getType());
  auto b2 = cast<RankedTensorType>(b.getType());
  SmallVector<int64_t> batch;
  (void)onnx::broadcastShapes(a2.getShape().drop_back(2),
                              b2.getShape().drop_back(2), batch);
  SmallVector<OpFoldResult> aSizes = tensor::getMixedSizes(rewriter, loc, a);
  SmallVector<OpFoldResult> bSizes = tensor::getMixedSizes(rewriter, loc, b);
  SmallVector<SmallVector<OpFoldResult>> batchOf = {
      SmallVector<OpFoldResult>(ArrayRef(aSizes).drop_back(2)),
      SmallVector<OpFoldResult>(ArrayRef(bSizes).drop_back(2))};
  SmallVector<OpFoldResult> sizes =
      broadcastSizes(rewriter, loc, batch, batchOf);
  sizes.push_back(aSizes[a2.getRank() - 2]);
  sizes.push_back(bSizes.back());
  batch.push_back(a2.getDimSize(a2.getRank() - 2));
  batch.push_back(b2.getDimSize(b2.getRank() - 1));
  auto full = RankedTensorType::get(batch, outType.getElementType());
  Value c = buildMatMul(rewriter, loc, a, b, full, sizes);
  // Drop the promoted unit dims.
  SmallVector<OpFoldResult> outSizes(sizes);
  if (bRank == 1)
    outSizes.pop_back();
  if (aRank == 1)
    outSizes.erase(outSizes.end() - (bRank == 1 ? 1 : 2));
  return buildReshape(rewriter, loc, c, outType, outSizes, sizes);
}

struct MatMulLowering : OpConversionPattern<onnx::MatMulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto at = rankedType(getTypeConverter(), op.getA());
    auto bt = rankedType(getTypeConverter(), op.getB());
    auto outType = rankedType(getTypeConverter(), op.getY());
    if (!at || !bt || !outType)
      return rewriter.notifyMatchFailure(op, "needs ranked shapes");
    rewriter.replaceOp(op, buildNumpyMatMul(rewriter, op.getLoc(),
                                            adaptor.getA(), adaptor.getB(),
                                            outType));
    return success();
  }
};

/// MatMulInteger: both operands widened to i32 minus their zero points (per
/// tensor, per row of A or per column of B), then MatMul.
/// A and B of MatMulInteger or QLinearMatMul widened to `i32` minus their
/// zero points (per row of A, per column of B, or one value).
template <typename OpTy, typename Adaptor>
std::pair<Value, Value> widenedOperands(OpBuilder &b, OpTy op, Adaptor adaptor,
                                        Type i32) {
  auto rank = [](Value v) { return cast<ShapedType>(v.getType()).getRank(); };
  Value lhs = widenWithZeroPoint(b, op.getLoc(), i32, adaptor.getA(), op.getA(),
                                 adaptor.getAZeroPoint(), op.getAZeroPoint(),
                                 rank(op.getA()) - 2);
  Value rhs = widenWithZeroPoint(b, op.getLoc(), i32, adaptor.getB(), op.getB(),
                                 adaptor.getBZeroPoint(), op.getBZeroPoint(),
                                 rank(op.getB()) - 1);
  return {lhs, rhs};
}

struct MatMulIntegerLowering : OpConversionPattern<onnx::MatMulIntegerOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::MatMulIntegerOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto at = rankedType(getTypeConverter(), op.getA());
    auto bt = rankedType(getTypeConverter(), op.getB());
    auto outType = rankedType(getTypeConverter(), op.getY());
    if (!at || !bt || !outType || at.getRank() < 2 || bt.getRank() < 2)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Value a, b;
    std::tie(a, b) =
        widenedOperands(rewriter, op, adaptor, outType.getElementType());
    rewriter.replaceOp(op,
                       buildNumpyMatMul(rewriter, op.getLoc(), a, b, outType));
    return success();
  }
};

/// QLinearMatMul: MatMulInteger's int32 product, requantized as ONNX
/// Runtime does: saturate(round_half_even(acc * (a_scale * b_scale /
/// y_scale)) + y_zero_point), the multiplier in f32 (per-tensor scales).
struct QLinearMatMulLowering : OpConversionPattern<onnx::QLinearMatMulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::QLinearMatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto at = rankedType(getTypeConverter(), op.getA());
    auto bt = rankedType(getTypeConverter(), op.getB());
    auto outType = rankedType(getTypeConverter(), op.getY());
    if (!at || !bt || !outType || at.getRank() < 2 || bt.getRank() < 2)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    Type i32 = rewriter.getI32Type();
    Value a, b;
    std::tie(a, b) = widenedOperands(rewriter, op, adaptor, i32);
    auto accType = RankedTensorType::get(outType.getShape(), i32);
    Value acc = buildNumpyMatMul(rewriter, loc, a, b, accType);
    rewriter.replaceOp(
        op, buildRequantize(rewriter, loc, acc, outType, adaptor.getAScale(),
                            adaptor.getBScale(), 0, adaptor.getYScale(),
                            adaptor.getYZeroPoint(),
                            isUnsignedInt(op.getY().getType())));
    return success();
  }
};

struct GemmLowering : OpConversionPattern<onnx::GemmOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::GemmOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = rankedType(getTypeConverter(), op.getY());
    if (!outType || !rankedType(getTypeConverter(), op.getA()) ||
        !rankedType(getTypeConverter(), op.getB()))
      return rewriter.notifyMatchFailure(op, "needs ranked shapes");
    Location loc = op.getLoc();
    Value a = adaptor.getA(), b = adaptor.getB();
    if (op.getTransA())
      a = buildTranspose(rewriter, loc, a, {1, 0});
    if (op.getTransB())
      b = buildTranspose(rewriter, loc, b, {1, 0});
    Value c = buildMatMul(rewriter, loc, a, b, outType,
                          {tensor::getMixedSize(rewriter, loc, a, 0),
                           tensor::getMixedSize(rewriter, loc, b, 1)});
    Type elt = outType.getElementType();
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    SmallVector<Value> inputs = {c};
    if (adaptor.getC() && beta != 0.0)
      inputs.push_back(adaptor.getC());
    if (alpha != 1.0 || inputs.size() > 1) {
      bool isF = isa<FloatType>(elt);
      c = buildElementwise(
          rewriter, loc, outType, inputs,
          [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
            auto mul = [&](Value x, double s) -> Value {
              if (s == 1.0)
                return x;
              if (isF)
                return nb.create<arith::MulFOp>(l, x, fconst(nb, l, elt, s));
              Value k = nb.create<arith::ConstantOp>(
                  l, nb.getIntegerAttr(elt, int64_t(s)));
              return nb.create<arith::MulIOp>(l, x, k);
            };
            Value r = mul(v[0], alpha);
            if (v.size() > 1)
              r = isF ? Value(nb.create<arith::AddFOp>(l, r, mul(v[1], beta)))
                      : Value(nb.create<arith::AddIOp>(l, r, mul(v[1], beta)));
            return r;
          });
    }
    rewriter.replaceOp(op, c);
    return success();
  }
};

struct EinsumLowering : OpConversionPattern<onnx::EinsumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::EinsumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = rankedType(getTypeConverter(), op.getOutput());
    if (!outType)
      return rewriter.notifyMatchFailure(op, "needs a ranked result");
    std::string eq;
    for (char c : op.getEquation())
      if (c != ' ')
        eq.push_back(c);
    // '...' stands for the leading dims not named by letters: spell them out
    // with capital letters (ONNX equations use lower case), right-aligned.
    if (eq.find("...") != std::string::npos) {
      size_t arrowPos = eq.find("->");
      std::string lhsPart = eq.substr(0, arrowPos);
      SmallVector<std::string> parts;
      for (StringRef t : llvm::split(StringRef(lhsPart), ','))
        parts.push_back(t.str());
      int64_t maxEll = 0;
      for (auto [i, t] : llvm::enumerate(parts)) {
        size_t pos = t.find("...");
        if (pos == std::string::npos)
          continue;
        int64_t rank =
            cast<RankedTensorType>(op.getInputs()[i].getType()).getRank();
        int64_t ell = rank - int64_t(t.size() - 3);
        maxEll = std::max(maxEll, ell);
        std::string letters;
        for (int64_t k = 0; k < ell; ++k)
          letters.push_back('A' + (26 - ell + k) % 26);
        t.replace(pos, 3, letters);
      }
      std::string all = llvm::join(parts, ",");
      std::string outPart =
          arrowPos == std::string::npos ? "..." : eq.substr(arrowPos + 2);
      std::string full;
      for (int64_t k = 0; k < maxEll; ++k)
        full.push_back('A' + (26 - maxEll + k) % 26);
      size_t pos = outPart.find("...");
      if (pos != std::string::npos)
        outPart.replace(pos, 3, full);
      if (arrowPos == std::string::npos) {
        // Implicit output: the ellipsis dims, then the letters used once.
        std::map<char, int> counts;
        for (char c : all)
          if (c != ',' && !(c >= 'A' && c <= 'Z'))
            ++counts[c];
        outPart = full;
        for (auto [c, n] : counts)
          if (n == 1)
            outPart.push_back(c);
      }
      eq = all + "->" + outPart;
    }
    size_t arrow = eq.find("->");
    std::string lhs = eq.substr(0, arrow);
    SmallVector<std::string> terms;
    for (StringRef t : llvm::split(StringRef(lhs), ','))
      terms.push_back(t.str());
    std::string out;
    if (arrow != std::string::npos) {
      out = eq.substr(arrow + 2);
    } else {
      std::map<char, int> counts;
      for (char c : lhs)
        if (c != ',')
          ++counts[c];
      for (auto [c, n] : counts)
        if (n == 1)
          out.push_back(c);
    }
    // Loop dims: output letters first (parallel), then the rest (reduction).
    std::string letters = out;
    for (const std::string &t : terms)
      for (char c : t)
        if (letters.find(c) == std::string::npos)
          letters.push_back(c);
    MLIRContext *ctx = rewriter.getContext();
    auto mapFor = [&](const std::string &t) {
      SmallVector<AffineExpr> exprs;
      for (char c : t)
        exprs.push_back(getAffineDimExpr(letters.find(c), ctx));
      return AffineMap::get(letters.size(), 0, exprs, ctx);
    };
    SmallVector<AffineMap> maps;
    for (const std::string &t : terms)
      maps.push_back(mapFor(t));
    maps.push_back(mapFor(out));
    SmallVector<utils::IteratorType> iters;
    for (size_t i = 0; i < letters.size(); ++i)
      iters.push_back(i < out.size() ? utils::IteratorType::parallel
                                     : utils::IteratorType::reduction);
    Type elt = outType.getElementType();
    bool isF = isa<FloatType>(elt);
    Location loc = op.getLoc();
    // Each letter's size from its first use; every other use must agree.
    std::map<char, OpFoldResult> letterSize;
    for (auto [t, in] : llvm::zip(terms, adaptor.getInputs()))
      for (auto [pos, c] : llvm::enumerate(t)) {
        OpFoldResult size = tensor::getMixedSize(rewriter, loc, in, pos);
        auto [it, inserted] = letterSize.insert({c, size});
        if (!inserted && (!getConstantIntValue(size) ||
                          !getConstantIntValue(it->second)))
          checkSameSize(rewriter, loc, size, it->second,
                        "the sizes of index '" + Twine(c) + "' differ");
      }
    SmallVector<OpFoldResult> outSizes;
    for (char c : out)
      outSizes.push_back(letterSize[c]);
    Value init = zeroFilled(rewriter, loc, outType, outSizes);
    Value y =
        rewriter
            .create<linalg::GenericOp>(
                loc, TypeRange{outType}, adaptor.getInputs(), ValueRange{init},
                maps, iters,
                [&](OpBuilder &b, Location l, ValueRange a) {
                  Value p = a[0];
                  for (Value v : a.drop_front().drop_back())
                    p = isF ? Value(b.create<arith::MulFOp>(l, p, v))
                            : Value(b.create<arith::MulIOp>(l, p, v));
                  Value s =
                      isF ? Value(b.create<arith::AddFOp>(l, a.back(), p))
                          : Value(b.create<arith::AddIOp>(l, a.back(), p));
                  b.create<linalg::YieldOp>(l, s);
                })
            .getResult(0);
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// y = (x - mean) / sqrt(var + epsilon) * scale + B per channel.
struct BatchNormLowering : OpConversionPattern<onnx::BatchNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::BatchNormalizationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = rankedType(getTypeConverter(), op.getY());
    if (!outType || outType.getRank() < 2)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    if (op.getTrainingMode() != 0)
      return training(op, adaptor, outType, rewriter);
    Type elt = outType.getElementType();
    double eps = op.getEpsilon().convertToDouble();
    Value y = buildParamElementwise(
        rewriter, op.getLoc(), outType, adaptor.getX(),
        {adaptor.getScale(), adaptor.getB(), adaptor.getInputMean(),
         adaptor.getInputVar()},
        /*axis=*/1, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          auto f = [&](Value v) { return convertScalar(b, l, v, elt, false, false); };
          Value var = b.create<arith::AddFOp>(l, f(a[4]), fconst(b, l, elt, eps));
          Value norm = b.create<arith::MulFOp>(
              l, b.create<arith::SubFOp>(l, a[0], f(a[3])),
              b.create<math::RsqrtOp>(l, var));
          return b.create<arith::AddFOp>(
              l, b.create<arith::MulFOp>(l, norm, f(a[1])), f(a[2]));
        });
    // The running statistics are the inputs at inference time.
    SmallVector<Value> results = {y, adaptor.getInputMean(),
                                  adaptor.getInputVar()};
    results.resize(1 + op.getRunning().size());
    rewriter.replaceOp(op, results);
    return success();
  }

  /// Training mode: x is normalised with its own mean and (population)
  /// variance over every dim but the channels, and the running statistics
  /// move towards them: input * momentum + batch * (1 - momentum).
  LogicalResult training(onnx::BatchNormalizationOp op, OpAdaptor adaptor,
                         RankedTensorType outType,
                         ConversionPatternRewriter &rewriter) const {
    Location loc = op.getLoc();
    Type elt = outType.getElementType();
    if (!elt.isF32() && !elt.isF64())
      return rewriter.notifyMatchFailure(op, "training statistics in f32/f64");
    SmallVector<int64_t> dims = {0};
    for (int64_t d = 2; d < outType.getRank(); ++d)
      dims.push_back(d);
    Value x = adaptor.getX();
    auto count = elementCount(rewriter, loc, x, dims, elt);
    Normalized n = normalizeOver(rewriter, loc, x, dims,
                                 op.getEpsilon().convertToDouble(), count);
    Value y = buildParamElementwise(
        rewriter, loc, outType, n.normed, {adaptor.getScale(), adaptor.getB()},
        /*axis=*/1, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          auto f = [&](Value v) {
            return convertScalar(b, l, v, elt, false, false);
          };
          return b.create<arith::AddFOp>(
              l, b.create<arith::MulFOp>(l, a[0], f(a[1])), f(a[2]));
        });
    double momentum = op.getMomentum().convertToDouble();
    auto running = [&](Value input, Value batch) {
      auto type = cast<RankedTensorType>(input.getType());
      return buildElementwise(
          rewriter, loc, type, {input, batch},
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            Type t = type.getElementType();
            Value old =
                b.create<arith::MulFOp>(l, a[0], fconst(b, l, t, momentum));
            Value now = b.create<arith::MulFOp>(
                l, convertScalar(b, l, a[1], t, false, false),
                fconst(b, l, t, 1.0 - momentum));
            return b.create<arith::AddFOp>(l, old, now);
          });
    };
    SmallVector<Value> results = {y};
    if (op.getRunning().size() > 0)
      results.push_back(running(adaptor.getInputMean(), n.mean));
    if (op.getRunning().size() > 1)
      results.push_back(running(adaptor.getInputVar(), n.variance));
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Normalises `x` [N, C, d...] over each group of C / `groups` channels and
/// the spatial dims, then scales and shifts by `scale` and `bias`, per
/// channel (length C) or per group (length `groups`, GroupNormalization
/// before opset 21). Without `groups`, each channel is a group
/// (InstanceNormalization; C may be dynamic). Statistics in f32 for narrower
/// types.
Value buildGroupNorm(OpBuilder &rewriter, Location loc,
                     RankedTensorType outType, Value x, Value scale,
                     Value bias, std::optional<int64_t> groups, double eps) {
  Type elt = outType.getElementType();
  Type acc = accumulatorType(elt);
  int64_t rank = outType.getRank(), channels = outType.getDimSize(1);
  if (acc != elt)
    x = mapWithReduced(rewriter, loc, x, {}, {}, acc,
                       [&](OpBuilder &b, Location l, ValueRange a) {
                         return convertScalar(b, l, a[0], acc, false, false);
                       });
  // [N, groups, C / groups, d...]: the channels of a group side by side.
  bool split = groups && *groups != channels;
  SmallVector<ReassociationIndices> reassociation;
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, x);
  if (split) {
    SmallVector<int64_t> shape(outType.getShape());
    shape[1] = channels / *groups;
    shape.insert(shape.begin() + 1, *groups);
    sizes[1] = rewriter.getIndexAttr(channels / *groups);
    sizes.insert(sizes.begin() + 1, rewriter.getIndexAttr(*groups));
    for (int64_t d = 0; d < rank; ++d)
      reassociation.push_back(d == 1 ? ReassociationIndices{1, 2}
                                     : ReassociationIndices{d < 1 ? d : d + 1});
    x = rewriter.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get(shape, acc), x, reassociation, sizes);
  }
  SmallVector<int64_t> dims;
  for (int64_t d = 2; d < rank + (split ? 1 : 0); ++d)
    dims.push_back(d);
  auto count = elementCount(rewriter, loc, x, dims, acc);
  Value normed = normalizeOver(rewriter, loc, x, dims, eps, count).normed;
  auto affine = [&](Value v, RankedTensorType type) {
    return buildParamElementwise(
        rewriter, loc, type, v, {scale, bias}, /*axis=*/1,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          auto f = [&](Value p) {
            return convertScalar(b, l, p, acc, false, false);
          };
          Value r = b.create<arith::AddFOp>(
              l, b.create<arith::MulFOp>(l, a[0], f(a[1])), f(a[2]));
          return convertScalar(b, l, r, elt, false, false);
        });
  };
  bool perGroup = split && cast<RankedTensorType>(scale.getType())
                                   .getDimSize(0) == *groups;
  if (perGroup)
    normed = affine(normed, RankedTensorType::get(
                                cast<RankedTensorType>(normed.getType())
                                    .getShape(),
                                elt));
  if (split)
    normed = rewriter.create<tensor::CollapseShapeOp>(
        loc,
        RankedTensorType::get(
            outType.getShape(),
            cast<RankedTensorType>(normed.getType()).getElementType()),
        normed, reassociation);
  return perGroup ? normed : affine(normed, outType);
}

/// Normalises each (n, c) over the spatial dims, then scale and B per channel.
struct InstanceNormLowering
    : OpConversionPattern<onnx::InstanceNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::InstanceNormalizationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = rankedType(getTypeConverter(), op.getOutput());
    if (!outType || outType.getRank() < 3)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    rewriter.replaceOp(
        op, buildGroupNorm(rewriter, op.getLoc(), outType, adaptor.getInput(),
                           adaptor.getScale(), adaptor.getB(), std::nullopt,
                           op.getEpsilon().convertToDouble()));
    return success();
  }
};

/// LRN: the window sums of x^2 over channels (x^2 zero-padded along C by
/// floor((size - 1) / 2) before and ceil after, one generic reducing over a
/// [size] window), then x * (bias + alpha / size * sum) ^ -beta.
struct LRNLowering : OpConversionPattern<onnx::LRNOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::LRNOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getY());
    if (!type || type.getRank() < 2 || !isa<FloatType>(type.getElementType()))
      return rewriter.notifyMatchFailure(op, "needs a ranked float [N, C, ...]");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = adaptor.getX();
    Type elt = type.getElementType();
    int64_t rank = type.getRank(), size = op.getSize();
    int64_t before = (size - 1) / 2;
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, x);
    // x^2 inside a zero tensor with size - 1 more channels.
    SmallVector<OpFoldResult> padded(sizes);
    padded[1] = SizeMath{rewriter, loc}.add(sizes[1],
                                            rewriter.getIndexAttr(size - 1));
    SmallVector<int64_t> paddedShape(type.getShape());
    if (!ShapedType::isDynamic(paddedShape[1]))
      paddedShape[1] += size - 1;
    auto paddedType = RankedTensorType::get(paddedShape, elt);
    Value squares = buildElementwise(
        rewriter, loc, type, sizes, ValueRange{x},
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return b.create<arith::MulFOp>(l, a[0], a[0]);
        });
    Value zeros = buildFilled(rewriter, loc, paddedType, padded,
                              rewriter.getZeroAttr(elt));
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
    offsets[1] = rewriter.getIndexAttr(before);
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    Value source = rewriter.create<tensor::InsertSliceOp>(
        loc, squares, zeros, offsets, sizes, strides);
    // (d..., k): sum[d...] += source[d0, d1 + k, d2...].
    SmallVector<AffineExpr> read, out;
    for (int64_t d = 0; d < rank; ++d) {
      AffineExpr e = getAffineDimExpr(d, ctx);
      read.push_back(d == 1 ? e + getAffineDimExpr(rank, ctx) : e);
      out.push_back(e);
    }
    SmallVector<AffineMap> maps = {
        AffineMap::get(rank + 1, 0, read, ctx),
        AffineMap::get(rank + 1, 0, {getAffineDimExpr(rank, ctx)}, ctx),
        AffineMap::get(rank + 1, 0, out, ctx)};
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    Value window = rewriter.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{size},
                                                    elt);
    Value init =
        buildFilled(rewriter, loc, type, sizes, rewriter.getZeroAttr(elt));
    Value sum =
        rewriter
            .create<linalg::GenericOp>(
                loc, TypeRange{init.getType()}, ValueRange{source, window},
                ValueRange{init}, maps, iters,
                [](OpBuilder &b, Location l, ValueRange a) {
                  b.create<linalg::YieldOp>(
                      l, Value(b.create<arith::AddFOp>(l, a[2], a[0])));
                })
            .getResult(0);
    double scale = op.getAlpha().convertToDouble() / double(size);
    double bias = op.getBias().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    Value y = buildElementwise(
        rewriter, loc, type, sizes, ValueRange{x, sum},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          auto cst = [&](double v) {
            return b.create<arith::ConstantOp>(l, b.getFloatAttr(elt, v));
          };
          Value base = b.create<arith::AddFOp>(
              l, cst(bias), b.create<arith::MulFOp>(l, cst(scale), a[1]));
          Value denom = b.create<math::PowFOp>(l, base, cst(beta));
          return b.create<arith::DivFOp>(l, a[0], denom);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// Normalises each group of channels over them and the spatial dims, then
/// scale and bias per channel (or per group before opset 21).
struct GroupNormLowering : OpConversionPattern<onnx::GroupNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::GroupNormalizationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = rankedType(getTypeConverter(), op.getY());
    int64_t groups = op.getNumGroups();
    if (!outType || outType.getRank() < 2 || outType.isDynamicDim(1) ||
        groups < 1 || outType.getDimSize(1) % groups != 0)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    rewriter.replaceOp(
        op, buildGroupNorm(rewriter, op.getLoc(), outType, adaptor.getX(),
                           adaptor.getScale(), adaptor.getBias(), groups,
                           op.getEpsilon().convertToDouble()));
    return success();
  }
};

/// NegativeLogLikelihoodLoss of `logProb` [N, C, d...] at `target`
/// [N, d...]: -logProb[n, t, d...] * weight[t], 0 where t is ignore_index;
/// summed, or divided by the sum of the weights taken ("mean"), or per
/// element ("none").
Value buildNLLLoss(OpBuilder &rewriter, Location loc, Value logProb,
                   Value target, Value weight, std::optional<int64_t> ignore,
                   StringRef reduction, RankedTensorType outType) {
  Type elt = outType.getElementType();
  auto tt = cast<RankedTensorType>(target.getType());
  auto perElement = RankedTensorType::get(tt.getShape(), elt);
  SmallVector<OpFoldResult> sizes =
      tensor::getMixedSizes(rewriter, loc, target);
  Value classes = rewriter.createOrFold<tensor::DimOp>(loc, logProb, 1);
  // (class index, weight) of a target value.
  auto classOf = [&](OpBuilder &b, Location l,
                     Value t) -> std::pair<Value, Value> {
    Value index = clampedIndex(b, l, t, classes);
    Value w = weight ? b.create<tensor::ExtractOp>(l, weight, index).getResult()
                     : fconst(b, l, elt, 1.0);
    if (ignore) {
      Value skip = b.create<arith::CmpIOp>(
          l, arith::CmpIPredicate::eq, t,
          b.create<arith::ConstantOp>(l, b.getIntegerAttr(t.getType(), *ignore)));
      w = b.create<arith::SelectOp>(l, skip, fconst(b, l, elt, 0.0), w);
    }
    return {index, w};
  };
  int64_t rank = tt.getRank();
  Value losses = buildIndexed(
      rewriter, loc, perElement, sizes, {target},
      {rewriter.getMultiDimIdentityMap(rank)},
      [&](OpBuilder &b, Location l, ValueRange a, ArrayRef<Value> iv) {
        auto [index, w] = classOf(b, l, a[0]);
        SmallVector<Value> at = {iv[0], index};
        at.append(iv.begin() + 1, iv.end());
        Value p = b.create<tensor::ExtractOp>(l, logProb, at);
        return b.create<arith::NegFOp>(l, b.create<arith::MulFOp>(l, p, w));
      });
  if (reduction == "none")
    return losses;
  SmallVector<int64_t> all = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  auto add = [](OpBuilder &b, Location l, Value x, Value y) -> Value {
    return b.create<arith::AddFOp>(l, x, y);
  };
  Value sum = buildReduce(rewriter, loc, losses, all,
                          rewriter.getZeroAttr(elt), add);
  if (reduction == "sum")
    return sum;
  Value weights = buildIndexed(
      rewriter, loc, perElement, sizes, {target},
      {rewriter.getMultiDimIdentityMap(rank)},
      [&](OpBuilder &b, Location l, ValueRange a, ArrayRef<Value>) {
        return classOf(b, l, a[0]).second;
      });
  Value total = buildReduce(rewriter, loc, weights, all,
                            rewriter.getZeroAttr(elt), add);
  return buildElementwise(rewriter, loc, outType, {sum, total},
                          [](OpBuilder &b, Location l, ValueRange a) -> Value {
                            return b.create<arith::DivFOp>(l, a[0], a[1]);
                          });
}

struct NLLLossLowering
    : OpConversionPattern<onnx::NegativeLogLikelihoodLossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::NegativeLogLikelihoodLossOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = rankedType(getTypeConverter(), op.getLoss());
    if (!outType || !rankedType(getTypeConverter(), op.getTarget()))
      return rewriter.notifyMatchFailure(op, "needs ranked operands");
    rewriter.replaceOp(
        op, buildNLLLoss(rewriter, op.getLoc(), adaptor.getInput(),
                         adaptor.getTarget(), adaptor.getWeight(),
                         op.getIgnoreIndex(), op.getReduction(), outType));
    return success();
  }
};

/// NegativeLogLikelihoodLoss of LogSoftmax(scores) along the classes.
struct SoftmaxCrossEntropyLossLowering
    : OpConversionPattern<onnx::SoftmaxCrossEntropyLossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::SoftmaxCrossEntropyLossOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = rankedType(getTypeConverter(), op.getOutput());
    if (!outType || !rankedType(getTypeConverter(), op.getScores()) ||
        !rankedType(getTypeConverter(), op.getLabels()))
      return rewriter.notifyMatchFailure(op, "needs ranked operands");
    Location loc = op.getLoc();
    Value logProb = buildSoftmax(rewriter, loc, adaptor.getScores(), 1, true);
    SmallVector<Value> results = {
        buildNLLLoss(rewriter, loc, logProb, adaptor.getLabels(),
                     adaptor.getWeights(), op.getIgnoreIndex(),
                     op.getReduction(), outType)};
    if (op.getLogProb())
      results.push_back(logProb);
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void tessera::populateONNXNNToLinalgPatterns(TypeConverter &tc,
                                             RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<SoftmaxLowering<onnx::SoftmaxOp, false>,
               SoftmaxLowering<onnx::LogSoftmaxOp, true>, LayerNormLowering,
               MatMulLowering, GemmLowering, EinsumLowering,
               MatMulIntegerLowering, QLinearMatMulLowering, BatchNormLowering,
               InstanceNormLowering, GroupNormLowering, LRNLowering,
               NLLLossLowering, SoftmaxCrossEntropyLossLowering>(tc, ctx);
}
