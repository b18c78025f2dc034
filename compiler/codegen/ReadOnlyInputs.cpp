//===- ReadOnlyInputs.cpp - the entry function's inputs are read-only -----===//
//
// Part of Tessera. The runtime hands the entry function the caller's input
// buffers as `const void *`; bufferization must never update them in place.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Passes.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

namespace tessera {
#define GEN_PASS_DEF_READONLYINPUTS
#include "compiler/codegen/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

struct ReadOnlyInputsPass : impl::ReadOnlyInputsBase<ReadOnlyInputsPass> {
  void runOnOperation() override {
    auto func = fused::getEntryFunctionAs<func::FuncOp>(getOperation());
    if (!func || func.isExternal())
      return;
    auto readOnly = BoolAttr::get(&getContext(), false);
    for (BlockArgument arg : func.getArguments())
      if (isa<TensorType>(arg.getType()))
        func.setArgAttr(arg.getArgNumber(),
                        bufferization::BufferizationDialect::kWritableAttrName,
                        readOnly);
  }
};

} // namespace
} // namespace tessera
