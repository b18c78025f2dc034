//===- PrefetchWeightPanels.cpp - prefetch the next packed weight panel ---===//
//
// After bufferization. A register tile's k loop reads one packed weight panel
// (a [K, tile-n] subview of the constant of tessera-pack-matmul-weights); all
// the row tiles of A pass over that panel, the first from memory, the others
// from cache. The first pass would wait on memory: it needs a 64-byte line
// every few cycles, more than one core's memory bandwidth. So each row tile's
// k loop prefetches its share of the next panel, spread over all the row
// tiles, and the first row tile of the next panel finds it in cache. A panel
// with a single tile (a row loop of one tile, a remainder tile's run-once
// loop: a matrix-vector product, as in a decoder's steps) prefetches the
// whole next panel in its k loop.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/cpu/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace tessera {
#define GEN_PASS_DEF_PREFETCHWEIGHTPANELS
#include "compiler/codegen/cpu/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

constexpr int64_t kLineBytes = 64;

/// A packed weight panel read by a k loop: a static [K, N] subview of rows
/// of a global [R, N] constant.
struct Panel {
  memref::SubViewOp view;
  memref::GetGlobalOp global;
  int64_t rows;      // K
  int64_t totalRows; // R
  int64_t lineElems; // elements per cache line
  int64_t linesPerRow; // rows of a line or more (else 1)
  int64_t rowsPerLine; // rows shorter than a line (else 1): f16 panels of
                       // 16 columns with AVX2
};

/// The panel whose subviews `op` (inside the k loop) reads, if it is one.
std::optional<Panel> panelOf(memref::SubViewOp op, scf::ForOp kLoop) {
  auto panel = op.getSource().getDefiningOp<memref::SubViewOp>();
  if (!panel || kLoop->isAncestor(panel))
    return std::nullopt;
  auto global = panel.getSource().getDefiningOp<memref::GetGlobalOp>();
  auto globalType = cast<MemRefType>(panel.getSource().getType());
  auto type = cast<MemRefType>(panel.getType());
  if (!global || globalType.getRank() != 2 || type.getRank() != 2 ||
      !globalType.hasStaticShape() || !type.hasStaticShape() ||
      !globalType.getLayout().isIdentity() ||
      type.getDimSize(1) != globalType.getDimSize(1) ||
      !type.getElementType().isIntOrFloat())
    return std::nullopt;
  int64_t elemBytes = type.getElementTypeBitWidth() / 8;
  int64_t rowBytes = type.getDimSize(1) * elemBytes;
  if (elemBytes == 0 || rowBytes == 0 ||
      (rowBytes % kLineBytes != 0 && kLineBytes % rowBytes != 0))
    return std::nullopt;
  int64_t rowsPerLine = std::max<int64_t>(1, kLineBytes / rowBytes);
  if (type.getDimSize(0) % rowsPerLine != 0)
    return std::nullopt;
  return Panel{panel,
               global,
               type.getDimSize(0),
               globalType.getDimSize(0),
               kLineBytes / elemBytes,
               std::max<int64_t>(1, rowBytes / kLineBytes),
               rowsPerLine};
}

std::optional<int64_t> tripCount(scf::ForOp loop) {
  return constantTripCount(loop.getLowerBound(), loop.getUpperBound(),
                           loop.getStep());
}

/// Whether a loop over two or more row tiles (a static count) comes before
/// `tile` (a single tile's k loop, or the loop run once around it) in its
/// block: those row tiles already prefetch the next panel.
bool followsRowTiles(Operation *tile) {
  for (Operation *op = tile->getPrevNode(); op; op = op->getPrevNode()) {
    auto loop = dyn_cast<scf::ForOp>(op);
    std::optional<int64_t> step =
        loop ? getConstantIntValue(loop.getStep()) : std::nullopt;
    std::optional<int64_t> tiles = loop ? tripCount(loop) : std::nullopt;
    if (step && *step > 1 && tiles && *tiles >= 2)
      return true;
  }
  return false;
}

