//===- CacheInPlace.cpp - KV caches that grow in one buffer ---------------===//
//
// Part of Tessera. A KV-cache decoder returns each present cache as
// Concat(past, new) along the sequence axis; lowered, that is
//
//   %e = tensor.empty(...)
//   %a = tensor.insert_slice %past into %e[0, ..., 0] [dims of %past]
//   %b = tensor.insert_slice %new into %a[0, .., P, .., 0] [...]
//   return ..., %b, ...
//
// With ABI v5's in-place pairs (tessera/abi.h) the runtime keeps such a
// cache in one buffer of `capacity` positions along the axis and passes it as
// both the past input and the present output, so a step only writes its new
// rows. This pass makes the code able to: the past becomes a memref argument
// and the present a memref argument of its own (the output buffer, marked
// with its output index for tessera-results-to-out-params), both with the
// strides of a buffer larger along the axis than the tensor; %b is built in
// the present buffer, and the past is copied into it only when the two are
// different memory. The pairs go into the module's `tessera.cache_pairs`.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Passes.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace tessera {
#define GEN_PASS_DEF_CACHEINPLACE
#include "compiler/codegen/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

/// A present output built as Concat(past argument, new) along `axis`.
struct CacheConcat {
  BlockArgument past;
  unsigned output;
  int64_t axis;
  tensor::InsertSliceOp pastInsert, newInsert;
};

/// Whether `size` is dim `d` of `v` (a static size equal to it, or
/// tensor.dim of `v` at `d`).
bool isDimOf(OpFoldResult size, Value v, int64_t d) {
  int64_t s = cast<RankedTensorType>(v.getType()).getDimSize(d);
  if (std::optional<int64_t> c = getConstantIntValue(size))
    return !ShapedType::isDynamic(s) && *c == s;
  auto dim = dyn_cast<Value>(size).getDefiningOp<tensor::DimOp>();
  return dim && dim.getSource() == v && dim.getConstantIndex() == d;
}

bool unitStrides(tensor::InsertSliceOp op) {
  return llvm::all_of(op.getMixedStrides(),
                      [](OpFoldResult s) { return isConstantIntValue(s, 1); });
}

/// Matches result `output` of the entry function's return `ret`.
std::optional<CacheConcat> matchConcat(func::FuncOp func, func::ReturnOp ret,
                                       unsigned output) {
  Value present = ret.getOperand(output);
  auto newInsert = present.getDefiningOp<tensor::InsertSliceOp>();
  if (!newInsert || !unitStrides(newInsert) ||
      llvm::count(ret.getOperands(), present) != 1)
    return std::nullopt;
  auto pastInsert = newInsert.getDest().getDefiningOp<tensor::InsertSliceOp>();
  if (!pastInsert || !pastInsert->hasOneUse() || !unitStrides(pastInsert) ||
      !pastInsert.getDest().getDefiningOp<tensor::EmptyOp>())
    return std::nullopt;
  auto past = dyn_cast<BlockArgument>(pastInsert.getSource());
  if (!past || past.getOwner() != &func.getBody().front())
    return std::nullopt;
  auto pastType = dyn_cast<RankedTensorType>(past.getType());
  auto type = dyn_cast<RankedTensorType>(present.getType());
  if (!pastType || !type || pastType.getRank() != type.getRank() ||
      pastType.getElementType() != type.getElementType() ||
      pastInsert.getSourceType() != pastType)
    return std::nullopt;
  // The past fills the start of the present: offsets 0, its own dims.
  for (auto [d, offset, size] : llvm::enumerate(pastInsert.getMixedOffsets(),
                                                pastInsert.getMixedSizes()))
    if (!isConstantIntValue(offset, 0) || !isDimOf(size, past, d))
      return std::nullopt;
  // The new rows follow it along one axis, which is dynamic (it grows).
  std::optional<int64_t> axis;
  for (auto [d, offset] : llvm::enumerate(newInsert.getMixedOffsets())) {
    if (isConstantIntValue(offset, 0))
      continue;
    if (axis || !isDimOf(offset, past, d))
      return std::nullopt;
    axis = d;
  }
  if (!axis || !pastType.isDynamicDim(*axis) || !type.isDynamicDim(*axis))
    return std::nullopt;
  // Every other dim of the present is the past's.
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (d != *axis && type.getDimSize(d) != pastType.getDimSize(d))
      return std::nullopt;
  return CacheConcat{past, output, *axis, pastInsert, newInsert};
}

/// The type of a tensor of `type`'s dims at the start of a row-major buffer
/// that may be larger along `axis`: strides before the axis are dynamic,
/// the others follow from the static dims after them.
MemRefType cacheBufferType(RankedTensorType type, int64_t axis) {
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  int64_t stride = 1;
  for (int64_t d = type.getRank() - 1; d >= axis; --d) {
    strides[d] = stride;
    if (ShapedType::isDynamic(stride) || type.isDynamicDim(d))
      stride = ShapedType::kDynamic;
    else
      stride *= type.getDimSize(d);
  }
  auto layout = StridedLayoutAttr::get(type.getContext(), 0, strides);
  return MemRefType::get(type.getShape(), type.getElementType(), layout);
}

