//===- FusedOpDecompositions.cpp - fused ops as linalg, by interface ------===//
//
// Part of Tessera. The decompositions of fused ops into linalg on tensors,
// attached to them as external models of linalg's AggregatedOpInterface, so
// that a pass asks any op for its decomposition without knowing the op:
//   - tessera.add_layer_norm: the sum x (+ bias) + residual (numpy
//     broadcast), its statistics over the last axis as linalg reductions
//     (mean and variance, or the mean square for RMSNorm), and
//     y = norm * gamma (+ beta): the ops its unfused form lowers to;
//   - tessera.attention: the scores Q K^T as a contraction over the head
//     (K/V heads shared by query-head groups through the indexing map),
//     scaled, masked (float or i1 mask, causal by index), a softmax over
//     the keys, and P V as a contraction written in the result's layout
//     (heads merged by a collapse_shape). Statistics in f32 at least.
// tessera-lower-fused-kernels decomposes an op whose hand-tuned kernel
// cannot take it (or, with micro-kernels=false, every op that has one).
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/Reductions.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

#include <limits>

using namespace mlir;
using namespace tessera::lowering;

namespace tessera {
namespace {

/// Scalar conversion to `t` (ONNX Cast semantics between floats).
std::function<Value(OpBuilder &, Location, Value)> convertTo(Type t) {
  return [t](OpBuilder &b, Location l, Value v) {
    return convertScalar(b, l, v, t, false, false);
  };
}

struct AddLayerNormDecomposition
    : linalg::AggregatedOpInterface::ExternalModel<AddLayerNormDecomposition,
                                                   fused::AddLayerNormOp> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *op,
                                                   OpBuilder &b) const {
    auto ln = cast<fused::AddLayerNormOp>(op);
    auto yType = cast<RankedTensorType>(ln.getY().getType());
    auto sumType = cast<RankedTensorType>(ln.getSum().getType());
    auto elt = dyn_cast<FloatType>(yType.getElementType());
    if (!elt || sumType.getElementType() != elt || yType.getRank() == 0)
      return failure();
    Location loc = op->getLoc();
    // Statistics in f32 at least, as the kernel keeps them.
    Type acc = accumulatorType(elt);
    auto toAcc = convertTo(acc);
    // The sum in the statistics' type, in the kernel's order:
    // (x + bias) + residual.
    SmallVector<Value> summands = {ln.getX()};
    if (ln.getBias())
      summands.push_back(ln.getBias());
    summands.push_back(ln.getResidual());
    Value s = buildElementwise(
        b, loc, RankedTensorType::get(sumType.getShape(), acc), summands,
        [&](OpBuilder &nb, Location l, ValueRange a) {
          Value r = toAcc(nb, l, a[0]);
          for (Value v : a.drop_front())
            r = nb.create<arith::AddFOp>(l, r, toAcc(nb, l, v));
          return r;
        });
    Value sum = acc == elt ? s : convertElements(b, loc, sumType, s);
    SmallVector<int64_t> dims = {yType.getRank() - 1};
    auto count = elementCount(b, loc, s, dims, acc);
    double eps = ln.getEpsilon().convertToDouble();
    Value normed;
    if (ln.getNorm() == "rms") {
      auto add = [](OpBuilder &nb, Location l, Value x, Value y) -> Value {
        return nb.create<arith::AddFOp>(l, x, y);
      };
      Value squares =
          mapWithReduced(b, loc, s, {}, dims, acc,
                         [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                           return nb.create<arith::MulFOp>(l, a[0], a[0]);
                         });
      Value total = buildReduce(b, loc, squares, dims, b.getZeroAttr(acc), add);
      Value invRms = buildElementwise(
          b, loc, cast<RankedTensorType>(total.getType()), {total},
          [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
            Value mean = nb.create<arith::DivFOp>(l, a[0], count(nb, l));
            Value e =
                nb.create<arith::ConstantOp>(l, nb.getFloatAttr(acc, eps));
            return nb.create<math::RsqrtOp>(
                l, nb.create<arith::AddFOp>(l, mean, e));
          });
      normed =
          mapWithReduced(b, loc, s, {invRms}, dims, acc,
                         [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                           return nb.create<arith::MulFOp>(l, a[0], a[1]);
                         });
    } else {
      normed = normalizeOver(b, loc, s, dims, eps, count).normed;
    }
    Value y =
        buildScaleShift(b, loc, yType, normed, ln.getGamma(), ln.getBeta());
    return SmallVector<Value>{y, sum};
  }
};

