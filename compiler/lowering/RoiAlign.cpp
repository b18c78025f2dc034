//===- RoiAlign.cpp - onnx.RoiAlign to linalg -----------------------------===//
//
// Part of Tessera. One linalg.generic over Y [R, C, out_h, out_w]; each
// element loops (scf.for) over its bin's sample grid, as ONNX Runtime does:
// a sample outside [-1, size] counts as 0, one inside is clamped into the
// image and read bilinearly; avg divides the sum by the grid's size, max
// takes the largest weighted corner of any sample (ONNX Runtime's
// definition). The adaptive grid, ceil(roi size / bins), is capped at
// kMaxSamples per axis, so a hostile roi cannot make a run endless.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/OpBuilders.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

using FP = arith::CmpFPredicate;

/// The most samples per bin along one axis.
constexpr int64_t kMaxSamples = 1024;

struct RoiAlignLowering : OpConversionPattern<onnx::RoiAlignOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::RoiAlignOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = rankedType(getTypeConverter(), op.getY());
    auto xType = rankedType(getTypeConverter(), op.getX());
    if (!type || !xType || type.getRank() != 4 || xType.getRank() != 4 ||
        !isa<FloatType>(type.getElementType()))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    Value x = adaptor.getX(), rois = adaptor.getRois();
    Value indices = adaptor.getBatchIndices();
    bool halfPixel = op.getCoordinateTransformationMode() == "half_pixel";
    bool max = op.getMode() == "max";
    int64_t outH = op.getOutputHeight(), outW = op.getOutputWidth();
    int64_t ratio = op.getSamplingRatio();
    double scale = op.getSpatialScale().convertToDouble();
    Type f32 = rewriter.getF32Type();
    SmallVector<OpFoldResult> sizes = {
        tensor::getMixedSize(rewriter, loc, rois, 0),
        tensor::getMixedSize(rewriter, loc, x, 1), rewriter.getIndexAttr(outH),
        rewriter.getIndexAttr(outW)};
    Value images = rewriter.create<tensor::DimOp>(loc, x, 0);
    Value height = rewriter.create<tensor::DimOp>(loc, x, 2);
    Value width = rewriter.create<tensor::DimOp>(loc, x, 3);
    Value zero = indexConst(rewriter, loc, 0);
    emitCheck(rewriter, loc,
              rewriter.create<arith::AndIOp>(
                  loc,
                  rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                                 height, zero),
                  rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                                 width, zero)),
              "the image is empty");
    Type elt = type.getElementType();
    rewriter.replaceOp(
        op,
        buildIndexed(
            rewriter, loc, type, sizes, {}, {},
            [&](OpBuilder &b, Location l, ValueRange,
                ArrayRef<Value> iv) -> Value {
              auto cf = [&](double v) -> Value {
                return b.create<arith::ConstantOp>(l, b.getF32FloatAttr(v));
              };
              auto ci = [&](int64_t v) -> Value {
                return b.create<arith::ConstantIndexOp>(l, v);
              };
              auto toF32 = [&](Value v) {
                return convertScalar(b, l, v, f32, false, false);
              };
              auto indexF32 = [&](Value i) { return indexToF32(b, l, i); };
              Value r = iv[0], c = iv[1];
              Value image = clampedIndex(
                  b, l, b.create<tensor::ExtractOp>(l, indices, r), images);
              Value offset = cf(halfPixel ? 0.5 : 0.0);
              auto coord = [&](int64_t k) -> Value {
                Value v = toF32(
                    b.create<tensor::ExtractOp>(l, rois, ValueRange{r, ci(k)}));
                return b.create<arith::SubFOp>(
                    l, b.create<arith::MulFOp>(l, v, cf(scale)), offset);
              };
              Value startW = coord(0), startH = coord(1);
              Value roiW = b.create<arith::SubFOp>(l, coord(2), startW);
              Value roiH = b.create<arith::SubFOp>(l, coord(3), startH);
              if (!halfPixel) {
                roiW = b.create<arith::MaximumFOp>(l, roiW, cf(1.0));
                roiH = b.create<arith::MaximumFOp>(l, roiH, cf(1.0));
              }
              Value binH = b.create<arith::DivFOp>(l, roiH, cf(outH));
              Value binW = b.create<arith::DivFOp>(l, roiW, cf(outW));
              // Samples per bin: sampling_ratio, or ceil(roi / bins).
              auto grid = [&](Value bin) -> Value {
                if (ratio > 0)
                  return ci(ratio);
                Value n = b.create<math::CeilOp>(l, bin);
                n = b.create<arith::MinimumFOp>(
                    l, b.create<arith::MaximumFOp>(l, n, cf(0.0)),
                    cf(kMaxSamples));
                return b.create<arith::IndexCastOp>(
                    l, b.getIndexType(),
                    b.create<arith::FPToSIOp>(l, b.getI64Type(), n));
              };
              Value gridH = grid(binH), gridW = grid(binW);
              Value count = b.create<arith::MaxSIOp>(
                  l, b.create<arith::MulIOp>(l, gridH, gridW), ci(1));
              Value y0 = b.create<arith::AddFOp>(
                  l, startH, b.create<arith::MulFOp>(l, indexF32(iv[2]), binH));
              Value x0 = b.create<arith::AddFOp>(
                  l, startW, b.create<arith::MulFOp>(l, indexF32(iv[3]), binW));
              Value stepH = b.create<arith::DivFOp>(l, binH, indexF32(gridH));
              Value stepW = b.create<arith::DivFOp>(l, binW, indexF32(gridW));
              Value hF = indexF32(height), wF = indexF32(width);
              Value hLast = b.create<arith::SubIOp>(l, height, ci(1));
              Value wLast = b.create<arith::SubIOp>(l, width, ci(1));
              // One axis of a sample: (low, high, weight of high) and
              // whether it is inside [-1, size].
              struct Axis {
                Value lo, hi, frac, inside;
              };
              auto axis = [&](OpBuilder &sb, Location sl, Value v, Value size,
                              Value last) -> Axis {
                auto scf = [&](double d) -> Value {
                  return sb.create<arith::ConstantOp>(sl,
                                                      sb.getF32FloatAttr(d));
                };
                Value inside = sb.create<arith::AndIOp>(
                    sl, sb.create<arith::CmpFOp>(sl, FP::OGE, v, scf(-1.0)),
                    sb.create<arith::CmpFOp>(sl, FP::OLE, v, size));
                v = sb.create<arith::MaximumFOp>(sl, v, scf(0.0));
                Value lo = sb.create<arith::IndexCastOp>(
                    sl, sb.getIndexType(),
                    sb.create<arith::FPToSIOp>(
                        sl, sb.getI64Type(),
                        sb.create<arith::MinimumFOp>(sl, v, size)));
                Value atEnd = sb.create<arith::CmpIOp>(
                    sl, arith::CmpIPredicate::sge, lo, last);
                lo = sb.create<arith::SelectOp>(sl, atEnd, last, lo);
                Value hi = sb.create<arith::SelectOp>(
                    sl, atEnd, last,
                    sb.create<arith::AddIOp>(
                        sl, lo, sb.create<arith::ConstantIndexOp>(sl, 1)));
                Value frac =
                    sb.create<arith::SubFOp>(sl, v, indexToF32(sb, sl, lo));
                frac = sb.create<arith::SelectOp>(sl, atEnd, scf(0.0), frac);
                return {lo, hi, frac, inside};
              };
              Value init = cf(max ? -INFINITY : 0.0);
              auto sampleLoop = [&](OpBuilder &ob, Location ol, Value iy,
                                    Value acc) -> Value {
                Value y = ob.create<arith::AddFOp>(
                    ol, y0,
                    ob.create<arith::MulFOp>(
                        ol, ob.create<arith::AddFOp>(ol, indexF32(iy), cf(0.5)),
                        stepH));
                Axis ay = axis(ob, ol, y, hF, hLast);
                return ob
                    .create<scf::ForOp>(
                        ol, ci(0), gridW, ci(1), ValueRange{acc},
                        [&](OpBuilder &ib, Location il, Value ix,
                            ValueRange inner) {
                          Value xs = ib.create<arith::AddFOp>(
                              il, x0,
                              ib.create<arith::MulFOp>(
                                  il,
                                  ib.create<arith::AddFOp>(il, indexF32(ix),
                                                           cf(0.5)),
                                  stepW));
                          Axis ax = axis(ib, il, xs, wF, wLast);
                          auto read = [&](Value yy, Value xx) {
                            return convertScalar(
                                ib, il,
                                ib.create<tensor::ExtractOp>(
                                    il, x, ValueRange{image, c, yy, xx}),
                                f32, false, false);
                          };
                          Value one = cf(1.0);
                          Value hy = ib.create<arith::SubFOp>(il, one, ay.frac);
                          Value hx = ib.create<arith::SubFOp>(il, one, ax.frac);
                          Value terms[4] = {
                              ib.create<arith::MulFOp>(
                                  il, ib.create<arith::MulFOp>(il, hy, hx),
                                  read(ay.lo, ax.lo)),
                              ib.create<arith::MulFOp>(
                                  il, ib.create<arith::MulFOp>(il, hy, ax.frac),
                                  read(ay.lo, ax.hi)),
                              ib.create<arith::MulFOp>(
                                  il, ib.create<arith::MulFOp>(il, ay.frac, hx),
                                  read(ay.hi, ax.lo)),
                              ib.create<arith::MulFOp>(
                                  il,
                                  ib.create<arith::MulFOp>(il, ay.frac,
                                                           ax.frac),
                                  read(ay.hi, ax.hi))};
                          Value v = terms[0];
                          for (int k = 1; k < 4; ++k)
                            v = max ? ib.create<arith::MaximumFOp>(il, v,
                                                                   terms[k])
                                          .getResult()
                                    : ib.create<arith::AddFOp>(il, v, terms[k])
                                          .getResult();
                          // Outside the image a sample counts as 0.
                          Value inside = ib.create<arith::AndIOp>(il, ay.inside,
                                                                  ax.inside);
                          v = ib.create<arith::SelectOp>(il, inside, v,
                                                         cf(0.0));
                          Value next =
                              max ? ib.create<arith::MaximumFOp>(il, inner[0],
                                                                 v)
                                        .getResult()
                                  : ib.create<arith::AddFOp>(il, inner[0], v)
                                        .getResult();
                          ib.create<scf::YieldOp>(il, next);
                        })
                    .getResult(0);
              };
              Value sum = b.create<scf::ForOp>(
                               l, ci(0), gridH, ci(1), ValueRange{init},
                               [&](OpBuilder &ob, Location ol, Value iy,
                                   ValueRange acc) {
                                 ob.create<scf::YieldOp>(
                                     ol, sampleLoop(ob, ol, iy, acc[0]));
                               })
                              .getResult(0);
              Value result =
                  max ? b.create<arith::SelectOp>(
                             l,
                             b.create<arith::CmpFOp>(l, FP::OEQ, sum,
                                                     cf(-INFINITY)),
                             cf(0.0), sum)
                            .getResult()
                      : b.create<arith::DivFOp>(l, sum, indexF32(count))
                            .getResult();
              return convertScalar(b, l, result, elt, false, false);
            }));
    return success();
  }
};

} // namespace

void tessera::populateONNXRoiAlignToLinalgPatterns(
    TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<RoiAlignLowering>(converter, patterns.getContext());
}
