//===- FusedMatMul.cpp - lowering of tessera ops ------------------------------===//
//
// Part of Tessera. Not implemented yet: no patterns.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "dialects/tessera/TesseraDialect.h"

using namespace mlir;

namespace tessera {

void populateFusedMatMulToLinalgPatterns(TypeConverter &converter,
                                       RewritePatternSet &patterns) {}

} // namespace tessera
