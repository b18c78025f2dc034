//===- Selection.cpp - NonZero, Compress and Unique to linalg -------------===//
//
// Part of Tessera. How many elements these ops select depends on the
// values, so Tessera compiles them when the model gives their output shape
// (a graph output or value_info with static dims): the count is computed
// first and checked against that shape at run time, then the selection is
// written by one sequential pass (scf.for carrying the write position).
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/OpBuilders.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

using P = arith::CmpIPredicate;

/// Whether the scalar `v` is not zero (false for -0.0 too; NaN is non-zero).
Value isNonZero(OpBuilder &b, Location l, Value v) {
  if (isa<FloatType>(v.getType()))
    return b.create<arith::CmpFOp>(
        l, arith::CmpFPredicate::UNE, v,
        b.create<arith::ConstantOp>(l, b.getFloatAttr(v.getType(), 0.0)));
  return b.create<arith::CmpIOp>(
      l, P::ne, v, b.create<arith::ConstantIntOp>(l, 0, v.getType()));
}

/// A loop over [0, n) carrying `init` plus a count of the iterations where
/// `pick(i)` holds; `onPick(i, position, carried)` returns the carried
/// values after a picked iteration (at write `position`). Returns the
/// carried values, then the count.
SmallVector<Value>
selectLoop(OpBuilder &b, Location loc, Value n, ValueRange init,
           function_ref<Value(OpBuilder &, Location, Value)> pick,
           function_ref<SmallVector<Value>(OpBuilder &, Location, Value, Value,
                                           ValueRange)>
               onPick) {
  SmallVector<Value> inits(init);
  inits.push_back(indexConst(b, loc, 0));
  auto loop = b.create<scf::ForOp>(
      loc, indexConst(b, loc, 0), n, indexConst(b, loc, 1), inits,
      [&](OpBuilder &lb, Location l, Value i, ValueRange acc) {
        Value position = acc.back();
        auto branch = lb.create<scf::IfOp>(
            l, pick(lb, l, i),
            [&](OpBuilder &tb, Location tl) {
              SmallVector<Value> next =
                  onPick(tb, tl, i, position, acc.drop_back());
              next.push_back(tb.create<arith::AddIOp>(tl, position,
                                                      indexConst(tb, tl, 1)));
              tb.create<scf::YieldOp>(tl, next);
            },
            [&](OpBuilder &eb, Location el) {
              eb.create<scf::YieldOp>(el, acc);
            });
        lb.create<scf::YieldOp>(l, branch.getResults());
      });
  return loop.getResults();
}

/// `t` with `value` at `at` when `at` < `bound`, else unchanged: a write
/// position past the output (which the count check then reports) writes
/// nothing.
Value insertBelow(OpBuilder &b, Location l, Value t, Value value, Value at,
                  int64_t bound) {
  Value inside =
      b.create<arith::CmpIOp>(l, P::ult, at, indexConst(b, l, bound));
  Value safe = b.create<arith::SelectOp>(l, inside, at, indexConst(b, l, 0));
  Value kept = b.create<tensor::ExtractOp>(l, t, safe);
  Value v = b.create<arith::SelectOp>(l, inside, value, kept);
  return b.create<tensor::InsertOp>(l, v, t, safe);
}

/// The input of NonZero, Compress or Unique and the axis they select along:
/// `axis` (normalized; -1 if out of range), or 0 of the input flattened to 1-D
/// without one.
std::pair<Value, int64_t> selectionInput(OpBuilder &b, Location loc, Value x,
                                         std::optional<int64_t> axis) {
  auto type = cast<RankedTensorType>(x.getType());
  if (axis)
    return {x, onnx::normalizeAxis(*axis, type.getRank())};
  if (type.getRank() == 1)
    return {x, 0};
  if (type.getRank() == 0)
    return {b.create<tensor::ExpandShapeOp>(
                loc, RankedTensorType::get({1}, type.getElementType()), x,
                ArrayRef<ReassociationIndices>{}),
            0};
  SmallVector<ReassociationIndices> all(1);
  for (int64_t d = 0; d < type.getRank(); ++d)
    all[0].push_back(d);
  return {b.create<tensor::CollapseShapeOp>(loc, x, all), 0};
}

