//===- ONNXDialect.h - the onnx dialect -------------------------*- C++ -*-===//
//
// Part of Tessera. The `onnx` dialect: one op per supported ONNX operator.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_DIALECTS_ONNX_ONNXDIALECT_H
#define TESSERA_DIALECTS_ONNX_ONNXDIALECT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/onnx/ONNXDialect.h.inc"

namespace tessera::onnx {
/// Checks that the declared result types agree with what the op's shape
/// inference derives from its operands (rank, static dims, element type).
mlir::LogicalResult verifyInferredResultTypes(mlir::Operation *op);
} // namespace tessera::onnx

#include "dialects/onnx/ONNXInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/onnx/ONNXOps.h.inc"

namespace tessera::onnx {

/// Multidirectional (numpy) broadcast of two shapes. Dynamic dims are
/// ShapedType::kDynamic. Returns failure if two static dims conflict.
mlir::LogicalResult broadcastShapes(llvm::ArrayRef<int64_t> a,
                                    llvm::ArrayRef<int64_t> b,
                                    llvm::SmallVectorImpl<int64_t> &result);

/// Shape inference shared by the ops whose C++ comes from their ODS class
/// (ONNXBase.td, Math.td, Reduce.td): the result is the broadcast of
/// `operands`, has `input`'s shape, or is `data` reduced over the constant
/// `axes` (all dims when absent or empty, unless `noopWithEmptyAxes`), each
/// with element type `elt`.
mlir::LogicalResult broadcastOperands(mlir::ValueRange operands, mlir::Type elt,
                                      llvm::SmallVectorImpl<mlir::Type> &types);
mlir::LogicalResult sameShape(mlir::Value input, mlir::Type elt,
                              llvm::SmallVectorImpl<mlir::Type> &types);
mlir::LogicalResult inferReduce(mlir::Value data, mlir::Value axes,
                                bool keepdims, bool noopWithEmptyAxes,
                                mlir::Type elt,
                                llvm::SmallVectorImpl<mlir::Type> &types);
mlir::LogicalResult inferReduce(mlir::Value data, llvm::ArrayRef<int64_t> axes,
                                bool keepdims, bool noopWithEmptyAxes,
                                mlir::Type elt,
                                llvm::SmallVectorImpl<mlir::Type> &types);

/// The most values getConstantInts reads (2^20).
constexpr int64_t kMaxFoldedInts = int64_t(1) << 20;

/// If `v` is produced by a constant op with a dense integer value of at most
/// kMaxFoldedInts elements, fills `values` and returns true.
bool getConstantInts(mlir::Value v, llvm::SmallVectorImpl<int64_t> &values);
/// The same for a constant's value (a dense integer attribute).
bool getConstantInts(mlir::Attribute attr,
                     llvm::SmallVectorImpl<int64_t> &values);

/// Normalises a possibly negative axis for a tensor of `rank`; returns -1 if
/// it is out of range.
int64_t normalizeAxis(int64_t axis, int64_t rank);

/// ONNX Slice: a start or end index `v` on an axis of size `dim`, counted
/// from the end if negative and clamped to [0, dim] (positive step) or
/// [-1, dim - 1] (negative step).
int64_t sliceIndex(int64_t v, int64_t dim, int64_t step);

/// ONNX Slice's defaults: axes 0..n-1 and steps of 1 where they are absent.
void fillSliceDefaults(size_t n, llvm::SmallVectorImpl<int64_t> &axes,
                       llvm::SmallVectorImpl<int64_t> &steps);

/// The [start, end) range of dimensions that `op` returns for an input of
/// `rank`, clamped as ONNX specifies.
std::pair<int64_t, int64_t> shapeRange(ShapeOfOp op, int64_t rank);

/// One activation function of a recurrent cell with its alpha and beta
/// (ONNX's defaults where the node gives none).
struct RecurrentActivation {
  std::string name; // as ONNX spells it: "Sigmoid", "Tanh", "LeakyRelu", ...
  float alpha = 0, beta = 0;
};

/// What RNN, GRU and LSTM (RecurrentOps, Recurrent.cpp) have in common.
struct RecurrentCell {
  int64_t gates;      // 1 (RNN), 3 (GRU: z, r, h), 4 (LSTM: i, o, f, c)
  int64_t directions; // 2 for "bidirectional", else 1
  bool reverse;       // "reverse": the one direction runs backwards
  /// Per direction, the cell's functions in ONNX's order (RNN f; GRU f, g;
  /// LSTM f, g, h).
  llvm::SmallVector<RecurrentActivation> activations;
};

/// Reads `op`'s direction and activation attributes; fails with `why` set if
/// it is not an RNN, GRU or LSTM or one of them is not valid.
mlir::FailureOr<RecurrentCell> describeRecurrentCell(mlir::Operation *op,
                                                     std::string &why);

/// Narrows `op`'s result types with what its ShapeInferenceOpInterface can
/// infer (dynamic dims become static, unranked becomes ranked). Emits an error
/// and fails if the inferred and current types conflict. Element types are
/// kept. Sets `changed` if a type was updated.
mlir::LogicalResult refineResultTypes(mlir::Operation *op, bool &changed);

} // namespace tessera::onnx

#endif // TESSERA_DIALECTS_ONNX_ONNXDIALECT_H
