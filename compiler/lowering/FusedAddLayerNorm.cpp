//===- FusedAddLayerNorm.cpp - tessera.add_layer_norm kernel --------------===//
//
// Part of Tessera. One scf.for per leading axis of X; in each row, three
// vector loops over D (the row stays in L1):
//   1. s = x (+ bias) + residual, written to `sum`, accumulated into a
//      vector of partial sums;
//   2. the squared deviations from the mean, accumulated likewise;
//   3. y = (s - mean) * rstd * gamma (+ beta), written to `Y`.
// Vectors are `kWidth` lanes; a remainder of D % kWidth lanes is handled with
// one shorter vector. Statistics are kept in f32 (f16/bf16 are widened).
// X and the residual may broadcast over leading axes (read at index 0
// there). The leading axes may be dynamic (the row size is static): their
// loops run to run-time bounds. The vectors are built directly in the vector
// dialect on tensors, so no later scheduling pass is needed.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/KernelShapes.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <functional>

using namespace mlir;
using namespace tessera::lowering;

namespace tessera {
namespace {

constexpr int64_t kWidth = 16;

struct AddLayerNormLowering : OpConversionPattern<fused::AddLayerNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(fused::AddLayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    const TypeConverter *converter = getTypeConverter();
    auto ranked = [&](Value v) {
      return v ? dyn_cast_or_null<RankedTensorType>(
                     converter->convertType(v.getType()))
               : RankedTensorType();
    };
    auto yType = ranked(op.getY()), sumType = ranked(op.getSum());
    auto xType = ranked(op.getX()), resType = ranked(op.getResidual());
    if (!yType || !sumType || !xType || !resType ||
        !staticType(converter, op.getGamma()) ||
        (op.getBias() && !staticType(converter, op.getBias())) ||
        (op.getBeta() && !staticType(converter, op.getBeta())))
      return rewriter.notifyMatchFailure(op, "needs ranked X, residual and "
                                             "results, static parameters");
    auto elt = dyn_cast<FloatType>(yType.getElementType());
    if (!elt || elt.getWidth() > 32 || sumType.getElementType() != elt)
      return rewriter.notifyMatchFailure(op, "needs f32, f16 or bf16");

    Location loc = op.getLoc();
    int64_t rank = yType.getRank();
    int64_t d = yType.getDimSize(rank - 1);
    if (ShapedType::isDynamic(d))
      d = xType.getDimSize(xType.getRank() - 1);
    if (ShapedType::isDynamic(d) || d == 0 ||
        (yType.hasStaticShape() && yType.getNumElements() == 0))
      return rewriter.notifyMatchFailure(op, "needs a static, nonempty row");
    // X and the residual broadcast over leading axes (aligned on the right):
    // a static 1 broadcasts, other dims are the result's (checked at run
    // time if dynamic). The leading sizes of the result: `sizes`.
    SmallVector<OpFoldResult> sizes;
    for (int64_t i = 0; i + 1 < rank; ++i) {
      SmallVector<OpFoldResult> dims;
      for (RankedTensorType t : {yType, sumType})
        if (!t.isDynamicDim(i))
          dims.push_back(rewriter.getIndexAttr(t.getDimSize(i)));
      for (Value v : {adaptor.getX(), adaptor.getResidual()}) {
        auto t = cast<RankedTensorType>(v.getType());
        int64_t j = i - (rank - t.getRank());
        if (j >= 0 && t.getDimSize(j) != 1)
          dims.push_back(tensor::getMixedSize(rewriter, loc, v, j));
      }
      sizes.push_back(dims.empty()
                          ? rewriter.getIndexAttr(1)
                          : kernels::agreedSize(rewriter, loc, dims,
                                                "X and the residual do not "
                                                "broadcast to the result"));
    }
    SmallVector<int64_t> shape;
    SmallVector<Value> dynamicSizes;
    for (OpFoldResult size : sizes) {
      std::optional<int64_t> c = getConstantIntValue(size);
      shape.push_back(c ? *c : ShapedType::kDynamic);
      if (!c)
        dynamicSizes.push_back(cast<Value>(size));
    }
    shape.push_back(d);
    auto type = RankedTensorType::get(shape, elt);
    auto broadcasts = [&](RankedTensorType t) {
      int64_t offset = rank - t.getRank();
      if (offset < 0 || !fused::compatibleDim(t.getDimSize(t.getRank() - 1), d))
        return false;
      for (int64_t i = 0; i + 1 < t.getRank(); ++i)
        if (!fused::compatibleDim(t.getDimSize(i), type.getDimSize(i + offset)) &&
            t.getDimSize(i) != 1)
          return false;
      return true;
    };
    if (!broadcasts(xType) || !broadcasts(resType))
      return rewriter.notifyMatchFailure(op, "X or residual does not "
                                             "broadcast to the result");
    Type f32 = rewriter.getF32Type();
    Value x = adaptor.getX(), residual = adaptor.getResidual();
    Value bias = adaptor.getBias(), gamma = adaptor.getGamma(),
          beta = adaptor.getBeta();
    // Outputs as alloc_tensor, not tensor.empty: CSE would merge two empties
    // (or this one with another op's), and bufferization would then copy
    // the undefined contents of one into the other before the loops.
    Value yInit =
        rewriter.create<bufferization::AllocTensorOp>(loc, type, dynamicSizes);
    Value sumInit =
        rewriter.create<bufferization::AllocTensorOp>(loc, type, dynamicSizes);

    auto index = [&](OpBuilder &b, int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    auto widen = [&](OpBuilder &b, Value v) -> Value {
      if (elt == f32)
        return v;
      auto t = VectorType::get(cast<VectorType>(v.getType()).getShape(), f32);
      return b.create<arith::ExtFOp>(loc, t, v);
    };
    auto narrow = [&](OpBuilder &b, Value v) -> Value {
      if (elt == f32)
        return v;
      auto t = VectorType::get(cast<VectorType>(v.getType()).getShape(), elt);
      return b.create<arith::TruncFOp>(loc, t, v);
    };
    auto read = [&](OpBuilder &b, Value src, ValueRange idx, int64_t n) {
      return b.create<vector::TransferReadOp>(loc, VectorType::get({n}, elt),
                                              src, idx, ArrayRef<bool>{true});
    };
    auto write = [&](OpBuilder &b, Value v, Value dst, ValueRange idx) {
      return b
          .create<vector::TransferWriteOp>(loc, v, dst, idx,
                                           ArrayRef<bool>{true})
          .getResult();
    };
    auto splat = [&](OpBuilder &b, Value scalar, int64_t n) -> Value {
      return b.create<vector::BroadcastOp>(loc, VectorType::get({n}, f32),
                                           scalar);
    };
    auto sumOf = [&](OpBuilder &b, Value v) -> Value {
      return b.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD, v);
    };

    // Runs `body(b, col, n, carried)` over the row in chunks of kWidth lanes
    // and then the remainder (n lanes). `carried` are the loop-carried values
    // (tensors being written, a kWidth accumulator), threaded through.
    int64_t full = d / kWidth * kWidth, rest = d - full;
    using ChunkFn = function_ref<SmallVector<Value>(OpBuilder &, Value, int64_t,
                                                    ValueRange)>;
    auto overRow = [&](OpBuilder &b, ValueRange init,
                       ChunkFn body) -> SmallVector<Value> {
      SmallVector<Value> carried(init);
      if (full > 0) {
        auto loop = b.create<scf::ForOp>(
            loc, index(b, 0), index(b, full), index(b, kWidth), carried,
            [&](OpBuilder &lb, Location, Value col, ValueRange args) {
              lb.create<scf::YieldOp>(loc, body(lb, col, kWidth, args));
            });
        carried = loop.getResults();
      }
      if (rest > 0)
        carried = body(b, index(b, full), rest, carried);
      return carried;
    };
    // Adds a chunk of n lanes to a kWidth accumulator.
    auto accumulate = [&](OpBuilder &b, Value acc, Value v, int64_t n) {
      if (n == kWidth)
        return b.create<arith::AddFOp>(loc, acc, v).getResult();
      Value zero = b.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(VectorType::get({kWidth}, f32),
                                      rewriter.getF32FloatAttr(0)));
      Value padded = b.create<vector::InsertStridedSliceOp>(
          loc, v, zero, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{1});
      return b.create<arith::AddFOp>(loc, acc, padded).getResult();
    };
    auto zeroAcc = [&](OpBuilder &b) -> Value {
      return b.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(VectorType::get({kWidth}, f32),
                                      rewriter.getF32FloatAttr(0)));
    };
    auto scalar = [&](OpBuilder &b, double v) -> Value {
      return b.create<arith::ConstantOp>(loc, rewriter.getF32FloatAttr(v));
    };
    float eps = op.getEpsilon().convertToFloat();

