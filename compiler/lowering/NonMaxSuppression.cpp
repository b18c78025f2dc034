//===- NonMaxSuppression.cpp - onnx.NonMaxSuppression to loops ------------===//
//
// Part of Tessera. Greedy suppression as ONNX Runtime does it, per batch
// and class: the candidates are the boxes scoring above score_threshold (all
// without one); repeatedly the best remaining candidate (the lowest index
// on ties) is kept unless its IOU with a box already kept in this class
// exceeds iou_threshold, until max_output_boxes_per_class are kept. Kept
// boxes are written as [batch, class, box] rows in that order. The number
// of rows depends on the values: Tessera compiles the op when the model
// gives it and checks it at run time. O(boxes^2) per class, in scf loops.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace tessera::lowering;
namespace onnx = tessera::onnx;

namespace {

using P = arith::CmpIPredicate;
using FP = arith::CmpFPredicate;

/// Scalar helpers over one model's boxes and scores.
struct Suppression {
  OpBuilder &b;
  Location l;
  Value boxes, scores;
  bool centerPoint;

  Value c(int64_t v) { return indexConst(b, l, v); }
  Value f(double v) {
    return b.create<arith::ConstantOp>(l, b.getF32FloatAttr(v));
  }
  Value score(Value batch, Value cls, Value box) {
    return b.create<tensor::ExtractOp>(l, scores, ValueRange{batch, cls, box});
  }

  /// Box `box`'s (ymin, xmin, ymax, xmax).
  std::array<Value, 4> corners(Value batch, Value box) {
    std::array<Value, 4> v;
    for (int64_t k = 0; k < 4; ++k)
      v[k] =
          b.create<tensor::ExtractOp>(l, boxes, ValueRange{batch, box, c(k)});
    if (centerPoint) {
      // [x_center, y_center, width, height].
      Value halfW = b.create<arith::MulFOp>(l, v[2], f(0.5));
      Value halfH = b.create<arith::MulFOp>(l, v[3], f(0.5));
      return {b.create<arith::SubFOp>(l, v[1], halfH),
              b.create<arith::SubFOp>(l, v[0], halfW),
              b.create<arith::AddFOp>(l, v[1], halfH),
              b.create<arith::AddFOp>(l, v[0], halfW)};
    }
    // [y1, x1, y2, x2], any diagonal pair.
    return {b.create<arith::MinimumFOp>(l, v[0], v[2]),
            b.create<arith::MinimumFOp>(l, v[1], v[3]),
            b.create<arith::MaximumFOp>(l, v[0], v[2]),
            b.create<arith::MaximumFOp>(l, v[1], v[3])};
  }

