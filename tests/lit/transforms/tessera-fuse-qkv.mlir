// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-fuse-qkv))' | FileCheck %s
// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-fuse-qkv{report=true}))' -verify-diagnostics -o /dev/null

// Three projections of one input with constant weights and biases (the bias
// Add in either operand order), each head-split batch-first: one packed
// projection, weights and biases concatenated in Q, K, V order.
// CHECK-LABEL: func.func @qkv_three_matmuls
// CHECK-DAG: %[[W:.*]] = onnx.Constant {value = dense<{{\[\[}}1.000000e+00, 2.000000e+00, 5.000000e+00, 6.000000e+00, 9.000000e+00, 1.000000e+01], [3.000000e+00, 4.000000e+00, 7.000000e+00, 8.000000e+00, 1.100000e+01, 1.200000e+01]]> : tensor<2x6xf32>}
// CHECK-DAG: %[[B:.*]] = onnx.Constant {value = dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01, 5.000000e-01, 6.000000e-01]> : tensor<6xf32>}
// CHECK: %[[P:.*]]:3 = tessera.qkv_projection %arg0, %[[W]] bias %[[B]] {num_heads = 1 : i64} : (tensor<2x3x2xf32>, tensor<2x6xf32>, tensor<6xf32>) -> (tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>)
// CHECK-NOT: onnx.MatMul
// CHECK-NOT: onnx.Reshape
// CHECK-NOT: onnx.Transpose
// CHECK: return %[[P]]#0, %[[P]]#1, %[[P]]#2
func.func @qkv_three_matmuls(%x: tensor<2x3x2xf32>) -> (tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>) {
  %wq = onnx.Constant {value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %wk = onnx.Constant {value = dense<[[5.0, 6.0], [7.0, 8.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %wv = onnx.Constant {value = dense<[[9.0, 10.0], [11.0, 12.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %bq = onnx.Constant {value = dense<[0.1, 0.2]> : tensor<2xf32>} : tensor<2xf32>
  %bk = onnx.Constant {value = dense<[0.3, 0.4]> : tensor<2xf32>} : tensor<2xf32>
  %bv = onnx.Constant {value = dense<[0.5, 0.6]> : tensor<2xf32>} : tensor<2xf32>
  %shape = onnx.Constant {value = dense<[2, 3, 1, 2]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %q0 = onnx.MatMul %x, %wq : (tensor<2x3x2xf32>, tensor<2x2xf32>) -> tensor<2x3x2xf32>
  %q1 = onnx.Add %q0, %bq : (tensor<2x3x2xf32>, tensor<2xf32>) -> tensor<2x3x2xf32>
  %q2 = onnx.Reshape %q1, %shape : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %q = onnx.Transpose %q2 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  %k0 = onnx.MatMul %x, %wk : (tensor<2x3x2xf32>, tensor<2x2xf32>) -> tensor<2x3x2xf32>
  %k1 = onnx.Add %bk, %k0 : (tensor<2xf32>, tensor<2x3x2xf32>) -> tensor<2x3x2xf32>
  %k2 = onnx.Reshape %k1, %shape : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %k = onnx.Transpose %k2 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  %v0 = onnx.MatMul %x, %wv : (tensor<2x3x2xf32>, tensor<2x2xf32>) -> tensor<2x3x2xf32>
  %v1 = onnx.Add %v0, %bv : (tensor<2x3x2xf32>, tensor<2xf32>) -> tensor<2x3x2xf32>
  %v2 = onnx.Reshape %v1, %shape : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %v = onnx.Transpose %v2 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  return %q, %k, %v : tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>
}

// -----

// The same in float16: the packed weight and bias stay float16 (the
// lowering widens them at compile time).
// CHECK-LABEL: func.func @qkv_three_matmuls_f16
// CHECK-DAG: %[[W:.*]] = onnx.Constant {value = dense<{{\[\[}}1.000000e+00, 2.000000e+00, 5.000000e+00, 6.000000e+00, 9.000000e+00, 1.000000e+01], [3.000000e+00, 4.000000e+00, 7.000000e+00, 8.000000e+00, 1.100000e+01, 1.200000e+01]]> : tensor<2x6xf16>}
// CHECK-DAG: %[[B:.*]] = onnx.Constant {value = dense<[5.000000e-01, 2.500000e-01, 1.500000e+00, 2.000000e+00, 7.500000e-01, 1.250000e+00]> : tensor<6xf16>}
// CHECK: %[[P:.*]]:3 = tessera.qkv_projection %arg0, %[[W]] bias %[[B]] {num_heads = 1 : i64} : (tensor<2x3x2xf16>, tensor<2x6xf16>, tensor<6xf16>) -> (tensor<2x1x3x2xf16>, tensor<2x1x3x2xf16>, tensor<2x1x3x2xf16>)
// CHECK-NOT: onnx.MatMul
// CHECK-NOT: onnx.Reshape
// CHECK-NOT: onnx.Transpose
// CHECK: return %[[P]]#0, %[[P]]#1, %[[P]]#2
func.func @qkv_three_matmuls_f16(%x: tensor<2x3x2xf16>) -> (tensor<2x1x3x2xf16>, tensor<2x1x3x2xf16>, tensor<2x1x3x2xf16>) {
  %wq = onnx.Constant {value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf16>} : tensor<2x2xf16>
  %wk = onnx.Constant {value = dense<[[5.0, 6.0], [7.0, 8.0]]> : tensor<2x2xf16>} : tensor<2x2xf16>
  %wv = onnx.Constant {value = dense<[[9.0, 10.0], [11.0, 12.0]]> : tensor<2x2xf16>} : tensor<2x2xf16>
  %bq = onnx.Constant {value = dense<[0.5, 0.25]> : tensor<2xf16>} : tensor<2xf16>
  %bk = onnx.Constant {value = dense<[1.5, 2.0]> : tensor<2xf16>} : tensor<2xf16>
  %bv = onnx.Constant {value = dense<[0.75, 1.25]> : tensor<2xf16>} : tensor<2xf16>
  %shape = onnx.Constant {value = dense<[2, 3, 1, 2]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %q0 = onnx.MatMul %x, %wq : (tensor<2x3x2xf16>, tensor<2x2xf16>) -> tensor<2x3x2xf16>
  %q1 = onnx.Add %q0, %bq : (tensor<2x3x2xf16>, tensor<2xf16>) -> tensor<2x3x2xf16>
  %q2 = onnx.Reshape %q1, %shape : (tensor<2x3x2xf16>, tensor<4xi64>) -> tensor<2x3x1x2xf16>
  %q = onnx.Transpose %q2 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf16>) -> tensor<2x1x3x2xf16>
  %k0 = onnx.MatMul %x, %wk : (tensor<2x3x2xf16>, tensor<2x2xf16>) -> tensor<2x3x2xf16>
  %k1 = onnx.Add %bk, %k0 : (tensor<2xf16>, tensor<2x3x2xf16>) -> tensor<2x3x2xf16>
  %k2 = onnx.Reshape %k1, %shape : (tensor<2x3x2xf16>, tensor<4xi64>) -> tensor<2x3x1x2xf16>
  %k = onnx.Transpose %k2 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf16>) -> tensor<2x1x3x2xf16>
  %v0 = onnx.MatMul %x, %wv : (tensor<2x3x2xf16>, tensor<2x2xf16>) -> tensor<2x3x2xf16>
  %v1 = onnx.Add %v0, %bv : (tensor<2x3x2xf16>, tensor<2xf16>) -> tensor<2x3x2xf16>
  %v2 = onnx.Reshape %v1, %shape : (tensor<2x3x2xf16>, tensor<4xi64>) -> tensor<2x3x1x2xf16>
  %v = onnx.Transpose %v2 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf16>) -> tensor<2x1x3x2xf16>
  return %q, %k, %v : tensor<2x1x3x2xf16>, tensor<2x1x3x2xf16>, tensor<2x1x3x2xf16>
}

// -----

// BERT's export: K is Transposed straight to K^T [0, 2, 3, 1]; it becomes
// an explicit transpose of the fused K. No biases: no bias operand.
// CHECK-LABEL: func.func @qkv_k_transposed
// CHECK: %[[P:.*]]:3 = tessera.qkv_projection %arg0, %{{.*}} {num_heads = 2 : i64} : (tensor<2x3x8xf32>, tensor<8x24xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>)
// CHECK: %[[KT:.*]] = onnx.Transpose %[[P]]#1 {perm = [0, 1, 3, 2]} : (tensor<2x2x3x4xf32>) -> tensor<2x2x4x3xf32>
// CHECK: onnx.MatMul %[[P]]#0, %[[KT]]
// CHECK-NOT: onnx.Reshape
// CHECK: return %{{.*}}, %[[P]]#2
func.func @qkv_k_transposed(%x: tensor<2x3x8xf32>) -> (tensor<2x2x3x3xf32>, tensor<2x2x3x4xf32>) {
  %wq = onnx.Constant {value = dense<1.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %wk = onnx.Constant {value = dense<2.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %wv = onnx.Constant {value = dense<3.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %shape = onnx.Constant {value = dense<[2, 3, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %q0 = onnx.MatMul %x, %wq : (tensor<2x3x8xf32>, tensor<8x8xf32>) -> tensor<2x3x8xf32>
  %q1 = onnx.Reshape %q0, %shape : (tensor<2x3x8xf32>, tensor<4xi64>) -> tensor<2x3x2x4xf32>
  %q = onnx.Transpose %q1 {perm = [0, 2, 1, 3]} : (tensor<2x3x2x4xf32>) -> tensor<2x2x3x4xf32>
  %k0 = onnx.MatMul %x, %wk : (tensor<2x3x8xf32>, tensor<8x8xf32>) -> tensor<2x3x8xf32>
  %k1 = onnx.Reshape %k0, %shape : (tensor<2x3x8xf32>, tensor<4xi64>) -> tensor<2x3x2x4xf32>
  %v0 = onnx.MatMul %x, %wv : (tensor<2x3x8xf32>, tensor<8x8xf32>) -> tensor<2x3x8xf32>
  %v1 = onnx.Reshape %v0, %shape : (tensor<2x3x8xf32>, tensor<4xi64>) -> tensor<2x3x2x4xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<2x3x2x4xf32>) -> tensor<2x2x3x4xf32>
  %kt = onnx.Transpose %k1 {perm = [0, 2, 3, 1]} : (tensor<2x3x2x4xf32>) -> tensor<2x2x4x3xf32>
  %s = onnx.MatMul %q, %kt : (tensor<2x2x3x4xf32>, tensor<2x2x4x3xf32>) -> tensor<2x2x3x3xf32>
  return %s, %v : tensor<2x2x3x3xf32>, tensor<2x2x3x4xf32>
}

// -----

// GPT-2's c_attn: one packed MatMul + bias, Split into Q, K, V. The head-split
// Reshape of K also feeds another op (a `present` output): it becomes a
// Transpose of the fused K back to [B, S, H, Dh].
// CHECK-LABEL: func.func @packed_split
// CHECK-DAG: %[[W:.*]] = onnx.Constant {value = dense<{{\[\[}}0.000000e+00, 1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00], [6.000000e+00, 7.000000e+00, 8.000000e+00, 9.000000e+00, 1.000000e+01, 1.100000e+01]]> : tensor<2x6xf32>}
// CHECK-DAG: %[[B:.*]] = onnx.Constant {value = dense<[0.000000e+00, 1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00]> : tensor<6xf32>}
// CHECK: %[[P:.*]]:3 = tessera.qkv_projection %arg0, %[[W]] bias %[[B]] {num_heads = 1 : i64}
// CHECK: %[[PRESENT:.*]] = onnx.Transpose %[[P]]#1 {perm = [0, 2, 1, 3]} : (tensor<2x1x3x2xf32>) -> tensor<2x3x1x2xf32>
// CHECK-NOT: onnx.Split
// CHECK-NOT: onnx.MatMul
// CHECK: return %[[P]]#0, %[[P]]#1, %[[P]]#2, %[[PRESENT]]
func.func @packed_split(%x: tensor<2x3x2xf32>) -> (tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>, tensor<2x3x1x2xf32>) {
  %w = onnx.Constant {value = dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]]> : tensor<2x6xf32>} : tensor<2x6xf32>
  %b = onnx.Constant {value = dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]> : tensor<6xf32>} : tensor<6xf32>
  %sizes = onnx.Constant {value = dense<2> : tensor<3xi64>} : tensor<3xi64>
  %shape = onnx.Constant {value = dense<[2, 3, 1, 2]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %p0 = onnx.MatMul %x, %w : (tensor<2x3x2xf32>, tensor<2x6xf32>) -> tensor<2x3x6xf32>
  %p = onnx.Add %p0, %b : (tensor<2x3x6xf32>, tensor<6xf32>) -> tensor<2x3x6xf32>
  %s:3 = onnx.Split %p, %sizes {axis = 2 : si64} : (tensor<2x3x6xf32>, tensor<3xi64>) -> (tensor<2x3x2xf32>, tensor<2x3x2xf32>, tensor<2x3x2xf32>)
  %q1 = onnx.Reshape %s#0, %shape : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %q = onnx.Transpose %q1 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  %k1 = onnx.Reshape %s#1, %shape : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  %v1 = onnx.Reshape %s#2, %shape : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  return %q, %k, %v, %k1 : tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>, tensor<2x3x1x2xf32>
}

// -----

// nn.MultiheadAttention's in_proj: X is the seq-first Transpose of the
// batch-first hidden state, one packed MatMul + bias, three Slices, head
// split [S, B, H, Dh] -> [B, H, S, Dh]. The fused op reads the batch-first
// tensor directly.
// CHECK-LABEL: func.func @packed_slices_seq_first
// CHECK: %[[P:.*]]:3 = tessera.qkv_projection %arg0, %{{.*}} bias %{{.*}} {num_heads = 2 : i64} : (tensor<2x3x8xf32>, tensor<8x24xf32>, tensor<24xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>)
// CHECK-NOT: onnx.Slice
// CHECK-NOT: onnx.Transpose
// CHECK: return %[[P]]#0, %[[P]]#1, %[[P]]#2
func.func @packed_slices_seq_first(%h: tensor<2x3x8xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x24xf32>} : tensor<8x24xf32>
  %b = onnx.Constant {value = dense<0.25> : tensor<24xf32>} : tensor<24xf32>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c8 = onnx.Constant {value = dense<8> : tensor<1xi64>} : tensor<1xi64>
  %c16 = onnx.Constant {value = dense<16> : tensor<1xi64>} : tensor<1xi64>
  %c24 = onnx.Constant {value = dense<24> : tensor<1xi64>} : tensor<1xi64>
  %ax = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %shape = onnx.Constant {value = dense<[3, 2, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  %x = onnx.Transpose %h {perm = [1, 0, 2]} : (tensor<2x3x8xf32>) -> tensor<3x2x8xf32>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %p0 = onnx.MatMul %x, %w : (tensor<3x2x8xf32>, tensor<8x24xf32>) -> tensor<3x2x24xf32>
  %p = onnx.Add %p0, %b : (tensor<3x2x24xf32>, tensor<24xf32>) -> tensor<3x2x24xf32>
  %sq = onnx.Slice %p, %c0, %c8, %ax {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<3x2x24xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x2x8xf32>
  %sk = onnx.Slice %p, %c8, %c16, %ax {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<3x2x24xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x2x8xf32>
  %sv = onnx.Slice %p, %c16, %c24, %ax {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<3x2x24xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x2x8xf32>
  %q1 = onnx.Reshape %sq, %shape : (tensor<3x2x8xf32>, tensor<4xi64>) -> tensor<3x2x2x4xf32>
  %q = onnx.Transpose %q1 {perm = [1, 2, 0, 3]} : (tensor<3x2x2x4xf32>) -> tensor<2x2x3x4xf32>
  %k1 = onnx.Reshape %sk, %shape : (tensor<3x2x8xf32>, tensor<4xi64>) -> tensor<3x2x2x4xf32>
  %k = onnx.Transpose %k1 {perm = [1, 2, 0, 3]} : (tensor<3x2x2x4xf32>) -> tensor<2x2x3x4xf32>
  %v1 = onnx.Reshape %sv, %shape : (tensor<3x2x8xf32>, tensor<4xi64>) -> tensor<3x2x2x4xf32>
  %v = onnx.Transpose %v1 {perm = [1, 2, 0, 3]} : (tensor<3x2x2x4xf32>) -> tensor<2x2x3x4xf32>
  return %q, %k, %v : tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>
}

// -----

// Seq-first input that is not a Transpose: the op keeps it with seq_first.
// CHECK-LABEL: func.func @seq_first_input
// CHECK: %[[P:.*]]:3 = tessera.qkv_projection %arg0, %{{.*}} {num_heads = 2 : i64, seq_first = true} : (tensor<3x2x8xf32>, tensor<8x24xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>)
// CHECK: return %[[P]]#0, %[[P]]#1, %[[P]]#2
func.func @seq_first_input(%x: tensor<3x2x8xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x24xf32>} : tensor<8x24xf32>
  %sizes = onnx.Constant {value = dense<8> : tensor<3xi64>} : tensor<3xi64>
  %shape = onnx.Constant {value = dense<[3, 2, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %p = onnx.MatMul %x, %w : (tensor<3x2x8xf32>, tensor<8x24xf32>) -> tensor<3x2x24xf32>
  %s:3 = onnx.Split %p, %sizes {axis = -1 : si64} : (tensor<3x2x24xf32>, tensor<3xi64>) -> (tensor<3x2x8xf32>, tensor<3x2x8xf32>, tensor<3x2x8xf32>)
  %q1 = onnx.Reshape %s#0, %shape : (tensor<3x2x8xf32>, tensor<4xi64>) -> tensor<3x2x2x4xf32>
  %q = onnx.Transpose %q1 {perm = [1, 2, 0, 3]} : (tensor<3x2x2x4xf32>) -> tensor<2x2x3x4xf32>
  %k1 = onnx.Reshape %s#1, %shape : (tensor<3x2x8xf32>, tensor<4xi64>) -> tensor<3x2x2x4xf32>
  %k = onnx.Transpose %k1 {perm = [1, 2, 0, 3]} : (tensor<3x2x2x4xf32>) -> tensor<2x2x3x4xf32>
  %v1 = onnx.Reshape %s#2, %shape : (tensor<3x2x8xf32>, tensor<4xi64>) -> tensor<3x2x2x4xf32>
  %v = onnx.Transpose %v1 {perm = [1, 2, 0, 3]} : (tensor<3x2x2x4xf32>) -> tensor<2x2x3x4xf32>
  return %q, %k, %v : tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>
}

// -----

// nn.Transformer's cross-attention: Q projects the decoder state (stays a
// MatMul); K and V project the memory through one packed MatMul whose weight
// is Transpose(Slice(in_proj_weight)): evaluated at compile time, two results.
// CHECK-LABEL: func.func @cross_attention_kv
// CHECK: onnx.MatMul %arg0
// CHECK: %[[P:.*]]:2 = tessera.qkv_projection %arg1, %{{.*}} bias %{{.*}} {num_heads = 1 : i64} : (tensor<2x3x2xf32>, tensor<2x4xf32>, tensor<4xf32>) -> (tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>)
// CHECK-NOT: onnx.Slice
// CHECK: return %{{.*}}, %[[P]]#0, %[[P]]#1
func.func @cross_attention_kv(%t: tensor<2x3x2xf32>, %m: tensor<2x3x2xf32>) -> (tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>) {
  %in_w = onnx.Constant {value = dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 10.0], [11.0, 12.0]]> : tensor<6x2xf32>} : tensor<6x2xf32>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c2 = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %c4 = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %c6 = onnx.Constant {value = dense<6> : tensor<1xi64>} : tensor<1xi64>
  %ax2 = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %bq = onnx.Constant {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %bkv = onnx.Constant {value = dense<[3.0, 4.0, 5.0, 6.0]> : tensor<4xf32>} : tensor<4xf32>
  %shape = onnx.Constant {value = dense<[2, 3, 1, 2]> : tensor<4xi64>} : tensor<4xi64>
  %wq0 = onnx.Slice %in_w, %c0, %c2, %c0 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<6x2xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x2xf32>
  %wq = onnx.Transpose %wq0 {perm = [1, 0]} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %wkv0 = onnx.Slice %in_w, %c2, %c6, %c0 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<6x2xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x2xf32>
  %wkv = onnx.Transpose %wkv0 {perm = [1, 0]} : (tensor<4x2xf32>) -> tensor<2x4xf32>
  %q0 = onnx.MatMul %t, %wq : (tensor<2x3x2xf32>, tensor<2x2xf32>) -> tensor<2x3x2xf32>
  %q1 = onnx.Add %q0, %bq : (tensor<2x3x2xf32>, tensor<2xf32>) -> tensor<2x3x2xf32>
  %q2 = onnx.Reshape %q1, %shape : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %q = onnx.Transpose %q2 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %kv0 = onnx.MatMul %m, %wkv : (tensor<2x3x2xf32>, tensor<2x4xf32>) -> tensor<2x3x4xf32>
  %kv = onnx.Add %kv0, %bkv : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %sk = onnx.Slice %kv, %c0, %c2, %ax2 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<2x3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x3x2xf32>
  %sv = onnx.Slice %kv, %c2, %c4, %ax2 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<2x3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x3x2xf32>
  %k1 = onnx.Reshape %sk, %shape : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  %v1 = onnx.Reshape %sv, %shape : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  return %q, %k, %v : tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>
}

// -----

// The evaluated cross-attention weight: rows 2..5 of in_proj_weight,
// transposed.
// CHECK-LABEL: func.func @cross_attention_kv_weight
// CHECK: %[[W:.*]] = onnx.Constant {value = dense<{{\[\[}}5.000000e+00, 9.000000e+00, 1.300000e+01, 1.700000e+01], [6.000000e+00, 1.000000e+01, 1.400000e+01, 1.800000e+01]]> : tensor<2x4xf32>}
// CHECK: tessera.qkv_projection %arg0, %[[W]] {num_heads = 1 : i64}
func.func @cross_attention_kv_weight(%m: tensor<2x3x2xf32>) -> (tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>) {
  %in_w = onnx.Constant {value = dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [9.0, 10.0], [13.0, 14.0], [17.0, 18.0]]> : tensor<6x2xf32>} : tensor<6x2xf32>
  %c2 = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c4 = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %big = onnx.Constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %ax2 = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %shape = onnx.Constant {value = dense<[2, 3, 1, 2]> : tensor<4xi64>} : tensor<4xi64>
  %wkv0 = onnx.Slice %in_w, %c2, %big {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<6x2xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x2xf32>
  %wkv = onnx.Transpose %wkv0 {perm = [1, 0]} : (tensor<4x2xf32>) -> tensor<2x4xf32>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %kv = onnx.MatMul %m, %wkv : (tensor<2x3x2xf32>, tensor<2x4xf32>) -> tensor<2x3x4xf32>
  %sk = onnx.Slice %kv, %c0, %c2, %ax2 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<2x3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x3x2xf32>
  %sv = onnx.Slice %kv, %c2, %c4, %ax2 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<2x3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x3x2xf32>
  %k1 = onnx.Reshape %sk, %shape : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  %v1 = onnx.Reshape %sv, %shape : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  return %k, %v : tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>
}

// -----

// Two independent projections of one memory input (K/V of a cross-attention).
// CHECK-LABEL: func.func @cross_attention_two_matmuls
// CHECK: %[[P:.*]]:2 = tessera.qkv_projection %arg0, %{{.*}} {num_heads = 2 : i64} : (tensor<2x5x8xf32>, tensor<8x16xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>)
// CHECK: return %[[P]]#0, %[[P]]#1
func.func @cross_attention_two_matmuls(%m: tensor<2x5x8xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) {
  %wk = onnx.Constant {value = dense<2.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %wv = onnx.Constant {value = dense<3.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %shape = onnx.Constant {value = dense<[2, 5, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %k0 = onnx.MatMul %m, %wk : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %k1 = onnx.Reshape %k0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  %v0 = onnx.MatMul %m, %wv : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %v1 = onnx.Reshape %v0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  return %k, %v : tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>
}

// -----

// Not fused: one weight is not a constant; the other two projections of the
// same input are left too (not fused as a K/V pair).
// CHECK-LABEL: func.func @no_fuse_dynamic_weight
// CHECK-NOT: tessera.qkv_projection
// CHECK-COUNT-3: onnx.MatMul
func.func @no_fuse_dynamic_weight(%x: tensor<2x5x8xf32>, %wq: tensor<8x8xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) {
  %wk = onnx.Constant {value = dense<2.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %wv = onnx.Constant {value = dense<3.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %shape = onnx.Constant {value = dense<[2, 5, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{not fused tessera.qkv_projection: the weight is not a compile-time constant}}
  %q0 = onnx.MatMul %x, %wq : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %q1 = onnx.Reshape %q0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %q = onnx.Transpose %q1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  // expected-remark @below {{not fused tessera.qkv_projection: another head-split projection of this input cannot be fused}}
  %k0 = onnx.MatMul %x, %wk : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %k1 = onnx.Reshape %k0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  // expected-remark @below {{not fused tessera.qkv_projection: another head-split projection of this input cannot be fused}}
  %v0 = onnx.MatMul %x, %wv : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %v1 = onnx.Reshape %v0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  return %q, %k, %v : tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>
}

// -----

// Not fused: the two projections split into different head counts.
// CHECK-LABEL: func.func @no_fuse_mismatched_heads
// CHECK-NOT: tessera.qkv_projection
func.func @no_fuse_mismatched_heads(%x: tensor<2x5x8xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x4x5x2xf32>) {
  %wk = onnx.Constant {value = dense<2.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %wv = onnx.Constant {value = dense<3.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %shape = onnx.Constant {value = dense<[2, 5, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  %shape2 = onnx.Constant {value = dense<[2, 5, 4, 2]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{not fused tessera.qkv_projection: mismatched head counts (2 x 4 vs 4 x 2)}}
  %k0 = onnx.MatMul %x, %wk : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %k1 = onnx.Reshape %k0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  // expected-remark @below {{not fused tessera.qkv_projection: mismatched head counts (2 x 4 vs 4 x 2)}}
  %v0 = onnx.MatMul %x, %wv : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %v1 = onnx.Reshape %v0, %shape2 : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x4x2xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<2x5x4x2xf32>) -> tensor<2x4x5x2xf32>
  return %k, %v : tensor<2x2x5x4xf32>, tensor<2x4x5x2xf32>
}

// -----

// Not fused: a projection is also used with a different shape.
// CHECK-LABEL: func.func @no_fuse_other_shape
// CHECK-NOT: tessera.qkv_projection
func.func @no_fuse_other_shape(%x: tensor<2x5x8xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<10x8xf32>) {
  %wk = onnx.Constant {value = dense<2.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %wv = onnx.Constant {value = dense<3.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %shape = onnx.Constant {value = dense<[2, 5, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  %flat = onnx.Constant {value = dense<[10, 8]> : tensor<2xi64>} : tensor<2xi64>
  // expected-remark @below {{not fused tessera.qkv_projection: a projection is reshaped to something other than [d0, d1, H, Dh] or [d0, d1 * H, Dh]}}
  %k0 = onnx.MatMul %x, %wk : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %k1 = onnx.Reshape %k0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  %kf = onnx.Reshape %k0, %flat : (tensor<2x5x8xf32>, tensor<2xi64>) -> tensor<10x8xf32>
  // expected-remark @below {{not fused tessera.qkv_projection: a projection is reshaped to something other than [d0, d1, H, Dh] or [d0, d1 * H, Dh]}}
  %v0 = onnx.MatMul %x, %wv : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %v1 = onnx.Reshape %v0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  return %k, %v, %kf : tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<10x8xf32>
}

// -----

// Not fused: the projection result also feeds an Add (a residual), and a
// bias that is not constant.
// CHECK-LABEL: func.func @no_fuse_other_use_and_dynamic_bias
// CHECK-NOT: tessera.qkv_projection
func.func @no_fuse_other_use_and_dynamic_bias(%x: tensor<2x5x8xf32>, %b: tensor<8xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x5x8xf32>) {
  %wk = onnx.Constant {value = dense<2.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %wv = onnx.Constant {value = dense<3.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %shape = onnx.Constant {value = dense<[2, 5, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{not fused tessera.qkv_projection: the projection has a use other than its head split}}
  %k0 = onnx.MatMul %x, %wk : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %k1 = onnx.Reshape %k0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  %r = onnx.Add %k0, %x : (tensor<2x5x8xf32>, tensor<2x5x8xf32>) -> tensor<2x5x8xf32>
  // expected-remark @below {{not fused tessera.qkv_projection: the Add after the MatMul is not a constant bias of 8 elements}}
  %v0 = onnx.MatMul %x, %wv : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %vb = onnx.Add %v0, %b : (tensor<2x5x8xf32>, tensor<8xf32>) -> tensor<2x5x8xf32>
  %v1 = onnx.Reshape %vb, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  return %k, %v, %r : tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x5x8xf32>
}

// -----

// Not fused: the Reshape is not transposed into heads; and a packed
// projection split into unequal parts.
// CHECK-LABEL: func.func @no_fuse_not_head_split
// CHECK-NOT: tessera.qkv_projection
func.func @no_fuse_not_head_split(%x: tensor<2x5x8xf32>) -> (tensor<2x5x2x4xf32>, tensor<2x5x2x4xf32>) {
  %wk = onnx.Constant {value = dense<2.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %wv = onnx.Constant {value = dense<3.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %shape = onnx.Constant {value = dense<[2, 5, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{not fused tessera.qkv_projection: a projection's Reshape is not Transposed into heads (perm [0, 2, 1, 3] or [1, 2, 0, 3], or [1, 0, 2] for [S, B * H, Dh])}}
  %k0 = onnx.MatMul %x, %wk : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %k1 = onnx.Reshape %k0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  // expected-remark @below {{not fused tessera.qkv_projection: a projection's Reshape is not Transposed into heads (perm [0, 2, 1, 3] or [1, 2, 0, 3], or [1, 0, 2] for [S, B * H, Dh])}}
  %v0 = onnx.MatMul %x, %wv : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %v1 = onnx.Reshape %v0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  return %k1, %v1 : tensor<2x5x2x4xf32>, tensor<2x5x2x4xf32>
}

// -----

// CHECK-LABEL: func.func @no_fuse_unequal_split
// CHECK-NOT: tessera.qkv_projection
// CHECK: onnx.Split
func.func @no_fuse_unequal_split(%x: tensor<2x3x8xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x4x3x4xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x24xf32>} : tensor<8x24xf32>
  %sizes = onnx.Constant {value = dense<[8, 16]> : tensor<2xi64>} : tensor<2xi64>
  %shape = onnx.Constant {value = dense<[2, 3, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  %shape2 = onnx.Constant {value = dense<[2, 3, 4, 4]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{not fused tessera.qkv_projection: the packed projection is not split into equal contiguous parts}}
  %p = onnx.MatMul %x, %w : (tensor<2x3x8xf32>, tensor<8x24xf32>) -> tensor<2x3x24xf32>
  %s:2 = onnx.Split %p, %sizes {axis = 2 : si64} : (tensor<2x3x24xf32>, tensor<2xi64>) -> (tensor<2x3x8xf32>, tensor<2x3x16xf32>)
  %k1 = onnx.Reshape %s#0, %shape : (tensor<2x3x8xf32>, tensor<4xi64>) -> tensor<2x3x2x4xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<2x3x2x4xf32>) -> tensor<2x2x3x4xf32>
  %v1 = onnx.Reshape %s#1, %shape2 : (tensor<2x3x16xf32>, tensor<4xi64>) -> tensor<2x3x4x4xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<2x3x4x4xf32>) -> tensor<2x4x3x4xf32>
  return %k, %v : tensor<2x2x3x4xf32>, tensor<2x4x3x4xf32>
}

// -----

// Not fused: four head-split projections of one input (which three form the
// Q/K/V of one attention is ambiguous).
// CHECK-LABEL: func.func @no_fuse_four_projections
// CHECK-NOT: tessera.qkv_projection
func.func @no_fuse_four_projections(%x: tensor<2x5x8xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) {
  %w = onnx.Constant {value = dense<2.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %shape = onnx.Constant {value = dense<[2, 5, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{not fused tessera.qkv_projection: 4 projections (needs 2 for K/V or 3 for Q/K/V)}}
  %a0 = onnx.MatMul %x, %w : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %a1 = onnx.Reshape %a0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %a = onnx.Transpose %a1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  // expected-remark @below {{not fused tessera.qkv_projection: 4 projections (needs 2 for K/V or 3 for Q/K/V)}}
  %b0 = onnx.MatMul %x, %w : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %b1 = onnx.Reshape %b0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %b = onnx.Transpose %b1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  // expected-remark @below {{not fused tessera.qkv_projection: 4 projections (needs 2 for K/V or 3 for Q/K/V)}}
  %c0 = onnx.MatMul %x, %w : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %c1 = onnx.Reshape %c0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %c = onnx.Transpose %c1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  // expected-remark @below {{not fused tessera.qkv_projection: 4 projections (needs 2 for K/V or 3 for Q/K/V)}}
  %d0 = onnx.MatMul %x, %w : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %d1 = onnx.Reshape %d0, %shape : (tensor<2x5x8xf32>, tensor<4xi64>) -> tensor<2x5x2x4xf32>
  %d = onnx.Transpose %d1 {perm = [0, 2, 1, 3]} : (tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32>
  return %a, %b, %c, %d : tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>
}

// -----

// Not fused: the packed projection (after its bias) also feeds another op.
// CHECK-LABEL: func.func @no_fuse_packed_other_use
// CHECK-NOT: tessera.qkv_projection
func.func @no_fuse_packed_other_use(%x: tensor<2x3x8xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x3x16xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x16xf32>} : tensor<8x16xf32>
  %b = onnx.Constant {value = dense<0.5> : tensor<16xf32>} : tensor<16xf32>
  %sizes = onnx.Constant {value = dense<8> : tensor<2xi64>} : tensor<2xi64>
  %shape = onnx.Constant {value = dense<[2, 3, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{not fused tessera.qkv_projection: the projection has a use other than its head split}}
  %p0 = onnx.MatMul %x, %w : (tensor<2x3x8xf32>, tensor<8x16xf32>) -> tensor<2x3x16xf32>
  %p = onnx.Add %p0, %b : (tensor<2x3x16xf32>, tensor<16xf32>) -> tensor<2x3x16xf32>
  %s:2 = onnx.Split %p, %sizes {axis = 2 : si64} : (tensor<2x3x16xf32>, tensor<2xi64>) -> (tensor<2x3x8xf32>, tensor<2x3x8xf32>)
  %k1 = onnx.Reshape %s#0, %shape : (tensor<2x3x8xf32>, tensor<4xi64>) -> tensor<2x3x2x4xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<2x3x2x4xf32>) -> tensor<2x2x3x4xf32>
  %v1 = onnx.Reshape %s#1, %shape : (tensor<2x3x8xf32>, tensor<4xi64>) -> tensor<2x3x2x4xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<2x3x2x4xf32>) -> tensor<2x2x3x4xf32>
  %r = onnx.Relu %p : (tensor<2x3x16xf32>) -> tensor<2x3x16xf32>
  return %k, %v, %r : tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x3x16xf32>
}

// -----

// nn.Transformer's decoder cross-attention in the canonical form: the memory
// is Transposed to [S, B, E], projected by Transpose(Slice(in_proj_weight))
// + bias, Sliced into K and V and head-split seq-first. The fused K/V reads
// the batch-first memory.
// CHECK-LABEL: func.func @nn_transformer_cross_kv
// CHECK: %[[P:.*]]:2 = tessera.qkv_projection %arg0, %{{.*}} bias %{{.*}} {num_heads = 2 : i64} : (tensor<2x5x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>)
// CHECK-NOT: onnx.Slice
// CHECK-NOT: onnx.Transpose
// CHECK: return %[[P]]#0, %[[P]]#1
func.func @nn_transformer_cross_kv(%mem: tensor<2x5x8xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) {
  %in_w = onnx.Constant {value = dense<0.125> : tensor<24x8xf32>} : tensor<24x8xf32>
  %in_b = onnx.Constant {value = dense<0.5> : tensor<16xf32>} : tensor<16xf32>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c8 = onnx.Constant {value = dense<8> : tensor<1xi64>} : tensor<1xi64>
  %c16 = onnx.Constant {value = dense<16> : tensor<1xi64>} : tensor<1xi64>
  %c24 = onnx.Constant {value = dense<24> : tensor<1xi64>} : tensor<1xi64>
  %ax = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %shape = onnx.Constant {value = dense<[5, 2, 2, 4]> : tensor<4xi64>} : tensor<4xi64>
  %x = onnx.Transpose %mem {perm = [1, 0, 2]} : (tensor<2x5x8xf32>) -> tensor<5x2x8xf32>
  %w0 = onnx.Slice %in_w, %c8, %c24, %c0 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<24x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<16x8xf32>
  %w = onnx.Transpose %w0 {perm = [1, 0]} : (tensor<16x8xf32>) -> tensor<8x16xf32>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %p0 = onnx.MatMul %x, %w : (tensor<5x2x8xf32>, tensor<8x16xf32>) -> tensor<5x2x16xf32>
  %p = onnx.Add %p0, %in_b : (tensor<5x2x16xf32>, tensor<16xf32>) -> tensor<5x2x16xf32>
  %sk = onnx.Slice %p, %c0, %c8, %ax {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<5x2x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x2x8xf32>
  %sv = onnx.Slice %p, %c8, %c16, %ax {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<5x2x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x2x8xf32>
  %k1 = onnx.Reshape %sk, %shape : (tensor<5x2x8xf32>, tensor<4xi64>) -> tensor<5x2x2x4xf32>
  %k = onnx.Transpose %k1 {perm = [1, 2, 0, 3]} : (tensor<5x2x2x4xf32>) -> tensor<2x2x5x4xf32>
  %v1 = onnx.Reshape %sv, %shape : (tensor<5x2x8xf32>, tensor<4xi64>) -> tensor<5x2x2x4xf32>
  %v = onnx.Transpose %v1 {perm = [1, 2, 0, 3]} : (tensor<5x2x2x4xf32>) -> tensor<2x2x5x4xf32>
  return %k, %v : tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>
}

// -----

// nn.MultiheadAttention as exported (before the attention pass makes it
// canonical): the seq-first projection is viewed as [S, B * H, Dh] and
// Transposed [1, 0, 2] to [B * H, S, Dh] (K by [1, 2, 0] to K^T): these
// become Reshapes of the fused results; another use of the view is rebuilt
// from it too.
// CHECK-LABEL: func.func @mha_flat_heads
// CHECK: %[[P:.*]]:3 = tessera.qkv_projection %arg0, %{{.*}} bias %{{.*}} {num_heads = 2 : i64} : (tensor<2x3x8xf32>, tensor<8x24xf32>, tensor<24xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>)
// CHECK-DAG: %[[Q:.*]] = onnx.Reshape %[[P]]#0, %{{.*}} : (tensor<2x2x3x4xf32>, tensor<3xi64>) -> tensor<4x3x4xf32>
// CHECK-DAG: %[[KT0:.*]] = onnx.Transpose %[[P]]#1 {perm = [0, 1, 3, 2]} : (tensor<2x2x3x4xf32>) -> tensor<2x2x4x3xf32>
// CHECK-DAG: %[[KT:.*]] = onnx.Reshape %[[KT0]], %{{.*}} : (tensor<2x2x4x3xf32>, tensor<3xi64>) -> tensor<4x4x3xf32>
// CHECK-DAG: %[[V:.*]] = onnx.Reshape %[[P]]#2, %{{.*}} : (tensor<2x2x3x4xf32>, tensor<3xi64>) -> tensor<4x3x4xf32>
// CHECK-DAG: %[[VS0:.*]] = onnx.Transpose %[[P]]#2 {perm = [2, 0, 1, 3]} : (tensor<2x2x3x4xf32>) -> tensor<3x2x2x4xf32>
// CHECK-DAG: %[[VS:.*]] = onnx.Reshape %[[VS0]], %{{.*}} : (tensor<3x2x2x4xf32>, tensor<3xi64>) -> tensor<3x4x4xf32>
// CHECK-NOT: onnx.Slice
// CHECK: return %[[Q]], %[[KT]], %[[V]], %[[VS]]
func.func @mha_flat_heads(%h: tensor<2x3x8xf32>) -> (tensor<4x3x4xf32>, tensor<4x4x3xf32>, tensor<4x3x4xf32>, tensor<3x4x4xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x24xf32>} : tensor<8x24xf32>
  %b = onnx.Constant {value = dense<0.25> : tensor<24xf32>} : tensor<24xf32>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c8 = onnx.Constant {value = dense<8> : tensor<1xi64>} : tensor<1xi64>
  %c16 = onnx.Constant {value = dense<16> : tensor<1xi64>} : tensor<1xi64>
  %c24 = onnx.Constant {value = dense<24> : tensor<1xi64>} : tensor<1xi64>
  %ax = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %shape = onnx.Constant {value = dense<[3, 4, 4]> : tensor<3xi64>} : tensor<3xi64>
  %x = onnx.Transpose %h {perm = [1, 0, 2]} : (tensor<2x3x8xf32>) -> tensor<3x2x8xf32>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %p0 = onnx.MatMul %x, %w : (tensor<3x2x8xf32>, tensor<8x24xf32>) -> tensor<3x2x24xf32>
  %p = onnx.Add %p0, %b : (tensor<3x2x24xf32>, tensor<24xf32>) -> tensor<3x2x24xf32>
  %sq = onnx.Slice %p, %c0, %c8, %ax {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<3x2x24xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x2x8xf32>
  %sk = onnx.Slice %p, %c8, %c16, %ax {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<3x2x24xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x2x8xf32>
  %sv = onnx.Slice %p, %c16, %c24, %ax {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<3x2x24xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x2x8xf32>
  %q1 = onnx.Reshape %sq, %shape : (tensor<3x2x8xf32>, tensor<3xi64>) -> tensor<3x4x4xf32>
  %q = onnx.Transpose %q1 {perm = [1, 0, 2]} : (tensor<3x4x4xf32>) -> tensor<4x3x4xf32>
  %k1 = onnx.Reshape %sk, %shape : (tensor<3x2x8xf32>, tensor<3xi64>) -> tensor<3x4x4xf32>
  %kt = onnx.Transpose %k1 {perm = [1, 2, 0]} : (tensor<3x4x4xf32>) -> tensor<4x4x3xf32>
  %v1 = onnx.Reshape %sv, %shape : (tensor<3x2x8xf32>, tensor<3xi64>) -> tensor<3x4x4xf32>
  %v = onnx.Transpose %v1 {perm = [1, 0, 2]} : (tensor<3x4x4xf32>) -> tensor<4x3x4xf32>
  return %q, %kt, %v, %v1 : tensor<4x3x4xf32>, tensor<4x4x3xf32>, tensor<4x3x4xf32>, tensor<3x4x4xf32>
}

// -----

// Dynamic batch and sequence: the exporter builds the head split's shape
// from Shape(proj) (or copies dims with 0); H and Dh are constants. The
// fused results keep the exporter's (less refined) types, and a Shape of a
// projection used elsewhere is rebuilt from X's dims.
// CHECK-LABEL: func.func @dynamic_rows
// CHECK: %[[P:.*]]:3 = tessera.qkv_projection %arg0, %{{.*}} bias %{{.*}} {num_heads = 2 : i64} : (tensor<?x?x8xf32>, tensor<8x24xf32>, tensor<24xf32>) -> (tensor<?x2x?x4xf32>, tensor<?x2x?x?xf32>, tensor<?x2x?x4xf32>)
// CHECK-DAG: %[[ROWS:.*]] = onnx.Shape %arg0 {end = 2 : si64} : (tensor<?x?x8xf32>) -> tensor<2xi64>
// CHECK-DAG: %[[E:.*]] = onnx.Constant {value = dense<8> : tensor<1xi64>} : tensor<1xi64>
// CHECK: %[[SHAPE:.*]] = onnx.Concat %[[ROWS]], %[[E]] {axis = 0 : si64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
// CHECK-NOT: onnx.MatMul
// CHECK-NOT: onnx.Reshape
// CHECK: return %[[P]]#0, %[[P]]#1, %[[P]]#2, %[[SHAPE]]
func.func @dynamic_rows(%x: tensor<?x?x8xf32>) -> (tensor<?x2x?x4xf32>, tensor<?x2x?x?xf32>, tensor<?x2x?x4xf32>, tensor<3xi64>) {
  %wq = onnx.Constant {value = dense<1.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %wk = onnx.Constant {value = dense<2.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %wv = onnx.Constant {value = dense<3.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %bq = onnx.Constant {value = dense<0.5> : tensor<8xf32>} : tensor<8xf32>
  %i0 = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %i1 = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %ax0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %hd = onnx.Constant {value = dense<[2, 4]> : tensor<2xi64>} : tensor<2xi64>
  %copy = onnx.Constant {value = dense<[0, 0, 2, -1]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %q0 = onnx.MatMul %x, %wq : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %q1 = onnx.Add %q0, %bq : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %s = onnx.Shape %q1 : (tensor<?x?x8xf32>) -> tensor<3xi64>
  %d0 = onnx.Gather %s, %i0 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %d1 = onnx.Gather %s, %i1 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %u0 = onnx.Unsqueeze %d0, %ax0 : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %u1 = onnx.Unsqueeze %d1, %ax0 : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %cat = onnx.Concat %u0, %u1, %hd {axis = 0 : si64} : (tensor<1xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<4xi64>
  %q2 = onnx.Reshape %q1, %cat : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
  %q = onnx.Transpose %q2 {perm = [0, 2, 1, 3]} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %k0 = onnx.MatMul %x, %wk : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %k1 = onnx.Reshape %k0, %copy : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x?xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<?x?x2x?xf32>) -> tensor<?x2x?x?xf32>
  %v0 = onnx.MatMul %x, %wv : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %sv = onnx.Shape %v0 : (tensor<?x?x8xf32>) -> tensor<3xi64>
  %v1 = onnx.Reshape %v0, %cat : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  return %q, %k, %v, %sv : tensor<?x2x?x4xf32>, tensor<?x2x?x?xf32>, tensor<?x2x?x4xf32>, tensor<3xi64>
}

// -----

// Not fused: with dynamic rows, a head split whose dims come from another
// tensor is not provably [d0, d1, H, Dh] of the projection.
// CHECK-LABEL: func.func @no_fuse_dynamic_foreign_dims
// CHECK-NOT: tessera.qkv_projection
func.func @no_fuse_dynamic_foreign_dims(%x: tensor<?x?x8xf32>, %y: tensor<?x?x8xf32>) -> (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) {
  %wk = onnx.Constant {value = dense<2.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %wv = onnx.Constant {value = dense<3.0> : tensor<8x8xf32>} : tensor<8x8xf32>
  %hd = onnx.Constant {value = dense<[2, 4]> : tensor<2xi64>} : tensor<2xi64>
  %s = onnx.Shape %y {end = 2 : si64} : (tensor<?x?x8xf32>) -> tensor<2xi64>
  %cat = onnx.Concat %s, %hd {axis = 0 : si64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  // expected-remark @below {{not fused tessera.qkv_projection: a projection is reshaped to something other than [d0, d1, H, Dh] or [d0, d1 * H, Dh]}}
  %k0 = onnx.MatMul %x, %wk : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %k1 = onnx.Reshape %k0, %cat : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  // expected-remark @below {{not fused tessera.qkv_projection: a projection is reshaped to something other than [d0, d1, H, Dh] or [d0, d1 * H, Dh]}}
  %v0 = onnx.MatMul %x, %wv : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %v1 = onnx.Reshape %v0, %cat : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  return %k, %v : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
}

// -----

// Dynamic nn.MultiheadAttention K/V: Slice bounds computed from the packed
// width (torch.chunk), the flat [S, B * H, Dh] split built from the query's
// batch (the element count forces it to be this input's): fused seq-first,
// the flat views rebuilt with shape vectors from the fused results.
// CHECK-LABEL: func.func @dynamic_flat_kv
// CHECK: %[[P:.*]]:2 = tessera.qkv_projection %arg1, %{{.*}} bias %{{.*}} {num_heads = 2 : i64, seq_first = true} : (tensor<?x?x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>)
// CHECK: %[[KT:.*]] = onnx.Transpose %[[P]]#0 {perm = [0, 1, 3, 2]}
// CHECK: %[[A:.*]] = onnx.Shape %[[KT]] {end = 1 : si64}
// CHECK: %[[B:.*]] = onnx.Shape %[[KT]] {end = 2 : si64, start = 1 : si64}
// CHECK: %[[AB:.*]] = onnx.Mul %[[A]], %[[B]]
// CHECK: %[[REST:.*]] = onnx.Shape %[[KT]] {end = 4 : si64, start = 2 : si64}
// CHECK: %[[S:.*]] = onnx.Concat %[[AB]], %[[REST]] {axis = 0 : si64}
// CHECK: %[[K:.*]] = onnx.Reshape %[[KT]], %[[S]] : (tensor<?x2x4x?xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
// CHECK: %[[V:.*]] = onnx.Reshape %[[P]]#1, %{{.*}} : (tensor<?x2x?x4xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
// CHECK-NOT: onnx.Slice
// CHECK: return %[[K]], %[[V]]
func.func @dynamic_flat_kv(%q: tensor<?x?x8xf32>, %m: tensor<?x?x8xf32>) -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x16xf32>} : tensor<8x16xf32>
  %b = onnx.Constant {value = dense<0.25> : tensor<16xf32>} : tensor<16xf32>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %zero = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %i0 = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %i1 = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %h = onnx.Constant {value = dense<2> : tensor<i64>} : tensor<i64>
  %dh = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %kv0 = onnx.MatMul %m, %w : (tensor<?x?x8xf32>, tensor<8x16xf32>) -> tensor<?x?x16xf32>
  %kv = onnx.Add %b, %kv0 : (tensor<16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %s = onnx.Shape %kv : (tensor<?x?x16xf32>) -> tensor<3xi64>
  %width = onnx.Gather %s, %last : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %w1 = onnx.Add %width, %one : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %half = onnx.Div %w1, %two : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %full = onnx.Mul %half, %two : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %sk = onnx.Slice %kv, %zero, %half, %last {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<?x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x?xf32>
  %sv = onnx.Slice %kv, %half, %full, %last {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<?x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x?xf32>
  %qs = onnx.Shape %q : (tensor<?x?x8xf32>) -> tensor<3xi64>
  %bq = onnx.Gather %qs, %i1 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %bh = onnx.Mul %bq, %h : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %bh1 = onnx.Unsqueeze %bh, %zero : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %ks = onnx.Shape %sk : (tensor<?x?x?xf32>) -> tensor<3xi64>
  %sl = onnx.Gather %ks, %i0 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %sl1 = onnx.Unsqueeze %sl, %zero : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = onnx.Concat %sl1, %bh1, %dh {axis = 0 : si64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %k1 = onnx.Reshape %sk, %shape : (tensor<?x?x?xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %kt = onnx.Transpose %k1 {perm = [1, 2, 0]} : (tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  %v1 = onnx.Reshape %sv, %shape : (tensor<?x?x?xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %v = onnx.Transpose %v1 {perm = [1, 0, 2]} : (tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  return %kt, %v : tensor<?x?x?xf32>, tensor<?x?x?xf32>
}

// -----

// Grouped-query attention: Q has 2 heads, K and V one each (head size 2),
// listed K, Q, V: one packed projection, Q's columns first, kv_heads = 1.
// CHECK-LABEL: func.func @qkv_grouped_query
// CHECK-DAG: %[[W:.*]] = onnx.Constant {value = dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00, 6.000000e+00, 9.000000e+00, 1.000000e+01], [1.100000e+01, 1.200000e+01, 1.300000e+01, 1.400000e+01, 7.000000e+00, 8.000000e+00, 1.500000e+01, 1.600000e+01]]> : tensor<2x8xf32>}
// CHECK: %[[P:.*]]:3 = tessera.qkv_projection %arg0, %[[W]] {kv_heads = 1 : i64, num_heads = 2 : i64} : (tensor<2x3x2xf32>, tensor<2x8xf32>) -> (tensor<2x2x3x2xf32>, tensor<2x1x3x2xf32>, tensor<2x1x3x2xf32>)
// CHECK: return %[[P]]#1, %[[P]]#0, %[[P]]#2
func.func @qkv_grouped_query(%x: tensor<2x3x2xf32>) -> (tensor<2x1x3x2xf32>, tensor<2x2x3x2xf32>, tensor<2x1x3x2xf32>) {
  %wk = onnx.Constant {value = dense<[[5.0, 6.0], [7.0, 8.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %wq = onnx.Constant {value = dense<[[1.0, 2.0, 3.0, 4.0], [11.0, 12.0, 13.0, 14.0]]> : tensor<2x4xf32>} : tensor<2x4xf32>
  %wv = onnx.Constant {value = dense<[[9.0, 10.0], [15.0, 16.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %sq = onnx.Constant {value = dense<[2, 3, 2, 2]> : tensor<4xi64>} : tensor<4xi64>
  %skv = onnx.Constant {value = dense<[2, 3, 1, 2]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{fused tessera.qkv_projection}}
  %k0 = onnx.MatMul %x, %wk : (tensor<2x3x2xf32>, tensor<2x2xf32>) -> tensor<2x3x2xf32>
  %k1 = onnx.Reshape %k0, %skv : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %k = onnx.Transpose %k1 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  %q0 = onnx.MatMul %x, %wq : (tensor<2x3x2xf32>, tensor<2x4xf32>) -> tensor<2x3x4xf32>
  %q1 = onnx.Reshape %q0, %sq : (tensor<2x3x4xf32>, tensor<4xi64>) -> tensor<2x3x2x2xf32>
  %q = onnx.Transpose %q1 {perm = [0, 2, 1, 3]} : (tensor<2x3x2x2xf32>) -> tensor<2x2x3x2xf32>
  %v0 = onnx.MatMul %x, %wv : (tensor<2x3x2xf32>, tensor<2x2xf32>) -> tensor<2x3x2xf32>
  %v1 = onnx.Reshape %v0, %skv : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %v = onnx.Transpose %v1 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  return %k, %q, %v : tensor<2x1x3x2xf32>, tensor<2x2x3x2xf32>, tensor<2x1x3x2xf32>
}

// -----

// Near miss: three head counts (2, 1 and 2 heads of size 2) are not Q, K
// and V of grouped-query attention.
// CHECK-LABEL: func.func @qkv_mismatched_heads
// CHECK-NOT: tessera.qkv_projection
func.func @qkv_mismatched_heads(%x: tensor<2x3x2xf32>) -> (tensor<2x2x3x2xf32>, tensor<2x1x3x2xf32>, tensor<2x2x3x2xf32>) {
  %w4 = onnx.Constant {value = dense<1.0> : tensor<2x4xf32>} : tensor<2x4xf32>
  %w2 = onnx.Constant {value = dense<2.0> : tensor<2x2xf32>} : tensor<2x2xf32>
  %w4b = onnx.Constant {value = dense<3.0> : tensor<2x4xf32>} : tensor<2x4xf32>
  %s2 = onnx.Constant {value = dense<[2, 3, 2, 2]> : tensor<4xi64>} : tensor<4xi64>
  %s1 = onnx.Constant {value = dense<[2, 3, 1, 2]> : tensor<4xi64>} : tensor<4xi64>
  // expected-remark @below {{not fused tessera.qkv_projection: mismatched head counts (2 x 2 vs 1 x 2 vs 2 x 2), not Q, K and V of grouped-query attention}}
  %a0 = onnx.MatMul %x, %w4 : (tensor<2x3x2xf32>, tensor<2x4xf32>) -> tensor<2x3x4xf32>
  %a1 = onnx.Reshape %a0, %s2 : (tensor<2x3x4xf32>, tensor<4xi64>) -> tensor<2x3x2x2xf32>
  %a = onnx.Transpose %a1 {perm = [0, 2, 1, 3]} : (tensor<2x3x2x2xf32>) -> tensor<2x2x3x2xf32>
  // expected-remark @below {{not fused tessera.qkv_projection: mismatched head counts (2 x 2 vs 1 x 2 vs 2 x 2), not Q, K and V of grouped-query attention}}
  %b0 = onnx.MatMul %x, %w2 : (tensor<2x3x2xf32>, tensor<2x2xf32>) -> tensor<2x3x2xf32>
  %b1 = onnx.Reshape %b0, %s1 : (tensor<2x3x2xf32>, tensor<4xi64>) -> tensor<2x3x1x2xf32>
  %b = onnx.Transpose %b1 {perm = [0, 2, 1, 3]} : (tensor<2x3x1x2xf32>) -> tensor<2x1x3x2xf32>
  // expected-remark @below {{not fused tessera.qkv_projection: mismatched head counts (2 x 2 vs 1 x 2 vs 2 x 2), not Q, K and V of grouped-query attention}}
  %c0 = onnx.MatMul %x, %w4b : (tensor<2x3x2xf32>, tensor<2x4xf32>) -> tensor<2x3x4xf32>
  %c1 = onnx.Reshape %c0, %s2 : (tensor<2x3x4xf32>, tensor<4xi64>) -> tensor<2x3x2x2xf32>
  %c = onnx.Transpose %c1 {perm = [0, 2, 1, 3]} : (tensor<2x3x2x2xf32>) -> tensor<2x2x3x2xf32>
  return %a, %b, %c : tensor<2x2x3x2xf32>, tensor<2x1x3x2xf32>, tensor<2x2x3x2xf32>
}
