//===- MatchUtils.h - matchers shared by the fusion passes ------*- C++ -*-===//
//
// Part of Tessera. The one library of small matchers the fusion passes use:
// constant readers, permutations, use queries and the dead-op eraser.
//
// The fusions run after the onnx operand-order canonicalisation (see
// dialects/onnx/ONNXCanonicalize.h): a commutative op with one constant
// operand has it last, so a matcher looking for "op(x, constant)" checks
// that order only.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_TRANSFORMS_MATCHUTILS_H
#define TESSERA_COMPILER_TRANSFORMS_MATCHUTILS_H

#include "dialects/onnx/ONNXDialect.h"

#include "mlir/IR/Operation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"

#include <optional>
#include <vector>

namespace tessera {

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// The value of a constant whose elements are all equal (float or integer),
/// read through onnx.Identity and through onnx.Cast to a float type.
struct SplatConstant {
  double value = 0;
  bool isFloat = false;
  int64_t numElements = 0;
};
std::optional<SplatConstant> splatConstant(mlir::Value v);

/// The value of a one-element constant (float, or integer such as an
/// exponent of Pow), if `v` is one.
std::optional<double> scalarConstant(mlir::Value v);

/// The value of a floating-point splat constant of any shape.
std::optional<double> floatSplatConstant(mlir::Value v);

/// Whether `v` is a one-element constant within `relTolerance` (relative) of
/// `expected`, or of `expected` rounded to a float type narrower than f32.
bool isScalarNear(mlir::Value v, double expected, double relTolerance);

/// Whether `t` is f32, f16 or bf16: the float types the fused ops' kernels
/// take (16-bit ones computed in f32).
bool isKernelFloat(mlir::Type t);

/// The elements of an f32 constant attribute, dense or resource-backed.
std::optional<std::vector<float>> readF32Elements(mlir::ElementsAttr attr);

/// The elements of `v`, rounded to f32, if it is a constant of any float
/// type, dense or resource-backed (for matching values, not for rewriting
/// weights: f64 elements lose precision).
std::optional<std::vector<float>> readFloatConstant(mlir::Value v);

/// Whether `type` can be `shape` (same rank; each dim equal or dynamic).
bool compatibleShape(mlir::RankedTensorType type,
                     llvm::ArrayRef<int64_t> shape);

/// A float tensor known at compile time, its values as f32.
struct ConstTensor {
  llvm::SmallVector<int64_t> shape;
  std::vector<float> data;
  /// The type the values were read from: f32, or f16 or bf16 (widened
  /// exactly).
  mlir::Type elementType;
  /// Whether any source was resource-backed (large weights stay resources).
  bool resource = false;
};

/// Reads the integer values of a Slice parameter (starts, ends, axes,
/// steps); false if they are not known.
using IntsReader =
    llvm::function_ref<bool(mlir::Value, llvm::SmallVectorImpl<int64_t> &)>;

/// The value of `v` if it is an f32, f16 or bf16 onnx.Constant, or a
/// Transpose or Slice of one (up to four deep, e.g. nn.MultiheadAttention's
/// in_proj weight sliced and transposed per projection), Slice parameters
/// read by `ints` (onnx::getConstantInts when not given).
std::optional<ConstTensor> evaluateFloatConstant(mlir::Value v,
                                                 IntsReader ints);
std::optional<ConstTensor> evaluateFloatConstant(mlir::Value v);

/// Whether `v` is a Transpose or Slice (up to four deep) of an
/// onnx.Constant: a constant evaluateFloatConstant may compute.
bool isConstantView(mlir::Value v);

//===----------------------------------------------------------------------===//
// Permutations
//===----------------------------------------------------------------------===//

/// The perm of a Transpose.
llvm::SmallVector<int64_t> permOf(onnx::TransposeOp op);

/// Whether `op` transposes with exactly `perm`.
bool isPerm(onnx::TransposeOp op, llvm::ArrayRef<int64_t> perm);

/// `first` then `second`: Transpose(Transpose(x, first), second) as one perm.
llvm::SmallVector<int64_t> composePerms(llvm::ArrayRef<int64_t> first,
                                        llvm::ArrayRef<int64_t> second);

bool isIdentityPerm(llvm::ArrayRef<int64_t> perm);

//===----------------------------------------------------------------------===//
// Head splits
//===----------------------------------------------------------------------===//

/// How a Reshape splits the features E of a rank-3 [d0, d1, E] tensor into
/// heads: [d0, d1, H, Dh], or (`flat`, nn.MultiheadAttention's seq-first
/// layout) [d0, d1 * H, Dh].
struct HeadSplit {
  int64_t heads = 0, headDim = 0;
  bool flat = false;
};

/// The head split of a Reshape from the static shape `in` to `out`, if it is
/// one. (Dynamic rows are matched through the shape vector: FuseQKV.cpp.)
std::optional<HeadSplit> staticHeadSplit(llvm::ArrayRef<int64_t> in,
                                         llvm::ArrayRef<int64_t> out);

//===----------------------------------------------------------------------===//
// Operands and uses
//===----------------------------------------------------------------------===//

/// The other operand of binary `op` if one of its operands is `v`, else null.
mlir::Value otherOperand(mlir::Operation *op, mlir::Value v);

/// If `op` is a binary `OpTy` whose second operand is a one-element constant
/// within `relTolerance` of `c`, its first operand. (Commutative ops have
/// their constant operand second in canonical form.)
template <typename OpTy>
mlir::Value operandBesideConstant(mlir::Operation *op, double c,
                                  double relTolerance) {
  if (!llvm::isa_and_nonnull<OpTy>(op) ||
      !isScalarNear(op->getOperand(1), c, relTolerance))
    return {};
  return op->getOperand(0);
}

/// The only user of `v` if `v` has exactly one use, else null.
mlir::Operation *singleUser(mlir::Value v);

/// The only op using `v` (possibly through several operands), else null.
mlir::Operation *soleUser(mlir::Value v);

/// The users of `v` that read its values: all but onnx.Shape ops (the
/// dynamic-shape exports take shapes of intermediate values).
llvm::SmallVector<mlir::Operation *> dataUsers(mlir::Value v);

//===----------------------------------------------------------------------===//
// Erasing
//===----------------------------------------------------------------------===//

/// Erases the ops of `roots` that are dead, then, transitively, the `onnx`
/// producers (all pure) that this leaves dead.
void eraseDeadONNXOps(mlir::RewriterBase &rewriter,
                      llvm::ArrayRef<mlir::Operation *> roots);

} // namespace tessera

#endif // TESSERA_COMPILER_TRANSFORMS_MATCHUTILS_H
