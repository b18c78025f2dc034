//===- ONNXOps.cpp - onnx op verifiers ------------------------------------===//
//
// Verifiers check what can be checked from types and constant operands.
// Dynamic dimensions are accepted wherever a static one would be.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/ONNXDialect.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace tessera::onnx;

namespace {

RankedTensorType ranked(Value v) {
  return v ? dyn_cast<RankedTensorType>(v.getType()) : RankedTensorType();
}

bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// The operands broadcast together and the result has the broadcast rank.
LogicalResult verifyBroadcast(Operation *op, ValueRange operands) {
  SmallVector<int64_t> shape;
  for (Value v : operands) {
    auto type = ranked(v);
    if (!type)
      return success();
    SmallVector<int64_t> next;
    if (failed(broadcastShapes(shape, type.getShape(), next)))
      return op->emitOpError("operands are not broadcast-compatible: ")
             << operands.getTypes();
    shape = next;
  }
  for (Value r : op->getResults()) {
    auto type = ranked(r);
    if (!type)
      continue;
    if (type.getRank() != static_cast<int64_t>(shape.size()))
      return op->emitOpError("result rank ")
             << type.getRank() << " does not match broadcast rank "
             << shape.size();
    for (auto [got, want] : llvm::zip(type.getShape(), shape))
      if (!dimsCompatible(got, want))
        return op->emitOpError("result type ")
               << type << " does not match the broadcast of the operands";
  }
  return success();
}

/// The result has the shape of `input` (element types may differ).
LogicalResult verifySameShape(Operation *op, Value input, Value result) {
  auto in = ranked(input), out = ranked(result);
  if (!in || !out)
    return success();
  if (in.getRank() != out.getRank())
    return op->emitOpError("result rank ")
           << out.getRank() << " does not match input rank " << in.getRank();
  for (auto [a, b] : llvm::zip(in.getShape(), out.getShape()))
    if (!dimsCompatible(a, b))
      return op->emitOpError("result shape does not match input shape");
  return success();
}

LogicalResult verifyAxis(Operation *op, int64_t axis, Value input,
                         StringRef what = "axis", int64_t extra = 0) {
  auto type = ranked(input);
  if (!type)
    return success();
  int64_t rank = type.getRank() + extra;
  if (normalizeAxis(axis, rank) < 0)
    return op->emitOpError()
           << what << " " << axis << " is out of range for rank " << rank;
  return success();
}

LogicalResult verifyRank(Operation *op, Value v, int64_t rank, StringRef what) {
  auto type = ranked(v);
  if (type && type.getRank() != rank)
    return op->emitOpError()
           << what << " must have rank " << rank << ", got " << type;
  return success();
}

LogicalResult verifyScalarLike(Operation *op, Value v, StringRef what) {
  auto type = ranked(v);
  if (type && type.hasStaticShape() && type.getNumElements() != 1)
    return op->emitOpError() << what << " must be a scalar, got " << type;
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

#define BROADCAST_VERIFIER(OP)                                                 \
  LogicalResult OP::verify() {                                                 \
    return verifyBroadcast(getOperation(), getOperation()->getOperands());     \
  }
BROADCAST_VERIFIER(AddOp)
BROADCAST_VERIFIER(SubOp)
BROADCAST_VERIFIER(MulOp)
BROADCAST_VERIFIER(DivOp)
BROADCAST_VERIFIER(PowOp)
BROADCAST_VERIFIER(EqualOp)
BROADCAST_VERIFIER(LessOp)
BROADCAST_VERIFIER(GreaterOp)
BROADCAST_VERIFIER(LessOrEqualOp)
BROADCAST_VERIFIER(GreaterOrEqualOp)
BROADCAST_VERIFIER(AndOp)
BROADCAST_VERIFIER(OrOp)
BROADCAST_VERIFIER(WhereOp)
#undef BROADCAST_VERIFIER

LogicalResult MaxOp::verify() {
  if (getOperands().empty())
    return emitOpError("needs at least one input");
  return verifyBroadcast(*this, getOperands());
}
LogicalResult MinOp::verify() {
  if (getOperands().empty())
    return emitOpError("needs at least one input");
  return verifyBroadcast(*this, getOperands());
}

#define SAME_SHAPE_VERIFIER(OP)                                                \
  LogicalResult OP::verify() {                                                 \
    return verifySameShape(getOperation(), getOperand(), getResult());         \
  }
SAME_SHAPE_VERIFIER(SqrtOp)
SAME_SHAPE_VERIFIER(ReciprocalOp)
SAME_SHAPE_VERIFIER(NegOp)
SAME_SHAPE_VERIFIER(AbsOp)
SAME_SHAPE_VERIFIER(ExpOp)
SAME_SHAPE_VERIFIER(LogOp)
SAME_SHAPE_VERIFIER(ErfOp)
SAME_SHAPE_VERIFIER(TanhOp)
SAME_SHAPE_VERIFIER(SigmoidOp)
SAME_SHAPE_VERIFIER(ReluOp)
SAME_SHAPE_VERIFIER(NotOp)
#undef SAME_SHAPE_VERIFIER

LogicalResult QLinearMatMulOp::verify() {
  // The requantization multiplier is one number: per-tensor scales.
  for (Value scale : {getAScale(), getBScale(), getYScale(), getYZeroPoint()}) {
    auto t = dyn_cast<RankedTensorType>(scale.getType());
    if (t && t.hasStaticShape() && t.getNumElements() != 1)
      return emitOpError() << "supports per-tensor scales and output zero "
                              "point only, not "
                           << t;
  }
  return success();
}

LogicalResult ReverseSequenceOp::verify() {
  int64_t batch = getBatchAxis(), time = getTimeAxis();
  if (!((batch == 0 && time == 1) || (batch == 1 && time == 0)))
    return emitOpError() << "batch_axis " << batch << " and time_axis " << time
                         << " must be 0 and 1 in either order";
  auto input = dyn_cast<RankedTensorType>(getInput().getType());
  if (input && input.getRank() < 2)
    return emitOpError() << "needs an input of rank 2 or more, not "
                         << input.getRank();
  auto lens = dyn_cast<RankedTensorType>(getSequenceLens().getType());
  if (lens && (lens.getRank() != 1 || !lens.getElementType().isInteger(64)))
    return emitOpError() << "sequence_lens must be a 1-D int64 tensor, not "
                         << lens;
  return success();
}

LogicalResult GridSampleOp::verify() {
  StringRef mode = getMode(), padding = getPaddingMode();
  if (!llvm::is_contained({"bilinear", "nearest", "bicubic", "linear", "cubic"},
                          mode))
    return emitOpError() << "mode '" << mode
                         << "' is not one of bilinear, nearest, bicubic";
  if (!llvm::is_contained({"zeros", "border", "reflection"}, padding))
    return emitOpError() << "padding_mode '" << padding
                         << "' is not one of zeros, border, reflection";
  auto x = dyn_cast<RankedTensorType>(getX().getType());
  auto grid = dyn_cast<RankedTensorType>(getGrid().getType());
  if (x && x.getRank() != 4)
    return emitOpError() << "supports 2-D sampling: X must be [N, C, H, W], "
                            "not rank "
                         << x.getRank();
  if (grid && (grid.getRank() != 4 ||
               (!grid.isDynamicDim(3) && grid.getDimSize(3) != 2)))
    return emitOpError() << "grid must be [N, H_out, W_out, 2], not " << grid;
  return success();
}

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("approximate must be 'none' or 'tanh', got '")
           << getApproximate() << "'";
  return verifySameShape(*this, getX(), getY());
}

LogicalResult SoftmaxOp::verify() {
  if (failed(verifyAxis(*this, getAxis(), getInput())))
    return failure();
  return verifySameShape(*this, getInput(), getOutput());
}

LogicalResult LogSoftmaxOp::verify() {
  if (failed(verifyAxis(*this, getAxis(), getInput())))
    return failure();
  return verifySameShape(*this, getInput(), getOutput());
}

LogicalResult ClipOp::verify() {
  if (getMin() && failed(verifyScalarLike(*this, getMin(), "min")))
    return failure();
  if (getMax() && failed(verifyScalarLike(*this, getMax(), "max")))
    return failure();
  return verifySameShape(*this, getInput(), getOutput());
}

LogicalResult CastOp::verify() {
  Type elt = cast<ShapedType>(getOutput().getType()).getElementType();
  if (elt != getTo())
    return emitOpError("result element type ")
           << elt << " does not match 'to' " << getTo();
  return verifySameShape(*this, getInput(), getOutput());
}

LogicalResult CastLikeOp::verify() {
  Type elt = cast<ShapedType>(getOutput().getType()).getElementType();
  Type want = cast<ShapedType>(getTargetType().getType()).getElementType();
  if (elt != want)
    return emitOpError("result element type ")
           << elt << " does not match target_type's " << want;
  return verifySameShape(*this, getInput(), getOutput());
}

//===----------------------------------------------------------------------===//
// NN
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::verify() {
  auto a = ranked(getA()), b = ranked(getB());
  if ((a && a.getRank() == 0) || (b && b.getRank() == 0))
    return emitOpError("operands must have rank >= 1");
  if (!a || !b)
    return success();
  int64_t k1 = a.getShape().back();
  int64_t k2 =
      b.getRank() == 1 ? b.getShape()[0] : b.getShape()[b.getRank() - 2];
  if (!dimsCompatible(k1, k2))
    return emitOpError("contraction dimensions differ: ") << k1 << " vs " << k2;
  SmallVector<int64_t> batch;
  if (a.getRank() > 2 && b.getRank() > 2 &&
      failed(broadcastShapes(a.getShape().drop_back(2),
                             b.getShape().drop_back(2), batch)))
    return emitOpError("batch dimensions are not broadcast-compatible");
  return success();
}

LogicalResult GemmOp::verify() {
  if (failed(verifyRank(*this, getA(), 2, "A")) ||
      failed(verifyRank(*this, getB(), 2, "B")))
    return failure();
  auto a = ranked(getA()), b = ranked(getB());
  if (a && b) {
    int64_t k1 = a.getShape()[getTransA() ? 0 : 1];
    int64_t k2 = b.getShape()[getTransB() ? 1 : 0];
    if (!dimsCompatible(k1, k2))
      return emitOpError("contraction dimensions differ: ")
             << k1 << " vs " << k2;
  }
  return success();
}

LogicalResult LayerNormalizationOp::verify() {
  if (failed(verifyAxis(*this, getAxis(), getX())))
    return failure();
  if (getEpsilon().convertToFloat() < 0)
    return emitOpError("epsilon must be non-negative");
  if (getStats().size() > 2)
    return emitOpError("has at most 3 results (Y, Mean, InvStdDev)");
  return verifySameShape(*this, getX(), getY());
}

/// The checks Conv, ConvInteger and QLinearConv share: ranks, channels per
/// group, auto_pad.
template <typename ConvLikeOp>
static LogicalResult verifyConvolution(ConvLikeOp op, Value input,
                                       Value weight) {
  auto x = ranked(input), w = ranked(weight);
  if (x && x.getRank() < 3)
    return op.emitOpError("input must have rank >= 3, got ") << x;
  if (x && w && x.getRank() != w.getRank())
    return op.emitOpError("input and weight ranks differ");
  if (op.getGroup() < 1)
    return op.emitOpError("group must be >= 1");
  if (x && w && !ShapedType::isDynamic(x.getShape()[1]) &&
      !ShapedType::isDynamic(w.getShape()[1]) &&
      x.getShape()[1] != w.getShape()[1] * op.getGroup())
    return op.emitOpError("input channels ")
           << x.getShape()[1] << " do not match weight channels "
           << w.getShape()[1] << " x group " << op.getGroup();
  StringRef pad = op.getAutoPad();
  if (pad != "NOTSET" && pad != "SAME_UPPER" && pad != "SAME_LOWER" &&
      pad != "VALID")
    return op.emitOpError("unknown auto_pad '") << pad << "'";
  return success();
}

LogicalResult ConvOp::verify() {
  return verifyConvolution(*this, getX(), getW());
}

LogicalResult ConvIntegerOp::verify() {
  return verifyConvolution(*this, getX(), getW());
}

LogicalResult QLinearConvOp::verify() {
  if (failed(verifyConvolution(*this, getX(), getW())))
    return failure();
  // One multiplier per output channel at most: per-tensor input and output
  // scales and zero points, and per-tensor or per-channel weight ones.
  for (Value v : {getXScale(), getXZeroPoint(), getYScale(), getYZeroPoint()}) {
    auto t = ranked(v);
    if (t && t.hasStaticShape() && t.getNumElements() != 1)
      return emitOpError() << "needs per-tensor input and output scales and "
                              "zero points, not "
                           << t;
  }
  auto w = ranked(getW());
  for (Value v : {getWScale(), getWZeroPoint()}) {
    auto t = ranked(v);
    if (t && w && t.hasStaticShape() && !w.isDynamicDim(0) &&
        t.getNumElements() != 1 &&
        (t.getRank() != 1 || t.getDimSize(0) != w.getDimSize(0)))
      return emitOpError() << "weight scales and zero points must be one value "
                              "or one per output channel, not "
                           << t;
  }
  return success();
}

LogicalResult RoiAlignOp::verify() {
  StringRef mode = getMode(), coords = getCoordinateTransformationMode();
  if (mode != "avg" && mode != "max")
    return emitOpError() << "mode must be avg or max, not '" << mode << "'";
  if (coords != "half_pixel" && coords != "output_half_pixel")
    return emitOpError() << "coordinate_transformation_mode must be half_pixel "
                            "or output_half_pixel, not '"
                         << coords << "'";
  if (getOutputHeight() < 1 || getOutputWidth() < 1 || getSamplingRatio() < 0 ||
      getSamplingRatio() > 1024)
    return emitOpError() << "output_height and output_width must be at least "
                            "1 and sampling_ratio in [0, 1024]";
  auto x = ranked(getX()), rois = ranked(getRois());
  if (x && x.getRank() != 4)
    return emitOpError() << "X must be [N, C, H, W], not " << x;
  if (rois && (rois.getRank() != 2 ||
               (!rois.isDynamicDim(1) && rois.getDimSize(1) != 4)))
    return emitOpError() << "rois must be [R, 4], not " << rois;
  return success();
}

LogicalResult DetOp::verify() {
  auto x = ranked(getX());
  if (x && (x.getRank() < 2 || !isa<FloatType>(x.getElementType())))
    return emitOpError() << "needs a float tensor of rank 2 or more, not " << x;
  if (x && !x.isDynamicDim(x.getRank() - 1) &&
      !x.isDynamicDim(x.getRank() - 2) &&
      x.getDimSize(x.getRank() - 1) != x.getDimSize(x.getRank() - 2))
    return emitOpError() << "needs square matrices, not " << x;
  return success();
}

LogicalResult CompressOp::verify() {
  auto cond = ranked(getCondition());
  if (cond && cond.getRank() != 1)
    return emitOpError() << "condition must be 1-D, not " << cond;
  auto in = ranked(getInput());
  if (in && getAxis() &&
      normalizeAxis(*getAxis(), std::max<int64_t>(in.getRank(), 1)) < 0)
    return emitOpError() << "axis " << *getAxis() << " is out of range for "
                         << in;
  return success();
}

LogicalResult UniqueOp::verify() {
  if (getExtra().size() > 3)
    return emitOpError() << "has at most 4 results, not "
                         << 1 + getExtra().size();
  auto in = ranked(getX());
  if (in && getAxis() &&
      normalizeAxis(*getAxis(), std::max<int64_t>(in.getRank(), 1)) < 0)
    return emitOpError() << "axis " << *getAxis() << " is out of range for "
                         << in;
  return success();
}

LogicalResult NonMaxSuppressionOp::verify() {
  if (getCenterPointBox() != 0 && getCenterPointBox() != 1)
    return emitOpError() << "center_point_box must be 0 or 1, not "
                         << getCenterPointBox();
  auto boxes = ranked(getBoxes()), scores = ranked(getScores());
  if (boxes && (boxes.getRank() != 3 ||
                (!boxes.isDynamicDim(2) && boxes.getDimSize(2) != 4)))
    return emitOpError() << "boxes must be [batches, boxes, 4], not " << boxes;
  if (scores && scores.getRank() != 3)
    return emitOpError() << "scores must be [batches, classes, boxes], not "
                         << scores;
  return success();
}

LogicalResult DFTOp::verify() {
  auto in = ranked(getInput());
  if (!in)
    return success();
  int64_t rank = in.getRank();
  if (rank < 2 || (!in.isDynamicDim(rank - 1) && in.getDimSize(rank - 1) != 1 &&
                   in.getDimSize(rank - 1) != 2))
    return emitOpError() << "input must be [batch, signal..., 1 or 2], not "
                         << in;
  if (getInverse() && getOnesided())
    return emitOpError("inverse and onesided cannot both be set");
  return success();
}

LogicalResult STFTOp::verify() {
  auto in = ranked(getSignal());
  if (in &&
      (in.getRank() != 3 ||
       (!in.isDynamicDim(2) && in.getDimSize(2) != 1 && in.getDimSize(2) != 2)))
    return emitOpError() << "signal must be [batch, length, 1 or 2], not "
                         << in;
  auto window = ranked(getWindow());
  if (window && window.getRank() != 1)
    return emitOpError() << "window must be 1-D, not " << window;
  if (!getWindow() && !getFrameLength())
    return emitOpError("needs a window or a frame_length");
  return success();
}

LogicalResult EinsumOp::verify() {
  StringRef eq = getEquation();
  StringRef lhs = eq.split("->").first;
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  if (terms.size() != getInputs().size())
    return emitOpError("equation '")
           << eq << "' has " << terms.size() << " operand terms but "
           << getInputs().size() << " inputs were given";
  return success();
}

template <typename ReduceOp> static LogicalResult verifyReduce(ReduceOp op) {
  if (op.getKeepdims() != 0 && op.getKeepdims() != 1)
    return op.emitOpError("keepdims must be 0 or 1");
  if (op.getNoopWithEmptyAxes() != 0 && op.getNoopWithEmptyAxes() != 1)
    return op.emitOpError("noop_with_empty_axes must be 0 or 1");
  SmallVector<int64_t> axes;
  if (op.getAxes() && getConstantInts(op.getAxes(), axes))
    for (int64_t axis : axes)
      if (failed(verifyAxis(op, axis, op.getData())))
        return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Tensor
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getOutput().getType())
    return emitOpError("value type ")
           << getValue().getType() << " does not match result type "
           << getOutput().getType();
  return success();
}

