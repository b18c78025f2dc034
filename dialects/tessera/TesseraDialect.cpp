//===- TesseraDialect.cpp - tessera dialect registration ------------------===//

#include "dialects/tessera/TesseraDialect.h"

using namespace mlir;
using namespace tessera::fused;

#include "dialects/tessera/TesseraDialect.cpp.inc"

void TesseraDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tessera/TesseraOps.cpp.inc"
      >();
}

namespace tessera::fused {

LogicalResult verifyVector(Operation *op, Value v, int64_t size,
                           StringRef what) {
  if (!v)
    return success();
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getRank() != 1 || !compatibleDim(type.getDimSize(0), size))
    return op->emitOpError() << what << " must be a vector of " << size
                             << " elements, got " << type;
  return success();
}

} // namespace tessera::fused

#define GET_OP_CLASSES
#include "dialects/tessera/TesseraOps.cpp.inc"
