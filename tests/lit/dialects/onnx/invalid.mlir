// RUN: tessera-opt %s -split-input-file -verify-diagnostics

// Verifier failures of the onnx dialect, one per block. Grouped like
// ONNXOps.cpp: elementwise, NN, tensor; ODS type constraints at the end.

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

func.func @add_not_broadcastable(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'onnx.Add' op operands are not broadcast-compatible: 'tensor<2x3xf32>', 'tensor<4xf32>'}}
  %0 = onnx.Add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @where_not_broadcastable(%c: tensor<5xi1>, %x: tensor<2x3xf32>, %y: tensor<f32>) {
  // expected-error @+1 {{'onnx.Where' op operands are not broadcast-compatible}}
  %0 = onnx.Where %c, %x, %y : (tensor<5xi1>, tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @max_not_broadcastable(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %c: tensor<2xf32>) {
  // expected-error @+1 {{'onnx.Max' op operands are not broadcast-compatible}}
  %0 = onnx.Max %a, %b, %c : (tensor<2x3xf32>, tensor<3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @mul_result_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'onnx.Mul' op result rank 1 does not match broadcast rank 2}}
  %0 = onnx.Mul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @less_result_shape(%a: tensor<?x3xf32>, %b: tensor<1x3xf32>) {
  // expected-error @+1 {{'onnx.Less' op result type 'tensor<?x4xi1>' does not match the broadcast of the operands}}
  %0 = onnx.Less %a, %b : (tensor<?x3xf32>, tensor<1x3xf32>) -> tensor<?x4xi1>
  return
}

// -----

func.func @sqrt_rank(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.Sqrt' op result rank 1 does not match input rank 2}}
  %0 = onnx.Sqrt %x : (tensor<2x3xf32>) -> tensor<6xf32>
  return
}

// -----

func.func @tanh_shape(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'onnx.Tanh' op result shape does not match input shape}}
  %0 = onnx.Tanh %x : (tensor<?x128xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @not_shape(%x: tensor<4xi1>) {
  // expected-error @+1 {{'onnx.Not' op result shape does not match input shape}}
  %0 = onnx.Not %x : (tensor<4xi1>) -> tensor<5xi1>
  return
}

// -----

func.func @gelu_approximate(%x: tensor<4xf32>) {
  // expected-error @+1 {{'onnx.Gelu' op approximate must be 'none' or 'tanh', got 'erf'}}
  %0 = onnx.Gelu %x {approximate = "erf"} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @gelu_shape(%x: tensor<4xf32>) {
  // expected-error @+1 {{'onnx.Gelu' op result shape does not match input shape}}
  %0 = onnx.Gelu %x {approximate = "tanh"} : (tensor<4xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.Softmax' op axis 2 is out of range for rank 2}}
  %0 = onnx.Softmax %x {axis = 2 : si64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @log_softmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.LogSoftmax' op axis -3 is out of range for rank 2}}
  %0 = onnx.LogSoftmax %x {axis = -3 : si64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @softmax_shape(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.Softmax' op result shape does not match input shape}}
  %0 = onnx.Softmax %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @clip_min_not_scalar(%x: tensor<4xf32>, %lo: tensor<2xf32>) {
  // expected-error @+1 {{'onnx.Clip' op min must be a scalar, got 'tensor<2xf32>'}}
  %0 = onnx.Clip %x, %lo {operandSegmentSizes = array<i32: 1, 1, 0>} : (tensor<4xf32>, tensor<2xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @clip_max_not_scalar(%x: tensor<4xf32>, %lo: tensor<f32>, %hi: tensor<1x4xf32>) {
  // expected-error @+1 {{'onnx.Clip' op max must be a scalar, got 'tensor<1x4xf32>'}}
  %0 = onnx.Clip %x, %lo, %hi {operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<4xf32>, tensor<f32>, tensor<1x4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @clip_shape(%x: tensor<4xf32>) {
  // expected-error @+1 {{'onnx.Clip' op result rank 2 does not match input rank 1}}
  %0 = onnx.Clip %x {operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<4xf32>) -> tensor<4x1xf32>
  return
}

// -----

func.func @cast_element_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{'onnx.Cast' op result element type 'f32' does not match 'to' 'f16'}}
  %0 = onnx.Cast %x {to = f16} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @cast_shape(%x: tensor<4xf32>) {
  // expected-error @+1 {{'onnx.Cast' op result shape does not match input shape}}
  %0 = onnx.Cast %x {to = i64} : (tensor<4xf32>) -> tensor<3xi64>
  return
}

// -----

func.func @castlike_element_type(%x: tensor<4xf32>, %t: tensor<i32>) {
  // expected-error @+1 {{'onnx.CastLike' op result element type 'i64' does not match target_type's 'i32'}}
  %0 = onnx.CastLike %x, %t : (tensor<4xf32>, tensor<i32>) -> tensor<4xi64>
  return
}

//===----------------------------------------------------------------------===//
// NN
//===----------------------------------------------------------------------===//

// -----

func.func @matmul_contraction(%a: tensor<?x128xf32>, %b: tensor<64x32xf32>) {
  // expected-error @+1 {{'onnx.MatMul' op contraction dimensions differ: 128 vs 64}}
  %0 = onnx.MatMul %a, %b : (tensor<?x128xf32>, tensor<64x32xf32>) -> tensor<?x32xf32>
  return
}

// -----

func.func @matmul_vector_contraction(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'onnx.MatMul' op contraction dimensions differ: 3 vs 4}}
  %0 = onnx.MatMul %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @matmul_rank0(%a: tensor<f32>, %b: tensor<3x4xf32>) {
  // expected-error @+1 {{'onnx.MatMul' op operands must have rank >= 1}}
  %0 = onnx.MatMul %a, %b : (tensor<f32>, tensor<3x4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x4x3xf32>, %b: tensor<5x3x6xf32>) {
  // expected-error @+1 {{'onnx.MatMul' op batch dimensions are not broadcast-compatible}}
  %0 = onnx.MatMul %a, %b : (tensor<2x4x3xf32>, tensor<5x3x6xf32>) -> tensor<2x4x6xf32>
  return
}

// -----

func.func @gemm_rank(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{'onnx.Gemm' op A must have rank 2, got 'tensor<2x3x4xf32>'}}
  %0 = onnx.Gemm %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @gemm_rank_b(%a: tensor<2x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'onnx.Gemm' op B must have rank 2, got 'tensor<4xf32>'}}
  %0 = onnx.Gemm %a, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @gemm_contraction(%a: tensor<2x4xf32>, %b: tensor<5x4xf32>) {
  // transB is not set, so the contraction is A[1] = 4 against B[0] = 5.
  // expected-error @+1 {{'onnx.Gemm' op contraction dimensions differ: 4 vs 5}}
  %0 = onnx.Gemm %a, %b : (tensor<2x4xf32>, tensor<5x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<2x3xf32>, %s: tensor<3xf32>) {
  // expected-error @+1 {{'onnx.LayerNormalization' op axis 2 is out of range for rank 2}}
  %0 = onnx.LayerNormalization %x, %s {axis = 2 : si64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<2x3xf32>, %s: tensor<3xf32>) {
  // expected-error @+1 {{'onnx.LayerNormalization' op epsilon must be non-negative}}
  %0 = onnx.LayerNormalization %x, %s {epsilon = -1.0 : f32} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @layer_norm_shape(%x: tensor<2x3xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'onnx.LayerNormalization' op result shape does not match input shape}}
  %0 = onnx.LayerNormalization %x, %s, %b : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{'onnx.Conv' op input channels 3 do not match weight channels 2 x group 1}}
  %0 = onnx.Conv %x, %w : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_group(%x: tensor<1x8x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{'onnx.Conv' op input channels 8 do not match weight channels 2 x group 2}}
  %0 = onnx.Conv %x, %w {group = 2 : si64} : (tensor<1x8x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_group_zero(%x: tensor<1x?x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{'onnx.Conv' op group must be >= 1}}
  %0 = onnx.Conv %x, %w {group = 0 : si64} : (tensor<1x?x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_auto_pad(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'onnx.Conv' op unknown auto_pad 'SAME'}}
  %0 = onnx.Conv %x, %w {auto_pad = "SAME"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @conv_input_rank(%x: tensor<3x8xf32>, %w: tensor<4x3xf32>) {
  // expected-error @+1 {{'onnx.Conv' op input must have rank >= 3, got 'tensor<3x8xf32>'}}
  %0 = onnx.Conv %x, %w : (tensor<3x8xf32>, tensor<4x3xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @conv_weight_rank(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3xf32>) {
  // expected-error @+1 {{'onnx.Conv' op input and weight ranks differ}}
  %0 = onnx.Conv %x, %w : (tensor<1x3x8x8xf32>, tensor<4x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @einsum_terms(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+1 {{'onnx.Einsum' op equation 'ij->ji' has 1 operand terms but 2 inputs were given}}
  %0 = onnx.Einsum %a, %b {equation = "ij->ji"} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @reduce_mean_axes(%x: tensor<2x3xf32>) {
  %axes = onnx.Constant {value = dense<[0, 2]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.ReduceMean' op axis 2 is out of range for rank 2}}
  %0 = onnx.ReduceMean %x, %axes : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<1x1xf32>
  return
}

// -----

func.func @reduce_sum_negative_axes(%x: tensor<?x3xf32>) {
  %axes = onnx.Constant {value = dense<-3> : tensor<1xi64>} : tensor<1xi64>
  // expected-error @+1 {{'onnx.ReduceSum' op axis -3 is out of range for rank 2}}
  %0 = onnx.ReduceSum %x, %axes : (tensor<?x3xf32>, tensor<1xi64>) -> tensor<?x3xf32>
  return
}

// -----

func.func @reduce_max_keepdims(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.ReduceMax' op keepdims must be 0 or 1}}
  %0 = onnx.ReduceMax %x {keepdims = 2 : si64} : (tensor<2x3xf32>) -> tensor<1x1xf32>
  return
}

// -----

func.func @reduce_min_axes(%x: tensor<2x3xf32>) {
  %axes = onnx.Constant {value = dense<5> : tensor<1xi64>} : tensor<1xi64>
  // expected-error @+1 {{'onnx.ReduceMin' op axis 5 is out of range for rank 2}}
  %0 = onnx.ReduceMin %x, %axes {keepdims = 0 : si64} : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<2xf32>
  return
}

//===----------------------------------------------------------------------===//
// Tensor
//===----------------------------------------------------------------------===//

// -----

func.func @constant_type() {
  // expected-error @+1 {{'onnx.Constant' op value type 'tensor<2xi64>' does not match result type 'tensor<2xi32>'}}
  %0 = onnx.Constant {value = dense<[1, 2]> : tensor<2xi64>} : tensor<2xi32>
  return
}

// -----

func.func @constant_shape() {
  // expected-error @+1 {{'onnx.Constant' op value type 'tensor<2xf32>' does not match result type 'tensor<?xf32>'}}
  %0 = onnx.Constant {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<?xf32>
  return
}

// -----

func.func @constant_of_shape_two_values(%s: tensor<2xi64>) {
  // expected-error @+1 {{'onnx.ConstantOfShape' op value must hold exactly one element}}
  %0 = onnx.ConstantOfShape %s {value = dense<[1.0, 2.0]> : tensor<2xf32>} : (tensor<2xi64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @constant_of_shape_element_type(%s: tensor<2xi64>) {
  // expected-error @+1 {{'onnx.ConstantOfShape' op value element type 'i64' does not match result 'f32'}}
  %0 = onnx.ConstantOfShape %s {value = dense<1> : tensor<1xi64>} : (tensor<2xi64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @constant_of_shape_input_rank(%s: tensor<1x2xi64>) {
  // expected-error @+1 {{'onnx.ConstantOfShape' op shape must have rank 1, got 'tensor<1x2xi64>'}}
  %0 = onnx.ConstantOfShape %s : (tensor<1x2xi64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @reshape_two_minus_one(%x: tensor<2x3x4xf32>) {
  %shape = onnx.Constant {value = dense<[-1, 2, -1]> : tensor<3xi64>} : tensor<3xi64>
  // expected-error @+1 {{'onnx.Reshape' op shape has more than one -1 entry}}
  %0 = onnx.Reshape %x, %shape : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<?x2x?xf32>
  return
}

// -----

func.func @reshape_rank(%x: tensor<2x3x4xf32>) {
  %shape = onnx.Constant {value = dense<[6, 4]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Reshape' op result rank 3 does not match shape length 2}}
  %0 = onnx.Reshape %x, %shape : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4x1xf32>
  return
}

// -----

func.func @reshape_invalid_entry(%x: tensor<2x3x4xf32>) {
  %shape = onnx.Constant {value = dense<[-2, 12]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Reshape' op shape entry -2 is invalid}}
  %0 = onnx.Reshape %x, %shape : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
  return
}

// -----

func.func @reshape_allowzero(%x: tensor<2x3x4xf32>) {
  %shape = onnx.Constant {value = dense<[0, -1]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Reshape' op shape may not hold both 0 and -1 with allowzero}}
  %0 = onnx.Reshape %x, %shape {allowzero = 1 : si64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @reshape_shape_rank(%x: tensor<2x3x4xf32>, %shape: tensor<i64>) {
  // expected-error @+1 {{'onnx.Reshape' op shape must have rank 1, got 'tensor<i64>'}}
  %0 = onnx.Reshape %x, %shape : (tensor<2x3x4xf32>, tensor<i64>) -> tensor<24xf32>
  return
}

// -----

func.func @transpose_not_permutation(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'onnx.Transpose' op perm is not a permutation of [0, 3)}}
  %0 = onnx.Transpose %x {perm = [0, 2, 2]} : (tensor<2x3x4xf32>) -> tensor<2x4x4xf32>
  return
}

// -----

func.func @transpose_out_of_range(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.Transpose' op perm is not a permutation of [0, 2)}}
  %0 = onnx.Transpose %x {perm = [1, 2]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @transpose_perm_length(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.Transpose' op perm has 3 entries but the input has rank 2}}
  %0 = onnx.Transpose %x {perm = [2, 1, 0]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @gather_axis(%d: tensor<10x768xf32>, %i: tensor<4xi64>) {
  // expected-error @+1 {{'onnx.Gather' op axis 2 is out of range for rank 2}}
  %0 = onnx.Gather %d, %i {axis = 2 : si64} : (tensor<10x768xf32>, tensor<4xi64>) -> tensor<10x768x4xf32>
  return
}

// -----

func.func @shape_result_rank(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.Shape' op result must have rank 1, got 'tensor<1x2xi64>'}}
  %0 = onnx.Shape %x : (tensor<2x3xf32>) -> tensor<1x2xi64>
  return
}

// -----

func.func @size_result_rank(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.Size' op result must have rank 0, got 'tensor<1xi64>'}}
  %0 = onnx.Size %x : (tensor<2x3xf32>) -> tensor<1xi64>
  return
}

// -----

func.func @unsqueeze_axes_rank(%x: tensor<2x3xf32>, %axes: tensor<1x1xi64>) {
  // expected-error @+1 {{'onnx.Unsqueeze' op axes must be a scalar or 1-D tensor}}
  %0 = onnx.Unsqueeze %x, %axes : (tensor<2x3xf32>, tensor<1x1xi64>) -> tensor<1x2x3xf32>
  return
}

// -----

func.func @squeeze_non_unit(%x: tensor<1x3x1xf32>) {
  %axes = onnx.Constant {value = dense<[0, 1]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Squeeze' op cannot squeeze axis 1 of size 3}}
  %0 = onnx.Squeeze %x, %axes : (tensor<1x3x1xf32>, tensor<2xi64>) -> tensor<1xf32>
  return
}

// -----

func.func @squeeze_axis_range(%x: tensor<1x3x1xf32>) {
  %axes = onnx.Constant {value = dense<-4> : tensor<1xi64>} : tensor<1xi64>
  // expected-error @+1 {{'onnx.Squeeze' op axis -4 is out of range}}
  %0 = onnx.Squeeze %x, %axes : (tensor<1x3x1xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  return
}

// -----

func.func @flatten_axis(%x: tensor<2x3x4xf32>) {
  // axis may be at most the input rank (3); the message counts rank + 1.
  // expected-error @+1 {{'onnx.Flatten' op axis 4 is out of range [-3, 3]}}
  %0 = onnx.Flatten %x {axis = 4 : si64} : (tensor<2x3x4xf32>) -> tensor<24x1xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'onnx.Concat' op inputs have different ranks}}
  %0 = onnx.Concat %a, %b {axis = 0 : si64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return
}

// -----

func.func @concat_dim(%a: tensor<2x3xf32>, %b: tensor<?x4xf32>) {
  // expected-error @+1 {{'onnx.Concat' op inputs differ in dimension 1 (not the concatenation axis)}}
  %0 = onnx.Concat %a, %b {axis = 0 : si64} : (tensor<2x3xf32>, tensor<?x4xf32>) -> tensor<?x3xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.Concat' op axis -3 is out of range for rank 2}}
  %0 = onnx.Concat %a, %b {axis = -3 : si64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_no_inputs() {
  // expected-error @+1 {{'onnx.Concat' op needs at least one input}}
  %0 = onnx.Concat {axis = 0 : si64} : () -> tensor<2xf32>
  return
}

// -----

func.func @slice_lengths(%x: tensor<4x5xf32>, %s: tensor<2xi64>, %e: tensor<1xi64>) {
  // expected-error @+1 {{'onnx.Slice' op starts and ends have different lengths}}
  %0 = onnx.Slice %x, %s, %e {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<4x5xf32>, tensor<2xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @slice_starts_rank(%x: tensor<4x5xf32>, %s: tensor<i64>, %e: tensor<1xi64>) {
  // expected-error @+1 {{'onnx.Slice' op starts must have rank 1, got 'tensor<i64>'}}
  %0 = onnx.Slice %x, %s, %e {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<4x5xf32>, tensor<i64>, tensor<1xi64>) -> tensor<?x5xf32>
  return
}

// -----

func.func @split_num_outputs(%x: tensor<6xf32>) {
  // expected-error @+1 {{'onnx.Split' op num_outputs is 3 but the op has 2 results}}
  %0:2 = onnx.Split %x {num_outputs = 3 : si64} : (tensor<6xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @split_sizes_sum(%x: tensor<2x6xf32>) {
  %split = onnx.Constant {value = dense<[2, 3]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Split' op split sizes sum to 5 but the axis has size 6}}
  %0:2 = onnx.Split %x, %split {axis = 1 : si64} : (tensor<2x6xf32>, tensor<2xi64>) -> (tensor<2x2xf32>, tensor<2x3xf32>)
  return
}

// -----

func.func @split_sizes_count(%x: tensor<6xf32>) {
  %split = onnx.Constant {value = dense<[2, 2, 2]> : tensor<3xi64>} : tensor<3xi64>
  // expected-error @+1 {{'onnx.Split' op split has 3 entries for 2 results}}
  %0:2 = onnx.Split %x, %split : (tensor<6xf32>, tensor<3xi64>) -> (tensor<2xf32>, tensor<4xf32>)
  return
}

// -----

func.func @split_axis(%x: tensor<6xf32>) {
  // expected-error @+1 {{'onnx.Split' op axis 1 is out of range for rank 1}}
  %0:2 = onnx.Split %x {axis = 1 : si64} : (tensor<6xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @split_no_results(%x: tensor<6xf32>) {
  // expected-error @+1 {{'onnx.Split' op needs at least one result}}
  onnx.Split %x : (tensor<6xf32>) -> ()
  return
}

// -----

func.func @expand_shape_rank(%x: tensor<3xf32>, %s: tensor<1x2xi64>) {
  // expected-error @+1 {{'onnx.Expand' op shape must have rank 1, got 'tensor<1x2xi64>'}}
  %0 = onnx.Expand %x, %s : (tensor<3xf32>, tensor<1x2xi64>) -> tensor<?x3xf32>
  return
}

// -----

func.func @tile_repeats_length(%x: tensor<2x3xf32>, %r: tensor<3xi64>) {
  // expected-error @+1 {{'onnx.Tile' op repeats has 3 entries for an input of rank 2}}
  %0 = onnx.Tile %x, %r : (tensor<2x3xf32>, tensor<3xi64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @tile_repeats_rank(%x: tensor<2x3xf32>, %r: tensor<i64>) {
  // expected-error @+1 {{'onnx.Tile' op repeats must have rank 1, got 'tensor<i64>'}}
  %0 = onnx.Tile %x, %r : (tensor<2x3xf32>, tensor<i64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @range_result_rank(%s: tensor<f32>, %l: tensor<f32>, %d: tensor<f32>) {
  // expected-error @+1 {{'onnx.Range' op result must have rank 1, got 'tensor<?x?xf32>'}}
  %0 = onnx.Range %s, %l, %d : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<?x?xf32>
  return
}

// -----

func.func @trilu_rank(%x: tensor<4xf32>) {
  // expected-error @+1 {{'onnx.Trilu' op input must have rank >= 2, got 'tensor<4xf32>'}}
  %0 = onnx.Trilu %x : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @trilu_shape(%x: tensor<4x4xf32>) {
  // expected-error @+1 {{'onnx.Trilu' op result shape does not match input shape}}
  %0 = onnx.Trilu %x : (tensor<4x4xf32>) -> tensor<4x5xf32>
  return
}

//===----------------------------------------------------------------------===//
// ODS type and attribute constraints
//===----------------------------------------------------------------------===//

// -----

func.func @and_float_operands(%a: tensor<2xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{'onnx.And' op operand #0 must be tensor of 1-bit signless integer values, but got 'tensor<2xf32>'}}
  %0 = onnx.And %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xi1>
  return
}

// -----

func.func @equal_float_result(%a: tensor<2xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{'onnx.Equal' op result #0 must be tensor of 1-bit signless integer values, but got 'tensor<2xf32>'}}
  %0 = onnx.Equal %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @where_float_condition(%c: tensor<2xf32>, %x: tensor<2xf32>) {
  // expected-error @+1 {{'onnx.Where' op operand #0 must be tensor of 1-bit signless integer values, but got 'tensor<2xf32>'}}
  %0 = onnx.Where %c, %x, %x : (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @gather_float_indices(%d: tensor<4x2xf32>, %i: tensor<3xf32>) {
  // expected-error @+1 {{'onnx.Gather' op operand #1 must be tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<3xf32>'}}
  %0 = onnx.Gather %d, %i : (tensor<4x2xf32>, tensor<3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @reshape_i32_shape(%x: tensor<6xf32>, %s: tensor<2xi32>) {
  // expected-error @+1 {{'onnx.Reshape' op operand #1 must be tensor of 64-bit signless integer values, but got 'tensor<2xi32>'}}
  %0 = onnx.Reshape %x, %s : (tensor<6xf32>, tensor<2xi32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @reduce_i32_axes(%x: tensor<2x3xf32>, %axes: tensor<1xi32>) {
  // expected-error @+1 {{'onnx.ReduceSum' op operand #1 must be tensor of 64-bit signless integer values, but got 'tensor<1xi32>'}}
  %0 = onnx.ReduceSum %x, %axes : (tensor<2x3xf32>, tensor<1xi32>) -> tensor<1x3xf32>
  return
}

// -----

func.func @add_vector_operand(%a: vector<4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'onnx.Add' op operand #0 must be tensor of any type values, but got 'vector<4xf32>'}}
  %0 = onnx.Add %a, %b : (vector<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @concat_missing_axis(%a: tensor<2xf32>) {
  // expected-error @+1 {{'onnx.Concat' op requires attribute 'axis'}}
  %0 = onnx.Concat %a, %a : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @transpose_missing_perm(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.Transpose' op requires attribute 'perm'}}
  %0 = onnx.Transpose %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @softmax_signless_axis(%x: tensor<2x3xf32>) {
  // A signless i64 is not an si64 attribute (rejected while parsing).
  // expected-error @+1 {{'onnx.Softmax' op attribute 'axis' failed to satisfy constraint: 64-bit signed integer attribute}}
  %0 = onnx.Softmax %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @clip_missing_segments(%x: tensor<4xf32>, %lo: tensor<f32>) {
  // expected-error @+1 {{'onnx.Clip' op operand count (2) does not match with the total size (0) specified in attribute 'operandSegmentSizes'}}
  %0 = onnx.Clip %x, %lo : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return
}

// -----

// Found by review: these used to crash or be accepted.
func.func @slice_scalar_ends(%x: tensor<4xf32>, %s: tensor<1xi64>, %e: tensor<i64>) -> tensor<?xf32> {
  // expected-error @+1 {{'onnx.Slice' op ends must have rank 1, got 'tensor<i64>'}}
  %0 = onnx.Slice %x, %s, %e {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<4xf32>, tensor<1xi64>, tensor<i64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @range_vector_limit(%s: tensor<i64>, %l: tensor<2xi64>, %d: tensor<i64>) -> tensor<?xi64> {
  // expected-error @+1 {{'onnx.Range' op limit must be a scalar, got 'tensor<2xi64>'}}
  %0 = onnx.Range %s, %l, %d : (tensor<i64>, tensor<2xi64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @flatten_axis_below_range(%a: tensor<2x3xf32>) -> tensor<1x6xf32> {
  // expected-error @+1 {{'onnx.Flatten' op axis -3 is out of range [-2, 2]}}
  %0 = onnx.Flatten %a {axis = -3 : si64} : (tensor<2x3xf32>) -> tensor<1x6xf32>
  return %0 : tensor<1x6xf32>
}

// -----

func.func @split_negative(%a: tensor<4xf32>) -> (tensor<?xf32>, tensor<?xf32>) {
  %s = onnx.Constant {value = dense<[-1, 5]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Split' op split sizes must be non-negative, got -1}}
  %0:2 = onnx.Split %a, %s : (tensor<4xf32>, tensor<2xi64>) -> (tensor<?xf32>, tensor<?xf32>)
  return %0#0, %0#1 : tensor<?xf32>, tensor<?xf32>
}

// -----

func.func @max_no_inputs() -> tensor<f32> {
  // expected-error @+1 {{'onnx.Max' op needs at least one input}}
  %0 = onnx.Max : () -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @identity_wrong_result(%x: tensor<4xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'onnx.Identity' op result type 'tensor<3x2xf32>' does not match the inferred type 'tensor<4xf32>'}}
  %0 = onnx.Identity %x : (tensor<4xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @transpose_wrong_result(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'onnx.Transpose' op result type 'tensor<2x3xf32>' does not match the inferred type 'tensor<3x2xf32>'}}
  %0 = onnx.Transpose %x {perm = [1, 0]} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @matmul_wrong_result(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{'onnx.MatMul' op result type 'tensor<7xf32>' does not match the inferred type 'tensor<2x4xf32>'}}
  %0 = onnx.MatMul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

func.func @relu_wrong_element_type(%a: tensor<2xf32>) -> tensor<2xi32> {
  // expected-error @+1 {{'onnx.Relu' op result element type 'i32' does not match the expected 'f32'}}
  %0 = onnx.Relu %a : (tensor<2xf32>) -> tensor<2xi32>
  return %0 : tensor<2xi32>
}

// -----

func.func @shape_wrong_length(%a: tensor<2x3xf32>) -> tensor<5xi64> {
  // expected-error @+1 {{'onnx.Shape' op result type 'tensor<5xi64>' does not match the inferred type 'tensor<2xi64>'}}
  %0 = onnx.Shape %a : (tensor<2x3xf32>) -> tensor<5xi64>
  return %0 : tensor<5xi64>
}

// -----

func.func @reshape_element_count(%a: tensor<4xf32>) -> tensor<2x3xf32> {
  %s = onnx.Constant {value = dense<[2, 3]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Reshape' op cannot reshape 4 elements into 'tensor<2x3xf32>'}}
  %0 = onnx.Reshape %a, %s : (tensor<4xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @reduce_noop_flag(%a: tensor<2x3xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'onnx.ReduceMean' op noop_with_empty_axes must be 0 or 1}}
  %0 = onnx.ReduceMean %a {noop_with_empty_axes = 7 : si64} : (tensor<2x3xf32>) -> tensor<1x1xf32>
  return %0 : tensor<1x1xf32>
}

// -----

func.func @trilu_matrix_k(%a: tensor<3x3xf32>, %k: tensor<2x2xi64>) -> tensor<3x3xf32> {
  // expected-error @+1 {{'onnx.Trilu' op k must be a scalar, got 'tensor<2x2xi64>'}}
  %0 = onnx.Trilu %a, %k : (tensor<3x3xf32>, tensor<2x2xi64>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @lrn_size(%a: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{'onnx.LRN' op size 0 is not positive}}
  %0 = onnx.LRN %a {size = 0 : si64} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @rnn_direction(%x: tensor<2x3x4xf32>, %w: tensor<1x5x4xf32>, %r: tensor<1x5x5xf32>) -> tensor<1x3x5xf32> {
  // expected-error @+1 {{'onnx.RNN' op direction 'backward' is not one of forward, reverse, bidirectional}}
  %0:2 = onnx.RNN %x, %w, %r {direction = "backward", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0>} : (tensor<2x3x4xf32>, tensor<1x5x4xf32>, tensor<1x5x5xf32>) -> (tensor<2x1x3x5xf32>, tensor<1x3x5xf32>)
  return %0#1 : tensor<1x3x5xf32>
}

// -----

func.func @gru_activations(%x: tensor<2x3x4xf32>, %w: tensor<2x15x4xf32>, %r: tensor<2x15x5xf32>) -> tensor<2x3x5xf32> {
  // expected-error @+1 {{'onnx.GRU' op has 3 activations; needs 4 (2 per direction)}}
  %0:2 = onnx.GRU %x, %w, %r {direction = "bidirectional", activations = ["Sigmoid", "Tanh", "Relu"], operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0>} : (tensor<2x3x4xf32>, tensor<2x15x4xf32>, tensor<2x15x5xf32>) -> (tensor<2x2x3x5xf32>, tensor<2x3x5xf32>)
  return %0#1 : tensor<2x3x5xf32>
}

// -----

func.func @lstm_activation_name(%x: tensor<2x3x4xf32>, %w: tensor<1x20x4xf32>, %r: tensor<1x20x5xf32>) -> tensor<1x3x5xf32> {
  // expected-error @+1 {{'onnx.LSTM' op activation 'Gelu' is not one ONNX defines for LSTM cells}}
  %0:2 = onnx.LSTM %x, %w, %r {activations = ["Sigmoid", "Gelu", "Tanh"], operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<2x3x4xf32>, tensor<1x20x4xf32>, tensor<1x20x5xf32>) -> (tensor<2x1x3x5xf32>, tensor<1x3x5xf32>)
  return %0#1 : tensor<1x3x5xf32>
}

// -----

func.func @lstm_weight_rows(%x: tensor<2x3x4xf32>, %w: tensor<1x15x4xf32>, %r: tensor<1x20x5xf32>) -> tensor<1x3x5xf32> {
  // expected-error @+1 {{'onnx.LSTM' op W has 15 at dim 1 where 20 is expected}}
  %0:2 = onnx.LSTM %x, %w, %r {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<2x3x4xf32>, tensor<1x15x4xf32>, tensor<1x20x5xf32>) -> (tensor<2x1x3x5xf32>, tensor<1x3x5xf32>)
  return %0#1 : tensor<1x3x5xf32>
}

// -----

func.func @rnn_lens_type(%x: tensor<2x3x4xf32>, %w: tensor<1x5x4xf32>, %r: tensor<1x5x5xf32>, %lens: tensor<3xi64>) -> tensor<1x3x5xf32> {
  // expected-error @+1 {{'onnx.RNN' op sequence_lens must be int32}}
  %0:2 = onnx.RNN %x, %w, %r, %lens {operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0>} : (tensor<2x3x4xf32>, tensor<1x5x4xf32>, tensor<1x5x5xf32>, tensor<3xi64>) -> (tensor<2x1x3x5xf32>, tensor<1x3x5xf32>)
  return %0#1 : tensor<1x3x5xf32>
}

// -----

func.func @grid_sample_mode(%x: tensor<1x3x5x7xf32>, %g: tensor<1x4x6x2xf32>) -> tensor<1x3x4x6xf32> {
  // expected-error @+1 {{'onnx.GridSample' op mode 'area' is not one of bilinear, nearest, bicubic}}
  %y = onnx.GridSample %x, %g {mode = "area"} : (tensor<1x3x5x7xf32>, tensor<1x4x6x2xf32>) -> tensor<1x3x4x6xf32>
  return %y : tensor<1x3x4x6xf32>
}

// -----

func.func @grid_sample_volume(%x: tensor<1x3x2x5x7xf32>, %g: tensor<1x2x4x6x3xf32>) -> tensor<1x3x2x4x6xf32> {
  // expected-error @+1 {{'onnx.GridSample' op supports 2-D sampling: X must be [N, C, H, W], not rank 5}}
  %y = onnx.GridSample %x, %g : (tensor<1x3x2x5x7xf32>, tensor<1x2x4x6x3xf32>) -> tensor<1x3x2x4x6xf32>
  return %y : tensor<1x3x2x4x6xf32>
}

// -----

func.func @reverse_sequence_axes(%x: tensor<3x4x2xf32>, %lens: tensor<3xi64>) -> tensor<3x4x2xf32> {
  // expected-error @+1 {{'onnx.ReverseSequence' op batch_axis 0 and time_axis 2 must be 0 and 1 in either order}}
  %y = onnx.ReverseSequence %x, %lens {batch_axis = 0 : si64, time_axis = 2 : si64} : (tensor<3x4x2xf32>, tensor<3xi64>) -> tensor<3x4x2xf32>
  return %y : tensor<3x4x2xf32>
}

// -----

func.func @qlinear_matmul_per_row(%a: tensor<2x4xui8>, %as: tensor<2xf32>, %az: tensor<ui8>, %b: tensor<4x3xui8>, %bs: tensor<f32>, %bz: tensor<ui8>, %ys: tensor<f32>, %yz: tensor<ui8>) -> tensor<2x3xui8> {
  // expected-error @+1 {{'onnx.QLinearMatMul' op supports per-tensor scales and output zero point only, not 'tensor<2xf32>'}}
  %y = onnx.QLinearMatMul %a, %as, %az, %b, %bs, %bz, %ys, %yz : (tensor<2x4xui8>, tensor<2xf32>, tensor<ui8>, tensor<4x3xui8>, tensor<f32>, tensor<ui8>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
  return %y : tensor<2x3xui8>
}

// -----

func.func @qlinear_conv_per_channel_input(%x: tensor<1x2x4x4xui8>, %xs: tensor<2xf32>, %xz: tensor<ui8>, %w: tensor<3x2x2x2xi8>, %ws: tensor<3xf32>, %wz: tensor<3xi8>, %ys: tensor<f32>, %yz: tensor<ui8>) -> tensor<1x3x3x3xui8> {
  // expected-error @+1 {{'onnx.QLinearConv' op needs per-tensor input and output scales and zero points, not 'tensor<2xf32>'}}
  %y = onnx.QLinearConv %x, %xs, %xz, %w, %ws, %wz, %ys, %yz : (tensor<1x2x4x4xui8>, tensor<2xf32>, tensor<ui8>, tensor<3x2x2x2xi8>, tensor<3xf32>, tensor<3xi8>, tensor<f32>, tensor<ui8>) -> tensor<1x3x3x3xui8>
  return %y : tensor<1x3x3x3xui8>
}

// -----

func.func @qlinear_conv_weight_scales(%x: tensor<1x2x4x4xui8>, %xs: tensor<f32>, %xz: tensor<ui8>, %w: tensor<3x2x2x2xi8>, %ws: tensor<2xf32>, %wz: tensor<3xi8>, %ys: tensor<f32>, %yz: tensor<ui8>) -> tensor<1x3x3x3xui8> {
  // expected-error @+1 {{'onnx.QLinearConv' op weight scales and zero points must be one value or one per output channel, not 'tensor<2xf32>'}}
  %y = onnx.QLinearConv %x, %xs, %xz, %w, %ws, %wz, %ys, %yz : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>, tensor<3x2x2x2xi8>, tensor<2xf32>, tensor<3xi8>, tensor<f32>, tensor<ui8>) -> tensor<1x3x3x3xui8>
  return %y : tensor<1x3x3x3xui8>
}

// -----

func.func @conv_integer_group(%x: tensor<1x4x4x4xui8>, %w: tensor<3x3x2x2xui8>) -> tensor<1x3x3x3xi32> {
  // expected-error @+1 {{'onnx.ConvInteger' op input channels 4 do not match weight channels 3 x group 1}}
  %y = onnx.ConvInteger %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<1x4x4x4xui8>, tensor<3x3x2x2xui8>) -> tensor<1x3x3x3xi32>
  return %y : tensor<1x3x3x3xi32>
}

// -----

func.func @det_not_square(%x: tensor<2x3xf32>) -> tensor<f32> {
  // expected-error @+1 {{'onnx.Det' op needs square matrices, not 'tensor<2x3xf32>'}}
  %y = onnx.Det %x : (tensor<2x3xf32>) -> tensor<f32>
  return %y : tensor<f32>
}

// -----

func.func @compress_condition_rank(%x: tensor<3x2xf32>, %c: tensor<3x1xi1>) -> tensor<2x2xf32> {
  // expected-error @+1 {{'onnx.Compress' op condition must be 1-D, not 'tensor<3x1xi1>'}}
  %y = onnx.Compress %x, %c {axis = 0 : si64} : (tensor<3x2xf32>, tensor<3x1xi1>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

func.func @compress_axis(%x: tensor<3x2xf32>, %c: tensor<3xi1>) -> tensor<2x2xf32> {
  // expected-error @+1 {{'onnx.Compress' op axis 2 is out of range for 'tensor<3x2xf32>'}}
  %y = onnx.Compress %x, %c {axis = 2 : si64} : (tensor<3x2xf32>, tensor<3xi1>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

func.func @dft_last_dim(%x: tensor<1x8x3xf32>) -> tensor<1x8x2xf32> {
  // expected-error @+1 {{'onnx.DFT' op input must be [batch, signal..., 1 or 2], not 'tensor<1x8x3xf32>'}}
  %y = onnx.DFT %x {operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x8x3xf32>) -> tensor<1x8x2xf32>
  return %y : tensor<1x8x2xf32>
}

// -----

func.func @dft_inverse_onesided(%x: tensor<1x8x2xf32>) -> tensor<1x5x2xf32> {
  // expected-error @+1 {{'onnx.DFT' op inverse and onesided cannot both be set}}
  %y = onnx.DFT %x {inverse = 1 : si64, onesided = 1 : si64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x8x2xf32>) -> tensor<1x5x2xf32>
  return %y : tensor<1x5x2xf32>
}

// -----

func.func @stft_no_length(%x: tensor<1x64x1xf32>, %step: tensor<i64>) -> tensor<1x7x9x2xf32> {
  // expected-error @+1 {{'onnx.STFT' op needs a window or a frame_length}}
  %y = onnx.STFT %x, %step {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<1x64x1xf32>, tensor<i64>) -> tensor<1x7x9x2xf32>
  return %y : tensor<1x7x9x2xf32>
}

// -----

func.func @nms_box_format(%boxes: tensor<1x6x4xf32>, %scores: tensor<1x1x6xf32>) -> tensor<2x3xi64> {
  // expected-error @+1 {{'onnx.NonMaxSuppression' op center_point_box must be 0 or 1, not 2}}
  %y = onnx.NonMaxSuppression %boxes, %scores {center_point_box = 2 : si64, operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>} : (tensor<1x6x4xf32>, tensor<1x1x6xf32>) -> tensor<2x3xi64>
  return %y : tensor<2x3xi64>
}

// -----

func.func @nms_boxes_shape(%boxes: tensor<1x6x5xf32>, %scores: tensor<1x1x6xf32>) -> tensor<2x3xi64> {
  // expected-error @+1 {{'onnx.NonMaxSuppression' op boxes must be [batches, boxes, 4], not 'tensor<1x6x5xf32>'}}
  %y = onnx.NonMaxSuppression %boxes, %scores {operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>} : (tensor<1x6x5xf32>, tensor<1x1x6xf32>) -> tensor<2x3xi64>
  return %y : tensor<2x3xi64>
}

// -----

func.func @roi_align_mode(%x: tensor<1x3x12x12xf32>, %rois: tensor<2x4xf32>, %idx: tensor<2xi64>) -> tensor<2x3x2x2xf32> {
  // expected-error @+1 {{'onnx.RoiAlign' op mode must be avg or max, not 'min'}}
  %y = onnx.RoiAlign %x, %rois, %idx {mode = "min", output_height = 2 : si64, output_width = 2 : si64} : (tensor<1x3x12x12xf32>, tensor<2x4xf32>, tensor<2xi64>) -> tensor<2x3x2x2xf32>
  return %y : tensor<2x3x2x2xf32>
}

// -----

func.func @roi_align_sampling(%x: tensor<1x3x12x12xf32>, %rois: tensor<2x4xf32>, %idx: tensor<2xi64>) -> tensor<2x3x2x2xf32> {
  // expected-error @+1 {{'onnx.RoiAlign' op output_height and output_width must be at least 1 and sampling_ratio in [0, 1024]}}
  %y = onnx.RoiAlign %x, %rois, %idx {sampling_ratio = 100000 : si64, output_height = 2 : si64, output_width = 2 : si64} : (tensor<1x3x12x12xf32>, tensor<2x4xf32>, tensor<2xi64>) -> tensor<2x3x2x2xf32>
  return %y : tensor<2x3x2x2xf32>
}
