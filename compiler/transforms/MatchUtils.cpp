//===- MatchUtils.cpp - small matchers shared by the fusion passes --------===//

#include "compiler/transforms/MatchUtils.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;

namespace tessera {

std::optional<SplatConstant> splatConstant(Value v) {
  for (int guard = 0; v && guard < 8; ++guard) {
    Operation *def = v.getDefiningOp();
    if (auto id = dyn_cast_or_null<onnx::IdentityOp>(def)) {
      v = id.getInput();
      continue;
    }
    if (auto cast = dyn_cast_or_null<onnx::CastOp>(def)) {
      if (!isa<FloatType>(cast.getTo()))
        return std::nullopt;
      std::optional<SplatConstant> in = splatConstant(cast.getInput());
      if (in)
        in->isFloat = true;
      return in;
    }
    break;
  }
  DenseElementsAttr dense;
  if (!v || !matchPattern(v, m_Constant(&dense)) || !dense.isSplat())
    return std::nullopt;
  SplatConstant c;
  c.numElements = dense.getNumElements();
  if (isa<FloatType>(dense.getElementType())) {
    c.isFloat = true;
    c.value = dense.getSplatValue<APFloat>().convertToDouble();
  } else if (dense.getElementType().isIntOrIndex()) {
    c.value = static_cast<double>(dense.getSplatValue<APInt>().getSExtValue());
  } else {
    return std::nullopt;
  }
  return c;
}

std::optional<double> scalarConstant(Value v) {
  std::optional<SplatConstant> c = splatConstant(v);
  if (!c || c->numElements != 1)
    return std::nullopt;
  return c->value;
}

std::optional<double> floatSplatConstant(Value v) {
  std::optional<SplatConstant> c = splatConstant(v);
  if (!c || !c->isFloat)
    return std::nullopt;
  return c->value;
}

bool isScalarNear(Value v, double expected, double relTolerance) {
  std::optional<double> c = scalarConstant(v);
  // A constant of a narrower float type is `expected` rounded to it: allow
  // that rounding (2^-11 relative in f16, 2^-8 in bf16).
  auto ft = dyn_cast<FloatType>(getElementTypeOrSelf(v.getType()));
  if (ft && ft.getWidth() < 32)
    relTolerance =
        std::max(relTolerance, std::ldexp(1.0, -int(APFloat::semanticsPrecision(
                                                   ft.getFloatSemantics()))));
  return c && std::fabs(*c - expected) <= relTolerance * std::fabs(expected);
}

std::optional<std::vector<float>> readF32Elements(ElementsAttr attr) {
  if (!attr || !attr.getElementType().isF32())
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    auto values = dense.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    if (int64_t(data.size()) != attr.getNumElements() * int64_t(sizeof(float)))
      return std::nullopt;
    const float *p = reinterpret_cast<const float *>(data.data());
    return std::vector<float>(p, p + attr.getNumElements());
  }
  return std::nullopt;
}

bool isKernelFloat(Type t) { return t.isF32() || t.isF16() || t.isBF16(); }

std::optional<std::vector<float>> readFloatConstant(Value v) {
  ElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  auto elt = dyn_cast<FloatType>(attr.getElementType());
  if (!elt)
    return std::nullopt;
  if (elt.isF32())
    return readF32Elements(attr);
  auto toFloat = [](APFloat x) {
    bool lost;
    x.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
    return x.convertToFloat();
  };
  std::vector<float> out;
  out.reserve(attr.getNumElements());
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    for (const APFloat &x : dense.getValues<APFloat>())
      out.push_back(toFloat(x));
    return out;
  }
  auto res = dyn_cast<DenseResourceElementsAttr>(attr);
  AsmResourceBlob *blob = res ? res.getRawHandle().getBlob() : nullptr;
  unsigned bytes = elt.getWidth() / 8;
  if (!blob || bytes > 8 ||
      int64_t(blob->getData().size()) != attr.getNumElements() * bytes)
    return std::nullopt;
  const char *p = blob->getData().data();
  for (int64_t i = 0; i < attr.getNumElements(); ++i, p += bytes) {
    uint64_t bits = 0;
    std::memcpy(&bits, p, bytes); // little-endian hosts only, as the blobs
    out.push_back(
        toFloat(APFloat(elt.getFloatSemantics(), APInt(elt.getWidth(), bits))));
  }
  return out;
}

bool compatibleShape(RankedTensorType type, ArrayRef<int64_t> shape) {
  if (type.getRank() != int64_t(shape.size()))
    return false;
  for (auto [a, b] : llvm::zip(type.getShape(), shape))
    if (!fused::compatibleDim(a, b))
      return false;
  return true;
}

