// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-recognize-rms-norm))' | FileCheck %s
// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-recognize-rms-norm{report=true}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT

// The opset-14 export of HF's LlamaRMSNorm: x cast to f32, Pow 2,
// ReduceMean, Add eps, Sqrt, Div(1, .) (torch.rsqrt), Mul, the Cast back
// and the weight first. Dynamic batch and sequence dims.
// CHECK-LABEL: func.func @llama
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x16xf32>, %[[W:.*]]: tensor<16xf32>)
// CHECK-NOT: onnx.{{ReduceMean|Pow|Sqrt|Div|Mul|Add|Cast}}
// CHECK: %[[Y:.*]] = onnx.RMSNormalization %[[X]], %[[W]] {epsilon = 9.99999997E-7 : f32} : (tensor<?x?x16xf32>, tensor<16xf32>) -> tensor<?x?x16xf32>
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused rms_norm recogniser
func.func @llama(%x: tensor<?x?x16xf32>, %w: tensor<16xf32>) -> tensor<?x?x16xf32> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-6> : tensor<f32>} : tensor<f32>
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %h = onnx.Cast %x {to = f32} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %p = onnx.Pow %h, %two : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  %m = onnx.ReduceMean %p, %axes : (tensor<?x?x16xf32>, tensor<1xi64>) -> tensor<?x?x1xf32>
  %a = onnx.Add %m, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = onnx.Sqrt %a : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %r = onnx.Div %one, %s : (tensor<f32>, tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = onnx.Mul %h, %r : (tensor<?x?x16xf32>, tensor<?x?x1xf32>) -> tensor<?x?x16xf32>
  %b = onnx.Cast %n {to = f32} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %y = onnx.Mul %w, %b : (tensor<16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  return %y : tensor<?x?x16xf32>
}

// -----

// T5's LayerNorm: Pow 2, Div by the Sqrt, the weight first; x also feeds
// the next residual (other uses of x are fine).
// CHECK-LABEL: func.func @t5
// CHECK-SAME: (%[[X:.*]]: tensor<2x5x16xf32>, %[[W:.*]]: tensor<16xf32>)
// CHECK-NOT: onnx.{{ReduceMean|Pow|Sqrt|Div}}
// CHECK: %[[Y:.*]] = onnx.RMSNormalization %[[X]], %[[W]] {epsilon = 9.99999997E-7 : f32}
// CHECK: onnx.Add %[[X]], %[[Y]]
// REPORT: remark: fused rms_norm recogniser
func.func @t5(%x: tensor<2x5x16xf32>, %w: tensor<16xf32>) -> tensor<2x5x16xf32> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-6> : tensor<f32>} : tensor<f32>
  %p = onnx.Pow %x, %two : (tensor<2x5x16xf32>, tensor<f32>) -> tensor<2x5x16xf32>
  %m = onnx.ReduceMean %p, %axes : (tensor<2x5x16xf32>, tensor<1xi64>) -> tensor<2x5x1xf32>
  %a = onnx.Add %m, %eps : (tensor<2x5x1xf32>, tensor<f32>) -> tensor<2x5x1xf32>
  %s = onnx.Sqrt %a : (tensor<2x5x1xf32>) -> tensor<2x5x1xf32>
  %n = onnx.Div %x, %s : (tensor<2x5x16xf32>, tensor<2x5x1xf32>) -> tensor<2x5x16xf32>
  %y = onnx.Mul %w, %n : (tensor<16xf32>, tensor<2x5x16xf32>) -> tensor<2x5x16xf32>
  %z = onnx.Add %x, %y : (tensor<2x5x16xf32>, tensor<2x5x16xf32>) -> tensor<2x5x16xf32>
  return %z : tensor<2x5x16xf32>
}

// -----

