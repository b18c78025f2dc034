//===- FusedAttention.cpp - tessera.attention as a flash-style kernel -----===//
//
// Part of Tessera. tessera.attention becomes a blocked online-softmax loop
// nest written directly in the vector dialect, on tensors, with two
// register-tiled micro-GEMMs per block:
//
// The kernel's vectors are L floats (8, or 16 with AVX-512: the pass's
// vector-bits), its blocks TQ = TK = 48 (96 with 16-float vectors):
//
//   for bh in [0, B*H):                  (top level: outlined onto the pool)
//     for each block of TQ queries:
//       Q^T block [Dh, TQ] (scalar transpose, zero padded), O = 0 [TQ, Dh'],
//       m = -inf, l = 0
//       for each block of TK keys (up to the diagonal when causal):
//         (1) S^T[j, i] = K[j, :] . Q^T[:, i] * scale + mask, 6 keys x 2L
//             queries per register tile (12 accumulators: broadcast
//             K[j, d], FMA with two Q^T row vectors), stored to P^T [TK, TQ];
//             each tile folds its column max into m' = max(m, max_j S^T[j]).
//             Causal (query i sees keys j <= i + Sk - Sq): only diagonal
//             blocks are masked, and their tiles entirely after the
//             diagonal are just filled with -inf.
//         (2) per L queries (lanes): P^T = exp(S^T - m'), a = exp(m - m'),
//             l = l * a + sum_j P^T
//         (3) O[i, :] = O[i, :] * a_i + sum_j P^T[j, i] V[j, :], 6 queries x
//             2L head columns per register tile, 4L with AVX-512 when they
//             divide the head (broadcast P^T[j, i], FMA with two or four V
//             row vectors)
//       out rows = O / l
//
// f16 and bf16 Q, K and V are widened as they are read and the result
// narrowed as it is written: the kernel computes in f32.
//
// Queries are the vector lanes of S^T, so the softmax needs no horizontal
// reductions; K and V are read in place (row-major), only the Q block is
// transposed. Memory is O(TQ * (TK + Dh)) per head, never S x S.
//
// One query (Sq = 1: a decode step with a KV cache) would use one lane of
// each of (1)'s vectors: when the head size is a multiple of L, such a head
// goes through buildDecodeHead instead, whose lanes are keys (chosen at run
// time when Sq is dynamic).
//
// B, H, Sq and Sk may be dynamic (the head size is static): the loops run to
// run-time bounds, partial blocks (any S, 1 and 0 included) go through the
// same register tiles with clamped key rows and zero-padded queries, and
// dims that must agree (Q, K, V, the mask) are checked with cf.assert.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/KernelShapes.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/transforms/MatchUtils.h"
#include "compiler/transforms/Patterns.h"
#include "dialects/onnx/ONNXDialect.h"
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

/// The kernel's shape: register tile rows (keys in (1), queries in (3)),
/// vector lanes, and the query and key blocks, multiples of the rows and of
/// two vectors (a register tile's columns): 48 with 8-float (AVX2) vectors,
/// 96 with 16-float (AVX-512) ones, whose blocks stay in L1/L2.
struct AttentionShape {
  int64_t rows = 6, lanes = 8, tileQ = 48, tileK = 48;
  /// Vectors per row of (3)'s register tile: 2, or 4 with AVX-512 (6 x 4
  /// zmm accumulators; a head of 64 is one tile).
  int64_t pvVectors = 2;

  static AttentionShape forVectorBits(unsigned bits) {
    if (bits >= 512)
      return {6, 16, 96, 96, 4};
    return {};
  }
};

int64_t roundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

/// Q, K or V as the kernel reads it, by [B, H, S, Dh] indices. When it is a
/// transpose that keeps the head size innermost (the head split of
/// tessera.qkv_projection: [B, S, H, Dh] or [S, B, H, Dh] to [B, H, S,
/// Dh]), the kernel reads the transpose's input in place (its rows are
/// still contiguous) and the copy is left dead.
struct HeadsOperand {
  Value tensor;
  SmallVector<int64_t, 4> perm = {0, 1, 2, 3}; // dim i is tensor dim perm[i]

  static HeadsOperand get(Value v) {
    v = kernels::mostStatic(v);
    auto t = v.getDefiningOp<linalg::TransposeOp>();
    if (!t || t.getPermutation().size() != 4 || t.getPermutation()[3] != 3)
      return {v};
    return {t.getInput(), SmallVector<int64_t, 4>(t.getPermutation())};
  }
  RankedTensorType type() const {
    return dyn_cast<RankedTensorType>(tensor.getType());
  }
  int64_t dimSize(int64_t d) const { return type().getDimSize(perm[d]); }
  std::pair<Value, int64_t> dim(int64_t d) const { return {tensor, perm[d]}; }
  OpFoldResult size(OpBuilder &b, Location loc, int64_t d) const {
    return tensor::getMixedSize(b, loc, tensor, perm[d]);
  }
  /// The tensor's indices of [B, H, S, Dh] indices `ix`.
  SmallVector<Value> at(ArrayRef<Value> ix) const {
    SmallVector<Value> r(4);
    for (int64_t i = 0; i < 4; ++i)
      r[perm[i]] = ix[i];
    return r;
  }
};

/// `lanes` elements of `src` at `ix` along its innermost dim, in f32: read
/// in the tensor's element type (padded with `pad`, of that type) and
/// widened.
Value readF32(OpBuilder &b, Location loc, Value src, ValueRange ix,
              int64_t lanes, bool inBounds, Value pad) {
  Type elt = cast<ShapedType>(src.getType()).getElementType();
  return kernels::toF32(
      b, loc,
      b.create<vector::TransferReadOp>(loc, VectorType::get({lanes}, elt), src,
                                       ix, pad, ArrayRef<bool>{inBounds}));
}

