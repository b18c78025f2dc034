//===- PackMatmulWeights.cpp - constant weights into register panels ------===//
//
// Part of Tessera. The packing step of the GEMM schedule: a matmul whose
// weight is a constant becomes a loop over [K, tile-n] panels of the weight,
// packed at compile time ([N / tile-n][K][tile-n]), each an [M, K] x
// [K, tile-n] matmul that tessera-vectorize-matmul then tiles into registers.
// An elementwise epilogue (tessera.matmul's bias and activation) moves into
// the panel loop, marked for tessera-vectorize-matmul to fuse into the
// register tiles; the matmuls of a gated MLP share panels.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/cpu/Passes.h"
#include "compiler/codegen/cpu/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/bit.h"

#include <optional>
#include <vector>

namespace tessera {
#define GEN_PASS_DEF_PACKMATMULWEIGHTS
#include "compiler/codegen/cpu/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

using namespace cpu;

struct PackMatmulWeightsPass
    : impl::PackMatmulWeightsBase<PackMatmulWeightsPass> {
  using PackMatmulWeightsBase::PackMatmulWeightsBase;

  /// fp32 with static K and N (a weight GEMM); M may be dynamic.
  static bool isF32StaticKN(linalg::MatmulOp op) {
    auto a = cast<ShapedType>(op.getDpsInputs()[0].getType());
    auto b = cast<ShapedType>(op.getDpsInputs()[1].getType());
    auto c = cast<ShapedType>(op.getResultTypes()[0]);
    return isF32(op) && !a.isDynamicDim(1) && b.hasStaticShape() &&
           !c.isDynamicDim(1);
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
    return dim && dim.getPosition() == 1 && c && c.getValue() > 0 ? c.getValue()
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

  /// The columns of the panels of `op`'s weight: tile-n, or narrow-tile-n
  /// for a K above narrow-above-k, whose tile-n wide panels would not stay
  /// in L2 while A streams past.
  int64_t panelWidth(linalg::MatmulOp op) const {
    int64_t k = cast<ShapedType>(op.getDpsInputs()[1].getType()).getDimSize(0);
    return narrowTileN > 0 && k > narrowAboveK ? narrowTileN : tileN;
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
    int64_t tn = panelWidth(op);
    auto fits = [&](int64_t size) {
      return tn % size == 0 && n % (tn / size) == 0 && n > tn / size;
    };
    // A panel's columns of a periodic operand must be one run of it.
    if (group.epilogue &&
        llvm::any_of(columnPeriods(group.epilogue), [&](int64_t c) {
          int64_t size = std::max<size_t>(group.matmuls.size(), 1);
          return tn % size || c % (tn / size);
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

  /// The f16 bit pattern of `x` if f16 holds it exactly (zeros, normals and
  /// subnormals of f16's range whose low mantissa bits are zero; infinities),
  /// else nothing.
  static std::optional<uint16_t> exactHalf(float x) {
    uint32_t bits = llvm::bit_cast<uint32_t>(x);
    auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
    int32_t exponent = static_cast<int32_t>((bits >> 23) & 0xff);
    uint32_t mantissa = bits & 0x7fffff;
    if (exponent == 0)
      return mantissa == 0 ? std::optional<uint16_t>(sign) : std::nullopt;
    if (exponent == 0xff)
      return mantissa == 0 ? std::optional<uint16_t>(sign | 0x7c00)
                           : std::nullopt;
    int32_t e = exponent - 127;
    if (e >= -14 && e <= 15) {
      if (mantissa & 0x1fff)
        return std::nullopt;
      return static_cast<uint16_t>(sign | (e + 15) << 10 | mantissa >> 13);
    }
    if (e < -24 || e > 15)
      return std::nullopt;
    // An f16 subnormal: (1.m x 2^e) / 2^-24 = (2^23 + m) >> -(e + 1).
    uint32_t significand = mantissa | 0x800000;
    int32_t shift = -(e + 1);
    if (significand & ((1u << shift) - 1))
      return std::nullopt;
    return static_cast<uint16_t>(sign | significand >> shift);
  }

  /// The bf16 bit pattern of `x` (its high half) if bf16 holds it exactly
  /// (the low 16 bits are zero), else nothing.
  static std::optional<uint16_t> exactBFloat16(float x) {
    uint32_t bits = llvm::bit_cast<uint32_t>(x);
    if (bits & 0xffff)
      return std::nullopt;
    return static_cast<uint16_t>(bits >> 16);
  }

  /// `values` as 16-bit patterns if `exact` gives one for every value, else
  /// nothing.
  static std::optional<std::vector<uint16_t>>
  exactBits(ArrayRef<float> values,
            function_ref<std::optional<uint16_t>(float)> exact) {
    std::vector<uint16_t> bits;
    bits.reserve(values.size());
    for (float x : values) {
      std::optional<uint16_t> b = exact(x);
      if (!b)
        return std::nullopt;
      bits.push_back(*b);
    }
    return bits;
  }

  /// `values` as a 16-bit weight constant named `name`, if a 16-bit float
  /// type holds every value exactly: f16 (the weights of a float16 model,
  /// widened to f32 by the lowering; with half-weights), else bf16 (a
  /// bfloat16 model's: widened by a shift). The library then keeps them at
  /// half the size and the register tiles widen them as they load them.
  std::optional<DenseResourceElementsAttr>
  narrowWeightConstant(RewriterBase &rewriter, ArrayRef<float> values,
                       ArrayRef<int64_t> shape, StringRef name) const {
    auto narrow = [&](Type type, const std::vector<uint16_t> &bits) {
      return DenseResourceElementsAttr::get(
          RankedTensorType::get(shape, type), name,
          HeapAsmResourceBlob::allocateAndCopyInferAlign<uint16_t>(
              bits, /*dataIsMutable=*/false));
    };
    if (halfWeights)
      if (std::optional<std::vector<uint16_t>> half =
              exactBits(values, exactHalf))
        return narrow(rewriter.getF16Type(), *half);
    if (std::optional<std::vector<uint16_t>> high =
            exactBits(values, exactBFloat16))
      return narrow(rewriter.getBF16Type(), *high);
    return std::nullopt;
  }

  /// `values` as a weight constant named `name`: 16-bit when that holds
  /// every value exactly (narrowWeightConstant), else f32.
  DenseResourceElementsAttr weightConstant(RewriterBase &rewriter,
                                           ArrayRef<float> values,
                                           ArrayRef<int64_t> shape,
                                           StringRef name) const {
    if (std::optional<DenseResourceElementsAttr> narrow =
            narrowWeightConstant(rewriter, values, shape, name))
      return *narrow;
    return DenseResourceElementsAttr::get(
        RankedTensorType::get(shape, rewriter.getF32Type()), name,
        HeapAsmResourceBlob::allocateAndCopyInferAlign<float>(
            values, /*dataIsMutable=*/false));
  }

  /// The constant weight of each f32 matmul left unpacked, in f16 or bf16
  /// if that holds it exactly (see narrowWeightConstant).
  void narrowUnpackedWeights(IRRewriter &rewriter, func::FuncOp func) {
    SmallVector<linalg::MatmulOp> matmuls;
    func.walk([&](linalg::MatmulOp op) {
      if (isF32StaticKN(op) && !constantFloats(op.getDpsInputs()[1]).empty())
        matmuls.push_back(op);
    });
    // One 16-bit constant per weight, however many matmuls share it; each
    // weight is looked at once (null: it stays f32).
    llvm::DenseMap<Value, Value> narrowed;
    for (linalg::MatmulOp op : matmuls) {
      Value weight = op.getDpsInputs()[1];
      auto [it, first] = narrowed.try_emplace(weight, Value());
      if (first) {
        auto type = cast<RankedTensorType>(weight.getType());
        ArrayRef<float> values = constantFloats(weight);
        std::optional<DenseResourceElementsAttr> attr;
        if (int64_t(values.size()) == type.getNumElements())
          attr = narrowWeightConstant(rewriter, values, type.getShape(),
                                      "narrow_weights");
        if (attr) {
          rewriter.setInsertionPointAfter(weight.getDefiningOp());
          it->second = rewriter.create<arith::ConstantOp>(op.getLoc(), *attr);
        }
      }
      Value narrow = it->second;
      if (!narrow)
        continue;
      // A new matmul: its body widens the 16-bit operand.
      rewriter.setInsertionPoint(op);
      rewriter.replaceOpWithNewOp<linalg::MatmulOp>(
          op, op->getResultTypes(), ValueRange{op.getDpsInputs()[0], narrow},
          op.getDpsInits());
    }
    for (auto [weight, narrow] : narrowed)
      if (narrow)
        eraseDeadWeight(rewriter, weight.getDefiningOp(), func);
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
    int64_t panelN = panelWidth(op);
    int64_t width = panelN / size;
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
            packed[(j * k + kk) * panelN + q * width + t] =
                values[kk * n + j * width + t];
    }
    // Stored as [panels * K, panelN]: panel j is rows [j*K, (j+1)*K).
    DenseResourceElementsAttr attr = weightConstant(
        rewriter, packed, {panels * k, panelN}, "packed_weights");
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
              Value dest = epilogue
                               ? bld.create<tensor::EmptyOp>(
                                     l, ArrayRef<OpFoldResult>{m, idx(width)},
                                     cSliceType.getElementType())
                               : cSlice;
              cSlice = bld.create<linalg::FillOp>(l, fillq.getInputs()[0], dest)
                           .getResult(0);
            }
            // C += A[:, k0:k1] x panel[k0:k1].
            auto matmul = [&](int64_t k0, int64_t k1, Value acc) {
              Value aPart =
                  k1 - k0 == k ? a
                               : slice(a, {idx(0), idx(k0)}, {m, idx(k1 - k0)});
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

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    packConstantWeights(rewriter, getOperation());
    narrowUnpackedWeights(rewriter, getOperation());
  }
};

} // namespace
} // namespace tessera
