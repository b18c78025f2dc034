//===- ONNXFolds.cpp - constant folding of onnx ops -----------------------===//
//
// Folders evaluate ops whose operands are small dense constants (the shape
// arithmetic exporters emit: Shape, Gather, Unsqueeze, Concat, Range, ...) and
// remove no-ops (Identity, inference Dropout, same-type Cast and Reshape).
// Folding needs a static result type; the onnx-fold-shapes pass refines types
// first. Large constants (weights) are never folded.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/ONNXDialect.h"

#include <cmath>

using namespace mlir;
using namespace tessera::onnx;

namespace {

/// Constants above this many elements are not folded.
constexpr int64_t kFoldLimit = 1 << 16;

/// A small constant, held as int64 or double values in row-major order.
struct Lit {
  SmallVector<int64_t> shape;
  bool isFloat = false;
  std::vector<int64_t> i;
  std::vector<double> f;

  int64_t size() const { return isFloat ? f.size() : i.size(); }
  double asDouble(int64_t k) const { return isFloat ? f[k] : double(i[k]); }
  int64_t asInt(int64_t k) const { return isFloat ? int64_t(f[k]) : i[k]; }
};

std::optional<Lit> readLit(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || !dense.getType().hasStaticShape() ||
      dense.getNumElements() > kFoldLimit)
    return std::nullopt;
  Lit lit;
  lit.shape.assign(dense.getType().getShape().begin(),
                   dense.getType().getShape().end());
  Type elt = dense.getElementType();
  if (isa<FloatType>(elt)) {
    lit.isFloat = true;
    for (const APFloat &v : dense.getValues<APFloat>())
      lit.f.push_back(v.convertToDouble());
  } else if (auto it = dyn_cast<IntegerType>(elt)) {
    bool isBool = it.getWidth() == 1;
    bool isUnsigned = it.isUnsigned();
    for (const APInt &v : dense.getValues<APInt>())
      lit.i.push_back(isBool || isUnsigned ? int64_t(v.getZExtValue())
                                           : v.getSExtValue());
  } else {
    return std::nullopt;
  }
  return lit;
}

/// Builds an attribute of `type` (which must be static) from `lit`'s values,
/// converting them to the element type.
Attribute writeLit(Type type, const Lit &lit) {
  auto shaped = dyn_cast<RankedTensorType>(type);
  if (!shaped || !shaped.hasStaticShape() ||
      shaped.getNumElements() != lit.size())
    return {};
  Type elt = shaped.getElementType();
  if (auto ft = dyn_cast<FloatType>(elt)) {
    SmallVector<APFloat> values;
    for (int64_t k = 0; k < lit.size(); ++k) {
      APFloat v(lit.asDouble(k));
      bool lost;
      v.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      values.push_back(v);
    }
    return DenseElementsAttr::get(shaped, values);
  }
  if (auto it = dyn_cast<IntegerType>(elt)) {
    SmallVector<APInt> values;
    for (int64_t k = 0; k < lit.size(); ++k) {
      int64_t v = lit.asInt(k);
      if (it.getWidth() == 1)
        v = v != 0;
      values.push_back(APInt(it.getWidth(), v, /*isSigned=*/!it.isUnsigned()));
    }
    return DenseElementsAttr::get(shaped, values);
  }
  return {};
}

SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// For each element of a tensor of shape `out`, the flat index of the element
/// of the broadcast operand of shape `in` that it reads.
std::vector<int64_t> broadcastIndex(ArrayRef<int64_t> in,
                                    ArrayRef<int64_t> out) {
  int64_t total = 1;
  for (int64_t d : out)
    total *= d;
  std::vector<int64_t> idx(total);
  SmallVector<int64_t> inStrides = stridesOf(in);
  size_t offset = out.size() - in.size();
  SmallVector<int64_t> pos(out.size(), 0);
  for (int64_t k = 0; k < total; ++k) {
    int64_t flat = 0;
    for (size_t d = 0; d < in.size(); ++d)
      if (in[d] != 1)
        flat += pos[d + offset] * inStrides[d];
    idx[k] = flat;
    for (int64_t d = int64_t(out.size()) - 1; d >= 0; --d) {
      if (++pos[d] < out[d])
        break;
      pos[d] = 0;
    }
  }
  return idx;
}

bool staticResult(Operation *op) {
  auto t = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  return t && t.hasStaticShape() && t.getNumElements() <= kFoldLimit;
}

