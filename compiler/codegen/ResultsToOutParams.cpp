//===- ResultsToOutParams.cpp - memref results to caller buffers ----------===//
//
// The model ABI hands the entry function the caller's output buffers. After
// bufferization the entry function returns its outputs as memrefs; this pass
// appends one argument per result instead, with the result's type (dynamic
// dims included: the runtime computes them beforehand with the output-dims
// function). A result allocated in the function, directly or through dense
// reshapes of the allocation, is replaced by its argument (viewed with the
// allocation's shape), so the graph writes the caller's buffer directly; any
// other result (a strided view, an argument) is copied into it. An argument
// that is already an output's buffer (`tessera.output_index`, from
// tessera-cache-in-place) moves to that output's place among the others.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Passes.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace tessera {
#define GEN_PASS_DEF_RESULTSTOOUTPARAMS
#include "compiler/codegen/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

/// Whether `yielded` is the loop-carried buffer `arg` itself, possibly
/// through nested loops that carry it unchanged too.
bool carries(Value yielded, Value arg) {
  while (yielded != arg) {
    auto loop = yielded.getDefiningOp<scf::ForOp>();
    if (!loop)
      return false;
    unsigned i = cast<OpResult>(yielded).getResultNumber();
    if (!carries(loop.getYieldedValues()[i], loop.getRegionIterArgs()[i]))
      return false;
    yielded = loop.getInitArgs()[i];
  }
  return true;
}

/// The allocation `v` views when every op from it to `v` is a reshape of a
/// dense (identity-layout) buffer or a loop that carries it unchanged, so
/// `v` and the allocation hold the same elements in the same order.
memref::AllocOp denseRoot(Value v) {
  while (true) {
    if (!cast<MemRefType>(v.getType()).getLayout().isIdentity())
      return nullptr;
    Operation *def = v.getDefiningOp();
    if (auto alloc = dyn_cast_or_null<memref::AllocOp>(def))
      return alloc;
    // A bufferized loop that carries the buffer and yields it unchanged.
    if (auto loop = dyn_cast_or_null<scf::ForOp>(def)) {
      unsigned i = cast<OpResult>(v).getResultNumber();
      if (!carries(loop.getYieldedValues()[i], loop.getRegionIterArgs()[i]))
        return nullptr;
      v = loop.getInitArgs()[i];
      continue;
    }
    if (!isa_and_nonnull<memref::ReshapeOp, memref::ExpandShapeOp,
                         memref::CollapseShapeOp, memref::CastOp>(def))
      return nullptr;
    v = def->getOperand(0);
  }
}

/// `out` (dense) viewed with the sizes of `alloc`, row-major.
Value viewAs(OpBuilder &b, Value out, memref::AllocOp alloc) {
  Location loc = alloc.getLoc();
  MemRefType type = alloc.getType();
  SmallVector<OpFoldResult> sizes;
  unsigned dynamic = 0;
  for (int64_t size : type.getShape())
    sizes.push_back(ShapedType::isDynamic(size)
                        ? OpFoldResult(alloc.getDynamicSizes()[dynamic++])
                        : OpFoldResult(b.getIndexAttr(size)));
  SmallVector<OpFoldResult> strides(sizes.size());
  OpFoldResult stride = b.getIndexAttr(1);
  for (int64_t d = int64_t(sizes.size()) - 1; d >= 0; --d) {
    strides[d] = stride;
    if (d == 0)
      break;
    AffineExpr s0, s1;
    bindSymbols(b.getContext(), s0, s1);
    stride = affine::makeComposedFoldedAffineApply(b, loc, s0 * s1,
                                                   {stride, sizes[d]});
  }
  return b.create<memref::ReinterpretCastOp>(loc, type, out,
                                             b.getIndexAttr(0), sizes, strides);
}

struct ResultsToOutParamsPass
    : impl::ResultsToOutParamsBase<ResultsToOutParamsPass> {
  void runOnOperation() override {
    auto func = fused::getEntryFunctionAs<func::FuncOp>(getOperation());
    if (!func || func.isExternal())
      return;
    if (!func.getBody().hasOneBlock()) {
      func.emitError("internal error: the entry function has several blocks");
      return signalPassFailure();
    }
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    for (auto [i, type] : llvm::enumerate(func.getResultTypes())) {
      auto memref = dyn_cast<MemRefType>(type);
      if (!memref || !memref.getLayout().isIdentity()) {
        func.emitError("internal error: result ")
            << i << " is not an identity-layout memref: " << type;
        return signalPassFailure();
      }
    }
    // New trailing arguments carry the results' types and attributes (names).
    unsigned numInputs = func.getNumArguments(), numResults = func.getNumResults();
    SmallVector<DictionaryAttr> resAttrs;
    func.getAllResultAttrs(resAttrs);
    for (unsigned i = 0; i < numResults; ++i)
      func.insertArgument(numInputs + i, func.getResultTypes()[i],
                          resAttrs[i], func.getLoc());

    OpBuilder b(ret);
    DenseSet<Operation *> hoisted;
    for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
      BlockArgument out = func.getArgument(numInputs + i);
      // A buffer the function allocated becomes the caller's (the first
      // time it is returned), also when it is returned through dense
      // reshapes: its uses write the output directly.
      memref::AllocOp alloc = denseRoot(v);
      if (alloc && alloc->getBlock() == &func.getBody().front() &&
          hoisted.insert(alloc).second) {
        if (alloc.getResult() == v) {
          alloc.getResult().replaceAllUsesWith(out);
        } else {
          OpBuilder at(alloc);
          alloc.getResult().replaceAllUsesWith(viewAs(at, out, alloc));
        }
        alloc.erase();
        continue;
      }
      b.create<memref::CopyOp>(ret.getLoc(), v, out);
    }
    b.create<func::ReturnOp>(ret.getLoc());
    ret.erase();
    func.eraseResults(llvm::BitVector(numResults, true));
    placeOutputBuffers(func);
  }

  /// Moves the arguments that are already output buffers (marked with their
  /// output index by tessera-cache-in-place) to their places among the
  /// out-params, which hold the other outputs in order.
  void placeOutputBuffers(func::FuncOp func) {
    SmallVector<std::pair<int64_t, unsigned>> marked; // output, argument
    for (BlockArgument arg : func.getArguments())
      if (auto index = func.getArgAttrOfType<IntegerAttr>(arg.getArgNumber(),
                                                          kOutputIndexAttrName))
        marked.push_back({index.getInt(), arg.getArgNumber()});
    if (marked.empty())
      return;
    llvm::sort(marked);
    // The arguments are the inputs, the marked buffers after them, then the
    // out-params of the other outputs, in order. Each marked buffer moves to
    // its index among the outputs, in order of index, so that those before
    // it are already in place.
    unsigned firstOutput = 0;
    for (auto [output, index] : marked)
      firstOutput = std::max(firstOutput, index + 1);
    for (auto [output, index] : marked) {
      NamedAttrList attrs(func.getArgAttrDict(index));
      attrs.erase(kOutputIndexAttrName);
      unsigned at = firstOutput + output;
      func.insertArgument(at, func.getArgument(index).getType(),
                          attrs.getDictionary(func.getContext()),
                          func.getArgument(index).getLoc());
      func.getArgument(index).replaceAllUsesWith(func.getArgument(at));
    }
    llvm::BitVector erase(func.getNumArguments());
    for (auto [output, index] : marked)
      erase.set(index);
    func.eraseArguments(erase);
  }
};

} // namespace
} // namespace tessera
