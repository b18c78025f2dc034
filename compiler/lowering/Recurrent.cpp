//===- Recurrent.cpp - onnx RNN, GRU and LSTM to linalg + scf.for ---------===//
//
// One recurrence per direction. The input projections of every step are one
// contraction before the loop, X [S, B, I] W^T + biases -> [S, B, G*H]
// (a reversed direction reads X through a gather, each batch entry from its
// own last step); an scf.for over the steps carries H (and C) and the
// step-ordered outputs, and each step is one contraction H R^T plus one
// generic that applies the cell's gates to [B, H]. sequence_lens masks the
// steps past each batch entry's length: its state stays, its output is 0.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/FloatMath.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/OpBuilders.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace tessera;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

/// f(x) for one of the activations a recurrent cell may name.
Value applyActivation(FloatMath &m, const onnx::RecurrentActivation &a,
                      Value x) {
  StringRef n = a.name;
  if (n == "Relu")
    return m.max(x, m.c(0.0));
  if (n == "Tanh")
    return m.tanh(x);
  if (n == "Sigmoid")
    return m.sigmoid(x);
  if (n == "Softsign") {
    Value abs = m.b.create<math::AbsFOp>(m.l, x);
    return m.div(x, m.add(m.c(1.0), abs));
  }
  if (n == "Softplus")
    return m.softplus(x);
  if (n == "Affine")
    return m.add(m.mul(m.c(a.alpha), x), m.c(a.beta));
  if (n == "LeakyRelu")
    return m.select(m.lt(x, m.c(0.0)), m.mul(m.c(a.alpha), x), x);
  if (n == "ThresholdedRelu")
    return m.select(m.gt(x, m.c(a.alpha)), x, m.c(0.0));
  if (n == "ScaledTanh")
    return m.mul(m.c(a.alpha), m.tanh(m.mul(m.c(a.beta), x)));
  if (n == "HardSigmoid")
    return m.saturate(m.add(m.mul(m.c(a.alpha), x), m.c(a.beta)));
  assert(n == "Elu" && "describeRecurrentCell admits no other names");
  Value em1 = m.sub(m.exp(x), m.c(1.0));
  return m.select(m.lt(x, m.c(0.0)), m.mul(m.c(a.alpha), em1), x);
}

/// `lhs` [..., K] times `rhs`^T ([N, K]) added to `init` [..., N].
Value contractRows(OpBuilder &b, Location loc, Value lhs, Value rhs,
                   Value init) {
  MLIRContext *ctx = b.getContext();
  int64_t outer = cast<RankedTensorType>(lhs.getType()).getRank() - 1;
  int64_t n = outer, k = outer + 1;
  SmallVector<AffineExpr> lhsExprs, outExprs;
  for (int64_t d = 0; d < outer; ++d) {
    lhsExprs.push_back(getAffineDimExpr(d, ctx));
    outExprs.push_back(getAffineDimExpr(d, ctx));
  }
  lhsExprs.push_back(getAffineDimExpr(k, ctx));
  outExprs.push_back(getAffineDimExpr(n, ctx));
  SmallVector<AffineMap> maps = {
      AffineMap::get(k + 1, 0, lhsExprs, ctx),
      AffineMap::get(k + 1, 0,
                     {getAffineDimExpr(n, ctx), getAffineDimExpr(k, ctx)}, ctx),
      AffineMap::get(k + 1, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iters(k, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
          ValueRange{init}, maps, iters,
          [](OpBuilder &nb, Location l, ValueRange a) {
            Value p = nb.create<arith::MulFOp>(l, a[0], a[1]);
            nb.create<linalg::YieldOp>(
                l, Value(nb.create<arith::AddFOp>(l, a[2], p)));
          })
      .getResult(0);
}

/// The rank-reduced slice `source[at...]` of the trailing dims (static
/// offsets on the leading dims named by `at`, full extents after them).
Value sliceLeading(OpBuilder &b, Location loc, Value source,
                   ArrayRef<OpFoldResult> at) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, source);
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  for (auto [i, v] : llvm::enumerate(at)) {
    offsets[i] = v;
    sizes[i] = b.getIndexAttr(1);
  }
  auto resultType = RankedTensorType::get(type.getShape().drop_front(at.size()),
                                          type.getElementType());
  SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
  return b.create<tensor::ExtractSliceOp>(loc, resultType, source, offsets,
                                          sizes, strides);
}