/// Folds an elementwise op over constant operands. `fi` and `ff` compute one
/// element for integer and float inputs; they return false to refuse.
template <typename IntFn, typename FloatFn>
OpFoldResult foldElementwise(Operation *op, ArrayRef<Attribute> operands,
                             IntFn fi, FloatFn ff) {
  if (!staticResult(op))
    return {};
  SmallVector<Lit> lits;
  for (Attribute a : operands) {
    auto lit = readLit(a);
    if (!lit)
      return {};
    lits.push_back(std::move(*lit));
  }
  auto outType = cast<RankedTensorType>(op->getResult(0).getType());
  ArrayRef<int64_t> outShape = outType.getShape();
  SmallVector<std::vector<int64_t>> idx;
  for (const Lit &l : lits)
    idx.push_back(broadcastIndex(l.shape, outShape));
  Lit out;
  out.shape.assign(outShape.begin(), outShape.end());
  // The computation domain is the last operand's (Where's condition is i1).
  bool isFloat = lits.back().isFloat;
  out.isFloat = isFloat && isa<FloatType>(outType.getElementType());
  int64_t total = outType.getNumElements();
  for (int64_t k = 0; k < total; ++k) {
    if (isFloat) {
      SmallVector<double, 3> args;
      for (size_t j = 0; j < lits.size(); ++j)
        args.push_back(lits[j].asDouble(idx[j][k]));
      double r;
      if (!ff(args, r))
        return {};
      if (out.isFloat)
        out.f.push_back(r);
      else
        out.i.push_back(int64_t(r));
    } else {
      SmallVector<int64_t, 3> args;
      for (size_t j = 0; j < lits.size(); ++j)
        args.push_back(lits[j].asInt(idx[j][k]));
      int64_t r;
      if (!fi(args, r))
        return {};
      out.i.push_back(r);
    }
  }
  return writeLit(outType, out);
}

template <typename Fn>
OpFoldResult foldBinary(Operation *op, ArrayRef<Attribute> operands, Fn fn) {
  return foldElementwise(
      op, operands,
      [&](ArrayRef<int64_t> a, int64_t &r) { return fn(a[0], a[1], r); },
      [&](ArrayRef<double> a, double &r) { return fn(a[0], a[1], r); });
}

/// Returns `input` if it already has the result's type. Only for ops that are
/// no-ops whenever the types agree (Identity, Dropout, Cast, ...).
OpFoldResult sameTypeOrNull(Operation *op, Value input) {
  if (input.getType() == op->getResult(0).getType())
    return input;
  return {};
}

/// Returns `input` if it has the result's type and that type is static. For
/// shape-changing ops (Reshape, Slice, Expand, Tile, ...): with dynamic dims,
/// equal types do not mean equal shapes.
OpFoldResult staticNoOpOrNull(Operation *op, Value input) {
  auto type = dyn_cast<RankedTensorType>(input.getType());
  if (type && type.hasStaticShape())
    return sameTypeOrNull(op, input);
  return {};
}

/// Re-types constant data without moving elements (Reshape and friends).
OpFoldResult reshapeConstant(Operation *op, Attribute data) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(data);
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!dense || !type || !type.hasStaticShape() ||
      type.getNumElements() != dense.getNumElements() ||
      type.getElementType() != dense.getElementType())
    return {};
  return dense.reshape(type);
}

} // namespace

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

OpFoldResult AddOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(),
                    [](auto x, auto y, auto &r) { return r = x + y, true; });
}
OpFoldResult SubOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(),
                    [](auto x, auto y, auto &r) { return r = x - y, true; });
}
OpFoldResult MulOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(),
                    [](auto x, auto y, auto &r) { return r = x * y, true; });
}
OpFoldResult DivOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](auto x, auto y, auto &r) {
    if constexpr (std::is_integral_v<decltype(x)>)
      if (y == 0)
        return false;
    r = x / y;
    return true;
  });
}
OpFoldResult PowOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](auto x, auto y, auto &r) {
    r = static_cast<std::decay_t<decltype(r)>>(std::pow(double(x), double(y)));
    return true;
  });
}

