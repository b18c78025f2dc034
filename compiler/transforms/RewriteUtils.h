//===- RewriteUtils.h - building the fused replacements ---------*- C++ -*-===//
//
// Part of Tessera. Small builders the recognisers share when they replace a
// decomposition by one op (MatchUtils.h has the matchers).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_TRANSFORMS_REWRITEUTILS_H
#define TESSERA_COMPILER_TRANSFORMS_REWRITEUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/Operation.h"

namespace tessera {

/// The locations of `ops` fused into one (the fused op's location: every
/// node it replaces stays in diagnostics and the report).
mlir::Location fusedLocOf(mlir::OpBuilder &b,
                          llvm::ArrayRef<mlir::Operation *> ops);

/// An onnx.Constant [d] of ones of float type `elt` (the scale of a
/// normalisation whose decomposition had none).
mlir::Value onesVector(mlir::OpBuilder &b, mlir::Location loc, int64_t d,
                       mlir::Type elt);

} // namespace tessera

#endif // TESSERA_COMPILER_TRANSFORMS_REWRITEUTILS_H
