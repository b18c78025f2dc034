//===- ShapeInference.cpp - result types from operands --------------------===//
//
// Each op computes the most precise result type it can from its operand types
// and constant operands. Unknown dimensions are ShapedType::kDynamic; an
// unranked result means "nothing known". The onnx-fold-shapes pass uses this to
// refine types after shape arithmetic has folded to constants.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/ONNXDialect.h"

using namespace mlir;
using namespace tessera::onnx;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static Type elementTypeOf(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
}

static Type tensorOf(std::optional<ArrayRef<int64_t>> shape, Type elt) {
  if (!shape)
    return UnrankedTensorType::get(elt);
  return RankedTensorType::get(*shape, elt);
}

static std::optional<SmallVector<int64_t>> shapeOf(Value v) {
  if (auto t = dyn_cast<RankedTensorType>(v.getType()))
    return SmallVector<int64_t>(t.getShape());
  return std::nullopt;
}

/// Shape-like operands (a shape, axes, starts) hold one entry per dim: a
/// longer one than this (a hostile model can declare a [2^29] shape in a few
/// bytes, or make one with ConstantOfShape) is not inferred from.
constexpr int64_t kMaxShapeLength = 64;

static bool tooLongForAShape(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  return t && t.getRank() == 1 && !t.isDynamicDim(0) &&
         t.getDimSize(0) > kMaxShapeLength;
}

/// A 1-D shape-like operand of `type`'s static length with no entry known,
/// or nullopt.
static std::optional<SmallVector<int64_t>> unknownEntries(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || t.getRank() != 1 || t.isDynamicDim(0) || tooLongForAShape(t))
    return std::nullopt;
  return SmallVector<int64_t>(t.getDimSize(0), kDyn);
}

static std::optional<SmallVector<int64_t>> partialValues(Value v,
                                                         unsigned depth = 0);

/// Entry i of an elementwise op over partial values (each of the same
/// length or of length 1, broadcast): `fn` of the operands' entries i, or
/// nullopt when it is not known.
static std::optional<SmallVector<int64_t>> partialElementwise(
    ValueRange operands, unsigned depth,
    function_ref<std::optional<int64_t>(ArrayRef<int64_t>)> fn) {
  SmallVector<SmallVector<int64_t>> parts;
  size_t size = 1;
  for (Value operand : operands) {
    auto part = partialValues(operand, depth + 1);
    if (!part || (part->size() != 1 && size != 1 && part->size() != size))
      return std::nullopt;
    size = std::max(size, part->size());
    parts.push_back(std::move(*part));
  }
  SmallVector<int64_t> values;
  for (size_t i = 0; i < size; ++i) {
    SmallVector<int64_t> entries;
    for (const SmallVector<int64_t> &part : parts)
      entries.push_back(part.size() == 1 ? part[0] : part[i]);
    values.push_back(fn(entries).value_or(kDyn));
  }
  return values;
}