#define COMPARE_FOLDER(OP, EXPR)                                               \
  OpFoldResult OP::fold(FoldAdaptor a) {                                       \
    return foldElementwise(                                                    \
        *this, a.getOperands(),                                                \
        [](ArrayRef<int64_t> v, int64_t &r) {                                  \
          auto x = v[0], y = v[1];                                             \
          return r = (EXPR), true;                                             \
        },                                                                     \
        [](ArrayRef<double> v, double &r) {                                    \
          auto x = v[0], y = v[1];                                             \
          return r = (EXPR), true;                                             \
        });                                                                    \
  }
COMPARE_FOLDER(EqualOp, x == y)
COMPARE_FOLDER(LessOp, x < y)
COMPARE_FOLDER(GreaterOp, x > y)
COMPARE_FOLDER(LessOrEqualOp, x <= y)
COMPARE_FOLDER(GreaterOrEqualOp, x >= y)
COMPARE_FOLDER(AndOp, x &&y)
COMPARE_FOLDER(OrOp, x || y)
#undef COMPARE_FOLDER

OpFoldResult NegOp::fold(FoldAdaptor a) {
  return foldElementwise(
      *this, a.getOperands(),
      [](ArrayRef<int64_t> v, int64_t &r) { return r = -v[0], true; },
      [](ArrayRef<double> v, double &r) { return r = -v[0], true; });
}

// The relative-position buckets of T5-style attention (Abs, Log, Min of
// constant positions once the sequence length is pinned) fold too.
OpFoldResult AbsOp::fold(FoldAdaptor a) {
  return foldElementwise(
      *this, a.getOperands(),
      [](ArrayRef<int64_t> v, int64_t &r) {
        return r = v[0] < 0 ? -v[0] : v[0], true;
      },
      [](ArrayRef<double> v, double &r) { return r = std::fabs(v[0]), true; });
}

OpFoldResult LogOp::fold(FoldAdaptor a) {
  return foldElementwise(
      *this, a.getOperands(), [](ArrayRef<int64_t>, int64_t &) { return false; },
      [](ArrayRef<double> v, double &r) { return r = std::log(v[0]), true; });
}

/// Folds Min (or, with `max`, Max) of constant operands; NaN propagates, as
/// in numpy's minimum/maximum.
static OpFoldResult foldExtremum(Operation *op, ArrayRef<Attribute> operands,
                                 bool max) {
  auto pick = [max](auto a, auto b) { return max ? std::max(a, b)
                                                 : std::min(a, b); };
  return foldElementwise(
      op, operands,
      [&](ArrayRef<int64_t> v, int64_t &r) {
        r = v[0];
        for (int64_t x : v.drop_front())
          r = pick(r, x);
        return true;
      },
      [&](ArrayRef<double> v, double &r) {
        r = v[0];
        for (double x : v.drop_front())
          r = std::isnan(r) || std::isnan(x) ? std::nan("") : pick(r, x);
        return true;
      });
}

OpFoldResult MinOp::fold(FoldAdaptor a) {
  return foldExtremum(*this, a.getOperands(), /*max=*/false);
}

OpFoldResult MaxOp::fold(FoldAdaptor a) {
  return foldExtremum(*this, a.getOperands(), /*max=*/true);
}

OpFoldResult NotOp::fold(FoldAdaptor a) {
  return foldElementwise(
      *this, a.getOperands(),
      [](ArrayRef<int64_t> v, int64_t &r) { return r = !v[0], true; },
      [](ArrayRef<double> v, double &r) { return r = !v[0], true; });
}

OpFoldResult WhereOp::fold(FoldAdaptor a) {
  // Operands are reordered so that the computation domain (the last operand)
  // is X's, not the boolean condition's.
  SmallVector<Attribute> ops = {a.getX(), a.getY(), a.getCondition()};
  return foldElementwise(
      *this, ops,
      [](ArrayRef<int64_t> v, int64_t &r) {
        return r = v[2] ? v[0] : v[1], true;
      },
      [](ArrayRef<double> v, double &r) {
        return r = v[2] ? v[0] : v[1], true;
      });
}

