//===- tessera-opt.cpp - the lit driver for Tessera's dialects and passes -===//

#include "compiler/codegen/Passes.h"
#include "compiler/codegen/Pipelines.h"
#include "compiler/codegen/cpu/Passes.h"
#include "compiler/driver/Driver.h"
#include "compiler/lowering/Passes.h"
#include "compiler/lowering/Pipelines.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Pipelines.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  tessera::registerDialects(registry);
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::bufferization::registerOneShotBufferizePass();
  tessera::registerTesseraPasses();
  tessera::registerTesseraLoweringPasses();
  tessera::registerTesseraCodegenPasses();
  tessera::registerTesseraCodegenCPUPasses();
  // Each stage as one pipeline.
  tessera::registerFusionPipeline();
  tessera::registerLowerToLinalgPipeline();
  tessera::registerCodegenPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Tessera optimizer driver\n", registry));
}