/// The values of a small 1-D (or scalar) int64 tensor computed by exporter
/// shape arithmetic, with kDynamic for entries that are not known: constants,
/// Shape of a partly static tensor, Gather of such values at constant
/// indices, Unsqueeze/Squeeze/Cast of them, their Concat, and Equal and Where
/// over them (torch's Expand guard `Where(Equal(shape, -1), 1, shape)` keeps
/// the entries it does not replace).
static std::optional<SmallVector<int64_t>> partialValues(Value v,
                                                         unsigned depth) {
  SmallVector<int64_t> values;
  if (tooLongForAShape(v.getType()))
    return std::nullopt;
  if (getConstantInts(v, values))
    return values;
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || type.getRank() > 1 || depth > 8)
    return std::nullopt;
  Operation *def = v.getDefiningOp();
  if (auto shape = dyn_cast_or_null<ShapeOfOp>(def)) {
    auto in = dyn_cast<RankedTensorType>(shape.getData().getType());
    if (!in)
      return std::nullopt;
    auto [start, end] = shapeRange(shape, in.getRank());
    return SmallVector<int64_t>(in.getShape().slice(start, end - start));
  }
  if (auto gather = dyn_cast_or_null<GatherOp>(def)) {
    auto data = partialValues(gather.getData(), depth + 1);
    SmallVector<int64_t> idx;
    if (!data || !getConstantInts(gather.getIndices(), idx))
      return std::nullopt;
    for (int64_t i : idx) {
      int64_t n = normalizeAxis(i, data->size());
      if (n < 0)
        return std::nullopt;
      values.push_back((*data)[n]);
    }
    return values;
  }
  if (isa_and_nonnull<UnsqueezeOp, SqueezeOp, CastOp>(def))
    return partialValues(def->getOperand(0), depth + 1);
  if (auto equal = dyn_cast_or_null<EqualOp>(def))
    return partialElementwise(
        equal->getOperands(), depth,
        [](ArrayRef<int64_t> e) -> std::optional<int64_t> {
          if (ShapedType::isDynamic(e[0]) || ShapedType::isDynamic(e[1]))
            return std::nullopt;
          return e[0] == e[1];
        });
  if (auto where = dyn_cast_or_null<WhereOp>(def))
    return partialElementwise(
        where->getOperands(), depth,
        [](ArrayRef<int64_t> e) -> std::optional<int64_t> {
          if (!ShapedType::isDynamic(e[0]))
            return e[0] ? e[1] : e[2];
          if (e[1] == e[2] && !ShapedType::isDynamic(e[1]))
            return e[1];
          return std::nullopt;
        });
  if (auto concat = dyn_cast_or_null<ConcatOp>(def)) {
    for (Value in : concat.getInputs()) {
      auto part = partialValues(in, depth + 1);
      if (!part)
        part = unknownEntries(in.getType());
      if (!part)
        return std::nullopt;
      values.append(part->begin(), part->end());
    }
    return values;
  }
  return std::nullopt;
}

/// The shape of a tensor given by a 1-D int64 operand: the entries that are
/// known, else only its length if that is static.
static std::optional<SmallVector<int64_t>> shapeFromOperand(Value v) {
  if (auto values = partialValues(v)) {
    for (int64_t &d : *values)
      if (d < 0 && d != -1)
        d = kDyn;
    return values;
  }
  return unknownEntries(v.getType());
}

LogicalResult tessera::onnx::broadcastOperands(ValueRange operands, Type elt,
                                               SmallVectorImpl<Type> &types) {
  SmallVector<int64_t> shape;
  for (Value v : operands) {
    auto s = shapeOf(v);
    if (!s) {
      types.push_back(UnrankedTensorType::get(elt));
      return success();
    }
    SmallVector<int64_t> next;
    if (failed(broadcastShapes(shape, *s, next)))
      return failure();
    shape = next;
  }
  types.push_back(RankedTensorType::get(shape, elt));
  return success();
}

LogicalResult tessera::onnx::sameShape(Value input, Type elt,
                                       SmallVectorImpl<Type> &types) {
  auto s = shapeOf(input);
  types.push_back(
      tensorOf(s ? std::optional<ArrayRef<int64_t>>(*s) : std::nullopt, elt));
  return success();
}

#define BROADCAST_INFER(OP, ELT)                                               \
  LogicalResult OP::inferResultTypes(SmallVectorImpl<Type> &types) {           \
    return broadcastOperands(getOperation()->getOperands(), ELT, types);       \
  }
BROADCAST_INFER(AddOp, elementTypeOf(getA()))
BROADCAST_INFER(SubOp, elementTypeOf(getA()))
BROADCAST_INFER(MulOp, elementTypeOf(getA()))
BROADCAST_INFER(DivOp, elementTypeOf(getA()))
BROADCAST_INFER(PowOp, elementTypeOf(getX()))
BROADCAST_INFER(MaxOp, elementTypeOf(getOperand(0)))
BROADCAST_INFER(MinOp, elementTypeOf(getOperand(0)))
BROADCAST_INFER(EqualOp, IntegerType::get(getContext(), 1))
BROADCAST_INFER(LessOp, IntegerType::get(getContext(), 1))
BROADCAST_INFER(GreaterOp, IntegerType::get(getContext(), 1))
BROADCAST_INFER(LessOrEqualOp, IntegerType::get(getContext(), 1))
BROADCAST_INFER(GreaterOrEqualOp, IntegerType::get(getContext(), 1))
BROADCAST_INFER(AndOp, IntegerType::get(getContext(), 1))
BROADCAST_INFER(OrOp, IntegerType::get(getContext(), 1))
BROADCAST_INFER(WhereOp, elementTypeOf(getX()))
#undef BROADCAST_INFER