/// Whether the memrefs `x` and `y` (of one type) are the same memory: same
/// aligned pointer and dynamic strides (their offsets are 0).
Value sameMemory(OpBuilder &b, Location loc, Value x, Value y) {
  auto pointer = [&](Value v) {
    return b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, v);
  };
  Value same = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                       pointer(x), pointer(y));
  auto mx = b.create<memref::ExtractStridedMetadataOp>(loc, x);
  auto my = b.create<memref::ExtractStridedMetadataOp>(loc, y);
  auto type = cast<MemRefType>(x.getType());
  auto [strides, offset] = getStridesAndOffset(type);
  for (auto [d, s] : llvm::enumerate(strides)) {
    if (!ShapedType::isDynamic(s))
      continue;
    Value eq = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                       mx.getStrides()[d], my.getStrides()[d]);
    same = b.create<arith::AndIOp>(loc, same, eq);
  }
  return same;
}

struct CacheInPlacePass : impl::CacheInPlaceBase<CacheInPlacePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = fused::getEntryFunctionAs<func::FuncOp>(module);
    if (!func || func.isExternal() || !func.getBody().hasOneBlock())
      return;
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    SmallVector<CacheConcat> caches;
    llvm::SmallDenseSet<BlockArgument> pasts;
    for (unsigned i = 0; i < ret.getNumOperands(); ++i)
      if (std::optional<CacheConcat> c = matchConcat(func, ret, i))
        if (pasts.insert(c->past).second)
          caches.push_back(*c);
    if (caches.empty())
      return;

    MLIRContext *ctx = &getContext();
    SmallVector<DictionaryAttr> resultAttrs;
    func.getAllResultAttrs(resultAttrs);
    SmallVector<Attribute> pairs;
    OpBuilder b(ctx);
    for (CacheConcat &c : caches) {
      Location loc = c.pastInsert.getLoc();
      auto type = cast<RankedTensorType>(c.newInsert.getType());
      MemRefType bufferType = cacheBufferType(type, c.axis);
      // The past: a read-only memref argument, read as a tensor.
      auto pastType = cast<RankedTensorType>(c.past.getType());
      MemRefType pastBufferType = cacheBufferType(pastType, c.axis);
      b.setInsertionPointToStart(&func.getBody().front());
      c.past.setType(pastBufferType);
      auto pastTensor = b.create<bufferization::ToTensorOp>(
          loc, pastType, c.past, /*restrict=*/true, /*writable=*/false);
      c.past.replaceAllUsesExcept(pastTensor, pastTensor);
      func.removeArgAttr(
          c.past.getArgNumber(),
          bufferization::BufferizationDialect::kWritableAttrName);

      // The present: its own buffer, written in place.
      NamedAttrList attrs(resultAttrs[c.output]);
      attrs.set(kOutputIndexAttrName, b.getI64IntegerAttr(c.output));
      func.insertArgument(func.getNumArguments(), bufferType,
                          attrs.getDictionary(ctx), loc);
      BlockArgument buffer = func.getArguments().back();
      b.setInsertionPoint(c.pastInsert);
      Value present = b.create<bufferization::ToTensorOp>(
          loc, type, buffer, /*restrict=*/true, /*writable=*/true);
      // The past's rows, unless the caller passed one buffer as both.
      Value empty = c.pastInsert.getDest();
      Value same = sameMemory(b, loc, c.past, buffer);
      auto ifOp = b.create<scf::IfOp>(
          loc, same,
          [&](OpBuilder &nb, Location l) {
            nb.create<scf::YieldOp>(l, present);
          },
          [&](OpBuilder &nb, Location l) {
            Value copied = nb.create<tensor::InsertSliceOp>(
                l, pastTensor, present, c.pastInsert.getMixedOffsets(),
                c.pastInsert.getMixedSizes(), c.pastInsert.getMixedStrides());
            nb.create<scf::YieldOp>(l, copied);
          });
      c.pastInsert.replaceAllUsesWith(ifOp.getResult(0));
      c.pastInsert.erase();
      if (empty.use_empty())
        empty.getDefiningOp()->erase();
      // %b ends up in the buffer (in place, or copied there).
      b.setInsertionPoint(ret);
      auto materialize = b.create<bufferization::MaterializeInDestinationOp>(
          loc, TypeRange{}, c.newInsert.getResult(), buffer);
      materialize.setRestrict(true);
      materialize.setWritable(true);
      pairs.push_back(DenseI64ArrayAttr::get(
          ctx, {int64_t(c.past.getArgNumber()), int64_t(c.output), c.axis}));
    }

    // The presents are no longer results.
    llvm::BitVector erase(func.getNumResults());
    for (CacheConcat &c : caches)
      erase.set(c.output);
    SmallVector<Value> kept;
    for (auto [i, v] : llvm::enumerate(ret.getOperands()))
      if (!erase.test(i))
        kept.push_back(v);
    b.setInsertionPoint(ret);
    b.create<func::ReturnOp>(ret.getLoc(), kept);
    ret.erase();
    func.eraseResults(erase);
    func.setFunctionType(FunctionType::get(
        ctx, func.getBody().front().getArgumentTypes(), func.getResultTypes()));
    module->setAttr(kCachePairsAttrName, ArrayAttr::get(ctx, pairs));
  }
};

} // namespace
} // namespace tessera
