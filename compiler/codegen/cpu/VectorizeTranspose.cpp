//===- VectorizeTranspose.cpp - vectorised transposes and row gathers -----===//
//
// Data movement that the elementwise vectorizer leaves alone, as vectors:
//
// - Transposes (linalg.transpose, and any all-parallel linalg op that reads
//   an operand through a permuted map, such as a transpose fused with an
//   elementwise chain). When the innermost dim stays innermost ([S, B, D] ->
//   [B, S, D], head splits), tiles are rows [1, ..., 1, width]: one vector
//   load and one store each. When it moves, tiles are width x width register
//   blocks: a transfer_read of `width` rows, a vector.transpose lowered to
//   shuffles (LLVM's 16x16 unpack/shuffle network with AVX-512, one flat
//   shuffle with AVX2), a transfer_write of `width` rows.
// - Gathers (linalg.generic reading a table with tensor.extract, such as an
//   embedding lookup): tiled along the innermost dim, the per-row operands
//   (the token id) become scalars of the tile, so the row is one contiguous
//   vector load per tile; other access patterns become vector.gather.
//
// Static and dynamic dims: tiles at a dynamic or non-multiple edge are
// vectorized with masks, never left as scalar loops.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/cpu/Passes.h"
#include "compiler/codegen/cpu/Utils.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tessera {
#define GEN_PASS_DEF_VECTORIZETRANSPOSE
#include "compiler/codegen/cpu/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

/// The loop dim that indexes the innermost (contiguous) dim of `map`'s
/// operand, or -1 (a constant, or rank 0).
int64_t innermostLoopDim(AffineMap map) {
  if (map.getNumResults() == 0)
    return -1;
  auto d = dyn_cast<AffineDimExpr>(map.getResults().back());
  return d ? d.getPosition() : -1;
}

bool hasIndexingOps(linalg::LinalgOp op) {
  bool found = false;
  op->walk([&](Operation *inner) {
    if (isa<linalg::IndexOp, tensor::ExtractOp>(inner))
      found = true;
  });
  return found;
}

bool hasI1Operands(linalg::LinalgOp op) {
  return llvm::any_of(op->getOperandTypes(), [](Type t) {
    return getElementTypeOrSelf(t).isInteger(1);
  });
}

/// All-parallel, on tensors, one result written through the identity map,
/// with no i1 operands (vectors of i1 are bit-packed, buffers are not).
bool isParallelWithIdentityResult(linalg::LinalgOp op) {
  return op.hasPureTensorSemantics() && op.getNumLoops() > 0 &&
         op.getNumReductionLoops() == 0 && op.getNumDpsInits() == 1 &&
         op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity() &&
         !hasI1Operands(op);
}

/// A transpose: some input is read through a projected permutation whose
/// innermost dim is not the innermost loop, or whose dims come out of
/// order. Returns the loop dim to block together with the innermost loop
/// (the innermost loop itself when rows stay contiguous).
std::optional<int64_t> transposedDim(linalg::LinalgOp op) {
  if (!isParallelWithIdentityResult(op) || hasIndexingOps(op))
    return std::nullopt;
  int64_t last = op.getNumLoops() - 1;
  std::optional<int64_t> blocked;
  bool permuted = false;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/true))
      return std::nullopt;
    if (map.isMinorIdentityWithBroadcasting())
      continue;
    int64_t prev = -1;
    for (AffineExpr e : map.getResults())
      if (auto d = dyn_cast<AffineDimExpr>(e)) {
        permuted |= int64_t(d.getPosition()) < prev;
        prev = d.getPosition();
      }
    int64_t inner = innermostLoopDim(map);
    if (inner >= 0 && inner != last && !blocked)
      blocked = inner;
  }
  if (!permuted)
    return std::nullopt;
  return blocked.value_or(last);
}

/// A gather: an all-parallel generic whose body reads a tensor defined
/// outside it with tensor.extract, producing 32-bit floats.
bool isGather(linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic || !isParallelWithIdentityResult(op) ||
      !getElementTypeOrSelf(op->getResultTypes()[0]).isF32())
    return false;
  bool extracts = false;
  generic.getBody()->walk([&](tensor::ExtractOp extract) {
    extracts = true;
  });
  return extracts;
}