#define SAME_SHAPE_INFER(OP, INPUT, ELT)                                       \
  LogicalResult OP::inferResultTypes(SmallVectorImpl<Type> &types) {           \
    return sameShape(INPUT, ELT, types);                                       \
  }
SAME_SHAPE_INFER(SqrtOp, getX(), elementTypeOf(getX()))
SAME_SHAPE_INFER(ReciprocalOp, getX(), elementTypeOf(getX()))
SAME_SHAPE_INFER(NegOp, getX(), elementTypeOf(getX()))
SAME_SHAPE_INFER(AbsOp, getX(), elementTypeOf(getX()))
SAME_SHAPE_INFER(ExpOp, getX(), elementTypeOf(getX()))
SAME_SHAPE_INFER(LogOp, getX(), elementTypeOf(getX()))
SAME_SHAPE_INFER(ErfOp, getX(), elementTypeOf(getX()))
SAME_SHAPE_INFER(TanhOp, getX(), elementTypeOf(getX()))
SAME_SHAPE_INFER(SigmoidOp, getX(), elementTypeOf(getX()))
SAME_SHAPE_INFER(ReluOp, getX(), elementTypeOf(getX()))
SAME_SHAPE_INFER(NotOp, getX(), elementTypeOf(getX()))
SAME_SHAPE_INFER(GeluOp, getX(), elementTypeOf(getX()))
SAME_SHAPE_INFER(SoftmaxOp, getInput(), elementTypeOf(getInput()))
SAME_SHAPE_INFER(LogSoftmaxOp, getInput(), elementTypeOf(getInput()))
SAME_SHAPE_INFER(ClipOp, getInput(), elementTypeOf(getInput()))
SAME_SHAPE_INFER(CastOp, getInput(), getTo())
SAME_SHAPE_INFER(CastLikeOp, getInput(), elementTypeOf(getTargetType()))
SAME_SHAPE_INFER(TriluOp, getInput(), elementTypeOf(getInput()))
SAME_SHAPE_INFER(IdentityOp, getInput(), elementTypeOf(getInput()))
#undef SAME_SHAPE_INFER

LogicalResult
LayerNormalizationOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  (void)sameShape(getX(), elementTypeOf(getX()), types);
  // Mean and InvStdDev: X's shape with the normalised axes set to 1.
  Type f32 = Float32Type::get(getContext());
  auto in = shapeOf(getX());
  Type stats = UnrankedTensorType::get(f32);
  if (in) {
    int64_t axis = normalizeAxis(getAxis(), in->size());
    if (axis < 0)
      return failure();
    SmallVector<int64_t> shape(*in);
    for (size_t i = axis; i < shape.size(); ++i)
      shape[i] = 1;
    stats = RankedTensorType::get(shape, f32);
  }
  types.append(getStats().size(), stats);
  return success();
}

LogicalResult MatMulOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getA());
  auto a = shapeOf(getA()), b = shapeOf(getB());
  if (!a || !b || a->empty() || b->empty()) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  SmallVector<int64_t> sa = *a, sb = *b;
  bool vecA = sa.size() == 1, vecB = sb.size() == 1;
  if (vecA)
    sa.insert(sa.begin(), 1);
  if (vecB)
    sb.push_back(1);
  SmallVector<int64_t> batch;
  if (failed(broadcastShapes(ArrayRef(sa).drop_back(2),
                             ArrayRef(sb).drop_back(2), batch)))
    return failure();
  if (!vecA)
    batch.push_back(sa[sa.size() - 2]);
  if (!vecB)
    batch.push_back(sb.back());
  types.push_back(RankedTensorType::get(batch, elt));
  return success();
}

LogicalResult GemmOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getA());
  auto a = shapeOf(getA()), b = shapeOf(getB());
  int64_t m = a ? (*a)[getTransA() ? 1 : 0] : kDyn;
  int64_t n = b ? (*b)[getTransB() ? 0 : 1] : kDyn;
  types.push_back(RankedTensorType::get({m, n}, elt));
  return success();
}

