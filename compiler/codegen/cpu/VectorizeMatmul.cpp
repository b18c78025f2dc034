//===- VectorizeMatmul.cpp - register-tiled, vectorized matmuls -------------===//
//
// The GEMM schedule from TOOLCHAIN.md, applied with MLIR's C++ APIs on
// tensors: register tiles (6x16 = 12 ymm accumulators with AVX2, 8x32 with
// AVX-512), k tiled by 1 and unrolled by 4, the C tile hoisted out of the k
// loop as a loop-carried vector. Constant weights are packed into panels. An
// elementwise epilogue of a packed matmul (tessera.matmul's bias and
// activation) is fused into the register tiles: it applies to the loop-carried
// accumulator after the k loop, so the result is stored once. Then, after
// bufferization, contractions become outer products and FMAs, and transfers
// become 1-D loads and stores.
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
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
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

/// Marks the per-panel epilogues that fuseEpilogues tiles with their matmul.
constexpr StringLiteral kEpilogueAttr = "tessera.epilogue";

struct VectorizeMatmulPass : impl::VectorizeMatmulBase<VectorizeMatmulPass> {
  using VectorizeMatmulBase::VectorizeMatmulBase;

  static bool isF32(linalg::MatmulOp op) {
    return cast<ShapedType>(op.getResultTypes()[0]).getElementType().isF32();
  }

  /// fp32 with static K and N (a weight GEMM); M may be dynamic.
  static bool isF32StaticKN(linalg::MatmulOp op) {
    auto a = cast<ShapedType>(op.getDpsInputs()[0].getType());
    auto b = cast<ShapedType>(op.getDpsInputs()[1].getType());
    auto c = cast<ShapedType>(op.getResultTypes()[0]);
    return isF32(op) && !a.isDynamicDim(1) && b.hasStaticShape() &&
           !c.isDynamicDim(1);
  }

  static std::pair<int64_t, int64_t> sizeMN(linalg::MatmulOp op) {
    auto c = cast<ShapedType>(op.getResultTypes()[0]);
    return {c.getDimSize(0), c.getDimSize(1)};
  }

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

