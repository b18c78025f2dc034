//===- LowerFusedKernels.cpp - the fused ops' hand-tuned kernels ----------===//
//
// Part of Tessera. After convert-onnx-to-linalg: tessera.attention,
// tessera.add_layer_norm, onnx.RMSNormalization and onnx.RotaryEmbedding
// become their kernels (FusedAttention.cpp, FusedAddLayerNorm.cpp,
// Transformer.cpp), sized by the target's vector registers. An op a kernel
// does not take is decomposed into linalg through its AggregatedOpInterface
// (FusedOpDecompositions.cpp) if it has one, else reported at its node with
// the reason the kernel gave.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/Passes.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/DenseMap.h"

namespace tessera {
#define GEN_PASS_DEF_LOWERFUSEDKERNELS
#include "compiler/lowering/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

/// The ops with a kernel of their own.
bool hasKernel(Operation *op) {
  return isa<fused::AttentionOp, fused::AddLayerNormOp,
             onnx::RMSNormalizationOp, onnx::RotaryEmbeddingOp>(op);
}

/// Replaces `op` by its decomposition into linalg, if it has one.
bool decompose(Operation *op) {
  auto aggregated = dyn_cast<linalg::AggregatedOpInterface>(op);
  if (!aggregated)
    return false;
  OpBuilder b(op);
  FailureOr<SmallVector<Value>> results = aggregated.decomposeOperation(b);
  if (failed(results))
    return false;
  op->replaceAllUsesWith(*results);
  op->erase();
  return true;
}

/// Keeps the last reason a pattern gave for not rewriting an op, by the op's
/// location.
struct FailureReasons : RewriterBase::Listener {
  llvm::DenseMap<Location, std::string> reasons;

  void
  notifyMatchFailure(Location loc,
                     function_ref<void(Diagnostic &)> reasonCallback) override {
    Diagnostic diag(loc, DiagnosticSeverity::Remark);
    reasonCallback(diag);
    reasons[loc] = diag.str();
  }
};

struct LowerFusedKernelsPass
    : impl::LowerFusedKernelsBase<LowerFusedKernelsPass> {
  using LowerFusedKernelsBase::LowerFusedKernelsBase;

  void runOnOperation() override {
    auto kernelOps = [&] {
      SmallVector<Operation *> ops;
      getOperation()->walk([&](Operation *op) {
        if (hasKernel(op))
          ops.push_back(op);
      });
      return ops;
    };
    if (!microKernels)
      for (Operation *op : kernelOps())
        (void)decompose(op);
    RewritePatternSet patterns(&getContext());
    populateFusedAttentionKernelPatterns(patterns, vectorBits);
    populateFusedAddLayerNormKernelPatterns(patterns, vectorBits);
    populateONNXTransformerKernelPatterns(patterns, vectorBits);
    // Only the kernels' ops are rewritten: the rest of the function (and the
    // kernels' loops) is left as it is, for code generation to simplify.
    FailureReasons reasons;
    GreedyRewriteConfig config;
    config.listener = &reasons;
    config.strictMode = GreedyRewriteStrictness::ExistingOps;
    (void)applyOpPatternsAndFold(kernelOps(), std::move(patterns), config);
    bool ok = true;
    for (Operation *op : kernelOps()) {
      if (decompose(op))
        continue;
      auto it = reasons.reasons.find(op->getLoc());
      op->emitOpError("has no kernel for these operands")
          << (it == reasons.reasons.end() ? std::string() : ": " + it->second);
      ok = false;
    }
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
} // namespace tessera
