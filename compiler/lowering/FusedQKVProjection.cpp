//===- FusedQKVProjection.cpp - tessera.qkv_projection to linalg ----------===//
//
// Part of Tessera. One GEMM of the flattened input [d0 * d1, E] (d0 and d1
// static or dynamic) with the packed constant weight [E, (sum of the
// results' heads) * Dh] (a linalg.matmul, so tessera-vectorize-matmul packs
// and tiles it like every other projection), the bias added after it (an
// epilogue); then each result is its column block viewed as [d0, d1, H, Dh]
// and transposed into [B, H, S, Dh] (a transpose the attention kernel reads
// through in place).
//
// With rotary results (Q and K rotated as by onnx.RotaryEmbedding), the
// weight's columns are regrouped at compile time: the first features x1 of
// every rotated pair, the second features x2, then the rest (the features
// past rotary_dim, and the results that are not rotated). The x1 and x2
// products share one epilogue that rotates them,
//   x1' = x1 * cos - x2 * sin,   x2' = x2 * cos + x1 * sin,
// reading the cos and sin rows of each row's position (`d1 mod half` in
// its indexing maps: the column within the head). tessera-vectorize-matmul
// packs both weights into shared panels and applies the epilogue to the
// register tiles, so Q and K are stored once, rotated. Each product is
// then transposed into its features of the results.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/KernelShapes.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/OpBuilders.h"
#include "compiler/transforms/MatchUtils.h"
#include "dialects/tessera/TesseraDialect.h"

using namespace mlir;
using namespace tessera::lowering;
namespace fused = tessera::fused;

