//===- VectorizeMatmul.cpp - register-tiled, vectorized matmuls
//-------------===//
//
// The GEMM schedule from TOOLCHAIN.md, applied with MLIR's C++ APIs on
// tensors: register tiles (6x16 = 12 ymm accumulators with AVX2, 6x64 with
// AVX-512), k tiled by 1 and unrolled by 4, the C tile hoisted out of the k
// loop as a loop-carried vector. Constant weights were packed into panels by
// tessera-pack-matmul-weights; the elementwise epilogue it marked
// (tessera.matmul's bias and activation) is fused into the register tiles: it
// applies to the loop-carried accumulator after the k loop, so the result is
// stored once. Then, after bufferization, contractions become outer products
// and FMAs, and transfers become 1-D loads and stores.
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
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "mlir/Transforms/RegionUtils.h"

namespace tessera {
#define GEN_PASS_DEF_VECTORIZEMATMUL
#include "compiler/codegen/cpu/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

using namespace cpu;

struct VectorizeMatmulPass : impl::VectorizeMatmulBase<VectorizeMatmulPass> {
  using VectorizeMatmulBase::VectorizeMatmulBase;

  /// A batched matmul becomes a loop over the batch of plain matmuls on
  /// [M, K] x [K, N] slices, which then get the same schedule.
  static void unbatch(IRRewriter &rewriter, func::FuncOp func) {
    SmallVector<linalg::BatchMatmulOp> batched;
    func.walk([&](linalg::BatchMatmulOp op) {
      if (cast<ShapedType>(op.getResultTypes()[0]).getElementType().isF32())
        batched.push_back(op);
    });
    for (linalg::BatchMatmulOp op : batched) {
      auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
      auto tiled = tile(rewriter, op, {1, 0, 0, 0});
      if (failed(tiled))
        continue;
      // A fill of C moves into the loop (per batch element, before its
      // matmul), where the register tiling fuses it: C is not filled first.
      if (fill && tiled->loops.size() == 1)
        cast<scf::ForOp>(tiled->loops[0].getOperation())
            .getInitArgsMutable()[0]
            .set(fill.getDpsInits()[0]);
      auto one = cast<linalg::BatchMatmulOp>(tiled->tiledOps.back());
      rewriter.setInsertionPoint(one);
      Location loc = one.getLoc();
      SmallVector<ReassociationIndices> dropBatch = {{0, 1}, {2}};
      auto collapse = [&](Value v) {
        auto t = cast<RankedTensorType>(v.getType());
        auto flat = RankedTensorType::get({t.getDimSize(1), t.getDimSize(2)},
                                          t.getElementType());
        return rewriter.create<tensor::CollapseShapeOp>(loc, flat, v, dropBatch)
            .getResult();
      };
      Value a = collapse(one.getDpsInputs()[0]);
      Value b = collapse(one.getDpsInputs()[1]);
      Value c = collapse(one.getDpsInits()[0]);
      if (fill)
        c = rewriter.create<linalg::FillOp>(loc, fill.getInputs()[0], c)
                .getResult(0);
      auto mm = rewriter.create<linalg::MatmulOp>(
          loc, TypeRange{c.getType()}, ValueRange{a, b}, ValueRange{c});
      Value expanded = rewriter.create<tensor::ExpandShapeOp>(
          loc, one.getResultTypes()[0], mm.getResult(0), dropBatch);
      rewriter.replaceOp(one, expanded);
    }
  }

  /// The register tile (rows, columns) of a matmul (or its epilogue) of N
  /// columns: the narrow tile when N (static) fits in it, as the narrow
  /// panels of a long K do, else tile-m x tile-n.
  std::pair<int64_t, int64_t> tileFor(int64_t n) const {
    if (narrowTileN > 0 && !ShapedType::isDynamic(n) && n <= narrowTileN)
      return {narrowTileM > 0 ? narrowTileM : tileM, narrowTileN};
    return {tileM, tileN};
  }

