//===- MatchUtils.cpp - small matchers shared by the fusion passes --------===//

#include "compiler/transforms/MatchUtils.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;

namespace tessera {

std::optional<double> scalarConstant(Value v) {
  Attribute attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr);
      dense && dense.getNumElements() == 1)
    return (*dense.value_begin<APFloat>()).convertToDouble();
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr);
      dense && dense.getNumElements() == 1)
    return static_cast<double>((*dense.value_begin<APInt>()).getSExtValue());
  return std::nullopt;
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