LogicalResult tessera::onnx::inferReduce(Value data, Value axesOperand,
                                         bool keepdims, bool noopWithEmptyAxes,
                                         Type elt,
                                         SmallVectorImpl<Type> &types) {
  SmallVector<int64_t> axes;
  if (axesOperand && !getConstantInts(axesOperand, axes)) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  return inferReduce(data, axes, keepdims, noopWithEmptyAxes, elt, types);
}

LogicalResult tessera::onnx::inferReduce(Value data, ArrayRef<int64_t> axes,
                                         bool keepdims, bool noopWithEmptyAxes,
                                         Type elt,
                                         SmallVectorImpl<Type> &types) {
  auto in = shapeOf(data);
  if (!in) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  int64_t rank = in->size();
  SmallVector<bool> reduced(rank, false);
  if (axes.empty()) {
    if (noopWithEmptyAxes)
      return sameShape(data, elt, types);
    reduced.assign(rank, true);
  }
  for (int64_t a : axes) {
    int64_t n = normalizeAxis(a, rank);
    if (n < 0)
      return failure();
    reduced[n] = true;
  }
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[i])
      out.push_back((*in)[i]);
    else if (keepdims)
      out.push_back(1);
  }
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

LogicalResult
ConstantOfShapeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = getValueAttr() ? getValueAttr().getElementType()
                            : Type(Float32Type::get(getContext()));
  auto shape = shapeFromOperand(getInput());
  types.push_back(tensorOf(
      shape ? std::optional<ArrayRef<int64_t>>(*shape) : std::nullopt, elt));
  return success();
}

LogicalResult ReshapeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getData());
  auto target = shapeFromOperand(getShape());
  if (!target) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  SmallVector<int64_t> out = *target;
  auto in = shapeOf(getData());
  int64_t inferIdx = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0 && !getAllowzero())
      out[i] = in && i < in->size() ? (*in)[i] : kDyn;
    if (out[i] == -1) {
      inferIdx = i;
      out[i] = kDyn;
    } else if (ShapedType::isDynamic(out[i])) {
      known = -1;
    } else if (known > 0) {
      known *= out[i];
    }
  }
  if (inferIdx >= 0 && known > 0 && in &&
      llvm::none_of(*in, ShapedType::isDynamic)) {
    int64_t total = 1;
    for (int64_t d : *in)
      total *= d;
    if (known == 0 || total % known != 0)
      return failure();
    out[inferIdx] = total / known;
  }
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

LogicalResult TransposeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getData());
  auto in = shapeOf(getData());
  if (!in) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  SmallVector<int64_t> out;
  for (Attribute p : getPerm())
    out.push_back((*in)[cast<IntegerAttr>(p).getInt()]);
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

LogicalResult GatherOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getData());
  auto data = shapeOf(getData()), idx = shapeOf(getIndices());
  if (!data || !idx) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  int64_t axis = normalizeAxis(getAxis(), data->size());
  if (axis < 0)
    return failure();
  SmallVector<int64_t> out(data->begin(), data->begin() + axis);
  out.append(idx->begin(), idx->end());
  out.append(data->begin() + axis + 1, data->end());
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

/// [start, end) of the dimensions that Shape returns, clamped as ONNX says.
std::pair<int64_t, int64_t> tessera::onnx::shapeRange(ShapeOfOp op,
                                                      int64_t rank) {
  auto clamp = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::min(std::max<int64_t>(v, 0), rank);
  };
  int64_t start = clamp(op.getStart());
  int64_t end = op.getEnd() ? clamp(*op.getEnd()) : rank;
  return {start, std::max(start, end)};
}

LogicalResult ShapeOfOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type i64 = IntegerType::get(getContext(), 64);
  auto in = shapeOf(getData());
  int64_t len = kDyn;
  if (in) {
    auto [s, e] = shapeRange(*this, in->size());
    len = e - s;
  }
  types.push_back(RankedTensorType::get({len}, i64));
  return success();
}

LogicalResult SizeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  types.push_back(
      RankedTensorType::get({}, IntegerType::get(getContext(), 64)));
  return success();
}