LogicalResult ConstantOfShapeOp::verify() {
  if (failed(verifyRank(*this, getInput(), 1, "shape")))
    return failure();
  if (auto value = getValueAttr()) {
    if (value.getNumElements() != 1)
      return emitOpError("value must hold exactly one element");
    Type elt = cast<ShapedType>(getOutput().getType()).getElementType();
    if (value.getElementType() != elt)
      return emitOpError("value element type ")
             << value.getElementType() << " does not match result " << elt;
  }
  return success();
}

LogicalResult ReshapeOp::verify() {
  if (failed(verifyRank(*this, getShape(), 1, "shape")))
    return failure();
  SmallVector<int64_t> shape;
  if (getConstantInts(getShape(), shape)) {
    if (llvm::count(shape, -1) > 1)
      return emitOpError("shape has more than one -1 entry");
    for (int64_t d : shape)
      if (d < -1)
        return emitOpError("shape entry ") << d << " is invalid";
    if (getAllowzero() && llvm::is_contained(shape, 0) &&
        llvm::is_contained(shape, -1))
      return emitOpError("shape may not hold both 0 and -1 with allowzero");
    auto in = ranked(getData());
    auto out = ranked(getReshaped());
    if (in && out && in.hasStaticShape() && out.hasStaticShape() &&
        in.getNumElements() != out.getNumElements())
      return emitOpError("cannot reshape ")
             << in.getNumElements() << " elements into " << out;
    if (out && out.getRank() != static_cast<int64_t>(shape.size()))
      return emitOpError("result rank ")
             << out.getRank() << " does not match shape length "
             << shape.size();
  }
  return success();
}

