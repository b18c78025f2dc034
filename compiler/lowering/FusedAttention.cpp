//===- FusedAttention.cpp - tessera.attention as a flash-style kernel -----===//
//
// Part of Tessera. tessera.attention becomes a tiled online-softmax loop nest
// written directly in the vector dialect, on tensors:
//
//   for bh in [0, B*H):                  (top level: outlined onto the pool)
//     for each tile of TQ queries:
//       o = 0, m = -inf, l = 0           (O^T tile [Dh, TQ], per-query m, l)
//       for each tile of TK keys (up to the diagonal when causal):
//         s^T = K_tile Q_tile^T * scale + mask            [TK, TQ]
//         m' = max(m, max_j s^T);  p^T = exp(s^T - m');  a = exp(m - m')
//         l = l * a + sum_j p^T;  o = o * a + V_tile^T p^T
//       out tile = (o / l)^T
//
// Scores live in registers ([TK, TQ] at a time): memory is O(S * Dh) per
// head (Q^T and K^T copies), never S x S. The transposed layouts make both
// contractions outer products along the contracted axis (the form the
// "outerproduct" contraction lowering wants), and per-query values (m, l,
// the mask's per-key offsets) broadcast along leading dimensions only.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;

namespace tessera {
namespace {

int64_t powerOf2Ceil(int64_t n) {
  int64_t p = 1;
  while (p < n)
    p *= 2;
  return p;
}

struct AttentionToLoops : OpConversionPattern<fused::AttentionOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(fused::AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value q = adaptor.getQ(), k = adaptor.getK(), v = adaptor.getV();
    auto qt = dyn_cast<RankedTensorType>(q.getType());
    auto kt = dyn_cast<RankedTensorType>(k.getType());
    auto vt = dyn_cast<RankedTensorType>(v.getType());
    auto outType = dyn_cast<RankedTensorType>(op.getType());
    if (!qt || !kt || !vt || !outType || !qt.hasStaticShape() ||
        !kt.hasStaticShape() || !vt.hasStaticShape() ||
        !outType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "shapes must be static");
    Type f32 = rewriter.getF32Type();
    if (qt.getElementType() != f32)
      return rewriter.notifyMatchFailure(op, "only f32 is supported");
    const int64_t B = qt.getDimSize(0), H = qt.getDimSize(1),
                  Sq = qt.getDimSize(2), Sk = kt.getDimSize(2),
                  Dh = qt.getDimSize(3);
    if (vt.getDimSize(3) != Dh)
      return rewriter.notifyMatchFailure(op, "V's head size differs from Q's");
    const int64_t DP = powerOf2Ceil(Dh);
    if (DP > 256)
      return rewriter.notifyMatchFailure(op, "head size above 256");
    const int64_t TQ = std::min<int64_t>(8, powerOf2Ceil(Sq));
    const int64_t TK = std::min<int64_t>(16, powerOf2Ceil(Sk));
    const bool causal = op.getCausal();
    const bool merge = op.getMergeHeads(), seqFirst = op.getSeqFirst();

    // Prologue: Q^T and K^T ([B, H, Dh, S]) and the mask as f32 offsets.
    auto transposeLast2 = [&](Value x, RankedTensorType t) -> Value {
      SmallVector<int64_t> shape(t.getShape());
      std::swap(shape[2], shape[3]);
      Value init = rewriter.create<tensor::EmptyOp>(loc, shape, f32);
      return rewriter
          .create<linalg::TransposeOp>(loc, x, init,
                                       ArrayRef<int64_t>{0, 1, 3, 2})
          ->getResult(0);
    };
    Value qT = transposeLast2(q, qt);
    Value kT = transposeLast2(k, kt);

    const float negInf = -std::numeric_limits<float>::infinity();
    Value mask; // [Bm, Hm, Sk] (row) or [Bm, Hm, Sk, Sq]
    bool rowMask = false;
    int64_t maskB = 1, maskH = 1;
    if (Value m = adaptor.getMask()) {
      auto mt = cast<RankedTensorType>(m.getType());
      if (!mt.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "mask shape must be static");
      int64_t r = mt.getRank();
      SmallVector<int64_t> full = {B, H, Sq, Sk};
      SmallVector<int64_t> md(4, 1);
      for (int64_t i = 0; i < r; ++i)
        md[4 - r + i] = mt.getDimSize(i);
      maskB = md[0];
      maskH = md[1];
      rowMask = md[2] == 1;
      SmallVector<int64_t> shape = {maskB, maskH, Sk};
      if (!rowMask)
        shape.push_back(Sq);
      // Output dims (b, h, j[, i]) -> the mask's own dims.
      MLIRContext *ctx = rewriter.getContext();
      AffineExpr zero = getAffineConstantExpr(0, ctx);
      SmallVector<AffineExpr> outDims;
      for (unsigned d = 0; d < shape.size(); ++d)
        outDims.push_back(getAffineDimExpr(d, ctx));
      AffineExpr byFull[4] = {outDims[0], outDims[1],
                              rowMask ? zero : outDims[3], outDims[2]};
      SmallVector<AffineExpr> inExprs;
      for (int64_t i = 0; i < r; ++i) {
        int64_t f = 4 - r + i;
        inExprs.push_back(md[f] == 1 ? zero : byFull[f]);
      }
      AffineMap inMap = AffineMap::get(shape.size(), 0, inExprs, ctx);
      AffineMap outMap = AffineMap::getMultiDimIdentityMap(shape.size(), ctx);
      bool keep = mt.getElementType().isInteger(1);
      Value init = rewriter.create<tensor::EmptyOp>(loc, shape, f32);
      SmallVector<utils::IteratorType> iters(shape.size(),
                                             utils::IteratorType::parallel);
      mask = rewriter
                 .create<linalg::GenericOp>(
                     loc, init.getType(), ValueRange{m}, ValueRange{init},
                     ArrayRef<AffineMap>{inMap, outMap}, iters,
                     [&](OpBuilder &b, Location l, ValueRange args) {
                       Value x = args[0];
                       if (keep) {
                         Value z = b.create<arith::ConstantOp>(
                             l, b.getF32FloatAttr(0.0f));
                         Value ninf = b.create<arith::ConstantOp>(
                             l, b.getF32FloatAttr(negInf));
                         x = b.create<arith::SelectOp>(l, x, z, ninf);
                       }
                       b.create<linalg::YieldOp>(l, x);
                     })
                 .getResult(0);
    }

    // Constants.
    auto idx = [&](int64_t v) -> Value {
      return rewriter.create<arith::ConstantIndexOp>(loc, v);
    };
    auto vecType = [&](ArrayRef<int64_t> shape, Type elt = nullptr) {
      return VectorType::get(shape, elt ? elt : f32);
    };
    auto splat = [&](OpBuilder &b, VectorType t, float value) -> Value {
      return b.create<arith::ConstantOp>(
          loc, t, DenseElementsAttr::get(t, b.getF32FloatAttr(value)));
    };
    Value c0 = idx(0), c1 = idx(1);
    Value pad =
        rewriter.create<arith::ConstantOp>(loc, rewriter.getF32FloatAttr(0));
    Value out = rewriter.create<tensor::EmptyOp>(loc, outType.getShape(), f32);

    MLIRContext *ctx = rewriter.getContext();
    AffineExpr e0 = getAffineDimExpr(0, ctx), e1 = getAffineDimExpr(1, ctx),
               e2 = getAffineDimExpr(2, ctx);
    auto par = vector::IteratorType::parallel;
    auto red = vector::IteratorType::reduction;

    auto outer = rewriter.create<scf::ForOp>(
        loc, c0, idx(B * H), c1, ValueRange{out},
        [&](OpBuilder &b, Location, Value bh, ValueRange outerArgs) {
          Value bi = b.create<arith::DivUIOp>(loc, bh, idx(H));
          Value hi = b.create<arith::RemUIOp>(loc, bh, idx(H));
          Value mb = maskB == 1 ? c0 : bi, mh = maskH == 1 ? c0 : hi;
          auto qLoop = b.create<scf::ForOp>(
              loc, c0, idx(Sq), idx(TQ), ValueRange{outerArgs[0]},
              [&](OpBuilder &b, Location, Value q0, ValueRange qArgs) {
                bool qFull = Sq % TQ == 0;
                Value qTile = b.create<vector::TransferReadOp>(
                    loc, vecType({DP, TQ}), qT, ValueRange{bi, hi, c0, q0}, pad,
                    ArrayRef<bool>{DP == Dh, qFull});
                Value kEnd = idx(Sk);
                if (causal) {
                  Value lim = b.create<arith::AddIOp>(loc, q0, idx(TQ));
                  kEnd = b.create<arith::MinSIOp>(loc, lim, kEnd);
                }
                // Query positions of the tile, for the causal test.
                Value qPos;
                if (causal) {
                  auto iT = vecType({TQ}, b.getI64Type());
                  SmallVector<int64_t> iota;
                  for (int64_t i = 0; i < TQ; ++i)
                    iota.push_back(i);
                  Value base = b.create<vector::BroadcastOp>(
                      loc, iT,
                      b.create<arith::IndexCastOp>(loc, b.getI64Type(), q0));
                  qPos = b.create<arith::AddIOp>(
                      loc, base,
                      b.create<arith::ConstantOp>(
                          loc, iT, DenseIntElementsAttr::get(iT, iota)));
                }
                Value o0 = splat(b, vecType({DP, TQ}), 0.0f);
                Value m0 = splat(b, vecType({TQ}), negInf);
                Value l0 = splat(b, vecType({TQ}), 0.0f);
                auto kLoop = b.create<scf::ForOp>(
                    loc, c0, kEnd, idx(TK), ValueRange{o0, m0, l0},
                    [&](OpBuilder &b, Location, Value k0, ValueRange acc) {
                      bool kFull = Sk % TK == 0;
                      Value kTile = b.create<vector::TransferReadOp>(
                          loc, vecType({DP, TK}), kT,
                          ValueRange{bi, hi, c0, k0}, pad,
                          ArrayRef<bool>{DP == Dh, kFull});
                      Value vTile = b.create<vector::TransferReadOp>(
                          loc, vecType({TK, DP}), v, ValueRange{bi, hi, k0, c0},
                          pad, ArrayRef<bool>{kFull, DP == Dh});
                      // s^T[j, i] = sum_d K^T[d, j] Q^T[d, i]  (dims j, i, d)
                      Value sT = b.create<vector::ContractionOp>(
                          loc, kTile, qTile, splat(b, vecType({TK, TQ}), 0.0f),
                          ArrayRef<ArrayRef<AffineExpr>>{
                              {e2, e0}, {e2, e1}, {e0, e1}},
                          ArrayRef<vector::IteratorType>{par, par, red});
                      sT = b.create<arith::MulFOp>(
                          loc, sT,
                          splat(b, vecType({TK, TQ}),
                                op.getScale().convertToFloat()));
                      Value rowOffsets;
                      if (mask && !rowMask) {
                        Value mTile = b.create<vector::TransferReadOp>(
                            loc, vecType({TK, TQ}), mask,
                            ValueRange{mb, mh, k0, q0}, pad,
                            ArrayRef<bool>{kFull, qFull});
                        sT = b.create<arith::AddFOp>(loc, sT, mTile);
                      } else if (mask) {
                        rowOffsets = b.create<vector::TransferReadOp>(
                            loc, vecType({TK}), mask, ValueRange{mb, mh, k0},
                            pad, ArrayRef<bool>{kFull});
                      }
                      Value ninfRow = splat(b, vecType({TQ}), negInf);
                      SmallVector<Value> rows;
                      Value mNew = acc[1];
                      for (int64_t j = 0; j < TK; ++j) {
                        Value r = b.create<vector::ExtractOp>(
                            loc, sT, ArrayRef<int64_t>{j});
                        if (rowOffsets) {
                          Value off = b.create<vector::ExtractOp>(
                              loc, rowOffsets, ArrayRef<int64_t>{j});
                          r = b.create<arith::AddFOp>(
                              loc, r,
                              b.create<vector::BroadcastOp>(loc, vecType({TQ}),
                                                            off));
                        }
                        Value key = b.create<arith::AddIOp>(loc, k0, idx(j));
                        if (causal) {
                          Value kPos = b.create<vector::BroadcastOp>(
                              loc, vecType({TQ}, b.getI64Type()),
                              b.create<arith::IndexCastOp>(loc, b.getI64Type(),
                                                           key));
                          Value keepIt = b.create<arith::CmpIOp>(
                              loc, arith::CmpIPredicate::sge, qPos, kPos);
                          r = b.create<arith::SelectOp>(loc, keepIt, r,
                                                        ninfRow);
                        }
                        if (!kFull) {
                          Value inside = b.create<arith::CmpIOp>(
                              loc, arith::CmpIPredicate::slt, key, idx(Sk));
                          r = b.create<arith::SelectOp>(loc, inside, r,
                                                        ninfRow);
                        }
                        rows.push_back(r);
                        mNew = b.create<arith::MaximumFOp>(loc, mNew, r);
                      }
                      // A row that has seen only -inf keeps m = -inf; use 0
                      // there so that exp(-inf - m) is 0, not NaN.
                      Value isNegInf = b.create<arith::CmpFOp>(
                          loc, arith::CmpFPredicate::OEQ, mNew, ninfRow);
                      Value mSafe = b.create<arith::SelectOp>(
                          loc, isNegInf, splat(b, vecType({TQ}), 0.0f), mNew);
                      Value alpha = b.create<math::ExpOp>(
                          loc, b.create<arith::SubFOp>(loc, acc[1], mSafe));
                      Value l = b.create<arith::MulFOp>(loc, acc[2], alpha);
                      Value pT = splat(b, vecType({TK, TQ}), 0.0f);
                      for (int64_t j = 0; j < TK; ++j) {
                        Value p = b.create<math::ExpOp>(
                            loc, b.create<arith::SubFOp>(loc, rows[j], mSafe));
                        l = b.create<arith::AddFOp>(loc, l, p);
                        pT = b.create<vector::InsertOp>(loc, p, pT,
                                                        ArrayRef<int64_t>{j});
                      }
                      Value oScaled = b.create<arith::MulFOp>(
                          loc, acc[0],
                          b.create<vector::BroadcastOp>(loc, vecType({DP, TQ}),
                                                        alpha));
                      // o^T[d, i] += sum_j V[j, d] p^T[j, i]  (dims d, i, j)
                      Value o = b.create<vector::ContractionOp>(
                          loc, vTile, pT, oScaled,
                          ArrayRef<ArrayRef<AffineExpr>>{
                              {e2, e0}, {e2, e1}, {e0, e1}},
                          ArrayRef<vector::IteratorType>{par, par, red});
                      b.create<scf::YieldOp>(loc, ValueRange{o, mNew, l});
                    });
                Value o = kLoop.getResult(0), l = kLoop.getResult(2);
                Value lB =
                    b.create<vector::BroadcastOp>(loc, vecType({DP, TQ}), l);
                // Fully masked rows: 0 / 0 = NaN, like the unfused graph,
                // unless the graph guarded them to 0.
                Value res = b.create<arith::DivFOp>(loc, o, lB);
                if (op.getZeroMaskedRows()) {
                  Value zeros = splat(b, vecType({DP, TQ}), 0.0f);
                  Value empty = b.create<arith::CmpFOp>(
                      loc, arith::CmpFPredicate::OEQ, lB, zeros);
                  res = b.create<arith::SelectOp>(loc, empty, zeros, res);
                }
                Value tile = b.create<vector::TransposeOp>(
                    loc, res, ArrayRef<int64_t>{1, 0});
                // Write the [TQ, DP] tile (only Dh columns of it).
                Value dest = qArgs[0];
                SmallVector<Value> indices;
                AffineMap map;
                if (!merge) {
                  indices = {bi, hi, q0, c0};
                  map = AffineMap::getMinorIdentityMap(4, 2, ctx);
                } else {
                  Value col = b.create<arith::MulIOp>(loc, hi, idx(Dh));
                  if (seqFirst) {
                    indices = {q0, bi, col};
                    map = AffineMap::get(3, 0, {e0, e2}, ctx);
                  } else {
                    indices = {bi, q0, col};
                    map = AffineMap::getMinorIdentityMap(3, 2, ctx);
                  }
                }
                Value wmask;
                if (DP != Dh)
                  wmask = b.create<vector::CreateMaskOp>(
                      loc, vecType({TQ, DP}, b.getI1Type()),
                      ValueRange{idx(TQ), idx(Dh)});
                Value written =
                    b.create<vector::TransferWriteOp>(
                         loc, tile, dest, indices, AffineMapAttr::get(map),
                         wmask, b.getBoolArrayAttr({qFull, DP == Dh}))
                        .getResult();
                b.create<scf::YieldOp>(loc, written);
              });
          b.create<scf::YieldOp>(loc, qLoop.getResult(0));
        });
    rewriter.replaceOp(op, outer.getResult(0));
    return success();
  }
};

} // namespace

void populateFusedAttentionToLinalgPatterns(TypeConverter &converter,
                                            RewritePatternSet &patterns) {
  patterns.add<AttentionToLoops>(converter, patterns.getContext());
}

} // namespace tessera
