//===- OperandOrder.cpp - canonical operand order of onnx ops -------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/Passes.h"
#include "dialects/onnx/ONNXCanonicalize.h"

namespace tessera {
#define GEN_PASS_DEF_ONNXOPERANDORDER
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

struct ONNXOperandOrderPass : impl::ONNXOperandOrderBase<ONNXOperandOrderPass> {
  LogicalResult initialize(MLIRContext *ctx) override {
    RewritePatternSet set(ctx);
    onnx::populateONNXOperandOrderPatterns(set);
    patterns = std::move(set);
    return success();
  }
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) { ops.push_back(op); });
    applyToCandidates(patterns, ops, "", /*report=*/false);
  }
  FrozenRewritePatternSet patterns;
};

} // namespace
} // namespace tessera
