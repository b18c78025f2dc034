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
#include "compiler/lowering/OpBuilders.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/onnx/WindowGeometry.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

/// The unfolded input [N, C * prod(kernel), prod(out)] of (padded) `x`.
Value unfold(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> kernel,
             ArrayRef<int64_t> out, const onnx::WindowGeometry &geom) {
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

/// The convolution of `x` [N, C, in...] with `w` [F, C / groups, kernel...]
/// (and `bias` [F], if given) into `outType` [N, F, out...]: only N may be
/// dynamic. f16 and bf16 are convolved in f32 (the weights widened at
/// compile time) and rounded once, as MatMul's products are.
Value buildConvolution(OpBuilder &rewriter, Location loc, Value x, Value w,
                       Value bias, const onnx::WindowGeometry &geom,
                       int64_t groups, RankedTensorType outType) {
  auto xt = cast<RankedTensorType>(x.getType());
  auto wt = cast<RankedTensorType>(w.getType());
  int64_t spatial = xt.getRank() - 2;
  int64_t filters = wt.getDimSize(0);
  Type elt = outType.getElementType();
  if (Type acc = accumulatorType(elt); acc != elt) {
    Value wideX = widenToF32(rewriter, loc, x);
    Value wideW = widenToF32(rewriter, loc, w);
    Value wideBias = bias ? widenToF32(rewriter, loc, bias) : Value();
    Value y = buildConvolution(rewriter, loc, wideX, wideW, wideBias, geom,
                               groups, outType.clone(acc));
    return convertElements(rewriter, loc, outType, y);
  }
  Value input = x;
  if (geom.padded())
    x = padSpatial(rewriter, loc, x, geom.padsLo, geom.padsHi,
                   rewriter.getZeroAttr(elt));
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
  Value wFlat =
      rewriter.create<tensor::CollapseShapeOp>(loc, w, wGroups);

  // y [N, F, P]: one [Fg, Kg] x [Kg, P] matmul per batch element and group.
  int64_t fg = filters / groups;
  auto yType = RankedTensorType::get({xt.getDimSize(0), filters, pixels}, elt);
  OpFoldResult batch = tensor::getMixedSize(rewriter, loc, input, 0);
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
    Value wg = wFlat;
    if (g)
      wg = b.create<tensor::ExtractSliceOp>(
          l, wType, wFlat, ArrayRef<OpFoldResult>{times(fg), zero},
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
  if (bias) {
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
                ValueRange{buildEmpty(rewriter, loc, outType, outSizes)}, maps,
                iters,
                [](OpBuilder &b, Location l, ValueRange a) {
                  Value sum =
                      isa<FloatType>(a[0].getType())
                          ? b.create<arith::AddFOp>(l, a[0], a[1]).getResult()
                          : b.create<arith::AddIOp>(l, a[0], a[1]).getResult();
                  b.create<linalg::YieldOp>(l, sum);
                })
            .getResult(0);
  }
  return y;
}

/// The converted types of a Conv's or ConvTranspose's X, W and Y when only
/// the batch is dynamic (checked before conversion), else nulls.
template <typename OpTy>
std::tuple<RankedTensorType, RankedTensorType, RankedTensorType>
convTypes(const TypeConverter *converter, OpTy op) {
  auto xt = rankedType(converter, op.getX());
  auto wt = staticType(converter, op.getW());
  auto outType = rankedType(converter, op.getY());
  if (!xt || !wt || !outType ||
      llvm::any_of(xt.getShape().drop_front(), ShapedType::isDynamic) ||
      llvm::any_of(outType.getShape().drop_front(), ShapedType::isDynamic))
    return {};
  return {xt, wt, outType};
}

struct ConvLowering : OpConversionPattern<onnx::ConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(onnx::ConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto [xt, wt, outType] = convTypes(getTypeConverter(), op);
    if (!xt)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    int64_t spatial = xt.getRank() - 2;
    int64_t groups = op.getGroup();
    int64_t filters = wt.getDimSize(0);
    auto geom = onnx::windowGeometry(op, xt.getShape().drop_front(2),
                                     wt.getShape().drop_front(2));
    if (!geom || spatial < 1 || spatial > 3 || groups < 1 ||
        xt.getDimSize(1) != groups * wt.getDimSize(1) || filters % groups != 0)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    rewriter.replaceOp(op, buildConvolution(rewriter, op.getLoc(),
                                            adaptor.getX(), adaptor.getW(),
                                            adaptor.getB(), *geom, groups,
                                            outType));
    return success();
  }
};

