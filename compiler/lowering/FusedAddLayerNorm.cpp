//===- FusedAddLayerNorm.cpp - the row-normalisation kernel ---------------===//
//
// Part of Tessera. tessera.add_layer_norm (LayerNorm or RMSNorm of a residual
// sum) and, through replaceWithRowNorm (RowNorm.h), onnx.RMSNormalization. One
// scf.for per leading axis of X; in each row, vector loops over D (the row
// stays in L1):
//   1. s = x (+ bias) (+ residual), written to `sum` when there is a
//      residual, its lanes accumulated into a vector of partial sums (of
//      squares, for RMSNorm);
//   2. LayerNorm only: the squared deviations from the mean, accumulated
//      likewise;
//   3. y = (s - mean) * rstd * gamma (+ beta), or s * rstd * gamma for
//      RMSNorm, written to `Y`.
// Vectors are the spec's `width` lanes (one vector register of the target);
// a remainder of D % width lanes is handled with one shorter vector.
// Statistics are kept in f32 (f16/bf16 are widened).
// X and the residual may broadcast over leading axes (read at index 0
// there). The leading axes may be dynamic (the row size is static): their
// loops run to run-time bounds. The vectors are built directly in the vector
// dialect on tensors, so no later scheduling pass is needed.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/RowNorm.h"
#include "compiler/lowering/KernelShapes.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <functional>

using namespace mlir;
using namespace tessera::lowering;

namespace tessera {

SmallVector<Value> kernels::overChunks(OpBuilder &b, Location loc,
                                       int64_t begin, int64_t end,
                                       int64_t width, ValueRange init,
                                       ChunkFn body) {
  auto index = [&](int64_t v) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, v);
  };
  int64_t full = begin + (end - begin) / width * width;
  SmallVector<Value> carried(init);
  if (full > begin) {
    auto loop = b.create<scf::ForOp>(
        loc, index(begin), index(full), index(width), carried,
        [&](OpBuilder &lb, Location, Value col, ValueRange args) {
          lb.create<scf::YieldOp>(loc, body(lb, col, width, args));
        });
    carried = loop.getResults();
  }
  if (end > full)
    carried = body(b, index(full), end - full, carried);
  return carried;
}

SmallVector<Value> kernels::overRows(OpBuilder &b, Location loc,
                                     ArrayRef<OpFoldResult> sizes,
                                     ValueRange outs, RowFn body) {
  // With dynamic sizes, the outermost loop writes through whole slices of
  // its arguments (see extractWhole).
  bool dynamic = llvm::any_of(
      sizes, [](OpFoldResult s) { return !getConstantIntValue(s); });
  SmallVector<Value> row;
  std::function<SmallVector<Value>(OpBuilder &, ValueRange)> nest =
      [&](OpBuilder &nb, ValueRange args) -> SmallVector<Value> {
    if (row.size() == sizes.size())
      return body(nb, row, args);
    Value zero = nb.create<arith::ConstantIndexOp>(loc, 0);
    Value one = nb.create<arith::ConstantIndexOp>(loc, 1);
    auto loop = nb.create<scf::ForOp>(
        loc, zero, getValueOrCreateConstantIndexOp(nb, loc, sizes[row.size()]),
        one, args, [&](OpBuilder &lb, Location, Value iv, ValueRange iter) {
          bool whole = row.empty() && dynamic;
          SmallVector<Value> inner(iter);
          if (whole)
            for (Value &v : inner)
              v = kernels::extractWhole(lb, loc, v);
          row.push_back(iv);
          SmallVector<Value> results = nest(lb, inner);
          row.pop_back();
          if (whole)
            for (auto [result, arg] : llvm::zip(results, iter))
              result = kernels::insertWhole(lb, loc, result, arg);
          lb.create<scf::YieldOp>(loc, results);
        });
    return loop.getResults();
  };
  return nest(b, outs);
}

