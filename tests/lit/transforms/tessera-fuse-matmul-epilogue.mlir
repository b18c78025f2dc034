// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-fuse-matmul-epilogue))' | FileCheck %s
// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-fuse-matmul-epilogue{report=true}))' -verify-diagnostics > /dev/null

// MatMul + bias + Relu: one tessera.matmul.
// CHECK-LABEL: func.func @bias_relu
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x16xf32>, %[[B:.*]]: tensor<32xf32>)
// CHECK: %[[W:.*]] = onnx.Constant
// CHECK: %[[Y:.*]] = tessera.matmul %[[X]], %[[W]], %[[B]] {activation = "relu"} : (tensor<2x8x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
// CHECK-NOT: onnx.
// CHECK: return %[[Y]]
func.func @bias_relu(%x: tensor<2x8x16xf32>, %b: tensor<32xf32>) -> tensor<2x8x32xf32> {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x32xf32>} : tensor<16x32xf32>
  // expected-remark @+1 {{fused tessera.matmul}}
  %0 = onnx.MatMul %x, %w : (tensor<2x8x16xf32>, tensor<16x32xf32>) -> tensor<2x8x32xf32>
  %1 = onnx.Add %0, %b : (tensor<2x8x32xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
  %2 = onnx.Relu %1 : (tensor<2x8x32xf32>) -> tensor<2x8x32xf32>
  return %2 : tensor<2x8x32xf32>
}

// -----

// The bias as the Add's first operand; GELU without approximation (erf).
// CHECK-LABEL: func.func @bias_first_gelu_erf
// CHECK: tessera.matmul %arg0, %{{.*}}, %arg1 {activation = "gelu_erf"} : (tensor<8x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
// CHECK-NOT: onnx.Gelu
func.func @bias_first_gelu_erf(%x: tensor<8x16xf32>, %b: tensor<32xf32>) -> tensor<8x32xf32> {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x32xf32>} : tensor<16x32xf32>
  // expected-remark @+1 {{fused tessera.matmul}}
  %0 = onnx.MatMul %x, %w : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  %1 = onnx.Add %b, %0 : (tensor<32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  %2 = onnx.Gelu %1 : (tensor<8x32xf32>) -> tensor<8x32xf32>
  return %2 : tensor<8x32xf32>
}

// -----

// GELU with the tanh approximation; the export's dynamic batch stays in the
// result type.
// CHECK-LABEL: func.func @gelu_tanh
// CHECK: tessera.matmul %arg0, %{{.*}}, %arg1 {activation = "gelu_tanh"} : (tensor<?x4x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<?x4x32xf32>
// CHECK-NOT: onnx.Gelu
func.func @gelu_tanh(%x: tensor<?x4x16xf32>, %b: tensor<32xf32>) -> tensor<?x4x32xf32> {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x32xf32>} : tensor<16x32xf32>
  // expected-remark @+1 {{fused tessera.matmul}}
  %0 = onnx.MatMul %x, %w : (tensor<?x4x16xf32>, tensor<16x32xf32>) -> tensor<?x4x32xf32>
  %1 = onnx.Add %0, %b : (tensor<?x4x32xf32>, tensor<32xf32>) -> tensor<?x4x32xf32>
  %2 = onnx.Gelu %1 {approximate = "tanh"} : (tensor<?x4x32xf32>) -> tensor<?x4x32xf32>
  return %2 : tensor<?x4x32xf32>
}

// -----

// Bias only: the residual Add after it is not part of the epilogue.
// CHECK-LABEL: func.func @bias_then_residual
// CHECK: %[[Y:.*]] = tessera.matmul %arg0, %{{.*}}, %arg1 :
// CHECK: onnx.Add %[[Y]], %arg0
func.func @bias_then_residual(%x: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x16xf32>} : tensor<16x16xf32>
  // expected-remark @+1 {{fused tessera.matmul}}
  %0 = onnx.MatMul %x, %w : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %1 = onnx.Add %0, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %2 = onnx.Add %1, %x : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}

// -----

// The pre-activation value is used elsewhere: the bias fuses, the Relu stays.
// CHECK-LABEL: func.func @preactivation_used
// CHECK: %[[Y:.*]] = tessera.matmul %arg0, %{{.*}}, %arg1 :
// CHECK: %[[R:.*]] = onnx.Relu %[[Y]]
// CHECK: return %[[R]], %[[Y]]
func.func @preactivation_used(%x: tensor<8x16xf32>, %b: tensor<32xf32>) -> (tensor<8x32xf32>, tensor<8x32xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x32xf32>} : tensor<16x32xf32>
  // expected-remark @+1 {{fused tessera.matmul}}
  %0 = onnx.MatMul %x, %w : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  %1 = onnx.Add %0, %b : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %2 = onnx.Relu %1 : (tensor<8x32xf32>) -> tensor<8x32xf32>
  return %2, %1 : tensor<8x32xf32>, tensor<8x32xf32>
}