/// Entries [first, first + count) of `source` along `dim`.
Value sliceAlong(OpBuilder &b, Location loc, Value source, int64_t dim,
                 int64_t first, int64_t count) {
  int64_t rank = cast<RankedTensorType>(source.getType()).getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, source);
  offsets[dim] = b.getIndexAttr(first);
  sizes[dim] = b.getIndexAttr(count);
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  return b.create<tensor::ExtractSliceOp>(loc, source, offsets, sizes, strides);
}

/// Columns [first, first + count) of `source` [B, N] (or of a 1-D [N]).
Value columns(OpBuilder &b, Location loc, Value source, int64_t first,
              int64_t count) {
  int64_t rank = cast<RankedTensorType>(source.getType()).getRank();
  return sliceAlong(b, loc, source, rank - 1, first, count);
}

/// The lowering of one RNN, GRU or LSTM node.
class RecurrentBuilder {
public:
  RecurrentBuilder(OpBuilder &b, Location loc, const onnx::RecurrentCell &cell,
                   int64_t hidden, bool linearBeforeReset, bool inputForget,
                   std::optional<float> clip)
      : b(b), loc(loc), cell(cell), hidden(hidden),
        linearBeforeReset(linearBeforeReset), inputForget(inputForget),
        clip(clip) {}

  bool isGRU() const { return cell.gates == 3; }
  bool isLSTM() const { return cell.gates == 4; }

  /// Runs direction `d` over `x` [S, B, I]; returns its Y [S, B, H], final
  /// H and (LSTM) final C.
  SmallVector<Value> direction(Value x, int64_t d, Value w, Value r, Value bias,
                               Value lens, Value h0, Value c0, Value p);

private:
  Type elt() const { return cast<RankedTensorType>(xType).getElementType(); }
  RankedTensorType stateType() const {
    return RankedTensorType::get({xType.getDimSize(1), hidden}, elt());
  }
  Value zeros(RankedTensorType type, ArrayRef<OpFoldResult> sizes) {
    return buildFilled(b, loc, type, sizes, b.getZeroAttr(elt()));
  }
  /// Batch index b's sequence length as an index (S without sequence_lens).
  Value lengthOf(OpBuilder &nb, Location l, Value lens, Value batch) {
    if (!lens)
      return indexValue(nb, l, seqLen);
    Value v = nb.create<tensor::ExtractOp>(l, lens, ValueRange{batch});
    return nb.create<arith::IndexCastOp>(l, nb.getIndexType(), v);
  }
  /// `length - 1 - t`, clamped into [0, S - 1].
  Value reversedStep(OpBuilder &nb, Location l, Value length, Value t);
  Value gatherReversed(Value source, Value lens);
  Value unreverse(Value ys, Value lens);
  Value inputProjection(Value xs, Value w, Value bias, int64_t d);
  Value clipped(FloatMath &m, Value v) {
    if (!clip)
      return v;
    return m.min(m.max(v, m.c(-double(*clip))), m.c(double(*clip)));
  }
  Value act(FloatMath &m, int64_t d, int64_t i, Value v) {
    int64_t perDirection = cell.activations.size() / cell.directions;
    return applyActivation(m, cell.activations[d * perDirection + i],
                           clipped(m, v));
  }
  SmallVector<Value> step(OpBuilder &nb, Location l, Value t, Value xw, Value r,
                          Value rbh, Value lens, Value p, int64_t d,
                          ValueRange carried);
  Value gruResetHidden(OpBuilder &nb, Location l, Value xwt, Value hr, Value h,
                       int64_t d);

  OpBuilder &b;
  Location loc;
  const onnx::RecurrentCell &cell;
  int64_t hidden;
  bool linearBeforeReset, inputForget;
  std::optional<float> clip;
  RankedTensorType xType;
  OpFoldResult seqLen, batchSize;
};