LogicalResult UnsqueezeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getData());
  auto in = shapeOf(getData());
  SmallVector<int64_t> axes;
  if (!in || !getConstantInts(getAxes(), axes)) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  int64_t rank = in->size() + axes.size();
  SmallVector<bool> isNew(rank, false);
  for (int64_t a : axes) {
    int64_t n = normalizeAxis(a, rank);
    if (n < 0 || isNew[n])
      return failure();
    isNew[n] = true;
  }
  SmallVector<int64_t> out;
  auto it = in->begin();
  for (int64_t i = 0; i < rank; ++i)
    out.push_back(isNew[i] ? 1 : *it++);
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

LogicalResult SqueezeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getData());
  auto in = shapeOf(getData());
  SmallVector<int64_t> axes;
  if (!in || (getAxes() && !getConstantInts(getAxes(), axes))) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  int64_t rank = in->size();
  SmallVector<bool> drop(rank, false);
  if (!getAxes()) {
    for (int64_t i = 0; i < rank; ++i) {
      if (ShapedType::isDynamic((*in)[i])) {
        types.push_back(UnrankedTensorType::get(elt));
        return success();
      }
      drop[i] = (*in)[i] == 1;
    }
  }
  for (int64_t a : axes) {
    int64_t n = normalizeAxis(a, rank);
    if (n < 0)
      return failure();
    drop[n] = true;
  }
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[i])
      out.push_back((*in)[i]);
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

static int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (ShapedType::isDynamic(d))
      return kDyn;
    p *= d;
  }
  return p;
}

LogicalResult FlattenOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getInput());
  auto in = shapeOf(getInput());
  if (!in)
    return types.push_back(RankedTensorType::get({kDyn, kDyn}, elt)), success();
  int64_t rank = in->size();
  int64_t axis = getAxis() < 0 ? getAxis() + rank : getAxis();
  if (axis < 0 || axis > rank)
    return failure();
  types.push_back(
      RankedTensorType::get({product(ArrayRef(*in).take_front(axis)),
                             product(ArrayRef(*in).drop_front(axis))},
                            elt));
  return success();
}

LogicalResult ConcatOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getInputs().front());
  SmallVector<int64_t> out;
  int64_t axis = -1;
  for (Value v : getInputs()) {
    auto s = shapeOf(v);
    if (!s) {
      types.push_back(UnrankedTensorType::get(elt));
      return success();
    }
    if (axis < 0) {
      axis = normalizeAxis(getAxis(), s->size());
      if (axis < 0)
        return failure();
      out = *s;
      continue;
    }
    if (s->size() != out.size())
      return failure();
    for (size_t i = 0; i < out.size(); ++i) {
      if (static_cast<int64_t>(i) == axis)
        out[i] = ShapedType::isDynamic(out[i]) || ShapedType::isDynamic((*s)[i])
                     ? kDyn
                     : out[i] + (*s)[i];
      else if (ShapedType::isDynamic(out[i]))
        out[i] = (*s)[i];
    }
  }
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

/// The `n` entries of a Slice operand (starts, ends, steps), kDynamic where
/// not known; nullopt if its length is not `n`. In a constant operand,
/// INT64_MIN (kDynamic's value, an end for negative steps) becomes
/// INT64_MIN + 1, which clamps the same.
static std::optional<SmallVector<int64_t>> sliceEntries(Value v, size_t n) {
  SmallVector<int64_t> constant;
  std::optional<SmallVector<int64_t>> values;
  if (tooLongForAShape(v.getType()))
    return std::nullopt;
  if (getConstantInts(v, constant)) {
    for (int64_t &c : constant)
      if (ShapedType::isDynamic(c))
        c = kDyn + 1;
    values = constant;
  } else
    values = partialValues(v);
  if (!values)
    values = unknownEntries(v.getType());
  if (!values || values->size() != n)
    return std::nullopt;
  return values;
}

/// The number of axes a Slice slices: from `axes` if present, else from the
/// length of `starts`.
static std::optional<size_t> numSlicedAxes(Value starts) {
  auto t = dyn_cast<RankedTensorType>(starts.getType());
  if (t && t.getRank() == 1 && !t.isDynamicDim(0))
    return t.getDimSize(0);
  if (auto values = partialValues(starts))
    return values->size();
  return std::nullopt;
}