OpFoldResult CastOp::fold(FoldAdaptor a) {
  if (OpFoldResult same = sameTypeOrNull(*this, getInput()))
    return same;
  auto lit = readLit(a.getInput());
  if (!lit || !staticResult(*this))
    return {};
  Type to = getTo();
  if (lit->isFloat && !isa<FloatType>(to)) {
    // Float to integer truncates toward zero. NaN, infinities and values out
    // of range are undefined in ONNX; to i64 or i32 they become the x86
    // "integer indefinite" (the type's minimum), what the generated code
    // computes on the host (T5's log(0) of its diagonal, which a Where then
    // discards). Other integer types refuse to fold them.
    auto it = dyn_cast<IntegerType>(to);
    if (!it)
      return {};
    bool indefinite = (it.getWidth() == 64 || it.getWidth() == 32) &&
                      !it.isUnsigned();
    double limit = it.getWidth() == 32 ? 2147483647.0 : 9.0e18;
    for (double &v : lit->f)
      if (!std::isfinite(v) || std::fabs(v) > limit) {
        if (!indefinite)
          return {};
        v = it.getWidth() == 32 ? -2147483648.0 : -9223372036854775808.0;
      }
  }
  if (to.isInteger(1)) {
    Lit b = *lit;
    b.isFloat = false;
    b.i.clear();
    for (int64_t k = 0; k < lit->size(); ++k)
      b.i.push_back(lit->asDouble(k) != 0);
    return writeLit(getOutput().getType(), b);
  }
  return writeLit(getOutput().getType(), *lit);
}

//===----------------------------------------------------------------------===//
// No-ops
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult IdentityOp::fold(FoldAdaptor) {
  return sameTypeOrNull(*this, getInput());
}

LogicalResult DropoutOp::fold(FoldAdaptor a,
                              SmallVectorImpl<OpFoldResult> &results) {
  // Inference: identity unless training_mode is a constant true.
  if (getTrainingMode()) {
    auto lit = readLit(a.getTrainingMode());
    if (!lit || lit->size() != 1 || lit->asInt(0) != 0)
      return failure();
  }
  if (getMask())
    return failure(); // the mask is lowered as an all-true tensor
  OpFoldResult same = sameTypeOrNull(*this, getData());
  if (!same)
    return failure();
  results.push_back(same);
  return success();
}

//===----------------------------------------------------------------------===//
// Shape arithmetic
//===----------------------------------------------------------------------===//

OpFoldResult ShapeOfOp::fold(FoldAdaptor) {
  auto in = dyn_cast<RankedTensorType>(getData().getType());
  if (!in || !staticResult(*this))
    return {};
  auto [start, end] = shapeRange(*this, in.getRank());
  Lit lit;
  for (int64_t d = start; d < end; ++d) {
    if (in.isDynamicDim(d))
      return {};
    lit.i.push_back(in.getDimSize(d));
  }
  lit.shape = {int64_t(lit.i.size())};
  return writeLit(getShape().getType(), lit);
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  auto in = dyn_cast<RankedTensorType>(getData().getType());
  if (!in || !in.hasStaticShape() || !staticResult(*this))
    return {};
  Lit lit;
  lit.i.push_back(in.getNumElements());
  return writeLit(getSize().getType(), lit);
}

OpFoldResult ConstantOfShapeOp::fold(FoldAdaptor) {
  auto type = dyn_cast<RankedTensorType>(getOutput().getType());
  if (!type || !type.hasStaticShape())
    return {};
  if (auto value = getValueAttr()) {
    auto dense = dyn_cast<DenseElementsAttr>(value);
    if (!dense)
      return {};
    return DenseElementsAttr::get(type, dense.getValues<Attribute>()[0]);
  }
  return DenseElementsAttr::get(type,
                                FloatAttr::get(type.getElementType(), 0.0));
}

OpFoldResult ReshapeOp::fold(FoldAdaptor a) {
  if (OpFoldResult same = staticNoOpOrNull(*this, getData()))
    return same;
  return reshapeConstant(*this, a.getData());
}
OpFoldResult UnsqueezeOp::fold(FoldAdaptor a) {
  return reshapeConstant(*this, a.getData());
}
OpFoldResult SqueezeOp::fold(FoldAdaptor a) {
  if (OpFoldResult same = staticNoOpOrNull(*this, getData()))
    return same;
  return reshapeConstant(*this, a.getData());
}
OpFoldResult FlattenOp::fold(FoldAdaptor a) {
  if (OpFoldResult same = staticNoOpOrNull(*this, getInput()))
    return same;
  return reshapeConstant(*this, a.getInput());
}

