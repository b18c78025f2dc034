//===- RewriteUtils.h - building the fused replacements ---------*- C++ -*-===//
//
// Part of Tessera. Small builders the recognisers share when they replace a
// decomposition by one op (MatchUtils.h has the matchers).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_TRANSFORMS_REWRITEUTILS_H
#define TESSERA_COMPILER_TRANSFORMS_REWRITEUTILS_H

#include "compiler/transforms/MatchUtils.h"

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

/// An onnx.Constant holding `t` in its element type (f32 when unset), kept
/// as a resource named `name` if any of its sources was one (large weights
/// stay out of the attribute storage).
mlir::Value buildConstant(mlir::OpBuilder &b, mlir::Location loc,
                          const ConstTensor &t, llvm::StringRef name);

} // namespace tessera

#endif // TESSERA_COMPILER_TRANSFORMS_REWRITEUTILS_H