struct PrefetchWeightPanelsPass
    : impl::PrefetchWeightPanelsBase<PrefetchWeightPanelsPass> {
  using PrefetchWeightPanelsBase::PrefetchWeightPanelsBase;

  /// In each iteration of `kLoop` (the i-th of nIter, in the t-th row tile
  /// of `rowLoop`; t = 0 without one), prefetches `perIter` lines of the
  /// panel after `panel`: lines (t * nIter + i) * perIter + p, the last line
  /// once past the end.
  void prefetchNext(IRRewriter &rewriter, Panel panel, scf::ForOp kLoop,
                    scf::ForOp rowLoop, int64_t nIter, int64_t perIter) {
    Location loc = kLoop.getLoc();
    auto index = [&](int64_t v) {
      return rewriter.create<arith::ConstantIndexOp>(loc, v).getResult();
    };
    auto ordinal = [&](scf::ForOp loop) {
      Value offset = rewriter.create<arith::SubIOp>(loc, loop.getInductionVar(),
                                                    loop.getLowerBound());
      return rewriter.create<arith::DivUIOp>(loc, offset, loop.getStep())
          .getResult();
    };
    // The next panel's first row (the last panel prefetches itself).
    rewriter.setInsertionPointAfter(panel.view);
    Value first = getValueOrCreateConstantIndexOp(
        rewriter, loc, panel.view.getMixedOffsets()[0]);
    Value next = rewriter.create<arith::MinUIOp>(
        loc, rewriter.create<arith::AddIOp>(loc, first, index(panel.rows)),
        index(panel.totalRows - panel.rows));
    Value tileBase = index(0);
    if (rowLoop) {
      rewriter.setInsertionPointToStart(rowLoop.getBody());
      tileBase = rewriter.create<arith::MulIOp>(loc, ordinal(rowLoop),
                                                index(nIter * perIter));
    }
    rewriter.setInsertionPointToStart(kLoop.getBody());
    Value base = rewriter.create<arith::AddIOp>(
        loc, tileBase,
        rewriter.create<arith::MulIOp>(loc, ordinal(kLoop), index(perIter)));
    int64_t lastLine = panel.rows * panel.linesPerRow / panel.rowsPerLine - 1;
    for (int64_t p = 0; p < perIter; ++p) {
      Value line = rewriter.create<arith::MinUIOp>(
          loc, rewriter.create<arith::AddIOp>(loc, base, index(p)),
          index(lastLine));
      Value rowInPanel =
          rewriter.create<arith::DivUIOp>(loc, line, index(panel.linesPerRow));
      if (panel.rowsPerLine > 1)
        rowInPanel = rewriter.create<arith::MulIOp>(loc, rowInPanel,
                                                    index(panel.rowsPerLine));
      Value row = rewriter.create<arith::AddIOp>(loc, next, rowInPanel);
      Value col = rewriter.create<arith::MulIOp>(
          loc,
          rewriter.create<arith::RemUIOp>(loc, line, index(panel.linesPerRow)),
          index(panel.lineElems));
      rewriter.create<memref::PrefetchOp>(loc, panel.global.getResult(),
                                          ValueRange{row, col},
                                          /*isWrite=*/false, /*locality=*/3,
                                          /*isDataCache=*/true);
    }
  }

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // k loops: those that carry a contraction's accumulators.
    SmallVector<scf::ForOp> kLoops;
    getOperation().walk([&](scf::ForOp loop) {
      if (llvm::any_of(loop.getBody()->getOperations(), [](Operation &op) {
            return isa<vector::ContractionOp, vector::FMAOp,
                       vector::OuterProductOp>(op);
          }))
        kLoops.push_back(loop);
    });
    for (scf::ForOp kLoop : kLoops) {
      std::optional<int64_t> nIter = tripCount(kLoop);
      if (!nIter || *nIter <= 0)
        continue;
      // The row tiles' loop; none for a remainder tile (its loop runs once,
      // with step 1) or a tile outside a loop: it prefetches the whole next
      // panel itself, unless a static loop of row tiles before it does.
      auto rowLoop = dyn_cast<scf::ForOp>(kLoop->getParentOp());
      auto rowStep = getConstantIntValue(rowLoop ? rowLoop.getStep() : Value());
      if (!rowStep || *rowStep <= 1) {
        if (followsRowTiles(kLoop) || (rowLoop && followsRowTiles(rowLoop)))
          continue;
        rowLoop = nullptr;
      }
      std::optional<int64_t> rowTiles =
          rowLoop ? tripCount(rowLoop) : std::optional<int64_t>(1);
      SmallVector<Panel> panels;
      kLoop.walk([&](memref::SubViewOp op) {
        std::optional<Panel> panel = panelOf(op, kLoop);
        if (panel && llvm::none_of(panels, [&](const Panel &p) {
              return p.view == panel->view;
            }))
          panels.push_back(*panel);
      });
      for (Panel panel : panels) {
        // Lines per iteration so that the row tiles cover the next panel
        // (a dynamic row count is taken to be assumedRowTiles).
        int64_t lines = panel.rows * panel.linesPerRow / panel.rowsPerLine;
        int64_t perIter = llvm::divideCeil(
            lines, rowTiles.value_or(assumedRowTiles) * *nIter);
        prefetchNext(rewriter, panel, kLoop, rowLoop, *nIter,
                     std::clamp<int64_t>(perIter, 1, maxPerIteration));
      }
    }
  }
};

} // namespace
} // namespace tessera
