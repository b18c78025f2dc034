//===- MatchUtils.cpp - small matchers shared by the fusion passes --------===//

#include "compiler/transforms/MatchUtils.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <cmath>

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

std::optional<std::vector<float>> readF32Constant(Value v) {
  ElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  return readF32Elements(attr);
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
