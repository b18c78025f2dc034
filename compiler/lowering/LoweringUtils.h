//===- LoweringUtils.h - helpers shared by the onnx lowerings ---*- C++ -*-===//

#ifndef TESSERA_COMPILER_LOWERING_LOWERINGUTILS_H
#define TESSERA_COMPILER_LOWERING_LOWERINGUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"

namespace tessera::lowering {

/// Body of an elementwise op: scalar arguments in operand order.
using ScalarFn = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// A linalg.generic computing `body` over the numpy broadcast of `inputs`
/// into a new tensor of `resultType`. Dynamic result dims take their size
/// from the inputs (broadcastSizes, which also checks them at run time).
mlir::Value buildElementwise(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::RankedTensorType resultType,
                             mlir::ValueRange inputs, ScalarFn body);

/// The same over explicit result `sizes` (one per dim of `resultType`).
mlir::Value buildElementwise(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::RankedTensorType resultType,
                             llvm::ArrayRef<mlir::OpFoldResult> sizes,
                             mlir::ValueRange inputs, ScalarFn body);

/// The sizes of the numpy broadcast of `inputs` into `resultType`. A static
/// 1 broadcasts; any other input dim must equal the result's: where that is
/// not known at compile time (two dynamic dims, dynamic vs static N) a
/// cf.assert checks it at run time.
llvm::SmallVector<mlir::OpFoldResult>
broadcastSizes(mlir::OpBuilder &b, mlir::Location loc,
               mlir::RankedTensorType resultType, mlir::ValueRange inputs);

/// The same over the sizes of the operands (right-aligned to `resultShape`).
llvm::SmallVector<mlir::OpFoldResult>
broadcastSizes(mlir::OpBuilder &b, mlir::Location loc,
               llvm::ArrayRef<int64_t> resultShape,
               llvm::ArrayRef<llvm::SmallVector<mlir::OpFoldResult>> inputs);

/// The ONNX node name in `loc` (its NameLoc), or "?" without one.
std::string nodeName(mlir::Location loc);

/// A run-time shape check: cf.assert(cond, "node 'NAME': <reason>"). Emits
/// nothing when `cond` is a constant true.
void emitCheck(mlir::OpBuilder &b, mlir::Location loc, mlir::Value cond,
               const llvm::Twine &reason);

/// Checks at run time that two sizes agree, unless provably equal.
void checkSameSize(mlir::OpBuilder &b, mlir::Location loc, mlir::OpFoldResult x,
                   mlir::OpFoldResult y, const llvm::Twine &reason);

/// Whether two sizes are equal at compile time (same constant, or the same
/// tensor.dim of the same tensor).
bool sameSize(mlir::OpFoldResult x, mlir::OpFoldResult y);

/// `v` as an index Value (a constant for an attribute).
mlir::Value indexValue(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::OpFoldResult v);

/// Whether `v` is known to be >= 0: a constant >= 0, a tensor.dim, or sums,
/// products, quotients, max/min of such.
bool isNonNegativeSize(mlir::OpFoldResult v);

/// Index arithmetic on sizes that folds where the operands are constant.
struct SizeMath {
  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::Value v(mlir::OpFoldResult x) { return indexValue(b, loc, x); }
  mlir::OpFoldResult fold(mlir::Value x) { return mlir::getAsOpFoldResult(x); }
  mlir::OpFoldResult c(int64_t x) { return b.getIndexAttr(x); }
  /// `OpTy` of x and y; `f` computes it when both are constants (so that
  /// static shapes leave no ops behind).
  template <typename OpTy, typename F>
  mlir::OpFoldResult bin(mlir::OpFoldResult x, mlir::OpFoldResult y, F f) {
    std::optional<int64_t> cx = mlir::getConstantIntValue(x),
                           cy = mlir::getConstantIntValue(y);
    if (cx && cy)
      return c(f(*cx, *cy));
    return fold(b.createOrFold<OpTy>(loc, v(x), v(y)));
  }
  mlir::OpFoldResult add(mlir::OpFoldResult x, mlir::OpFoldResult y);
  mlir::OpFoldResult sub(mlir::OpFoldResult x, mlir::OpFoldResult y);
  mlir::OpFoldResult mul(mlir::OpFoldResult x, mlir::OpFoldResult y);
  mlir::OpFoldResult max(mlir::OpFoldResult x, mlir::OpFoldResult y);
  mlir::OpFoldResult min(mlir::OpFoldResult x, mlir::OpFoldResult y);
  /// Signed division, truncating (C and ONNX integer Div).
  mlir::OpFoldResult div(mlir::OpFoldResult x, mlir::OpFoldResult y);
  /// An i1 comparison; folds for constants and for a size known to be >= 0
  /// against a negative constant (a dim is never -1).
  mlir::Value cmp(mlir::arith::CmpIPredicate p, mlir::OpFoldResult x,
                  mlir::OpFoldResult y);
  mlir::OpFoldResult select(mlir::Value cond, mlir::OpFoldResult x,
                            mlir::OpFoldResult y);
  mlir::Value all(llvm::ArrayRef<mlir::Value> conds);
};

/// The product of `sizes` (folded to a constant where all are static).
mlir::OpFoldResult sizeProduct(mlir::OpBuilder &b, mlir::Location loc,
                               llvm::ArrayRef<mlir::OpFoldResult> sizes);

/// The elements of a small integer (or bool) tensor computed by shape
/// arithmetic in the graph -- the shape operand of a Reshape, Expand or
/// ConstantOfShape, the repeats of a Tile, the starts of a Slice, a Range
/// bound -- as index sizes in row-major order, traced through the onnx ops
/// that compute it (Shape, Size, Gather, Unsqueeze, Squeeze, Reshape, Cast,
/// Concat, Slice, ConstantOfShape, integer Add/Sub/Mul/Div/Max/Min,
/// Equal/Less/Greater, Where, And/Or/Not) back to constants and the dims of
/// lowered tensors (tensor.dim). So the dims of a result sized by them
/// reify to input dims. Whatever it cannot trace is read at run time from
/// the lowered value (tensor.extract). `original` is the operand of the op
/// being converted; fails if it is not a ranked integer tensor with a static
/// number of elements (at most 64).
mlir::FailureOr<llvm::SmallVector<mlir::OpFoldResult>>
shapeElements(mlir::ConversionPatternRewriter &rewriter, mlir::Location loc,
              mlir::Value original);

/// tensor.empty of `type`'s shape and element type; its dynamic dims take
/// their size from `sizes` (one per dim; static dims of `type` win).
mlir::Value buildEmpty(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::RankedTensorType type,
                       llvm::ArrayRef<mlir::OpFoldResult> sizes);

/// `type` with its static dims refined from constant entries of `sizes`.
mlir::RankedTensorType refineType(mlir::RankedTensorType type,
                                  llvm::ArrayRef<mlir::OpFoldResult> sizes);

/// The indexing map that reads a (broadcast) operand of `shape` while
/// iterating over `resultShape`.
mlir::AffineMap broadcastMap(mlir::MLIRContext *ctx,
                             llvm::ArrayRef<int64_t> shape,
                             llvm::ArrayRef<int64_t> resultShape);

/// A tensor of `type` filled with `value`.
mlir::Value buildFilled(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type, mlir::TypedAttr value);

/// The same with the sizes of the dynamic dims from `sizes` (see buildEmpty).
mlir::Value buildFilled(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type,
                        llvm::ArrayRef<mlir::OpFoldResult> sizes,
                        mlir::TypedAttr value);

/// `source` transposed by `perm` (result dim i is source dim perm[i]), as
/// a linalg.transpose into a new tensor.
mlir::Value buildTranspose(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value source, llvm::ArrayRef<int64_t> perm);

/// Whether a reassociation group of an expand to `type` has several dynamic
/// dims, which an expand_shape cannot carry safely in LLVM 19.
bool hasAmbiguousGroup(mlir::RankedTensorType type,
                       llvm::ArrayRef<mlir::ReassociationIndices> groups);

/// tensor.expand_shape of `source` to `type` with these output sizes, or,
/// when a group has several dynamic dims ([B*S, D] -> [B, S, D]), a
/// tensor.reshape by them: LLVM 19 recomputes the dims of such an expand
/// from its source (canonicalization, reification, bufferization) and gets
/// them wrong. tensor.dim of the reshape folds back to `sizes`.
mlir::Value buildExpandShape(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::RankedTensorType type, mlir::Value source,
                             llvm::ArrayRef<mlir::ReassociationIndices> groups,
                             llvm::ArrayRef<mlir::OpFoldResult> sizes);

/// Reshapes `value` to `type` (same element count) via collapse/expand. For
/// dynamic shapes `sizes` gives the result's sizes: dims are grouped where
/// the products are provably equal (collapse + expand), else the value goes
/// through 1-D with a run-time check of the element count. `valueSizes`, if
/// given, are `value`'s sizes (products of other sizes group better than the
/// tensor.dim of `value`).
mlir::Value buildReshape(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value value, mlir::RankedTensorType type,
                         llvm::ArrayRef<mlir::OpFoldResult> sizes = {},
                         llvm::ArrayRef<mlir::OpFoldResult> valueSizes = {});

/// GELU of the scalar `x`: 0.5 x (1 + erf(x / sqrt 2)), or with `tanhForm`
/// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) (onnx.Gelu's lowering).
mlir::Value buildGelu(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      bool tanhForm);

/// Converts a scalar between element types (ONNX Cast semantics). Signedness
/// of integer types comes from `fromUnsigned`/`toUnsigned`.
mlir::Value convertScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                          mlir::Type to, bool fromUnsigned, bool toUnsigned);

