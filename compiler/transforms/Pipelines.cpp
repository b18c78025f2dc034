//===- Pipelines.cpp - the fusion stage as a pipeline ---------------------===//

#include "compiler/transforms/Pipelines.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace tessera {

/// Adds a fusion pass created by `create(options)` with its `report` option.
template <typename Options, typename Create>
static void addFusion(OpPassManager &pm, bool report, Create create) {
  Options options;
  options.report = report;
  pm.addPass(create(options));
}

void buildFusionPipeline(OpPassManager &pm, bool report) {
  OpPassManager &fpm = pm.nest<func::FuncOp>();
  fpm.addPass(createONNXOperandOrder()); // constants last: see MatchUtils.h
  addFusion<RecognizeLayerNormOptions>(
      fpm, report, [](auto &o) { return createRecognizeLayerNorm(o); });
  addFusion<RecognizeRMSNormOptions>(
      fpm, report, [](auto &o) { return createRecognizeRMSNorm(o); });
  addFusion<RecognizeRotaryOptions>(
      fpm, report, [](auto &o) { return createRecognizeRotary(o); });
  addFusion<RecognizeGeluOptions>(
      fpm, report, [](auto &o) { return createRecognizeGelu(o); });
  addFusion<FuseGatedMLPOptions>(
      fpm, report, [](auto &o) { return createFuseGatedMLP(o); });
  // Attention first: it leaves Q, K and V as [B, H, S, Dh] head splits of
  // their projections, the form the Q/K/V fusion folds into its results.
  addFusion<FuseAttentionOptions>(
      fpm, report, [](auto &o) { return createFuseAttention(o); });
  addFusion<FuseQKVOptions>(fpm, report,
                            [](auto &o) { return createFuseQKV(o); });
  addFusion<FuseQKVRotaryOptions>(
      fpm, report, [](auto &o) { return createFuseQKVRotary(o); });
  addFusion<FuseAddLayerNormOptions>(
      fpm, report, [](auto &o) { return createFuseAddLayerNorm(o); });
  addFusion<FuseMatMulEpilogueOptions>(
      fpm, report, [](auto &o) { return createFuseMatMulEpilogue(o); });
}

namespace {
struct FusionPipelineOptions
    : PassPipelineOptions<FusionPipelineOptions> {
  Option<bool> report{*this, "report",
                      llvm::cl::desc("Emit fusion remarks (FusionReport.h)"),
                      llvm::cl::init(false)};
};
} // namespace

void registerFusionPipeline() {
  PassPipelineRegistration<FusionPipelineOptions>(
      "tessera-fuse",
      "The fusion stage: recognisers and fusions into tessera ops, in order",
      [](OpPassManager &pm, const FusionPipelineOptions &options) {
        buildFusionPipeline(pm, options.report);
      });
}

} // namespace tessera
