//===- FuseElementwise.cpp - fuse elementwise chains ----------------------===//
//
// Single-use elementwise producers fused into their elementwise consumers.
// A fused chain of 16-bit float ops, each computed in f32 by the lowering,
// keeps f32 between them: the roundings marked tessera.widened_rounding
// that are only widened again are skipped, so the chain rounds once.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/cpu/Passes.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorTransforms.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "mlir/Transforms/RegionUtils.h"

namespace tessera {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "compiler/codegen/cpu/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

struct FuseElementwisePass : impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    auto isElementwise = [](Operation *op) {
      auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
      return generic && generic.getNumReductionLoops() == 0;
    };
    linalg::ControlFusionFn control = [&](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      return isElementwise(producer) && isElementwise(operand->getOwner()) &&
             producer->hasOneUse();
    };
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    skipWidenedRoundings();
  }

  /// Inside a fused body, a 16-bit rounding of an f32 result that is only
  /// widened back to f32 (tessera.widened_rounding: one op of a chain the
  /// lowering computed in f32) is skipped, so the chain rounds once.
  void skipWidenedRoundings() {
    SmallVector<arith::ExtFOp> skipped;
    getOperation().walk([&](arith::ExtFOp ext) {
      auto round = ext.getIn().getDefiningOp<arith::TruncFOp>();
      if (round && fused::isWidenedRounding(round) &&
          isa<linalg::GenericOp>(ext->getParentOp()) &&
          round.getIn().getType() == ext.getType())
        skipped.push_back(ext);
    });
    for (arith::ExtFOp ext : skipped) {
      Operation *round = ext.getIn().getDefiningOp();
      ext.replaceAllUsesWith(round->getOperand(0));
      ext.erase();
      if (round->use_empty())
        round->erase();
    }
    // The marks are spent: the roundings left are the chains' own.
    getOperation().walk([](arith::TruncFOp round) {
      if (fused::isWidenedRounding(round))
        fused::clearWidenedRounding(round);
    });
  }
};

} // namespace
} // namespace tessera