/// NonZero: the count, checked, then one pass writing each non-zero
/// element's row-major coordinates into column `position`.
struct NonZeroLowering : OpConversionPattern<onnx::NonZeroOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::NonZeroOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = rankedType(getTypeConverter(), op.getX());
    auto type = staticType(getTypeConverter(), op.getY());
    if (!inType || !type || inType.getRank() < 1 || type.getRank() != 2)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    int64_t rank = inType.getRank(), count = type.getDimSize(1);
    // Row-major: flatten, and split flat indices by the dims.
    Value x = adaptor.getX();
    SmallVector<Value> dims;
    for (int64_t d = 0; d < rank; ++d)
      dims.push_back(rewriter.create<tensor::DimOp>(loc, x, d));
    Value flat = selectionInput(rewriter, loc, x, std::nullopt).first;
    Value n = rewriter.create<tensor::DimOp>(loc, flat, 0);
    auto pick = [&](OpBuilder &b, Location l, Value i) {
      return isNonZero(b, l, b.create<tensor::ExtractOp>(l, flat, i));
    };
    auto noWrite = [](OpBuilder &, Location, Value, Value, ValueRange acc) {
      return SmallVector<Value>(acc);
    };
    Value found = selectLoop(rewriter, loc, n, {}, pick, noWrite).back();
    checkGivenSize(rewriter, loc, found, count,
                   "the number of non-zero elements", true);
    Value init = buildFilled(rewriter, loc, type,
                             rewriter.getZeroAttr(type.getElementType()));
    Value y =
        selectLoop(rewriter, loc, n, {init}, pick,
                   [&](OpBuilder &b, Location l, Value i, Value position,
                       ValueRange acc) {
                     // Never past the output, whatever the check said.
                     Value out = acc[0];
                     Value inside = b.create<arith::CmpIOp>(
                         l, P::ult, position, indexConst(b, l, count));
                     Value column = b.create<arith::SelectOp>(
                         l, inside, position, indexConst(b, l, 0));
                     Value rest = i;
                     for (int64_t d = rank - 1; d >= 0; --d) {
                       Value coord = b.create<arith::RemUIOp>(l, rest, dims[d]);
                       rest = b.create<arith::DivUIOp>(l, rest, dims[d]);
                       Value v = b.create<arith::IndexCastOp>(
                           l, type.getElementType(), coord);
                       out = b.create<tensor::InsertOp>(
                           l, v, out, ValueRange{indexConst(b, l, d), column});
                     }
                     return SmallVector<Value>{out};
                   })
            .front();
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// Compress along `axis` (of the flattened input without one): the
/// positions i < min(len(condition), dim) where condition[i] holds, counted
/// and checked, then gathered.
struct CompressLowering : OpConversionPattern<onnx::CompressOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::CompressOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = rankedType(getTypeConverter(), op.getInput());
    auto type = rankedType(getTypeConverter(), op.getOutput());
    if (!inType || !type)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    // Not a structured binding: the lambdas below capture them.
    Value input;
    int64_t axis;
    std::tie(input, axis) =
        selectionInput(rewriter, loc, adaptor.getInput(), op.getAxis());
    if (axis < 0 || type.isDynamicDim(axis))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    int64_t count = type.getDimSize(axis);
    Value cond = adaptor.getCondition();
    Value n = rewriter.create<arith::MinUIOp>(
        loc, rewriter.create<tensor::DimOp>(loc, cond, 0),
        rewriter.create<tensor::DimOp>(loc, input, axis));
    auto pick = [&](OpBuilder &b, Location l, Value i) {
      return isNonZero(b, l, b.create<tensor::ExtractOp>(l, cond, i));
    };
    // The selected positions, in order.
    auto posType = RankedTensorType::get({count}, rewriter.getIndexType());
    Value init = buildFilled(rewriter, loc, posType, rewriter.getIndexAttr(0));
    SmallVector<Value> loop = selectLoop(
        rewriter, loc, n, {init}, pick,
        [&](OpBuilder &b, Location l, Value i, Value position, ValueRange acc) {
          return SmallVector<Value>{
              insertBelow(b, l, acc[0], i, position, count)};
        });
    checkGivenSize(rewriter, loc, loop[1], count,
                   "the number of selected slices", true);
    Value positions = loop[0];
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, input);
    sizes[axis] = rewriter.getIndexAttr(count);
    rewriter.replaceOp(
        op, buildIndexed(rewriter, loc, type, sizes, {}, {},
                         [&](OpBuilder &b, Location l, ValueRange,
                             ArrayRef<Value> iv) -> Value {
                           SmallVector<Value> idx(iv);
                           idx[axis] = b.create<tensor::ExtractOp>(l, positions,
                                                                   iv[axis]);
                           return b.create<tensor::ExtractOp>(l, input, idx);
                         }));
    return success();
  }
};