namespace {

/// The kernel's view of `spec`: the row size and the result's static shape.
/// Each leading dim is static where a result type or a summand (on an axis
/// it does not broadcast) has it static, the last such size as agreedSize
/// picks it; 1 when no operand has the axis.
struct RowNormShape {
  int64_t rowSize;
  SmallVector<int64_t> shape;
};

RowNormShape rowNormShape(const kernels::RowNorm &spec) {
  RankedTensorType yType = spec.yType;
  auto xType = cast<RankedTensorType>(spec.x.getType());
  int64_t rank = yType.getRank();
  int64_t d = yType.getDimSize(rank - 1);
  if (ShapedType::isDynamic(d))
    d = xType.getDimSize(xType.getRank() - 1);
  SmallVector<RankedTensorType> types = {yType};
  SmallVector<RankedTensorType> summands = {xType};
  if (spec.residual) {
    types.push_back(spec.sumType);
    summands.push_back(cast<RankedTensorType>(spec.residual.getType()));
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i + 1 < rank; ++i) {
    bool any = false;
    int64_t size = ShapedType::kDynamic;
    auto see = [&](int64_t dim) {
      any = true;
      if (!ShapedType::isDynamic(dim))
        size = dim;
    };
    for (RankedTensorType t : types)
      if (!t.isDynamicDim(i))
        see(t.getDimSize(i));
    for (RankedTensorType t : summands) {
      int64_t j = i - (rank - t.getRank());
      if (j >= 0 && t.getDimSize(j) != 1)
        see(t.getDimSize(j));
    }
    shape.push_back(any ? size : 1);
  }
  shape.push_back(d);
  return {d, shape};
}

} // namespace

std::optional<std::string> kernels::rowNormProblem(const RowNorm &spec) {
  RankedTensorType yType = spec.yType, sumType = spec.sumType;
  auto elt = dyn_cast<FloatType>(yType.getElementType());
  if (!elt || elt.getWidth() > 32 ||
      (sumType && sumType.getElementType() != elt))
    return std::string("needs f32, f16 or bf16");
  RowNormShape rs = rowNormShape(spec);
  int64_t d = rs.rowSize;
  if (ShapedType::isDynamic(d) || d == 0 ||
      (yType.hasStaticShape() && yType.getNumElements() == 0))
    return std::string("needs a static, nonempty row");
  // X and the residual broadcast over leading axes (aligned on the right):
  // a static 1 broadcasts, other dims are the result's (checked at run
  // time if dynamic).
  int64_t rank = yType.getRank();
  auto broadcasts = [&](Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    int64_t offset = rank - t.getRank();
    if (offset < 0 || !fused::compatibleDim(t.getDimSize(t.getRank() - 1), d))
      return false;
    for (int64_t i = 0; i + 1 < t.getRank(); ++i)
      if (!fused::compatibleDim(t.getDimSize(i), rs.shape[i + offset]) &&
          t.getDimSize(i) != 1)
        return false;
    return true;
  };
  if (!broadcasts(spec.x) || (spec.residual && !broadcasts(spec.residual)))
    return std::string("X or residual does not broadcast to the result");
  return std::nullopt;
}

