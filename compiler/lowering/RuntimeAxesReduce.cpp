//===- RuntimeAxesReduce.cpp - ReduceSum over run-time axes ---------------===//
//
// ReduceSum's axes are an input; when they are a run-time value (a graph
// input), which dims are reduced is only known at run time, so no linalg
// indexing map can express the reduction. This lowering walks the input once
// and adds each element into a flat result: with keepdims, the result's
// row-major position of an element drops its reduced coordinates, and without
// keepdims the position is the same (size-1 dims do not move elements). The
// flat result is then given the output's shape. Axes out of range are
// run-time errors naming the node, and so are result sizes other than the
// declared ones. It is a plain loop nest: graphs compute axes at run time
// rarely, and never on a hot path.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

using P = arith::CmpIPredicate;

/// Per input dim, whether run-time `axes` name it.
SmallVector<Value> reducedDims(SizeMath &m, ArrayRef<OpFoldResult> axes,
                               int64_t rank) {
  SmallVector<Value> reduced;
  for (int64_t d = 0; d < rank; ++d) {
    SmallVector<Value> names;
    for (OpFoldResult a : axes) {
      OpFoldResult axis =
          m.select(m.cmp(P::slt, a, m.c(0)), m.add(a, m.c(rank)), a);
      names.push_back(m.cmp(P::eq, axis, m.c(d)));
    }
    Value any = m.b.create<arith::ConstantIntOp>(m.loc, 0, 1);
    for (Value n : names)
      any = m.b.createOrFold<arith::OrIOp>(m.loc, any, n);
    reduced.push_back(any);
  }
  return reduced;
}