/// The slices of a Unique's input along `axis`: slice i holds the elements
/// with index i on the axis, in row-major order of the other dims.
struct Slices {
  Value x;
  int64_t axis;
  SmallVector<Value> dims;
  Value count; // slices
  Value size;  // elements per slice
  Value after; // elements per step of the dims before the axis

  Slices(OpBuilder &b, Location l, Value x, int64_t axis) : x(x), axis(axis) {
    int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
    size = indexConst(b, l, 1);
    after = indexConst(b, l, 1);
    for (int64_t d = 0; d < rank; ++d) {
      dims.push_back(b.create<tensor::DimOp>(l, x, d));
      if (d == axis)
        continue;
      size = b.create<arith::MulIOp>(l, size, dims[d]);
      if (d > axis)
        after = b.create<arith::MulIOp>(l, after, dims[d]);
    }
    count = dims[axis];
  }

  /// Element `s` of slice `i`.
  Value element(OpBuilder &b, Location l, Value i, Value s) const {
    SmallVector<Value> idx(dims.size());
    idx[axis] = i;
    Value outer = b.create<arith::DivUIOp>(l, s, after);
    Value inner = b.create<arith::RemUIOp>(l, s, after);
    for (int64_t d = dims.size() - 1; d > axis; --d) {
      idx[d] = b.create<arith::RemUIOp>(l, inner, dims[d]);
      inner = b.create<arith::DivUIOp>(l, inner, dims[d]);
    }
    for (int64_t d = axis - 1; d >= 0; --d) {
      idx[d] = b.create<arith::RemUIOp>(l, outer, dims[d]);
      outer = b.create<arith::DivUIOp>(l, outer, dims[d]);
    }
    return b.create<tensor::ExtractOp>(l, x, idx);
  }

  /// Compares slices i and j element by element: whether they are equal, or
  /// with `less`, whether slice i comes first lexicographically.
  Value compare(OpBuilder &b, Location l, Value i, Value j, bool less) const {
    Value t = b.create<arith::ConstantIntOp>(l, 1, 1);
    Value f = b.create<arith::ConstantIntOp>(l, 0, 1);
    // (decided, result): the first differing element decides.
    auto loop = b.create<scf::ForOp>(
        l, indexConst(b, l, 0), size, indexConst(b, l, 1), ValueRange{f, t},
        [&](OpBuilder &lb, Location ll, Value s, ValueRange acc) {
          Value a = element(lb, ll, i, s), c = element(lb, ll, j, s);
          Value lt, ne;
          if (isa<FloatType>(a.getType())) {
            lt = lb.create<arith::CmpFOp>(ll, arith::CmpFPredicate::OLT, a, c);
            ne = lb.create<arith::CmpFOp>(ll, arith::CmpFPredicate::ONE, a, c);
          } else {
            lt = lb.create<arith::CmpIOp>(ll, P::slt, a, c);
            ne = lb.create<arith::CmpIOp>(ll, P::ne, a, c);
          }
          Value decides = lb.create<arith::AndIOp>(
              ll, ne, lb.create<arith::XOrIOp>(ll, acc[0], t));
          Value result = less ? lt : f;
          lb.create<scf::YieldOp>(
              ll, ValueRange{
                      lb.create<arith::OrIOp>(ll, acc[0], decides),
                      lb.create<arith::SelectOp>(ll, decides, result, acc[1])});
        });
    // Equal: nothing decided; less: decided as less.
    return less ? b.create<arith::AndIOp>(l, loop.getResult(0),
                                          loop.getResult(1))
                      .getResult()
                : b.create<arith::XOrIOp>(l, loop.getResult(0), t).getResult();
  }
};

