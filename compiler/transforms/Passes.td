//===- Passes.td - Tessera passes on the onnx dialect ------*- tablegen -*-===//

#ifndef TESSERA_TRANSFORMS_PASSES
#define TESSERA_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def ONNXFoldShapes : Pass<"onnx-fold-shapes", "::mlir::func::FuncOp"> {
  let summary = "Fold exporter shape arithmetic and refine result types";
  let description = [{
    Exporters compute shapes in the graph (Shape -> Gather -> Unsqueeze ->
    Concat -> Reshape, Range, ConstantOfShape, Expand). Once the input shapes
    are known, this pass alternates between refining every op's result type
    from its operands (the dialect's shape inference) and folding ops with
    constant operands, until nothing changes; then it updates the function
    signature. Dynamic dimensions that stay unknown remain dynamic.
  }];
  let dependentDialects = ["::tessera::onnx::ONNXDialect"];
  let options = [
    Option<"maxIterations", "max-iterations", "unsigned", "16",
           "Stop after this many refine/fold rounds">,
  ];
}

#endif // TESSERA_TRANSFORMS_PASSES
