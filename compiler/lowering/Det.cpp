//===- Det.cpp - onnx.Det to loops ----------------------------------------===//
//
// Part of Tessera. The determinant of each matrix by Gaussian elimination
// with partial pivoting (LAPACK's getrf, which NumPy and ONNX Runtime's
// Eigen use): the product of the pivots, negated once per row swap. One
// scf.for over the batch; each matrix is eliminated in a copy.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

/// Scalar loops over one matrix `a` [n, n] (a tensor value carried through
/// the loops).
struct Elimination {
  OpBuilder &b;
  Location l;
  Value n;

  Value c(int64_t v) { return b.create<arith::ConstantIndexOp>(l, v); }
  Value at(Value a, Value i, Value j) {
    return b.create<tensor::ExtractOp>(l, a, ValueRange{i, j});
  }
  Value put(Value a, Value v, Value i, Value j) {
    return b.create<tensor::InsertOp>(l, v, a, ValueRange{i, j});
  }
  /// scf.for over [from, n) carrying `init`; `body` returns the next values.
  ValueRange loop(
      Value from, ValueRange init,
      function_ref<SmallVector<Value>(Elimination &, Value, ValueRange)> body) {
    return b
        .create<scf::ForOp>(
            l, from, n, c(1), init,
            [&](OpBuilder &lb, Location ll, Value i, ValueRange acc) {
              Elimination inner{lb, ll, n};
              lb.create<scf::YieldOp>(ll, body(inner, i, acc));
            })
        .getResults();
  }

  /// The row in [k, n) with the largest |a[row, k]| (the first on ties).
  Value pivotRow(Value a, Value k) {
    Value best = b.create<math::AbsFOp>(l, at(a, k, k));
    return loop(b.create<arith::AddIOp>(l, k, c(1)), {k, best},
                [&](Elimination &e, Value i, ValueRange acc) {
                  Value v = e.b.create<math::AbsFOp>(e.l, e.at(a, i, k));
                  Value better = e.b.create<arith::CmpFOp>(
                      e.l, arith::CmpFPredicate::OGT, v, acc[1]);
                  return SmallVector<Value>{
                      e.b.create<arith::SelectOp>(e.l, better, i, acc[0]),
                      e.b.create<arith::SelectOp>(e.l, better, v, acc[1])};
                })[0];
  }

  /// `a` with rows k and p swapped (from column k on; the columns before
  /// are not read again).
  Value swapRows(Value a, Value k, Value p) {
    return loop(k, {a}, [&](Elimination &e, Value j, ValueRange acc) {
      Value x = e.at(acc[0], k, j), y = e.at(acc[0], p, j);
      Value swapped = e.put(e.put(acc[0], y, k, j), x, p, j);
      return SmallVector<Value>{swapped};
    })[0];
  }

  /// `a` with row k's multiples subtracted from the rows below it (from
  /// column k + 1 on), pivot `pivot` (nothing when it is 0).
  Value eliminate(Value a, Value k, Value pivot) {
    Value next = b.create<arith::AddIOp>(l, k, c(1));
    Value zero = b.create<arith::ConstantOp>(l, b.getZeroAttr(pivot.getType()));
    Value singular =
        b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, pivot, zero);
    return loop(next, {a}, [&](Elimination &e, Value i, ValueRange rows) {
      Value ratio = e.b.create<arith::DivFOp>(e.l, e.at(rows[0], i, k), pivot);
      Value f = e.b.create<arith::SelectOp>(e.l, singular, zero, ratio);
      return SmallVector<Value>{
          e.loop(next, {rows[0]}, [&](Elimination &g, Value j, ValueRange m) {
            Value v = g.b.create<arith::SubFOp>(
                g.l, g.at(m[0], i, j),
                g.b.create<arith::MulFOp>(g.l, f, g.at(m[0], k, j)));
            return SmallVector<Value>{g.put(m[0], v, i, j)};
          })[0]};
    })[0];
  }

  /// The determinant of `a`.
  Value determinant(Value a, Type elt) {
    Value one = b.create<arith::ConstantOp>(l, b.getFloatAttr(elt, 1.0));
    return loop(c(0), {a, one}, [&](Elimination &e, Value k, ValueRange acc) {
      Value p = e.pivotRow(acc[0], k);
      Value m = e.swapRows(acc[0], k, p);
      Value swapped =
          e.b.create<arith::CmpIOp>(e.l, arith::CmpIPredicate::ne, p, k);
      Value det = e.b.create<arith::SelectOp>(
          e.l, swapped, e.b.create<arith::NegFOp>(e.l, acc[1]), acc[1]);
      Value pivot = e.at(m, k, k);
      det = e.b.create<arith::MulFOp>(e.l, det, pivot);
      return SmallVector<Value>{e.eliminate(m, k, pivot), det};
    })[1];
  }
};

