// RUN: tessera-opt %s --pass-pipeline='builtin.module(func.func(onnx-operand-order))' | FileCheck %s

// Canonical operand order of the commutative onnx ops: constants last, each
// group in its original order. Non-commutative ops keep their order.

// CHECK-LABEL: func @constants_last
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>, %[[P:.*]]: tensor<4xi1>)
func.func @constants_last(%x: tensor<4xf32>, %y: tensor<4xf32>, %p: tensor<4xi1>)
    -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  // CHECK-DAG: %[[C:.*]] = onnx.Constant {value = dense<2.000000e+00> : tensor<f32>} : tensor<f32>
  // CHECK-DAG: %[[D:.*]] = onnx.Constant {value = dense<3.000000e+00> : tensor<f32>} : tensor<f32>
  // CHECK-DAG: %[[T:.*]] = onnx.Constant {value = dense<true> : tensor<i1>} : tensor<i1>
  %c = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %d = onnx.Constant {value = dense<3.0> : tensor<f32>} : tensor<f32>
  %t = onnx.Constant {value = dense<true> : tensor<i1>} : tensor<i1>
  // CHECK: onnx.Add %[[X]], %[[C]]
  %0 = onnx.Add %c, %x : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Mul %[[X]], %[[C]]
  %1 = onnx.Mul %c, %x : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Max %[[X]], %[[Y]], %[[C]], %[[D]]
  %2 = onnx.Max %c, %x, %d, %y : (tensor<f32>, tensor<4xf32>, tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Min %[[X]], %[[D]]
  %3 = onnx.Min %d, %x : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Equal %[[X]], %[[C]]
  %4 = onnx.Equal %c, %x : (tensor<f32>, tensor<4xf32>) -> tensor<4xi1>
  // CHECK: onnx.And %[[P]], %[[T]]
  %5 = onnx.And %t, %p : (tensor<i1>, tensor<4xi1>) -> tensor<4xi1>
  // CHECK: onnx.Or %[[P]], %[[T]]
  %6 = onnx.Or %t, %p : (tensor<i1>, tensor<4xi1>) -> tensor<4xi1>
  // Already canonical, two non-constants, and a non-commutative op: as is.
  // CHECK: onnx.Add %[[Y]], %[[X]]
  %7 = onnx.Add %y, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Mul %[[X]], %[[D]]
  %8 = onnx.Mul %x, %d : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  // CHECK: onnx.Sub %[[C]], %[[X]]
  %9 = onnx.Sub %c, %x : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
