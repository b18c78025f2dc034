//===- Conv.cpp - onnx.Conv as im2col plus GEMMs --------------------------===//
//
// Part of Tessera. A convolution becomes the same register-tiled matmuls as
// MatMul: the input (padded if needed) is unfolded into columns,
//   col[n, c*K + k, p] = x[n, c, p*stride + k*dilation]   (per spatial dim),
// so that for each batch element n and group g
//   y[n, g*Fg:(g+1)*Fg, :] = W[g*Fg:(g+1)*Fg, :] x col[n, g*Kg:(g+1)*Kg, :]
// (a loop over n, and over g if grouped) is a [Fg, Kg] x [Kg, P] matmul with static shapes (P = output pixels), and
// its result is already in NC(spatial) order: no transposes. The unfold is
// one linalg.generic; a patch embedding (stride = kernel) reads each input
// element once. Only the batch may be dynamic.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

/// Strides, dilations and pads of a convolution with `spatial` dims, with
/// auto_pad resolved against the static input and kernel sizes.
struct ConvGeometry {
  SmallVector<int64_t> strides, dilations, padsLo, padsHi;

  ConvGeometry(onnx::ConvOp op, RankedTensorType xt, RankedTensorType wt) {
    int64_t spatial = xt.getRank() - 2;
    auto ints = [&](std::optional<ArrayAttr> attr, size_t n, int64_t dflt) {
      SmallVector<int64_t> v(n, dflt);
      if (attr && attr->size() == n)
        for (size_t i = 0; i < n; ++i)
          v[i] = cast<IntegerAttr>((*attr)[i]).getInt();
      return v;
    };
    strides = ints(op.getStrides(), spatial, 1);
    dilations = ints(op.getDilations(), spatial, 1);
    SmallVector<int64_t> pads = ints(op.getPads(), 2 * spatial, 0);
    StringRef autoPad = op.getAutoPad();
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      for (int64_t i = 0; i < spatial; ++i) {
        int64_t in = xt.getDimSize(i + 2), k = wt.getDimSize(i + 2);
        int64_t out = (in + strides[i] - 1) / strides[i];
        int64_t total = std::max<int64_t>(
            0, (out - 1) * strides[i] + (k - 1) * dilations[i] + 1 - in);
        int64_t small = total / 2, big = total - small;
        pads[i] = autoPad == "SAME_UPPER" ? small : big;
        pads[i + spatial] = autoPad == "SAME_UPPER" ? big : small;
      }
    } else if (autoPad == "VALID") {
      pads.assign(2 * spatial, 0);
    }
    padsLo.assign(pads.begin(), pads.begin() + spatial);
    padsHi.assign(pads.begin() + spatial, pads.end());
  }

  bool padded() const {
    return llvm::any_of(padsLo, [](int64_t p) { return p != 0; }) ||
           llvm::any_of(padsHi, [](int64_t p) { return p != 0; });
  }
};

/// `x` [N, C, spatial...] with zeros added around the spatial dims, as a
/// zero fill with `x` inserted (tensor.pad's bufferization in LLVM 19 reads
/// the dims of its result buffer before allocating it when N is dynamic).
Value pad(OpBuilder &b, Location loc, Value x, const ConvGeometry &geom) {
  auto xt = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(xt.getShape());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
  SmallVector<OpFoldResult> offsets(2, b.getIndexAttr(0));
  for (auto [i, lo, hi] : llvm::enumerate(geom.padsLo, geom.padsHi)) {
    shape[i + 2] += lo + hi;
    offsets.push_back(b.getIndexAttr(lo));
  }
  auto type = RankedTensorType::get(shape, xt.getElementType());
  SmallVector<OpFoldResult> padded(sizes);
  for (int64_t i = 2; i < xt.getRank(); ++i)
    padded[i] = b.getIndexAttr(shape[i]);
  Value zeros =
      buildFilled(b, loc, type, padded, b.getZeroAttr(xt.getElementType()));
  SmallVector<OpFoldResult> strides(xt.getRank(), b.getIndexAttr(1));
  return b.create<tensor::InsertSliceOp>(loc, x, zeros, offsets, sizes,
                                         strides);
}

