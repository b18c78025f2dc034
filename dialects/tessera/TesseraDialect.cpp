//===- TesseraDialect.cpp - tessera dialect registration ------------------===//

#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace tessera::fused;

#include "dialects/tessera/TesseraDialect.cpp.inc"

void TesseraDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tessera/TesseraOps.cpp.inc"
      >();
}

/// `tessera.entry` and `tessera.output_dims`: unit attributes of at most one
/// function each per module. Other `tessera.*` attributes (on modules and
/// ops, set and read inside one stage) are not checked here.
LogicalResult TesseraDialect::verifyOperationAttribute(Operation *op,
                                                       NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == WidenedRoundingAttrHelper::getNameStr()) {
    if (!isa<UnitAttr>(attr.getValue()) || !isa<arith::TruncFOp>(op))
      return op->emitError()
             << "'" << name << "' must be a unit attribute on arith.truncf";
    return success();
  }
  if (name != EntryAttrHelper::getNameStr() &&
      name != OutputDimsAttrHelper::getNameStr())
    return success();
  if (!isa<UnitAttr>(attr.getValue()))
    return op->emitError() << "'" << name << "' must be a unit attribute";
  if (!isa<FunctionOpInterface>(op))
    return op->emitError() << "'" << name << "' must be on a function";
  Operation *table = op->getParentOp();
  if (!table)
    return success();
  for (Region &region : table->getRegions())
    for (Operation &other : region.getOps())
      if (&other != op && other.hasAttr(attr.getName()))
        return op->emitError()
               << "'" << name << "' is on more than one function";
  return success();
}

namespace tessera::fused {

/// The function of `symbolTable` carrying the discardable attribute `name`.
static FunctionOpInterface findMarked(Operation *symbolTable, StringRef name) {
  for (Region &region : symbolTable->getRegions())
    for (auto func : region.getOps<FunctionOpInterface>())
      if (func->hasAttr(name))
        return func;
  return nullptr;
}

/// Sets the unit attribute `name` on `func`; the dialect is loaded so the
/// verifier checks it.
static void mark(FunctionOpInterface func, StringRef name) {
  MLIRContext *ctx = func->getContext();
  ctx->getOrLoadDialect<TesseraDialect>();
  func->setAttr(name, UnitAttr::get(ctx));
}

void markEntryFunction(FunctionOpInterface func) {
  mark(func, TesseraDialect::EntryAttrHelper::getNameStr());
}

FunctionOpInterface getEntryFunction(Operation *symbolTable) {
  return findMarked(symbolTable, TesseraDialect::EntryAttrHelper::getNameStr());
}

void markOutputDimsFunction(FunctionOpInterface func) {
  mark(func, TesseraDialect::OutputDimsAttrHelper::getNameStr());
}

FunctionOpInterface getOutputDimsFunction(Operation *symbolTable) {
  return findMarked(symbolTable,
                    TesseraDialect::OutputDimsAttrHelper::getNameStr());
}

Value buildWidenedRounding(OpBuilder &b, Location loc, Value v, Type elt) {
  b.getContext()->getOrLoadDialect<TesseraDialect>();
  Type type = elt;
  if (auto vec = dyn_cast<VectorType>(v.getType()))
    type = vec.clone(elt);
  auto round = b.create<arith::TruncFOp>(loc, type, v);
  round->setAttr(TesseraDialect::WidenedRoundingAttrHelper::getNameStr(),
                 b.getUnitAttr());
  return round;
}

bool isWidenedRounding(Operation *op) {
  return isa_and_nonnull<arith::TruncFOp>(op) &&
         op->hasAttr(TesseraDialect::WidenedRoundingAttrHelper::getNameStr());
}

void clearWidenedRounding(Operation *op) {
  op->removeAttr(TesseraDialect::WidenedRoundingAttrHelper::getNameStr());
}

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
