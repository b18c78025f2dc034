//===- FusedQKVProjection.cpp - tessera.qkv_projection to linalg ----------===//
//
// Part of Tessera. One GEMM of the flattened input [d0 * d1, E] (d0 and d1
// static or dynamic) with the packed constant weight [E, (sum of the
// results' heads) * Dh] (a
// linalg.matmul, so tessera-vectorize-matmul packs and tiles it like every
// other projection), accumulating onto the broadcast bias; then each result is its column block
// viewed as [d0, d1, H, Dh] and transposed into [B, H, S, Dh].
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/KernelShapes.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/tessera/TesseraDialect.h"

using namespace mlir;
using namespace tessera::lowering;
namespace fused = tessera::fused;

namespace {

struct QKVProjectionLowering : OpConversionPattern<fused::QKVProjectionOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(fused::QKVProjectionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    const TypeConverter *tc = getTypeConverter();
    auto xt = dyn_cast_or_null<RankedTensorType>(
        tc->convertType(op.getX().getType()));
    auto wt = staticType(tc, op.getW());
    if (!xt || !wt || (op.getBias() && !staticType(tc, op.getBias())))
      return rewriter.notifyMatchFailure(op, "needs a static weight and bias");
    Location loc = op.getLoc();
    Type elt = xt.getElementType();
    int64_t e = xt.getDimSize(2);
    if (ShapedType::isDynamic(e))
      return rewriter.notifyMatchFailure(op, "needs a static embedding size");
    int64_t packed = wt.getDimSize(1);
    int64_t n = op.getOutputs().size();
    SmallVector<int64_t> headCounts = op.headCounts();
    int64_t total = 0;
    for (int64_t h : headCounts)
      total += h;
    int64_t headDim = packed / total;
    // d0 and d1 (batch and sequence, either order) may be dynamic.
    Value x = adaptor.getX();
    OpFoldResult d0 = tensor::getMixedSize(rewriter, loc, x, 0);
    OpFoldResult d1 = tensor::getMixedSize(rewriter, loc, x, 1);
    auto index = [&](int64_t v) -> OpFoldResult {
      return rewriter.getIndexAttr(v);
    };

    // C = bias + X W over [d0 * d1, E] x [E, total heads * Dh].
    x = rewriter.create<tensor::CollapseShapeOp>(
        loc, x, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    SmallVector<OpFoldResult> cSizes = {tessera::kernels::mulSizes(rewriter, loc, d0, d1),
                                        index(packed)};
    Value init = rewriter.create<tensor::EmptyOp>(loc, cSizes, elt);
    if (Value bias = adaptor.getBias()) {
      MLIRContext *ctx = rewriter.getContext();
      AffineMap maps[] = {AffineMap::get(2, 0, getAffineDimExpr(1, ctx)),
                          AffineMap::getMultiDimIdentityMap(2, ctx)};
      SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
      init = rewriter
                 .create<linalg::GenericOp>(
                     loc, init.getType(), ValueRange{bias}, ValueRange{init},
                     maps, iters,
                     [](OpBuilder &b, Location l, ValueRange a) {
                       b.create<linalg::YieldOp>(l, a[0]);
                     })
                 .getResult(0);
    } else {
      Value zero =
          rewriter.create<arith::ConstantOp>(loc, rewriter.getZeroAttr(elt));
      init = rewriter.create<linalg::FillOp>(loc, zero, init).getResult(0);
    }
    Value c = rewriter
                  .create<linalg::MatmulOp>(loc, TypeRange{init.getType()},
                                            ValueRange{x, adaptor.getW()},
                                            ValueRange{init})
                  .getResult(0);

    // Result i: its heads of the [d0, d1, total heads, Dh] view, transposed
    // from [B, S, H, Dh] (or [S, B, H, Dh]) into [B, H, S, Dh].
    SmallVector<int64_t> c4Shape = {xt.getDimSize(0), xt.getDimSize(1), total,
                                    headDim};
    Value c4 = rewriter.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get(c4Shape, elt), c,
        ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}},
        ArrayRef<OpFoldResult>{d0, d1, index(total), index(headDim)});
    SmallVector<int64_t> perm = op.getSeqFirst()
                                    ? SmallVector<int64_t>{1, 2, 0, 3}
                                    : SmallVector<int64_t>{0, 2, 1, 3};
    SmallVector<Value> results;
    int64_t firstHead = 0;
    for (int64_t i = 0; i < n; ++i) {
      int64_t heads = headCounts[i];
      auto sliceType = RankedTensorType::get(
          {xt.getDimSize(0), xt.getDimSize(1), heads, headDim}, elt);
      SmallVector<OpFoldResult> sliceSizes = {d0, d1, index(heads),
                                              index(headDim)};
      SmallVector<OpFoldResult> offsets = {index(0), index(0),
                                           index(firstHead), index(0)};
      SmallVector<OpFoldResult> strides(4, index(1));
      firstHead += heads;
      Value slice = rewriter.create<tensor::ExtractSliceOp>(
          loc, sliceType, c4, offsets, sliceSizes, strides);
      SmallVector<OpFoldResult> outSizes;
      for (int64_t p : perm)
        outSizes.push_back(sliceSizes[p]);
      Value empty = rewriter.create<tensor::EmptyOp>(loc, outSizes, elt);
      Value result =
          rewriter.create<linalg::TransposeOp>(loc, slice, empty, perm)
              ->getResult(0);
      Type want = tc->convertType(op.getOutputs()[i].getType());
      if (result.getType() != want)
        result = rewriter.create<tensor::CastOp>(loc, want, result);
      results.push_back(result);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

namespace tessera {

void populateFusedQKVProjectionToLinalgPatterns(TypeConverter &converter,
                                                RewritePatternSet &patterns) {
  patterns.add<QKVProjectionLowering>(converter, patterns.getContext());
}

} // namespace tessera
