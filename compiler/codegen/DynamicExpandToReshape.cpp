//===- DynamicExpandToReshape.cpp - expand_shape that LLVM 19 mishandles --===//
//
// In LLVM 19 a tensor.expand_shape whose reassociation group has several
// dynamic dims ([B*S, D] -> [B, S, D]) is mishandled wherever its result
// dims are recomputed from its source instead of read from output_shape:
// the tensor.dim canonicalization and the ReifyRankedShapedTypeOpInterface
// implementation (used by tiling) divide by kDynamic, and the memref
// lowering crashes. Such an expand becomes a tensor.reshape with its
// output_shape as the shape operand: tensor.dim of it folds to that operand,
// and it bufferizes to a memref.reshape view (no copy for a dense source).
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tessera {
#define GEN_PASS_DEF_DYNAMICEXPANDTORESHAPE
#include "compiler/codegen/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

struct ExpandToReshape : OpRewritePattern<tensor::ExpandShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::ExpandShapeOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getResultType();
    bool ambiguous = llvm::any_of(
        op.getReassociationIndices(), [&](const ReassociationIndices &group) {
          return llvm::count_if(group, [&](int64_t d) {
                   return type.isDynamicDim(d);
                 }) > 1;
        });
    if (!ambiguous)
      return failure();
    SmallVector<Value> sizes = getValueOrCreateConstantIndexOp(
        rewriter, op.getLoc(),
        getMixedValues(op.getStaticOutputShape(), op.getOutputShape(),
                       rewriter));
    Value shape = rewriter.create<tensor::FromElementsOp>(op.getLoc(), sizes);
    rewriter.replaceOpWithNewOp<tensor::ReshapeOp>(op, type, op.getSrc(),
                                                   shape);
    return success();
  }
};

struct DynamicExpandToReshapePass
    : impl::DynamicExpandToReshapeBase<DynamicExpandToReshapePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandToReshape>(&getContext());
    GreedyRewriteConfig config;
    config.enableRegionSimplification = GreedySimplifyRegionLevel::Disabled;
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns),
                                            config)))
      return signalPassFailure();
  }
};

} // namespace
} // namespace tessera