struct DetLowering : OpConversionPattern<onnx::DetOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::DetOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = rankedType(getTypeConverter(), op.getX());
    auto type = rankedType(getTypeConverter(), op.getY());
    if (!inType || !type || inType.getRank() < 2 ||
        type.getRank() != inType.getRank() - 2)
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    Type elt = type.getElementType();
    int64_t rank = inType.getRank();
    Value x = adaptor.getX();
    checkSameSize(rewriter, loc,
                  tensor::getMixedSize(rewriter, loc, x, rank - 1),
                  tensor::getMixedSize(rewriter, loc, x, rank - 2),
                  "the matrices are not square");
    // [batch..., n, n] -> [B, n, n]: each matrix is one iteration.
    SmallVector<ReassociationIndices> groups(3);
    for (int64_t d = 0; d < rank - 2; ++d)
      groups[0].push_back(d);
    groups[1] = {rank - 2};
    groups[2] = {rank - 1};
    Value batched;
    if (rank == 2) {
      batched = rewriter.create<tensor::ExpandShapeOp>(
          loc,
          RankedTensorType::get({1, inType.getDimSize(0), inType.getDimSize(1)},
                                elt),
          x, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    } else {
      batched = rewriter.create<tensor::CollapseShapeOp>(loc, x, groups);
    }
    Value count = rewriter.create<tensor::DimOp>(loc, batched, 0);
    Value n = rewriter.create<tensor::DimOp>(loc, batched, 1);
    auto flatType = RankedTensorType::get(
        {cast<RankedTensorType>(batched.getType()).getDimSize(0)}, elt);
    Value init = buildEmpty(rewriter, loc, flatType, {OpFoldResult(count)});
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    auto matrixType = RankedTensorType::get(
        {ShapedType::kDynamic, ShapedType::kDynamic}, elt);
    Value dets =
        rewriter
            .create<scf::ForOp>(
                loc, zero, count, one, ValueRange{init},
                [&](OpBuilder &b, Location l, Value i, ValueRange acc) {
                  // A copy of matrix i to eliminate in.
                  OpFoldResult o = b.getIndexAttr(1), z = b.getIndexAttr(0);
                  Value slice = b.create<tensor::ExtractSliceOp>(
                      l, matrixType, batched, ArrayRef<OpFoldResult>{i, z, z},
                      ArrayRef<OpFoldResult>{o, n, n},
                      ArrayRef<OpFoldResult>{o, o, o});
                  Value copy =
                      b.create<linalg::CopyOp>(
                           l, slice, buildEmpty(b, l, matrixType, {n, n}))
                          .getResult(0);
                  Elimination e{b, l, n};
                  Value det = e.determinant(copy, elt);
                  b.create<scf::YieldOp>(
                      l, b.create<tensor::InsertOp>(l, det, acc[0], i)
                             .getResult());
                })
            .getResult(0);
    Value y;
    if (rank == 2) {
      Value det = rewriter.create<tensor::ExtractOp>(loc, dets, zero);
      y = rewriter.create<tensor::FromElementsOp>(loc, type, det);
    } else {
      SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, x);
      sizes.resize(rank - 2);
      SmallVector<ReassociationIndices> batchGroup(1);
      for (int64_t d = 0; d < rank - 2; ++d)
        batchGroup[0].push_back(d);
      y = buildExpandShape(rewriter, loc, type, dets, batchGroup, sizes);
    }
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void tessera::populateONNXDetToLinalgPatterns(TypeConverter &converter,
                                              RewritePatternSet &patterns) {
  patterns.add<DetLowering>(converter, patterns.getContext());
}