/// The type a float computation over `elt` accumulates in (statistics,
/// products): f32 for floats narrower than 32 bits, else `elt` itself.
mlir::Type accumulatorType(mlir::Type elt);

/// `v` converted elementwise (ONNX Cast semantics) to `type`, of `v`'s sizes.
mlir::Value convertElements(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::RankedTensorType type, mlir::Value v);

/// `v`, a tensor of f16 or bf16, as f32 (an f32 `v` as it is): a constant is
/// converted at compile time (a weight the GEMM schedule packs), anything
/// else by an elementwise arith.extf. Products of 16-bit floats accumulate in
/// f32 this way.
mlir::Value widenToF32(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v);

/// An index constant.
mlir::Value indexConst(mlir::OpBuilder &b, mlir::Location loc, int64_t v);

/// An index as f32 (through i64).
mlir::Value indexToF32(mlir::OpBuilder &b, mlir::Location loc, mlir::Value i);

/// A size that depends on input values (computed at run time as `actual`)
/// checked against `expected`, the static dim the model gives its output:
/// "<what> does not match the output shape the model gives[ (expected)]".
void checkGivenSize(mlir::OpBuilder &b, mlir::Location loc, mlir::Value actual,
                    int64_t expected, const llvm::Twine &what,
                    bool showExpected = false);

