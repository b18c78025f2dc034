//===- LoweringUtils.h - helpers shared by the onnx lowerings ---*- C++ -*-===//

#ifndef TESSERA_COMPILER_LOWERING_LOWERINGUTILS_H
#define TESSERA_COMPILER_LOWERING_LOWERINGUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"

namespace tessera::lowering {

/// Body of an elementwise op: scalar arguments in operand order.
using ScalarFn = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// A linalg.generic computing `body` over the numpy broadcast of `inputs`
/// into a new tensor of `resultType` (static shape).
mlir::Value buildElementwise(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::RankedTensorType resultType,
                             mlir::ValueRange inputs, ScalarFn body);

/// The indexing map that reads a (broadcast) operand of `shape` while
/// iterating over `resultShape`.
mlir::AffineMap broadcastMap(mlir::MLIRContext *ctx,
                             llvm::ArrayRef<int64_t> shape,
                             llvm::ArrayRef<int64_t> resultShape);

/// A tensor of `type` filled with `value`.
mlir::Value buildFilled(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type, mlir::TypedAttr value);

/// Reshapes `value` to `type` (same element count) via collapse/expand.
mlir::Value buildReshape(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value value, mlir::RankedTensorType type);

/// GELU of the scalar `x`: 0.5 x (1 + erf(x / sqrt 2)), or with `tanhForm`
/// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) (onnx.Gelu's lowering).
mlir::Value buildGelu(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      bool tanhForm);

/// Converts a scalar between element types (ONNX Cast semantics). Signedness
/// of integer types comes from `fromUnsigned`/`toUnsigned`.
mlir::Value convertScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                          mlir::Type to, bool fromUnsigned, bool toUnsigned);

/// Whether `type` (a tensor or element type) is an unsigned integer.
bool isUnsignedInt(mlir::Type type);

/// The signless element type used after lowering.
mlir::Type signlessElementType(mlir::Type type);

/// `v`'s type after conversion if it is a statically shaped ranked tensor,
/// else null.
mlir::RankedTensorType staticType(const mlir::TypeConverter *converter,
                                  mlir::Value v);

/// Values of a constant integer tensor produced by onnx.Constant or
/// arith.constant (after conversion).
bool getConstIntValues(mlir::Value v, llvm::SmallVectorImpl<int64_t> &out);

/// The largest / smallest finite value, or +-inf for floats.
mlir::TypedAttr lowestValue(mlir::Type elt);
mlir::TypedAttr highestValue(mlir::Type elt);

} // namespace tessera::lowering

#endif // TESSERA_COMPILER_LOWERING_LOWERINGUTILS_H
