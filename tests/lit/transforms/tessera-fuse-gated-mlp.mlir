// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-fuse-gated-mlp))' | FileCheck %s
// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-fuse-gated-mlp{report=true}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT

// LLaMA's MLP as exported: silu(x W1) * (x W3), SiLU as x * Sigmoid(x),
// separate weights. One GEMM with [W1 | W3] and the swiglu epilogue.
// CHECK-LABEL: func.func @swiglu
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x8xf32>)
// CHECK-NOT: onnx.{{MatMul|Sigmoid|Mul}}
// CHECK: %[[W:.*]] = onnx.Constant {value = dense<{{\[}}[1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00]{{.*}}> : tensor<8x8xf32>}
// CHECK: %[[Y:.*]] = tessera.matmul %[[X]], %[[W]] {activation = "swiglu"} : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x4xf32>
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused gated mlp (tessera.matmul)
func.func @swiglu(%x: tensor<?x?x8xf32>) -> tensor<?x?x4xf32> {
  %w1 = onnx.Constant {value = dense<1.0> : tensor<8x4xf32>} : tensor<8x4xf32>
  %w3 = onnx.Constant {value = dense<2.0> : tensor<8x4xf32>} : tensor<8x4xf32>
  %g = onnx.MatMul %x, %w1 : (tensor<?x?x8xf32>, tensor<8x4xf32>) -> tensor<?x?x4xf32>
  %s = onnx.Sigmoid %g : (tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %a = onnx.Mul %g, %s : (tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %v = onnx.MatMul %x, %w3 : (tensor<?x?x8xf32>, tensor<8x4xf32>) -> tensor<?x?x4xf32>
  %y = onnx.Mul %a, %v : (tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}

// -----

// The same in float16: the packed weight is float16.
// CHECK-LABEL: func.func @swiglu_f16
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x8xf16>)
// CHECK-NOT: onnx.{{MatMul|Sigmoid|Mul}}
// CHECK: %[[W:.*]] = onnx.Constant {value = dense<{{\[}}[1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00]{{.*}}> : tensor<8x8xf16>}
// CHECK: %[[Y:.*]] = tessera.matmul %[[X]], %[[W]] {activation = "swiglu"} : (tensor<?x?x8xf16>, tensor<8x8xf16>) -> tensor<?x?x4xf16>
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused gated mlp (tessera.matmul)
func.func @swiglu_f16(%x: tensor<?x?x8xf16>) -> tensor<?x?x4xf16> {
  %w1 = onnx.Constant {value = dense<1.0> : tensor<8x4xf16>} : tensor<8x4xf16>
  %w3 = onnx.Constant {value = dense<2.0> : tensor<8x4xf16>} : tensor<8x4xf16>
  %g = onnx.MatMul %x, %w1 : (tensor<?x?x8xf16>, tensor<8x4xf16>) -> tensor<?x?x4xf16>
  %s = onnx.Sigmoid %g : (tensor<?x?x4xf16>) -> tensor<?x?x4xf16>
  %a = onnx.Mul %g, %s : (tensor<?x?x4xf16>, tensor<?x?x4xf16>) -> tensor<?x?x4xf16>
  %v = onnx.MatMul %x, %w3 : (tensor<?x?x8xf16>, tensor<8x4xf16>) -> tensor<?x?x4xf16>
  %y = onnx.Mul %a, %v : (tensor<?x?x4xf16>, tensor<?x?x4xf16>) -> tensor<?x?x4xf16>
  return %y : tensor<?x?x4xf16>
}

// -----

// A packed W13 cut by Split, the gate being the second half and the product
// in the other order (value * act): the weights are reordered gate first.
// GELU (tanh) as onnx.Gelu: geglu_tanh.
// CHECK-LABEL: func.func @packed_split
// CHECK-NOT: onnx.{{MatMul|Split|Gelu|Mul}}
// CHECK: %[[W:.*]] = onnx.Constant {value = dense<{{\[}}[2.000000e+00, 2.000000e+00, 1.000000e+00, 1.000000e+00]{{.*}}> : tensor<3x4xf32>}
// CHECK: tessera.matmul %arg0, %[[W]] {activation = "geglu_tanh"} : (tensor<5x3xf32>, tensor<3x4xf32>) -> tensor<5x2xf32>
// REPORT: remark: fused gated mlp (tessera.matmul)
func.func @packed_split(%x: tensor<5x3xf32>) -> tensor<5x2xf32> {
  %w = onnx.Constant {value = dense<[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]> : tensor<3x4xf32>} : tensor<3x4xf32>
  %h = onnx.MatMul %x, %w : (tensor<5x3xf32>, tensor<3x4xf32>) -> tensor<5x4xf32>
  %v, %g = onnx.Split %h {axis = -1 : si64, num_outputs = 2 : si64} : (tensor<5x4xf32>) -> (tensor<5x2xf32>, tensor<5x2xf32>)
  %a = onnx.Gelu %g {approximate = "tanh"} : (tensor<5x2xf32>) -> tensor<5x2xf32>
  %y = onnx.Mul %v, %a : (tensor<5x2xf32>, tensor<5x2xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}

// -----

// A packed W13 cut by Slices (torch's chunk in older exports), SiLU as
// Sigmoid(g) * g: swiglu.
// CHECK-LABEL: func.func @packed_slice
// CHECK-NOT: onnx.{{MatMul|Slice|Sigmoid|Mul}}
// CHECK: tessera.matmul %arg0, %{{.*}} {activation = "swiglu"} : (tensor<5x3xf32>, tensor<3x4xf32>) -> tensor<5x2xf32>
// REPORT: remark: fused gated mlp (tessera.matmul)
func.func @packed_slice(%x: tensor<5x3xf32>) -> tensor<5x2xf32> {
  %w = onnx.Constant {value = dense<[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]> : tensor<3x4xf32>} : tensor<3x4xf32>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c2 = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %c4 = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %h = onnx.MatMul %x, %w : (tensor<5x3xf32>, tensor<3x4xf32>) -> tensor<5x4xf32>
  %g = onnx.Slice %h, %c0, %c2, %last {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<5x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x2xf32>
  %v = onnx.Slice %h, %c2, %c4, %last {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<5x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x2xf32>
  %s = onnx.Sigmoid %g : (tensor<5x2xf32>) -> tensor<5x2xf32>
  %a = onnx.Mul %s, %g : (tensor<5x2xf32>, tensor<5x2xf32>) -> tensor<5x2xf32>
  %y = onnx.Mul %a, %v : (tensor<5x2xf32>, tensor<5x2xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}

// -----

// Near miss: the gate on the wrong half, the value sliced from the same half
// as the gate (act(h1) * h1).
// CHECK-LABEL: func.func @gate_on_wrong_half
// CHECK-NOT: tessera.matmul
// CHECK: onnx.Sigmoid
// REPORT: remark: not fused gated mlp (tessera.matmul): the gate and the value are the same (or overlapping) half of the packed projection
func.func @gate_on_wrong_half(%x: tensor<5x3xf32>) -> tensor<5x2xf32> {
  %w = onnx.Constant {value = dense<1.0> : tensor<3x4xf32>} : tensor<3x4xf32>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c2 = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %h = onnx.MatMul %x, %w : (tensor<5x3xf32>, tensor<3x4xf32>) -> tensor<5x4xf32>
  %g = onnx.Slice %h, %c0, %c2, %last {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<5x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x2xf32>
  %v = onnx.Slice %h, %c0, %c2, %last {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<5x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x2xf32>
  %s = onnx.Sigmoid %g : (tensor<5x2xf32>) -> tensor<5x2xf32>
  %a = onnx.Mul %g, %s : (tensor<5x2xf32>, tensor<5x2xf32>) -> tensor<5x2xf32>
  %y = onnx.Mul %a, %v : (tensor<5x2xf32>, tensor<5x2xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}

// -----

// Near miss: gate and value project different inputs.
// CHECK-LABEL: func.func @different_inputs
// CHECK-NOT: tessera.matmul
// REPORT: remark: not fused gated mlp (tessera.matmul): the gate and the value project different inputs
func.func @different_inputs(%x: tensor<5x3xf32>, %z: tensor<5x3xf32>) -> tensor<5x2xf32> {
  %w = onnx.Constant {value = dense<1.0> : tensor<3x2xf32>} : tensor<3x2xf32>
  %g = onnx.MatMul %x, %w : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %v = onnx.MatMul %z, %w : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %a = onnx.Gelu %g : (tensor<5x2xf32>) -> tensor<5x2xf32>
  %y = onnx.Mul %a, %v : (tensor<5x2xf32>, tensor<5x2xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}