FailureOr<SmallVector<Value>> kernels::buildRowNorm(RewriterBase &rewriter,
                                                    Operation *op,
                                                    const RowNorm &spec) {
  // Checked before any op is built: a pattern that fails leaves the IR as
  // it found it.
  if (std::optional<std::string> why = rowNormProblem(spec))
    return rewriter.notifyMatchFailure(op, *why);
  RankedTensorType yType = spec.yType, sumType = spec.sumType;
  auto xType = cast<RankedTensorType>(spec.x.getType());
  auto resType = spec.residual
                     ? cast<RankedTensorType>(spec.residual.getType())
                     : RankedTensorType();
  auto elt = cast<FloatType>(yType.getElementType());
  Location loc = op->getLoc();
  int64_t rank = yType.getRank();
  RowNormShape rs = rowNormShape(spec);
  int64_t d = rs.rowSize;
  bool rms = spec.rms, hasSum = static_cast<bool>(spec.residual);
  // The leading sizes of the result: `sizes` (dims that must agree are
  // checked at run time).
  SmallVector<RankedTensorType> resultTypes = {yType};
  SmallVector<Value> summands = {spec.x};
  if (hasSum) {
    resultTypes.push_back(sumType);
    summands.push_back(spec.residual);
  }
  SmallVector<OpFoldResult> sizes;
  SmallVector<Value> dynamicSizes;
  for (int64_t i = 0; i + 1 < rank; ++i) {
    SmallVector<OpFoldResult> dims;
    for (RankedTensorType t : resultTypes)
      if (!t.isDynamicDim(i))
        dims.push_back(rewriter.getIndexAttr(t.getDimSize(i)));
    for (Value v : summands) {
      auto t = cast<RankedTensorType>(v.getType());
      int64_t j = i - (rank - t.getRank());
      if (j >= 0 && t.getDimSize(j) != 1)
        dims.push_back(tensor::getMixedSize(rewriter, loc, v, j));
    }
    sizes.push_back(dims.empty()
                        ? rewriter.getIndexAttr(1)
                        : kernels::agreedSize(rewriter, loc, dims,
                                              "X and the residual do not "
                                              "broadcast to the result"));
    if (ShapedType::isDynamic(rs.shape[i]))
      dynamicSizes.push_back(cast<Value>(sizes.back()));
  }
  auto type = RankedTensorType::get(rs.shape, elt);
  Type f32 = rewriter.getF32Type();
  Value x = spec.x, residual = spec.residual;
  Value bias = spec.bias, gamma = spec.gamma, beta = spec.beta;
  // Outputs as alloc_tensor, not tensor.empty: CSE would merge two empties
  // (or this one with another op's), and bufferization would then copy
  // the undefined contents of one into the other before the loops.
  SmallVector<Value> inits;
  for (size_t i = 0; i < resultTypes.size(); ++i)
    inits.push_back(
        rewriter.create<bufferization::AllocTensorOp>(loc, type, dynamicSizes));
  auto index = [&](OpBuilder &b, int64_t v) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, v);
  };
  auto widen = [&](OpBuilder &b, Value v) { return kernels::toF32(b, loc, v); };
  auto narrow = [&](OpBuilder &b, Value v) {
    return kernels::fromF32(b, loc, v, elt);
  };
  auto read = [&](OpBuilder &b, Value src, ValueRange idx, int64_t n) {
    return b.create<vector::TransferReadOp>(loc, VectorType::get({n}, elt),
                                            src, idx, ArrayRef<bool>{true});
  };
  auto write = [&](OpBuilder &b, Value v, Value dst, ValueRange idx) {
    return b
        .create<vector::TransferWriteOp>(loc, v, dst, idx,
                                         ArrayRef<bool>{true})
        .getResult();
  };
  auto splat = [&](OpBuilder &b, Value scalar, int64_t n) -> Value {
    return b.create<vector::BroadcastOp>(loc, VectorType::get({n}, f32),
                                         scalar);
  };
  auto sumOf = [&](OpBuilder &b, Value v) -> Value {
    return b.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD, v);
  };

  int64_t width = spec.width;
  auto overRow = [&](OpBuilder &b, ValueRange init,
                     kernels::ChunkFn body) -> SmallVector<Value> {
    return kernels::overChunks(b, loc, 0, d, width, init, body);
  };
  // Adds a chunk of n lanes to a `width` accumulator.
  auto accumulate = [&](OpBuilder &b, Value acc, Value v, int64_t n) {
    if (n == width)
      return b.create<arith::AddFOp>(loc, acc, v).getResult();
    Value zero = b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(VectorType::get({width}, f32),
                                    rewriter.getF32FloatAttr(0)));
    Value padded = b.create<vector::InsertStridedSliceOp>(
        loc, v, zero, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{1});
    return b.create<arith::AddFOp>(loc, acc, padded).getResult();
  };
  auto zeroAcc = [&](OpBuilder &b) -> Value {
    return b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(VectorType::get({width}, f32),
                                    rewriter.getF32FloatAttr(0)));
  };
  auto scalar = [&](OpBuilder &b, double v) -> Value {
    return b.create<arith::ConstantOp>(loc, rewriter.getF32FloatAttr(v));
  };
  float eps = spec.epsilon;

  // Indices of element `col` of row `row` (the leading indices of the
  // result) in a tensor of type `t` that broadcasts to it (index 0 on its
  // broadcast axes).
  Value zeroIndex = index(rewriter, 0);
  auto at = [&](RankedTensorType t, ArrayRef<Value> row, Value col) {
    SmallVector<Value> idx;
    int64_t offset = rank - t.getRank();
    for (int64_t i = 0; i + 1 < t.getRank(); ++i)
      idx.push_back(t.getDimSize(i) == 1 && type.getDimSize(i + offset) != 1
                        ? zeroIndex
                        : row[i + offset]);
    idx.push_back(col);
    return idx;
  };
  auto rowBody = [&](OpBuilder &b, ArrayRef<Value> row,
                     ValueRange outs) -> SmallVector<Value> {
    // 1. s = x (+ bias) (+ residual), and the row total (of squares for
    // RMSNorm).
    // Carried: the sums being written (with a residual), the accumulator.
    SmallVector<Value> init1;
    if (hasSum)
      init1.push_back(outs[1]);
    init1.push_back(zeroAcc(b));
    SmallVector<Value> r1 = overRow(
        b, init1, [&](OpBuilder &cb, Value col, int64_t n, ValueRange args) {
          Value s = read(cb, x, at(xType, row, col), n);
          if (bias)
            s = cb.create<arith::AddFOp>(loc, s, read(cb, bias, col, n));
          if (residual)
            s = cb.create<arith::AddFOp>(
                loc, s, read(cb, residual, at(resType, row, col), n));
          SmallVector<Value> next;
          if (hasSum)
            next.push_back(write(cb, s, args[0], at(type, row, col)));
          Value w = widen(cb, s);
          if (rms)
            w = cb.create<arith::MulFOp>(loc, w, w);
          next.push_back(accumulate(cb, args.back(), w, n));
          return next;
        });
    // Row element `col` of the normalised values: the sums, or X itself.
    Value sums = hasSum ? r1[0] : x;
    RankedTensorType sumsType = hasSum ? type : xType;
    // (Operands that build ops are built first, one statement each: the
    // order of function arguments' evaluation differs between compilers,
    // and the IR must not.)
    Value total = sumOf(b, r1.back());
    Value count = scalar(b, double(d));
    Value mean, squares = total;
    if (!rms) {
      mean = b.create<arith::DivFOp>(loc, total, count);
      // 2. The sum of squared deviations.
      SmallVector<Value> r2 = overRow(
          b, {zeroAcc(b)},
          [&](OpBuilder &cb, Value col, int64_t n, ValueRange args) {
            Value s = widen(cb, read(cb, sums, at(sumsType, row, col), n));
            Value c = cb.create<arith::SubFOp>(loc, s, splat(cb, mean, n));
            Value sq = cb.create<arith::MulFOp>(loc, c, c);
            return SmallVector<Value>{accumulate(cb, args[0], sq, n)};
          });
      squares = sumOf(b, r2[0]);
    }
    Value var = b.create<arith::DivFOp>(loc, squares, scalar(b, double(d)));
    Value one = scalar(b, 1.0);
    Value varEps = b.create<arith::AddFOp>(loc, var, scalar(b, eps));
    Value rstd =
        b.create<arith::DivFOp>(loc, one, b.create<math::SqrtOp>(loc, varEps));
    // 3. y = (s - mean) * rstd * gamma (+ beta), or s * rstd * gamma.
    SmallVector<Value> r3 = overRow(
        b, {outs[0]}, [&](OpBuilder &cb, Value col, int64_t n, ValueRange args) {
          Value c = widen(cb, read(cb, sums, at(sumsType, row, col), n));
          if (!rms)
            c = cb.create<arith::SubFOp>(loc, c, splat(cb, mean, n));
          Value scaled = cb.create<arith::MulFOp>(loc, c, splat(cb, rstd, n));
          Value g = widen(cb, read(cb, gamma, col, n));
          Value y = cb.create<arith::MulFOp>(loc, scaled, g);
          if (beta)
            y = cb.create<arith::AddFOp>(loc, y,
                                         widen(cb, read(cb, beta, col, n)));
          return SmallVector<Value>{
              write(cb, narrow(cb, y), args[0], at(type, row, col))};
        });
    SmallVector<Value> results = {r3[0]};
    if (hasSum)
      results.push_back(sums);
    return results;
  };
  SmallVector<Value> results =
      kernels::overRows(rewriter, loc, sizes, inits, rowBody);
  for (auto [result, want] : llvm::zip(results, resultTypes))
    if (result.getType() != want)
      result = rewriter.create<tensor::CastOp>(loc, want, result);
  return results;
}