  /// Tiles `op` (one result) by `sizes` (0 = not tiled) in the order
  /// `interchange`, fusing its fill (and, for an epilogue, matmul)
  /// producers, replaces it with the tiled loops and peels each loop so that
  /// the full tiles are static. Leaves `op` alone if it cannot be tiled.
  static void tileFuseAndPeel(IRRewriter &rewriter, Operation *op,
                              ArrayRef<int64_t> sizes,
                              ArrayRef<int64_t> interchange = {}) {
    scf::SCFTilingOptions tiling;
    SmallVector<OpFoldResult> ts;
    for (int64_t s : sizes)
      ts.push_back(rewriter.getIndexAttr(s));
    tiling.setTileSizes(ts);
    if (!interchange.empty())
      tiling.setInterchange(interchange);
    scf::SCFTileAndFuseOptions options;
    options.setTilingOptions(tiling);
    // A matmul's own producers are not fused, only its fill.
    bool fuseMatmuls = !isa<linalg::MatmulOp>(op);
    options.setFusionControlFn(
        [fuseMatmuls](tensor::ExtractSliceOp, OpResult producer, bool) {
          Operation *p = producer.getOwner();
          bool fuse = isa<linalg::FillOp>(p) ||
                      (fuseMatmuls && isa<linalg::MatmulOp>(p));
          return std::make_tuple(fuse, false);
        });
    rewriter.setInsertionPoint(op);
    auto tiled = scf::tileConsumerAndFuseProducersUsingSCF(
        rewriter, cast<TilingInterface>(op), options);
    if (failed(tiled))
      return;
    SmallVector<Value> replacements;
    for (Value r : op->getResults())
      replacements.push_back(tiled->replacements.lookup(r));
    rewriter.replaceOp(op, replacements);
    for (LoopLikeOpInterface loop : llvm::reverse(tiled->loops)) {
      scf::ForOp partial, main = cast<scf::ForOp>(loop.getOperation());
      if (failed(scf::peelForLoopAndSimplifyBounds(rewriter, main, partial)) ||
          (getConstantIntValue(partial.getLowerBound()) &&
           getConstantIntValue(partial.getUpperBound())))
        continue;
      fullTileSizes(rewriter, main);
      remainderToOnce(rewriter, partial);
    }
  }

  /// In the main loop of a peeled tiling, every tile is full: the tile sizes
  /// min(step, size - iv) are the step. peelForLoopAndSimplifyBounds proves
  /// this itself when the bounds are simple; with a remainder of a remainder
  /// (M mod 8, then tiled by 4) its solver gives up on the floordivs, so the
  /// tiling's own mins are replaced here (those of the body that read the
  /// induction variable and have the step as a result).
  static void fullTileSizes(RewriterBase &rewriter, scf::ForOp main) {
    std::optional<int64_t> step = getConstantIntValue(main.getStep());
    if (!step)
      return;
    SmallVector<affine::AffineMinOp> mins;
    for (Operation &op : *main.getBody())
      if (auto min = dyn_cast<affine::AffineMinOp>(op))
        if (llvm::is_contained(min.getOperands(), main.getInductionVar()) &&
            llvm::any_of(min.getMap().getResults(), [&](AffineExpr e) {
              auto c = dyn_cast<AffineConstantExpr>(e);
              return c && c.getValue() == *step;
            }))
          mins.push_back(min);
    for (affine::AffineMinOp min : mins) {
      rewriter.setInsertionPoint(min);
      rewriter.replaceOpWithNewOp<arith::ConstantIndexOp>(min, *step);
    }
  }

