//===- FusedMatMul.cpp - tessera.matmul to linalg -------------------------===//
//
// Part of Tessera. Y = activation(A x B + bias) becomes a linalg.matmul of A
// (leading dims, static or dynamic, folded into M) with the constant weight, followed by one
// elementwise linalg.generic epilogue (bias, then relu or GELU with the same
// scalar math as onnx.Gelu's lowering). tessera-vectorize-matmul fuses that
// epilogue into the register tiles of the matmul, so the result is written
// once; if it cannot, the elementwise vectorizer handles the epilogue.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/KernelShapes.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/tessera/TesseraDialect.h"

using namespace mlir;
using namespace tessera::lowering;

namespace tessera {
namespace {

struct MatMulOpLowering : OpConversionPattern<fused::MatMulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(fused::MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    const TypeConverter *tc = getTypeConverter();
    auto at = dyn_cast_or_null<RankedTensorType>(tc->convertType(op.getA().getType()));
    auto yt = dyn_cast_or_null<RankedTensorType>(tc->convertType(op.getY().getType()));
    auto bt = staticType(tc, op.getB());
    if (!at || !bt || !yt ||
        (op.getBias() && !staticType(tc, op.getBias())))
      return rewriter.notifyMatchFailure(op, "needs a static weight and bias");
    Type elt = yt.getElementType();
    if (!isa<FloatType>(elt))
      return rewriter.notifyMatchFailure(op, "needs a floating-point type");
    int64_t k = bt.getDimSize(0), n = bt.getDimSize(1);
    if (k == 0 || at.getDimSize(at.getRank() - 1) != k ||
        !fused::compatibleDim(yt.getDimSize(yt.getRank() - 1), n))
      return rewriter.notifyMatchFailure(op, "inconsistent shapes");
    Location loc = op.getLoc();
    // The leading dims of A (any of them dynamic) are the rows: A becomes
    // [rows, K], the result [rows, N], viewed back as [..., N].
    Value a = adaptor.getA();
    int64_t rank = at.getRank();
    SmallVector<OpFoldResult> lead = tensor::getMixedSizes(rewriter, loc, a);
    lead.pop_back();
    SmallVector<ReassociationIndices> groups(1);
    for (int64_t i = 0; i + 1 < rank; ++i)
      groups[0].push_back(i);
    groups.push_back({rank - 1});
    if (rank != 2)
      a = rewriter.create<tensor::CollapseShapeOp>(loc, a, groups);
    OpFoldResult rows = rewriter.getIndexAttr(1);
    for (OpFoldResult d : lead)
      rows = kernels::mulSizes(rewriter, loc, rows, d);
    SmallVector<OpFoldResult> cSizes = {rows, rewriter.getIndexAttr(n)};
    Value empty = rewriter.create<tensor::EmptyOp>(loc, cSizes, elt);
    Value zero = rewriter.create<arith::ConstantOp>(loc, rewriter.getZeroAttr(elt));
    Value c = rewriter.create<linalg::FillOp>(loc, zero, empty).getResult(0);
    c = rewriter
            .create<linalg::MatmulOp>(loc, TypeRange{c.getType()},
                                      ValueRange{a, adaptor.getB()},
                                      ValueRange{c})
            .getResult(0);
    StringRef act = op.getActivation();
    Value bias = adaptor.getBias();
    if (bias || act != "none") {
      // The epilogue: C (identity) and the bias (along N) into a new tensor.
      MLIRContext *ctx = rewriter.getContext();
      SmallVector<Value> inputs = {c};
      SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(2, ctx)};
      if (bias) {
        inputs.push_back(bias);
        maps.push_back(AffineMap::get(2, 0, getAffineDimExpr(1, ctx)));
      }
      maps.push_back(AffineMap::getMultiDimIdentityMap(2, ctx));
      Value init = rewriter.create<tensor::EmptyOp>(loc, cSizes, elt);
      SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
      c = rewriter
              .create<linalg::GenericOp>(
                  loc, init.getType(), inputs, ValueRange{init}, maps, iters,
                  [&](OpBuilder &b, Location l, ValueRange args) {
                    Value x = args[0];
                    if (bias)
                      x = b.create<arith::AddFOp>(l, x, args[1]);
                    if (act == "relu")
                      x = b.create<arith::MaximumFOp>(
                          l, x,
                          b.create<arith::ConstantOp>(l, b.getFloatAttr(elt, 0.0)));
                    else if (act == "gelu_erf" || act == "gelu_tanh")
                      x = buildGelu(b, l, x, act == "gelu_tanh");
                    b.create<linalg::YieldOp>(l, x);
                  })
              .getResult(0);
    }
    if (rank != 2) {
      SmallVector<int64_t> shape(at.getShape());
      shape.back() = n;
      lead.push_back(rewriter.getIndexAttr(n));
      c = rewriter.create<tensor::ExpandShapeOp>(
          loc, RankedTensorType::get(shape, elt), c, groups, lead);
    }
    if (c.getType() != yt)
      c = rewriter.create<tensor::CastOp>(loc, yt, c);
    rewriter.replaceOp(op, c);
    return success();
  }
};

} // namespace

void populateFusedMatMulToLinalgPatterns(TypeConverter &converter,
                                         RewritePatternSet &patterns) {
  patterns.add<MatMulOpLowering>(converter, patterns.getContext());
}

} // namespace tessera