    // Indices of element `col` of row `row` (the leading indices of the
    // result) in a tensor of type `t` that broadcasts to it (index 0 on its
    // broadcast axes).
    Value zeroIndex = index(rewriter, 0);
    auto at = [&](RankedTensorType t, ArrayRef<Value> row, Value col) {
      SmallVector<Value> idx;
      int64_t offset = rank - t.getRank();
      for (int64_t i = 0; i + 1 < t.getRank(); ++i)
        idx.push_back(t.getDimSize(i) == 1 && type.getDimSize(i + offset) != 1
                          ? zeroIndex
                          : row[i + offset]);
      idx.push_back(col);
      return idx;
    };
    auto rowBody = [&](OpBuilder &b, ArrayRef<Value> row,
                       ValueRange outs) -> SmallVector<Value> {
      // 1. sum = x (+ bias) + residual, and the row total.
      SmallVector<Value> r1 = overRow(
          b, {outs[1], zeroAcc(b)},
          [&](OpBuilder &cb, Value col, int64_t n, ValueRange args) {
            Value s = read(cb, x, at(xType, row, col), n);
            if (bias)
              s = cb.create<arith::AddFOp>(loc, s, read(cb, bias, col, n));
            s = cb.create<arith::AddFOp>(
                loc, s, read(cb, residual, at(resType, row, col), n));
            Value sums = write(cb, s, args[0], at(type, row, col));
            return SmallVector<Value>{sums,
                                      accumulate(cb, args[1], widen(cb, s), n)};
          });
      Value sums = r1[0];
      // (Operands that build ops are built first, one statement each: the
      // order of function arguments' evaluation differs between compilers,
      // and the IR must not.)
      Value total = sumOf(b, r1[1]);
      Value count = scalar(b, double(d));
      Value mean = b.create<arith::DivFOp>(loc, total, count);
      // 2. The sum of squared deviations.
      SmallVector<Value> r2 =
          overRow(b, {zeroAcc(b)},
                  [&](OpBuilder &cb, Value col, int64_t n, ValueRange args) {
                    Value s = widen(cb, read(cb, sums, at(type, row, col), n));
                    Value c = cb.create<arith::SubFOp>(loc, s, splat(cb, mean, n));
                    Value sq = cb.create<arith::MulFOp>(loc, c, c);
                    return SmallVector<Value>{accumulate(cb, args[0], sq, n)};
                  });
      Value squares = sumOf(b, r2[0]);
      Value var = b.create<arith::DivFOp>(loc, squares, scalar(b, double(d)));
      Value one = scalar(b, 1.0);
      Value varEps = b.create<arith::AddFOp>(loc, var, scalar(b, eps));
      Value rstd = b.create<arith::DivFOp>(
          loc, one, b.create<math::SqrtOp>(loc, varEps));
      // 3. y = (s - mean) * rstd * gamma (+ beta).
      SmallVector<Value> r3 = overRow(
          b, {outs[0]},
          [&](OpBuilder &cb, Value col, int64_t n, ValueRange args) {
            Value s = widen(cb, read(cb, sums, at(type, row, col), n));
            Value c = cb.create<arith::SubFOp>(loc, s, splat(cb, mean, n));
            Value scaled =
                cb.create<arith::MulFOp>(loc, c, splat(cb, rstd, n));
            Value g = widen(cb, read(cb, gamma, col, n));
            Value y = cb.create<arith::MulFOp>(loc, scaled, g);
            if (beta)
              y = cb.create<arith::AddFOp>(loc, y,
                                           widen(cb, read(cb, beta, col, n)));
            return SmallVector<Value>{
                write(cb, narrow(cb, y), args[0], at(type, row, col))};
          });
      return {r3[0], sums};
    };
    // One loop per leading axis; the innermost body handles one row.
    SmallVector<Value> row;
    std::function<SmallVector<Value>(OpBuilder &, ValueRange)> nest =
        [&](OpBuilder &b, ValueRange outs) -> SmallVector<Value> {
      if (static_cast<int64_t>(row.size()) == rank - 1)
        return rowBody(b, row, outs);
      auto loop = b.create<scf::ForOp>(
          loc, index(b, 0),
          getValueOrCreateConstantIndexOp(b, loc, sizes[row.size()]),
          index(b, 1),
          outs, [&](OpBuilder &lb, Location, Value iv, ValueRange args) {
            // With dynamic dims, the outermost loop writes through whole
            // slices of its arguments (see extractWhole).
            bool whole = row.empty() && !type.hasStaticShape();
            SmallVector<Value> inner(args);
            if (whole)
              for (Value &v : inner)
                v = kernels::extractWhole(lb, loc, v);
            row.push_back(iv);
            SmallVector<Value> results = nest(lb, inner);
            row.pop_back();
            if (whole)
              for (auto [result, arg] : llvm::zip(results, args))
                result = kernels::insertWhole(lb, loc, result, arg);
            lb.create<scf::YieldOp>(loc, results);
          });
      return loop.getResults();
    };
    SmallVector<Value> results = nest(rewriter, ValueRange{yInit, sumInit});
    Value y = results[0], sum = results[1];
    if (y.getType() != yType)
      y = rewriter.create<tensor::CastOp>(loc, yType, y);
    if (sum.getType() != sumType)
      sum = rewriter.create<tensor::CastOp>(loc, sumType, sum);
    rewriter.replaceOp(op, {y, sum});
    return success();
  }
};

} // namespace

void populateFusedAddLayerNormToLinalgPatterns(TypeConverter &converter,
                                               RewritePatternSet &patterns) {
  patterns.add<AddLayerNormLowering>(converter, patterns.getContext());
}

} // namespace tessera