struct RuntimeAxesReduceSumLowering
    : OpConversionPattern<onnx::ReduceSumOp> {
  RuntimeAxesReduceSumLowering(TypeConverter &converter, MLIRContext *ctx)
      : OpConversionPattern(converter, ctx, /*benefit=*/2) {}

  LogicalResult
  matchAndRewrite(onnx::ReduceSumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<int64_t> constant;
    if (!op.getAxes() || getConstIntValues(op.getAxes(), constant))
      return rewriter.notifyMatchFailure(op, "constant axes");
    auto type = rankedType(getTypeConverter(), op.getData());
    auto outType = rankedType(getTypeConverter(), op.getReduced());
    if (!type || !outType)
      return rewriter.notifyMatchFailure(op, "needs ranked shapes");
    Location loc = op.getLoc();
    auto axes = shapeElements(rewriter, loc, op.getAxes());
    if (failed(axes))
      return rewriter.notifyMatchFailure(op, "axes of unknown length");
    Value x = adaptor.getData();
    if (axes->empty() && op.getNoopWithEmptyAxes()) {
      rewriter.replaceOpWithNewOp<tensor::CastOp>(op, outType, x);
      return success();
    }
    SizeMath m{rewriter, loc};
    int64_t rank = type.getRank();
    for (OpFoldResult a : *axes)
      emitCheck(rewriter, loc,
                m.all({m.cmp(P::sge, a, m.c(-rank)),
                       m.cmp(P::slt, a, m.c(rank))}),
                "reduction axis out of range");
    SmallVector<Value> reduced =
        axes->empty() ? SmallVector<Value>(
                            rank, rewriter.create<arith::ConstantIntOp>(
                                      loc, 1, 1))
                      : reducedDims(m, *axes, rank);

    // The result's sizes with keepdims, their row-major strides, and the
    // output's sizes (the kept dims in order without keepdims).
    SmallVector<OpFoldResult> n = tensor::getMixedSizes(rewriter, loc, x);
    SmallVector<OpFoldResult> kept(rank), strides(rank);
    for (int64_t d = 0; d < rank; ++d)
      kept[d] = m.select(reduced[d], m.c(1), n[d]);
    OpFoldResult total = m.c(1);
    for (int64_t d = rank - 1; d >= 0; --d) {
      strides[d] = total;
      total = m.mul(total, kept[d]);
    }
    SmallVector<OpFoldResult> outSizes;
    if (op.getKeepdims()) {
      outSizes = kept;
    } else {
      outSizes.assign(outType.getRank(), m.c(0));
      OpFoldResult position = m.c(0);
      for (int64_t d = 0; d < rank; ++d) {
        Value keep = m.cmp(P::eq, m.select(reduced[d], m.c(1), m.c(0)),
                           m.c(0));
        for (int64_t j = 0; j < outType.getRank(); ++j)
          outSizes[j] = m.select(
              m.all({keep, m.cmp(P::eq, position, m.c(j))}), n[d],
              outSizes[j]);
        position = m.add(position, m.select(keep, m.c(1), m.c(0)));
      }
      checkSameSize(rewriter, loc, position, m.c(outType.getRank()),
                    "the axes leave a rank other than the declared " +
                        std::to_string(outType.getRank()));
    }
    for (int64_t d = 0; d < outType.getRank(); ++d) {
      if (outType.isDynamicDim(d))
        continue;
      checkSameSize(rewriter, loc, outSizes[d], m.c(outType.getDimSize(d)),
                    "the reduction gives dim " + std::to_string(d) +
                        " a size other than the declared " +
                        std::to_string(outType.getDimSize(d)));
      outSizes[d] = m.c(outType.getDimSize(d));
    }

    // Add every element into its place in the flat result.
    Type elt = type.getElementType();
    auto flatType = RankedTensorType::get({ShapedType::kDynamic}, elt);
    Value empty =
        rewriter.create<tensor::EmptyOp>(loc, flatType, ValueRange{m.v(total)});
    Value zero = rewriter.create<arith::ConstantOp>(
        loc, elt, rewriter.getZeroAttr(elt));
    Value flat = rewriter.create<linalg::FillOp>(loc, zero, empty).result();
    SmallVector<Value> lbs(rank, m.v(m.c(0))), steps(rank, m.v(m.c(1))), ubs;
    for (OpFoldResult s : n)
      ubs.push_back(m.v(s));
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, steps, ValueRange{flat},
        [&](OpBuilder &b, Location l, ValueRange iv,
            ValueRange args) -> scf::ValueVector {
          SizeMath lm{b, l};
          OpFoldResult at = lm.c(0);
          for (int64_t d = 0; d < rank; ++d)
            at = lm.add(at, lm.mul(lm.select(reduced[d], lm.c(0), iv[d]),
                                   strides[d]));
          Value pos = lm.v(at);
          Value v = b.create<tensor::ExtractOp>(l, x, iv);
          Value acc = b.create<tensor::ExtractOp>(l, args[0], pos);
          Value sum = isa<FloatType>(elt)
                          ? b.create<arith::AddFOp>(l, acc, v).getResult()
                          : b.create<arith::AddIOp>(l, acc, v).getResult();
          return {b.create<tensor::InsertOp>(l, sum, args[0], pos)};
        });
    Value result = nest.results.front();

    // Give the flat result the output's shape.
    if (outType.getRank() == 0) {
      Value one = rewriter.create<tensor::CastOp>(
          loc, RankedTensorType::get({1}, elt), result);
      rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
          op, outType, one, ArrayRef<ReassociationIndices>{});
      return success();
    }
    if (outType.hasStaticShape())
      result = rewriter.create<tensor::CastOp>(
          loc, RankedTensorType::get({outType.getNumElements()}, elt),
          result);
    ReassociationIndices all;
    for (int64_t d = 0; d < outType.getRank(); ++d)
      all.push_back(d);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        op, outType, result, ArrayRef<ReassociationIndices>{all}, outSizes);
    return success();
  }
};

} // namespace

void tessera::populateONNXRuntimeAxesReduceToLinalgPatterns(
    TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<RuntimeAxesReduceSumLowering>(converter,
                                             patterns.getContext());
}
