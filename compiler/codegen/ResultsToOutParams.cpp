//===- ResultsToOutParams.cpp - memref results to caller buffers ----------===//
//
// The model ABI hands the entry function the caller's output buffers. After
// bufferization the entry function returns its outputs as memrefs; this pass
// appends one argument per result instead, with the result's type (dynamic
// dims included: the runtime computes them beforehand with the output-dims
// function). A result allocated in the function is replaced by its argument,
// so the graph writes the caller's buffer directly; any other result (a
// view, an argument) is copied into it.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Passes.h"
#include "compiler/import/Importer.h"

namespace tessera {
#define GEN_PASS_DEF_RESULTSTOOUTPARAMS
#include "compiler/codegen/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

struct ResultsToOutParamsPass
    : impl::ResultsToOutParamsBase<ResultsToOutParamsPass> {
  void runOnOperation() override {
    auto func = getOperation().lookupSymbol<func::FuncOp>(kEntryFunctionName);
    if (!func || func.isExternal() || func.getNumResults() == 0)
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
    DenseSet<Value> hoisted;
    for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
      BlockArgument out = func.getArgument(numInputs + i);
      auto alloc = v.getDefiningOp<memref::AllocOp>();
      // A buffer the function allocated becomes the caller's (the first
      // time it is returned): its uses write the output directly.
      if (alloc && alloc->getBlock() == &func.getBody().front() &&
          hoisted.insert(v).second) {
        alloc.getResult().replaceAllUsesWith(out);
        alloc.erase();
        continue;
      }
      b.create<memref::CopyOp>(ret.getLoc(), v, out);
    }
    b.create<func::ReturnOp>(ret.getLoc());
    ret.erase();
    func.eraseResults(llvm::BitVector(numResults, true));
  }
};

} // namespace
} // namespace tessera