LogicalResult TransposeOp::verify() {
  SmallVector<int64_t> perm;
  for (Attribute a : getPerm())
    perm.push_back(cast<IntegerAttr>(a).getInt());
  auto in = ranked(getData());
  int64_t rank = in ? in.getRank() : static_cast<int64_t>(perm.size());
  if (static_cast<int64_t>(perm.size()) != rank)
    return emitOpError("perm has ")
           << perm.size() << " entries but the input has rank " << rank;
  SmallVector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return emitOpError("perm is not a permutation of [0, ") << rank << ")";
    seen[p] = true;
  }
  return success();
}

LogicalResult GatherOp::verify() {
  return verifyAxis(*this, getAxis(), getData());
}

LogicalResult ShapeOfOp::verify() {
  return verifyRank(*this, getShape(), 1, "result");
}

LogicalResult SizeOp::verify() {
  return verifyRank(*this, getSize(), 0, "result");
}

LogicalResult UnsqueezeOp::verify() {
  auto axes = ranked(getAxes());
  if (axes && axes.getRank() > 1)
    return emitOpError("axes must be a scalar or 1-D tensor");
  return success();
}

LogicalResult SqueezeOp::verify() {
  SmallVector<int64_t> axes;
  auto in = ranked(getData());
  if (in && getAxes() && getConstantInts(getAxes(), axes))
    for (int64_t axis : axes) {
      int64_t a = normalizeAxis(axis, in.getRank());
      if (a < 0)
        return emitOpError("axis ") << axis << " is out of range";
      if (!ShapedType::isDynamic(in.getShape()[a]) && in.getShape()[a] != 1)
        return emitOpError("cannot squeeze axis ")
               << axis << " of size " << in.getShape()[a];
    }
  return success();
}

