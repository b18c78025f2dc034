//===- OpBuilders.h - building blocks of several lowerings -*- C++ -*-===//
//
// Part of Tessera. Pieces that several op families' lowerings build from:
// padding around spatial dims (Conv.cpp, Pool.cpp) and generics computed
// from their loop indices (gathers, scatters, losses).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_LOWERING_OPBUILDERS_H
#define TESSERA_COMPILER_LOWERING_OPBUILDERS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace tessera::lowering {

/// `x` [N, C, spatial...] with `lo`/`hi` elements of `value` added around
/// each spatial dim, as a fill with `x` inserted (tensor.pad's
/// bufferization in LLVM 19 reads the dims of its result buffer before
/// allocating it when N is dynamic).
mlir::Value padSpatial(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                       llvm::ArrayRef<int64_t> lo, llvm::ArrayRef<int64_t> hi,
                       mlir::TypedAttr value);

/// A linalg.generic over `type`'s index space (dynamic dims sized by
/// `sizes`) whose body computes each element from the operands read through
/// `inputMaps` and the loop indices (for gathers, tiles and other index
/// arithmetic).
mlir::Value buildIndexed(
    mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
    llvm::ArrayRef<mlir::OpFoldResult> sizes, mlir::ValueRange inputs,
    llvm::ArrayRef<mlir::AffineMap> inputMaps,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::ValueRange, llvm::ArrayRef<mlir::Value>)>
        body);

/// An index into a dim of size `dim` from an integer scalar `i` of an
/// indices tensor: negative values count from the end, and the result is
/// clamped into [0, dim - 1] so that no read leaves the tensor.
mlir::Value clampedIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value i,
                         mlir::Value dim);

/// An elementwise generic over `x` into `type` that also reads parameters
/// (scales, zero points, per-channel statistics; null ones are skipped) per
/// tensor (one element) or per `axis` (1-D along that dim); `body` gets x's
/// element, then the parameters'. Defined in Quantize.cpp.
mlir::Value buildParamElementwise(
    mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
    mlir::Value x, llvm::ArrayRef<mlir::Value> params, int64_t axis,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::ValueRange)>
        body);

/// The float `v` clamped to the range of the integer type `q` (unsigned or
/// signed): the saturation of QuantizeLinear and the requantizing ops.
/// Defined in Quantize.cpp.
mlir::Value saturateToInt(mlir::OpBuilder &b, mlir::Location l, mlir::Value v,
                          mlir::Type q, bool isUnsigned);

/// `x` widened to `i32` minus its zero point `zp` (one value, or one per
/// entry along `axis`; none if null). `original` and `zpOriginal` are the
/// unconverted operands, which keep their signedness. Defined in
/// Quantize.cpp.
mlir::Value widenWithZeroPoint(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::Type i32, mlir::Value x,
                               mlir::Value original, mlir::Value zp,
                               mlir::Value zpOriginal, int64_t axis);

/// An int32 accumulator `acc` requantized into `outType` as ONNX Runtime
/// does for QLinearMatMul and QLinearConv: saturate(round_half_even(acc *
/// (a_scale * b_scale / y_scale)) + y_zero_point), in f32. aScale, yScale
/// and yZeroPoint are one value; bScale one value or one per entry along
/// `axis` of the output. Defined in Quantize.cpp.
mlir::Value buildRequantize(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value acc, mlir::RankedTensorType outType,
                            mlir::Value aScale, mlir::Value bScale,
                            int64_t axis, mlir::Value yScale,
                            mlir::Value yZeroPoint, bool yUnsigned);

} // namespace tessera::lowering

#endif // TESSERA_COMPILER_LOWERING_OPBUILDERS_H