/// The first element of a scalar or one-element tensor (a run-time read).
mlir::Value firstElement(mlir::OpBuilder &b, mlir::Location loc, mlir::Value t);

/// An integer or float scalar as an index (floats truncated).
mlir::Value toIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v);

/// Whether `type` (a tensor or element type) is an unsigned integer.
bool isUnsignedInt(mlir::Type type);

/// The signless element type used after lowering.
mlir::Type signlessElementType(mlir::Type type);

/// `v`'s type after conversion if it is a statically shaped ranked tensor,
/// else null.
mlir::RankedTensorType staticType(const mlir::TypeConverter *converter,
                                  mlir::Value v);

/// `v`'s type after conversion if it is a ranked tensor (dims may be
/// dynamic), else null.
mlir::RankedTensorType rankedType(const mlir::TypeConverter *converter,
                                  mlir::Value v);

/// Values of a constant integer tensor produced by onnx.Constant or
/// arith.constant (after conversion).
bool getConstIntValues(mlir::Value v, llvm::SmallVectorImpl<int64_t> &out);

/// The largest / smallest finite value, or +-inf for floats.
mlir::TypedAttr lowestValue(mlir::Type elt);
mlir::TypedAttr highestValue(mlir::Type elt);

} // namespace tessera::lowering

#endif // TESSERA_COMPILER_LOWERING_LOWERINGUTILS_H