namespace {

std::optional<ConstTensor> evalConst(Value v, IntsReader ints, int depth);

std::optional<ConstTensor> evalConstantOp(onnx::ConstantOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getType());
  Type elt = type ? type.getElementType() : Type();
  if (!type || !type.hasStaticShape() || !isKernelFloat(elt))
    return std::nullopt;
  ConstTensor t;
  t.shape.assign(type.getShape().begin(), type.getShape().end());
  t.elementType = elt;
  std::optional<std::vector<float>> data = readFloatConstant(op);
  if (!data || int64_t(data->size()) != type.getNumElements())
    return std::nullopt;
  t.data = std::move(*data);
  t.resource = isa<DenseResourceElementsAttr>(op.getValue());
  return t;
}

/// Row-major strides of `shape`.
SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// Calls `fn(outIndex, inOffset)` for every element of the view of a tensor
/// of `inStrides` with `outShape`, `offset` and per-dim `steps` (in input
/// elements), `dimOf[i]` naming the input dim out dim i walks.
void forEachElement(ArrayRef<int64_t> outShape, ArrayRef<int64_t> inStrides,
                    ArrayRef<int64_t> dimOf, ArrayRef<int64_t> starts,
                    ArrayRef<int64_t> steps,
                    function_ref<void(int64_t, int64_t)> fn) {
  int64_t rank = outShape.size();
  int64_t total = 1;
  for (int64_t d : outShape)
    total *= d;
  SmallVector<int64_t> idx(rank, 0);
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t off = 0;
    for (int64_t i = 0; i < rank; ++i)
      off += (starts[i] + idx[i] * steps[i]) * inStrides[dimOf[i]];
    fn(flat, off);
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++idx[i] < outShape[i])
        break;
      idx[i] = 0;
    }
  }
}

std::optional<ConstTensor> evalTranspose(onnx::TransposeOp op, IntsReader ints,
                                         int depth) {
  auto in = evalConst(op.getData(), ints, depth + 1);
  if (!in)
    return std::nullopt;
  int64_t rank = in->shape.size();
  SmallVector<int64_t> perm;
  for (Attribute a : op.getPerm())
    perm.push_back(cast<IntegerAttr>(a).getInt());
  if (int64_t(perm.size()) != rank)
    return std::nullopt;
  ConstTensor out;
  out.resource = in->resource;
  out.elementType = in->elementType;
  for (int64_t p : perm) {
    if (p < 0 || p >= rank)
      return std::nullopt;
    out.shape.push_back(in->shape[p]);
  }
  out.data.resize(in->data.size());
  SmallVector<int64_t> zeros(rank, 0), ones(rank, 1);
  forEachElement(out.shape, rowMajorStrides(in->shape), perm, zeros, ones,
                 [&](int64_t o, int64_t i) { out.data[o] = in->data[i]; });
  return out;
}

std::optional<ConstTensor> evalSlice(onnx::SliceOp op, IntsReader ints,
                                     int depth) {
  auto in = evalConst(op.getData(), ints, depth + 1);
  if (!in)
    return std::nullopt;
  int64_t rank = in->shape.size();
  SmallVector<int64_t> starts, ends, axes, steps;
  if (!ints(op.getStarts(), starts) || !ints(op.getEnds(), ends) ||
      starts.size() != ends.size())
    return std::nullopt;
  if (op.getAxes() && !ints(op.getAxes(), axes))
    return std::nullopt;
  if (op.getSteps() && !ints(op.getSteps(), steps))
    return std::nullopt;
  onnx::fillSliceDefaults(starts.size(), axes, steps);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    return std::nullopt;
  SmallVector<int64_t> begin(rank, 0), step(rank, 1);
  ConstTensor out;
  out.resource = in->resource;
  out.elementType = in->elementType;
  out.shape = in->shape;
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = onnx::normalizeAxis(axes[i], rank);
    if (axis < 0 || steps[i] <= 0)
      return std::nullopt;
    int64_t dim = in->shape[axis];
    int64_t s = onnx::sliceIndex(starts[i], dim, steps[i]);
    int64_t e = onnx::sliceIndex(ends[i], dim, steps[i]);
    begin[axis] = s;
    step[axis] = steps[i];
    out.shape[axis] = e > s ? (e - s + steps[i] - 1) / steps[i] : 0;
  }
  auto type = dyn_cast<RankedTensorType>(op.getOutput().getType());
  if (!type || !compatibleShape(type, out.shape))
    return std::nullopt;
  int64_t total = 1;
  for (int64_t d : out.shape)
    total *= d;
  out.data.resize(total);
  SmallVector<int64_t> dims = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  forEachElement(out.shape, rowMajorStrides(in->shape), dims, begin, step,
                 [&](int64_t o, int64_t i) { out.data[o] = in->data[i]; });
  return out;
}

