//===- ShapeElements.cpp - exporter shape arithmetic as index values ------===//
//
// Exporters compute the shape operands of Reshape, Expand, Tile,
// ConstantOfShape, Range and Slice in the graph (Shape -> Gather ->
// Unsqueeze -> Concat, with Cast, Mul, Div, Equal/Where on the way). Read at
// run time with tensor.extract, the dims of the results would depend on
// tensor values: the output-dims function could not size the outputs before
// a run, and canonicalization could not see that two dims are equal. Here
// that arithmetic is evaluated on the onnx graph, element by element, as
// index values: constants, tensor.dim of lowered tensors and arith ops on
// them. What cannot be followed is read at run time from the lowered value.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/LoweringUtils.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace onnx = tessera::onnx;

namespace tessera::lowering {
namespace {

constexpr int64_t kMaxElements = 64;
constexpr unsigned kMaxDepth = 32;

using Elements = SmallVector<OpFoldResult>;

/// The static shape of a small ranked integer tensor, else nullopt.
std::optional<ArrayRef<int64_t>> smallIntShape(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.hasStaticShape() ||
      type.getNumElements() > kMaxElements ||
      !isa<IntegerType>(type.getElementType()))
    return std::nullopt;
  return type.getShape();
}

class ShapeTracer {
public:
  ShapeTracer(ConversionPatternRewriter &rewriter, Location loc)
      : rewriter(rewriter), m{rewriter, loc} {}

  /// The elements of `v`, traced or read at run time.
  FailureOr<Elements> elements(Value v, unsigned depth = 0) {
    auto it = memo.find(v);
    if (it != memo.end())
      return it->second;
    auto shape = smallIntShape(v);
    if (!shape)
      return failure();
    int64_t n = ShapedType::getNumElements(*shape);
    FailureOr<Elements> result = failure();
    if (Operation *def = v.getDefiningOp(); def && depth < kMaxDepth)
      result = trace(def, v, depth + 1);
    if (failed(result) || int64_t(result->size()) != n)
      result = readAtRunTime(v, n);
    if (succeeded(result))
      memo[v] = *result;
    return result;
  }

private:
  FailureOr<Elements> trace(Operation *def, Value v, unsigned depth);
  FailureOr<Elements> traceShape(onnx::ShapeOfOp op);
  FailureOr<Elements> traceGather(onnx::GatherOp op, unsigned depth);
  FailureOr<Elements> traceSlice(onnx::SliceOp op, unsigned depth);
  FailureOr<Elements> traceElementwise(Operation *op, Value v,
                                       unsigned depth);

  /// The dims of the lowered `original` (a tensor of any element type).
  FailureOr<Elements> loweredSizes(Value original) {
    FailureOr<Value> lowered = rewriter.getRemappedValue(original);
    if (failed(lowered) || !isa<RankedTensorType>(lowered->getType()))
      return failure();
    return Elements(tensor::getMixedSizes(rewriter, m.loc, *lowered));
  }

  /// tensor.extract of each element of the lowered `original`.
  FailureOr<Elements> readAtRunTime(Value original, int64_t n) {
    FailureOr<Value> lowered = rewriter.getRemappedValue(original);
    if (failed(lowered))
      return failure();
    auto type = dyn_cast<RankedTensorType>(lowered->getType());
    if (!type || !type.hasStaticShape() ||
        !isa<IntegerType>(type.getElementType()))
      return failure();
    Elements out;
    SmallVector<int64_t> strides = computeStrides(type.getShape());
    for (int64_t k = 0; k < n; ++k) {
      SmallVector<Value> at;
      for (int64_t i : delinearize(k, strides))
        at.push_back(indexValue(rewriter, m.loc, m.c(i)));
      Value x = rewriter.create<tensor::ExtractOp>(m.loc, *lowered, at);
      if (type.getElementType().isInteger(1))
        x = rewriter.create<arith::ExtUIOp>(m.loc, rewriter.getI64Type(), x);
      out.push_back(
          rewriter
              .create<arith::IndexCastOp>(m.loc, rewriter.getIndexType(), x)
              .getResult());
    }
    return out;
  }

  OpFoldResult boolean(Value cond) { return m.select(cond, m.c(1), m.c(0)); }
  Value isTrue(OpFoldResult x) {
    return m.cmp(arith::CmpIPredicate::ne, x, m.c(0));
  }

