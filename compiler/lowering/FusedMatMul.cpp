//===- FusedMatMul.cpp - tessera.matmul to linalg -------------------------===//
//
// Part of Tessera. Y = activation(A x B + bias) becomes a linalg.matmul of A
// (leading dims, static or dynamic, folded into M) with the constant weight, followed by one
// elementwise linalg.generic epilogue (bias, then relu or GELU with the same
// scalar math as onnx.Gelu's lowering). tessera-vectorize-matmul fuses that
// epilogue into the register tiles of the matmul, so the result is written
// once; if it cannot, the elementwise vectorizer handles the epilogue.
//
// A gated activation (swiglu, geglu_*) is one GEMM with the gate's and the
// value's weights interleaved in blocks of kGateBlock columns ([gate block,
// value block] pairs, packed at compile time), so that a register tile holds
// a gate block and its value block side by side; the epilogue reads the
// product as [rows, N / kGateBlock, 2, kGateBlock] and computes
// act(gate) * value into [rows, N].
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

/// The columns of a gate (or value) block of the packed gated weights.
constexpr int64_t kGateBlock = 16;

/// [W1 | W3] ([K, 2N]) as [K, N / block, 2, block]: each block of the gate's
/// columns followed by the same block of the value's.
std::vector<float> interleaveGated(ArrayRef<float> w, int64_t k, int64_t n,
                                   int64_t block) {
  std::vector<float> packed(w.size());
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      int64_t dst = r * 2 * n + (c / block) * 2 * block + c % block;
      packed[dst] = w[r * 2 * n + c];
      packed[dst + block] = w[r * 2 * n + n + c];
    }
  return packed;
}

/// act(gate) * value over the interleaved GEMM result `c` ([rows, 2N]):
/// a linalg.generic on its [rows, N / block, 2, block] view, into
/// [rows, N]. `bias` ([2N], original order) is added first.
Value gatedEpilogue(OpBuilder &b, Location loc, Value c, Value bias,
                    StringRef act, int64_t n, int64_t block,
                    OpFoldResult rows) {
  MLIRContext *ctx = b.getContext();
  Type elt = cast<RankedTensorType>(c.getType()).getElementType();
  int64_t blocks = n / block;
  int64_t rowsStatic = getConstantIntValue(rows).value_or(ShapedType::kDynamic);
  auto view = RankedTensorType::get({rowsStatic, blocks, 2, block}, elt);
  SmallVector<ReassociationIndices> groups = {{0}, {1, 2, 3}};
  Value c4 = b.create<tensor::ExpandShapeOp>(
      loc, view, c, groups,
      ArrayRef<OpFoldResult>{rows, b.getIndexAttr(blocks), b.getIndexAttr(2),
                             b.getIndexAttr(block)});
  AffineExpr i = getAffineDimExpr(0, ctx), p = getAffineDimExpr(1, ctx),
             t = getAffineDimExpr(2, ctx);
  auto half = [&](int64_t which) {
    return AffineMap::get(3, 0, {i, p, getAffineConstantExpr(which, ctx), t},
                          ctx);
  };
  SmallVector<Value> inputs = {c4, c4};
  SmallVector<AffineMap> maps = {half(0), half(1)};
  if (bias) {
    // The bias in the same view: [2, N / block, block] (gate, value).
    auto biasView = RankedTensorType::get({2, blocks, block}, elt);
    inputs.push_back(b.create<tensor::ExpandShapeOp>(
        loc, biasView, bias, SmallVector<ReassociationIndices>{{0, 1, 2}}));
    maps.push_back(AffineMap::get(3, 0, {getAffineConstantExpr(0, ctx), p, t},
                                  ctx));
    inputs.push_back(inputs.back());
    maps.push_back(AffineMap::get(3, 0, {getAffineConstantExpr(1, ctx), p, t},
                                  ctx));
  }
  SmallVector<OpFoldResult> sizes = {rows, b.getIndexAttr(blocks),
                                     b.getIndexAttr(block)};
  Value init = b.create<tensor::EmptyOp>(loc, sizes, elt);
  maps.push_back(AffineMap::getMultiDimIdentityMap(3, ctx));
  SmallVector<utils::IteratorType> iters(3, utils::IteratorType::parallel);
  Value y =
      b.create<linalg::GenericOp>(
           loc, init.getType(), inputs, ValueRange{init}, maps, iters,
           [&](OpBuilder &nb, Location l, ValueRange args) {
             Value g = args[0], v = args[1];
             if (bias) {
               g = nb.create<arith::AddFOp>(l, g, args[2]);
               v = nb.create<arith::AddFOp>(l, v, args[3]);
             }
             Value a;
             if (act == "swiglu") {
               // g * sigmoid(g) = g / (1 + exp(-g))
               Value one = nb.create<arith::ConstantOp>(
                   l, nb.getFloatAttr(elt, 1.0));
               Value e = nb.create<math::ExpOp>(
                   l, nb.create<arith::NegFOp>(l, g));
               a = nb.create<arith::DivFOp>(
                   l, g, nb.create<arith::AddFOp>(l, one, e));
             } else {
               a = buildGelu(nb, l, g, act == "geglu_tanh");
             }
             nb.create<linalg::YieldOp>(l,
                                        nb.create<arith::MulFOp>(l, a, v)
                                            .getResult());
           })
          .getResult(0);
  return b.create<tensor::CollapseShapeOp>(
      loc, y, SmallVector<ReassociationIndices>{{0}, {1, 2}});
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
    Value weight = adaptor.getB();
    int64_t block = yn % kGateBlock == 0 ? kGateBlock : yn;
    if (gated) {
      // The gate's and the value's weights, interleaved by blocks.
      std::optional<std::vector<float>> w = readF32Constant(op.getB());
      if (!elt.isF32() || !w)
        return rewriter.notifyMatchFailure(op, "a gated GEMM needs constant "
                                               "f32 weights");
      weight = rewriter.create<arith::ConstantOp>(
          op.getLoc(), DenseElementsAttr::get(
                           bt, ArrayRef<float>(interleaveGated(*w, k, yn,
                                                               block))));
    }
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
                                      ValueRange{a, weight},
                                      ValueRange{c})
            .getResult(0);
    StringRef act = op.getActivation();
    Value bias = adaptor.getBias();
    if (gated) {
      c = gatedEpilogue(rewriter, loc, c, bias, act, yn, block, rows);
    } else if (bias || act != "none") {
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