struct VectorizeTransposePass
    : impl::VectorizeTransposeBase<VectorizeTransposePass> {
  using VectorizeTransposeBase::VectorizeTransposeBase;

  /// Tile sizes: `width` along the innermost loop and `blocked`, 1 along
  /// the others; a static extent below `width` is kept whole (0).
  SmallVector<int64_t> tileSizes(linalg::LinalgOp op, int64_t blocked) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t last = ranges.size() - 1;
    SmallVector<int64_t> sizes(ranges.size(), 1);
    for (int64_t d : {blocked, last})
      sizes[d] = !ShapedType::isDynamic(ranges[d]) && ranges[d] <= width
                     ? 0
                     : int64_t(width);
    return sizes;
  }

  /// Tiles `op` and returns the tiled op (or null).
  static linalg::LinalgOp tile(RewriterBase &rewriter, linalg::LinalgOp op,
                               ArrayRef<int64_t> sizes) {
    auto tiled = cpu::tile(rewriter, op, sizes);
    if (failed(tiled) || tiled->tiledOps.size() != 1)
      return {};
    return dyn_cast<linalg::LinalgOp>(tiled->tiledOps.front());
  }

  /// The vector shape of a tile: its static extents, else the tile size
  /// (masked at run time).
  static SmallVector<int64_t> vectorSizes(linalg::LinalgOp tile,
                                          ArrayRef<int64_t> sizes,
                                          ArrayRef<int64_t> fullRanges) {
    SmallVector<int64_t> ranges = tile.getStaticLoopRanges();
    SmallVector<int64_t> result;
    for (auto [range, size, full] : llvm::zip(ranges, sizes, fullRanges))
      result.push_back(!ShapedType::isDynamic(range) ? range
                       : size ? size
                              : full);
    return result;
  }

  /// Inputs of a row tile that do not vary along its innermost loop (a
  /// token id) become scalars extracted before the op, so that the
  /// vectorizer sees table indices that are uniform across the row.
  static linalg::GenericOp scalarizeRowInputs(RewriterBase &rewriter,
                                              linalg::GenericOp op) {
    int64_t last = op.getNumLoops() - 1;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    for (int64_t d = 0; d < last; ++d)
      if (ranges[d] != 1)
        return op;
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    llvm::BitVector scalarized(op.getBody()->getNumArguments());
    rewriter.setInsertionPoint(op);
    for (OpOperand *input : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(input);
      auto type = dyn_cast<RankedTensorType>(input->get().getType());
      if (!type || map.isFunctionOfDim(last) || !type.hasStaticShape()) {
        inputs.push_back(input->get());
        maps.push_back(map);
        continue;
      }
      Value zero = rewriter.create<arith::ConstantIndexOp>(op.getLoc(), 0);
      SmallVector<Value> zeros(type.getRank(), zero);
      Value scalar = rewriter.create<tensor::ExtractOp>(
          op.getLoc(), input->get(), zeros);
      rewriter.replaceAllUsesWith(op.getMatchingBlockArgument(input), scalar);
      scalarized.set(input->getOperandNumber());
    }
    if (scalarized.none())
      return op;
    maps.push_back(op.getMatchingIndexingMap(op.getDpsInitOperand(0)));
    auto replacement = rewriter.create<linalg::GenericOp>(
        op.getLoc(), op->getResultTypes(), inputs, op.getDpsInits(), maps,
        op.getIteratorTypesArray());
    Region &region = replacement.getRegion();
    rewriter.inlineRegionBefore(op.getRegion(), region, region.end());
    region.front().eraseArguments(scalarized);
    rewriter.replaceOp(op, replacement->getResults());
    return replacement;
  }

  /// Whether `op` only moves its one input (read through a permutation).
  static bool isMove(linalg::LinalgOp op) {
    if (op.getNumDpsInputs() != 1)
      return false;
    OpOperand *input = op.getDpsInputOperand(0);
    Block *body = op.getBlock();
    auto yield = cast<linalg::YieldOp>(body->getTerminator());
    return op.getMatchingIndexingMap(input).isPermutation() &&
           body->getOperations().size() == 1 &&
           yield.getValues()[0] == op.getMatchingBlockArgument(input);
  }

  /// A tile that only moves its input (linalg.transpose, or a generic
  /// yielding its input read through a permutation): read the input slice
  /// in its own order, vector.transpose, write. Masked when the tile is
  /// dynamic (linalg::vectorize makes an invalid mask for a permuted masked
  /// read in LLVM 19).
  static bool vectorizeMove(RewriterBase &rewriter, linalg::LinalgOp op,
                            ArrayRef<int64_t> vsizes) {
    if (!isMove(op))
      return false;
    OpOperand *input = op.getDpsInputOperand(0);
    AffineMap map = op.getMatchingIndexingMap(input);
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    Value src = input->get(), dst = op.getDpsInits()[0];
    Type elem = getElementTypeOrSelf(src.getType());
    // Input dim i is loop dim perm[i]; the vector.transpose takes result
    // (loop) dim d from input dim inv[d].
    SmallVector<int64_t> perm, inShape;
    for (AffineExpr e : map.getResults()) {
      perm.push_back(cast<AffineDimExpr>(e).getPosition());
      inShape.push_back(vsizes[perm.back()]);
    }
    SmallVector<int64_t> inv(perm.size());
    for (auto [i, d] : llvm::enumerate(perm))
      inv[d] = i;
    bool masked = op.hasDynamicShape();
    auto mask = [&](Value t, ArrayRef<int64_t> shape) -> Value {
      if (!masked)
        return {};
      SmallVector<OpFoldResult> dims = tensor::getMixedSizes(rewriter, loc, t);
      return rewriter.create<vector::CreateMaskOp>(
          loc, VectorType::get(shape, rewriter.getI1Type()), dims);
    };
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value pad = rewriter.create<arith::ConstantOp>(loc, elem,
                                                   rewriter.getZeroAttr(elem));
    auto inType = VectorType::get(inShape, elem);
    SmallVector<Value> inIdx(inShape.size(), zero);
    SmallVector<bool> inBounds(inShape.size(), true);
    Value read = rewriter.create<vector::TransferReadOp>(
        loc, inType, src, inIdx,
        AffineMapAttr::get(rewriter.getMultiDimIdentityMap(inShape.size())),
        pad, mask(src, inShape), rewriter.getBoolArrayAttr(inBounds));
    Value moved = rewriter.create<vector::TransposeOp>(loc, read, inv);
    SmallVector<Value> outIdx(vsizes.size(), zero);
    auto write = rewriter.create<vector::TransferWriteOp>(
        loc, moved, dst, outIdx,
        AffineMapAttr::get(rewriter.getMultiDimIdentityMap(vsizes.size())),
        mask(dst, vsizes), rewriter.getBoolArrayAttr(
                               SmallVector<bool>(vsizes.size(), true)));
    rewriter.replaceOp(op, write->getResults());
    return true;
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());
    SmallVector<std::pair<linalg::LinalgOp, int64_t>> transposes;
    SmallVector<linalg::LinalgOp> gathers;
    func.walk([&](linalg::LinalgOp op) {
      if (std::optional<int64_t> blocked = transposedDim(op))
        transposes.push_back({op, *blocked});
      else if (isGather(op))
        gathers.push_back(op);
    });
    llvm::DenseSet<Operation *> existing;
    func.walk([&](vector::TransposeOp t) { existing.insert(t); });

    for (auto [op, blocked] : transposes)
      tileAndVectorize(rewriter, op, blocked, /*extract=*/false);
    for (linalg::LinalgOp op : gathers)
      tileAndVectorize(rewriter, op, op.getNumLoops() - 1, /*extract=*/true);
    lowerTransfers(func, existing);
  }

  /// Whether every tile of `op` with `sizes` has a static shape.
  static bool staticTiles(linalg::LinalgOp op, ArrayRef<int64_t> sizes) {
    for (auto [range, size] : llvm::zip(op.getStaticLoopRanges(), sizes))
      if (size != 1 &&
          (ShapedType::isDynamic(range) || (size > 1 && range % size != 0)))
        return false;
    return true;
  }

  void tileAndVectorize(IRRewriter &rewriter, linalg::LinalgOp op,
                        int64_t blocked, bool extract) {
    SmallVector<int64_t> sizes = tileSizes(op, blocked);
    SmallVector<int64_t> full = op.getStaticLoopRanges();
    // LLVM 19's vectorizer builds invalid masks for permuted masked reads:
    // ops other than pure moves are vectorized only with static tiles.
    if (!isMove(op) && !staticTiles(op, sizes))
      return;
    linalg::LinalgOp tiled = tile(rewriter, op, sizes);
    if (!tiled)
      return;
    if (auto generic = dyn_cast<linalg::GenericOp>(tiled.getOperation());
        generic && extract)
      tiled = scalarizeRowInputs(rewriter, generic);
    SmallVector<int64_t> vsizes = vectorSizes(tiled, sizes, full);
    if (!extract && vectorizeMove(rewriter, tiled, vsizes))
      return;
    bool masked = tiled.hasDynamicShape();
    rewriter.setInsertionPoint(tiled);
    (void)linalg::vectorize(rewriter, tiled,
                            masked ? ArrayRef<int64_t>(vsizes)
                                   : ArrayRef<int64_t>(),
                            /*inputScalableVecDims=*/{}, extract);
  }

  /// Gathers with leading unit dims (left by a row tile) become 1-D ones,
  /// which LLVM lowers to its gather intrinsic (upstream's gather lowering
  /// would unroll a tensor gather into scalar loads).
  static void dropUnitGatherDims(func::FuncOp func) {
    SmallVector<vector::GatherOp> gathers;
    func.walk([&](vector::GatherOp g) {
      VectorType t = g.getVectorType();
      if (t.getRank() > 1 && t.getNumElements() == t.getShape().back())
        gathers.push_back(g);
    });
    IRRewriter rewriter(func.getContext());
    for (vector::GatherOp g : gathers) {
      rewriter.setInsertionPoint(g);
      Location loc = g.getLoc();
      auto flat = [&](Value v) -> Value {
        auto t = cast<VectorType>(v.getType());
        return rewriter.create<vector::ShapeCastOp>(
            loc, VectorType::get({t.getNumElements()}, t.getElementType()),
            v);
      };
      Value flatGather = rewriter.create<vector::GatherOp>(
          loc, flat(g.getPassThru()).getType(), g.getBase(), g.getIndices(),
          flat(g.getIndexVec()), flat(g.getMask()), flat(g.getPassThru()));
      rewriter.replaceOpWithNewOp<vector::ShapeCastOp>(g, g.getVectorType(),
                                                       flatGather);
    }
  }

  /// Permuted transfers become minor-identity transfers and
  /// vector.transposes; the transposes this pass made are lowered to
  /// shuffles now (16x16 blocks to the AVX-512 unpack/shuffle network).
  void lowerTransfers(func::FuncOp func,
                      const llvm::DenseSet<Operation *> &existing) {
    MLIRContext *ctx = &getContext();
    cpu::cleanup(func);

    SmallVector<Operation *> created;
    func.walk([&](vector::TransposeOp t) {
      if (!existing.contains(t))
        created.push_back(t);
    });
    vector::VectorTransformsOptions options;
    options.setVectorTransposeLowering(
        width == 16 ? vector::VectorTransposeLowering::Shuffle16x16
                    : vector::VectorTransposeLowering::Shuffle1D);
    RewritePatternSet lowering(ctx);
    vector::populateVectorTransposeLoweringPatterns(lowering, options);
    vector::populateVectorShapeCastLoweringPatterns(lowering);
    (void)applyOpPatternsAndFold(created, std::move(lowering));
    dropUnitGatherDims(func);
  }
};

} // namespace
} // namespace tessera