struct AttentionDecomposition
    : linalg::AggregatedOpInterface::ExternalModel<AttentionDecomposition,
                                                   fused::AttentionOp> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *op,
                                                   OpBuilder &b) const {
    auto at = cast<fused::AttentionOp>(op);
    Value q = at.getQ(), k = at.getK(), v = at.getV(), mask = at.getMask();
    auto qt = cast<RankedTensorType>(q.getType());
    auto kt = cast<RankedTensorType>(k.getType());
    auto vt = cast<RankedTensorType>(v.getType());
    auto outType = cast<RankedTensorType>(at.getType());
    auto elt = dyn_cast<FloatType>(outType.getElementType());
    if (!elt || qt.getRank() != 4 || kt.getRank() != 4 || vt.getRank() != 4 ||
        llvm::any_of(TypeRange{qt, kt, vt},
                     [](Type t) {
                       return !isa<FloatType>(
                           cast<ShapedType>(t).getElementType());
                     }) ||
        (mask && cast<RankedTensorType>(mask.getType()).getRank() > 4))
      return failure();
    // A query-head group's K/V head must be an affine map of the query
    // head: with grouping, both head counts static.
    int64_t heads = qt.getDimSize(1), kvHeads = kt.getDimSize(1);
    bool grouped = heads != kvHeads || vt.getDimSize(1) != kvHeads;
    if (grouped &&
        (ShapedType::isDynamic(heads) || ShapedType::isDynamic(kvHeads) ||
         vt.getDimSize(1) != kvHeads || kvHeads == 0 || heads % kvHeads))
      return failure();
    Location loc = op->getLoc();
    MLIRContext *ctx = b.getContext();
    Type acc = accumulatorType(elt);
    auto toAcc = convertTo(acc);
    auto size = [&](Value t, int64_t d) {
      return tensor::getMixedSize(b, loc, t, d);
    };
    OpFoldResult batch = size(q, 0), h = size(q, 1), sq = size(q, 2),
                 sk = size(k, 2), dh = size(v, 3);
    checkSameSize(b, loc, size(k, 0), batch,
                  "Q and K have different batch sizes");
    checkSameSize(b, loc, size(v, 0), batch,
                  "Q and V have different batch sizes");
    checkSameSize(b, loc, size(v, 2), sk,
                  "K and V have different numbers of keys");
    checkSameSize(b, loc, size(k, 3), size(q, 3),
                  "Q and K have different head sizes");
    // Ungrouped (equal or dynamic head counts): each query head reads its
    // own K/V head, so the counts must agree at run time.
    if (!grouped)
      for (Value kv : {k, v})
        checkSameSize(b, loc, size(kv, 1), h,
                      "K or V has a head count other than Q's (grouped "
                      "heads need static head counts)");

    AffineExpr d0, d1, d2, d3, d4;
    bindDims(ctx, d0, d1, d2, d3, d4);
    // The K/V head of query head d1.
    AffineExpr kvHead = !grouped          ? d1
                        : at.getKvTiled() ? d1 % kvHeads
                                          : d1.floorDiv(heads / kvHeads);
    auto map = [&](ArrayRef<AffineExpr> exprs) {
      return AffineMap::get(5, 0, exprs, ctx);
    };
    using utils::IteratorType;
    SmallVector<IteratorType> contraction(4, IteratorType::parallel);
    contraction.push_back(IteratorType::reduction);
    auto zeroFilled = [&](ArrayRef<OpFoldResult> sizes) {
      SmallVector<int64_t> shape(sizes.size(), ShapedType::kDynamic);
      return buildFilled(b, loc,
                         refineType(RankedTensorType::get(shape, acc), sizes),
                         sizes, b.getZeroAttr(acc));
    };
    auto multiplyAdd = [&](OpBuilder &nb, Location l, ValueRange a) {
      Value p =
          nb.create<arith::MulFOp>(l, toAcc(nb, l, a[0]), toAcc(nb, l, a[1]));
      nb.create<linalg::YieldOp>(
          l, ValueRange{nb.create<arith::AddFOp>(l, a[2], p)});
    };

    // 1. The scores [B, H, Sq, Sk]: over (b, h, i, j, d), Q[b, h, i, d] *
    //    K[b, kv(h), j, d].
    Value sInit = zeroFilled({batch, h, sq, sk});
    Value scores =
        b.create<linalg::GenericOp>(
             loc, sInit.getType(), ValueRange{q, k}, ValueRange{sInit},
             ArrayRef<AffineMap>{map({d0, d1, d2, d4}),
                                 map({d0, kvHead, d3, d4}),
                                 map({d0, d1, d2, d3})},
             contraction, multiplyAdd)
            .getResult(0);

    // 2. Scaled, masked: the mask broadcast over [B, H, Sq, Sk], a float
    //    added, an i1 kept where true; causal keys past i + (Sk - Sq) cut.
    auto scoresType = cast<RankedTensorType>(scores.getType());
    SmallVector<Value> inputs = {scores};
    SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(4)};
    bool keep = false;
    if (mask) {
      auto mt = cast<RankedTensorType>(mask.getType());
      keep = mt.getElementType().isInteger(1);
      SmallVector<int64_t> full(4, ShapedType::kDynamic);
      maps.push_back(broadcastMap(ctx, mt.getShape(), full));
      SmallVector<OpFoldResult> fullSizes = {batch, h, sq, sk};
      for (int64_t i = 0; i < mt.getRank(); ++i)
        if (mt.getDimSize(i) != 1)
          checkSameSize(b, loc, size(mask, i), fullSizes[4 - mt.getRank() + i],
                        "the mask does not broadcast to the scores");
      inputs.push_back(mask);
    }
    maps.push_back(b.getMultiDimIdentityMap(4));
    Value offset;
    if (at.getCausal())
      offset = b.create<arith::SubIOp>(
          loc, getValueOrCreateConstantIndexOp(b, loc, sk),
          getValueOrCreateConstantIndexOp(b, loc, sq));
    float scale = at.getScale().convertToFloat();
    auto negInf = [&](OpBuilder &nb, Location l) -> Value {
      return nb.create<arith::ConstantOp>(
          l, nb.getFloatAttr(acc, -std::numeric_limits<double>::infinity()));
    };
    Value logits =
        b.create<linalg::GenericOp>(
             loc, scoresType, inputs,
             ValueRange{buildEmpty(b, loc, scoresType, {batch, h, sq, sk})},
             maps, SmallVector<IteratorType>(4, IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange a) {
               Value x = nb.create<arith::MulFOp>(
                   l, a[0],
                   nb.create<arith::ConstantOp>(l,
                                                nb.getFloatAttr(acc, scale)));
               if (mask && keep)
                 x = nb.create<arith::SelectOp>(l, a[1], x, negInf(nb, l));
               else if (mask)
                 x = nb.create<arith::AddFOp>(l, x, toAcc(nb, l, a[1]));
               if (offset) {
                 Value i = nb.create<linalg::IndexOp>(l, 2);
                 Value j = nb.create<linalg::IndexOp>(l, 3);
                 Value past = nb.create<arith::CmpIOp>(
                     l, arith::CmpIPredicate::sgt, j,
                     nb.create<arith::AddIOp>(l, i, offset));
                 x = nb.create<arith::SelectOp>(l, past, negInf(nb, l), x);
               }
               nb.create<linalg::YieldOp>(l, x);
             })
            .getResult(0);

    // 3. Softmax over the keys, shifted by the row's maximum; with
    //    zero_masked_rows a row whose keys are all masked gives 0.
    Value probs = buildSoftmax(b, loc, logits, /*axis=*/3, /*isLog=*/false,
                               at.getZeroMaskedRows());

    // 4. O = P V over (b, h, i, d, j), written in the result's layout:
    //    [B, H, Sq, Dh], or with merged heads [B, Sq, H, Dh] ([Sq, B, H, Dh]
    //    seq-first), collapsed to H * Dh below.
    bool merge = at.getMergeHeads(), seqFirst = merge && at.getSeqFirst();
    SmallVector<OpFoldResult> oSizes = {batch, h, sq, dh};
    SmallVector<AffineExpr> oMap = {d0, d1, d2, d3};
    if (merge) {
      oSizes = {batch, sq, h, dh};
      oMap = {d0, d2, d1, d3};
      if (seqFirst) {
        oSizes = {sq, batch, h, dh};
        oMap = {d2, d0, d1, d3};
      }
    }
    Value oInit = zeroFilled(oSizes);
    Value o =
        b.create<linalg::GenericOp>(
             loc, oInit.getType(), ValueRange{probs, v}, ValueRange{oInit},
             ArrayRef<AffineMap>{map({d0, d1, d2, d4}),
                                 map({d0, kvHead, d4, d3}), map(oMap)},
             contraction, multiplyAdd)
            .getResult(0);
    if (acc != elt)
      o = convertElements(b, loc,
                          cast<RankedTensorType>(o.getType()).clone(elt), o);
    if (merge)
      o = b.create<tensor::CollapseShapeOp>(
          loc, o, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    if (o.getType() != outType)
      o = b.create<tensor::CastOp>(loc, outType, o);
    return SmallVector<Value>{o};
  }
};

} // namespace

void registerFusedOpDecompositions(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, fused::TesseraDialect *) {
    fused::AddLayerNormOp::attachInterface<AddLayerNormDecomposition>(*ctx);
    fused::AttentionOp::attachInterface<AttentionDecomposition>(*ctx);
  });
}

} // namespace tessera
