//===- ShapeInferenceInterface.td - result type refinement -*- tablegen -*-===//

#ifndef TESSERA_ONNX_SHAPE_INFERENCE_INTERFACE
#define TESSERA_ONNX_SHAPE_INFERENCE_INTERFACE

include "mlir/IR/OpBase.td"

// Refines result types from operand types and constant operands.
def ONNX_ShapeInferenceInterface : OpInterface<"ShapeInferenceOpInterface"> {
  let cppNamespace = "::tessera::onnx";
  let description = [{
    Ops that can compute a more precise result type than the one they carry,
    e.g. once a Reshape's shape operand has folded to a constant.
  }];
  // Runs after the op's own verifier, so inference sees a well-formed op.
  let verify = [{ return ::tessera::onnx::verifyInferredResultTypes($_op); }];
  let verifyWithRegions = 1;
  let methods = [
    InterfaceMethod<
      "Computes the result types; returns failure if nothing can be said.",
      "::mlir::LogicalResult", "inferResultTypes",
      (ins "::llvm::SmallVectorImpl<::mlir::Type> &":$types)>,
  ];
}

#endif // TESSERA_ONNX_SHAPE_INFERENCE_INTERFACE
