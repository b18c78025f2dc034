//===- ONNXOps.td - all onnx dialect ops --------------------*- tablegen -*-===//

#ifndef TESSERA_ONNX_OPS
#define TESSERA_ONNX_OPS

include "dialects/onnx/ONNXBase.td"
include "dialects/onnx/Math.td"
include "dialects/onnx/Logic.td"
include "dialects/onnx/NN.td"
include "dialects/onnx/Reduce.td"
include "dialects/onnx/Tensor.td"
include "dialects/onnx/Transformer.td"
include "dialects/onnx/Signal.td"

#endif // TESSERA_ONNX_OPS