// Mul by itself, Reciprocal + Mul, the axis as a positive index, no weight:
// the RMSNormalization scales by ones. (Default attributes, axis -1 and
// epsilon 1e-5, are not printed.)
// CHECK-LABEL: func.func @mul_reciprocal
// CHECK-NOT: onnx.{{ReduceMean|Sqrt|Reciprocal|Mul}}
// CHECK: %[[ONES:.*]] = onnx.Constant {value = dense<1.000000e+00> : tensor<8xf32>} : tensor<8xf32>
// CHECK: onnx.RMSNormalization %arg0, %[[ONES]] : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
// REPORT: remark: fused rms_norm recogniser
func.func @mul_reciprocal(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %axes = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %eps = onnx.Constant {value = dense<1.0e-5> : tensor<1xf32>} : tensor<1xf32>
  %p = onnx.Mul %x, %x : (tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
  %m = onnx.ReduceMean %p, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %a = onnx.Add %eps, %m : (tensor<1xf32>, tensor<3x1xf32>) -> tensor<3x1xf32>
  %s = onnx.Sqrt %a : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %r = onnx.Reciprocal %s : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = onnx.Mul %r, %x : (tensor<3x1xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
  return %n : tensor<3x8xf32>
}

// -----

// f16 activations normalised in f32: both Casts are absorbed, the weight
// (f16) applies after the Cast back.
// CHECK-LABEL: func.func @half
// CHECK-NOT: onnx.Cast
// CHECK: onnx.RMSNormalization %arg0, %arg1 {{.*}} : (tensor<4x8xf16>, tensor<8xf16>) -> tensor<4x8xf16>
// REPORT: remark: fused rms_norm recogniser
func.func @half(%x0: tensor<4x8xf16>, %w: tensor<8xf16>) -> tensor<4x8xf16> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-6> : tensor<f32>} : tensor<f32>
  %x = onnx.Cast %x0 {to = f32} : (tensor<4x8xf16>) -> tensor<4x8xf32>
  %p = onnx.Pow %x, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %m = onnx.ReduceMean %p, %axes : (tensor<4x8xf32>, tensor<1xi64>) -> tensor<4x1xf32>
  %a = onnx.Add %m, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s = onnx.Sqrt %a : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %n = onnx.Div %x, %s : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %b = onnx.Cast %n {to = f16} : (tensor<4x8xf32>) -> tensor<4x8xf16>
  %y = onnx.Mul %b, %w : (tensor<4x8xf16>, tensor<8xf16>) -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

// Near miss: the mean over a non-trailing axis.
// CHECK-LABEL: func.func @not_trailing
// CHECK-NOT: onnx.RMSNormalization
// CHECK: onnx.ReduceMean
// REPORT: remark: not fused rms_norm recogniser: the mean is not over the trailing axis (RMSNormalization here normalises the last axis only)
func.func @not_trailing(%x: tensor<3x8xf32>, %w: tensor<8xf32>) -> tensor<3x8xf32> {
  %axes = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-6> : tensor<f32>} : tensor<f32>
  %p = onnx.Pow %x, %two : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %m = onnx.ReduceMean %p, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<1x8xf32>
  %a = onnx.Add %m, %eps : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %s = onnx.Sqrt %a : (tensor<1x8xf32>) -> tensor<1x8xf32>
  %n = onnx.Div %x, %s : (tensor<3x8xf32>, tensor<1x8xf32>) -> tensor<3x8xf32>
  %y = onnx.Mul %n, %w : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// Near miss: x divided by the root of another mean square.
// CHECK-LABEL: func.func @other_value
// CHECK-NOT: onnx.RMSNormalization
// REPORT: remark: not fused rms_norm recogniser: the input is not divided by the root mean square (Div, or Mul by its Reciprocal)
func.func @other_value(%x: tensor<3x8xf32>, %z: tensor<3x8xf32>) -> (tensor<3x8xf32>, tensor<3x8xf32>) {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-6> : tensor<f32>} : tensor<f32>
  %p = onnx.Pow %x, %two : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %m = onnx.ReduceMean %p, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %a = onnx.Add %m, %eps : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = onnx.Sqrt %a : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = onnx.Div %z, %s : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %q = onnx.Div %x, %z : (tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
  return %n, %q : tensor<3x8xf32>, tensor<3x8xf32>
}