Value RecurrentBuilder::reversedStep(OpBuilder &nb, Location l, Value length,
                                     Value t) {
  Value one = nb.create<arith::ConstantIndexOp>(l, 1);
  Value zero = nb.create<arith::ConstantIndexOp>(l, 0);
  Value last = nb.create<arith::SubIOp>(l, indexValue(nb, l, seqLen), one);
  Value i =
      nb.create<arith::SubIOp>(l, nb.create<arith::SubIOp>(l, length, one), t);
  return nb.create<arith::MinSIOp>(l, nb.create<arith::MaxSIOp>(l, i, zero),
                                   last);
}

/// source [S, B, F] read in each batch entry's reversed step order.
Value RecurrentBuilder::gatherReversed(Value source, Value lens) {
  auto type = cast<RankedTensorType>(source.getType());
  return buildIndexed(
      b, loc, type, tensor::getMixedSizes(b, loc, source), {}, {},
      [&](OpBuilder &nb, Location l, ValueRange, ArrayRef<Value> iv) {
        Value at = reversedStep(nb, l, lengthOf(nb, l, lens, iv[1]), iv[0]);
        return nb.create<tensor::ExtractOp>(l, source,
                                            ValueRange{at, iv[1], iv[2]});
      });
}

/// A reversed direction's step-ordered outputs ys [S, B, H] back in time
/// order: Y[t, b] = ys[len_b - 1 - t, b], 0 from len_b on.
Value RecurrentBuilder::unreverse(Value ys, Value lens) {
  auto type = cast<RankedTensorType>(ys.getType());
  return buildIndexed(
      b, loc, type, tensor::getMixedSizes(b, loc, ys), {}, {},
      [&](OpBuilder &nb, Location l, ValueRange, ArrayRef<Value> iv) {
        Value length = lengthOf(nb, l, lens, iv[1]);
        Value at = reversedStep(nb, l, length, iv[0]);
        Value v =
            nb.create<tensor::ExtractOp>(l, ys, ValueRange{at, iv[1], iv[2]});
        Value valid = nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt,
                                               iv[0], length);
        Value zero = nb.create<arith::ConstantOp>(l, nb.getZeroAttr(elt()));
        return nb.create<arith::SelectOp>(l, valid, v, zero);
      });
}

/// xs [S, B, I] W^T plus `bias` ([G*H], or zero) -> [S, B, G*H].
Value RecurrentBuilder::inputProjection(Value xs, Value w, Value bias,
                                        int64_t d) {
  int64_t gh = cell.gates * hidden;
  auto type = RankedTensorType::get(
      {xType.getDimSize(0), xType.getDimSize(1), gh}, elt());
  SmallVector<OpFoldResult> sizes = {seqLen, batchSize, b.getIndexAttr(gh)};
  Value init = zeros(type, sizes);
  if (bias) {
    MLIRContext *ctx = b.getContext();
    init = buildIndexed(b, loc, type, sizes, {bias},
                        {AffineMap::get(3, 0, {getAffineDimExpr(2, ctx)}, ctx)},
                        [](OpBuilder &, Location, ValueRange a,
                           ArrayRef<Value>) { return a[0]; });
  }
  return contractRows(b, loc, xs, w, init);
}

/// GRU without linear_before_reset: (r . H) R_h^T, with r from the first
/// 2H of the step's products `hr`.
Value RecurrentBuilder::gruResetHidden(OpBuilder &nb, Location l, Value xwt,
                                       Value hr, Value h, int64_t d) {
  AffineMap id = nb.getMultiDimIdentityMap(2);
  SmallVector<OpFoldResult> sizes = {batchSize, nb.getIndexAttr(hidden)};
  return buildIndexed(
      nb, l, stateType(), sizes,
      {columns(nb, l, xwt, hidden, hidden), columns(nb, l, hr, hidden, hidden),
       h},
      {id, id, id},
      [&](OpBuilder &bb, Location ll, ValueRange a, ArrayRef<Value>) {
        FloatMath m{bb, ll, elt()};
        Value reset = act(m, d, 0, m.add(a[0], a[1]));
        return m.mul(reset, a[2]);
      });
}