namespace {

/// Features [offset, offset + stride * width) by `stride` of `heads` heads
/// of result `result`, from head `firstHead` of a product (its heads in
/// that product start at `productHead`).
struct Segment {
  int64_t result, firstHead, heads, width, offset, stride, productHead;
};

/// A product X W of the regrouped weight columns, viewed as
/// [rows, heads * width], and where its heads go.
struct Product {
  Value value;
  Value view; // [d0, d1, heads, width], made by assemble
  int64_t width = 0;
  SmallVector<Segment> segments;
};

/// The lowering of one op: see the file comment.
class QKVProjectionBuilder {
public:
  QKVProjectionBuilder(ConversionPatternRewriter &b, fused::QKVProjectionOp op,
                       Value x, RankedTensorType xt)
      : b(b), op(op), loc(op.getLoc()), xt(xt), elt(xt.getElementType()) {
    headCounts = op.headCounts();
    headDim = op.headDim();
    d0 = tensor::getMixedSize(b, loc, x, 0);
    d1 = tensor::getMixedSize(b, loc, x, 1);
    x2d = b.create<tensor::CollapseShapeOp>(
        loc, x, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    rows = tessera::kernels::mulSizes(b, loc, d0, d1);
  }

  /// The whole packed weight and bias, one product.
  Product plain(Value w, Value bias) {
    Product p;
    p.width = headDim;
    p.value = matmul(w, bias, cast<RankedTensorType>(w.getType()).getDimSize(1));
    int64_t first = 0;
    for (auto [i, heads] : llvm::enumerate(headCounts)) {
      p.segments.push_back({int64_t(i), 0, heads, headDim, 0, 1, first});
      first += heads;
    }
    return p;
  }

  /// The rotary products (see the file comment), or empty if the weight or
  /// the bias is not a constant. The regrouped weights and biases are f32
  /// (16-bit ones widened); the rotation computes in f32 and rounds once.
  SmallVector<Product> rotary(Value cos, Value sin, Value ids) {
    std::optional<std::vector<float>> w = tessera::readFloatConstant(op.getW());
    std::optional<std::vector<float>> bias;
    if (op.getBias() && !(bias = tessera::readFloatConstant(op.getBias())))
      return {};
    if (!w)
      return {};
    ArrayRef<int64_t> rotated = *op.getRotaryResults();
    int64_t features = op.rotatedFeatures(), half = features / 2;
    bool interleaved = op.getRotaryInterleaved();
    // The regrouped columns and segments of x1, x2, the rotated results'
    // other features and the results that are not rotated.
    SmallVector<Product> products(4);
    SmallVector<SmallVector<int64_t>> columns(4);
    products[0].width = products[1].width = half;
    products[2].width = headDim - features;
    products[3].width = headDim;
    int64_t firstHead = 0;
    for (auto [i, heads] : llvm::enumerate(headCounts)) {
      auto addHeads = [&](int64_t p, int64_t offset, int64_t stride,
                          function_ref<int64_t(int64_t)> feature) {
        Product &product = products[p];
        if (product.width == 0)
          return;
        int64_t before = columns[p].size() / product.width;
        product.segments.push_back(
            {int64_t(i), 0, heads, product.width, offset, stride, before});
        for (int64_t h = 0; h < heads; ++h)
          for (int64_t f = 0; f < product.width; ++f)
            columns[p].push_back((firstHead + h) * headDim + feature(f));
      };
      if (llvm::is_contained(rotated, int64_t(i))) {
        addHeads(0, 0, interleaved ? 2 : 1,
                 [&](int64_t f) { return interleaved ? 2 * f : f; });
        addHeads(1, interleaved ? 1 : half, interleaved ? 2 : 1,
                 [&](int64_t f) { return interleaved ? 2 * f + 1 : half + f; });
        addHeads(2, features, 1, [&](int64_t f) { return features + f; });
      } else {
        addHeads(3, 0, 1, [](int64_t f) { return f; });
      }
      firstHead += heads;
    }
    int64_t k = xt.getDimSize(2), packed = firstHead * headDim;
    SmallVector<Value> weights, biases;
    for (const SmallVector<int64_t> &cols : columns) {
      int64_t n = cols.size();
      std::vector<float> wp(k * n), bp(n);
      for (int64_t r = 0; r < k; ++r)
        for (int64_t c = 0; c < n; ++c)
          wp[r * n + c] = (*w)[r * packed + cols[c]];
      for (int64_t c = 0; bias && c < n; ++c)
        bp[c] = (*bias)[cols[c]];
      weights.push_back(constant({k, n}, wp));
      biases.push_back(bias ? constant({n}, bp) : Value());
    }
    // The x1 and x2 products with the rotation as their epilogue (bias
    // added first); the others are plain products.
    Value p1 = product(weights[0], columns[0].size());
    Value p2 = product(weights[1], columns[1].size());
    Type acc = accumulatorType(elt);
    checkIds(ids);
    Value cosRows = rowTable(cos, ids), sinRows = rowTable(sin, ids);
    MLIRContext *ctx = b.getContext();
    AffineExpr r = getAffineDimExpr(0, ctx), c = getAffineDimExpr(1, ctx);
    AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
    AffineMap column = AffineMap::get(2, 0, {c}, ctx);
    AffineMap table = AffineMap::get(2, 0, {r, c % half}, ctx);
    SmallVector<Value> inputs = {p1, p2};
    SmallVector<AffineMap> maps = {id, id};
    if (bias) {
      inputs.append({biases[0], biases[1]});
      maps.append({column, column});
    }
    inputs.append({cosRows, sinRows});
    maps.append({table, table, id, id});
    SmallVector<OpFoldResult> sizes = {rows, b.getIndexAttr(columns[0].size())};
    SmallVector<Value> inits = {b.create<tensor::EmptyOp>(loc, sizes, elt),
                                b.create<tensor::EmptyOp>(loc, sizes, elt)};
    SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
    auto rotation = b.create<linalg::GenericOp>(
        loc, TypeRange{inits[0].getType(), inits[1].getType()}, inputs, inits,
        maps, iters, [&](OpBuilder &nb, Location l, ValueRange a) {
          auto wide = [&](Value v) {
            return convertScalar(nb, l, v, acc, false, false);
          };
          Value x1 = a[0], x2 = a[1];
          size_t t = 2;
          if (bias) {
            x1 = nb.create<arith::AddFOp>(l, x1, a[2]);
            x2 = nb.create<arith::AddFOp>(l, x2, a[3]);
            t = 4;
          }
          Value cs = wide(a[t]), sn = wide(a[t + 1]);
          Value y1 = nb.create<arith::SubFOp>(
              l, nb.create<arith::MulFOp>(l, x1, cs),
              nb.create<arith::MulFOp>(l, x2, sn));
          Value y2 = nb.create<arith::AddFOp>(
              l, nb.create<arith::MulFOp>(l, x2, cs),
              nb.create<arith::MulFOp>(l, x1, sn));
          nb.create<linalg::YieldOp>(
              l, ValueRange{convertScalar(nb, l, y1, elt, false, false),
                            convertScalar(nb, l, y2, elt, false, false)});
        });
    products[0].value = rotation.getResult(0);
    products[1].value = rotation.getResult(1);
    for (int64_t p : {2, 3})
      if (!columns[p].empty())
        products[p].value = matmul(weights[p], biases[p], columns[p].size());
    SmallVector<Product> used;
    for (Product &p : products)
      if (p.value)
        used.push_back(std::move(p));
    return used;
  }

  /// Every result, its segments transposed from [d0, d1, H, w] into
  /// [B, H, S, w] and inserted into its features.
  SmallVector<Value> assemble(MutableArrayRef<Product> products) {
    SmallVector<int64_t> perm = op.getSeqFirst()
                                    ? SmallVector<int64_t>{1, 2, 0, 3}
                                    : SmallVector<int64_t>{0, 2, 1, 3};
    SmallVector<Value> results;
    for (auto [i, heads] : llvm::enumerate(headCounts)) {
      SmallVector<OpFoldResult> viewSizes = {d0, d1, index(heads),
                                             index(headDim)};
      SmallVector<OpFoldResult> outSizes;
      for (int64_t p : perm)
        outSizes.push_back(viewSizes[p]);
      Value dest = b.create<tensor::EmptyOp>(loc, outSizes, elt);
      for (Product &product : products)
        for (const Segment &s : product.segments) {
          if (s.result != int64_t(i))
            continue;
          Value view = headView(product, s);
          bool whole = s.width == headDim;
          SmallVector<OpFoldResult> offsets(4, index(0)), sizes = outSizes,
              strides(4, index(1));
          offsets[3] = index(s.offset);
          sizes[3] = index(s.width);
          strides[3] = index(s.stride);
          Value into =
              whole ? dest
                    : b.create<tensor::ExtractSliceOp>(loc, dest, offsets,
                                                       sizes, strides);
          Value t =
              b.create<linalg::TransposeOp>(loc, view, into, perm)->getResult(0);
          dest = whole ? t
                       : b.create<tensor::InsertSliceOp>(loc, t, dest, offsets,
                                                         sizes, strides);
        }
      results.push_back(dest);
    }
    return results;
  }

private:
  OpFoldResult index(int64_t v) { return b.getIndexAttr(v); }

  Value constant(ArrayRef<int64_t> shape, ArrayRef<float> values) {
    auto type = RankedTensorType::get(shape, b.getF32Type());
    return b.create<arith::ConstantOp>(loc,
                                       DenseElementsAttr::get(type, values));
  }

  /// X W over [rows, E] x [E, n] from a zero accumulator, in f32 for 16-bit
  /// floats (X widened once, a 16-bit weight at compile time).
  Value product(Value w, int64_t n) {
    Type acc = accumulatorType(elt);
    Value x = x2d;
    if (acc != elt) {
      if (!wideX)
        wideX = widenToF32(b, loc, x2d);
      x = wideX;
      w = widenToF32(b, loc, w);
    }
    SmallVector<OpFoldResult> cSizes = {rows, index(n)};
    Value init = b.create<tensor::EmptyOp>(loc, cSizes, acc);
    Value zero = b.create<arith::ConstantOp>(loc, b.getZeroAttr(acc));
    Value filled = b.create<linalg::FillOp>(loc, zero, init).getResult(0);
    return b
        .create<linalg::MatmulOp>(loc, TypeRange{init.getType()},
                                  ValueRange{x, w}, ValueRange{filled})
        .getResult(0);
  }

  /// X W + bias, in `elt`: the bias is added after the product (an epilogue
  /// that tessera-pack-matmul-weights fuses into the register tiles), not
  /// broadcast into the accumulator first; a 16-bit result is rounded once,
  /// after the bias.
  Value matmul(Value w, Value bias, int64_t n) {
    Value p = product(w, n);
    auto accType = cast<RankedTensorType>(p.getType());
    Type acc = accType.getElementType();
    auto outType = accType.clone(elt);
    if (!bias)
      return acc == elt ? p : convertElements(b, loc, outType, p);
    SmallVector<OpFoldResult> cSizes = {rows, index(n)};
    Value out = b.create<tensor::EmptyOp>(loc, cSizes, elt);
    MLIRContext *ctx = b.getContext();
    AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
    AffineMap maps[] = {id, AffineMap::get(2, 0, getAffineDimExpr(1, ctx)), id};
    SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
    return b
        .create<linalg::GenericOp>(
            loc, outType, ValueRange{p, bias}, ValueRange{out}, maps, iters,
            [&](OpBuilder &nb, Location l, ValueRange a) {
              Value sum = nb.create<arith::AddFOp>(
                  l, a[0], convertScalar(nb, l, a[1], acc, false, false));
              nb.create<linalg::YieldOp>(
                  l, convertScalar(nb, l, sum, elt, false, false));
            })
        .getResult(0);
  }

  /// The heads of segment `s` of `product`, viewed as [d0, d1, H, w].
  Value headView(Product &product, const Segment &s) {
    auto type = cast<RankedTensorType>(product.value.getType());
    int64_t total = type.getDimSize(1) / product.width;
    SmallVector<int64_t> shape = {xt.getDimSize(0), xt.getDimSize(1), total,
                                  product.width};
    if (!product.view)
      product.view = b.create<tensor::ExpandShapeOp>(
          loc, RankedTensorType::get(shape, elt), product.value,
          ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}},
          ArrayRef<OpFoldResult>{d0, d1, index(total), index(product.width)});
    Value view = product.view;
    if (s.productHead == 0 && s.heads == total)
      return view;
    shape[2] = s.heads;
    SmallVector<OpFoldResult> offsets = {index(0), index(0),
                                         index(s.productHead), index(0)};
    SmallVector<OpFoldResult> sizes = {d0, d1, index(s.heads),
                                       index(product.width)};
    return b.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get(shape, elt), view, offsets, sizes,
        SmallVector<OpFoldResult>(4, index(1)));
  }

  /// Run-time checks that ids ([B, S], or [1, S] for every batch) match X.
  void checkIds(Value ids) {
    if (!ids)
      return;
    bool seqFirst = op.getSeqFirst();
    OpFoldResult batch = seqFirst ? d1 : d0, seq = seqFirst ? d0 : d1;
    if (cast<RankedTensorType>(ids.getType()).getDimSize(0) != 1)
      checkSameSize(b, loc, tensor::getMixedSize(b, loc, ids, 0), batch,
                    "position_ids must have the batch size of X");
    checkSameSize(b, loc, tensor::getMixedSize(b, loc, ids, 1), seq,
                  "position_ids must have the sequence length of X");
  }

  /// The rows of `table` ([P, half]) of each row's position, [rows, half]:
  /// the position id of its batch and sequence index (ids [B, S] or
  /// [1, S]), or without ids the sequence index, clamped into [0, P).
  Value rowTable(Value table, Value ids) {
    auto tt = cast<RankedTensorType>(table.getType());
    int64_t half = tt.getDimSize(1);
    bool seqFirst = op.getSeqFirst();
    bool sharedIds =
        ids && cast<RankedTensorType>(ids.getType()).getDimSize(0) == 1;
    Value positions = b.create<tensor::DimOp>(loc, table, 0);
    auto type = RankedTensorType::get(
        {xt.getDimSize(0), xt.getDimSize(1), half}, elt);
    Value gathered = buildIndexed(
        b, loc, type, {d0, d1, index(half)}, ValueRange{}, {},
        [&](OpBuilder &nb, Location l, ValueRange, ArrayRef<Value> idx) {
          Value bIdx = seqFirst ? idx[1] : idx[0];
          Value sIdx = seqFirst ? idx[0] : idx[1];
          Value position;
          if (ids) {
            Value row = sharedIds ? nb.create<arith::ConstantIndexOp>(l, 0)
                                  : bIdx;
            position = nb.create<tensor::ExtractOp>(l, ids,
                                                    ValueRange{row, sIdx});
          } else {
            position =
                nb.create<arith::IndexCastOp>(l, nb.getI64Type(), sIdx);
          }
          Value p = clampedIndex(nb, l, position, positions);
          return nb.create<tensor::ExtractOp>(l, table, ValueRange{p, idx[2]})
              .getResult();
        });
    auto flat = RankedTensorType::get(
        {ShapedType::isDynamic(xt.getDimSize(0)) ||
                 ShapedType::isDynamic(xt.getDimSize(1))
             ? ShapedType::kDynamic
             : xt.getDimSize(0) * xt.getDimSize(1),
         half},
        elt);
    return b.create<tensor::CollapseShapeOp>(
        loc, flat, gathered, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
  }

  ConversionPatternRewriter &b;
  fused::QKVProjectionOp op;
  Location loc;
  RankedTensorType xt;
  Type elt;
  SmallVector<int64_t> headCounts;
  int64_t headDim = 0;
  OpFoldResult d0, d1, rows;
  Value x2d;
  Value wideX; // x2d in f32, for 16-bit floats
};

