//===- Signal.cpp - windows, DFT, STFT and mel filter banks to linalg -----===//
//
// Part of Tessera. Each op is one linalg.generic over its output; the
// Fourier transforms sum their terms in an scf.for inside the body (the
// direct O(N^2) transform, with the angle's k * n reduced modulo N in
// integers so that cos and sin stay accurate for long signals). The sizes
// these ops take as input values (a window's size, STFT's frame length, the
// mel matrix's dims) must match the output shape the model gives; they are
// checked at run time.
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

#include <cmath>

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

using P = arith::CmpIPredicate;

Value f32Const(OpBuilder &b, Location l, double v) {
  return b.create<arith::ConstantOp>(l, b.getF32FloatAttr(v));
}

/// 2 pi ((k * n) mod N) / N: the angle of DFT term n of bin k (N taken as
/// at least 1: a division by zero would trap).
Value fourierAngle(OpBuilder &b, Location l, Value k, Value n, Value length) {
  length = b.create<arith::MaxUIOp>(l, length, indexConst(b, l, 1));
  Value kn =
      b.create<arith::RemUIOp>(l, b.create<arith::MulIOp>(l, k, n), length);
  Value frac = b.create<arith::DivFOp>(l, indexToF32(b, l, kn),
                                       indexToF32(b, l, length));
  return b.create<arith::MulFOp>(l, frac, f32Const(b, l, 2 * M_PI));
}

/// Component `c` (0 real, 1 imaginary) of the term x e^(-i angle) (e^(+i
/// angle) when inverse) for x = re + i im.
Value fourierTerm(OpBuilder &b, Location l, Value re, Value im, Value angle,
                  Value c, bool inverse) {
  Value cos = b.create<math::CosOp>(l, angle);
  Value sin = b.create<math::SinOp>(l, angle);
  if (!inverse)
    sin = b.create<arith::NegFOp>(l, sin);
  // Real: re cos - im sin'; imaginary: re sin' + im cos (sin' signed).
  Value real = b.create<arith::SubFOp>(l, b.create<arith::MulFOp>(l, re, cos),
                                       b.create<arith::MulFOp>(l, im, sin));
  Value imag = b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, re, sin),
                                       b.create<arith::MulFOp>(l, im, cos));
  Value isReal = b.create<arith::CmpIOp>(l, P::eq, c, indexConst(b, l, 0));
  return b.create<arith::SelectOp>(l, isReal, real, imag);
}

/// The sum over n in [0, count) of term(n) (f32).
Value sumTerms(OpBuilder &b, Location l, Value count,
               function_ref<Value(OpBuilder &, Location, Value)> term) {
  return b
      .create<scf::ForOp>(
          l, indexConst(b, l, 0), count, indexConst(b, l, 1),
          ValueRange{f32Const(b, l, 0.0)},
          [&](OpBuilder &lb, Location ll, Value n, ValueRange acc) {
            Value sum = lb.create<arith::AddFOp>(ll, acc[0], term(lb, ll, n));
            lb.create<scf::YieldOp>(ll, sum);
          })
      .getResult(0);
}

/// Reads element `idx` of `t` (f32), with its last index replaced by `c`
/// when `c` is given.
Value readF32(OpBuilder &b, Location l, Value t, SmallVector<Value> idx) {
  Value v = b.create<tensor::ExtractOp>(l, t, idx);
  return convertScalar(b, l, v, b.getF32Type(), false, false);
}

/// floor(length / 2) + 1: the bins a onesided transform keeps.
Value onesidedBins(OpBuilder &b, Location loc, Value length) {
  return b.create<arith::AddIOp>(
      loc, b.create<arith::DivUIOp>(loc, length, indexConst(b, loc, 2)),
      indexConst(b, loc, 1));
}

