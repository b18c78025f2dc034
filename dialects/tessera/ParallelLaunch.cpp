//===- ParallelLaunch.cpp - tessera.parallel_launch verifier --------------===//

#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;
using namespace tessera::fused;

/// The body is a function without results. While it is a func.func, it
/// takes the captures followed by the range (index, index); after the LLVM
/// lowering its memref arguments are expanded and only that it is a
/// function is checked.
LogicalResult
ParallelLaunchOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto body = symbolTable.lookupNearestSymbolFrom<FunctionOpInterface>(
      *this, getBodyAttr());
  if (!body)
    return emitOpError() << "body " << getBodyAttr()
                         << " is not a function of the module";
  if (body.getNumResults() != 0)
    return emitOpError() << "body " << getBodyAttr()
                         << " must not return values";
  if (!isa<func::FuncOp>(body.getOperation()))
    return success();
  SmallVector<Type> expected(getCaptures().getTypes());
  Type index = IndexType::get(getContext());
  expected.append({index, index});
  if (body.getArgumentTypes() != ArrayRef<Type>(expected))
    return emitOpError() << "body " << getBodyAttr()
                         << " must take the captures and (begin, end)";
  return success();
}
