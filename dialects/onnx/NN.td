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

//===----------------------------------------------------------------------===//
// Normalisations
//===----------------------------------------------------------------------===//

def ONNX_BatchNormalizationOp : ONNX_Op<"BatchNormalization",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "per-channel (X - mean) / sqrt(var + epsilon) * scale + B";
  let description = [{
    `running` holds the optional running mean and variance outputs. At
    inference (training_mode 0) they are the inputs; in training mode X is
    normalised with its own per-channel mean and population variance, and
    the outputs are input_mean * momentum + mean * (1 - momentum) (and the
    same for the variance).
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$scale, AnyTensor:$B,
                       AnyTensor:$input_mean, AnyTensor:$input_var,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon,
                       DefaultValuedAttr<F32Attr, "0.9">:$momentum,
                       DefaultValuedAttr<SI64Attr, "0">:$training_mode);
  let results = (outs AnyTensor:$Y, Variadic<AnyTensor>:$running);
}

def ONNX_InstanceNormalizationOp : ONNX_Op<"InstanceNormalization",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "normalises each (batch, channel) over the spatial dims";
  let arguments = (ins AnyTensor:$input, AnyTensor:$scale, AnyTensor:$B,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs AnyTensor:$output);
}

def ONNX_GroupNormalizationOp : ONNX_Op<"GroupNormalization",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "normalises each group of channels over it and the spatial "
                "dims (scale and bias per channel, opset 21)";
  let arguments = (ins AnyTensor:$X, AnyTensor:$scale, AnyTensor:$bias,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon,
                       SI64Attr:$num_groups,
                       DefaultValuedAttr<SI64Attr, "1">:$stash_type);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def ONNX_LRNOp : ONNX_Op<"LRN",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "local response normalisation across channels";
  let description = [{
    `Y = X / (bias + alpha / size * square_sum) ^ beta`, where square_sum at
    channel c sums X^2 over channels [c - floor((size - 1) / 2),
    c + ceil((size - 1) / 2)] (those that exist). `X` is [N, C, D...].
  }];
  let arguments = (ins AnyTensor:$X,
                       DefaultValuedAttr<F32Attr, "1.0e-4">:$alpha,
                       DefaultValuedAttr<F32Attr, "0.75">:$beta,
                       DefaultValuedAttr<F32Attr, "1.0">:$bias,
                       SI64Attr:$size);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pooling and transposed convolution (window attributes as Conv's)
//===----------------------------------------------------------------------===//

class ONNX_PoolOp<string mnemonic, dag extra>
    : ONNX_Op<mnemonic, [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let arguments = !con((ins AnyTensor:$X,
                            DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                            DefaultValuedAttr<SI64Attr, "0">:$ceil_mode,
                            OptionalAttr<I64ArrayAttr>:$dilations,
                            I64ArrayAttr:$kernel_shape,
                            OptionalAttr<I64ArrayAttr>:$pads,
                            OptionalAttr<I64ArrayAttr>:$strides), extra);
}
def ONNX_MaxPoolOp : ONNX_PoolOp<"MaxPool",
    (ins DefaultValuedAttr<SI64Attr, "0">:$storage_order)> {
  let summary = "maximum over each window, and optionally where it is";
  let description = [{
    Indices (int64) holds the flat index into X of each window's first
    maximum: ((n * C + c) * H + h) * W + w in row-major order (storage_order
    0), or with the last two spatial dims swapped (storage_order 1:
    h + w * H after the batch and channel offset).
  }];
  let results = (outs AnyTensor:$Y, Optional<AnyTensor>:$Indices);
}
def ONNX_MaxUnpoolOp : ONNX_Op<"MaxUnpool"> {
  let summary = "scatters X into zeros at MaxPool's flat Indices";
  let description = [{
    The output is [N, C, (in - 1) * stride - pads + kernel...], or
    output_shape when given (a run-time value); Y.flat[I[...]] = X[...].
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$I,
                       Optional<AnyTensor>:$output_shape,
                       I64ArrayAttr:$kernel_shape,
                       OptionalAttr<I64ArrayAttr>:$pads,
                       OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs AnyTensor:$output);
}
def ONNX_AveragePoolOp : ONNX_PoolOp<"AveragePool",
    (ins DefaultValuedAttr<SI64Attr, "0">:$count_include_pad)> {
  let summary = "mean over each window, with or without the padding";
  let results = (outs AnyTensor:$Y);
}
def ONNX_LpPoolOp : ONNX_PoolOp<"LpPool", (ins DefaultValuedAttr<SI64Attr, "2">:$p)> {
  let summary = "the p-norm of each window";
  let results = (outs AnyTensor:$Y);
}

class ONNX_GlobalPoolOp<string mnemonic, dag extra = (ins)>
    : ONNX_Op<mnemonic, [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let arguments = !con((ins AnyTensor:$X), extra);
  let results = (outs AnyTensor:$Y);
}
def ONNX_GlobalMaxPoolOp : ONNX_GlobalPoolOp<"GlobalMaxPool"> {
  let summary = "maximum over all spatial dims";
}
def ONNX_GlobalAveragePoolOp : ONNX_GlobalPoolOp<"GlobalAveragePool"> {
  let summary = "mean over all spatial dims";
}
def ONNX_GlobalLpPoolOp : ONNX_GlobalPoolOp<"GlobalLpPool",
    (ins DefaultValuedAttr<SI64Attr, "2">:$p)> {
  let summary = "the p-norm over all spatial dims";
}

def ONNX_ConvTransposeOp : ONNX_Op<"ConvTranspose",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "N-D transposed convolution (the gradient of Conv)";
  let arguments = (ins AnyTensor:$X, AnyTensor:$W, Optional<AnyTensor>:$B,
                       DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                       OptionalAttr<I64ArrayAttr>:$dilations,
                       DefaultValuedAttr<SI64Attr, "1">:$group,
                       OptionalAttr<I64ArrayAttr>:$kernel_shape,
                       OptionalAttr<I64ArrayAttr>:$output_padding,
                       OptionalAttr<I64ArrayAttr>:$output_shape,
                       OptionalAttr<I64ArrayAttr>:$pads,
                       OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs AnyTensor:$Y);
}

//===----------------------------------------------------------------------===//
// Recurrent networks
//===----------------------------------------------------------------------===//

/// RNN, GRU and LSTM share their operands up to initial_h, their attributes,
/// their layouts and their verifier; `outputs` holds Y, Y_h (and LSTM's Y_c)
/// up to the last one the node names (an absent Y before Y_h still gets a
/// result).
class ONNX_RecurrentOp<string mnemonic, dag cellOperands, dag cellAttrs>
    : ONNX_Op<mnemonic, [AttrSizedOperandSegments,
                         DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let description = [{
    X is [seq, batch, input] (layout 1: [batch, seq, input]); W, R and B hold
    one set of gate weights per direction, gates stacked along their second
    dim. Y is [seq, directions, batch, hidden] (layout 1: [batch, seq,
    directions, hidden]); Y_h and Y_c are [directions, batch, hidden]
    (layout 1: [batch, directions, hidden]). sequence_lens (int32, [batch])
    stops each batch entry's recurrence early: its later Y rows are zero and
    Y_h holds its last state.
  }];
  let arguments = !con(
      (ins AnyTensor:$X, AnyTensor:$W, AnyTensor:$R, Optional<AnyTensor>:$B,
           Optional<AnyTensor>:$sequence_lens,
           Optional<AnyTensor>:$initial_h),
      cellOperands,
      (ins OptionalAttr<F32ArrayAttr>:$activation_alpha,
           OptionalAttr<F32ArrayAttr>:$activation_beta,
           OptionalAttr<StrArrayAttr>:$activations,
           OptionalAttr<F32Attr>:$clip,
           DefaultValuedStrAttr<StrAttr, "forward">:$direction,
           OptionalAttr<SI64Attr>:$hidden_size,
           DefaultValuedAttr<SI64Attr, "0">:$layout),
      cellAttrs);
  let results = (outs Variadic<AnyTensor>:$outputs);
  let hasVerifier = 1;
}

def ONNX_RNNOp : ONNX_RecurrentOp<"RNN", (ins), (ins)> {
  let summary = "Elman recurrent network: H = f(X W^T + H R^T + Wb + Rb)";
}
def ONNX_GRUOp : ONNX_RecurrentOp<"GRU", (ins),
    (ins DefaultValuedAttr<SI64Attr, "0">:$linear_before_reset)> {
  let summary = "gated recurrent unit (gates z, r, h)";
}
def ONNX_LSTMOp : ONNX_RecurrentOp<"LSTM",
    (ins Optional<AnyTensor>:$initial_c, Optional<AnyTensor>:$P),
    (ins DefaultValuedAttr<SI64Attr, "0">:$input_forget)> {
  let summary = "long short-term memory (gates i, o, f, c; peepholes P)";
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def ONNX_NegativeLogLikelihoodLossOp : ONNX_Op<"NegativeLogLikelihoodLoss"> {
  let summary = "-input[n, target[n, d...], d...] * weight[target], reduced";
  let arguments = (ins AnyTensor:$input, TensorOf<[I32, I64]>:$target,
                       Optional<AnyTensor>:$weight,
                       OptionalAttr<SI64Attr>:$ignore_index,
                       DefaultValuedStrAttr<StrAttr, "mean">:$reduction);
  let results = (outs AnyTensor:$loss);
}

def ONNX_SoftmaxCrossEntropyLossOp : ONNX_Op<"SoftmaxCrossEntropyLoss"> {
  let summary = "NegativeLogLikelihoodLoss of LogSoftmax(scores) along axis 1";
  let arguments = (ins AnyTensor:$scores, TensorOf<[I32, I64]>:$labels,
                       Optional<AnyTensor>:$weights,
                       OptionalAttr<SI64Attr>:$ignore_index,
                       DefaultValuedStrAttr<StrAttr, "mean">:$reduction);
  let results = (outs AnyTensor:$output, Optional<AnyTensor>:$log_prob);
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

def ONNX_QuantizeLinearOp : ONNX_Op<"QuantizeLinear"> {
  let summary = "saturate(round(x / y_scale) + y_zero_point), per tensor or "
                "per `axis`";
  let arguments = (ins AnyTensor:$x, AnyTensor:$y_scale,
                       Optional<AnyTensor>:$y_zero_point,
                       DefaultValuedAttr<SI64Attr, "1">:$axis,
                       DefaultValuedAttr<SI64Attr, "1">:$saturate,
                       DefaultValuedAttr<SI64Attr, "0">:$block_size);
  let results = (outs AnyTensor:$y);
}

def ONNX_DequantizeLinearOp : ONNX_Op<"DequantizeLinear"> {
  let summary = "(x - x_zero_point) * x_scale, per tensor or per `axis`";
  let arguments = (ins AnyTensor:$x, AnyTensor:$x_scale,
                       Optional<AnyTensor>:$x_zero_point,
                       DefaultValuedAttr<SI64Attr, "1">:$axis,
                       DefaultValuedAttr<SI64Attr, "0">:$block_size);
  let results = (outs AnyTensor:$y);
}

def ONNX_QLinearMatMulOp : ONNX_Op<"QLinearMatMul"> {
  let summary = "quantized matrix product: MatMulInteger requantized by "
                "a_scale * b_scale / y_scale";
  let arguments = (ins AnyTensor:$a, AnyTensor:$a_scale,
                       AnyTensor:$a_zero_point, AnyTensor:$b,
                       AnyTensor:$b_scale, AnyTensor:$b_zero_point,
                       AnyTensor:$y_scale, AnyTensor:$y_zero_point);
  let results = (outs AnyTensor:$y);
  let hasVerifier = 1;
}

def ONNX_DynamicQuantizeLinearOp : ONNX_Op<"DynamicQuantizeLinear"> {
  let summary = "uint8 quantization with a scale and zero point from x's range";
  let description = [{
    With lo = min(0, min(x)) and hi = max(0, max(x)): y_scale = (hi - lo) /
    255, y_zero_point = saturate(round(-lo / y_scale)) and y =
    saturate(round(x / y_scale) + y_zero_point), rounding half to even and
    saturating to [0, 255].
  }];
  let arguments = (ins AnyTensor:$x);
  let results = (outs AnyTensor:$y, AnyTensor:$y_scale,
                      AnyTensor:$y_zero_point);
}

def ONNX_MatMulIntegerOp : ONNX_Op<"MatMulInteger", [AttrSizedOperandSegments]> {
  let summary = "int32 matrix product of (A - a_zero_point) and "
                "(B - b_zero_point)";
  let arguments = (ins AnyTensor:$A, AnyTensor:$B,
                       Optional<AnyTensor>:$a_zero_point,
                       Optional<AnyTensor>:$b_zero_point);
  let results = (outs AnyTensor:$Y);
}

def ONNX_ConvIntegerOp : ONNX_Op<"ConvInteger", [AttrSizedOperandSegments]> {
  let summary = "int32 convolution of (x - x_zero_point) and "
                "(w - w_zero_point)";
  let arguments = (ins AnyTensor:$x, AnyTensor:$w,
                       Optional<AnyTensor>:$x_zero_point,
                       Optional<AnyTensor>:$w_zero_point,
                       DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                       OptionalAttr<I64ArrayAttr>:$dilations,
                       DefaultValuedAttr<SI64Attr, "1">:$group,
                       OptionalAttr<I64ArrayAttr>:$kernel_shape,
                       OptionalAttr<I64ArrayAttr>:$pads,
                       OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs AnyTensor:$y);
  let hasVerifier = 1;
}

def ONNX_QLinearConvOp : ONNX_Op<"QLinearConv"> {
  let summary = "ConvInteger plus an int32 bias, requantized by "
                "x_scale * w_scale / y_scale";
  let arguments = (ins AnyTensor:$x, AnyTensor:$x_scale,
                       AnyTensor:$x_zero_point, AnyTensor:$w,
                       AnyTensor:$w_scale, AnyTensor:$w_zero_point,
                       AnyTensor:$y_scale, AnyTensor:$y_zero_point,
                       Optional<AnyTensor>:$B,
                       DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                       OptionalAttr<I64ArrayAttr>:$dilations,
                       DefaultValuedAttr<SI64Attr, "1">:$group,
                       OptionalAttr<I64ArrayAttr>:$kernel_shape,
                       OptionalAttr<I64ArrayAttr>:$pads,
                       OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs AnyTensor:$y);
  let hasVerifier = 1;
}

def ONNX_DetOp : ONNX_Op<"Det"> {
  let summary = "determinant of each square matrix in the last two axes";
  let arguments = (ins AnyTensor:$X);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def ONNX_RoiAlignOp : ONNX_Op<"RoiAlign"> {
  let summary = "average (or max) of bilinear samples of X over each region "
                "of interest, on an output_height x output_width grid";
  let description = [{
    rois [R, 4] are (x1, y1, x2, y2) in the input's scale divided by
    spatial_scale; batch_indices [R] pick the image. Each bin averages
    sampling_ratio^2 samples (adaptive, ceil(roi size / bins), when 0).
    coordinate_transformation_mode half_pixel shifts by half a pixel;
    output_half_pixel (opset 10's behaviour) does not and makes every
    region at least 1x1. Models older than opset 16 get output_half_pixel
    from the importer.
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$rois, AnyTensor:$batch_indices,
                       DefaultValuedStrAttr<StrAttr, "half_pixel">:$coordinate_transformation_mode,
                       DefaultValuedStrAttr<StrAttr, "avg">:$mode,
                       DefaultValuedAttr<SI64Attr, "1">:$output_height,
                       DefaultValuedAttr<SI64Attr, "1">:$output_width,
                       DefaultValuedAttr<SI64Attr, "0">:$sampling_ratio,
                       DefaultValuedAttr<F32Attr, "1.0">:$spatial_scale);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

#endif // TESSERA_ONNX_NN