template <typename OpTy> struct WindowLowering : OpConversionPattern<OpTy> {
  WindowLowering(const TypeConverter &converter, MLIRContext *ctx,
                 ArrayRef<double> coefficients)
      : OpConversionPattern<OpTy>(converter, ctx), coefficients(coefficients) {}

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(this->getTypeConverter(), op.getOutput());
    if (!type || type.getRank() != 1)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    Value size =
        toIndex(rewriter, loc, firstElement(rewriter, loc, adaptor.getSize()));
    checkGivenSize(rewriter, loc, size, type.getDimSize(0), "the window size");
    // Periodic windows divide by size, symmetric ones by size - 1.
    Value period = op.getPeriodic()
                       ? size
                       : rewriter
                             .create<arith::SubIOp>(
                                 loc, size, indexConst(rewriter, loc, 1))
                             .getResult();
    Type elt = type.getElementType();
    rewriter.replaceOp(
        op, buildIndexed(rewriter, loc, type, {}, {}, {},
                         [&](OpBuilder &b, Location l, ValueRange,
                             ArrayRef<Value> iv) -> Value {
                           Value y = f32Const(b, l, coefficients[0]);
                           for (size_t j = 1; j < coefficients.size(); ++j) {
                             Value angle = fourierAngle(
                                 b, l, indexConst(b, l, j), iv[0], period);
                             Value term = b.create<arith::MulFOp>(
                                 l, f32Const(b, l, coefficients[j]),
                                 b.create<math::CosOp>(l, angle));
                             y = b.create<arith::AddFOp>(l, y, term);
                           }
                           return convertScalar(b, l, y, elt, false, false);
                         }));
    return success();
  }

  SmallVector<double> coefficients;
};

/// Whether every dim of `type` but the batch (the first) is static.
bool staticAfterBatch(RankedTensorType type) {
  return llvm::none_of(type.getShape().drop_front(), ShapedType::isDynamic);
}

/// The signal axis of a DFT over an input of rank `rank`, or -1.
int64_t dftAxis(onnx::DFTOp op, int64_t rank) {
  int64_t axis = op.getAxis();
  SmallVector<int64_t> given;
  if (Value input = op.getAxisInput()) {
    if (!getConstIntValues(input, given) || given.size() != 1)
      return -1;
    axis = given[0];
  }
  axis = axis < 0 ? axis + rank : axis;
  return axis >= 1 && axis <= rank - 2 ? axis : -1;
}

struct DFTLowering : OpConversionPattern<onnx::DFTOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::DFTOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = rankedType(getTypeConverter(), op.getInput());
    auto type = rankedType(getTypeConverter(), op.getOutput());
    if (!inType || !type || type.getRank() != inType.getRank() ||
        inType.isDynamicDim(inType.getRank() - 1))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    int64_t rank = inType.getRank();
    int64_t axis = dftAxis(op, rank);
    if (axis < 0)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    bool complex = inType.getDimSize(rank - 1) == 2;
    bool inverse = op.getInverse();
    Value inLength = rewriter.create<tensor::DimOp>(loc, input, axis);
    Value length = inLength;
    if (Value given = adaptor.getDftLength()) {
      length = toIndex(rewriter, loc, firstElement(rewriter, loc, given));
      emitCheck(rewriter, loc,
                rewriter.create<arith::CmpIOp>(loc, P::sgt, length,
                                               indexConst(rewriter, loc, 0)),
                "dft_length must be positive");
    }
    // Bins: the length, or floor(length / 2) + 1 when onesided.
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, input);
    sizes[rank - 1] = rewriter.getIndexAttr(2);
    Value bins = length;
    if (op.getOnesided())
      bins = onesidedBins(rewriter, loc, length);
    if (!type.isDynamicDim(axis))
      checkGivenSize(rewriter, loc, bins, type.getDimSize(axis),
                     "the number of DFT bins");
    sizes[axis] = bins;
    // Terms past the input are zero padding; past the length, truncated.
    Value terms = rewriter.create<arith::MinUIOp>(loc, length, inLength);
    rewriter.replaceOp(
        op, buildIndexed(
                rewriter, loc, type, sizes, {}, {},
                [&](OpBuilder &b, Location l, ValueRange,
                    ArrayRef<Value> iv) -> Value {
                  Value c = iv[rank - 1];
                  Value sum = sumTerms(
                      b, l, terms, [&](OpBuilder &nb, Location nl, Value n) {
                        SmallVector<Value> idx(iv);
                        idx[axis] = n;
                        idx[rank - 1] = indexConst(nb, nl, 0);
                        Value re = readF32(nb, nl, input, idx);
                        Value im = f32Const(nb, nl, 0.0);
                        if (complex) {
                          idx[rank - 1] = indexConst(nb, nl, 1);
                          im = readF32(nb, nl, input, idx);
                        }
                        Value angle = fourierAngle(nb, nl, iv[axis], n, length);
                        return fourierTerm(nb, nl, re, im, angle, c, inverse);
                      });
                  if (inverse)
                    sum = b.create<arith::DivFOp>(l, sum,
                                                  indexToF32(b, l, length));
                  return convertScalar(b, l, sum, type.getElementType(), false,
                                       false);
                }));
    return success();
  }
};