OpFoldResult TransposeOp::fold(FoldAdaptor a) {
  SmallVector<int64_t> perm;
  for (Attribute p : getPerm())
    perm.push_back(cast<IntegerAttr>(p).getInt());
  bool identity = true;
  for (size_t k = 0; k < perm.size(); ++k)
    identity &= perm[k] == int64_t(k);
  if (identity)
    return sameTypeOrNull(*this, getData());
  auto lit = readLit(a.getData());
  if (!lit || !staticResult(*this))
    return {};
  auto outType = cast<RankedTensorType>(getType());
  SmallVector<int64_t> inStrides = stridesOf(lit->shape);
  ArrayRef<int64_t> outShape = outType.getShape();
  Lit out;
  out.isFloat = lit->isFloat;
  out.shape.assign(outShape.begin(), outShape.end());
  SmallVector<int64_t> pos(outShape.size(), 0);
  for (int64_t k = 0; k < outType.getNumElements(); ++k) {
    int64_t src = 0;
    for (size_t d = 0; d < pos.size(); ++d)
      src += pos[d] * inStrides[perm[d]];
    if (lit->isFloat)
      out.f.push_back(lit->f[src]);
    else
      out.i.push_back(lit->i[src]);
    for (int64_t d = int64_t(pos.size()) - 1; d >= 0; --d) {
      if (++pos[d] < outShape[d])
        break;
      pos[d] = 0;
    }
  }
  return writeLit(outType, out);
}

/// Copies `count` consecutive elements from `src` at `from` to the end of
/// `dst`.
static void appendRun(const Lit &src, int64_t from, int64_t count, Lit &dst) {
  if (src.isFloat)
    dst.f.insert(dst.f.end(), src.f.begin() + from,
                 src.f.begin() + from + count);
  else
    dst.i.insert(dst.i.end(), src.i.begin() + from,
                 src.i.begin() + from + count);
}

/// Gather(Shape(x), indices) where the dims it picks are static, though
/// others of x are not (the head size of [B, S, H * Dh] -> [B, S, H, Dh]).
static OpFoldResult foldGatherOfShape(GatherOp op, const Lit &idx) {
  auto shape = op.getData().getDefiningOp<ShapeOfOp>();
  auto in = shape ? dyn_cast<RankedTensorType>(shape.getData().getType())
                  : nullptr;
  if (!in || !staticResult(op))
    return {};
  auto [start, end] = shapeRange(shape, in.getRank());
  Lit out;
  out.shape = idx.shape;
  for (int64_t i : idx.i) {
    int64_t k = i < 0 ? i + (end - start) : i;
    if (k < 0 || k >= end - start || in.isDynamicDim(start + k))
      return {};
    out.i.push_back(in.getDimSize(start + k));
  }
  return writeLit(op.getType(), out);
}

OpFoldResult GatherOp::fold(FoldAdaptor a) {
  auto data = readLit(a.getData()), idx = readLit(a.getIndices());
  if (!data && idx && !idx->isFloat)
    return foldGatherOfShape(*this, *idx);
  if (!data || !idx || !staticResult(*this))
    return {};
  int64_t axis = normalizeAxis(getAxis(), data->shape.size());
  if (axis < 0)
    return {};
  int64_t outer = 1, inner = 1, dim = data->shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= data->shape[d];
  for (size_t d = axis + 1; d < data->shape.size(); ++d)
    inner *= data->shape[d];
  Lit out;
  out.isFloat = data->isFloat;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < idx->size(); ++j) {
      int64_t k = idx->i[j] < 0 ? idx->i[j] + dim : idx->i[j];
      if (k < 0 || k >= dim)
        return {}; // Out of range: leave it for the runtime check.
      appendRun(*data, (o * dim + k) * inner, inner, out);
    }
  return writeLit(getType(), out);
}

OpFoldResult ConcatOp::fold(FoldAdaptor a) {
  if (getInputs().size() == 1)
    return sameTypeOrNull(*this, getInputs().front());
  if (!staticResult(*this))
    return {};
  SmallVector<Lit> lits;
  for (Attribute attr : a.getInputs()) {
    auto lit = readLit(attr);
    if (!lit)
      return {};
    lits.push_back(std::move(*lit));
  }
  int64_t axis = normalizeAxis(getAxis(), lits[0].shape.size());
  if (axis < 0)
    return {};
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= lits[0].shape[d];
  Lit out;
  out.isFloat = lits[0].isFloat;
  for (int64_t o = 0; o < outer; ++o)
    for (const Lit &l : lits) {
      if (l.isFloat != out.isFloat)
        return {};
      int64_t run = outer ? l.size() / outer : 0;
      appendRun(l, o * run, run, out);
    }
  return writeLit(getType(), out);
}