/// Slice keeps the dims of the axes it does not slice; a sliced axis gets a
/// static size where its input dim, start, end and step are known (a dim of
/// 0 stays 0 whatever they are), else it is dynamic. Without constant axes
/// every axis may be sliced.
LogicalResult SliceOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getData());
  auto in = shapeOf(getData());
  if (!in) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  int64_t rank = in->size();
  SmallVector<int64_t> out = *in;
  auto unknownSizes = [&](ArrayRef<int64_t> axes) {
    for (int64_t a : axes)
      if (out[a] != 0)
        out[a] = kDyn;
    types.push_back(RankedTensorType::get(out, elt));
    return success();
  };
  SmallVector<int64_t> axes;
  std::optional<size_t> n;
  if (getAxes()) {
    if (getConstantInts(getAxes(), axes))
      n = axes.size();
  } else {
    n = numSlicedAxes(getStarts());
    for (size_t i = 0; n && i < *n; ++i)
      axes.push_back(i);
  }
  auto allAxes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  if (!n)
    return unknownSizes(allAxes);
  for (int64_t &a : axes) {
    a = normalizeAxis(a, rank);
    if (a < 0)
      return failure();
  }
  auto starts = sliceEntries(getStarts(), *n);
  auto ends = sliceEntries(getEnds(), *n);
  auto steps = getSteps() ? sliceEntries(getSteps(), *n)
                          : SmallVector<int64_t>(*n, 1);
  if (!starts || !ends || !steps)
    return unknownSizes(axes);
  for (size_t i = 0; i < *n; ++i) {
    int64_t a = axes[i], dim = (*in)[a], step = (*steps)[i];
    if (step == 0)
      return failure();
    if (dim == 0)
      continue;
    if (ShapedType::isDynamic(dim) || ShapedType::isDynamic(step) ||
        ShapedType::isDynamic((*starts)[i]) ||
        ShapedType::isDynamic((*ends)[i])) {
      out[a] = kDyn;
      continue;
    }
    int64_t s = sliceIndex((*starts)[i], dim, step);
    int64_t e = sliceIndex((*ends)[i], dim, step);
    int64_t len =
        step > 0 ? (e - s + step - 1) / step : (s - e - step - 1) / -step;
    out[a] = std::max<int64_t>(len, 0);
  }
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

LogicalResult SplitOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getInput());
  auto in = shapeOf(getInput());
  size_t n = getOutputs().size();
  if (!in) {
    types.append(n, UnrankedTensorType::get(elt));
    return success();
  }
  int64_t axis = normalizeAxis(getAxis(), in->size());
  if (axis < 0)
    return failure();
  SmallVector<int64_t> sizes;
  int64_t dim = (*in)[axis];
  if (getSplit()) {
    if (!getConstantInts(getSplit(), sizes))
      sizes.assign(n, kDyn);
  } else if (ShapedType::isDynamic(dim)) {
    sizes.assign(n, kDyn);
  } else {
    // Equal parts; with num_outputs the last one may be smaller (opset 18).
    int64_t part = (dim + n - 1) / n;
    for (size_t i = 0; i < n; ++i)
      sizes.push_back(
          std::max<int64_t>(0, std::min(part, dim - part * int64_t(i))));
  }
  if (sizes.size() != n)
    return failure();
  for (int64_t s : sizes) {
    SmallVector<int64_t> out = *in;
    out[axis] = s;
    types.push_back(RankedTensorType::get(out, elt));
  }
  return success();
}

LogicalResult ExpandOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getInput());
  auto in = shapeOf(getInput());
  auto target = shapeFromOperand(getShape());
  if (!in || !target) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  // Non-constant entries of the target may still be 1, so a dynamic target
  // dim gives a dynamic result dim unless the input dim is > 1.
  SmallVector<int64_t> out;
  if (failed(broadcastShapes(*in, *target, out)))
    return failure();
  size_t rank = out.size();
  for (size_t i = 0; i < rank; ++i) {
    size_t ti = i + target->size() - rank, ii = i + in->size() - rank;
    bool tDyn =
        i >= rank - target->size() && ShapedType::isDynamic((*target)[ti]);
    bool inOne = i < rank - in->size() || (*in)[ii] == 1;
    if (tDyn && inOne)
      out[i] = kDyn;
  }
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

