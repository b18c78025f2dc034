//===- TesseraDialect.h - the tessera dialect of fused ops ------*- C++ -*-===//
//
// Part of Tessera. Fused Transformer ops produced by the fusion passes in
// compiler/transforms and lowered to dedicated kernels in compiler/lowering.
// The C++ namespace is tessera::fused (the project namespace is `tessera`).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_DIALECTS_TESSERA_TESSERADIALECT_H
#define TESSERA_DIALECTS_TESSERA_TESSERADIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/tessera/TesseraDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/tessera/TesseraOps.h.inc"

namespace tessera::fused {

/// True if `a` and `b` can be the same dimension (equal, or one dynamic).
inline bool compatibleDim(int64_t a, int64_t b) {
  return a == b || mlir::ShapedType::isDynamic(a) ||
         mlir::ShapedType::isDynamic(b);
}

/// Checks that `v`, if present, is a rank-1 tensor of `size` elements;
/// `what` names it in the diagnostic.
mlir::LogicalResult verifyVector(mlir::Operation *op, mlir::Value v,
                                 int64_t size, llvm::StringRef what);

/// Marks `func` as the model's entry function (`tessera.entry`). The
/// importer calls it; every later stage finds the function through
/// getEntryFunction, whatever its name.
void markEntryFunction(mlir::FunctionOpInterface func);

/// The function of `symbolTable` (a module) marked `tessera.entry`, or null.
mlir::FunctionOpInterface getEntryFunction(mlir::Operation *symbolTable);

/// getEntryFunction as a `FuncT` (func::FuncOp before the LLVM lowering,
/// LLVM::LLVMFuncOp after it), or null.
template <typename FuncT>
FuncT getEntryFunctionAs(mlir::Operation *symbolTable) {
  mlir::FunctionOpInterface func = getEntryFunction(symbolTable);
  return func ? llvm::dyn_cast<FuncT>(func.getOperation()) : FuncT();
}

/// Marks `func` as the function computing the output dims
/// (`tessera.output_dims`).
void markOutputDimsFunction(mlir::FunctionOpInterface func);

/// The function of `symbolTable` marked `tessera.output_dims`, or null.
mlir::FunctionOpInterface getOutputDimsFunction(mlir::Operation *symbolTable);

/// `v` (an f32 scalar or vector) rounded to the 16-bit float `elt` by an
/// arith.truncf marked `tessera.widened_rounding`: a rounding that a fused
/// elementwise chain may skip (see TesseraBase.td).
mlir::Value buildWidenedRounding(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::Value v, mlir::Type elt);

/// Whether `op` is a rounding built by buildWidenedRounding.
bool isWidenedRounding(mlir::Operation *op);

/// Removes the mark of buildWidenedRounding from `op`.
void clearWidenedRounding(mlir::Operation *op);

} // namespace tessera::fused

#endif // TESSERA_DIALECTS_TESSERA_TESSERADIALECT_H