  ConversionPatternRewriter &rewriter;
  SizeMath m;
  DenseMap<Value, Elements> memo;
};

FailureOr<Elements> ShapeTracer::trace(Operation *def, Value v,
                                       unsigned depth) {
  SmallVector<int64_t> values;
  if (isa<onnx::ConstantOp>(def) && getConstIntValues(v, values))
    return Elements(llvm::map_range(
        values, [&](int64_t x) -> OpFoldResult { return m.c(x); }));
  if (auto shape = dyn_cast<onnx::ShapeOfOp>(def))
    return traceShape(shape);
  if (auto size = dyn_cast<onnx::SizeOp>(def)) {
    auto sizes = loweredSizes(size.getData());
    if (failed(sizes))
      return failure();
    return Elements{sizeProduct(rewriter, m.loc, *sizes)};
  }
  if (auto gather = dyn_cast<onnx::GatherOp>(def))
    return traceGather(gather, depth);
  if (auto slice = dyn_cast<onnx::SliceOp>(def))
    return traceSlice(slice, depth);
  // Ops that keep the elements in order.
  if (isa<onnx::UnsqueezeOp, onnx::SqueezeOp, onnx::ReshapeOp,
          onnx::FlattenOp, onnx::IdentityOp>(def))
    return elements(def->getOperand(0), depth);
  if (auto cast = dyn_cast<onnx::CastOp>(def)) {
    auto in = elements(cast.getInput(), depth);
    if (failed(in) || !cast.getTo().isInteger(1))
      return in;
    return Elements(llvm::map_range(
        *in, [&](OpFoldResult x) { return boolean(isTrue(x)); }));
  }
  if (auto concat = dyn_cast<onnx::ConcatOp>(def)) {
    if (cast<ShapedType>(v.getType()).getRank() != 1)
      return failure();
    Elements out;
    for (Value in : concat.getInputs()) {
      auto part = elements(in, depth);
      if (failed(part))
        return failure();
      out.append(*part);
    }
    return out;
  }
  if (auto cos = dyn_cast<onnx::ConstantOfShapeOp>(def)) {
    int64_t fill = 0;
    if (auto attr = cos.getValueAttr()) {
      auto dense = dyn_cast<DenseIntElementsAttr>(attr);
      if (!dense || dense.getNumElements() != 1)
        return failure();
      fill = (*dense.getValues<APInt>().begin()).getSExtValue();
    }
    auto n = ShapedType::getNumElements(*smallIntShape(v));
    return Elements(n, m.c(fill));
  }
  return traceElementwise(def, v, depth);
}

FailureOr<Elements> ShapeTracer::traceShape(onnx::ShapeOfOp op) {
  auto sizes = loweredSizes(op.getData());
  if (failed(sizes))
    return failure();
  auto [start, end] = onnx::shapeRange(op, sizes->size());
  return Elements(ArrayRef(*sizes).slice(start, end - start));
}

/// Gather along axis 0 of a 1-D tensor at constant indices.
FailureOr<Elements> ShapeTracer::traceGather(onnx::GatherOp op,
                                             unsigned depth) {
  SmallVector<int64_t> idx;
  auto dataShape = smallIntShape(op.getData());
  if (!dataShape || dataShape->size() != 1 ||
      onnx::normalizeAxis(op.getAxis(), 1) != 0 ||
      !getConstIntValues(op.getIndices(), idx))
    return failure();
  auto data = elements(op.getData(), depth);
  if (failed(data))
    return failure();
  Elements out;
  for (int64_t i : idx) {
    int64_t k = onnx::normalizeAxis(i, data->size());
    if (k < 0)
      return failure();
    out.push_back((*data)[k]);
  }
  return out;
}

/// Slice of a 1-D tensor with constant starts, ends and steps.
FailureOr<Elements> ShapeTracer::traceSlice(onnx::SliceOp op,
                                            unsigned depth) {
  SmallVector<int64_t> starts, ends, axes, steps;
  auto dataShape = smallIntShape(op.getData());
  if (!dataShape || dataShape->size() != 1 ||
      !getConstIntValues(op.getStarts(), starts) ||
      !getConstIntValues(op.getEnds(), ends) || starts.size() != 1 ||
      ends.size() != 1 ||
      (op.getAxes() && !getConstIntValues(op.getAxes(), axes)) ||
      (op.getSteps() && !getConstIntValues(op.getSteps(), steps)))
    return failure();
  onnx::fillSliceDefaults(1, axes, steps);
  if (axes.size() != 1 || onnx::normalizeAxis(axes[0], 1) != 0 ||
      steps.size() != 1 || steps[0] == 0)
    return failure();
  auto data = elements(op.getData(), depth);
  if (failed(data))
    return failure();
  int64_t n = data->size(), step = steps[0];
  int64_t first = onnx::sliceIndex(starts[0], n, step);
  int64_t end = onnx::sliceIndex(ends[0], n, step);
  Elements out;
  for (int64_t k = first; step > 0 ? k < end : k > end; k += step)
    out.push_back((*data)[k]);
  return out;
}

/// Integer arithmetic, comparisons and logic, numpy-broadcast between
/// operands of one element and operands of the result's shape.
FailureOr<Elements> ShapeTracer::traceElementwise(Operation *op, Value v,
                                                  unsigned depth) {
  using P = arith::CmpIPredicate;
  if (!isa<onnx::AddOp, onnx::SubOp, onnx::MulOp, onnx::DivOp, onnx::MaxOp,
           onnx::MinOp, onnx::NegOp, onnx::AbsOp, onnx::EqualOp, onnx::LessOp,
           onnx::GreaterOp, onnx::LessOrEqualOp, onnx::GreaterOrEqualOp,
           onnx::AndOp, onnx::OrOp, onnx::NotOp, onnx::WhereOp>(op))
    return failure();
  ArrayRef<int64_t> shape = *smallIntShape(v);
  int64_t n = ShapedType::getNumElements(shape);
  SmallVector<Elements> args;
  for (Value operand : op->getOperands()) {
    auto operandShape = smallIntShape(operand);
    if (!operandShape || (ShapedType::getNumElements(*operandShape) != 1 &&
                          *operandShape != shape))
      return failure();
    auto e = elements(operand, depth);
    if (failed(e))
      return failure();
    args.push_back(std::move(*e));
  }
  auto at = [&](unsigned operand, int64_t k) {
    return args[operand].size() == 1 ? args[operand][0] : args[operand][k];
  };
  Elements out;
  for (int64_t k = 0; k < n; ++k) {
    OpFoldResult x = at(0, k);
    auto y = [&] { return at(1, k); };
    OpFoldResult r =
        llvm::TypeSwitch<Operation *, OpFoldResult>(op)
            .Case([&](onnx::AddOp) { return m.add(x, y()); })
            .Case([&](onnx::SubOp) { return m.sub(x, y()); })
            .Case([&](onnx::MulOp) { return m.mul(x, y()); })
            .Case([&](onnx::DivOp) {
              emitCheck(rewriter, m.loc, m.cmp(P::ne, y(), m.c(0)),
                        "shape arithmetic divides by zero");
              return m.div(x, y());
            })
            .Case([&](onnx::NegOp) { return m.sub(m.c(0), x); })
            .Case([&](onnx::AbsOp) { return m.max(x, m.sub(m.c(0), x)); })
            .Case([&](onnx::EqualOp) { return boolean(m.cmp(P::eq, x, y())); })
            .Case([&](onnx::LessOp) { return boolean(m.cmp(P::slt, x, y())); })
            .Case(
                [&](onnx::GreaterOp) { return boolean(m.cmp(P::sgt, x, y())); })
            .Case([&](onnx::LessOrEqualOp) {
              return boolean(m.cmp(P::sle, x, y()));
            })
            .Case([&](onnx::GreaterOrEqualOp) {
              return boolean(m.cmp(P::sge, x, y()));
            })
            .Case([&](onnx::AndOp) {
              return boolean(
                  m.all({isTrue(x), isTrue(y())}));
            })
            .Case([&](onnx::OrOp) {
              return m.max(boolean(isTrue(x)), boolean(isTrue(y())));
            })
            .Case([&](onnx::NotOp) { return boolean(m.cmp(P::eq, x, m.c(0))); })
            .Case([&](onnx::WhereOp) {
              return m.select(isTrue(x), y(), at(2, k));
            })
            .Default([&](Operation *) {
              // Max and Min are variadic.
              bool isMax = isa<onnx::MaxOp>(op);
              OpFoldResult acc = x;
              for (unsigned i = 1; i < args.size(); ++i)
                acc = isMax ? m.max(acc, at(i, k)) : m.min(acc, at(i, k));
              return acc;
            });
    out.push_back(r);
  }
  return out;
}

} // namespace

FailureOr<SmallVector<OpFoldResult>>
shapeElements(ConversionPatternRewriter &rewriter, Location loc,
              Value original) {
  return ShapeTracer(rewriter, loc).elements(original);
}

} // namespace tessera::lowering