/// The i64 vector [0, 1, ..., lanes - 1].
Value laneIndices(OpBuilder &b, Location loc, int64_t lanes) {
  auto type = VectorType::get({lanes}, b.getI64Type());
  SmallVector<int64_t> values;
  for (int64_t i = 0; i < lanes; ++i)
    values.push_back(i);
  return b.create<arith::ConstantOp>(loc, type,
                                     DenseIntElementsAttr::get(type, values));
}

/// The result's indices of column `col` of query `row` of head (bi, hi):
/// [B, H, Sq, Dh], or with merged heads [B, Sq, H * Dh] ([Sq, B, H * Dh]
/// when sequence first).
SmallVector<Value> resultIndices(OpBuilder &b, Location loc, Value bi, Value hi,
                                 Value row, Value col, int64_t headSize,
                                 bool merge, bool seqFirst) {
  if (!merge)
    return {bi, hi, row, col};
  Value size = b.create<arith::ConstantIndexOp>(loc, headSize);
  col =
      b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, hi, size), col);
  if (seqFirst)
    return {row, bi, col};
  return {bi, row, col};
}

/// What the decode kernel of one (batch, head) reads: a single query (Sq =
/// 1, a decode step with a KV cache).
struct DecodeHead {
  HeadsOperand q, k, v;
  Value bi, hi, hk; // batch, query head, K/V head
  // The mask as f32 offsets, [Bm, Hm, Sk] (rowMask) or [Bm, Hm, Sk, Sq]
  // (null without one), at mask batch and head mb, mh.
  Value mask, mb, mh;
  bool rowMask = false;
  Value numKeys, lastKey;
  int64_t headSize = 0, lanes = 0;
  float scale = 1.0f;
  Type elt;
  bool merge = false, seqFirst = false, zeroMaskedRows = false;
};

/// The output row of one query of one head, written into `out`. The
/// general kernel's queries are the lanes of its scores, which for one
/// query wastes all but one lane of each vector; here the keys are:
///
///   for each block of L keys (the last clamped and masked to -inf):
///     s_j = (K[j, :] . q) * scale + mask   (Dh/L FMAs, reduced across lanes)
///     m' = max(m, max_j s_j), a = exp(m - m'), p = exp(s - m')
///     l = l * a + sum_j p_j, O = O * a + sum_j p_j V[j, :]
///   out = O / l
///
/// The head size is a multiple of L; causal masking is a no-op (the query
/// is the last position: it sees every key).
Value buildDecodeHead(OpBuilder &b, Location loc, const DecodeHead &h,
                      Value out) {
  const int64_t L = h.lanes, n = h.headSize / L;
  Type f32 = b.getF32Type();
  VectorType vecT = VectorType::get({L}, f32);
  auto idx = [&](int64_t x) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, x);
  };
  auto splat = [&](float x) -> Value {
    return b.create<arith::ConstantOp>(
        loc, vecT, DenseElementsAttr::get(vecT, b.getF32FloatAttr(x)));
  };
  // Q, K and V rows, L of their elements from column c, in f32.
  Value pad = b.create<arith::ConstantOp>(loc, b.getZeroAttr(h.elt));
  auto readRow = [&](OpBuilder &b, const HeadsOperand &t, Value head, Value row,
                     int64_t c) -> Value {
    return readF32(b, loc, t.tensor, t.at({h.bi, head, row, idx(c)}), L,
                   /*inBounds=*/true, pad);
  };
  Value c0 = idx(0);
  const float negInf = -std::numeric_limits<float>::infinity();
  Value zeroV = splat(0.0f), ninfV = splat(negInf), scaleV = splat(h.scale);
  SmallVector<Value> qv;
  for (int64_t c = 0; c < n; ++c)
    qv.push_back(readRow(b, h.q, h.hi, c0, c * L));
  Type i64 = b.getI64Type();
  VectorType posT = VectorType::get({L}, i64);
  Value iota = laneIndices(b, loc, L);

  // Loop-carried: m and l (splats), then O's n vectors.
  SmallVector<Value> init = {ninfV, zeroV};
  init.append(n, zeroV);
  auto loop = b.create<scf::ForOp>(
      loc, c0, h.numKeys, idx(L), init,
      [&](OpBuilder &b, Location, Value k0, ValueRange args) {
        SmallVector<Value> keys, scores;
        for (int64_t j = 0; j < L; ++j) {
          Value key = b.create<arith::MinSIOp>(
              loc, b.create<arith::AddIOp>(loc, k0, idx(j)), h.lastKey);
          keys.push_back(key);
          Value acc;
          for (int64_t c = 0; c < n; ++c) {
            Value kr = readRow(b, h.k, h.hk, key, c * L);
            acc = c ? b.create<vector::FMAOp>(loc, kr, qv[c], acc).getResult()
                    : b.create<arith::MulFOp>(loc, kr, qv[c]).getResult();
          }
          scores.push_back(b.create<vector::ReductionOp>(
              loc, vector::CombiningKind::ADD, acc,
              arith::FastMathFlags::reassoc));
        }
        Value s = b.create<arith::MulFOp>(
            loc, b.create<vector::FromElementsOp>(loc, vecT, scores), scaleV);
        if (h.mask) {
          Value maskPad =
              b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0));
          SmallVector<Value> ix = {h.mb, h.mh, k0};
          AffineMap map;
          if (!h.rowMask) {
            ix.push_back(c0);
            map = AffineMap::get(4, 0, b.getAffineDimExpr(2));
          } else {
            map = AffineMap::getMinorIdentityMap(3, 1, b.getContext());
          }
          s = b.create<arith::AddFOp>(
              loc, s,
              b.create<vector::TransferReadOp>(
                  loc, vecT, h.mask, ix, AffineMapAttr::get(map), maskPad,
                  Value(), b.getBoolArrayAttr({false})));
        }
        // Keys past the last are -inf.
        Value left = b.create<arith::IndexCastOp>(
            loc, i64, b.create<arith::SubIOp>(loc, h.numKeys, k0));
        Value inside = b.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::slt, iota,
            b.create<vector::BroadcastOp>(loc, posT, left));
        s = b.create<arith::SelectOp>(loc, inside, s, ninfV);
        Value blockMax = b.create<vector::ReductionOp>(
            loc, vector::CombiningKind::MAXNUMF, s);
        Value m = args[0];
        Value mNew = b.create<arith::MaxNumFOp>(
            loc, m, b.create<vector::BroadcastOp>(loc, vecT, blockMax));
        // While every key so far is -inf, m' = -inf: use 0 so that the
        // exponentials are 0, not NaN.
        Value mSafe = b.create<arith::SelectOp>(
            loc,
            b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, mNew,
                                    ninfV),
            zeroV, mNew);
        Value alpha =
            b.create<math::ExpOp>(loc, b.create<arith::SubFOp>(loc, m, mSafe));
        Value p =
            b.create<math::ExpOp>(loc, b.create<arith::SubFOp>(loc, s, mSafe));
        Value l = b.create<arith::AddFOp>(
            loc, b.create<arith::MulFOp>(loc, args[1], alpha),
            b.create<vector::BroadcastOp>(
                loc, vecT,
                b.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD,
                                              p,
                                              arith::FastMathFlags::reassoc)));
        SmallVector<Value> o;
        for (int64_t c = 0; c < n; ++c)
          o.push_back(b.create<arith::MulFOp>(loc, args[2 + c], alpha));
        for (int64_t j = 0; j < L; ++j) {
          Value pj = b.create<vector::BroadcastOp>(
              loc, vecT,
              b.create<vector::ExtractOp>(loc, p, ArrayRef<int64_t>{j}));
          for (int64_t c = 0; c < n; ++c)
            o[c] = b.create<vector::FMAOp>(
                loc, pj, readRow(b, h.v, h.hk, keys[j], c * L), o[c]);
        }
        SmallVector<Value> next = {mNew, l};
        next.append(o);
        b.create<scf::YieldOp>(loc, next);
      });
  Value l = loop.getResult(1);
  for (int64_t c = 0; c < n; ++c) {
    Value x = b.create<arith::DivFOp>(loc, loop.getResult(2 + c), l);
    if (h.zeroMaskedRows)
      x = b.create<arith::SelectOp>(
          loc,
          b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, l, zeroV),
          zeroV, x);
    SmallVector<Value> ix = resultIndices(b, loc, h.bi, h.hi, c0, idx(c * L),
                                          h.headSize, h.merge, h.seqFirst);
    out = b.create<vector::TransferWriteOp>(loc,
                                            kernels::fromF32(b, loc, x, h.elt),
                                            out, ix, ArrayRef<bool>{true})
              .getResult();
  }
  return out;
}

