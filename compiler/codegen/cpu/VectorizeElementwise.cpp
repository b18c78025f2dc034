//===- VectorizeElementwise.cpp - elementwise and row reductions as vectors -===//
//
// Elementwise linalg.generic ops (after fusion) and reductions over the
// innermost dim, tiled along their last dim by the target's vector width and
// vectorized; a dynamic remainder stays scalar.
//
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/cpu/Passes.h"
#include "compiler/codegen/cpu/Utils.h"

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
#define GEN_PASS_DEF_VECTORIZEELEMENTWISE
#include "compiler/codegen/cpu/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

using namespace cpu;

struct VectorizeElementwisePass
    : impl::VectorizeElementwiseBase<VectorizeElementwisePass> {
  using VectorizeElementwiseBase::VectorizeElementwiseBase;

  /// Elementwise, operands read in order, no index arithmetic. Dims may be
  /// dynamic: tiling makes the tiles static (a dynamic last dim leaves a
  /// scalar remainder).
  static bool isCandidate(linalg::GenericOp op) {
    if (op.getNumReductionLoops() != 0 || op.getNumLoops() == 0 ||
        !op.hasPureTensorSemantics())
      return false;
    // Vectors of i1 are stored as packed bits, but buffers of i1 hold one
    // byte per element: leave boolean ops scalar.
    for (Type t : op->getOperandTypes())
      if (getElementTypeOrSelf(t).isInteger(1))
        return false;
    for (AffineMap map : op.getIndexingMapsArray()) {
      int64_t last = -1;
      for (AffineExpr e : map.getResults()) {
        if (auto c = dyn_cast<AffineConstantExpr>(e)) {
          if (c.getValue() != 0)
            return false;
          continue;
        }
        auto d = dyn_cast<AffineDimExpr>(e);
        if (!d || int64_t(d.getPosition()) <= last)
          return false;
        last = d.getPosition();
      }
    }
    bool indexing = false;
    op.getBody()->walk([&](Operation *inner) {
      if (isa<linalg::IndexOp, tensor::ExtractOp>(inner))
        indexing = true;
    });
    return !indexing;
  }

  /// Tiles `op` [1, ..., 1, width] along its last loop and peels the
  /// remainder so every tile is static; an op narrower than `width` is tiled
  /// by 1 along its leading dims only (each row one vector), unless it has
  /// at most `width` elements in all, when it is vectorized as it is. So no
  /// vector grows with the tensor. A dynamic last dim is tiled too: its full
  /// tiles are static, the remainder stays scalar.
  void tileLastDim(IRRewriter &rewriter, linalg::LinalgOp op) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    bool narrow = !ShapedType::isDynamic(ranges.back()) && ranges.back() < width;
    if (narrow && !op.hasDynamicShape() &&
        ShapedType::getNumElements(ranges) <= width) {
      (void)linalg::vectorize(rewriter, op);
      return;
    }
    SmallVector<int64_t> sizes(ranges.size(), 1);
    sizes.back() = narrow ? 0 : width;
    auto tiled = tile(rewriter, op, sizes);
    if (failed(tiled) || narrow)
      return;
    scf::ForOp partial;
    (void)scf::peelForLoopAndSimplifyBounds(
        rewriter, cast<scf::ForOp>(tiled->loops.back().getOperation()),
        partial);
  }

  /// A reduction over the innermost dim only (softmax, layer norm, mean),
  /// fp32 (dims static or dynamic).
  static bool isInnerReduction(linalg::ReduceOp op) {
    auto type = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
    ArrayRef<int64_t> dims = op.getDimensions();
    return type && type.getElementType().isF32() &&
           op.getInputs().size() == 1 && dims.size() == 1 &&
           dims[0] == type.getRank() - 1;
  }

  /// Tiles every `isCandidate` op along its last dim (tileLastDim), then
  /// vectorizes the tiles that `isTile` says fit one vector.
  template <typename OpTy>
  void tileAndVectorize(IRRewriter &rewriter, func::FuncOp func,
                        llvm::function_ref<bool(OpTy)> isCandidate,
                        llvm::function_ref<bool(OpTy)> isTile) {
    SmallVector<OpTy> candidates;
    func.walk([&](OpTy op) {
      if (isCandidate(op))
        candidates.push_back(op);
    });
    for (OpTy op : candidates)
      tileLastDim(rewriter, op);
    cleanup(func);
    SmallVector<OpTy> tiles;
    func.walk([&](OpTy op) {
      if (isCandidate(op) && isTile(op))
        tiles.push_back(op);
    });
    for (OpTy op : tiles)
      (void)linalg::vectorize(rewriter, op);
    cleanup(func);
  }

  /// Reductions: the reduced dim tiled by `width` (the accumulator carried
  /// through the loop), each tile a vector.multi_reduction.
  void vectorizeReductions(IRRewriter &rewriter, func::FuncOp func) {
    tileAndVectorize<linalg::ReduceOp>(
        rewriter, func, isInnerReduction, [&](linalg::ReduceOp op) {
          auto type = cast<RankedTensorType>(op.getInputs()[0].getType());
          return type.hasStaticShape() && type.getShape().back() <= width;
        });
    // The accumulator of each reduction loop becomes loop-carried.
    SmallVector<scf::ForOp> loops;
    func.walk([&](scf::ForOp loop) {
      if (llvm::any_of(loop.getBody()->getOperations(), [](Operation &op) {
            return isa<vector::MultiDimReductionOp>(op);
          }))
        loops.push_back(loop);
    });
    for (scf::ForOp loop : loops)
      (void)hoistLoopInvariantSubsets(
          rewriter, cast<LoopLikeOpInterface>(loop.getOperation()));
    cleanup(func);
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());
    vectorizeReductions(rewriter, func);
    tileAndVectorize<linalg::GenericOp>(
        rewriter, func, isCandidate, [&](linalg::GenericOp op) {
          return hasStaticShapes(op) &&
                 op.getStaticLoopRanges().back() <= width;
        });
  }
};

} // namespace
} // namespace tessera