/// One step: the products of H with R, then the gates of the cell for every
/// [b, j]; yields the next H (and C) and the step's output row.
SmallVector<Value> RecurrentBuilder::step(OpBuilder &nb, Location l, Value t,
                                          Value xw, Value r, Value rbh,
                                          Value lens, Value p, int64_t d,
                                          ValueRange carried) {
  MLIRContext *ctx = nb.getContext();
  Value h = carried[0];
  Value c = isLSTM() ? carried[1] : Value();
  Value ys = carried.back();
  int64_t gh = cell.gates * hidden;
  Value xwt = sliceLeading(nb, l, xw, {t});
  SmallVector<OpFoldResult> sizes = {batchSize, nb.getIndexAttr(hidden)};
  // H R^T over every gate, or (GRU without linear_before_reset) over z and r,
  // and (r . H) R_h^T for h.
  bool resetFirst = isGRU() && !linearBeforeReset;
  int64_t products = resetFirst ? 2 * hidden : gh;
  Value rRows = r;
  if (resetFirst)
    rRows = sliceAlong(nb, l, r, 0, 0, products);
  auto productType =
      RankedTensorType::get({xType.getDimSize(1), products}, elt());
  Value hr =
      contractRows(nb, l, h, rRows,
                   zeros(productType, {batchSize, nb.getIndexAttr(products)}));
  Value hrh;
  if (resetFirst) {
    Value rh = gruResetHidden(nb, l, xwt, hr, h, d);
    Value rLast = sliceAlong(nb, l, r, 0, 2 * hidden, hidden);
    hrh = contractRows(nb, l, rh, rLast, zeros(stateType(), sizes));
  }

  // The gate generic over [b, j]: inputs xw_t and hr per gate, H, C, P, the
  // lengths; outputs H', C', y.
  AffineExpr i = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx);
  AffineMap id = nb.getMultiDimIdentityMap(2);
  AffineMap perColumn = AffineMap::get(2, 0, {j}, ctx);
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  auto read = [&](Value v, AffineMap map) {
    inputs.push_back(v);
    maps.push_back(map);
    return inputs.size() - 1;
  };
  SmallVector<size_t> xwAt, hrAt;
  for (int64_t g = 0; g < cell.gates; ++g) {
    xwAt.push_back(read(columns(nb, l, xwt, g * hidden, hidden), id));
    if (!resetFirst || g < 2)
      hrAt.push_back(read(columns(nb, l, hr, g * hidden, hidden), id));
  }
  size_t hrhAt = hrh ? read(hrh, id) : 0;
  size_t rbhAt = rbh ? read(rbh, perColumn) : 0;
  SmallVector<size_t> pAt;
  if (p)
    for (int64_t k = 0; k < 3; ++k)
      pAt.push_back(read(columns(nb, l, p, k * hidden, hidden), perColumn));
  size_t lensAt = lens ? read(lens, AffineMap::get(2, 0, {i}, ctx)) : 0;
  // The outputs update the carried H (and C) in place, and ys[t]; the body
  // reads the previous state from them.
  SmallVector<OpFoldResult> offsets = {t, nb.getIndexAttr(0),
                                       nb.getIndexAttr(0)};
  SmallVector<OpFoldResult> rowSizes = {nb.getIndexAttr(1), batchSize,
                                        nb.getIndexAttr(hidden)};
  SmallVector<OpFoldResult> strides(3, nb.getIndexAttr(1));
  Value row = nb.create<tensor::ExtractSliceOp>(l, stateType(), ys, offsets,
                                                rowSizes, strides);
  SmallVector<Value> inits = {h};
  if (c)
    inits.push_back(c);
  inits.push_back(row);
  size_t hAt = inputs.size(), cAt = hAt + 1;
  maps.append(inits.size(), id);
  SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
  auto gates = nb.create<linalg::GenericOp>(
      l, ValueRange(inits).getTypes(), inputs, inits, maps, iters,
      [&](OpBuilder &bb, Location ll, ValueRange a) {
        FloatMath m{bb, ll, elt()};
        auto pre = [&](int64_t g) {
          return g < int64_t(hrAt.size()) ? m.add(a[xwAt[g]], a[hrAt[g]])
                                          : a[xwAt[g]];
        };
        Value hPrev = a[hAt], hNext, cNext;
        if (cell.gates == 1) {
          hNext = act(m, d, 0, pre(0));
        } else if (isGRU()) {
          Value z = act(m, d, 0, pre(0));
          Value candidate;
          if (resetFirst) {
            candidate = act(m, d, 1, m.add(a[xwAt[2]], a[hrhAt]));
          } else {
            Value reset = act(m, d, 0, pre(1));
            Value rec = m.add(a[hrAt[2]], a[rbhAt]);
            candidate = act(m, d, 1, m.add(a[xwAt[2]], m.mul(reset, rec)));
          }
          // (1 - z) candidate + z H.
          Value keep = m.mul(z, hPrev);
          Value take = m.mul(m.sub(m.c(1.0), z), candidate);
          hNext = m.add(take, keep);
        } else {
          Value cPrev = a[cAt];
          auto peep = [&](int64_t g, int64_t k, Value cell) {
            Value v = pre(g);
            return pAt.empty() ? v : m.add(v, m.mul(a[pAt[k]], cell));
          };
          Value in = act(m, d, 0, peep(0, 0, cPrev));
          Value forget = inputForget ? m.sub(m.c(1.0), in)
                                     : act(m, d, 0, peep(2, 2, cPrev));
          Value candidate = act(m, d, 1, pre(3));
          Value kept = m.mul(forget, cPrev);
          Value added = m.mul(in, candidate);
          cNext = m.add(kept, added);
          Value out = act(m, d, 0, peep(1, 1, cNext));
          int64_t perDirection = cell.activations.size() / cell.directions;
          hNext =
              m.mul(out, applyActivation(
                             m, cell.activations[d * perDirection + 2], cNext));
        }
        // Steps past the batch entry's length keep the state, output 0.
        Value y = hNext;
        if (lens) {
          Value length =
              bb.create<arith::IndexCastOp>(ll, bb.getIndexType(), a[lensAt]);
          Value valid = bb.create<arith::CmpIOp>(ll, arith::CmpIPredicate::slt,
                                                 t, length);
          y = m.select(valid, hNext, m.c(0.0));
          hNext = m.select(valid, hNext, hPrev);
          if (cNext)
            cNext = m.select(valid, cNext, a[cAt]);
        }
        SmallVector<Value> yields = {hNext};
        if (cNext)
          yields.push_back(cNext);
        yields.push_back(y);
        bb.create<linalg::YieldOp>(ll, yields);
      });
  SmallVector<Value> next(gates.getResults());
  // A state the cell does not read (H of RNN and LSTM cells without
  // sequence_lens) goes back to the loop's buffer explicitly: elementwise
  // fusion gives an unread output a new tensor, which the loop could not
  // carry in place.
  Block &body = gates.getRegion().front();
  for (size_t k = 0; k + 1 < inits.size(); ++k)
    if (body.getArgument(hAt + k).use_empty())
      next[k] = nb.create<bufferization::MaterializeInDestinationOp>(
                      l, next[k], inits[k])
                    .getResult();
  // The step's output row goes to ys[t].
  row = next.pop_back_val();
  next.push_back(
      nb.create<tensor::InsertSliceOp>(l, row, ys, offsets, rowSizes, strides));
  return next;
}