// -----

// Gemm with transB: the weight is transposed at compile time.
// CHECK-LABEL: func.func @gemm_trans_b
// CHECK: %[[W:.*]] = onnx.Constant {value = dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>} : tensor<3x2xf32>
// CHECK: tessera.matmul %arg0, %[[W]], %arg1 {activation = "relu"} : (tensor<4x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
// CHECK-NOT: onnx.Gemm
// CHECK-NOT: onnx.Relu
func.func @gemm_trans_b(%x: tensor<4x3xf32>, %b: tensor<2xf32>) -> tensor<4x2xf32> {
  %w = onnx.Constant {value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>} : tensor<2x3xf32>
  // expected-remark @+1 {{fused tessera.matmul}}
  %0 = onnx.Gemm %x, %w, %b {transB = 1 : si64} : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %1 = onnx.Relu %0 : (tensor<4x2xf32>) -> tensor<4x2xf32>
  return %1 : tensor<4x2xf32>
}

// -----

// The same in float16: the transposed weight stays float16.
// CHECK-LABEL: func.func @gemm_trans_b_f16
// CHECK: %[[W:.*]] = onnx.Constant {value = dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf16>} : tensor<3x2xf16>
// CHECK: tessera.matmul %arg0, %[[W]], %arg1 {activation = "relu"} : (tensor<4x3xf16>, tensor<3x2xf16>, tensor<2xf16>) -> tensor<4x2xf16>
// CHECK-NOT: onnx.Gemm
// CHECK-NOT: onnx.Relu
func.func @gemm_trans_b_f16(%x: tensor<4x3xf16>, %b: tensor<2xf16>) -> tensor<4x2xf16> {
  %w = onnx.Constant {value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf16>} : tensor<2x3xf16>
  // expected-remark @+1 {{fused tessera.matmul}}
  %0 = onnx.Gemm %x, %w, %b {transB = 1 : si64} : (tensor<4x3xf16>, tensor<2x3xf16>, tensor<2xf16>) -> tensor<4x2xf16>
  %1 = onnx.Relu %0 : (tensor<4x2xf16>) -> tensor<4x2xf16>
  return %1 : tensor<4x2xf16>
}

// -----