  /// A peeled remainder loop runs at most once. With dynamic bounds it
  /// becomes a loop of 0 or 1 iterations (lb < ub) whose body uses lb for
  /// the induction variable, so that the size of its tile (ub - lb, e.g.
  /// M mod 8) no longer goes through an induction variable, and
  /// splitRemainders can tile it again into static tiles. (An scf.for, not
  /// an scf.if: tensor.dim of the enclosing loops' results must still fold
  /// to their inits for the output-dims function.)
  static void remainderToOnce(RewriterBase &rewriter, scf::ForOp loop) {
    Location loc = loop.getLoc();
    rewriter.setInsertionPoint(loop);
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    Value cond = rewriter.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::slt, loop.getLowerBound(),
        loop.getUpperBound());
    Value trips = rewriter.create<arith::SelectOp>(loc, cond, one, zero);
    auto once = rewriter.create<scf::ForOp>(loc, zero, trips, one,
                                            loop.getInitArgs());
    Block *body = once.getBody();
    if (!body->empty() && isa<scf::YieldOp>(body->back()))
      rewriter.eraseOp(&body->back());
    SmallVector<Value> args = {loop.getLowerBound()};
    llvm::append_range(args, once.getRegionIterArgs());
    rewriter.mergeBlocks(loop.getBody(), once.getBody(), args);
    rewriter.replaceOp(loop, once.getResults());
  }