SmallVector<Value> RecurrentBuilder::direction(Value x, int64_t d, Value w,
                                               Value r, Value bias, Value lens,
                                               Value h0, Value c0, Value p) {
  xType = cast<RankedTensorType>(x.getType());
  SmallVector<OpFoldResult> xSizes = tensor::getMixedSizes(b, loc, x);
  seqLen = xSizes[0];
  batchSize = xSizes[1];
  bool backwards = cell.reverse || d == 1;
  int64_t gh = cell.gates * hidden;
  // Biases: Wb + Rb go into the projections, except GRU's Rb_h with
  // linear_before_reset, which the reset gate scales.
  Value xBias, rbh;
  if (bias) {
    auto biasType = RankedTensorType::get({gh}, elt());
    MLIRContext *ctx = b.getContext();
    AffineExpr g = getAffineDimExpr(0, ctx);
    bool keepRbh = isGRU() && linearBeforeReset;
    xBias = buildIndexed(
        b, loc, biasType, {b.getIndexAttr(gh)},
        {columns(b, loc, bias, 0, gh), columns(b, loc, bias, gh, gh)},
        {AffineMap::get(1, 0, {g}, ctx), AffineMap::get(1, 0, {g}, ctx)},
        [&](OpBuilder &nb, Location l, ValueRange a, ArrayRef<Value> iv) {
          if (!keepRbh)
            return Value(nb.create<arith::AddFOp>(l, a[0], a[1]));
          Value inH = nb.create<arith::CmpIOp>(
              l, arith::CmpIPredicate::sge, iv[0],
              nb.create<arith::ConstantIndexOp>(l, 2 * hidden));
          Value sum = nb.create<arith::AddFOp>(l, a[0], a[1]);
          return Value(nb.create<arith::SelectOp>(l, inH, a[0], sum));
        });
    if (keepRbh)
      rbh = columns(b, loc, bias, gh + 2 * hidden, hidden);
  } else if (isGRU() && linearBeforeReset) {
    rbh =
        zeros(RankedTensorType::get({hidden}, elt()), {b.getIndexAttr(hidden)});
  }
  Value xs = backwards ? gatherReversed(x, lens) : x;
  Value xw = inputProjection(xs, w, xBias, d);

  SmallVector<OpFoldResult> stateSizes = {batchSize, b.getIndexAttr(hidden)};
  SmallVector<Value> carried = {h0 ? h0 : zeros(stateType(), stateSizes)};
  if (isLSTM())
    carried.push_back(c0 ? c0 : zeros(stateType(), stateSizes));
  auto ysType = RankedTensorType::get(
      {xType.getDimSize(0), xType.getDimSize(1), hidden}, elt());
  carried.push_back(
      buildEmpty(b, loc, ysType, {seqLen, batchSize, b.getIndexAttr(hidden)}));
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value one = b.create<arith::ConstantIndexOp>(loc, 1);
  auto loop = b.create<scf::ForOp>(
      loc, zero, indexValue(b, loc, seqLen), one, carried,
      [&](OpBuilder &nb, Location l, Value t, ValueRange iter) {
        nb.create<scf::YieldOp>(l,
                                step(nb, l, t, xw, r, rbh, lens, p, d, iter));
      });
  SmallVector<Value> results(loop.getResults());
  Value ys = results.pop_back_val();
  results.insert(results.begin(), backwards ? unreverse(ys, lens) : ys);
  return results;
}

