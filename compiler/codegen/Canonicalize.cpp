//===- Canonicalize.cpp - canonicalization safe for dynamic reshapes ------===//
//
// Upstream canonicalization of tensor.dim of a tensor.expand_shape (LLVM 19's
// FoldDimOfExpandShape, and the reification of expand_shape) assumes at most
// one dynamic dim per reassociation group, and divides by kDynamic when a
// group has several ([B*S] -> [B, S]): silently wrong sizes, since assertions
// are off. The expand's output_shape operands already hold the answer, so a
// pattern of higher benefit answers with them first. Every canonicalization
// of the pipeline goes through populateCanonicalizationPatterns.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tessera {
#define GEN_PASS_DEF_CANONICALIZE
#include "compiler/codegen/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

/// dim(expand_shape, d) is the expand's output_shape entry d.
struct DimOfExpandShape : OpRewritePattern<tensor::DimOp> {
  DimOfExpandShape(MLIRContext *ctx)
      : OpRewritePattern<tensor::DimOp>(ctx, /*benefit=*/10) {}
  LogicalResult matchAndRewrite(tensor::DimOp op,
                                PatternRewriter &rewriter) const override {
    auto expand = op.getSource().getDefiningOp<tensor::ExpandShapeOp>();
    std::optional<int64_t> dim = op.getConstantIndex();
    if (!expand || !dim)
      return failure();
    OpFoldResult size = getMixedValues(expand.getStaticOutputShape(),
                                       expand.getOutputShape(), rewriter)[*dim];
    rewriter.replaceOp(op,
                       getValueOrCreateConstantIndexOp(rewriter, op.getLoc(),
                                                       size));
    return success();
  }
};

struct CanonicalizePass : impl::CanonicalizeBase<CanonicalizePass> {
  LogicalResult initialize(MLIRContext *ctx) override {
    RewritePatternSet set(ctx);
    populateCanonicalizationPatterns(set);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }
  void runOnOperation() override {
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    (void)applyPatternsAndFoldGreedily(getOperation(), patterns, config);
  }
  FrozenRewritePatternSet patterns;
};

} // namespace

void populateCanonicalizationPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<DimOfExpandShape>(ctx);
  for (Dialect *dialect : ctx->getLoadedDialects())
    dialect->getCanonicalizationPatterns(patterns);
  for (RegisteredOperationName op : ctx->getRegisteredOperations())
    op.getCanonicalizationPatterns(patterns, ctx);
}

} // namespace tessera