/// ConvInteger's or QLinearConv's int32 convolution: x and w widened to i32
/// minus their zero points (x's per tensor, w's per tensor or per output
/// channel) through Conv's schedule, exact in i32, plus the int32 `bias` if
/// given. Null when the shapes were refused before conversion.
template <typename OpTy, typename Adaptor>
Value integerConvolution(OpBuilder &b, const TypeConverter *converter, OpTy op,
                         Adaptor adaptor, Value bias) {
  auto [xt, wt, outType] = convTypes(converter, op);
  if (!xt)
    return {};
  auto geom = onnx::windowGeometry(op, xt.getShape().drop_front(2),
                                   wt.getShape().drop_front(2));
  int64_t groups = op.getGroup();
  if (!geom || groups < 1 || xt.getDimSize(1) != groups * wt.getDimSize(1) ||
      wt.getDimSize(0) % groups != 0)
    return {};
  Location loc = op.getLoc();
  Type i32 = b.getI32Type();
  Value x = widenWithZeroPoint(b, loc, i32, adaptor.getX(), op.getX(),
                               adaptor.getXZeroPoint(), op.getXZeroPoint(), 1);
  Value w = widenWithZeroPoint(b, loc, i32, adaptor.getW(), op.getW(),
                               adaptor.getWZeroPoint(), op.getWZeroPoint(), 0);
  auto accType = RankedTensorType::get(outType.getShape(), i32);
  return buildConvolution(b, loc, x, w, bias, *geom, groups, accType);
}

struct ConvIntegerLowering : OpConversionPattern<onnx::ConvIntegerOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::ConvIntegerOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value y =
        integerConvolution(rewriter, getTypeConverter(), op, adaptor, Value());
    if (!y)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// QLinearConv: ConvInteger plus B, requantized like QLinearMatMul with one
/// multiplier per output channel.
struct QLinearConvLowering : OpConversionPattern<onnx::QLinearConvOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::QLinearConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = rankedType(getTypeConverter(), op.getY());
    Value acc = integerConvolution(rewriter, getTypeConverter(), op, adaptor,
                                   adaptor.getB());
    if (!acc || !outType)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    rewriter.replaceOp(
        op, buildRequantize(rewriter, op.getLoc(), acc, outType,
                            adaptor.getXScale(), adaptor.getWScale(), 1,
                            adaptor.getYScale(), adaptor.getYZeroPoint(),
                            isUnsignedInt(op.getY().getType())));
    return success();
  }
};