/// Stacks per-direction [A, B, H] values into [A, dirs, B, H] (`atOne`) or
/// [dirs, B, H].
Value stackDirections(OpBuilder &b, Location loc, ArrayRef<Value> parts,
                      bool atOne) {
  auto type = cast<RankedTensorType>(parts[0].getType());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, parts[0]);
  SmallVector<int64_t> shape(type.getShape());
  int64_t axis = atOne ? 1 : 0;
  shape.insert(shape.begin() + axis, parts.size());
  SmallVector<OpFoldResult> outSizes(sizes);
  outSizes.insert(outSizes.begin() + axis, b.getIndexAttr(parts.size()));
  Value out = buildEmpty(
      b, loc, RankedTensorType::get(shape, type.getElementType()), outSizes);
  for (auto [d, part] : llvm::enumerate(parts)) {
    SmallVector<OpFoldResult> offsets(shape.size(), b.getIndexAttr(0));
    offsets[axis] = b.getIndexAttr(d);
    SmallVector<OpFoldResult> partSizes(sizes);
    partSizes.insert(partSizes.begin() + axis, b.getIndexAttr(1));
    SmallVector<OpFoldResult> strides(shape.size(), b.getIndexAttr(1));
    out = b.create<tensor::InsertSliceOp>(loc, part, out, offsets, partSizes,
                                          strides);
  }
  return out;
}