/// STFT: out[b, f, k, c] = component c of the sum over n < L of
/// x[b, f * step + n] w[n] e^(-2 pi i k n / L), L the frame length.
struct STFTLowering : OpConversionPattern<onnx::STFTOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::STFTOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = rankedType(getTypeConverter(), op.getSignal());
    auto type = rankedType(getTypeConverter(), op.getOutput());
    if (!inType || !type || inType.getRank() != 3 || type.getRank() != 4 ||
        inType.isDynamicDim(2) || !staticAfterBatch(type))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    Value signal = adaptor.getSignal();
    Value window = adaptor.getWindow();
    bool complex = inType.getDimSize(2) == 2;
    auto scalarIndex = [&](Value t) {
      return toIndex(rewriter, loc, firstElement(rewriter, loc, t));
    };
    Value step = scalarIndex(adaptor.getFrameStep());
    Value length;
    if (window)
      length = rewriter.create<tensor::DimOp>(loc, window, 0);
    if (Value given = adaptor.getFrameLength()) {
      Value value = scalarIndex(given);
      if (length)
        emitCheck(rewriter, loc,
                  rewriter.create<arith::CmpIOp>(loc, P::eq, value, length),
                  "frame_length differs from the window's length");
      length = value;
    }
    Value one = indexConst(rewriter, loc, 1);
    Value zero = indexConst(rewriter, loc, 0);
    Value samples = rewriter.create<tensor::DimOp>(loc, signal, 1);
    emitCheck(
        rewriter, loc,
        rewriter.create<arith::AndIOp>(
            loc, rewriter.create<arith::CmpIOp>(loc, P::sgt, step, zero),
            rewriter.create<arith::AndIOp>(
                loc, rewriter.create<arith::CmpIOp>(loc, P::sgt, length, zero),
                rewriter.create<arith::CmpIOp>(loc, P::sle, length, samples))),
        "frame_step and frame_length must be positive, and the frame "
        "no longer than the signal");
    // frames = (samples - L) / step + 1; bins = L (or L / 2 + 1).
    Value frames = rewriter.create<arith::AddIOp>(
        loc,
        rewriter.create<arith::DivUIOp>(
            loc, rewriter.create<arith::SubIOp>(loc, samples, length), step),
        one);
    Value bins = length;
    if (op.getOnesided())
      bins = onesidedBins(rewriter, loc, length);
    checkGivenSize(rewriter, loc, frames, type.getDimSize(1),
                   "the number of frames");
    checkGivenSize(rewriter, loc, bins, type.getDimSize(2),
                   "the number of bins");
    SmallVector<OpFoldResult> sizes = {
        tensor::getMixedSize(rewriter, loc, signal, 0),
        rewriter.getIndexAttr(type.getDimSize(1)),
        rewriter.getIndexAttr(type.getDimSize(2)), rewriter.getIndexAttr(2)};
    Value last = rewriter.create<arith::SubIOp>(loc, samples, one);
    rewriter.replaceOp(
        op, buildIndexed(
                rewriter, loc, type, sizes, {}, {},
                [&](OpBuilder &b, Location l, ValueRange,
                    ArrayRef<Value> iv) -> Value {
                  Value start = b.create<arith::MulIOp>(l, iv[1], step);
                  Value sum = sumTerms(
                      b, l, length, [&](OpBuilder &nb, Location nl, Value n) {
                        // Clamped: a frame never reads past the signal.
                        Value t = nb.create<arith::MinUIOp>(
                            nl, nb.create<arith::AddIOp>(nl, start, n), last);
                        Value re = readF32(nb, nl, signal,
                                           {iv[0], t, indexConst(nb, nl, 0)});
                        Value im =
                            complex ? readF32(nb, nl, signal,
                                              {iv[0], t, indexConst(nb, nl, 1)})
                                    : f32Const(nb, nl, 0.0);
                        if (window) {
                          Value w = readF32(nb, nl, window, {n});
                          re = nb.create<arith::MulFOp>(nl, re, w);
                          im = nb.create<arith::MulFOp>(nl, im, w);
                        }
                        Value angle = fourierAngle(nb, nl, iv[2], n, length);
                        return fourierTerm(nb, nl, re, im, angle, iv[3], false);
                      });
                  return convertScalar(b, l, sum, type.getElementType(), false,
                                       false);
                }));
    return success();
  }
};