/// Slice(Shape(x)) where the dims it picks are static, though others of x
/// are not (torch's `x.shape[-1:]`).
static OpFoldResult foldSliceOfShape(SliceOp op, ArrayRef<int64_t> starts,
                                     ArrayRef<int64_t> axes,
                                     ArrayRef<int64_t> steps) {
  auto shape = op.getData().getDefiningOp<ShapeOfOp>();
  auto in = shape ? dyn_cast<RankedTensorType>(shape.getData().getType())
                  : nullptr;
  if (!in || starts.size() != 1 || normalizeAxis(axes[0], 1) != 0 ||
      steps[0] == 0 || !staticResult(op))
    return {};
  auto [start, end] = shapeRange(shape, in.getRank());
  int64_t begin = sliceIndex(starts[0], end - start, steps[0]);
  Lit out;
  out.shape = {cast<RankedTensorType>(op.getType()).getDimSize(0)};
  for (int64_t k = 0; k < out.shape[0]; ++k) {
    int64_t d = begin + k * steps[0];
    if (d < 0 || d >= end - start || in.isDynamicDim(start + d))
      return {};
    out.i.push_back(in.getDimSize(start + d));
  }
  return writeLit(op.getType(), out);
}

OpFoldResult SliceOp::fold(FoldAdaptor a) {
  SmallVector<int64_t> starts, ends, axes, steps;
  bool constantParams =
      getConstantInts(getStarts(), starts) &&
      (!getAxes() || getConstantInts(getAxes(), axes)) &&
      (!getSteps() || getConstantInts(getSteps(), steps));
  if (constantParams)
    fillSliceDefaults(starts.size(), axes, steps);
  auto data = readLit(a.getData());
  if (!data) {
    if (constantParams)
      if (OpFoldResult folded = foldSliceOfShape(*this, starts, axes, steps))
        return folded;
    return staticNoOpOrNull(*this, getData());
  }
  if (!staticResult(*this))
    return staticNoOpOrNull(*this, getData());
  if (!constantParams || !getConstantInts(getEnds(), ends))
    return {};
  auto outType = cast<RankedTensorType>(getType());
  int64_t rank = data->shape.size();
  SmallVector<int64_t> begin(rank, 0), step(rank, 1);
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t ax = normalizeAxis(axes[k], rank);
    if (ax < 0)
      return {};
    begin[ax] = sliceIndex(starts[k], data->shape[ax], steps[k]);
    step[ax] = steps[k];
  }
  SmallVector<int64_t> inStrides = stridesOf(data->shape);
  ArrayRef<int64_t> outShape = outType.getShape();
  Lit out;
  out.isFloat = data->isFloat;
  SmallVector<int64_t> pos(rank, 0);
  for (int64_t k = 0; k < outType.getNumElements(); ++k) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += (begin[d] + pos[d] * step[d]) * inStrides[d];
    appendRun(*data, src, 1, out);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++pos[d] < outShape[d])
        break;
      pos[d] = 0;
    }
  }
  return writeLit(outType, out);
}

OpFoldResult ExpandOp::fold(FoldAdaptor a) {
  if (OpFoldResult same = staticNoOpOrNull(*this, getInput()))
    return same;
  auto lit = readLit(a.getInput());
  if (!lit || !staticResult(*this))
    return {};
  auto outType = cast<RankedTensorType>(getType());
  std::vector<int64_t> idx = broadcastIndex(lit->shape, outType.getShape());
  Lit out;
  out.isFloat = lit->isFloat;
  for (int64_t k : idx)
    appendRun(*lit, k, 1, out);
  return writeLit(outType, out);
}

OpFoldResult TileOp::fold(FoldAdaptor) {
  return staticNoOpOrNull(*this, getInput());
}

OpFoldResult RangeOp::fold(FoldAdaptor a) {
  auto start = readLit(a.getStart()), delta = readLit(a.getDelta());
  if (!start || !delta || !staticResult(*this))
    return {};
  auto outType = cast<RankedTensorType>(getType());
  Lit out;
  out.isFloat = start->isFloat;
  for (int64_t k = 0; k < outType.getNumElements(); ++k) {
    if (out.isFloat)
      out.f.push_back(start->f[0] + double(k) * delta->asDouble(0));
    else
      out.i.push_back(start->i[0] + k * delta->asInt(0));
  }
  return writeLit(outType, out);
}