  /// The fp32 values of a constant (dense or resource-backed), or empty.
  static ArrayRef<float> constantFloats(Value v) {
    auto cst = v.getDefiningOp<arith::ConstantOp>();
    if (!cst)
      return {};
    if (auto res = dyn_cast<DenseResourceElementsAttr>(cst.getValue())) {
      AsmResourceBlob *blob = res.getRawHandle().getBlob();
      if (!blob)
        return {};
      ArrayRef<char> data = blob->getData();
      return ArrayRef<float>(reinterpret_cast<const float *>(data.data()),
                             data.size() / sizeof(float));
    }
    if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue()))
      if (!dense.isSplat() && dense.getElementType().isF32()) {
        ArrayRef<char> data = dense.getRawData();
        return ArrayRef<float>(reinterpret_cast<const float *>(data.data()),
                               data.size() / sizeof(float));
      }
    return {};
  }

  /// The period c of an epilogue operand's map result `d1 mod c` (a table
  /// indexed by the column within a head, as the rotary epilogue of
  /// tessera.qkv_projection reads its cos and sin rows), or 0.
  static int64_t columnPeriod(AffineExpr e) {
    auto mod = dyn_cast<AffineBinaryOpExpr>(e);
    if (!mod || mod.getKind() != AffineExprKind::Mod)
      return 0;
    auto dim = dyn_cast<AffineDimExpr>(mod.getLHS());
    auto c = dyn_cast<AffineConstantExpr>(mod.getRHS());
    return dim && dim.getPosition() == 1 && c && c.getValue() > 0
               ? c.getValue()
               : 0;
  }

  /// `map` with each `d1 mod c` read as d1: the map of a panel's run of a
  /// periodic operand.
  static AffineMap withinPeriod(AffineMap map) {
    SmallVector<AffineExpr> exprs(map.getResults());
    for (AffineExpr &e : exprs)
      if (columnPeriod(e))
        e = getAffineDimExpr(1, map.getContext());
    return AffineMap::get(map.getNumDims(), map.getNumSymbols(), exprs,
                          map.getContext());
  }

  /// The periods of `g`'s operand maps (see columnPeriod).
  static SmallVector<int64_t> columnPeriods(linalg::GenericOp g) {
    SmallVector<int64_t> periods;
    for (AffineMap map : g.getIndexingMapsArray())
      for (AffineExpr e : map.getResults())
        if (int64_t c = columnPeriod(e))
          periods.push_back(c);
    return periods;
  }

  /// The elementwise linalg.generic that is `op`'s only user and can be
  /// applied to its tiles (a bias and activation epilogue, possibly fused
  /// with more elementwise ops; or a rotation writing two results): all
  /// parallel over [M, N], reading the matmul result through the identity
  /// map and its other operands through projections (or `d1 mod c`, see
  /// columnPeriod), writing f32 results through the identity, no index
  /// arithmetic.
  static linalg::GenericOp epilogueOf(linalg::MatmulOp op) {
    Value c = op.getResult(0);
    if (!c.hasOneUse())
      return {};
    OpOperand &use = *c.getUses().begin();
    auto g = dyn_cast<linalg::GenericOp>(use.getOwner());
    if (!g || g.getNumLoops() != 2 || g.getNumReductionLoops() != 0 ||
        !g.hasPureTensorSemantics() ||
        ShapedType::isDynamic(g.getStaticLoopRanges()[1]) ||
        g.isDpsInit(&use) || !g.getMatchingIndexingMap(&use).isIdentity())
      return {};
    for (OpOperand &init : g.getDpsInitsMutable())
      if (!g.getMatchingIndexingMap(&init).isIdentity() ||
          !cast<ShapedType>(init.get().getType()).getElementType().isF32())
        return {};
    for (AffineMap map : g.getIndexingMapsArray())
      if (!withinPeriod(map).isProjectedPermutation(
              /*allowZeroInResults=*/true))
        return {};
    bool indexing = false;
    g.getBody()->walk([&](Operation *inner) {
      if (isa<linalg::IndexOp, tensor::ExtractOp>(inner))
        indexing = true;
    });
    return indexing ? linalg::GenericOp() : g;
  }

  /// Matmuls whose weights are packed into the same panels, and the
  /// epilogue (if any) fused into their register tiles.
  struct PanelGroup {
    SmallVector<linalg::MatmulOp> matmuls;
    linalg::GenericOp epilogue;
  };

  /// Whether `op` can be packed: fp32, static K and N, a constant weight.
  static bool packable(linalg::MatmulOp op) {
    auto b = cast<ShapedType>(op.getDpsInputs()[1].getType());
    ArrayRef<float> values = constantFloats(op.getDpsInputs()[1]);
    return isF32StaticKN(op) &&
           int64_t(values.size()) == b.getDimSize(0) * b.getDimSize(1);
  }

  /// The panel group of `op`: `op` and its epilogue; or, when its epilogue
  /// reads the products of several matmuls of the same A and K x N shape
  /// (a gated MLP's gate and value), all of them, in operand order, so that
  /// each register tile holds their blocks side by side. Each matmul of a
  /// group gets tileN / size columns of a panel, which must divide N into
  /// more than one panel. Empty if `op` is not packed.
  std::optional<PanelGroup> panelGroup(linalg::MatmulOp op) const {
    if (!packable(op))
      return std::nullopt;
    PanelGroup group;
    group.epilogue = epilogueOf(op);
    if (group.epilogue) {
      for (Value v : group.epilogue.getDpsInputs()) {
        auto mm = v.getDefiningOp<linalg::MatmulOp>();
        if (!mm)
          continue;
        auto b = mm.getDpsInputs()[1].getType();
        if (epilogueOf(mm) != group.epilogue || !packable(mm) ||
            mm.getDpsInputs()[0] != op.getDpsInputs()[0] ||
            b != op.getDpsInputs()[1].getType() ||
            llvm::is_contained(group.matmuls, mm)) {
          // Another product the epilogue reads: not fused.
          group.matmuls.clear();
          group.epilogue = {};
          break;
        }
        group.matmuls.push_back(mm);
      }
    }
    int64_t n = sizeMN(op).second;
    auto fits = [&](int64_t size) {
      return tileN % size == 0 && n % (tileN / size) == 0 && n > tileN / size;
    };
    // A panel's columns of a periodic operand must be one run of it.
    if (group.epilogue &&
        llvm::any_of(columnPeriods(group.epilogue), [&](int64_t c) {
          int64_t size = std::max<size_t>(group.matmuls.size(), 1);
          return tileN % size || c % (tileN / size);
        })) {
      group.matmuls.clear();
      group.epilogue = {};
    }
    if (group.matmuls.size() > 1 && !fits(group.matmuls.size())) {
      // The products are packed one by one, the epilogue left unfused.
      group.matmuls.clear();
      group.epilogue = {};
    }
    if (group.matmuls.empty())
      group.matmuls = {op};
    if (!fits(group.matmuls.size()))
      return std::nullopt;
    return group;
  }

  /// Weights are constants, so packing B into contiguous K x tileN panels
  /// ([N/tileN][K][tileN]) costs nothing at run time; the matmul becomes a
  /// loop over panels, each an [M, K] x [K, tileN] matmul. An elementwise
  /// epilogue (see epilogueOf) moves into the loop, applied to each panel
  /// and marked for fusion into the register tiles; with K blocking, the
  /// last K block is split off so that it can be fused with the epilogue.
  /// The matmuls of a panel group (see panelGroup) share the panels: with
  /// two, a panel holds tileN / 2 columns of each weight, and the loop runs
  /// one matmul of each per panel.
  void packConstantWeights(IRRewriter &rewriter, func::FuncOp func) {
    SmallVector<PanelGroup> groups;
    llvm::SmallPtrSet<Operation *, 8> grouped;
    func.walk([&](linalg::MatmulOp op) {
      if (grouped.contains(op))
        return;
      if (std::optional<PanelGroup> group = panelGroup(op)) {
        for (linalg::MatmulOp mm : group->matmuls)
          grouped.insert(mm);
        groups.push_back(*group);
      }
    });
    for (PanelGroup &group : groups)
      packGroup(rewriter, func, group);
  }

  void packGroup(IRRewriter &rewriter, func::FuncOp func, PanelGroup &group) {
    int64_t block = kBlock;
    linalg::MatmulOp op = group.matmuls.front();
    linalg::GenericOp epilogue = group.epilogue;
    int64_t size = group.matmuls.size();
    int64_t width = tileN / size;
    auto bType = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
    int64_t k = bType.getDimSize(0), n = bType.getDimSize(1);
    int64_t panels = n / width;
    // Panel j, row kk: columns [q * width, (q + 1) * width) hold columns
    // [j * width, (j + 1) * width) of weight q.
    std::vector<float> packed(k * n * size);
    for (auto [q, mm] : llvm::enumerate(group.matmuls)) {
      ArrayRef<float> values = constantFloats(mm.getDpsInputs()[1]);
      for (int64_t j = 0; j < panels; ++j)
        for (int64_t kk = 0; kk < k; ++kk)
          for (int64_t t = 0; t < width; ++t)
            packed[(j * k + kk) * tileN + q * width + t] =
                values[kk * n + j * width + t];
    }
    // Stored as [panels * K, tileN]: panel j is rows [j*K, (j+1)*K).
    auto packedType =
        RankedTensorType::get({panels * k, tileN}, rewriter.getF32Type());
    auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign<float>(
        packed, /*dataIsMutable=*/false);
    auto attr = DenseResourceElementsAttr::get(packedType, "packed_weights",
                                               std::move(blob));
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(epilogue ? epilogue.getOperation()
                                        : op.getOperation());
    Value packedCst = rewriter.create<arith::ConstantOp>(loc, attr);
    Value a = op.getDpsInputs()[0];
    Value c = op.getDpsInits()[0];
    // M, static or dynamic.
    OpFoldResult m = tensor::getMixedSize(rewriter, loc, c, 0);
    int64_t mStatic = sizeMN(op).first;
    // Without an epilogue, a fill of C (with zeros) is applied per panel
    // into the result, so that tiling fuses it into the register tiles.
    auto fill = c.getDefiningOp<linalg::FillOp>();
    SmallVector<Value> inits = {c};
    if (epilogue)
      inits = epilogue.getDpsInits();
    else if (fill)
      inits = {rewriter.create<tensor::EmptyOp>(
          loc, ArrayRef<OpFoldResult>{m, rewriter.getIndexAttr(n)},
          rewriter.getF32Type())};
    // The K range of the matmul fused with the epilogue: all of K, or the
    // last block if K is blocked.
    int64_t kLast = k;
    if (epilogue && block > 0 && k > block)
      kLast = k - (k - 1) / block * block;
    Value lb = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value ub = rewriter.create<arith::ConstantIndexOp>(loc, panels);
    Value step = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    auto loop = rewriter.create<scf::ForOp>(
        loc, lb, ub, step, inits,
        [&](OpBuilder &bld, Location l, Value j, ValueRange iter) {
          auto idx = [&](int64_t v) -> OpFoldResult {
            return bld.getIndexAttr(v);
          };
          auto slice = [&](Value v, ArrayRef<OpFoldResult> offsets,
                           ArrayRef<OpFoldResult> sizes) -> Value {
            SmallVector<OpFoldResult> strides(sizes.size(), idx(1));
            return bld.create<tensor::ExtractSliceOp>(l, v, offsets, sizes,
                                                      strides);
          };
          Value col = bld.create<arith::MulIOp>(
              l, j, bld.create<arith::ConstantIndexOp>(l, width));
          Value row = bld.create<arith::MulIOp>(
              l, j, bld.create<arith::ConstantIndexOp>(l, k));
          auto cSliceType =
              RankedTensorType::get({mStatic, width}, bld.getF32Type());
          // Each matmul of the group on this panel.
          SmallVector<Value> products;
          for (auto [q, mm] : llvm::enumerate(group.matmuls)) {
            Value cq = mm.getDpsInits()[0];
            auto fillq = cq.getDefiningOp<linalg::FillOp>();
            Value cSlice =
                slice(epilogue ? cq : iter[0], {idx(0), col}, {m, idx(width)});
            // A fill (of zeros) made per panel, so that it is fused into the
            // register tiles and becomes a constant vector.
            if (fillq && (!epilogue || kLast == k)) {
              Value dest =
                  epilogue ? bld.create<tensor::EmptyOp>(
                                 l, ArrayRef<OpFoldResult>{m, idx(width)},
                                 cSliceType.getElementType())
                           : cSlice;
              cSlice = bld.create<linalg::FillOp>(l, fillq.getInputs()[0], dest)
                           .getResult(0);
            }
            // C += A[:, k0:k1] x panel[k0:k1].
            auto matmul = [&](int64_t k0, int64_t k1, Value acc) {
              Value aPart = k1 - k0 == k ? a
                                         : slice(a, {idx(0), idx(k0)},
                                                 {m, idx(k1 - k0)});
              Value kRow = bld.create<arith::AddIOp>(
                  l, row, bld.create<arith::ConstantIndexOp>(l, k0));
              Value panel = slice(packedCst, {kRow, idx(q * width)},
                                  {idx(k1 - k0), idx(width)});
              return bld
                  .create<linalg::MatmulOp>(l, TypeRange{cSliceType},
                                            ValueRange{aPart, panel},
                                            ValueRange{acc})
                  .getResult(0);
            };
            Value product = cSlice;
            if (kLast < k)
              product = matmul(0, k - kLast, product);
            products.push_back(matmul(k - kLast, k, product));
          }
          SmallVector<Value> results = {products.front()};
          if (epilogue) {
            // The epilogue on this panel: other operands sliced along
            // the dims their maps read.
            SmallVector<Value> operands;
            for (OpOperand &operand : epilogue->getOpOperands()) {
              auto *it = llvm::find_if(group.matmuls, [&](linalg::MatmulOp mm) {
                return operand.get() == mm.getResult(0);
              });
              if (it != group.matmuls.end()) {
                operands.push_back(products[it - group.matmuls.begin()]);
                continue;
              }
              Value v = epilogue.isDpsInit(&operand)
                            ? iter[epilogue.getTiedOpResult(&operand)
                                       .getResultNumber()]
                            : operand.get();
              SmallVector<OpFoldResult> offsets;
              SmallVector<OpFoldResult> sizes;
              AffineMap map = epilogue.getMatchingIndexingMap(&operand);
              for (auto [d, e] : llvm::enumerate(map.getResults())) {
                auto dim = dyn_cast<AffineDimExpr>(e);
                if (dim && dim.getPosition() == 1) {
                  offsets.push_back(col);
                  sizes.push_back(idx(width));
                } else if (int64_t period = columnPeriod(e)) {
                  // The panel's columns are one run of the period.
                  offsets.push_back(
                      bld.create<arith::RemUIOp>(
                             l, col,
                             bld.create<arith::ConstantIndexOp>(l, period))
                          .getResult());
                  sizes.push_back(idx(width));
                } else {
                  offsets.push_back(idx(0));
                  sizes.push_back(tensor::getMixedSize(bld, l, v, d));
                }
              }
              operands.push_back(slice(v, offsets, sizes));
            }
            SmallVector<Type> types(epilogue.getNumDpsInits(), cSliceType);
            auto tiled = cast<linalg::GenericOp>(
                mlir::clone(bld, epilogue, types, operands));
            tiled->setAttr(kEpilogueAttr, bld.getUnitAttr());
            // Within a panel, a periodic operand is read from its run.
            SmallVector<AffineMap> maps;
            for (AffineMap map : tiled.getIndexingMapsArray())
              maps.push_back(withinPeriod(map));
            tiled.setIndexingMapsAttr(bld.getAffineMapArrayAttr(maps));
            results = tiled->getResults();
          }
          SmallVector<Value> updated;
          for (auto [result, into] : llvm::zip(results, iter))
            updated.push_back(bld.create<tensor::InsertSliceOp>(
                l, result, into, ArrayRef<OpFoldResult>{idx(0), col},
                ArrayRef<OpFoldResult>{m, idx(width)},
                ArrayRef<OpFoldResult>{idx(1), idx(1)}));
          bld.create<scf::YieldOp>(l, updated);
        });
    llvm::SmallSetVector<Operation *, 2> weights;
    for (linalg::MatmulOp mm : group.matmuls)
      weights.insert(mm.getDpsInputs()[1].getDefiningOp());
    if (epilogue) {
      rewriter.replaceOp(epilogue, loop.getResults());
      for (linalg::MatmulOp mm : group.matmuls)
        rewriter.eraseOp(mm);
    } else {
      rewriter.replaceOp(op, loop.getResults());
    }
    // The weights themselves are not needed any more (only within this
    // function: weights are the entry's constants).
    for (Operation *w : weights)
      eraseDeadWeight(rewriter, w, func);
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
      tileFuseAndPeel(rewriter, op,
                      {tileOf(type.getDimSize(0), tileM),
                       tileOf(type.getDimSize(1), tileN)});
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
    packConstantWeights(rewriter, func);

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
      if (isF32(op) && !feedsEpilogue(op) &&
          (ShapedType::isDynamic(m) || ShapedType::isDynamic(n) || m > tileM ||
           n > tileN))
        large.push_back(op);
    });
    // N outer, M inner: one K x tileN panel of B stays in cache while all
    // the row tiles of A pass over it. A fill of C is fused into the tiles
    // (it becomes the zero vector the k loop starts from).
    for (linalg::MatmulOp op : large)
      tileFuseAndPeel(rewriter, op, {tileM, tileN, 0}, {1, 0, 2});
    cleanup(func);
    splitRemainders(rewriter, func);

    // 3. Every matmul tile of static M and N that fits a register tile
    //    (K may be dynamic): k by 1, vectorize.
    SmallVector<linalg::MatmulOp> tiles;
    func.walk([&](linalg::MatmulOp op) {
      auto [m, n] = sizeMN(op);
      if (isF32(op) && !ShapedType::isDynamic(m) && !ShapedType::isDynamic(n) &&
          m <= tileM && n <= tileN)
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
      if (op->hasAttr(kEpilogueAttr) && hasStaticShapes(op) &&
          op.getStaticLoopRanges()[0] <= tileM &&
          op.getStaticLoopRanges()[1] <= tileN)
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
