//===- FusedQKVProjection.cpp - tessera.qkv_projection to linalg ----------===//
//
// Part of Tessera. One GEMM of the flattened input [d0 * d1, E] with the
// packed constant weight [E, n * H * Dh] (a linalg.matmul, so
// tessera-vectorize-matmul packs and tiles it like every other projection),
// accumulating onto the broadcast bias; then each result is its column block
// viewed as [d0, d1, H, Dh] and transposed into [B, H, S, Dh].
//
//===----------------------------------------------------------------------===//

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
    auto xt = staticType(tc, op.getX());
    auto wt = staticType(tc, op.getW());
    if (!xt || !wt || (op.getBias() && !staticType(tc, op.getBias())))
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    SmallVector<RankedTensorType> outTypes;
    for (Value out : op.getOutputs()) {
      auto t = staticType(tc, out);
      if (!t)
        return rewriter.notifyMatchFailure(op, "needs static shapes");
      outTypes.push_back(t);
    }
    Location loc = op.getLoc();
    Type elt = xt.getElementType();
    int64_t d0 = xt.getDimSize(0), d1 = xt.getDimSize(1), e = xt.getDimSize(2);
    int64_t packed = wt.getDimSize(1);
    int64_t n = outTypes.size(), heads = op.getNumHeads();
    int64_t headDim = packed / (n * heads);

    // C = bias + X W over [d0 * d1, E] x [E, n * H * Dh].
    Value x = buildReshape(rewriter, loc, adaptor.getX(),
                           RankedTensorType::get({d0 * d1, e}, elt));
    auto cType = RankedTensorType::get({d0 * d1, packed}, elt);
    Value init;
    if (Value bias = adaptor.getBias())
      init = buildElementwise(
          rewriter, loc, cType, {bias},
          [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    else
      init = buildFilled(rewriter, loc, cType, rewriter.getZeroAttr(elt));
    Value c = rewriter
                  .create<linalg::MatmulOp>(loc, TypeRange{cType},
                                            ValueRange{x, adaptor.getW()},
                                            ValueRange{init})
                  .getResult(0);

    // Result i: C[:, :, i] of the [d0, d1, n, H, Dh] view, transposed from
    // [B, S, H, Dh] (or [S, B, H, Dh]) into [B, H, S, Dh].
    Value c5 =
        buildReshape(rewriter, loc, c,
                     RankedTensorType::get({d0, d1, n, heads, headDim}, elt));
    auto sliceType = RankedTensorType::get({d0, d1, heads, headDim}, elt);
    SmallVector<int64_t> perm = op.getSeqFirst()
                                    ? SmallVector<int64_t>{1, 2, 0, 3}
                                    : SmallVector<int64_t>{0, 2, 1, 3};
    SmallVector<Value> results;
    for (int64_t i = 0; i < n; ++i) {
      SmallVector<OpFoldResult> offsets = {
          rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
          rewriter.getIndexAttr(i), rewriter.getIndexAttr(0),
          rewriter.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes = {
          rewriter.getIndexAttr(d0), rewriter.getIndexAttr(d1),
          rewriter.getIndexAttr(1), rewriter.getIndexAttr(heads),
          rewriter.getIndexAttr(headDim)};
      SmallVector<OpFoldResult> strides(5, rewriter.getIndexAttr(1));
      Value slice = rewriter.create<tensor::ExtractSliceOp>(
          loc, sliceType, c5, offsets, sizes, strides);
      Value empty =
          rewriter.create<tensor::EmptyOp>(loc, outTypes[i].getShape(), elt);
      results.push_back(
          rewriter.create<linalg::TransposeOp>(loc, slice, empty, perm)
              ->getResult(0));
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
