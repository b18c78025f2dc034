//===- MatchUtils.h - matchers shared by the fusion passes ------*- C++ -*-===//
//
// Part of Tessera.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_TRANSFORMS_MATCHUTILS_H
#define TESSERA_COMPILER_TRANSFORMS_MATCHUTILS_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"

#include <optional>

namespace tessera {

/// The value of a one-element constant (float, or integer such as an
/// exponent of Pow), if `v` is one.
std::optional<double> scalarConstant(mlir::Value v);

/// The other operand of binary `op` if one of its operands is `v`, else null.
mlir::Value otherOperand(mlir::Operation *op, mlir::Value v);

/// Erases the ops of `roots` that are dead, then, transitively, the `onnx`
/// producers (all pure) that this leaves dead.
void eraseDeadONNXOps(mlir::RewriterBase &rewriter,
                      llvm::ArrayRef<mlir::Operation *> roots);

} // namespace tessera

#endif // TESSERA_COMPILER_TRANSFORMS_MATCHUTILS_H
