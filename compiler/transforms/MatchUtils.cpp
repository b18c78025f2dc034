//===- MatchUtils.cpp - small matchers shared by the fusion passes --------===//

#include "compiler/transforms/MatchUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"

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

} // namespace tessera
