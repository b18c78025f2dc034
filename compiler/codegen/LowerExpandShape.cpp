//===- LowerExpandShape.cpp - memref.expand_shape by its output_shape -----===//
//
// LLVM 19's expand-strided-metadata recomputes the sizes of a
// memref.expand_shape from its source, assuming one dynamic dim per
// reassociation group, and crashes on [B*S, D] -> [B, S, D]. This pass runs
// first and rewrites every memref.expand_shape to a memref.reinterpret_cast
// of the source's base buffer, with the expand's output_shape as sizes and
// strides derived from the source's: within a group, the last dim keeps the
// source dim's stride and each earlier one is the next one's stride times
// its size.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tessera {
#define GEN_PASS_DEF_LOWEREXPANDSHAPE
#include "compiler/codegen/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

struct ExpandShapeToReinterpretCast
    : OpRewritePattern<memref::ExpandShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::ExpandShapeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto meta = rewriter.create<memref::ExtractStridedMetadataOp>(
        loc, op.getSrc());
    SmallVector<OpFoldResult> sizes = getMixedValues(
        op.getStaticOutputShape(), op.getOutputShape(), rewriter);
    SmallVector<OpFoldResult> strides(sizes.size());
    auto [srcStrides, srcOffset] = getStridesAndOffset(op.getSrcType());
    for (auto [srcDim, group] : llvm::enumerate(op.getReassociationIndices())) {
      OpFoldResult stride =
          ShapedType::isDynamic(srcStrides[srcDim])
              ? OpFoldResult(meta.getStrides()[srcDim])
              : OpFoldResult(rewriter.getIndexAttr(srcStrides[srcDim]));
      for (int64_t d : llvm::reverse(group)) {
        strides[d] = stride;
        AffineExpr s0, s1;
        bindSymbols(rewriter.getContext(), s0, s1);
        stride = affine::makeComposedFoldedAffineApply(
            rewriter, loc, s0 * s1, {stride, sizes[d]});
      }
    }
    // Static strides of the result type must match what we computed; take
    // the type's where it has them.
    auto type = op.getResultType();
    auto [typeStrides, typeOffset] = getStridesAndOffset(type);
    for (auto [i, s] : llvm::enumerate(typeStrides))
      if (!ShapedType::isDynamic(s))
        strides[i] = rewriter.getIndexAttr(s);
    OpFoldResult offset =
        ShapedType::isDynamic(typeOffset)
            ? OpFoldResult(meta.getOffset())
            : OpFoldResult(rewriter.getIndexAttr(typeOffset));
    rewriter.replaceOpWithNewOp<memref::ReinterpretCastOp>(
        op, type, meta.getBaseBuffer(), offset, sizes, strides);
    return success();
  }
};

struct LowerExpandShapePass
    : impl::LowerExpandShapeBase<LowerExpandShapePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandShapeToReinterpretCast>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace tessera