LogicalResult TileOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getInput());
  auto in = shapeOf(getInput());
  SmallVector<int64_t> reps;
  if (!in) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  SmallVector<int64_t> out(in->size(), kDyn);
  if (getConstantInts(getRepeats(), reps)) {
    if (reps.size() != in->size())
      return failure();
    for (size_t i = 0; i < out.size(); ++i)
      if (!ShapedType::isDynamic((*in)[i]))
        out[i] = (*in)[i] * reps[i];
  }
  types.push_back(RankedTensorType::get(out, elt));
  return success();
}

LogicalResult RangeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type elt = elementTypeOf(getStart());
  int64_t len = kDyn;
  auto scalar = [](Value v, double &out) {
    auto cst = v.getDefiningOp<ConstantOp>();
    if (!cst)
      return false;
    auto dense = dyn_cast<DenseElementsAttr>(cst.getValue());
    if (!dense || dense.getNumElements() != 1)
      return false;
    if (isa<FloatType>(dense.getElementType()))
      out = (*dense.getValues<APFloat>().begin()).convertToDouble();
    else
      out = static_cast<double>(
          (*dense.getValues<APInt>().begin()).getSExtValue());
    return true;
  };
  double start, limit, delta;
  if (scalar(getStart(), start) && scalar(getLimit(), limit) &&
      scalar(getDelta(), delta)) {
    // An infinite, NaN or unrepresentable length is refused before the
    // conversion to int64 (undefined for such values).
    double n = std::ceil((limit - start) / delta);
    if (delta == 0 || !std::isfinite(n) || n >= 0x1p62)
      return failure();
    len = n > 0 ? static_cast<int64_t>(n) : 0;
  }
  types.push_back(RankedTensorType::get({len}, elt));
  return success();
}

/// The more precise of two compatible types, or null if they conflict.
static Type meetTypes(Type current, Type inferred) {
  auto cur = dyn_cast<RankedTensorType>(current);
  auto inf = dyn_cast<RankedTensorType>(inferred);
  Type elt = cast<ShapedType>(current).getElementType();
  if (!inf)
    return current;
  if (!cur)
    return RankedTensorType::get(inf.getShape(), elt);
  if (cur.getRank() != inf.getRank())
    return {};
  SmallVector<int64_t> dims;
  for (auto [a, b] : llvm::zip(cur.getShape(), inf.getShape())) {
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
      return {};
    dims.push_back(ShapedType::isDynamic(a) ? b : a);
  }
  return RankedTensorType::get(dims, elt, cur.getEncoding());
}

/// The result types `op` infers, one per result; fails with an error if its
/// operands are inconsistent, and yields nothing if it infers no full list.
static FailureOr<SmallVector<Type>> inferTypes(ShapeInferenceOpInterface op) {
  SmallVector<Type> types;
  if (failed(op.inferResultTypes(types)))
    return op->emitOpError("operand shapes are inconsistent: ")
           << op->getOperandTypes();
  if (types.size() != op->getNumResults())
    types.clear();
  return types;
}

LogicalResult tessera::onnx::verifyInferredResultTypes(Operation *op) {
  auto types = inferTypes(cast<ShapeInferenceOpInterface>(op));
  if (failed(types))
    return failure();
  for (auto [result, inferred] : llvm::zip(op->getResults(), *types)) {
    Type declared = result.getType();
    Type wantElt = cast<ShapedType>(inferred).getElementType();
    if (cast<ShapedType>(declared).getElementType() != wantElt)
      return op->emitOpError("result element type ")
             << cast<ShapedType>(declared).getElementType()
             << " does not match the expected " << wantElt;
    if (!meetTypes(declared, inferred))
      return op->emitOpError("result type ")
             << declared << " does not match the inferred type " << inferred;
  }
  return success();
}

LogicalResult tessera::onnx::refineResultTypes(Operation *op, bool &changed) {
  changed = false;
  auto iface = dyn_cast<ShapeInferenceOpInterface>(op);
  if (!iface)
    return success();
  auto types = inferTypes(iface);
  if (failed(types))
    return failure();
  for (auto [result, inferred] : llvm::zip(op->getResults(), *types)) {
    Type merged = meetTypes(result.getType(), inferred);
    if (!merged)
      return op->emitOpError("inferred result type ")
             << inferred << " conflicts with " << result.getType();
    if (merged != result.getType()) {
      result.setType(merged);
      changed = true;
    }
  }
  return success();
}
