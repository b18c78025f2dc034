//===- ONNXCanonicalize.h - canonical forms of onnx ops ---------*- C++ -*-===//
//
// Part of Tessera. Canonical operand order of the commutative onnx ops (Add,
// Mul, Max, Min, Equal, And, Or): constant operands last, in their original
// order. Matchers (the fusion passes) then look for "op(x, constant)" only.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_DIALECTS_ONNX_ONNXCANONICALIZE_H
#define TESSERA_DIALECTS_ONNX_ONNXCANONICALIZE_H

#include "mlir/IR/PatternMatch.h"

namespace tessera::onnx {

/// The operand-order patterns of every commutative onnx op (also each op's
/// canonicalisation patterns), for drivers that must not fold.
void populateONNXOperandOrderPatterns(mlir::RewritePatternSet &patterns);

} // namespace tessera::onnx

#endif // TESSERA_DIALECTS_ONNX_ONNXCANONICALIZE_H