/// MelWeightMatrix as ONNX defines it: num_mel_bins + 2 points evenly spaced
/// in mel between the edges, mapped to DFT bins floor((dft_length + 1) hz /
/// sample_rate); filter i rises from point i to point i + 1 and falls to
/// point i + 2.
struct MelWeightMatrixLowering : OpConversionPattern<onnx::MelWeightMatrixOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::MelWeightMatrixOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(getTypeConverter(), op.getOutput());
    if (!type || type.getRank() != 2)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    auto scalar = [&](Value t) { return firstElement(rewriter, loc, t); };
    auto asF32 = [&](Value v) {
      return convertScalar(rewriter, loc, v, rewriter.getF32Type(), false,
                           false);
    };
    Value mels = toIndex(rewriter, loc, scalar(adaptor.getNumMelBins()));
    Value dftLength = toIndex(rewriter, loc, scalar(adaptor.getDftLength()));
    Value rate = asF32(scalar(adaptor.getSampleRate()));
    Value lower = asF32(scalar(adaptor.getLowerEdgeHertz()));
    Value upper = asF32(scalar(adaptor.getUpperEdgeHertz()));
    Value bins = onesidedBins(rewriter, loc, dftLength);
    checkGivenSize(rewriter, loc, bins, type.getDimSize(0),
                   "dft_length / 2 + 1");
    checkGivenSize(rewriter, loc, mels, type.getDimSize(1), "num_mel_bins");
    // mel(hz) = 2595 log10(1 + hz / 700), and back.
    auto toMel = [&](OpBuilder &b, Location l, Value hz) -> Value {
      Value ratio = b.create<arith::AddFOp>(
          l, f32Const(b, l, 1.0),
          b.create<arith::DivFOp>(l, hz, f32Const(b, l, 700.0)));
      return b.create<arith::MulFOp>(l, b.create<math::LogOp>(l, ratio),
                                     f32Const(b, l, 2595.0 / std::log(10.0)));
    };
    Value lowMel = toMel(rewriter, loc, lower);
    Value highMel = toMel(rewriter, loc, upper);
    Value melStep = rewriter.create<arith::DivFOp>(
        loc, rewriter.create<arith::SubFOp>(loc, highMel, lowMel),
        indexToF32(rewriter, loc,
                   rewriter.create<arith::AddIOp>(
                       loc, mels, indexConst(rewriter, loc, 2))));
    Value scale = indexToF32(rewriter, loc,
                             rewriter.create<arith::AddIOp>(
                                 loc, dftLength, indexConst(rewriter, loc, 1)));
    Type i64 = rewriter.getI64Type();
    // The DFT bin of mel point p.
    auto point = [&](OpBuilder &b, Location l, Value p) -> Value {
      Value mel = b.create<arith::AddFOp>(
          l, b.create<arith::MulFOp>(l, indexToF32(b, l, p), melStep), lowMel);
      Value hz = b.create<arith::MulFOp>(
          l, f32Const(b, l, 700.0),
          b.create<arith::SubFOp>(
              l,
              b.create<math::ExpOp>(
                  l, b.create<arith::MulFOp>(
                         l, mel, f32Const(b, l, std::log(10.0) / 2595.0))),
              f32Const(b, l, 1.0)));
      Value bin = b.create<math::FloorOp>(
          l, b.create<arith::DivFOp>(l, b.create<arith::MulFOp>(l, scale, hz),
                                     rate));
      return b.create<arith::FPToSIOp>(l, i64, bin);
    };
    Type elt = type.getElementType();
    rewriter.replaceOp(
        op,
        buildIndexed(
            rewriter, loc, type, {}, {}, {},
            [&](OpBuilder &b, Location l, ValueRange,
                ArrayRef<Value> iv) -> Value {
              Value i = iv[1];
              Value one = indexConst(b, l, 1);
              Value left = point(b, l, i);
              Value iPlus1 = b.create<arith::AddIOp>(l, i, one);
              Value center = point(b, l, iPlus1);
              Value iPlus2 = b.create<arith::AddIOp>(l, iPlus1, one);
              Value right = point(b, l, iPlus2);
              Value j = b.create<arith::IndexCastOp>(l, i64, iv[0]);
              auto cmp = [&](P p, Value x, Value y) {
                return b.create<arith::CmpIOp>(l, p, x, y);
              };
              auto f = [&](Value v) {
                return b.create<arith::SIToFPOp>(l, b.getF32Type(), v);
              };
              Value zero = f32Const(b, l, 0.0);
              // Rising edge (a single 1 at the centre when it is empty).
              Value rise = b.create<arith::SubIOp>(l, center, left);
              Value onRise = b.create<arith::AndIOp>(l, cmp(P::sle, left, j),
                                                     cmp(P::sle, j, center));
              Value up = b.create<arith::DivFOp>(
                  l, f(b.create<arith::SubIOp>(l, j, left)), f(rise));
              Value single = b.create<arith::SelectOp>(
                  l, cmp(P::eq, j, center), f32Const(b, l, 1.0), zero);
              Value v = b.create<arith::SelectOp>(
                  l, cmp(P::eq, rise, b.create<arith::ConstantIntOp>(l, 0, 64)),
                  single, b.create<arith::SelectOp>(l, onRise, up, zero));
              // The falling edge overwrites it on [center, right).
              Value fall = b.create<arith::SubIOp>(l, right, center);
              Value onFall = b.create<arith::AndIOp>(l, cmp(P::sle, center, j),
                                                     cmp(P::slt, j, right));
              Value down = b.create<arith::DivFOp>(
                  l, f(b.create<arith::SubIOp>(l, right, j)), f(fall));
              v = b.create<arith::SelectOp>(l, onFall, down, v);
              return convertScalar(b, l, v, elt, false, false);
            }));
    return success();
  }
};

} // namespace

