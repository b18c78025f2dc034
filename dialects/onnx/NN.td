//===- NN.td - onnx neural-network ops ----------------------*- tablegen -*-===//

#ifndef TESSERA_ONNX_NN
#define TESSERA_ONNX_NN

include "dialects/onnx/ONNXBase.td"

def ONNX_SoftmaxOp : ONNX_UnaryOp<"Softmax"> {
  let summary = "softmax along `axis` (opset 13 semantics)";
  let arguments = (ins AnyTensor:$input, DefaultValuedAttr<SI64Attr, "-1">:$axis);
  let results = (outs AnyTensor:$output);
}
def ONNX_LogSoftmaxOp : ONNX_UnaryOp<"LogSoftmax"> {
  let summary = "log of softmax along `axis` (opset 13 semantics)";
  let arguments = (ins AnyTensor:$input, DefaultValuedAttr<SI64Attr, "-1">:$axis);
  let results = (outs AnyTensor:$output);
}

def ONNX_MatMulOp : ONNX_Op<"MatMul",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "numpy-style matrix product with batch broadcasting";
  let arguments = (ins AnyTensor:$A, AnyTensor:$B);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def ONNX_GemmOp : ONNX_Op<"Gemm",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "Y = alpha * op(A) * op(B) + beta * C";
  let arguments = (ins AnyTensor:$A, AnyTensor:$B, Optional<AnyTensor>:$C,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.0">:$beta,
                       DefaultValuedAttr<SI64Attr, "0">:$transA,
                       DefaultValuedAttr<SI64Attr, "0">:$transB);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def ONNX_LayerNormalizationOp : ONNX_Op<"LayerNormalization",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "normalises over the axes from `axis` to the last (opset 17)";
  let description = [{
    `stats` holds the optional Mean and InvStdDev outputs, in that order:
    none, Mean, or both.
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$Scale, Optional<AnyTensor>:$B,
                       DefaultValuedAttr<SI64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon,
                       DefaultValuedAttr<SI64Attr, "1">:$stash_type);
  let results = (outs AnyTensor:$Y, Variadic<AnyTensor>:$stats);
  let hasVerifier = 1;
}

def ONNX_DropoutOp : ONNX_Op<"Dropout", [AttrSizedOperandSegments]> {
  let summary = "identity at inference time (the mask is all true)";
  let arguments = (ins AnyTensor:$data, Optional<AnyTensor>:$ratio,
                       Optional<AnyTensor>:$training_mode,
                       OptionalAttr<SI64Attr>:$seed);
  let results = (outs AnyTensor:$output, Optional<TensorOf<[I1]>>:$mask);
  let hasFolder = 1;
}

def ONNX_ConvOp : ONNX_Op<"Conv",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "N-D convolution (used by ViT patch embeddings)";
  let arguments = (ins AnyTensor:$X, AnyTensor:$W, Optional<AnyTensor>:$B,
                       DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                       OptionalAttr<I64ArrayAttr>:$dilations,
                       DefaultValuedAttr<SI64Attr, "1">:$group,
                       OptionalAttr<I64ArrayAttr>:$kernel_shape,
                       OptionalAttr<I64ArrayAttr>:$pads,
                       OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def ONNX_EinsumOp : ONNX_Op<"Einsum"> {
  let summary = "Einstein summation given by `equation`";
  let arguments = (ins Variadic<AnyTensor>:$Inputs, StrAttr:$equation);
  let results = (outs AnyTensor:$Output);
  let hasVerifier = 1;
}

class ONNX_ReduceOp<string mnemonic>
    : ONNX_Op<mnemonic, [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let arguments = (ins AnyTensor:$data, Optional<TensorOf<[I64]>>:$axes,
                       DefaultValuedAttr<SI64Attr, "1">:$keepdims,
                       DefaultValuedAttr<SI64Attr, "0">:$noop_with_empty_axes);
  let results = (outs AnyTensor:$reduced);
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() { return verifyReduce(*this); }
    ::mlir::LogicalResult $cppClass::inferResultTypes(
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return inferReduce(getData(), getAxes(), getKeepdims(),
                         getNoopWithEmptyAxes(),
                         getElementTypeOrSelf(getData().getType()), types);
    }
  }];
}
def ONNX_ReduceMeanOp : ONNX_ReduceOp<"ReduceMean"> {
  let summary = "mean over `axes` (axes as an input, opset 18 form)";
}
def ONNX_ReduceSumOp : ONNX_ReduceOp<"ReduceSum"> {
  let summary = "sum over `axes`";
}
def ONNX_ReduceMaxOp : ONNX_ReduceOp<"ReduceMax"> {
  let summary = "maximum over `axes` (axes as an input, opset 18 form)";
}
def ONNX_ReduceMinOp : ONNX_ReduceOp<"ReduceMin"> {
  let summary = "minimum over `axes` (axes as an input, opset 18 form)";
}

#endif // TESSERA_ONNX_NN
