//===- Transformer.cpp - opset-23 Transformer ops to loops ----------------===//
//
// Part of Tessera. The kernels of the ops in dialects/onnx/Transformer.td
// that are not lowered elsewhere, run by tessera-lower-fused-kernels on the
// converted types convert-onnx-to-linalg leaves them with, vectors one
// register of the target wide:
//   - onnx.RMSNormalization over the last axis: the row-normalisation kernel
//     of tessera.add_layer_norm without a residual (RowNorm.h), one vector
//     pass for the sum of squares and one for the result per row;
//   - onnx.RotaryEmbedding: one loop per batch, head and position; per row,
//     the cos and sin rows (looked up by position id) and the two halves of
//     x (or, interleaved, its pairs split into even and odd lanes by
//     vector.shuffle) in vectors of `width` pairs, rotated and written once;
//     f16 and bf16 are rotated in f32.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/KernelShapes.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/OpBuilders.h"
#include "compiler/lowering/RowNorm.h"
#include "compiler/transforms/MatchUtils.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace tessera::lowering;

namespace tessera {
namespace {

RankedTensorType rankedType(Value v) {
  return v ? dyn_cast<RankedTensorType>(v.getType()) : RankedTensorType();
}

struct RMSNormalizationLowering : OpRewritePattern<onnx::RMSNormalizationOp> {
  RMSNormalizationLowering(MLIRContext *ctx, int64_t width)
      : OpRewritePattern(ctx), width(width) {}

