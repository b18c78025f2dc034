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

/// Query tile (vector lanes), key tile, and the most O^T rows kept in
/// registers across the key loop (beyond that they live in a small buffer).
constexpr int64_t kTileQ = 8, kTileK = 8, kRegisterRows = 16;

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
    const int64_t TQ = std::min<int64_t>(kTileQ, powerOf2Ceil(Sq));
    const int64_t TK = std::min<int64_t>(kTileK, powerOf2Ceil(Sk));
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
    AffineExpr e0 = getAffineDimExpr(0, ctx), e2 = getAffineDimExpr(2, ctx);
    const bool scratch = DP > kRegisterRows; // O^T rows in a [DP, TQ] buffer
    const int64_t DC = std::min<int64_t>(DP, 8); // d rows per Q K^T chunk
    const int64_t DO = std::min<int64_t>(DP, 8); // d rows per P V chunk
    VectorType rowT = vecType({TQ});
    Type i64 = rewriter.getI64Type();

    auto outer = rewriter.create<scf::ForOp>(
        loc, c0, idx(B * H), c1, ValueRange{out},
        [&](OpBuilder &b, Location, Value bh, ValueRange outerArgs) {
          Value bi = b.create<arith::DivUIOp>(loc, bh, idx(H));
          Value hi = b.create<arith::RemUIOp>(loc, bh, idx(H));
          Value mb = maskB == 1 ? c0 : bi, mh = maskH == 1 ? c0 : hi;
          SmallVector<Value> qInit = {outerArgs[0]};
          if (scratch) // one per (b, h): iterations run on different threads
            qInit.push_back(
                b.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{DP, TQ}, f32));
          auto qLoop = b.create<scf::ForOp>(
              loc, c0, idx(Sq), idx(TQ), qInit,
              [&](OpBuilder &b, Location, Value q0, ValueRange qArgs) {
                const bool qFull = Sq % TQ == 0, kFull = Sk % TK == 0;
                Value kEnd = idx(Sk);
                Value qPos; // query positions of the tile (causal test)
                if (causal) {
                  Value lim = b.create<arith::AddIOp>(loc, q0, idx(TQ));
                  kEnd = b.create<arith::MinSIOp>(loc, lim, kEnd);
                  auto iT = vecType({TQ}, i64);
                  SmallVector<int64_t> iota;
                  for (int64_t i = 0; i < TQ; ++i)
                    iota.push_back(i);
                  Value base = b.create<vector::BroadcastOp>(
                      loc, iT, b.create<arith::IndexCastOp>(loc, i64, q0));
                  qPos = b.create<arith::AddIOp>(
                      loc, base,
                      b.create<arith::ConstantOp>(
                          loc, iT, DenseIntElementsAttr::get(iT, iota)));
                }
                Value zeroRow = splat(b, rowT, 0.0f);
                Value ninfRow = splat(b, rowT, negInf);
                // State: m, l, then O^T (DP rows, or the scratch buffer).
                SmallVector<Value> init = {ninfRow, zeroRow};
                if (scratch)
                  init.push_back(b.create<vector::TransferWriteOp>(
                                      loc, splat(b, vecType({DP, TQ}), 0.0f),
                                      qArgs[1], ValueRange{c0, c0},
                                      ArrayRef<bool>{true, true})
                                     .getResult());
                else
                  init.append(DP, zeroRow);
                auto kLoop = b.create<scf::ForOp>(
                    loc, c0, kEnd, idx(TK), init,
                    [&](OpBuilder &b, Location, Value k0, ValueRange acc) {
                      // s^T[j, :] = sum_d K^T[d, j] * Q^T[d, :], as FMAs of
                      // broadcast keys with query rows, DC rows of d at a
                      // time (loaded where used: few registers live).
                      SmallVector<Value> rows(TK, zeroRow);
                      for (int64_t d0 = 0; d0 < Dh; d0 += DC) {
                        bool dIn = d0 + DC <= Dh;
                        Value kc = b.create<vector::TransferReadOp>(
                            loc, vecType({DC, TK}), kT,
                            ValueRange{bi, hi, idx(d0), k0}, pad,
                            ArrayRef<bool>{dIn, kFull});
                        Value qc = b.create<vector::TransferReadOp>(
                            loc, vecType({DC, TQ}), qT,
                            ValueRange{bi, hi, idx(d0), q0}, pad,
                            ArrayRef<bool>{dIn, qFull});
                        for (int64_t dd = 0; dd < DC && d0 + dd < Dh; ++dd) {
                          Value qrow = b.create<vector::ExtractOp>(
                              loc, qc, ArrayRef<int64_t>{dd});
                          for (int64_t j = 0; j < TK; ++j) {
                            Value kj = b.create<vector::ExtractOp>(
                                loc, kc, ArrayRef<int64_t>{dd, j});
                            rows[j] = b.create<vector::FMAOp>(
                                loc,
                                b.create<vector::BroadcastOp>(loc, rowT, kj),
                                qrow, rows[j]);
                          }
                        }
                      }
                      Value scaleRow =
                          splat(b, rowT, op.getScale().convertToFloat());
                      Value mTile, mRow;
                      if (mask && !rowMask)
                        mTile = b.create<vector::TransferReadOp>(
                            loc, vecType({TK, TQ}), mask,
                            ValueRange{mb, mh, k0, q0}, pad,
                            ArrayRef<bool>{kFull, qFull});
                      else if (mask)
                        mRow = b.create<vector::TransferReadOp>(
                            loc, vecType({TK}), mask, ValueRange{mb, mh, k0},
                            pad, ArrayRef<bool>{kFull});
                      Value mNew = acc[0];
                      for (int64_t j = 0; j < TK; ++j) {
                        Value r =
                            b.create<arith::MulFOp>(loc, rows[j], scaleRow);
                        if (mTile)
                          r = b.create<arith::AddFOp>(
                              loc, r,
                              b.create<vector::ExtractOp>(
                                  loc, mTile, ArrayRef<int64_t>{j}));
                        if (mRow)
                          r = b.create<arith::AddFOp>(
                              loc, r,
                              b.create<vector::BroadcastOp>(
                                  loc, rowT,
                                  b.create<vector::ExtractOp>(
                                      loc, mRow, ArrayRef<int64_t>{j})));
                        Value key = b.create<arith::AddIOp>(loc, k0, idx(j));
                        if (causal) {
                          Value kPos = b.create<vector::BroadcastOp>(
                              loc, vecType({TQ}, i64),
                              b.create<arith::IndexCastOp>(loc, i64, key));
                          Value keep = b.create<arith::CmpIOp>(
                              loc, arith::CmpIPredicate::sge, qPos, kPos);
                          r = b.create<arith::SelectOp>(loc, keep, r, ninfRow);
                        }
                        if (!kFull) {
                          Value inside = b.create<arith::CmpIOp>(
                              loc, arith::CmpIPredicate::slt, key, idx(Sk));
                          r = b.create<arith::SelectOp>(loc, inside, r,
                                                        ninfRow);
                        }
                        rows[j] = r;
                        mNew = b.create<arith::MaximumFOp>(loc, mNew, r);
                      }
                      // A query that has seen only -inf keeps m = -inf; use 0
                      // there so that exp(-inf - m) is 0, not NaN.
                      Value isNegInf = b.create<arith::CmpFOp>(
                          loc, arith::CmpFPredicate::OEQ, mNew, ninfRow);
                      Value mSafe = b.create<arith::SelectOp>(loc, isNegInf,
                                                              zeroRow, mNew);
                      Value alpha = b.create<math::ExpOp>(
                          loc, b.create<arith::SubFOp>(loc, acc[0], mSafe));
                      Value l = b.create<arith::MulFOp>(loc, acc[1], alpha);
                      for (int64_t j = 0; j < TK; ++j) {
                        rows[j] = b.create<math::ExpOp>(
                            loc, b.create<arith::SubFOp>(loc, rows[j], mSafe));
                        l = b.create<arith::AddFOp>(loc, l, rows[j]);
                      }
                      // O^T[d, :] = O^T[d, :] * alpha + sum_j V[j, d] p^T[j],
                      // DO rows of d at a time.
                      SmallVector<Value> next = {mNew, l};
                      Value buf = scratch ? acc[2] : Value();
                      for (int64_t d0 = 0; d0 < Dh; d0 += DO) {
                        bool dIn = d0 + DO <= Dh;
                        Value vc = b.create<vector::TransferReadOp>(
                            loc, vecType({TK, DO}), v,
                            ValueRange{bi, hi, k0, idx(d0)}, pad,
                            ArrayRef<bool>{kFull, dIn});
                        Value oc;
                        if (scratch)
                          oc = b.create<vector::TransferReadOp>(
                              loc, vecType({DO, TQ}), buf,
                              ValueRange{idx(d0), c0}, pad,
                              ArrayRef<bool>{true, true});
                        // DO independent accumulator chains, keys inner.
                        SmallVector<Value> os;
                        for (int64_t dd = 0; dd < DO && d0 + dd < Dh; ++dd) {
                          Value o = scratch
                                        ? b.create<vector::ExtractOp>(
                                              loc, oc, ArrayRef<int64_t>{dd})
                                        : acc[2 + d0 + dd];
                          os.push_back(b.create<arith::MulFOp>(loc, o, alpha));
                        }
                        for (int64_t j = 0; j < TK; ++j)
                          for (auto [dd, o] : llvm::enumerate(os)) {
                            Value vjd = b.create<vector::ExtractOp>(
                                loc, vc, ArrayRef<int64_t>{j, int64_t(dd)});
                            o = b.create<vector::FMAOp>(
                                loc,
                                b.create<vector::BroadcastOp>(loc, rowT, vjd),
                                rows[j], o);
                          }
                        for (auto [dd, o] : llvm::enumerate(os)) {
                          if (scratch)
                            oc = b.create<vector::InsertOp>(
                                loc, o, oc, ArrayRef<int64_t>{int64_t(dd)});
                          else
                            next.push_back(o);
                        }
                        if (scratch)
                          buf = b.create<vector::TransferWriteOp>(
                                     loc, oc, buf, ValueRange{idx(d0), c0},
                                     ArrayRef<bool>{true, true})
                                    .getResult();
                      }
                      if (scratch)
                        next.push_back(buf);
                      else // the padded rows stay zero
                        next.append(DP - Dh, zeroRow);
                      b.create<scf::YieldOp>(loc, next);
                    });
                Value l = kLoop.getResult(1);
                Value o;
                if (scratch) {
                  o = b.create<vector::TransferReadOp>(
                      loc, vecType({DP, TQ}), kLoop.getResult(2),
                      ValueRange{c0, c0}, pad, ArrayRef<bool>{true, true});
                } else {
                  o = splat(b, vecType({DP, TQ}), 0.0f);
                  for (int64_t d = 0; d < DP; ++d)
                    o = b.create<vector::InsertOp>(loc, kLoop.getResult(2 + d),
                                                   o, ArrayRef<int64_t>{d});
                }
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
                SmallVector<Value> results = {
                    b.create<vector::TransferWriteOp>(
                         loc, tile, qArgs[0], indices, AffineMapAttr::get(map),
                         wmask, b.getBoolArrayAttr({qFull, DP == Dh}))
                        .getResult()};
                if (scratch)
                  results.push_back(kLoop.getResult(2));
                b.create<scf::YieldOp>(loc, results);
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