LogicalResult kernels::replaceWithRowNorm(RewriterBase &rewriter, Operation *op,
                                          const RowNorm &spec) {
  FailureOr<SmallVector<Value>> results = buildRowNorm(rewriter, op, spec);
  if (failed(results))
    return failure();
  rewriter.replaceOp(op, *results);
  return success();
}

namespace {

/// Whether `x` is a matmul's product, possibly through its elementwise
/// epilogue (tessera.matmul's bias and activation) and reshapes, with rows
/// as long as x's (reshapes keep the row-major order, so the rows of x are
/// then the matmul's).
bool isMatmulProduct(Value x) {
  int64_t d = cast<ShapedType>(x.getType()).getShape().back();
  Operation *def = x.getDefiningOp();
  while (isa_and_nonnull<tensor::ExpandShapeOp, tensor::CollapseShapeOp,
                         tensor::CastOp>(def))
    def = def->getOperand(0).getDefiningOp();
  if (!def || def->getNumResults() != 1 ||
      cast<ShapedType>(def->getResult(0).getType()).getShape().back() != d)
    return false;
  if (auto generic = dyn_cast_or_null<linalg::GenericOp>(def)) {
    if (generic.getNumReductionLoops() != 0)
      return false;
    return llvm::any_of(generic.getDpsInputs(), [](Value in) {
      return isa_and_nonnull<linalg::MatmulOp>(in.getDefiningOp());
    });
  }
  return isa_and_nonnull<linalg::MatmulOp>(def);
}

/// `sum = x (+ bias) + residual` as an elementwise linalg.generic over
/// [rows, D] (x and the residual viewed as rows; both of type `type`, bias
/// [D]), viewed back as `type`. Next to the matmul that produces x, it
/// becomes part of that matmul's epilogue (tessera-fuse-elementwise,
/// tessera-pack-matmul-weights), so that the sum is written from the
/// register tiles and the norm reads one row set instead of two.
Value buildResidualSum(OpBuilder &b, Location loc, RankedTensorType type,
                       Value x, Value bias, Value residual) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = type.getRank();
  SmallVector<ReassociationIndices> groups = kernels::rowsReassociation(rank);
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
  if (rank != 2) {
    x = b.create<tensor::CollapseShapeOp>(loc, x, groups);
    residual = b.create<tensor::CollapseShapeOp>(loc, residual, groups);
  }
  SmallVector<Value> inputs = {x};
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
  SmallVector<AffineMap> maps = {identity};
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(AffineMap::get(2, 0, getAffineDimExpr(1, ctx)));
  }
  inputs.push_back(residual);
  maps.append(2, identity);
  Value init = b.create<tensor::EmptyOp>(loc, tensor::getMixedSizes(b, loc, x),
                                         type.getElementType());
  SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
  Value sum = b.create<linalg::GenericOp>(
                   loc, init.getType(), inputs, ValueRange{init}, maps, iters,
                   [&](OpBuilder &nb, Location l, ValueRange args) {
                     // The kernel's order: (x + bias) + residual.
                     Value s = args[0];
                     for (Value v : args.drop_front().drop_back())
                       s = nb.create<arith::AddFOp>(l, s, v);
                     nb.create<linalg::YieldOp>(l, s);
                   })
                  .getResult(0);
  if (rank != 2)
    sum = b.create<tensor::ExpandShapeOp>(loc, type, sum, groups, sizes);
  return sum;
}