  /// Tiles each epilogue marked by packConstantWeights by the register tile
  /// and fuses its matmul (and the zero fill) into it, so that the epilogue
  /// applies to the register tile before it is stored. Partial M tiles are
  /// peeled.
  void fuseEpilogues(IRRewriter &rewriter, func::FuncOp func) {
    SmallVector<linalg::GenericOp> epilogues;
    func.walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kEpilogueAttr))
        epilogues.push_back(op);
    });
    for (linalg::GenericOp op : epilogues) {
      auto type = cast<ShapedType>(op.getResultTypes()[0]);
      scf::SCFTilingOptions tiling;
      auto tileOf = [](int64_t size, int64_t tile) {
        return ShapedType::isDynamic(size) ? tile : std::min(tile, size);
      };
      auto [tm, tn] = tileFor(type.getDimSize(1));
      tileFuseAndPeel(
          rewriter, op,
          {tileOf(type.getDimSize(0), tm), tileOf(type.getDimSize(1), tn)});
    }
    cleanup(func);
  }

  /// Whether `op` is a matmul tile fused into an epilogue tile (tiled with
  /// it, not on its own).
  static bool feedsEpilogue(Operation *op) {
    return llvm::any_of(op->getUsers(), [](Operation *user) {
      return user->hasAttr(kEpilogueAttr);
    });
  }

  /// The dynamic remainders of the register tiling (M, or N, not known at
  /// compile time but less than the register tile) become static tiles:
  /// each is tiled by halves of the register tile (4, 2, then 1 rows for 8)
  /// and peeled, so that the last remainder is a loop of static 1-row (or
  /// 1-column) tiles. An epilogue tile is tiled with its matmul fused in.
  void splitRemainders(IRRewriter &rewriter, func::FuncOp func) {
    for (int64_t dim : {0, 1}) {
      for (int64_t size = (dim ? tileN : tileM) / 2; size >= 1; size /= 2) {
        SmallVector<Operation *> remainders;
        func.walk([&](Operation *op) {
          auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
          bool epilogue = op->hasAttr(kEpilogueAttr);
          if (!linalgOp || !(isa<linalg::MatmulOp>(op) || epilogue) ||
              !cast<ShapedType>(op->getResultTypes()[0]).isDynamicDim(dim) ||
              !cast<ShapedType>(op->getResultTypes()[0])
                   .getElementType()
                   .isF32())
            return;
          // A matmul fused into an epilogue is tiled with it.
          if (!epilogue && feedsEpilogue(op))
            return;
          remainders.push_back(op);
        });
        for (Operation *op : remainders) {
          SmallVector<int64_t> sizes(isa<linalg::MatmulOp>(op) ? 3 : 2, 0);
          sizes[dim] = size;
          tileFuseAndPeel(rewriter, op, sizes);
        }
        cleanup(func);
      }
    }
  }

  /// Tiles the K dim of every static matmul longer than kBlock by kBlock,
  /// peeling a partial last block.
  void blockK(IRRewriter &rewriter, func::FuncOp func) {
    int64_t block = kBlock;
    if (block <= 0)
      return;
    SmallVector<linalg::MatmulOp> longK;
    func.walk([&](linalg::MatmulOp op) {
      auto a = cast<ShapedType>(op.getDpsInputs()[0].getType());
      if (isF32(op) && !a.isDynamicDim(1) && a.getDimSize(1) > block)
        longK.push_back(op);
    });
    for (linalg::MatmulOp op : longK) {
      auto tiled = tile(rewriter, op, {0, 0, block});
      if (failed(tiled))
        continue;
      scf::ForOp partial;
      (void)scf::peelForLoopAndSimplifyBounds(
          rewriter, cast<scf::ForOp>(tiled->loops.back().getOperation()),
          partial);
    }
    cleanup(func);
  }

  /// The k loops of the matmul tiles of one panel group's register tile
  /// (sibling loops with the same bounds, neither reading the other's
  /// results, their C tiles together no larger than a register tile) become
  /// one loop, so that each A element loaded feeds the FMAs of every weight
  /// of the group, as in one wide tile.
  void fuseSiblingKLoops(IRRewriter &rewriter, func::FuncOp func) {
    auto tileElements = [](scf::ForOp loop) {
      int64_t total = 0;
      for (Type t : loop.getResultTypes()) {
        auto shaped = dyn_cast<ShapedType>(t);
        if (!shaped || !shaped.hasStaticShape())
          return std::numeric_limits<int64_t>::max() / 2;
        total += shaped.getNumElements();
      }
      return total;
    };
    llvm::SmallPtrSet<Operation *, 8> seconds;
    auto isKLoop = [](Operation *op) {
      auto loop = dyn_cast<scf::ForOp>(op);
      return loop && llvm::any_of(loop.getBody()->getOperations(),
                                  [](Operation &inner) {
                                    return isa<vector::ContractionOp>(inner);
                                  });
    };
    SmallVector<std::pair<scf::ForOp, scf::ForOp>> pairs;
    func.walk([&](scf::ForOp first) {
      if (!isKLoop(first) || seconds.contains(first))
        return;
      // The next k loop in the block, if nothing before it reads `first`.
      for (Operation *op = first->getNextNode(); op; op = op->getNextNode()) {
        bool readsFirst = false;
        op->walk([&](Operation *inner) {
          for (Value v : inner->getOperands())
            if (v.getDefiningOp() == first)
              readsFirst = true;
        });
        if (readsFirst)
          return;
        if (!isKLoop(op))
          continue;
        auto second = cast<scf::ForOp>(op);
        if (first.getLowerBound() == second.getLowerBound() &&
            first.getUpperBound() == second.getUpperBound() &&
            first.getStep() == second.getStep() &&
            tileElements(first) + tileElements(second) <= tileM * tileN) {
          pairs.emplace_back(first, second);
          seconds.insert(second);
        }
        return;
      }
    });
    DominanceInfo dominance;
    for (auto [first, second] : pairs) {
      scf::ForOp fused = fuseIndependentSiblingForLoops(first, second, rewriter);
      // Both tiles read the same A elements (slices made in the enclosing
      // tile): one load.
      eliminateCommonSubExpressions(rewriter, dominance, fused->getParentOp());
    }
  }

  // Loop handles do not survive the canonicalizations in between, so each
  // step finds its ops again by walking.
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());
    unbatch(rewriter, func);

    // 1. Cache blocking of K: a long K is tiled by kBlock (C carried through
    //    the loop), so that the kBlock x tileN block of a weight panel stays
    //    in L1 while all the row tiles of A pass over it.
    blockK(rewriter, func);
    fuseEpilogues(rewriter, func);

    // 2. Register tiles over M and N; the partial last tiles are peeled off,
    //    so every tile (main and remainder) has a static shape.
    //    Dynamic sizes (M = batch x sequence, or both M and N in the batched
    //    matmuls of unfused attention) get the same full tiles, in loops to
    //    run-time bounds, and their remainders are split into static tiles.
    SmallVector<linalg::MatmulOp> large;
    func.walk([&](linalg::MatmulOp op) {
      auto [m, n] = sizeMN(op);
      auto [tm, tn] = tileFor(n);
      if (isF32(op) && !feedsEpilogue(op) &&
          (ShapedType::isDynamic(m) || ShapedType::isDynamic(n) || m > tm ||
           n > tn))
        large.push_back(op);
    });
    // N outer, M inner: one K x tileN panel of B stays in cache while all
    // the row tiles of A pass over it. A fill of C is fused into the tiles
    // (it becomes the zero vector the k loop starts from).
    for (linalg::MatmulOp op : large) {
      auto [tm, tn] = tileFor(sizeMN(op).second);
      tileFuseAndPeel(rewriter, op, {tm, tn, 0}, {1, 0, 2});
    }
    cleanup(func);
    splitRemainders(rewriter, func);

    // 3. Every matmul tile of static M and N that fits a register tile
    //    (K may be dynamic): k by 1, vectorize.
    SmallVector<linalg::MatmulOp> tiles;
    func.walk([&](linalg::MatmulOp op) {
      auto [m, n] = sizeMN(op);
      auto [tm, tn] = tileFor(n);
      if (isF32(op) && !ShapedType::isDynamic(m) && !ShapedType::isDynamic(n) &&
          m <= tm && n <= tn)
        tiles.push_back(op);
    });
    for (linalg::MatmulOp op : tiles) {
      // A zero fill fused into the tile becomes a zero vector.
      if (auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>())
        if (hasStaticShapes(fill) && fill->hasOneUse())
          (void)linalg::vectorize(rewriter, fill);
      auto kTiled = tile(rewriter, op, {0, 0, 1});
      if (failed(kTiled))
        continue;
      (void)linalg::vectorize(rewriter, kTiled->tiledOps.back());
    }
    // Epilogue tiles: read the matmul's tile, which becomes the vector the
    // k loop yields once the C tile is hoisted below.
    SmallVector<linalg::GenericOp> epilogueTiles;
    func.walk([&](linalg::GenericOp op) {
      if (!op->hasAttr(kEpilogueAttr) || !hasStaticShapes(op))
        return;
      auto [tm, tn] = tileFor(op.getStaticLoopRanges()[1]);
      if (op.getStaticLoopRanges()[0] <= tm &&
          op.getStaticLoopRanges()[1] <= tn)
        epilogueTiles.push_back(op);
    });
    for (linalg::GenericOp op : epilogueTiles)
      (void)linalg::vectorize(rewriter, op);
    cleanup(func);
    fuseSiblingKLoops(rewriter, func);

    // 4. In each k loop, the C tile becomes a loop-carried vector (the step
    //    that matters most); then unroll k.
    SmallVector<scf::ForOp> kLoops;
    func.walk([&](scf::ForOp loop) {
      if (llvm::any_of(loop.getBody()->getOperations(), [](Operation &op) {
            return isa<vector::ContractionOp>(op);
          }))
        kLoops.push_back(loop);
    });
    for (scf::ForOp loop : kLoops) {
      auto hoisted = hoistLoopInvariantSubsets(
          rewriter, cast<LoopLikeOpInterface>(loop.getOperation()));
      if (auto f = dyn_cast<scf::ForOp>(hoisted.getOperation()))
        if (unroll > 1)
          (void)loopUnrollByFactor(f, unroll);
    }
    cleanup(func);
  }
};

} // namespace
} // namespace tessera