/// Unique: for each slice its first equal slice, each first slice's rank
/// (among the first slices: by value when sorted, else by position), the
/// count of first slices checked against the given size, then the outputs
/// gathered through the rank -> slice map.
struct UniqueLowering : OpConversionPattern<onnx::UniqueOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::UniqueOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = rankedType(getTypeConverter(), op.getX());
    auto yType = rankedType(getTypeConverter(), op.getY());
    if (!inType || !yType)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    Value x;
    int64_t axis;
    std::tie(x, axis) =
        selectionInput(rewriter, loc, adaptor.getX(), op.getAxis());
    if (axis < 0 || yType.isDynamicDim(axis))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    int64_t unique = yType.getDimSize(axis);
    Slices slices(rewriter, loc, x, axis);
    Value n = slices.count;
    auto indexType =
        RankedTensorType::get({ShapedType::kDynamic}, rewriter.getIndexType());
    auto read = [](OpBuilder &b, Location l, Value t, Value i) -> Value {
      return b.create<tensor::ExtractOp>(l, t, i);
    };
    // first[i]: the smallest j <= i whose slice equals slice i.
    Value first = buildIndexed(
        rewriter, loc, indexType, {OpFoldResult(n)}, {}, {},
        [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> iv) {
          Value i = iv[0];
          return b
              .create<scf::ForOp>(
                  l, indexConst(b, l, 0), i, indexConst(b, l, 1), ValueRange{i},
                  [&](OpBuilder &lb, Location ll, Value j, ValueRange acc) {
                    Value unset =
                        lb.create<arith::CmpIOp>(ll, P::eq, acc[0], i);
                    Value same = lb.create<arith::AndIOp>(
                        ll, unset, slices.compare(lb, ll, j, i, false));
                    lb.create<scf::YieldOp>(
                        ll, lb.create<arith::SelectOp>(ll, same, j, acc[0])
                                .getResult());
                  })
              .getResult(0);
        });
    auto isFirst = [&](OpBuilder &b, Location l, Value i) -> Value {
      return b.create<arith::CmpIOp>(l, P::eq, read(b, l, first, i), i);
    };
    // rank[i] (for first slices): the first slices before it.
    bool sorted = op.getSorted();
    Value rank = buildIndexed(
        rewriter, loc, indexType, {OpFoldResult(n)}, {}, {},
        [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> iv) {
          Value i = iv[0];
          return b
              .create<scf::ForOp>(
                  l, indexConst(b, l, 0), sorted ? n : i, indexConst(b, l, 1),
                  ValueRange{indexConst(b, l, 0)},
                  [&](OpBuilder &lb, Location ll, Value j, ValueRange acc) {
                    Value before = isFirst(lb, ll, j);
                    if (sorted)
                      before = lb.create<arith::AndIOp>(
                          ll, before, slices.compare(lb, ll, j, i, true));
                    Value next = lb.create<arith::AddIOp>(
                        ll, acc[0], indexConst(lb, ll, 1));
                    lb.create<scf::YieldOp>(
                        ll, lb.create<arith::SelectOp>(ll, before, next, acc[0])
                                .getResult());
                  })
              .getResult(0);
        });
    // position[r]: the first slice of rank r.
    auto posType = RankedTensorType::get({unique}, rewriter.getIndexType());
    Value init = buildFilled(rewriter, loc, posType, rewriter.getIndexAttr(0));
    SmallVector<Value> loop = selectLoop(
        rewriter, loc, n, {init},
        [&](OpBuilder &b, Location l, Value i) { return isFirst(b, l, i); },
        [&](OpBuilder &b, Location l, Value i, Value, ValueRange acc) {
          return SmallVector<Value>{
              insertBelow(b, l, acc[0], i, read(b, l, rank, i), unique)};
        });
    checkGivenSize(rewriter, loc, loop[1], unique,
                   "the number of distinct slices", true);
    Value position = loop[0];

    SmallVector<OpFoldResult> ySizes = tensor::getMixedSizes(rewriter, loc, x);
    ySizes[axis] = rewriter.getIndexAttr(unique);
    SmallVector<Value> results = {buildIndexed(
        rewriter, loc, yType, ySizes, {}, {},
        [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> iv) {
          SmallVector<Value> idx(iv);
          idx[axis] = read(b, l, position, iv[axis]);
          return b.create<tensor::ExtractOp>(l, x, idx).getResult();
        })};
    auto asI64 = [](OpBuilder &b, Location l, Value v) -> Value {
      return b.create<arith::IndexCastOp>(l, b.getI64Type(), v);
    };
    for (auto [k, result] : llvm::enumerate(op.getExtra())) {
      auto type = rankedType(getTypeConverter(), result);
      if (!type || type.getRank() != 1)
        return rewriter.notifyMatchFailure(op, "checked before conversion");
      SmallVector<OpFoldResult> sizes = {
          k == 1 ? OpFoldResult(n) : rewriter.getIndexAttr(unique)};
      results.push_back(buildIndexed(
          rewriter, loc, type, sizes, {}, {},
          [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> iv) {
            Value r = iv[0];
            if (k == 0) // indices: each distinct slice's first occurrence
              return asI64(b, l, read(b, l, position, r));
            if (k == 1) // inverse_indices: each slice's index in Y
              return asI64(b, l, read(b, l, rank, read(b, l, first, r)));
            // counts: the slices whose first equal slice is position[r]
            Value p = read(b, l, position, r);
            return asI64(
                b, l,
                b.create<scf::ForOp>(
                     l, indexConst(b, l, 0), n, indexConst(b, l, 1),
                     ValueRange{indexConst(b, l, 0)},
                     [&](OpBuilder &lb, Location ll, Value j, ValueRange acc) {
                       Value same = lb.create<arith::CmpIOp>(
                           ll, P::eq, read(lb, ll, first, j), p);
                       Value next = lb.create<arith::AddIOp>(
                           ll, acc[0], indexConst(lb, ll, 1));
                       lb.create<scf::YieldOp>(ll, lb.create<arith::SelectOp>(
                                                         ll, same, next, acc[0])
                                                       .getResult());
                     })
                    .getResult(0));
          }));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

std::optional<std::string> tessera::selectionOpProblem(Operation *op) {
  if (!isa<onnx::NonZeroOp, onnx::CompressOp, onnx::UniqueOp,
           onnx::NonMaxSuppressionOp>(op))
    return std::nullopt;
  std::string name = op->getName().stripDialect().str();
  auto in = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  auto out = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!in || (isa<onnx::NonZeroOp>(op) && in.getRank() == 0))
    return name + " needs an input of known rank of at least 1";
  bool known = out && out.hasStaticShape();
  // Compress and Unique need only the selected axis static.
  std::optional<int64_t> axis;
  if (auto compress = dyn_cast<onnx::CompressOp>(op))
    axis = compress.getAxis();
  else if (auto unique = dyn_cast<onnx::UniqueOp>(op))
    axis = unique.getAxis();
  if (out && isa<onnx::CompressOp, onnx::UniqueOp>(op)) {
    int64_t a = axis ? onnx::normalizeAxis(*axis, in.getRank()) : 0;
    known = a >= 0 && a < out.getRank() && !out.isDynamicDim(a);
  }
  if (!known)
    return name + "'s output shape depends on the values of its inputs: "
                  "Tessera compiles it when the model gives that shape (a "
                  "graph output or value_info with static dims) and checks "
                  "the count against it at run time";
  return std::nullopt;
}

void tessera::populateONNXSelectionToLinalgPatterns(
    TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<NonZeroLowering, CompressLowering, UniqueLowering>(
      converter, patterns.getContext());
}
