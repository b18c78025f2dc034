// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-recognize-layer-norm))' | FileCheck %s
// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-recognize-layer-norm{report=true}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT

// The opset-14 export of torch's LayerNorm: Pow 2, Div, gamma and beta, with
// dynamic batch and sequence dims.
// CHECK-LABEL: func.func @pow_div
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x8xf32>, %[[G:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK-NOT: onnx.{{ReduceMean|Sub|Pow|Sqrt|Div|Mul|Add|Reciprocal|Cast}}
// CHECK: %[[Y:.*]] = onnx.LayerNormalization %[[X]], %[[G]], %[[B]] {epsilon = 9.99999996E-13 : f32} : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused layer_norm recogniser
func.func @pow_div(%x: tensor<?x?x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-12> : tensor<f32>} : tensor<f32>
  %m = onnx.ReduceMean %x, %axes : (tensor<?x?x8xf32>, tensor<1xi64>) -> tensor<?x?x1xf32>
  %d = onnx.Sub %x, %m : (tensor<?x?x8xf32>, tensor<?x?x1xf32>) -> tensor<?x?x8xf32>
  %p = onnx.Pow %d, %two : (tensor<?x?x8xf32>, tensor<f32>) -> tensor<?x?x8xf32>
  %v = onnx.ReduceMean %p, %axes : (tensor<?x?x8xf32>, tensor<1xi64>) -> tensor<?x?x1xf32>
  %ve = onnx.Add %v, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = onnx.Sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = onnx.Div %d, %s : (tensor<?x?x8xf32>, tensor<?x?x1xf32>) -> tensor<?x?x8xf32>
  %y0 = onnx.Mul %n, %g : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %y = onnx.Add %y0, %b : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// Mul by itself, Reciprocal + Mul, the axis as a positive index, operands in
// the other order, epsilon first; no beta. (Default attributes, axis -1 and
// epsilon 1e-5, are not printed.)
// CHECK-LABEL: func.func @mul_reciprocal
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8xf32>, %[[G:.*]]: tensor<8xf32>)
// CHECK-NOT: onnx.{{ReduceMean|Sub|Pow|Sqrt|Div|Mul|Add|Reciprocal|Cast}}
// CHECK: %[[Y:.*]] = onnx.LayerNormalization %[[X]], %[[G]] : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused layer_norm recogniser
func.func @mul_reciprocal(%x: tensor<2x3x8xf32>, %g: tensor<8xf32>) -> tensor<2x3x8xf32> {
  %axes = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %eps = onnx.Constant {value = dense<1.0e-5> : tensor<1xf32>} : tensor<1xf32>
  %m = onnx.ReduceMean %x, %axes : (tensor<2x3x8xf32>, tensor<1xi64>) -> tensor<2x3x1xf32>
  %d = onnx.Sub %x, %m : (tensor<2x3x8xf32>, tensor<2x3x1xf32>) -> tensor<2x3x8xf32>
  %p = onnx.Mul %d, %d : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %v = onnx.ReduceMean %p, %axes : (tensor<2x3x8xf32>, tensor<1xi64>) -> tensor<2x3x1xf32>
  %ve = onnx.Add %eps, %v : (tensor<1xf32>, tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %s = onnx.Sqrt %ve : (tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %r = onnx.Reciprocal %s : (tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %n = onnx.Mul %r, %d : (tensor<2x3x1xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %y = onnx.Mul %g, %n : (tensor<8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

// No gamma and no beta: the LayerNormalization scales by ones.
// CHECK-LABEL: func.func @no_affine
// CHECK-NOT: onnx.{{ReduceMean|Sub|Pow|Sqrt|Div|Mul|Add|Reciprocal|Cast}}
// CHECK: %[[ONES:.*]] = onnx.Constant {value = dense<1.000000e+00> : tensor<4xf32>} : tensor<4xf32>
// CHECK-NOT: onnx.{{ReduceMean|Sub|Pow|Sqrt|Div|Mul|Add|Reciprocal|Cast}}
// CHECK: %[[Y:.*]] = onnx.LayerNormalization %arg0, %[[ONES]] : (tensor<5x4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused layer_norm recogniser
func.func @no_affine(%x: tensor<5x4xf32>) -> tensor<5x4xf32> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %m = onnx.ReduceMean %x, %axes : (tensor<5x4xf32>, tensor<1xi64>) -> tensor<5x1xf32>
  %d = onnx.Sub %x, %m : (tensor<5x4xf32>, tensor<5x1xf32>) -> tensor<5x4xf32>
  %p = onnx.Pow %d, %two : (tensor<5x4xf32>, tensor<f32>) -> tensor<5x4xf32>
  %v = onnx.ReduceMean %p, %axes : (tensor<5x4xf32>, tensor<1xi64>) -> tensor<5x1xf32>
  %ve = onnx.Add %v, %eps : (tensor<5x1xf32>, tensor<f32>) -> tensor<5x1xf32>
  %s = onnx.Sqrt %ve : (tensor<5x1xf32>) -> tensor<5x1xf32>
  %n = onnx.Div %d, %s : (tensor<5x4xf32>, tensor<5x1xf32>) -> tensor<5x4xf32>
  return %n : tensor<5x4xf32>
}

// -----

// f16 in, statistics in f32 between two Casts: the Casts are absorbed (the
// LayerNormalization keeps its statistics in f32, stash_type 1).
// CHECK-LABEL: func.func @casts
// CHECK-NOT: onnx.Cast
// CHECK: %[[Y:.*]] = onnx.LayerNormalization %arg0, %arg1, %arg2 : (tensor<3x8xf16>, tensor<8xf16>, tensor<8xf16>) -> tensor<3x8xf16>
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused layer_norm recogniser
func.func @casts(%x16: tensor<3x8xf16>, %g: tensor<8xf16>, %b: tensor<8xf16>) -> tensor<3x8xf16> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %x = onnx.Cast %x16 {to = f32} : (tensor<3x8xf16>) -> tensor<3x8xf32>
  %m = onnx.ReduceMean %x, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %d = onnx.Sub %x, %m : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %p = onnx.Pow %d, %two : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %v = onnx.ReduceMean %p, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %ve = onnx.Add %v, %eps : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = onnx.Sqrt %ve : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = onnx.Div %d, %s : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %n16 = onnx.Cast %n {to = f16} : (tensor<3x8xf32>) -> tensor<3x8xf16>
  %y0 = onnx.Mul %n16, %g : (tensor<3x8xf16>, tensor<8xf16>) -> tensor<3x8xf16>
  %y = onnx.Add %y0, %b : (tensor<3x8xf16>, tensor<8xf16>) -> tensor<3x8xf16>
  return %y : tensor<3x8xf16>
}

// -----

// gamma broadcast from [1, 8] and a beta whose input has another use: the
// normalisation is recognised, the Mul and Add stay as they are.
// CHECK-LABEL: func.func @affine_not_absorbed
// CHECK: %[[ONES:.*]] = onnx.Constant {value = dense<1.000000e+00> : tensor<8xf32>}
// CHECK: %[[LN:.*]] = onnx.LayerNormalization %arg0, %[[ONES]] :
// CHECK-NEXT: %[[Y0:.*]] = onnx.Mul %[[LN]], %arg1
// CHECK-NEXT: %[[Y:.*]] = onnx.Add %[[Y0]], %arg2
// CHECK-NEXT: return %[[Y]], %[[Y0]]
// REPORT: remark: fused layer_norm recogniser
func.func @affine_not_absorbed(%x: tensor<3x8xf32>, %g: tensor<1x8xf32>, %b: tensor<8xf32>) -> (tensor<3x8xf32>, tensor<3x8xf32>) {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %m = onnx.ReduceMean %x, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %d = onnx.Sub %x, %m : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %p = onnx.Pow %d, %two : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %v = onnx.ReduceMean %p, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %ve = onnx.Add %v, %eps : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = onnx.Sqrt %ve : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = onnx.Div %d, %s : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %y0 = onnx.Mul %n, %g : (tensor<3x8xf32>, tensor<1x8xf32>) -> tensor<3x8xf32>
  %y = onnx.Add %y0, %b : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  return %y, %y0 : tensor<3x8xf32>, tensor<3x8xf32>
}

// -----

// Negative: the mean over a non-trailing axis.
// CHECK-LABEL: func.func @not_trailing
// CHECK-NOT: onnx.LayerNormalization
// CHECK: onnx.ReduceMean
// REPORT: remark: not fused layer_norm recogniser: the mean is not over the trailing axis with keepdims
func.func @not_trailing(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %axes = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %m = onnx.ReduceMean %x, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<1x8xf32>
  %d = onnx.Sub %x, %m : (tensor<3x8xf32>, tensor<1x8xf32>) -> tensor<3x8xf32>
  %p = onnx.Pow %d, %two : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %v = onnx.ReduceMean %p, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<1x8xf32>
  %ve = onnx.Add %v, %eps : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %s = onnx.Sqrt %ve : (tensor<1x8xf32>) -> tensor<1x8xf32>
  %n = onnx.Div %d, %s : (tensor<3x8xf32>, tensor<1x8xf32>) -> tensor<3x8xf32>
  return %n : tensor<3x8xf32>
}

// -----

// Negative: the variance over another axis than the mean.
// CHECK-LABEL: func.func @variance_other_axis
// CHECK-NOT: onnx.LayerNormalization
// REPORT: remark: not fused layer_norm recogniser: the variance is not over the trailing axis with keepdims
func.func @variance_other_axis(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %axes0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %m = onnx.ReduceMean %x, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %d = onnx.Sub %x, %m : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %p = onnx.Pow %d, %two : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %v = onnx.ReduceMean %p, %axes0 : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<1x8xf32>
  %ve = onnx.Add %v, %eps : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %s = onnx.Sqrt %ve : (tensor<1x8xf32>) -> tensor<1x8xf32>
  %n = onnx.Div %d, %s : (tensor<3x8xf32>, tensor<1x8xf32>) -> tensor<3x8xf32>
  return %n : tensor<3x8xf32>
}

// -----

// Negative: the mean without keepdims cannot be subtracted the same way.
// CHECK-LABEL: func.func @no_keepdims
// CHECK-NOT: onnx.LayerNormalization
// REPORT: remark: not fused layer_norm recogniser: the mean is not over the trailing axis with keepdims
func.func @no_keepdims(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %m = onnx.ReduceMean %x, %axes {keepdims = 0 : si64} : (tensor<8x8xf32>, tensor<1xi64>) -> tensor<8xf32>
  %d = onnx.Sub %x, %m : (tensor<8x8xf32>, tensor<8xf32>) -> tensor<8x8xf32>
  %p = onnx.Pow %d, %two : (tensor<8x8xf32>, tensor<f32>) -> tensor<8x8xf32>
  %v = onnx.ReduceMean %p, %axes : (tensor<8x8xf32>, tensor<1xi64>) -> tensor<8x1xf32>
  %ve = onnx.Add %v, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %s = onnx.Sqrt %ve : (tensor<8x1xf32>) -> tensor<8x1xf32>
  %n = onnx.Div %d, %s : (tensor<8x8xf32>, tensor<8x1xf32>) -> tensor<8x8xf32>
  return %n : tensor<8x8xf32>
}

// -----

// Negative: the centred value is also returned, epsilon is not a constant,
// and the exponent is 3, in three functions.
// CHECK-LABEL: func.func @centred_used
// CHECK-NOT: onnx.LayerNormalization
// REPORT: remark: not fused layer_norm recogniser: the centred value has other uses
func.func @centred_used(%x: tensor<3x8xf32>) -> (tensor<3x8xf32>, tensor<3x8xf32>) {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %m = onnx.ReduceMean %x, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %d = onnx.Sub %x, %m : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %p = onnx.Pow %d, %two : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %v = onnx.ReduceMean %p, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %ve = onnx.Add %v, %eps : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = onnx.Sqrt %ve : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = onnx.Div %d, %s : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  return %n, %d : tensor<3x8xf32>, tensor<3x8xf32>
}

// -----

// CHECK-LABEL: func.func @eps_not_constant
// CHECK-NOT: onnx.LayerNormalization
// REPORT: remark: not fused layer_norm recogniser: epsilon is not a non-negative scalar constant
func.func @eps_not_constant(%x: tensor<3x8xf32>, %eps: tensor<f32>) -> tensor<3x8xf32> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %m = onnx.ReduceMean %x, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %d = onnx.Sub %x, %m : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %p = onnx.Pow %d, %two : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %v = onnx.ReduceMean %p, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %ve = onnx.Add %v, %eps : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = onnx.Sqrt %ve : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = onnx.Div %d, %s : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  return %n : tensor<3x8xf32>
}

// -----

// CHECK-LABEL: func.func @cube
// CHECK-NOT: onnx.LayerNormalization
// REPORT: remark: not fused layer_norm recogniser: the centred value has other uses
func.func @cube(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %three = onnx.Constant {value = dense<3.0> : tensor<f32>} : tensor<f32>
  %eps = onnx.Constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %m = onnx.ReduceMean %x, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %d = onnx.Sub %x, %m : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %p = onnx.Pow %d, %three : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %v = onnx.ReduceMean %p, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %ve = onnx.Add %v, %eps : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = onnx.Sqrt %ve : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = onnx.Div %d, %s : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  return %n : tensor<3x8xf32>
}

// -----

// An integer exponent.
// CHECK-LABEL: func.func @int_exponent
// CHECK-NOT: onnx.Pow
// CHECK: onnx.LayerNormalization
// REPORT: remark: fused layer_norm recogniser
func.func @int_exponent(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2> : tensor<i64>} : tensor<i64>
  %eps = onnx.Constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %m = onnx.ReduceMean %x, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %d = onnx.Sub %x, %m : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %p = onnx.Pow %d, %two : (tensor<3x8xf32>, tensor<i64>) -> tensor<3x8xf32>
  %v = onnx.ReduceMean %p, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  %ve = onnx.Add %v, %eps : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = onnx.Sqrt %ve : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = onnx.Div %d, %s : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  return %n : tensor<3x8xf32>
}