LogicalResult FlattenOp::verify() {
  auto in = ranked(getInput());
  if (in && (getAxis() < -in.getRank() || getAxis() > in.getRank()))
    return emitOpError("axis ") << getAxis() << " is out of range [-"
                                << in.getRank() << ", " << in.getRank() << "]";
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  RankedTensorType first;
  for (Value v : getInputs()) {
    auto t = ranked(v);
    if (!t)
      continue;
    if (!first) {
      first = t;
      if (failed(verifyAxis(*this, getAxis(), v)))
        return failure();
      continue;
    }
    if (t.getRank() != first.getRank())
      return emitOpError("inputs have different ranks");
    int64_t axis = normalizeAxis(getAxis(), t.getRank());
    for (int64_t i = 0; i < t.getRank(); ++i)
      if (i != axis && !dimsCompatible(t.getShape()[i], first.getShape()[i]))
        return emitOpError("inputs differ in dimension ")
               << i << " (not the concatenation axis)";
  }
  return success();
}

LogicalResult SliceOp::verify() {
  for (auto [v, what] : {std::pair<Value, const char *>{getStarts(), "starts"},
                         {getEnds(), "ends"},
                         {getAxes(), "axes"},
                         {getSteps(), "steps"}})
    if (v && failed(verifyRank(*this, v, 1, what)))
      return failure();
  auto starts = ranked(getStarts()), ends = ranked(getEnds());
  if (starts && ends &&
      !dimsCompatible(starts.getShape()[0], ends.getShape()[0]))
    return emitOpError("starts and ends have different lengths");
  return success();
}

