//===- KernelShapes.h - run-time extents of the fused kernels ---*- C++ -*-===//
//
// Part of Tessera. The fused ops' kernels (attention, Q/K/V projection,
// residual LayerNorm, GEMM epilogue) take `?` dims (batch, sequence, heads):
// their sizes are read with tensor.dim where they are dynamic and stay
// constants where they are static, and two dims that must agree at run time
// get a cf.assert naming the node.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_LOWERING_KERNELSHAPES_H
#define TESSERA_COMPILER_LOWERING_KERNELSHAPES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/TypeUtilities.h"

#include <string>

namespace tessera::kernels {

/// The ONNX node name of `loc` (its first NameLoc), or "?".
inline std::string nodeName(mlir::Location loc) {
  std::string name;
  loc->walk([&](mlir::Location l) {
    if (auto n = mlir::dyn_cast<mlir::NameLoc>(l)) {
      name = n.getName().str();
      return mlir::WalkResult::interrupt();
    }
    return mlir::WalkResult::advance();
  });
  return name.empty() ? std::string("?") : name;
}

/// Sizes that must agree: the static one if there is one, else the first.
/// Every size that is not equal to it by construction gets
/// `cf.assert %equal, "node 'NAME': <reason>"`.
inline mlir::OpFoldResult agreedSize(mlir::OpBuilder &b, mlir::Location loc,
                                     llvm::ArrayRef<mlir::OpFoldResult> sizes,
                                     llvm::StringRef reason) {
  mlir::OpFoldResult chosen = sizes.front();
  for (mlir::OpFoldResult s : sizes)
    if (mlir::getConstantIntValue(s))
      chosen = s;
  for (mlir::OpFoldResult s : sizes) {
    if (s == chosen ||
        (mlir::getConstantIntValue(s) && mlir::getConstantIntValue(chosen)))
      continue;
    mlir::Value eq = b.create<mlir::arith::CmpIOp>(
        loc, mlir::arith::CmpIPredicate::eq,
        mlir::getValueOrCreateConstantIndexOp(b, loc, s),
        mlir::getValueOrCreateConstantIndexOp(b, loc, chosen));
    b.create<mlir::cf::AssertOp>(
        loc, eq, "node '" + nodeName(loc) + "': " + reason.str());
  }
  return chosen;
}

/// agreedSize of dims (operand, index) of several operands.
inline mlir::OpFoldResult
agreedDim(mlir::OpBuilder &b, mlir::Location loc,
          llvm::ArrayRef<std::pair<mlir::Value, int64_t>> dims,
          llvm::StringRef reason) {
  llvm::SmallVector<mlir::OpFoldResult> sizes;
  for (auto [v, i] : dims)
    sizes.push_back(mlir::tensor::getMixedSize(b, loc, v, i));
  return agreedSize(b, loc, sizes, reason);
}

/// The query heads per K/V head of grouped-query attention, H / Hkv, with a
/// cf.assert that Hkv divides H when either is dynamic; null when H = Hkv
/// statically (or by construction).
inline mlir::Value kvGroup(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::OpFoldResult heads,
                           mlir::OpFoldResult kvHeads) {
  auto h = mlir::getConstantIntValue(heads),
       hkv = mlir::getConstantIntValue(kvHeads);
  if (heads == kvHeads || (h && hkv && *h == *hkv))
    return nullptr;
  if (h && hkv)
    return b.create<mlir::arith::ConstantIndexOp>(loc, *h / *hkv);
  mlir::Value hV = mlir::getValueOrCreateConstantIndexOp(b, loc, heads);
  mlir::Value kvV = mlir::getValueOrCreateConstantIndexOp(b, loc, kvHeads);
  mlir::Value zero = b.create<mlir::arith::ConstantIndexOp>(loc, 0);
  mlir::Value one = b.create<mlir::arith::ConstantIndexOp>(loc, 1);
  // A zero-head K/V divides nothing; keep the division defined.
  mlir::Value safe = b.create<mlir::arith::MaxUIOp>(loc, kvV, one);
  mlir::Value rem = b.create<mlir::arith::RemUIOp>(loc, hV, safe);
  mlir::Value ok = b.create<mlir::arith::AndIOp>(
      loc,
      b.create<mlir::arith::CmpIOp>(loc, mlir::arith::CmpIPredicate::eq, rem,
                                    zero),
      b.create<mlir::arith::CmpIOp>(loc, mlir::arith::CmpIPredicate::ne, kvV,
                                    zero));
  b.create<mlir::cf::AssertOp>(loc, ok,
                               "node '" + nodeName(loc) +
                                   "': the K/V heads do not divide the query "
                                   "heads");
  return b.create<mlir::arith::DivUIOp>(loc, hV, safe);
}

/// `v`, or the source of the tensor.casts that made it less static (an
/// operand whose head size the fused op's type left dynamic but the
/// producer's lowering knows).
inline mlir::Value mostStatic(mlir::Value v) {
  while (auto cast = v.getDefiningOp<mlir::tensor::CastOp>()) {
    if (!mlir::tensor::preservesStaticInformation(cast.getType(),
                                                  cast.getSource().getType()))
      break;
    v = cast.getSource();
  }
  return v;
}

/// The reassociation that views a rank-`rank` tensor as rows of its last
/// dim: [[0, ..., rank - 2], [rank - 1]].
inline llvm::SmallVector<mlir::ReassociationIndices>
rowsReassociation(int64_t rank) {
  llvm::SmallVector<mlir::ReassociationIndices> groups(1);
  for (int64_t i = 0; i + 1 < rank; ++i)
    groups[0].push_back(i);
  groups.push_back({rank - 1});
  return groups;
}

/// x * y, folded when both are constants or one is 1.
inline mlir::OpFoldResult mulSizes(mlir::OpBuilder &b, mlir::Location loc,
                                   mlir::OpFoldResult x, mlir::OpFoldResult y) {
  auto cx = mlir::getConstantIntValue(x), cy = mlir::getConstantIntValue(y);
  if (cx && cy)
    return b.getIndexAttr(*cx * *cy);
  if (cx == 1)
    return y;
  if (cy == 1)
    return x;
  return b
      .create<mlir::arith::MulIOp>(
          loc, mlir::getValueOrCreateConstantIndexOp(b, loc, x),
          mlir::getValueOrCreateConstantIndexOp(b, loc, y))
      .getResult();
}

/// `v` as a slice of itself, offsets 0 and full sizes. A kernel loop that
/// writes its result through such a slice of its iteration argument and
/// yields insertWhole(result, arg) is one that scf's loop canonicalization
/// proves shape preserving (its yield is an insert_slice into the argument),
/// so tensor.dim of the loop's result folds to the dim of its init: what
/// the output-dims function needs when the dims are dynamic. Bufferized in
/// place, the pair costs nothing.
inline mlir::Value extractWhole(mlir::OpBuilder &b, mlir::Location loc,
                                mlir::Value v) {
  auto type = mlir::cast<mlir::RankedTensorType>(v.getType());
  llvm::SmallVector<mlir::OpFoldResult> zeros(type.getRank(),
                                              b.getIndexAttr(0)),
      ones(type.getRank(), b.getIndexAttr(1));
  return b.create<mlir::tensor::ExtractSliceOp>(
      loc, type, v, zeros, mlir::tensor::getMixedSizes(b, loc, v), ones);
}

/// Inserts `slice` (from extractWhole) back into `dest`.
inline mlir::Value insertWhole(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::Value slice, mlir::Value dest) {
  auto type = mlir::cast<mlir::RankedTensorType>(dest.getType());
  llvm::SmallVector<mlir::OpFoldResult> zeros(type.getRank(),
                                              b.getIndexAttr(0)),
      ones(type.getRank(), b.getIndexAttr(1));
  return b.create<mlir::tensor::InsertSliceOp>(
      loc, slice, dest, zeros, mlir::tensor::getMixedSizes(b, loc, dest),
      ones);
}

/// `v` (a float vector or scalar) as f32, for kernels that compute in f32
/// whatever their operands' type: an arith.extf unless it is f32 already.
inline mlir::Value toF32(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value v) {
  mlir::Type f32 = b.getF32Type();
  if (mlir::getElementTypeOrSelf(v.getType()) == f32)
    return v;
  if (auto vec = mlir::dyn_cast<mlir::VectorType>(v.getType()))
    return b.create<mlir::arith::ExtFOp>(loc, vec.clone(f32), v);
  return b.create<mlir::arith::ExtFOp>(loc, f32, v);
}

/// The f32 vector `v` in `elt`: an arith.truncf unless `elt` is f32.
inline mlir::Value fromF32(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value v, mlir::Type elt) {
  if (elt.isF32())
    return v;
  return b.create<mlir::arith::TruncFOp>(
      loc, mlir::cast<mlir::VectorType>(v.getType()).clone(elt), v);
}

} // namespace tessera::kernels

#endif // TESSERA_COMPILER_LOWERING_KERNELSHAPES_H