// nn.MultiheadAttention's cross-attention query projection: the weight is a
// Transpose of a Slice of in_proj_weight, computed at compile time (rows 2-3
// of W, transposed), so it is packed like any weight, not transposed per run.
// CHECK-LABEL: func.func @sliced_transposed_weight
// CHECK: %[[W:.*]] = onnx.Constant {value = dense<{{\[}}[5.000000e+00, 7.000000e+00], [6.000000e+00, 8.000000e+00]]> : tensor<2x2xf32>} : tensor<2x2xf32>
// CHECK: tessera.matmul %arg0, %[[W]], %{{.*}} : (tensor<4x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
// CHECK-NOT: onnx.Transpose
// CHECK-NOT: onnx.MatMul
func.func @sliced_transposed_weight(%x: tensor<4x2xf32>, %b: tensor<6xf32>) -> tensor<4x2xf32> {
  %w = onnx.Constant {value = dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 10.0], [11.0, 12.0]]> : tensor<6x2xf32>} : tensor<6x2xf32>
  %starts = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %ends = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %axes = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %ws = onnx.Slice %w, %starts, %ends, %axes {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<6x2xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x2xf32>
  %bs = onnx.Slice %b, %starts, %ends, %axes {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xf32>
  %wt = onnx.Transpose %ws {perm = [1, 0]} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  // expected-remark @+1 {{fused tessera.matmul}}
  %0 = onnx.MatMul %x, %wt : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %1 = onnx.Add %bs, %0 : (tensor<2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>
  return %1 : tensor<4x2xf32>
}

// -----

// Negative (near miss): the same Transpose of a Slice, but of an input, not
// a constant: not a candidate, left unfused.
// CHECK-LABEL: func.func @transposed_input_weight
// CHECK-NOT: tessera.matmul
// CHECK: onnx.Transpose
// CHECK: onnx.MatMul
func.func @transposed_input_weight(%x: tensor<4x2xf32>, %w: tensor<6x2xf32>, %b: tensor<2xf32>) -> tensor<4x2xf32> {
  %starts = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %ends = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %axes = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %ws = onnx.Slice %w, %starts, %ends, %axes {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<6x2xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x2xf32>
  %wt = onnx.Transpose %ws {perm = [1, 0]} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %0 = onnx.MatMul %x, %wt : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %1 = onnx.Add %0, %b : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  return %1 : tensor<4x2xf32>
}

// -----

// Gemm without transB, no activation.
// CHECK-LABEL: func.func @gemm_plain
// CHECK: tessera.matmul %arg0, %{{.*}}, %arg1 : (tensor<4x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
func.func @gemm_plain(%x: tensor<4x3xf32>, %b: tensor<2xf32>) -> tensor<4x2xf32> {
  %w = onnx.Constant {value = dense<1.0> : tensor<3x2xf32>} : tensor<3x2xf32>
  // expected-remark @+1 {{fused tessera.matmul}}
  %0 = onnx.Gemm %x, %w, %b : (tensor<4x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// Negative: the MatMul result has another use.
// CHECK-LABEL: func.func @matmul_other_uses
// CHECK-NOT: tessera.matmul
// CHECK: onnx.MatMul
// CHECK: onnx.Add
func.func @matmul_other_uses(%x: tensor<8x16xf32>, %b: tensor<32xf32>) -> (tensor<8x32xf32>, tensor<8x32xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x32xf32>} : tensor<16x32xf32>
  // expected-remark @+1 {{not fused tessera.matmul: the MatMul result has other uses}}
  %0 = onnx.MatMul %x, %w : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  %1 = onnx.Add %0, %b : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  return %1, %0 : tensor<8x32xf32>, tensor<8x32xf32>
}

// -----

// Negative: the added tensor is not a [N] bias (a residual, and a [1, N]
// tensor), so nothing fuses. The residual Add is not even a candidate (no
// remark: a residual is not a failed bias fusion).
// CHECK-LABEL: func.func @not_a_bias
// CHECK-NOT: tessera.matmul
func.func @not_a_bias(%x: tensor<8x16xf32>, %r: tensor<8x16xf32>, %b: tensor<1x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x16xf32>} : tensor<16x16xf32>
  %0 = onnx.MatMul %x, %w : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %1 = onnx.Add %0, %r : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  // expected-remark @+1 {{not fused tessera.matmul: the bias is not a [16] vector broadcast along the last axis}}
  %2 = onnx.MatMul %x, %w : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %3 = onnx.Add %2, %b : (tensor<8x16xf32>, tensor<1x16xf32>) -> tensor<8x16xf32>
  return %1, %3 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Negative: a 1-D A, and a Gemm with alpha != 1.
// CHECK-LABEL: func.func @rank1_and_alpha
// CHECK-NOT: tessera.matmul
func.func @rank1_and_alpha(%v: tensor<16xf32>, %x: tensor<4x16xf32>, %b: tensor<32xf32>) -> (tensor<32xf32>, tensor<4x32xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x32xf32>} : tensor<16x32xf32>
  // expected-remark @+1 {{not fused tessera.matmul: A has rank 1, not 2 or more}}
  %0 = onnx.MatMul %v, %w : (tensor<16xf32>, tensor<16x32xf32>) -> tensor<32xf32>
  %1 = onnx.Add %0, %b : (tensor<32xf32>, tensor<32xf32>) -> tensor<32xf32>
  // expected-remark @+1 {{not fused tessera.matmul: alpha or beta is not 1}}
  %2 = onnx.Gemm %x, %w, %b {alpha = 2.0 : f32} : (tensor<4x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
  return %1, %2 : tensor<32xf32>, tensor<4x32xf32>
}

// -----

// Not candidates (no remark): a weight that is not a constant, and a MatMul
// with a constant weight but no Add after it.
// CHECK-LABEL: func.func @not_candidates
// CHECK-NOT: tessera.matmul
func.func @not_candidates(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %b: tensor<32xf32>) -> (tensor<8x32xf32>, tensor<8x32xf32>) {
  %c = onnx.Constant {value = dense<0.5> : tensor<16x32xf32>} : tensor<16x32xf32>
  %0 = onnx.MatMul %x, %w : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  %1 = onnx.Add %0, %b : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %2 = onnx.MatMul %x, %c : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  %3 = onnx.Relu %2 : (tensor<8x32xf32>) -> tensor<8x32xf32>
  return %1, %3 : tensor<8x32xf32>, tensor<8x32xf32>
}

// -----

// An activation whose result is unranked is left out of the epilogue; the
// bias still fuses.
// CHECK-LABEL: func.func @unranked_activation
// CHECK: %[[Y:.*]] = tessera.matmul %arg0, %{{.*}}, %arg1 :
// CHECK: onnx.Relu %[[Y]]
func.func @unranked_activation(%x: tensor<8x16xf32>, %b: tensor<32xf32>) -> tensor<*xf32> {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x32xf32>} : tensor<16x32xf32>
  // expected-remark @+1 {{fused tessera.matmul}}
  %0 = onnx.MatMul %x, %w : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  %1 = onnx.Add %0, %b : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %2 = onnx.Relu %1 : (tensor<8x32xf32>) -> tensor<*xf32>
  return %2 : tensor<*xf32>
}