/// The value of `v` if it is a float onnx.Constant, or a Transpose or Slice
/// (constant parameters) of one.
std::optional<ConstTensor> evalConst(Value v, IntsReader ints, int depth) {
  if (depth > 4)
    return std::nullopt;
  Operation *def = v.getDefiningOp();
  if (auto cst = dyn_cast_or_null<onnx::ConstantOp>(def))
    return evalConstantOp(cst);
  if (auto tr = dyn_cast_or_null<onnx::TransposeOp>(def))
    return evalTranspose(tr, ints, depth);
  if (auto slice = dyn_cast_or_null<onnx::SliceOp>(def))
    return evalSlice(slice, ints, depth);
  return std::nullopt;
}

} // namespace

std::optional<ConstTensor> evaluateFloatConstant(Value v, IntsReader ints) {
  return evalConst(v, ints, /*depth=*/0);
}

std::optional<ConstTensor> evaluateFloatConstant(Value v) {
  return evaluateFloatConstant(v, [](Value p, SmallVectorImpl<int64_t> &out) {
    return onnx::getConstantInts(p, out);
  });
}

bool isConstantView(Value v) {
  for (int depth = 0; depth <= 4; ++depth) {
    Operation *def = v.getDefiningOp();
    if (!isa_and_nonnull<onnx::TransposeOp, onnx::SliceOp>(def))
      return depth > 0 && isa_and_nonnull<onnx::ConstantOp>(def);
    v = def->getOperand(0);
  }
  return false;
}

SmallVector<int64_t> permOf(onnx::TransposeOp op) {
  SmallVector<int64_t> perm;
  for (Attribute a : op.getPerm())
    perm.push_back(cast<IntegerAttr>(a).getInt());
  return perm;
}

bool isPerm(onnx::TransposeOp op, ArrayRef<int64_t> perm) {
  return ArrayRef<int64_t>(permOf(op)) == perm;
}

SmallVector<int64_t> composePerms(ArrayRef<int64_t> first,
                                  ArrayRef<int64_t> second) {
  SmallVector<int64_t> perm;
  for (int64_t p : second)
    perm.push_back(first[p]);
  return perm;
}

bool isIdentityPerm(ArrayRef<int64_t> perm) {
  for (auto [i, p] : llvm::enumerate(perm))
    if (int64_t(i) != p)
      return false;
  return true;
}

std::optional<HeadSplit> staticHeadSplit(ArrayRef<int64_t> in,
                                         ArrayRef<int64_t> out) {
  if (in.size() != 3 || llvm::is_contained(in, 0))
    return std::nullopt;
  HeadSplit split;
  if (out.size() == 4 && out[0] == in[0] && out[1] == in[1]) {
    split.heads = out[2];
    split.headDim = out[3];
  } else if (out.size() == 3 && out[0] == in[0] && out[1] % in[1] == 0) {
    split.heads = out[1] / in[1];
    split.headDim = out[2];
    split.flat = true;
  } else {
    return std::nullopt;
  }
  if (split.heads * split.headDim != in[2])
    return std::nullopt;
  return split;
}

Value otherOperand(Operation *op, Value v) {
  if (!op || op->getNumOperands() != 2)
    return {};
  if (op->getOperand(0) == v)
    return op->getOperand(1);
  if (op->getOperand(1) == v)
    return op->getOperand(0);
  return {};
}

Operation *singleUser(Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

Operation *soleUser(Value v) {
  Operation *user = nullptr;
  for (Operation *u : v.getUsers()) {
    if (user && user != u)
      return nullptr;
    user = u;
  }
  return user;
}

SmallVector<Operation *> dataUsers(Value v) {
  SmallVector<Operation *> users;
  for (Operation *user : v.getUsers())
    if (!isa<onnx::ShapeOfOp>(user))
      users.push_back(user);
  return users;
}

void eraseDeadONNXOps(RewriterBase &rewriter, ArrayRef<Operation *> roots) {
  SmallVector<Operation *> worklist(roots.rbegin(), roots.rend());
  llvm::SmallPtrSet<Operation *, 16> erased;
  while (!worklist.empty()) {
    Operation *cur = worklist.pop_back_val();
    if (erased.contains(cur) || !cur->use_empty())
      continue;
    llvm::SetVector<Operation *> producers;
    for (Value operand : cur->getOperands())
      if (Operation *def = operand.getDefiningOp())
        producers.insert(def);
    erased.insert(cur);
    rewriter.eraseOp(cur);
    for (Operation *def : producers)
      if (isa<onnx::ONNXDialect>(def->getDialect()) && isPure(def))
        worklist.push_back(def);
  }
}

} // namespace tessera