std::optional<std::string> tessera::signalOpProblem(Operation *op) {
  if (!isa<onnx::HannWindowOp, onnx::HammingWindowOp, onnx::BlackmanWindowOp,
           onnx::DFTOp, onnx::STFTOp, onnx::MelWeightMatrixOp>(op))
    return std::nullopt;
  std::string name = op->getName().stripDialect().str();
  auto out = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (auto dft = dyn_cast<onnx::DFTOp>(op)) {
    auto in = dyn_cast<RankedTensorType>(dft.getInput().getType());
    if (!in || !out || in.isDynamicDim(in.getRank() - 1))
      return std::string("DFT needs a ranked input with a static last "
                         "dimension (1 or 2)");
    if (dftAxis(dft, in.getRank()) < 0)
      return std::string("DFT's axis must be a constant naming a signal "
                         "dimension (not the batch or the last)");
    return std::nullopt;
  }
  // STFT's batch follows the signal's; its frames and bins need the shape.
  bool known = out && (isa<onnx::STFTOp>(op)
                           ? out.getRank() == 4 && staticAfterBatch(out)
                           : out.hasStaticShape());
  if (!known)
    return name + "'s output shape depends on the values of its inputs: "
                  "Tessera compiles it when the model gives that shape (a "
                  "graph output or value_info with static dims) and checks "
                  "the values against it at run time";
  if (auto stft = dyn_cast<onnx::STFTOp>(op)) {
    auto in = dyn_cast<RankedTensorType>(stft.getSignal().getType());
    if (!in || in.isDynamicDim(2))
      return std::string("STFT needs a signal [batch, length, 1 or 2] with "
                         "a static last dimension");
  }
  return std::nullopt;
}

void tessera::populateONNXSignalToLinalgPatterns(TypeConverter &converter,
                                                 RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<DFTLowering, STFTLowering, MelWeightMatrixLowering>(converter,
                                                                   ctx);
  patterns.add<WindowLowering<onnx::HannWindowOp>>(converter, ctx,
                                                   ArrayRef<double>{0.5, -0.5});
  patterns.add<WindowLowering<onnx::HammingWindowOp>>(
      converter, ctx, ArrayRef<double>{25.0 / 46.0, -21.0 / 46.0});
  patterns.add<WindowLowering<onnx::BlackmanWindowOp>>(
      converter, ctx, ArrayRef<double>{0.42, -0.5, 0.08});
}
