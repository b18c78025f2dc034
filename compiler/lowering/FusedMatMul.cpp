//===- FusedMatMul.cpp - tessera.matmul to linalg -------------------------===//
//
// Part of Tessera. Y = activation(A x B + bias) becomes a linalg.matmul of A
// (leading dims, static or dynamic, folded into M) with the constant weight, followed by one
// elementwise linalg.generic epilogue (bias, then relu or GELU with the same
// scalar math as onnx.Gelu's lowering). tessera-vectorize-matmul fuses that
// epilogue into the register tiles of the matmul, so the result is written
// once; if it cannot, the elementwise vectorizer handles the epilogue.
//
// A gated activation (swiglu, geglu_*) is two matmuls of A, with the gate's
// and the value's halves of [W1 | W3], and one epilogue act(gate) * value
// reading both products. tessera-vectorize-matmul packs the two weights into
// shared panels (a register tile holds a gate block and its value block side
// by side), so neither product is stored.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/KernelShapes.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/transforms/MatchUtils.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace tessera::lowering;

namespace tessera {
namespace {

/// Columns [col, col + n) of the [K, 2N] constant `w`, as a [K, n] constant.
Value weightHalf(OpBuilder &b, Location loc, ArrayRef<float> w, int64_t k,
                 int64_t n, int64_t col) {
  std::vector<float> half(k * n);
  for (int64_t r = 0; r < k; ++r)
    std::copy_n(w.begin() + r * 2 * n + col, n, half.begin() + r * n);
  auto type = RankedTensorType::get({k, n}, b.getF32Type());
  return b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(type, ArrayRef<float>(half)));
}

/// The activation `act` of `x` (none, relu, gelu_*, or the gate's part of a
/// gated one: swiglu's silu, geglu_*'s GELU).
Value activate(OpBuilder &b, Location l, Value x, StringRef act) {
  Type elt = x.getType();
  if (act == "relu")
    return b.create<arith::MaximumFOp>(
        l, x, b.create<arith::ConstantOp>(l, b.getFloatAttr(elt, 0.0)));
  if (act == "gelu_erf" || act == "geglu_erf")
    return buildGelu(b, l, x, /*tanh=*/false);
  if (act == "gelu_tanh" || act == "geglu_tanh")
    return buildGelu(b, l, x, /*tanh=*/true);
  if (act == "swiglu") {
    // x * sigmoid(x) = x / (1 + exp(-x))
    Value one = b.create<arith::ConstantOp>(l, b.getFloatAttr(elt, 1.0));
    Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, x));
    return b.create<arith::DivFOp>(l, x, b.create<arith::AddFOp>(l, one, e));
  }
  return x;
}

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
    bool gated = op.isGated();
    int64_t k = bt.getDimSize(0), n = bt.getDimSize(1);
    int64_t yn = gated ? n / 2 : n;
    if (k == 0 || at.getDimSize(at.getRank() - 1) != k ||
        !fused::compatibleDim(yt.getDimSize(yt.getRank() - 1), yn))
      return rewriter.notifyMatchFailure(op, "inconsistent shapes");
    Location loc = op.getLoc();
    // The weights: B, or for a gated activation its gate and value halves.
    SmallVector<Value> weights = {adaptor.getB()};
    if (gated) {
      // Split at compile time into f32 halves (a 16-bit weight widened).
      std::optional<std::vector<float>> w = readFloatConstant(op.getB());
      if (!w)
        return rewriter.notifyMatchFailure(op, "a gated GEMM needs constant "
                                               "float weights");
      weights = {weightHalf(rewriter, loc, *w, k, yn, 0),
                 weightHalf(rewriter, loc, *w, k, yn, yn)};
    }
    // The leading dims of A (any of them dynamic) are the rows: A becomes
    // [rows, K], the result [rows, N], viewed back as [..., N].
    // 16-bit floats are multiplied in f32 (weights widened at compile
    // time), the epilogue narrows once.
    Type acc = accumulatorType(elt);
    Value a = adaptor.getA();
    if (acc != elt) {
      a = widenToF32(rewriter, loc, a);
      for (Value &w : weights)
        w = widenToF32(rewriter, loc, w);
    }
    int64_t rank = at.getRank();
    SmallVector<OpFoldResult> lead = tensor::getMixedSizes(rewriter, loc, a);
    lead.pop_back();
    SmallVector<ReassociationIndices> groups = kernels::rowsReassociation(rank);
    if (rank != 2)
      a = rewriter.create<tensor::CollapseShapeOp>(loc, a, groups);
    OpFoldResult rows = rewriter.getIndexAttr(1);
    for (OpFoldResult d : lead)
      rows = kernels::mulSizes(rewriter, loc, rows, d);
    SmallVector<OpFoldResult> cSizes = {rows, rewriter.getIndexAttr(yn)};
    Value zero =
        rewriter.create<arith::ConstantOp>(loc, rewriter.getZeroAttr(acc));
    SmallVector<Value> products;
    for (Value w : weights) {
      Value empty = rewriter.create<tensor::EmptyOp>(loc, cSizes, acc);
      Value c = rewriter.create<linalg::FillOp>(loc, zero, empty).getResult(0);
      products.push_back(rewriter
                             .create<linalg::MatmulOp>(loc, TypeRange{c.getType()},
                                                       ValueRange{a, w},
                                                       ValueRange{c})
                             .getResult(0));
    }
    StringRef act = op.getActivation();
    Value bias = adaptor.getBias();
    Value c = products[0];
    if (bias || act != "none" || acc != elt) {
      // The epilogue, elementwise over [rows, N]: the products (identity)
      // and the bias (along N; for a gated activation its gate and value
      // halves), act(x + bias) or act(gate + bias) * (value + bias').
      MLIRContext *ctx = rewriter.getContext();
      SmallVector<Value> inputs = products;
      SmallVector<AffineMap> maps(products.size(),
                                  AffineMap::getMultiDimIdentityMap(2, ctx));
      if (bias)
        for (int64_t i = 0, e = products.size(); i < e; ++i) {
          inputs.push_back(
              e == 1 ? bias
                     : rewriter.create<tensor::ExtractSliceOp>(
                           loc, bias, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(i * yn)},
                           ArrayRef<OpFoldResult>{rewriter.getIndexAttr(yn)},
                           ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)}));
          maps.push_back(AffineMap::get(2, 0, getAffineDimExpr(1, ctx)));
        }
      maps.push_back(AffineMap::getMultiDimIdentityMap(2, ctx));
      Value init = rewriter.create<tensor::EmptyOp>(loc, cSizes, elt);
      SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
      size_t np = products.size();
      c = rewriter
              .create<linalg::GenericOp>(
                  loc, init.getType(), inputs, ValueRange{init}, maps, iters,
                  [&](OpBuilder &b, Location l, ValueRange args) {
                    SmallVector<Value> x(args.begin(), args.begin() + np);
                    if (bias)
                      for (size_t i = 0; i < np; ++i)
                        x[i] = b.create<arith::AddFOp>(
                            l, x[i],
                            convertScalar(b, l, args[np + i], acc, false,
                                          false));
                    Value y = activate(b, l, x[0], act);
                    if (gated)
                      y = b.create<arith::MulFOp>(l, y, x[1]);
                    b.create<linalg::YieldOp>(
                        l, convertScalar(b, l, y, elt, false, false));
                  })
              .getResult(0);
    }
    if (rank != 2) {
      SmallVector<int64_t> shape(at.getShape());
      shape.back() = yn;
      lead.push_back(rewriter.getIndexAttr(yn));
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