/// The unfolded input [N, C * prod(kernel), prod(out)] of (padded) `x`.
Value unfold(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> kernel,
             ArrayRef<int64_t> out, const ConvGeometry &geom) {
  auto xt = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  int64_t spatial = kernel.size();
  // Iteration space (n, c, k_0.., o_0..); x is read at (n, c, o*s + k*d).
  unsigned rank = 2 + 2 * spatial;
  SmallVector<AffineExpr> read = {getAffineDimExpr(0, ctx),
                                  getAffineDimExpr(1, ctx)};
  for (int64_t i = 0; i < spatial; ++i)
    read.push_back(getAffineDimExpr(2 + spatial + i, ctx) * geom.strides[i] +
                   getAffineDimExpr(2 + i, ctx) * geom.dilations[i]);
  SmallVector<int64_t> shape = {xt.getDimSize(0), xt.getDimSize(1)};
  shape.append(kernel.begin(), kernel.end());
  shape.append(out.begin(), out.end());
  auto type = RankedTensorType::get(shape, xt.getElementType());
  SmallVector<OpFoldResult> sizes;
  for (int64_t d : shape)
    sizes.push_back(b.getIndexAttr(d));
  sizes[0] = tensor::getMixedSize(b, loc, x, 0);
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, read, ctx),
                                 b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  Value cols =
      b.create<linalg::GenericOp>(
           loc, TypeRange{type}, ValueRange{x},
           ValueRange{buildEmpty(b, loc, type, sizes)}, maps, iters,
           [](OpBuilder &nb, Location l, ValueRange a) {
             nb.create<linalg::YieldOp>(l, a[0]);
           })
          .getResult(0);
  SmallVector<ReassociationIndices> groups = {{0}, {1}, {}};
  for (int64_t i = 0; i < spatial; ++i) {
    groups[1].push_back(2 + i);
    groups[2].push_back(2 + spatial + i);
  }
  return b.create<tensor::CollapseShapeOp>(loc, cols, groups);
}