/// ConvTranspose as a convolution: the input with stride - 1 zeros between
/// its elements and extent - 1 (+ output_padding, + what output_shape asks
/// for) around them, convolved with
/// stride 1 by the weight flipped in space, with its channel axes swapped per
/// group; the output is the window [pads_begin, pads_begin + out) of that.
struct ConvTransposeLowering : OpConversionPattern<onnx::ConvTransposeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(onnx::ConvTransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto [xt, wt, outType] = convTypes(getTypeConverter(), op);
    if (!xt)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    ArrayRef<int64_t> in = xt.getShape().drop_front(2);
    ArrayRef<int64_t> kernel = wt.getShape().drop_front(2);
    int64_t spatial = in.size(), groups = op.getGroup();
    auto geom = onnx::windowGeometry(op, in, kernel);
    if (!geom || spatial < 1 || spatial > 3 || groups < 1 ||
        wt.getDimSize(0) != xt.getDimSize(1) || xt.getDimSize(1) % groups)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type elt = outType.getElementType();
    int64_t cg = wt.getDimSize(0) / groups, mg = wt.getDimSize(1);

    // The spread-out input [N, C, (in - 1) * s + 1 + 2 (extent - 1) + op].
    onnx::WindowGeometry conv;
    conv.kernel.assign(kernel.begin(), kernel.end());
    conv.dilations = geom->dilations;
    conv.strides.assign(spatial, 1);
    conv.padsLo.assign(spatial, 0);
    conv.padsHi.assign(spatial, 0);
    SmallVector<int64_t> spread(xt.getShape()), full(outType.getShape());
    SmallVector<OpFoldResult> offsets(2, rewriter.getIndexAttr(0)),
        strides(2, rewriter.getIndexAttr(1));
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t extent = geom->extent(i);
      // An output_shape past the natural size extends it at the end.
      int64_t natural = (in[i] - 1) * geom->strides[i] + extent +
                        geom->outputPadding[i];
      int64_t extra = std::max<int64_t>(
          0, geom->padsLo[i] + outType.getDimSize(i + 2) - natural);
      spread[i + 2] = natural + extent - 1 + extra;
      full[i + 2] = spread[i + 2] - extent + 1;
      offsets.push_back(rewriter.getIndexAttr(extent - 1));
      strides.push_back(rewriter.getIndexAttr(geom->strides[i]));
    }
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, adaptor.getX());
    SmallVector<OpFoldResult> spreadSizes(sizes);
    for (int64_t i = 0; i < spatial; ++i)
      spreadSizes[i + 2] = rewriter.getIndexAttr(spread[i + 2]);
    auto spreadType = RankedTensorType::get(spread, elt);
    Value x = rewriter.create<tensor::InsertSliceOp>(
        loc, adaptor.getX(),
        buildFilled(rewriter, loc, spreadType, spreadSizes,
                    rewriter.getZeroAttr(elt)),
        offsets, sizes, strides);

    // W' [M, C / g, kernel...][g*Mg + m, c, k] = W[g*Cg + c, m, K - 1 - k].
    SmallVector<int64_t> flippedShape = {groups * mg, cg};
    flippedShape.append(kernel.begin(), kernel.end());
    auto flippedType = RankedTensorType::get(flippedShape, elt);
    AffineExpr m = getAffineDimExpr(0, ctx), c = getAffineDimExpr(1, ctx);
    SmallVector<AffineExpr> read = {m.floorDiv(mg) * cg + c, m % mg};
    for (int64_t i = 0; i < spatial; ++i)
      read.push_back(kernel[i] - 1 - getAffineDimExpr(i + 2, ctx));
    int64_t rank = flippedShape.size();
    Value w =
        rewriter
            .create<linalg::GenericOp>(
                loc, TypeRange{flippedType}, ValueRange{adaptor.getW()},
                ValueRange{rewriter.create<tensor::EmptyOp>(loc, flippedShape,
                                                            elt)},
                SmallVector<AffineMap>{AffineMap::get(rank, 0, read, ctx),
                                       rewriter.getMultiDimIdentityMap(rank)},
                SmallVector<utils::IteratorType>(rank,
                                                 utils::IteratorType::parallel),
                [](OpBuilder &b, Location l, ValueRange a) {
                  b.create<linalg::YieldOp>(l, a[0]);
                })
            .getResult(0);

    auto fullType = RankedTensorType::get(full, elt);
    Value y = buildConvolution(rewriter, loc, x, w, adaptor.getB(), conv,
                               groups, fullType);
    SmallVector<OpFoldResult> outOffsets(2, rewriter.getIndexAttr(0)),
        outSizes = {sizes[0], rewriter.getIndexAttr(outType.getDimSize(1))};
    for (int64_t i = 0; i < spatial; ++i) {
      outOffsets.push_back(rewriter.getIndexAttr(geom->padsLo[i]));
      outSizes.push_back(rewriter.getIndexAttr(outType.getDimSize(i + 2)));
    }
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, outType, y, outOffsets, outSizes,
        SmallVector<OpFoldResult>(outType.getRank(),
                                  rewriter.getIndexAttr(1)));
    return success();
  }
};

} // namespace

Value tessera::lowering::padSpatial(OpBuilder &b, Location loc, Value x,
                                    ArrayRef<int64_t> lo, ArrayRef<int64_t> hi,
                                    TypedAttr value) {
  auto xt = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(xt.getShape());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
  SmallVector<OpFoldResult> offsets(2, b.getIndexAttr(0));
  for (auto [i, l, h] : llvm::enumerate(lo, hi)) {
    shape[i + 2] += l + h;
    offsets.push_back(b.getIndexAttr(l));
  }
  auto type = RankedTensorType::get(shape, xt.getElementType());
  SmallVector<OpFoldResult> padded(sizes);
  for (int64_t i = 2; i < xt.getRank(); ++i)
    padded[i] = b.getIndexAttr(shape[i]);
  Value filled = buildFilled(b, loc, type, padded, value);
  SmallVector<OpFoldResult> strides(xt.getRank(), b.getIndexAttr(1));
  return b.create<tensor::InsertSliceOp>(loc, x, filled, offsets, sizes,
                                         strides);
}

void tessera::populateONNXConvToLinalgPatterns(TypeConverter &converter,
                                               RewritePatternSet &patterns) {
  patterns.add<ConvLowering, ConvTransposeLowering, ConvIntegerLowering,
               QLinearConvLowering>(converter, patterns.getContext());
}