struct AddLayerNormLowering : OpRewritePattern<fused::AddLayerNormOp> {
  AddLayerNormLowering(MLIRContext *ctx, int64_t width)
      : OpRewritePattern(ctx), width(width) {}

  LogicalResult matchAndRewrite(fused::AddLayerNormOp op,
                                PatternRewriter &rewriter) const override {
    auto ranked = [](Value v) {
      return v ? dyn_cast<RankedTensorType>(v.getType()) : RankedTensorType();
    };
    auto isStatic = [&](Value v) {
      RankedTensorType t = ranked(v);
      return t && t.hasStaticShape();
    };
    kernels::RowNorm spec;
    spec.yType = ranked(op.getY());
    spec.sumType = ranked(op.getSum());
    if (!spec.yType || !spec.sumType || !ranked(op.getX()) ||
        !ranked(op.getResidual()) || !isStatic(op.getGamma()) ||
        (op.getBias() && !isStatic(op.getBias())) ||
        (op.getBeta() && !isStatic(op.getBeta())))
      return rewriter.notifyMatchFailure(op, "needs ranked X, residual and "
                                             "results, static parameters");
    spec.x = op.getX();
    spec.residual = op.getResidual();
    spec.bias = op.getBias();
    spec.gamma = op.getGamma();
    spec.beta = op.getBeta();
    spec.rms = op.getNorm() == "rms";
    spec.epsilon = op.getEpsilon().convertToFloat();
    spec.width = width;
    // X fresh from a matmul, of the residual's shape: the sum is the
    // matmul's epilogue, the kernel normalises it (a sum of X's type; the
    // kernel is checked on it before anything is built).
    auto xType = cast<RankedTensorType>(spec.x.getType());
    kernels::RowNorm normOfSum = spec;
    normOfSum.residual = normOfSum.bias = Value();
    normOfSum.sumType = RankedTensorType();
    if (xType == spec.residual.getType() && xType.getRank() >= 2 &&
        xType.getElementType().isF32() && op.getX().hasOneUse() &&
        isMatmulProduct(spec.x) && !kernels::rowNormProblem(normOfSum)) {
      Value sum = buildResidualSum(rewriter, op.getLoc(), xType, spec.x,
                                   spec.bias, spec.residual);
      normOfSum.x = sum;
      FailureOr<SmallVector<Value>> results =
          kernels::buildRowNorm(rewriter, op, normOfSum);
      assert(succeeded(results) && "the kernel was checked");
      if (sum.getType() != spec.sumType)
        sum = rewriter.create<tensor::CastOp>(op.getLoc(), spec.sumType, sum);
      rewriter.replaceOp(op, {results->front(), sum});
      return success();
    }
    return kernels::replaceWithRowNorm(rewriter, op, spec);
  }

  int64_t width;
};

} // namespace

void populateFusedAddLayerNormKernelPatterns(RewritePatternSet &patterns,
                                             unsigned vectorBits) {
  patterns.add<AddLayerNormLowering>(patterns.getContext(),
                                     kernels::vectorLanes(vectorBits));
}

} // namespace tessera