struct AttentionToLoops : OpRewritePattern<fused::AttentionOp> {
  AttentionToLoops(MLIRContext *ctx, AttentionShape shape)
      : OpRewritePattern(ctx), shape(shape) {}
  AttentionShape shape;

  LogicalResult matchAndRewrite(fused::AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    HeadsOperand q = HeadsOperand::get(op.getQ()),
                 k = HeadsOperand::get(op.getK()),
                 v = HeadsOperand::get(op.getV());
    auto qt = q.type(), kt = k.type(), vt = v.type();
    auto outType = dyn_cast<RankedTensorType>(op.getType());
    if (!qt || !kt || !vt || !outType)
      return rewriter.notifyMatchFailure(op, "needs ranked tensors");
    Type f32 = rewriter.getF32Type();
    // f16 and bf16 are read widened and written narrowed: the kernel
    // computes in f32.
    Type elt = qt.getElementType();
    if (!isKernelFloat(elt) || kt.getElementType() != elt ||
        vt.getElementType() != elt || outType.getElementType() != elt)
      return rewriter.notifyMatchFailure(op, "needs f32, f16 or bf16 Q, K, V "
                                             "and result of one type");
    // B, H, Sq and Sk may be dynamic (read with tensor.dim, checked to agree
    // between Q, K, V and the mask at run time); the head size is static.
    // (Q and K may leave it dynamic when V has it: checked at run time.)
    int64_t Dh = q.dimSize(3);
    if (ShapedType::isDynamic(Dh))
      Dh = k.dimSize(3);
    if (ShapedType::isDynamic(Dh))
      Dh = v.dimSize(3);
    if (ShapedType::isDynamic(Dh) || ShapedType::isDynamic(v.dimSize(3)))
      return rewriter.notifyMatchFailure(op, "head size must be static");
    if (v.dimSize(3) != Dh)
      return rewriter.notifyMatchFailure(op, "V's head size differs from Q's");
    if (Dh > 256)
      return rewriter.notifyMatchFailure(op, "head size above 256");
    if (Value m = op.getMask()) {
      Type mt = cast<ShapedType>(m.getType()).getElementType();
      if (!isKernelFloat(mt) && !mt.isInteger(1))
        return rewriter.notifyMatchFailure(
            op, "the mask is neither i1 nor f32, f16 or bf16");
    }
    using kernels::agreedDim;
    OpFoldResult B = agreedDim(rewriter, loc, {q.dim(0), k.dim(0), v.dim(0)},
                               "Q, K and V have different batch sizes");
    OpFoldResult H = q.size(rewriter, loc, 1);
    OpFoldResult Hkv = agreedDim(rewriter, loc, {k.dim(1), v.dim(1)},
                                 "K and V have different head counts");
    OpFoldResult Sq = q.size(rewriter, loc, 2);
    OpFoldResult Sk = agreedDim(rewriter, loc, {k.dim(2), v.dim(2)},
                                "K and V have different numbers of keys");
    if (ShapedType::isDynamic(q.dimSize(3)) ||
        ShapedType::isDynamic(k.dimSize(3)))
      (void)kernels::agreedSize(rewriter, loc,
                                {q.size(rewriter, loc, 3),
                                 k.size(rewriter, loc, 3),
                                 rewriter.getIndexAttr(Dh)},
                                "Q, K and V have different head sizes");
    // Grouped-query attention: query head h reads K/V head h / group (or
    // h % Hkv when tiled); Hkv = H is plain multi-head attention.
    const bool kvTiled = op.getKvTiled();
    Value group = kernels::kvGroup(rewriter, loc, H, Hkv);
    // A static query count whose blocks are all full (or all 16-query
    // groups) needs no padding of the partial block.
    std::optional<int64_t> sqStatic = getConstantIntValue(Sq);
    const int64_t TQ = shape.tileQ, TK = shape.tileK, L = shape.lanes,
                  R = shape.rows;
    const int64_t DhP = roundUp(Dh, 2 * L); // O columns
    // Vectors per register tile row in (3): pvVectors when they divide O's
    // columns, else 2.
    const int64_t W = DhP % (shape.pvVectors * L) == 0 ? shape.pvVectors : 2;
    const bool causal = op.getCausal();
    const bool merge = op.getMergeHeads(), seqFirst = op.getSeqFirst();
    const float negInf = -std::numeric_limits<float>::infinity();

    // Prologue: the mask as f32 offsets, [Bm, Hm, Sk] (one row for every
    // query) or [Bm, Hm, Sk, Sq] (transposed: queries are the lanes). A
    // mask dim that is not a static 1 is the full dim (checked at run time).
    Value mask;
    bool rowMask = false, maskB1 = true, maskH1 = true;
    if (Value m = op.getMask()) {
      auto mt = cast<RankedTensorType>(m.getType());
      int64_t r = mt.getRank();
      SmallVector<int64_t> md(4, 1);
      for (int64_t i = 0; i < r; ++i)
        md[4 - r + i] = mt.getDimSize(i);
      maskB1 = md[0] == 1;
      maskH1 = md[1] == 1;
      rowMask = md[2] == 1;
      OpFoldResult one = rewriter.getIndexAttr(1);
      OpFoldResult full[4] = {B, H, Sq, Sk};
      const char *what[4] = {"batch size", "head count", "query count",
                             "key count"};
      for (int64_t i = 0; i < r; ++i) {
        int64_t f = 4 - r + i;
        if (md[f] != 1)
          full[f] = kernels::agreedSize(
              rewriter, loc,
              {tensor::getMixedSize(rewriter, loc, m, i), full[f]},
              std::string("the mask's ") + what[f] +
                  " differs from the attention's");
      }
      SmallVector<OpFoldResult> shape = {maskB1 ? one : B, maskH1 ? one : H,
                                         Sk};
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
                       } else {
                         x = kernels::toF32(b, l, x);
                       }
                       b.create<linalg::YieldOp>(l, x);
                     })
                 .getResult(0);
    }

    // Constants and helpers.
    auto idx = [&](int64_t v) -> Value {
      return rewriter.create<arith::ConstantIndexOp>(loc, v);
    };
    VectorType vecT = VectorType::get({L}, f32);
    auto splat = [&](float value) -> Value {
      return rewriter.create<arith::ConstantOp>(
          loc, vecT,
          DenseElementsAttr::get(vecT, rewriter.getF32FloatAttr(value)));
    };
    Value c0 = idx(0), c1 = idx(1);
    Value pad =
        rewriter.create<arith::ConstantOp>(loc, rewriter.getF32FloatAttr(0));
    Value zeroV = splat(0.0f), ninfV = splat(negInf);
    Value scaleV = splat(op.getScale().convertToFloat());
    Type i64 = rewriter.getI64Type();
    VectorType posT = VectorType::get({L}, i64);
    Value iota = laneIndices(rewriter, loc, L);
    // The result, [B, H, Sq, Dh] or with merged heads [B, Sq, H * Dh] (or
    // [Sq, B, H * Dh]); cast to the op's type if that is more static.
    SmallVector<OpFoldResult> outSizes = {B, H, Sq, rewriter.getIndexAttr(Dh)};
    if (merge) {
      OpFoldResult hd =
          kernels::mulSizes(rewriter, loc, H, rewriter.getIndexAttr(Dh));
      outSizes = seqFirst ? SmallVector<OpFoldResult>{Sq, B, hd}
                          : SmallVector<OpFoldResult>{B, Sq, hd};
    }
    Value out = rewriter.create<tensor::EmptyOp>(loc, outSizes, elt);
    auto value = [&](OpFoldResult size) {
      return getValueOrCreateConstantIndexOp(rewriter, loc, size);
    };
    Value hV = value(H), sqV = value(Sq), skV = value(Sk);
    Value bhV = value(kernels::mulSizes(rewriter, loc, B, H));
    std::optional<int64_t> skStatic = getConstantIntValue(Sk);
    // Causal: keys after the queries' own, offset by Sk - Sq (the past of a
    // key/value cache; 0 for self-attention without one).
    // Null when it is statically 0.
    Value offV;
    if (causal && (!skStatic || !sqStatic || *skStatic != *sqStatic))
      offV = rewriter.create<arith::SubIOp>(loc, skV, sqV);
    Value lastKey = skStatic ? idx(*skStatic - 1)
                             : rewriter.create<arith::SubIOp>(loc, skV, idx(1))
                                   .getResult();

    using Body =
        function_ref<SmallVector<Value>(OpBuilder &, Value, ValueRange)>;
    auto loop = [&](OpBuilder &b, Value lb, Value ub, Value step,
                    ValueRange init, Body body) -> SmallVector<Value> {
      auto f = b.create<scf::ForOp>(
          loc, lb, ub, step, init,
          [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
            nb.create<scf::YieldOp>(loc, body(nb, iv, args));
          });
      return SmallVector<Value>(f.getResults());
    };
    auto read = [&](OpBuilder &b, Value src, ValueRange ix,
                    bool inBounds) -> Value {
      return b.create<vector::TransferReadOp>(loc, vecT, src, ix, pad,
                                              ArrayRef<bool>{inBounds});
    };
    // Q, K and V in f32, and f32 results in the output's type.
    auto widen = [&](OpBuilder &b, Value x) {
      return kernels::toF32(b, loc, x);
    };
    Value eltPad =
        elt == f32
            ? pad
            : rewriter.create<arith::ConstantOp>(loc, rewriter.getZeroAttr(elt))
                  .getResult();
    auto readInput = [&](OpBuilder &b, Value src, ValueRange ix,
                         bool inBounds) -> Value {
      return readF32(b, loc, src, ix, L, inBounds, eltPad);
    };
    auto narrow = [&](OpBuilder &b, Value x) {
      return kernels::fromF32(b, loc, x, elt);
    };
    auto write = [&](OpBuilder &b, Value x, Value dst, ValueRange ix) -> Value {
      return b
          .create<vector::TransferWriteOp>(loc, x, dst, ix,
                                           ArrayRef<bool>{true})
          .getResult();
    };
    auto bcast = [&](OpBuilder &b, Value scalar) -> Value {
      return b.create<vector::BroadcastOp>(loc, vecT, scalar);
    };
    auto add = [&](OpBuilder &b, Value x, int64_t c) -> Value {
      return b.create<arith::AddIOp>(loc, x, idx(c));
    };
    auto mul = [&](OpBuilder &b, Value x, int64_t c) -> Value {
      return b.create<arith::MulIOp>(loc, x, idx(c));
    };
    auto minI = [&](OpBuilder &b, Value x, Value y) -> Value {
      return b.create<arith::MinSIOp>(loc, x, y);
    };
    auto ceilDiv = [&](OpBuilder &b, Value x, int64_t c) -> Value {
      return b.create<arith::CeilDivUIOp>(loc, x, idx(c));
    };
    // Fills rows x cols (cols a multiple of L) of a 2-D buffer with x.
    auto fill = [&](OpBuilder &b, Value buf, int64_t rows, int64_t cols,
                    Value x) -> Value {
      return loop(b, c0, idx(rows), c1, buf,
                  [&](OpBuilder &b, Value i, ValueRange a) {
                    Value t = a[0];
                    for (int64_t c = 0; c < cols; c += L)
                      t = write(b, x, t, {i, idx(c)});
                    return SmallVector<Value>{t};
                  })[0];
    };

    // Every query of one (b, h), into `outArg`: the blocked kernel above.
    auto allQueries = [&](OpBuilder &b, Value outArg, Value bi, Value hi,
                          Value hk, Value mb, Value mh) -> Value {
      // Scratch, one set per (b, h): iterations run on different threads.
      // The scratch buffers get distinct types (a spare row where two
      // would coincide, e.g. Q^T and P^T for a head size of 48): CSE
      // merges identical tensor.empty ops, and one empty carried as two
      // loop buffers gave wrong results once the query loop ran more
      // than once (head sizes 40 and 48 with more than 48 queries).
      SmallVector<std::pair<int64_t, int64_t>> shapes;
      auto empty = [&](int64_t r, int64_t c) -> Value {
        while (llvm::is_contained(shapes, std::make_pair(r, c)))
          ++r;
        shapes.push_back({r, c});
        return b.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{r, c}, f32);
      };
      SmallVector<Value> qInit = {outArg, empty(Dh, TQ), empty(TK, TQ),
                                  empty(TQ, DhP), empty(4, TQ)};
      SmallVector<Value> qRes =
          loop(
              b, c0, sqV, idx(TQ), qInit,
              [&](OpBuilder &b, Value q0, ValueRange qa) {
                Value qLen =
                    minI(b, idx(TQ), b.create<arith::SubIOp>(loc, sqV, q0));
                // Causal: query q0 + i sees keys <= qc + i.
                Value qc =
                    offV ? b.create<arith::AddIOp>(loc, q0, offV).getResult()
                         : q0;
                // Q^T block, zero padded to TQ columns (in every block if Sq
                // is dynamic).
                Value qT = qa[1];
                if (!sqStatic || *sqStatic % TQ != 0)
                  qT = fill(b, qT, Dh, TQ, zeroV);
                qT = loop(b, c0, qLen, c1, qT,
                          [&](OpBuilder &b, Value i, ValueRange a) {
                            Value t = a[0];
                            Value row = b.create<arith::AddIOp>(loc, q0, i);
                            for (int64_t d0 = 0; d0 < Dh; d0 += L) {
                              Value x = readInput(b, q.tensor,
                                                  q.at({bi, hi, row, idx(d0)}),
                                                  d0 + L <= Dh);
                              for (int64_t dd = 0; dd < L && d0 + dd < Dh; ++dd)
                                t = b.create<tensor::InsertOp>(
                                    loc,
                                    b.create<vector::ExtractOp>(
                                        loc, x, ArrayRef<int64_t>{dd}),
                                    t, ValueRange{idx(d0 + dd), i});
                            }
                            return SmallVector<Value>{t};
                          })[0];
                // O = 0, m = -inf, l = 0 (rows 0, 1 of the stats; row 2
                // holds the per-block rescale factors, row 3 the new max).
                Value o = fill(b, qa[3], TQ, DhP, zeroV);
                Value st = qa[4];
                for (int64_t c = 0; c < TQ; c += L) {
                  st = write(b, ninfV, st, {c0, idx(c)});
                  st = write(b, zeroV, st, {c1, idx(c)});
                }
                Value kEnd = skV;
                if (causal)
                  kEnd = minI(b, add(b, qc, TQ), kEnd);
                Value nLG = ceilDiv(b, qLen, 2 * L);
                Value nG = ceilDiv(b, qLen, L);
                Value nQG = ceilDiv(b, qLen, R);
                SmallVector<Value> kRes = loop(
                    b, c0, kEnd, idx(TK), ValueRange{qa[2], o, st},
                    [&](OpBuilder &b, Value k0, ValueRange ka) {
                      Value kLen = minI(b, idx(TK),
                                        b.create<arith::SubIOp>(loc, kEnd, k0));
                      Value nKG = ceilDiv(b, kLen, R);
                      // Row 3 of the stats: the running max, m' (folded in by
                      // the register tiles of (1)).
                      Value st0 = ka[2];
                      for (int64_t c = 0; c < TQ; c += L)
                        st0 = write(b, read(b, st0, {c0, idx(c)}, true), st0,
                                    {idx(3), idx(c)});
                      // (1) S^T = K Q^T * scale + mask, R keys x 2L queries
                      // per register tile.
                      auto maxV = [&](OpBuilder &b, Value x, Value y) -> Value {
                        // vmaxps: NaN scores still reach P through exp.
                        Value gt = b.create<arith::CmpFOp>(
                            loc, arith::CmpFPredicate::OGT, x, y);
                        return b.create<arith::SelectOp>(loc, gt, x, y);
                      };
                      auto tile = [&](OpBuilder &b, Value j0, Value key0,
                                      ArrayRef<Value> kRow, Value l0, Value l1,
                                      Value t, Value st,
                                      bool diag) -> SmallVector<Value> {
                        SmallVector<Value> acc(2 * R, zeroV);
                        auto step = [&](OpBuilder &b, Value d,
                                        SmallVector<Value> &acc) {
                          Value qa0 = read(b, qT, {d, l0}, true);
                          Value qa1 = read(b, qT, {d, l1}, true);
                          for (int64_t r = 0; r < R; ++r) {
                            Value kv = bcast(
                                b, widen(b, b.create<tensor::ExtractOp>(
                                                loc, k.tensor,
                                                k.at({bi, hk, kRow[r], d}))));
                            acc[2 * r] = b.create<vector::FMAOp>(loc, kv, qa0,
                                                                 acc[2 * r]);
                            acc[2 * r + 1] = b.create<vector::FMAOp>(
                                loc, kv, qa1, acc[2 * r + 1]);
                          }
                        };
                        const int64_t dMain = Dh / L * L;
                        if (dMain)
                          acc = loop(b, c0, idx(dMain), idx(L), acc,
                                     [&](OpBuilder &b, Value d, ValueRange a) {
                                       SmallVector<Value> x(a);
                                       for (int64_t dd = 0; dd < L; ++dd)
                                         step(b, add(b, d, dd), x);
                                       return x;
                                     });
                        for (int64_t d = dMain; d < Dh; ++d)
                          step(b, idx(d), acc);
                        Value colQ[2] = {b.create<arith::AddIOp>(loc, q0, l0),
                                         b.create<arith::AddIOp>(loc, q0, l1)};
                        Value colMax[2];
                        for (int64_t r = 0; r < R; ++r) {
                          Value key = add(b, key0, r);
                          Value keyRow = add(b, j0, r);
                          Value mRow;
                          if (mask && rowMask)
                            mRow = bcast(
                                b, b.create<tensor::ExtractOp>(
                                       loc, mask, ValueRange{mb, mh, kRow[r]}));
                          for (int64_t h = 0; h < 2; ++h) {
                            Value s = b.create<arith::MulFOp>(
                                loc, acc[2 * r + h], scaleV);
                            if (mRow)
                              s = b.create<arith::AddFOp>(loc, s, mRow);
                            else if (mask)
                              s = b.create<arith::AddFOp>(
                                  loc, s,
                                  read(b, mask, {mb, mh, kRow[r], colQ[h]},
                                       sqStatic && *sqStatic % (2 * L) == 0));
                            if (diag) {
                              Value qPos = b.create<arith::AddIOp>(
                                  loc,
                                  b.create<vector::BroadcastOp>(
                                      loc, posT,
                                      b.create<arith::IndexCastOp>(
                                          loc, i64,
                                          offV ? b.create<arith::AddIOp>(
                                                     loc, colQ[h], offV)
                                               : colQ[h])),
                                  iota);
                              Value kPos = b.create<vector::BroadcastOp>(
                                  loc, posT,
                                  b.create<arith::IndexCastOp>(loc, i64, key));
                              Value keep = b.create<arith::CmpIOp>(
                                  loc, arith::CmpIPredicate::sge, qPos, kPos);
                              s = b.create<arith::SelectOp>(loc, keep, s,
                                                            ninfV);
                            }
                            colMax[h] = r ? maxV(b, colMax[h], s) : s;
                            t = write(b, s, t, {keyRow, h ? l1 : l0});
                          }
                        }
                        // Rows past the block (a partial last tile) are
                        // masked or repeat the clamped last key: harmless.
                        for (int64_t h = 0; h < 2; ++h) {
                          Value l = h ? l1 : l0;
                          Value m = read(b, st, {idx(3), l}, true);
                          st = write(b, maxV(b, colMax[h], m), st, {idx(3), l});
                        }
                        return {t, st};
                      };
                      // diag: the block has keys after some of its queries.
                      auto phase1 = [&](OpBuilder &b,
                                        bool diag) -> SmallVector<Value> {
                        return loop(
                            b, c0, nKG, c1, ValueRange{ka[0], st0},
                            [&](OpBuilder &b, Value kg, ValueRange a) {
                              Value j0 = mul(b, kg, R); // local key row
                              Value key0 = b.create<arith::AddIOp>(loc, k0, j0);
                              SmallVector<Value> kRow; // clamped: rows past Sk
                              for (int64_t r = 0; r < R; ++r) // are not used
                                kRow.push_back(
                                    minI(b, add(b, key0, r), lastKey));
                              return loop(
                                  b, c0, nLG, c1, a,
                                  [&](OpBuilder &b, Value lg, ValueRange a) {
                                    Value l0 = mul(b, lg, 2 * L);
                                    Value l1 = add(b, l0, L);
                                    if (!diag)
                                      return tile(b, j0, key0, kRow, l0, l1,
                                                  a[0], a[1], false);
                                    // Causal: a tile whose first key is after
                                    // its last query is all -inf.
                                    Value last = add(
                                        b, b.create<arith::AddIOp>(loc, qc, l0),
                                        2 * L - 1);
                                    Value masked = b.create<arith::CmpIOp>(
                                        loc, arith::CmpIPredicate::sgt, key0,
                                        last);
                                    auto ifOp = b.create<scf::IfOp>(
                                        loc, masked,
                                        [&](OpBuilder &b, Location) {
                                          Value t = a[0];
                                          for (int64_t r = 0; r < R; ++r)
                                            for (Value l : {l0, l1})
                                              t = write(b, ninfV, t,
                                                        {add(b, j0, r), l});
                                          b.create<scf::YieldOp>(
                                              loc, ValueRange{t, a[1]});
                                        },
                                        [&](OpBuilder &b, Location) {
                                          b.create<scf::YieldOp>(
                                              loc, tile(b, j0, key0, kRow, l0,
                                                        l1, a[0], a[1], true));
                                        });
                                    return SmallVector<Value>(
                                        ifOp.getResults());
                                  });
                            });
                      };
                      SmallVector<Value> p1;
                      if (!causal) {
                        p1 = phase1(b, false);
                      } else {
                        Value diag = b.create<arith::CmpIOp>(
                            loc, arith::CmpIPredicate::sgt, add(b, k0, TK - 1),
                            qc);
                        auto ifOp = b.create<scf::IfOp>(
                            loc, diag,
                            [&](OpBuilder &b, Location) {
                              b.create<scf::YieldOp>(loc, phase1(b, true));
                            },
                            [&](OpBuilder &b, Location) {
                              b.create<scf::YieldOp>(loc, phase1(b, false));
                            });
                        p1 = SmallVector<Value>(ifOp.getResults());
                      }
                      Value pT = p1[0];
                      // (2) Online softmax, L queries (lanes) at a time.
                      SmallVector<Value> sm = loop(
                          b, c0, nG, c1, ValueRange{pT, p1[1]},
                          [&](OpBuilder &b, Value g, ValueRange a) {
                            Value c = mul(b, g, L);
                            Value mOld = read(b, a[1], {c0, c}, true);
                            Value lOld = read(b, a[1], {c1, c}, true);
                            Value mNew = read(b, a[1], {idx(3), c}, true);
                            // A query that has seen only -inf keeps m = -inf;
                            // use 0 there so that exp(-inf - m) is 0, not NaN.
                            Value isNegInf = b.create<arith::CmpFOp>(
                                loc, arith::CmpFPredicate::OEQ, mNew, ninfV);
                            Value mSafe = b.create<arith::SelectOp>(
                                loc, isNegInf, zeroV, mNew);
                            Value alpha = b.create<math::ExpOp>(
                                loc, b.create<arith::SubFOp>(loc, mOld, mSafe));
                            SmallVector<Value> ps = loop(
                                b, c0, kLen, c1, ValueRange{a[0], zeroV},
                                [&](OpBuilder &b, Value j, ValueRange x) {
                                  Value p = b.create<math::ExpOp>(
                                      loc, b.create<arith::SubFOp>(
                                               loc, read(b, x[0], {j, c}, true),
                                               mSafe));
                                  return SmallVector<Value>{
                                      write(b, p, x[0], {j, c}),
                                      b.create<arith::AddFOp>(loc, x[1], p)};
                                });
                            Value l = b.create<arith::AddFOp>(
                                loc, b.create<arith::MulFOp>(loc, lOld, alpha),
                                ps[1]);
                            Value st = write(b, mNew, a[1], {c0, c});
                            st = write(b, l, st, {c1, c});
                            st = write(b, alpha, st, {idx(2), c});
                            return SmallVector<Value>{ps[0], st};
                          });
                      pT = sm[0];
                      Value stats = sm[1];
                      // (3) O = O * alpha + P V, R queries x W vectors per
                      // register tile.
                      Value oNew = loop(
                          b, c0, nQG, c1, ka[1],
                          [&](OpBuilder &b, Value qg, ValueRange a) {
                            Value i0 = mul(b, qg, R);
                            SmallVector<Value> rows;
                            for (int64_t r = 0; r < R; ++r)
                              rows.push_back(add(b, i0, r));
                            Value t = a[0];
                            // Causal: keys after the tile's last query have
                            // P = 0 for all of its rows (k0 <= qc).
                            Value jEnd = kLen;
                            if (causal)
                              jEnd = minI(
                                  b, kLen,
                                  add(b,
                                      b.create<arith::AddIOp>(
                                          loc,
                                          b.create<arith::SubIOp>(loc, qc, k0),
                                          i0),
                                      R));
                            for (int64_t d0 = 0; d0 < DhP; d0 += W * L) {
                              SmallVector<Value> acc;
                              for (int64_t r = 0; r < R; ++r) {
                                Value al =
                                    bcast(b, b.create<tensor::ExtractOp>(
                                                 loc, stats,
                                                 ValueRange{idx(2), rows[r]}));
                                for (int64_t h = 0; h < W; ++h)
                                  acc.push_back(b.create<arith::MulFOp>(
                                      loc,
                                      read(b, t, {rows[r], idx(d0 + h * L)},
                                           true),
                                      al));
                              }
                              acc = loop(
                                  b, c0, jEnd, c1, acc,
                                  [&](OpBuilder &b, Value j, ValueRange x) {
                                    SmallVector<Value> acc(x);
                                    Value key =
                                        b.create<arith::AddIOp>(loc, k0, j);
                                    SmallVector<Value, 4> vr(W);
                                    for (int64_t h = 0; h < W; ++h)
                                      vr[h] = readInput(
                                          b, v.tensor,
                                          v.at({bi, hk, key, idx(d0 + h * L)}),
                                          d0 + (h + 1) * L <= Dh);
                                    for (int64_t r = 0; r < R; ++r) {
                                      Value p =
                                          bcast(b, b.create<tensor::ExtractOp>(
                                                       loc, pT,
                                                       ValueRange{j, rows[r]}));
                                      for (int64_t h = 0; h < W; ++h)
                                        acc[W * r + h] =
                                            b.create<vector::FMAOp>(
                                                loc, p, vr[h], acc[W * r + h]);
                                    }
                                    return acc;
                                  });
                              for (int64_t r = 0; r < R; ++r)
                                for (int64_t h = 0; h < W; ++h)
                                  t = write(b, acc[W * r + h], t,
                                            {rows[r], idx(d0 + h * L)});
                            }
                            return SmallVector<Value>{t};
                          })[0];
                      return SmallVector<Value>{pT, oNew, stats};
                    });
                // out rows = O / l. Fully masked rows: 0 / 0 = NaN, like the
                // unfused graph, unless the graph guarded them to 0.
                Value oFin = kRes[1], stFin = kRes[2];
                Value res = loop(
                    b, c0, qLen, c1, qa[0],
                    [&](OpBuilder &b, Value i, ValueRange a) {
                      Value t = a[0];
                      Value lB = bcast(b, b.create<tensor::ExtractOp>(
                                              loc, stFin, ValueRange{c1, i}));
                      Value row = b.create<arith::AddIOp>(loc, q0, i);
                      for (int64_t d0 = 0; d0 < Dh; d0 += L) {
                        Value x = b.create<arith::DivFOp>(
                            loc, read(b, oFin, {i, idx(d0)}, true), lB);
                        if (op.getZeroMaskedRows()) {
                          Value empty = b.create<arith::CmpFOp>(
                              loc, arith::CmpFPredicate::OEQ, lB, zeroV);
                          x = b.create<arith::SelectOp>(loc, empty, zeroV, x);
                        }
                        SmallVector<Value> ix = resultIndices(
                            b, loc, bi, hi, row, idx(d0), Dh, merge, seqFirst);
                        x = narrow(b, x);
                        if (d0 + L <= Dh) {
                          t = write(b, x, t, ix);
                        } else { // only the head's own columns
                          Value wm = b.create<vector::CreateMaskOp>(
                              loc, VectorType::get({L}, b.getI1Type()),
                              ValueRange{idx(Dh - d0)});
                          auto map = AffineMap::getMinorIdentityMap(
                              outType.getRank(), 1, b.getContext());
                          t = b.create<vector::TransferWriteOp>(
                                   loc, x, t, ix, AffineMapAttr::get(map), wm,
                                   b.getBoolArrayAttr({false}))
                                  .getResult();
                        }
                      }
                      return SmallVector<Value>{t};
                    })[0];
                return SmallVector<Value>{res, qT, kRes[0], kRes[1], kRes[2]};
              });
      return qRes[0];
    };
    // One query (a decode step) is better served by buildDecodeHead.
    enum class Decode { Never, Always, WhenOneQuery };
    Decode decode = Dh % L != 0 || (sqStatic && *sqStatic != 1) ? Decode::Never
                    : sqStatic                                  ? Decode::Always
                               : Decode::WhenOneQuery;

    auto outer = rewriter.create<scf::ForOp>(
        loc, c0, bhV, c1, ValueRange{out},
        [&](OpBuilder &b, Location, Value bh, ValueRange outerArgs) {
          Value bi = b.create<arith::DivUIOp>(loc, bh, hV);
          Value hi = b.create<arith::RemUIOp>(loc, bh, hV);
          // The K/V head (hi itself without grouping).
          Value hk =
              !group ? hi
              : kvTiled
                  ? b.create<arith::RemUIOp>(loc, hi, value(Hkv)).getResult()
                  : b.create<arith::DivUIOp>(loc, hi, group).getResult();
          Value mb = maskB1 ? c0 : bi, mh = maskH1 ? c0 : hi;
          // With dynamic dims, through a whole slice (see extractWhole).
          bool whole = !outType.hasStaticShape();
          Value outArg = whole ? kernels::extractWhole(b, loc, outerArgs[0])
                               : outerArgs[0];
          DecodeHead one{q,
                         k,
                         v,
                         bi,
                         hi,
                         hk,
                         mask,
                         mb,
                         mh,
                         rowMask,
                         skV,
                         lastKey,
                         Dh,
                         L,
                         op.getScale().convertToFloat(),
                         elt,
                         merge,
                         seqFirst,
                         op.getZeroMaskedRows()};
          Value res;
          if (decode == Decode::Always) {
            res = buildDecodeHead(b, loc, one, outArg);
          } else if (decode == Decode::WhenOneQuery) {
            Value isOne =
                b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, sqV, c1);
            res = b.create<scf::IfOp>(
                       loc, isOne,
                       [&](OpBuilder &b, Location) {
                         b.create<scf::YieldOp>(
                             loc, buildDecodeHead(b, loc, one, outArg));
                       },
                       [&](OpBuilder &b, Location) {
                         b.create<scf::YieldOp>(
                             loc, allQueries(b, outArg, bi, hi, hk, mb, mh));
                       })
                      .getResult(0);
          } else {
            res = allQueries(b, outArg, bi, hi, hk, mb, mh);
          }
          b.create<scf::YieldOp>(
              loc,
              whole ? kernels::insertWhole(b, loc, res, outerArgs[0]) : res);
        });
    Value result = outer.getResult(0);
    if (result.getType() != outType)
      result = rewriter.create<tensor::CastOp>(loc, outType, result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The standard (opset 23) Attention op, also without the fusion passes:
/// tessera.attention on its heads (tessera-fuse-attention's rewrite), which
/// tessera-lower-fused-kernels then lowers like the others.
struct ONNXAttentionToFused : OpConversionPattern<onnx::AttentionOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(onnx::AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::string why;
    if (!rewriteONNXAttention(op, rewriter, why))
      return rewriter.notifyMatchFailure(op, why);
    return success();
  }
};

} // namespace

void populateONNXAttentionToFusedPatterns(TypeConverter &converter,
                                          RewritePatternSet &patterns) {
  patterns.add<ONNXAttentionToFused>(converter, patterns.getContext());
}

void populateFusedAttentionKernelPatterns(RewritePatternSet &patterns,
                                          unsigned vectorBits) {
  patterns.add<AttentionToLoops>(patterns.getContext(),
                                 AttentionShape::forVectorBits(vectorBits));
}

} // namespace tessera
