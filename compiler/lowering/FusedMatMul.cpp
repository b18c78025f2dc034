//===- FusedMatMul.cpp - tessera.matmul to linalg -------------------------===//
//
// Part of Tessera. Y = activation(A x B + bias) becomes a linalg.matmul of A
// (batch dims folded into M) with the constant weight, followed by one
// elementwise linalg.generic epilogue (bias, then relu or GELU with the same
// scalar math as onnx.Gelu's lowering). tessera-vectorize-matmul fuses that
// epilogue into the register tiles of the matmul, so the result is written
// once; if it cannot, the elementwise vectorizer handles the epilogue.
//
//===----------------------------------------------------------------------===//

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
    auto at = staticType(getTypeConverter(), op.getA());
    auto bt = staticType(getTypeConverter(), op.getB());
    auto yt = staticType(getTypeConverter(), op.getY());
    if (!at || !bt || !yt ||
        (op.getBias() && !staticType(getTypeConverter(), op.getBias())))
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    Type elt = yt.getElementType();
    if (!isa<FloatType>(elt))
      return rewriter.notifyMatchFailure(op, "needs a floating-point type");
    int64_t k = bt.getDimSize(0), n = bt.getDimSize(1);
    if (k == 0 || at.getDimSize(at.getRank() - 1) != k ||
        yt.getDimSize(yt.getRank() - 1) != n)
      return rewriter.notifyMatchFailure(op, "inconsistent shapes");
    Location loc = op.getLoc();
    int64_t rows = at.getNumElements() / k;
    Value a = buildReshape(rewriter, loc, adaptor.getA(),
                           RankedTensorType::get({rows, k}, elt));
    auto cType = RankedTensorType::get({rows, n}, elt);
    Value zero = buildFilled(rewriter, loc, cType, rewriter.getZeroAttr(elt));
    Value c = rewriter
                  .create<linalg::MatmulOp>(loc, TypeRange{cType},
                                            ValueRange{a, adaptor.getB()},
                                            ValueRange{zero})
                  .getResult(0);
    StringRef act = op.getActivation();
    Value bias = adaptor.getBias();
    if (bias || act != "none") {
      SmallVector<Value> inputs = {c};
      if (bias)
        inputs.push_back(bias);
      c = buildElementwise(
          rewriter, loc, cType, inputs,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            Value x = args[0];
            if (args.size() > 1)
              x = b.create<arith::AddFOp>(l, x, args[1]);
            if (act == "relu")
              return b.create<arith::MaximumFOp>(
                  l, x,
                  b.create<arith::ConstantOp>(l, b.getFloatAttr(elt, 0.0)));
            if (act == "gelu_erf" || act == "gelu_tanh")
              return buildGelu(b, l, x, act == "gelu_tanh");
            return x;
          });
    }
    rewriter.replaceOp(op, buildReshape(rewriter, loc, c, yt));
    return success();
  }
};

} // namespace

void populateFusedMatMulToLinalgPatterns(TypeConverter &converter,
                                         RewritePatternSet &patterns) {
  patterns.add<MatMulOpLowering>(converter, patterns.getContext());
}

} // namespace tessera