LogicalResult SplitOp::verify() {
  if (getOutputs().empty())
    return emitOpError("needs at least one result");
  if (failed(verifyAxis(*this, getAxis(), getInput())))
    return failure();
  if (auto n = getNumOutputs())
    if (*n != static_cast<int64_t>(getOutputs().size()))
      return emitOpError("num_outputs is ")
             << *n << " but the op has " << getOutputs().size() << " results";
  SmallVector<int64_t> split;
  if (getSplit() && getConstantInts(getSplit(), split)) {
    if (split.size() != getOutputs().size())
      return emitOpError("split has ") << split.size() << " entries for "
                                       << getOutputs().size() << " results";
    auto in = ranked(getInput());
    if (in) {
      int64_t dim = in.getShape()[normalizeAxis(getAxis(), in.getRank())];
      int64_t sum = 0;
      for (int64_t s : split) {
        if (s < 0)
          return emitOpError("split sizes must be non-negative, got ") << s;
        sum += s;
      }
      if (!ShapedType::isDynamic(dim) && sum != dim)
        return emitOpError("split sizes sum to ")
               << sum << " but the axis has size " << dim;
    }
  }
  return success();
}

LogicalResult ExpandOp::verify() {
  return verifyRank(*this, getShape(), 1, "shape");
}

LogicalResult TileOp::verify() {
  if (failed(verifyRank(*this, getRepeats(), 1, "repeats")))
    return failure();
  auto in = ranked(getInput()), rep = ranked(getRepeats());
  if (in && rep && !ShapedType::isDynamic(rep.getShape()[0]) &&
      rep.getShape()[0] != in.getRank())
    return emitOpError("repeats has ")
           << rep.getShape()[0] << " entries for an input of rank "
           << in.getRank();
  return success();
}

LogicalResult RangeOp::verify() {
  static const char *const names[] = {"start", "limit", "delta"};
  for (auto [v, name] : llvm::zip(getOperands(), names))
    if (failed(verifyScalarLike(*this, v, name)))
      return failure();
  return verifyRank(*this, getOutput(), 1, "result");
}

LogicalResult TriluOp::verify() {
  auto in = ranked(getInput());
  if (in && in.getRank() < 2)
    return emitOpError("input must have rank >= 2, got ") << in;
  if (getK() && failed(verifyScalarLike(*this, getK(), "k")))
    return failure();
  return verifySameShape(*this, getInput(), getOutput());
}

#define GET_OP_CLASSES
#include "dialects/onnx/ONNXOps.cpp.inc"