  LogicalResult matchAndRewrite(onnx::RMSNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    kernels::RowNorm spec;
    spec.yType = rankedType(op.getY());
    auto xType = rankedType(op.getX());
    auto scaleType = rankedType(op.getScale());
    if (!spec.yType || !xType || !scaleType || !scaleType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "needs a ranked X and a static "
                                             "scale");
    int64_t rank = xType.getRank();
    if (onnx::normalizeAxis(op.getAxis(), rank) != rank - 1 ||
        op.getStashType() != 1)
      return rewriter.notifyMatchFailure(op, "needs the last axis, f32 stats");
    Value scale = op.getScale();
    int64_t d = xType.getDimSize(rank - 1);
    // The kernel wants a [D] scale: a broadcast one is reshaped (a [1, D]
    // scale) or expanded (a one-element scale) at compile time.
    if (scaleType.getRank() != 1 || scaleType.getDimSize(0) != d) {
      if (ShapedType::isDynamic(d) ||
          (scaleType.getNumElements() != 1 && scaleType.getNumElements() != d))
        return rewriter.notifyMatchFailure(op, "needs a [D] scale");
      Type elt = scaleType.getElementType();
      int64_t count = scaleType.getNumElements();
      scale = buildReshape(rewriter, op.getLoc(), scale,
                           RankedTensorType::get({count}, elt));
      if (count != d)
        scale = buildElementwise(
            rewriter, op.getLoc(), RankedTensorType::get({d}, elt), {scale},
            [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    }
    spec.x = op.getX();
    spec.gamma = scale;
    spec.rms = true;
    spec.epsilon = op.getEpsilon().convertToFloat();
    spec.width = width;
    return kernels::replaceWithRowNorm(rewriter, op, spec);
  }

  int64_t width;
};

/// The rotary kernel of one op: see the file comment.
class RotaryKernel {
public:
  RotaryKernel(OpBuilder &b, Location loc, onnx::RotaryEmbeddingOp op,
               int64_t width)
      : b(b), loc(loc), x(op.getX()), cos(op.getCosCache()),
        sin(op.getSinCache()), ids(op.getPositionIds()),
        interleaved(op.getInterleaved() != 0), width(width) {
    xType = cast<RankedTensorType>(x.getType());
    elt = xType.getElementType();
    int64_t rank = xType.getRank();
    int64_t last = xType.getDimSize(rank - 1);
    heads = rank == 4 ? xType.getDimSize(1) : op.getNumHeads();
    headDim = rank == 4 ? last : last / std::max<int64_t>(heads, 1);
    rotaryDim = op.getRotaryEmbeddingDim() ? op.getRotaryEmbeddingDim()
                                           : headDim;
  }

  /// Why the kernel cannot handle the shapes, or empty.
  std::string check() const {
    int64_t rank = xType.getRank();
    if (!isKernelFloat(elt))
      return "needs f32, f16 or bf16";
    for (Value table : {cos, sin})
      if (cast<ShapedType>(table.getType()).getElementType() != elt)
        return "needs cos/sin caches of X's type";
    if (ShapedType::isDynamic(headDim) || headDim <= 0 ||
        (rank == 3 && (heads <= 0 || xType.getDimSize(2) % heads)) ||
        (rank == 4 && ShapedType::isDynamic(heads)))
      return "needs a static head size (and head count)";
    if (rotaryDim > headDim || rotaryDim % 2)
      return "needs an even rotary_embedding_dim up to the head size";
    auto cosType = cast<RankedTensorType>(cos.getType());
    if (cosType.getDimSize(cosType.getRank() - 1) != rotaryDim / 2)
      return "needs cos/sin rows of rotary_embedding_dim / 2";
    return "";
  }

  /// Run-time checks that every table and id read stays in its tensor:
  /// ids [B|1, S] and tables [P, half] (ids clamped into P when read), or
  /// without ids tables [B, S, half].
  void checkOperands() {
    int64_t rank = xType.getRank();
    OpFoldResult batch = tensor::getMixedSize(b, loc, x, 0);
    OpFoldResult seq = tensor::getMixedSize(b, loc, x, rank == 4 ? 2 : 1);
    auto size = [&](Value v, int64_t d) {
      return tensor::getMixedSize(b, loc, v, d);
    };
    auto tableRank = cast<RankedTensorType>(cos.getType()).getRank();
    for (int64_t d = 0; d < tableRank; ++d)
      checkSameSize(b, loc, size(sin, d), size(cos, d),
                    "sin_cache must have cos_cache's shape");
    if (ids) {
      if (cast<RankedTensorType>(ids.getType()).getDimSize(0) != 1)
        checkSameSize(b, loc, size(ids, 0), batch,
                      "position_ids must have X's batch size");
      checkSameSize(b, loc, size(ids, 1), seq,
                    "position_ids must have X's sequence length");
      return;
    }
    checkSameSize(b, loc, size(cos, 0), batch,
                  "cos_cache must have X's batch size");
    checkSameSize(b, loc, size(cos, 1), seq,
                  "cos_cache must have X's sequence length");
  }

  Value build() {
    checkOperands();
    int64_t rank = xType.getRank();
    // Loops over [B, H, S] (4-D x) or [B, S, H] (3-D x).
    SmallVector<OpFoldResult> sizes = {tensor::getMixedSize(b, loc, x, 0)};
    if (rank == 4) {
      sizes.push_back(b.getIndexAttr(heads));
      sizes.push_back(tensor::getMixedSize(b, loc, x, 2));
    } else {
      sizes.push_back(tensor::getMixedSize(b, loc, x, 1));
      sizes.push_back(b.getIndexAttr(heads));
    }
    SmallVector<Value> dynamicSizes;
    for (int64_t i = 0; i < rank; ++i)
      if (xType.isDynamicDim(i))
        dynamicSizes.push_back(b.create<tensor::DimOp>(loc, x, i));
    Value init =
        b.create<bufferization::AllocTensorOp>(loc, xType, dynamicSizes);
    SmallVector<Value> results = kernels::overRows(
        b, loc, sizes, init,
        [&](OpBuilder &rb, ArrayRef<Value> row, ValueRange outs) {
          return SmallVector<Value>{rowBody(rb, row, outs[0])};
        });
    return results[0];
  }

private:
  Value index(OpBuilder &ob, int64_t v) {
    return ob.create<arith::ConstantIndexOp>(loc, v);
  }
  /// `n` elements of `src` at `idx`, widened to f32 (f16 and bf16 are
  /// computed in f32).
  Value read(OpBuilder &ob, Value src, ValueRange idx, int64_t n) {
    auto type = VectorType::get({n}, elt);
    return kernels::toF32(ob, loc,
                          ob.create<vector::TransferReadOp>(
                              loc, type, src, idx, ArrayRef<bool>{true}));
  }
  /// Writes f32 `v` to `dst` at `idx`, narrowed to X's type.
  Value write(OpBuilder &ob, Value v, Value dst, ValueRange idx) {
    v = kernels::fromF32(ob, loc, v, elt);
    return ob
        .create<vector::TransferWriteOp>(loc, v, dst, idx,
                                         ArrayRef<bool>{true})
        .getResult();
  }

  /// The index of feature `col` of the head of `row` in x.
  SmallVector<Value> xIndex(OpBuilder &ob, ArrayRef<Value> row, Value col) {
    if (xType.getRank() == 4)
      return {row[0], row[1], row[2], col};
    Value base = ob.create<arith::MulIOp>(loc, row[2], index(ob, headDim));
    return {row[0], row[1], ob.create<arith::AddIOp>(loc, base, col)};
  }

  /// The index of column `col` of the cos/sin row of `row`'s position.
  SmallVector<Value> tableIndex(OpBuilder &ob, ArrayRef<Value> row,
                                Value position, Value col) {
    if (position)
      return {position, col};
    return {row[0], xType.getRank() == 4 ? row[2] : row[1], col};
  }

  /// The position id of `row` as an index, or null without ids.
  Value positionOf(OpBuilder &ob, ArrayRef<Value> row) {
    if (!ids)
      return {};
    auto idsType = cast<RankedTensorType>(ids.getType());
    Value batch = idsType.getDimSize(0) == 1 ? index(ob, 0) : row[0];
    Value seq = xType.getRank() == 4 ? row[2] : row[1];
    Value id = ob.create<tensor::ExtractOp>(loc, ids, ValueRange{batch, seq});
    // An id past the table reads its last row (as Gather clamps).
    return clampedIndex(ob, loc, id, ob.create<tensor::DimOp>(loc, cos, 0));
  }

  Value rowBody(OpBuilder &rb, ArrayRef<Value> row, Value out) {
    Value position = positionOf(rb, row);
    int64_t half = rotaryDim / 2;
    // Pairs [c, c + n): x1 and x2 are the halves (or even and odd lanes).
    SmallVector<Value> r = kernels::overChunks(
        rb, loc, 0, half, width, out,
        [&](OpBuilder &cb, Value c, int64_t n, ValueRange args) {
          Value cs = read(cb, cos, tableIndex(cb, row, position, c), n);
          Value sn = read(cb, sin, tableIndex(cb, row, position, c), n);
          Value x1, x2, second;
          SmallVector<int64_t> evens, odds, zip;
          for (int64_t i = 0; i < n; ++i) {
            evens.push_back(2 * i);
            odds.push_back(2 * i + 1);
            zip.append({i, n + i});
          }
          if (interleaved) {
            Value first = cb.create<arith::MulIOp>(loc, c, index(cb, 2));
            Value pairs = read(cb, x, xIndex(cb, row, first), 2 * n);
            x1 = cb.create<vector::ShuffleOp>(loc, pairs, pairs, evens);
            x2 = cb.create<vector::ShuffleOp>(loc, pairs, pairs, odds);
            second = first;
          } else {
            second = cb.create<arith::AddIOp>(loc, c, index(cb, half));
            x1 = read(cb, x, xIndex(cb, row, c), n);
            x2 = read(cb, x, xIndex(cb, row, second), n);
          }
          Value x1c = cb.create<arith::MulFOp>(loc, x1, cs);
          Value x2s = cb.create<arith::MulFOp>(loc, x2, sn);
          Value y1 = cb.create<arith::SubFOp>(loc, x1c, x2s);
          Value x2c = cb.create<arith::MulFOp>(loc, x2, cs);
          Value x1s = cb.create<arith::MulFOp>(loc, x1, sn);
          Value y2 = cb.create<arith::AddFOp>(loc, x2c, x1s);
          if (interleaved) {
            Value pairs = cb.create<vector::ShuffleOp>(loc, y1, y2, zip);
            return SmallVector<Value>{
                write(cb, pairs, args[0], xIndex(cb, row, second))};
          }
          Value o = write(cb, y1, args[0], xIndex(cb, row, c));
          return SmallVector<Value>{write(cb, y2, o, xIndex(cb, row, second))};
        });
    // The features past the rotary dims pass through.
    r = kernels::overChunks(
        rb, loc, rotaryDim, headDim, width, r,
        [&](OpBuilder &cb, Value c, int64_t n, ValueRange args) {
          Value v = read(cb, x, xIndex(cb, row, c), n);
          return SmallVector<Value>{write(cb, v, args[0], xIndex(cb, row, c))};
        });
    return r[0];
  }

  OpBuilder &b;
  Location loc;
  Value x, cos, sin, ids;
  bool interleaved;
  int64_t width;
  RankedTensorType xType;
  Type elt;
  int64_t heads = 0, headDim = 0, rotaryDim = 0;
};

struct RotaryEmbeddingLowering : OpRewritePattern<onnx::RotaryEmbeddingOp> {
  RotaryEmbeddingLowering(MLIRContext *ctx, int64_t width)
      : OpRewritePattern(ctx), width(width) {}

  LogicalResult matchAndRewrite(onnx::RotaryEmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    auto yType = rankedType(op.getY());
    if (!yType || !rankedType(op.getX()) || !rankedType(op.getCosCache()) ||
        !rankedType(op.getSinCache()) ||
        (op.getPositionIds() && !rankedType(op.getPositionIds())))
      return rewriter.notifyMatchFailure(op, "needs ranked operands");
    RotaryKernel kernel(rewriter, op.getLoc(), op, width);
    std::string why = kernel.check();
    if (!why.empty())
      return rewriter.notifyMatchFailure(op, why);
    Value y = kernel.build();
    if (y.getType() != yType)
      y = rewriter.create<tensor::CastOp>(op.getLoc(), yType, y);
    rewriter.replaceOp(op, y);
    return success();
  }

  int64_t width;
};

} // namespace

void populateONNXTransformerKernelPatterns(RewritePatternSet &patterns,
                                           unsigned vectorBits) {
  patterns.add<RMSNormalizationLowering, RotaryEmbeddingLowering>(
      patterns.getContext(), kernels::vectorLanes(vectorBits));
}

} // namespace tessera