template <typename OpTy> struct RecurrentLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::string why;
    auto cell = onnx::describeRecurrentCell(op, why);
    if (failed(cell))
      return rewriter.notifyMatchFailure(op, why);
    Location loc = op.getLoc();
    auto rType = dyn_cast<RankedTensorType>(adaptor.getR().getType());
    if (!rType || !rType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "needs a static R");
    int64_t hidden = rType.getDimSize(2);
    bool layout1 = op.getLayout() == 1;
    Value x = adaptor.getX();
    if (layout1)
      x = buildTranspose(rewriter, loc, x, {1, 0, 2});
    bool lbr = false, inputForget = false;
    Value c0All, pAll;
    if constexpr (std::is_same_v<OpTy, onnx::GRUOp>)
      lbr = op.getLinearBeforeReset() != 0;
    if constexpr (std::is_same_v<OpTy, onnx::LSTMOp>) {
      inputForget = op.getInputForget() != 0;
      c0All = adaptor.getInitialC();
      pAll = adaptor.getP();
    }
    std::optional<float> clip;
    if (auto c = op.getClipAttr())
      clip = c.getValueAsDouble();
    RecurrentBuilder builder(rewriter, loc, *cell, hidden, lbr, inputForget,
                             clip);
    // A state [dirs, B, H] (layout 1: [B, dirs, H]) for direction d.
    auto stateOf = [&](Value all, int64_t d) -> Value {
      if (!all)
        return {};
      if (layout1)
        all = buildTranspose(rewriter, loc, all, {1, 0, 2});
      return sliceLeading(rewriter, loc, all, {rewriter.getIndexAttr(d)});
    };
    SmallVector<Value> ys, hs, cs;
    for (int64_t d = 0; d < cell->directions; ++d) {
      auto at = [&](Value v) -> Value {
        return v ? sliceLeading(rewriter, loc, v, {rewriter.getIndexAttr(d)})
                 : Value();
      };
      SmallVector<Value> out = builder.direction(
          x, d, at(adaptor.getW()), at(adaptor.getR()), at(adaptor.getB()),
          adaptor.getSequenceLens(), stateOf(adaptor.getInitialH(), d),
          stateOf(c0All, d), at(pAll));
      ys.push_back(out[0]);
      hs.push_back(out[1]);
      if (out.size() > 2)
        cs.push_back(out[2]);
    }
    SmallVector<Value> results = {stackDirections(rewriter, loc, ys, true),
                                  stackDirections(rewriter, loc, hs, false)};
    if (!cs.empty())
      results.push_back(stackDirections(rewriter, loc, cs, false));
    if (layout1) {
      results[0] = buildTranspose(rewriter, loc, results[0], {2, 0, 1, 3});
      for (Value &state : MutableArrayRef<Value>(results).drop_front())
        state = buildTranspose(rewriter, loc, state, {1, 0, 2});
    }
    results.resize(op->getNumResults());
    for (auto [value, old] : llvm::zip(results, op->getResults())) {
      Type want = this->getTypeConverter()->convertType(old.getType());
      if (want && want != value.getType())
        value = rewriter.create<tensor::CastOp>(loc, want, value);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

std::optional<std::string> tessera::recurrentProblem(Operation *op) {
  if (!isa<onnx::RNNOp, onnx::GRUOp, onnx::LSTMOp>(op))
    return std::nullopt;
  auto x = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  if (!x || !isa<FloatType>(x.getElementType()))
    return std::string("needs a ranked float input X");
  auto r = dyn_cast<RankedTensorType>(op->getOperand(2).getType());
  if (!r || !r.hasStaticShape())
    return std::string("needs R's shape (directions, gates x hidden, hidden) "
                       "known at compile time");
  return std::nullopt;
}

void tessera::populateONNXRecurrentToLinalgPatterns(
    TypeConverter &tc, RewritePatternSet &patterns) {
  patterns.add<RecurrentLowering<onnx::RNNOp>, RecurrentLowering<onnx::GRUOp>,
               RecurrentLowering<onnx::LSTMOp>>(tc, patterns.getContext());
}
