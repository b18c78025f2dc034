//===- FoldShapes.cpp - fold exporter shape arithmetic --------------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tessera {
#define GEN_PASS_DEF_ONNXFOLDSHAPES
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

struct ONNXFoldShapesPass
    : public impl::ONNXFoldShapesBase<ONNXFoldShapesPass> {
  using ONNXFoldShapesBase::ONNXFoldShapesBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    RewritePatternSet empty(&getContext());
    FrozenRewritePatternSet noPatterns(std::move(empty));
    for (unsigned round = 0; round < maxIterations; ++round) {
      bool refined = false;
      WalkResult walk = func.walk([&](Operation *op) {
        bool changed = false;
        if (failed(onnx::refineResultTypes(op, changed)))
          return WalkResult::interrupt();
        refined |= changed;
        return WalkResult::advance();
      });
      if (walk.wasInterrupted())
        return signalPassFailure();
      bool folded = false;
      if (failed(applyPatternsAndFoldGreedily(func, noPatterns,
                                              GreedyRewriteConfig(), &folded)))
        return signalPassFailure();
      if (!refined && !folded)
        break;
    }
    // The returned values may now have more precise types.
    auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
    func.setFunctionType(FunctionType::get(
        &getContext(), func.getArgumentTypes(), ret.getOperandTypes()));
  }
};

} // namespace
} // namespace tessera