  /// Whether boxes i and j overlap by more than `threshold` (IOU); boxes
  /// without area or overlap never suppress.
  Value suppresses(Value batch, Value i, Value j, Value threshold) {
    auto a = corners(batch, i), o = corners(batch, j);
    auto area = [&](const std::array<Value, 4> &v) -> Value {
      return b.create<arith::MulFOp>(l, b.create<arith::SubFOp>(l, v[2], v[0]),
                                     b.create<arith::SubFOp>(l, v[3], v[1]));
    };
    Value yLo = b.create<arith::MaximumFOp>(l, a[0], o[0]);
    Value xLo = b.create<arith::MaximumFOp>(l, a[1], o[1]);
    Value yHi = b.create<arith::MinimumFOp>(l, a[2], o[2]);
    Value xHi = b.create<arith::MinimumFOp>(l, a[3], o[3]);
    Value overlaps = b.create<arith::AndIOp>(
        l, b.create<arith::CmpFOp>(l, FP::OGT, yHi, yLo),
        b.create<arith::CmpFOp>(l, FP::OGT, xHi, xLo));
    Value inter =
        b.create<arith::MulFOp>(l, b.create<arith::SubFOp>(l, yHi, yLo),
                                b.create<arith::SubFOp>(l, xHi, xLo));
    Value areaA = area(a), areaO = area(o);
    Value uni = b.create<arith::SubFOp>(
        l, b.create<arith::AddFOp>(l, areaA, areaO), inter);
    Value positive = b.create<arith::AndIOp>(
        l,
        b.create<arith::AndIOp>(
            l, b.create<arith::CmpFOp>(l, FP::OGT, areaA, f(0)),
            b.create<arith::CmpFOp>(l, FP::OGT, areaO, f(0))),
        b.create<arith::CmpFOp>(l, FP::OGT, uni, f(0)));
    Value iou = b.create<arith::DivFOp>(l, inter, uni);
    return b.create<arith::AndIOp>(
        l, b.create<arith::AndIOp>(l, overlaps, positive),
        b.create<arith::CmpFOp>(l, FP::OGT, iou, threshold));
  }
};

struct NonMaxSuppressionLowering
    : OpConversionPattern<onnx::NonMaxSuppressionOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(onnx::NonMaxSuppressionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = staticType(getTypeConverter(), op.getSelectedIndices());
    if (!type || type.getRank() != 2 || type.getDimSize(1) != 3 ||
        !type.getElementType().isInteger(64))
      return rewriter.notifyMatchFailure(op, "checked before conversion");
    Location loc = op.getLoc();
    int64_t rows = type.getDimSize(0);
    Value boxes = adaptor.getBoxes(), scores = adaptor.getScores();
    Suppression s{rewriter, loc, boxes, scores, op.getCenterPointBox() == 1};
    auto scalarOr = [&](Value t, auto fallback) -> Value {
      return t ? firstElement(rewriter, loc, t) : fallback;
    };
    Value maxOut =
        toIndex(rewriter, loc,
                scalarOr(adaptor.getMaxOutputBoxesPerClass(),
                         rewriter.create<arith::ConstantIntOp>(loc, 0, 64)));
    Value iouThreshold = scalarOr(adaptor.getIouThreshold(), s.f(0));
    Value scoreThreshold =
        adaptor.getScoreThreshold()
            ? firstElement(rewriter, loc, adaptor.getScoreThreshold())
            : Value();
    Value batches = rewriter.create<tensor::DimOp>(loc, scores, 0);
    Value classes = rewriter.create<tensor::DimOp>(loc, scores, 1);
    Value count = rewriter.create<tensor::DimOp>(loc, scores, 2);
    for (auto [dim, size] : {std::pair(0, batches), std::pair(1, count)})
      checkSameSize(
          rewriter, loc,
          OpFoldResult(rewriter.create<tensor::DimOp>(loc, boxes, dim)), size,
          "boxes and scores disagree on the batches or the boxes");

    Value out = buildFilled(rewriter, loc, type, rewriter.getI64IntegerAttr(0));
    auto flagType =
        RankedTensorType::get({ShapedType::kDynamic}, rewriter.getI1Type());
    Value flags = buildEmpty(rewriter, loc, flagType, {OpFoldResult(count)});
    Value zero = s.c(0), one = s.c(1);
    auto i64 = [&](OpBuilder &b, Location l, Value v) -> Value {
      return b.create<arith::IndexCastOp>(l, b.getI64Type(), v);
    };
    // Over batches and classes, carrying (out, total written).
    auto perPair = [&](OpBuilder &b, Location l, Value batch, Value cls,
                       Value out, Value total) -> std::pair<Value, Value> {
      // flags[j]: box j is still a candidate.
      Value cand =
          b.create<scf::ForOp>(
               l, zero, count, one, ValueRange{flags},
               [&](OpBuilder &lb, Location ll, Value j, ValueRange acc) {
                 Suppression r{lb, ll, boxes, scores, s.centerPoint};
                 Value ok = lb.create<arith::ConstantIntOp>(ll, 1, 1);
                 if (scoreThreshold)
                   ok = lb.create<arith::CmpFOp>(
                       ll, FP::OGT, r.score(batch, cls, j), scoreThreshold);
                 lb.create<scf::YieldOp>(
                     ll, lb.create<tensor::InsertOp>(ll, ok, acc[0], j)
                             .getResult());
               })
              .getResult(0);
      Value start = total;
      // One pick per step: the best candidate, kept or suppressed.
      auto picks = b.create<scf::ForOp>(
          l, zero, count, one, ValueRange{cand, out, total},
          [&](OpBuilder &lb, Location ll, Value, ValueRange acc) {
            Suppression r{lb, ll, boxes, scores, s.centerPoint};
            Value flagsNow = acc[0];
            // The best remaining candidate (first on ties), or none.
            auto best = lb.create<scf::ForOp>(
                ll, zero, count, one, ValueRange{count, r.f(0)},
                [&](OpBuilder &bb, Location bl, Value j, ValueRange m) {
                  Suppression t{bb, bl, boxes, scores, s.centerPoint};
                  Value v = t.score(batch, cls, j);
                  Value open = bb.create<tensor::ExtractOp>(bl, flagsNow, j);
                  Value none = bb.create<arith::CmpIOp>(bl, P::eq, m[0], count);
                  Value better = bb.create<arith::OrIOp>(
                      bl, none, bb.create<arith::CmpFOp>(bl, FP::OGT, v, m[1]));
                  Value take = bb.create<arith::AndIOp>(bl, open, better);
                  bb.create<scf::YieldOp>(
                      bl, ValueRange{
                              bb.create<arith::SelectOp>(bl, take, j, m[0]),
                              bb.create<arith::SelectOp>(bl, take, v, m[1])});
                });
            Value pick = best.getResult(0);
            Value found = lb.create<arith::CmpIOp>(ll, P::ne, pick, count);
            Value at = lb.create<arith::SelectOp>(ll, found, pick, zero);
            Value taken = lb.create<arith::AndIOp>(
                ll, found, lb.create<tensor::ExtractOp>(ll, flagsNow, at));
            // scf.if, not a select of tensors: the updates stay in place.
            auto insertIf =
                [&](Value cond, Value into,
                    function_ref<Value(OpBuilder &, Location)> update)
                -> Value {
              return lb
                  .create<scf::IfOp>(
                      ll, cond,
                      [&](OpBuilder &tb, Location tl) {
                        tb.create<scf::YieldOp>(tl, update(tb, tl));
                      },
                      [&](OpBuilder &eb, Location el) {
                        eb.create<scf::YieldOp>(el, into);
                      })
                  .getResult(0);
            };
            Value closed =
                insertIf(found, flagsNow, [&](OpBuilder &tb, Location tl) {
                  return tb.create<tensor::InsertOp>(
                      tl, tb.create<arith::ConstantIntOp>(tl, 0, 1), flagsNow,
                      at);
                });
            // Suppressed by a box kept in this class (rows [start, total)).
            Value suppressed =
                lb.create<scf::ForOp>(
                      ll, start, acc[2], one,
                      ValueRange{lb.create<arith::ConstantIntOp>(ll, 0, 1)},
                      [&](OpBuilder &sb, Location sl, Value row,
                          ValueRange any) {
                        Suppression t{sb, sl, boxes, scores, s.centerPoint};
                        Value inside = sb.create<arith::CmpIOp>(sl, P::ult, row,
                                                                t.c(rows));
                        Value safe =
                            sb.create<arith::SelectOp>(sl, inside, row, t.c(0));
                        Value kept = sb.create<arith::IndexCastOp>(
                            sl, sb.getIndexType(),
                            sb.create<tensor::ExtractOp>(
                                sl, acc[1], ValueRange{safe, t.c(2)}));
                        Value hit = sb.create<arith::AndIOp>(
                            sl, inside,
                            t.suppresses(batch, at, kept, iouThreshold));
                        sb.create<scf::YieldOp>(
                            sl, sb.create<arith::OrIOp>(sl, any[0], hit)
                                    .getResult());
                      })
                    .getResult(0);
            Value room = lb.create<arith::CmpIOp>(
                ll, P::ult, lb.create<arith::SubIOp>(ll, acc[2], start),
                maxOut);
            Value keep = lb.create<arith::AndIOp>(
                ll, lb.create<arith::AndIOp>(ll, taken, room),
                lb.create<arith::XOrIOp>(
                    ll, suppressed, lb.create<arith::ConstantIntOp>(ll, 1, 1)));
            // Rows past the output are counted, not written (the count is
            // checked after the loops).
            Value inside =
                lb.create<arith::CmpIOp>(ll, P::ult, acc[2], r.c(rows));
            Value row = lb.create<arith::SelectOp>(ll, inside, acc[2], r.c(0));
            Value write = lb.create<arith::AndIOp>(ll, keep, inside);
            Value written =
                insertIf(write, acc[1], [&](OpBuilder &tb, Location tl) {
                  Value t = acc[1];
                  SmallVector<Value> coords = {batch, cls, at};
                  for (auto [k, v] : llvm::enumerate(coords))
                    t = tb.create<tensor::InsertOp>(
                        tl, i64(tb, tl, v), t,
                        ValueRange{row,
                                   tb.create<arith::ConstantIndexOp>(tl, k)});
                  return t;
                });
            Value next = lb.create<arith::SelectOp>(
                ll, keep, lb.create<arith::AddIOp>(ll, acc[2], one), acc[2]);
            lb.create<scf::YieldOp>(ll, ValueRange{closed, written, next});
          });
      return {picks.getResult(1), picks.getResult(2)};
    };
    auto outer = rewriter.create<scf::ForOp>(
        loc, zero, batches, one, ValueRange{out, zero},
        [&](OpBuilder &b, Location l, Value batch, ValueRange acc) {
          auto inner = b.create<scf::ForOp>(
              l, zero, classes, one, acc,
              [&](OpBuilder &cb, Location cl, Value cls, ValueRange cacc) {
                auto [o, t] = perPair(cb, cl, batch, cls, cacc[0], cacc[1]);
                cb.create<scf::YieldOp>(cl, ValueRange{o, t});
              });
          b.create<scf::YieldOp>(l, inner.getResults());
        });
    checkGivenSize(rewriter, loc, outer.getResult(1), rows,
                   "the number of selected boxes", true);
    rewriter.replaceOp(op, outer.getResult(0));
    return success();
  }
};

} // namespace

void tessera::populateONNXNonMaxSuppressionToLinalgPatterns(
    TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<NonMaxSuppressionLowering>(converter, patterns.getContext());
}
