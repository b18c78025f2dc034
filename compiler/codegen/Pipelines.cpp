//===- Pipelines.cpp - the code generation stage as pipelines -------------===//

#include "compiler/codegen/Pipelines.h"
#include "compiler/codegen/Passes.h"
#include "compiler/codegen/cpu/Passes.h"
#include "compiler/lowering/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace tessera {

void buildCPUCodegenPipeline(OpPassManager &pm,
                             const TargetDescription &target) {
  pm.addPass(createDynamicExpandToReshape());
  pm.addPass(createCanonicalize());
  pm.addPass(createBuildOutputDims());
  pm.addNestedPass<func::FuncOp>(createFuseElementwise());
  pm.addPass(createCSEPass());
  PackMatmulWeightsOptions pack;
  pack.tileN = target.matmulTile.n;
  pack.kBlock = target.matmulTile.k;
  pack.narrowTileN = target.matmulTile.narrowN;
  pack.narrowAboveK = target.matmulTile.narrowAboveK;
  // Without F16C, each f16 weight would be widened by a library call.
  pack.halfWeights = target.hasFeature("f16c");
  pm.addNestedPass<func::FuncOp>(createPackMatmulWeights(pack));
  VectorizeMatmulOptions vectorize;
  vectorize.tileM = target.matmulTile.m;
  vectorize.tileN = target.matmulTile.n;
  vectorize.kBlock = target.matmulTile.k;
  vectorize.narrowTileM = target.matmulTile.narrowM;
  vectorize.narrowTileN = target.matmulTile.narrowN;
  pm.addNestedPass<func::FuncOp>(createVectorizeMatmul(vectorize));
  VectorizeElementwiseOptions elementwise;
  elementwise.width = target.f32Lanes();
  pm.addNestedPass<func::FuncOp>(createVectorizeElementwise(elementwise));
  VectorizeTransposeOptions transpose;
  transpose.width = target.f32Lanes();
  pm.addNestedPass<func::FuncOp>(createVectorizeTranspose(transpose));
  pm.addPass(createCanonicalize());
  pm.addPass(createCSEPass());
}

void buildLowerToLLVMPipeline(OpPassManager &pm,
                              const TargetDescription &target) {
  bufferization::OneShotBufferizationOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  bufferization.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  pm.addPass(createDynamicExpandToReshape());
  pm.addPass(createCacheInPlace());
  pm.addPass(createReadOnlyInputs());
  pm.addPass(bufferization::createEmptyTensorToAllocTensorPass());
  pm.addPass(bufferization::createOneShotBufferizePass(bufferization));
  pm.addPass(createResultsToOutParams());
  pm.addPass(createCanonicalize());
  // Before the outlining, so that large copies run on the thread pool; once
  // more below for the copies later passes make.
  VectorizeCopiesOptions copies;
  copies.vectorBits = target.vectorBits;
  pm.addNestedPass<func::FuncOp>(createVectorizeCopies(copies));
  pm.addPass(createOutlineParallel());
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  pm.addNestedPass<func::FuncOp>(createPrefetchWeightPanels());
  pm.addNestedPass<func::FuncOp>(createLowerVectors());
  VectorTransferToSCFOptions toSCF;
  toSCF.enableFullUnroll(true);
  toSCF.setTargetRank(1);
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass(toSCF));
  pm.addNestedPass<func::FuncOp>(createLowerVectors());
  pm.addNestedPass<func::FuncOp>(createVectorizeCopies(copies));
  pm.addPass(createCopiesToLinalg());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createApproximateMath());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addNestedPass<func::FuncOp>(createSplitVectorRows());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createLowerAsserts());
  pm.addPass(createCanonicalize());
  pm.addPass(createLowerExpandShape());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createLowerAffinePass()); // the vector lowering makes some
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createLowerParallelLaunch());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

namespace {
template <typename Options>
struct TargetOptions : PassPipelineOptions<Options> {
  typename PassPipelineOptions<Options>::template Option<std::string> mcpu{
      *this, "mcpu",
      llvm::cl::desc("Target CPU: native or an LLVM CPU name (x86-64-v3, "
                     "znver4, ...), described by describeTarget"),
      llvm::cl::init("native")};
};

struct CPUCodegenPipelineOptions : TargetOptions<CPUCodegenPipelineOptions> {
  Option<std::string> matmulTile{
      *this, "matmul-tile",
      llvm::cl::desc("Register tile MxN instead of the target's")};
};

struct LowerToLLVMPipelineOptions : TargetOptions<LowerToLLVMPipelineOptions> {
};
} // namespace

/// Registers pipeline `name`, whose options (an Options) name the target
/// CPU: `build` gets them and the target they describe. Through
/// registerPassPipeline, so that an unknown CPU is an error of the
/// pipeline, not of the process.
template <typename Options>
void registerTargetPipeline(
    StringRef name, StringRef description,
    std::function<LogicalResult(OpPassManager &, const Options &,
                                TargetDescription &,
                                function_ref<LogicalResult(const Twine &)>)>
        build) {
  registerPassPipeline(
      name, description,
      [build](OpPassManager &pm, StringRef text,
              function_ref<LogicalResult(const Twine &)> errorHandler) {
        Options options;
        if (failed(options.parseFromString(text)))
          return failure();
        llvm::Expected<TargetDescription> target = describeTarget(options.mcpu);
        if (!target)
          return errorHandler(llvm::toString(target.takeError()));
        return build(pm, options, *target, errorHandler);
      },
      [](function_ref<void(const detail::PassOptions &)> optHandler) {
        optHandler(Options());
      });
}

void registerCodegenPipelines() {
  registerTargetPipeline<CPUCodegenPipelineOptions>(
      "tessera-cpu-codegen",
      "The CPU schedules on tensors, with the parameters of the target CPU",
      [](OpPassManager &pm, const CPUCodegenPipelineOptions &options,
         TargetDescription &target,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        if (!options.matmulTile.empty()) {
          llvm::Expected<MatmulTile> tile = parseMatmulTile(options.matmulTile);
          if (!tile)
            return errorHandler(llvm::toString(tile.takeError()));
          target.matmulTile = *tile;
        }
        buildCPUCodegenPipeline(pm, target);
        return success();
      });
  registerTargetPipeline<LowerToLLVMPipelineOptions>(
      "tessera-lower-to-llvm",
      "Linalg on tensors (after tessera-cpu-codegen) to the LLVM dialect",
      [](OpPassManager &pm, const LowerToLLVMPipelineOptions &,
         TargetDescription &target,
         function_ref<LogicalResult(const Twine &)>) {
        buildLowerToLLVMPipeline(pm, target);
        return success();
      });
}

} // namespace tessera