struct QKVProjectionLowering : OpConversionPattern<fused::QKVProjectionOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(fused::QKVProjectionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    const TypeConverter *tc = getTypeConverter();
    auto xt = dyn_cast_or_null<RankedTensorType>(
        tc->convertType(op.getX().getType()));
    auto wt = staticType(tc, op.getW());
    if (!xt || !wt || (op.getBias() && !staticType(tc, op.getBias())))
      return rewriter.notifyMatchFailure(op, "needs a static weight and bias");
    if (ShapedType::isDynamic(xt.getDimSize(2)) || op.headDim() <= 0)
      return rewriter.notifyMatchFailure(op, "needs a static embedding size");
    bool rotary = op.getRotaryResults().has_value();
    if (rotary && (!staticType(tc, op.getCosCache()) ||
                   !staticType(tc, op.getSinCache())))
      return rewriter.notifyMatchFailure(op, "needs static cos/sin tables");
    QKVProjectionBuilder builder(rewriter, op, adaptor.getX(), xt);
    SmallVector<Product> products;
    if (rotary) {
      products = builder.rotary(adaptor.getCosCache(), adaptor.getSinCache(),
                                adaptor.getPositionIds());
      if (products.empty())
        return rewriter.notifyMatchFailure(
            op, "rotary results need constant weights and bias");
    } else {
      products = {builder.plain(adaptor.getW(), adaptor.getBias())};
    }
    SmallVector<Value> results = builder.assemble(products);
    for (auto [result, out] : llvm::zip(results, op.getOutputs())) {
      Type want = tc->convertType(out.getType());
      if (result.getType() != want)
        result = rewriter.create<tensor::CastOp>(op.getLoc(), want, result);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

namespace tessera {

void populateFusedQKVProjectionToLinalgPatterns(TypeConverter &converter,
                                                RewritePatternSet &patterns) {
  patterns.add<QKVProjectionLowering>(converter, patterns.getContext());
}

} // namespace tessera