struct ConvLowering : OpConversionPattern<onnx::ConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(onnx::ConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto xt = rankedType(getTypeConverter(), op.getX());
    auto wt = staticType(getTypeConverter(), op.getW());
    auto outType = rankedType(getTypeConverter(), op.getY());
    // Only the batch may be dynamic (checked before conversion).
    if (!xt || !wt || !outType ||
        llvm::any_of(xt.getShape().drop_front(), ShapedType::isDynamic) ||
        llvm::any_of(outType.getShape().drop_front(), ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    int64_t spatial = xt.getRank() - 2;
    int64_t groups = op.getGroup();
    int64_t filters = wt.getDimSize(0);
    if (spatial < 1 || spatial > 3 || groups < 1 ||
        xt.getDimSize(1) != groups * wt.getDimSize(1) || filters % groups != 0)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    Type elt = outType.getElementType();
    ConvGeometry geom(op, xt, wt);

    Value x = adaptor.getX();
    if (geom.padded())
      x = pad(rewriter, loc, x, geom);
    ArrayRef<int64_t> kernel = wt.getShape().drop_front(2);
    ArrayRef<int64_t> out = outType.getShape().drop_front(2);
    Value cols = unfold(rewriter, loc, x, kernel, out, geom);

    // W [F, C/g, kernel...] -> [F, Kg].
    int64_t kg = wt.getNumElements() / filters;
    int64_t pixels = 1;
    for (int64_t o : out)
      pixels *= o;
    SmallVector<ReassociationIndices> wGroups = {{0}, {}};
    for (int64_t i = 1; i < wt.getRank(); ++i)
      wGroups[1].push_back(i);
    Value w =
        rewriter.create<tensor::CollapseShapeOp>(loc, adaptor.getW(), wGroups);

    // y [N, F, P]: one [Fg, Kg] x [Kg, P] matmul per batch element and group.
    int64_t fg = filters / groups;
    auto yType = RankedTensorType::get({xt.getDimSize(0), filters, pixels}, elt);
    OpFoldResult batch = tensor::getMixedSize(rewriter, loc, adaptor.getX(), 0);
    Value yInit = buildEmpty(rewriter, loc, yType,
                             {batch, rewriter.getIndexAttr(filters),
                              rewriter.getIndexAttr(pixels)});
    Value zeroIdx = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value oneIdx = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    Value n = getValueOrCreateConstantIndexOp(rewriter, loc, batch);
    auto tileType = RankedTensorType::get({fg, pixels}, elt);
    auto colType = RankedTensorType::get({kg, pixels}, elt);
    auto wType = RankedTensorType::get({fg, kg}, elt);
    // One group's matmul into y: rows g*Fg of W times col rows g*Kg.
    auto groupMatmul = [&](OpBuilder &b, Location l, Value y, Value n,
                           Value g) {
      OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
      auto times = [&](int64_t c) -> OpFoldResult {
        if (!g)
          return zero;
        return b.create<arith::MulIOp>(
                    l, g, b.create<arith::ConstantIndexOp>(l, c))
            .getResult();
      };
      SmallVector<OpFoldResult> strides(3, one);
      Value col = b.create<tensor::ExtractSliceOp>(
          l, colType, cols, ArrayRef<OpFoldResult>{n, times(kg), zero},
          ArrayRef<OpFoldResult>{one, b.getIndexAttr(kg),
                                 b.getIndexAttr(pixels)},
          strides);
      Value wg = w;
      if (g)
        wg = b.create<tensor::ExtractSliceOp>(
            l, wType, w, ArrayRef<OpFoldResult>{times(fg), zero},
            ArrayRef<OpFoldResult>{b.getIndexAttr(fg), b.getIndexAttr(kg)},
            ArrayRef<OpFoldResult>{one, one});
      Value tile =
          b.create<linalg::MatmulOp>(
               l, TypeRange{tileType}, ValueRange{wg, col},
               ValueRange{buildFilled(b, l, tileType, b.getZeroAttr(elt))})
              .getResult(0);
      return b.create<tensor::InsertSliceOp>(
          l, tile, y, ArrayRef<OpFoldResult>{n, times(fg), zero},
          ArrayRef<OpFoldResult>{one, b.getIndexAttr(fg),
                                 b.getIndexAttr(pixels)},
          strides);
    };
    auto batchLoop = rewriter.create<scf::ForOp>(
        loc, zeroIdx, n, oneIdx, ValueRange{yInit},
        [&](OpBuilder &b, Location l, Value iv, ValueRange acc) {
          Value y;
          if (groups == 1) {
            y = groupMatmul(b, l, acc[0], iv, Value());
          } else {
            Value count = b.create<arith::ConstantIndexOp>(l, groups);
            y = b.create<scf::ForOp>(
                     l, zeroIdx, count, oneIdx, acc,
                     [&](OpBuilder &gb, Location gl, Value g, ValueRange gacc) {
                       gb.create<scf::YieldOp>(
                           gl, groupMatmul(gb, gl, gacc[0], iv, g).getResult());
                     })
                    .getResult(0);
          }
          b.create<scf::YieldOp>(l, y);
        });
    Value y = batchLoop.getResult(0);

    // [N, F, P] -> [N, F, out...], plus the bias [F] along dim 1.
    SmallVector<OpFoldResult> outSizes = {batch,
                                          rewriter.getIndexAttr(filters)};
    for (int64_t o : out)
      outSizes.push_back(rewriter.getIndexAttr(o));
    SmallVector<ReassociationIndices> yGroups = {{0}, {1}, {}};
    for (int64_t i = 0; i < spatial; ++i)
      yGroups[2].push_back(2 + i);
    y = buildExpandShape(rewriter, loc, outType, y, yGroups, outSizes);
    if (Value bias = adaptor.getB()) {
      MLIRContext *ctx = rewriter.getContext();
      int64_t rank = outType.getRank();
      SmallVector<AffineMap> maps = {
          rewriter.getMultiDimIdentityMap(rank),
          AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx),
          rewriter.getMultiDimIdentityMap(rank)};
      SmallVector<utils::IteratorType> iters(rank,
                                             utils::IteratorType::parallel);
      y = rewriter
              .create<linalg::GenericOp>(
                  loc, TypeRange{outType}, ValueRange{y, bias},
                  ValueRange{buildEmpty(rewriter, loc, outType, outSizes)},
                  maps, iters,
                  [](OpBuilder &b, Location l, ValueRange a) {
                    b.create<linalg::YieldOp>(
                        l, b.create<arith::AddFOp>(l, a[0], a[1]).getResult());
                  })
              .getResult(0);
    }
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void tessera::populateONNXConvToLinalgPatterns(TypeConverter &converter,
                                               RewritePatternSet &patterns) {
  patterns.add<ConvLowering>(converter, patterns.getContext());
}
