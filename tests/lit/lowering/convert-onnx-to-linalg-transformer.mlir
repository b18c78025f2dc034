// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// A gated GEMM: two matmuls of A, with the gate's and the value's halves of
// the weight, and act(gate) * value reading both products (which
// tessera-vectorize-matmul packs into shared panels).
// CHECK-LABEL: func.func @swiglu
// CHECK-DAG: %[[G:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00]]> : tensor<1x2xf32>
// CHECK-DAG: %[[V:.*]] = arith.constant dense<{{\[}}[3.000000e+00, 4.000000e+00]]> : tensor<1x2xf32>
// CHECK: %[[MG:.*]] = linalg.matmul ins(%{{.*}}, %[[G]] : {{.*}}) -> tensor<?x2xf32>
// CHECK: %[[MV:.*]] = linalg.matmul ins(%{{.*}}, %[[V]] : {{.*}}) -> tensor<?x2xf32>
// CHECK: linalg.generic {{.*}} ins(%[[MG]], %[[MV]] : tensor<?x2xf32>, tensor<?x2xf32>)
// CHECK: ^bb0(%[[IG:[a-z0-9_]+]]: f32, %[[IV:[a-z0-9_]+]]: f32
// CHECK: math.exp
// CHECK: %[[S:.*]] = arith.divf %[[IG]]
// CHECK: arith.mulf %[[S]], %[[IV]]
func.func @swiglu(%x: tensor<?x1xf32>) -> tensor<?x2xf32> {
  %w = onnx.Constant {value = dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>} : tensor<1x4xf32>
  %y = tessera.matmul %x, %w {activation = "swiglu"} : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// A float16 gated GEMM: the weight's halves widened at compile time, A
// widened, both products in f32, the result rounded once.
// CHECK-LABEL: func.func @swiglu_f16
// CHECK-DAG: %[[G:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00]]> : tensor<1x2xf32>
// CHECK-DAG: %[[V:.*]] = arith.constant dense<{{\[}}[3.000000e+00, 4.000000e+00]]> : tensor<1x2xf32>
// CHECK: %[[A:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<?x1xf16>) outs(%{{.*}} : tensor<?x1xf32>)
// CHECK: %[[MG:.*]] = linalg.matmul ins(%[[A]], %[[G]] : {{.*}}) -> tensor<?x2xf32>
// CHECK: %[[MV:.*]] = linalg.matmul ins(%[[A]], %[[V]] : {{.*}}) -> tensor<?x2xf32>
// CHECK: linalg.generic {{.*}} ins(%[[MG]], %[[MV]] : tensor<?x2xf32>, tensor<?x2xf32>) outs(%{{.*}} : tensor<?x2xf16>)
// CHECK: arith.truncf
func.func @swiglu_f16(%x: tensor<?x1xf16>) -> tensor<?x2xf16> {
  %w = onnx.Constant {value = dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf16>} : tensor<1x4xf16>
  %y = tessera.matmul %x, %w {activation = "swiglu"} : (tensor<?x1xf16>, tensor<1x4xf16>) -> tensor<?x2xf16>
  return %y : tensor<?x2xf16>
}

// -----

// The ops with kernels of their own stay for tessera-lower-fused-kernels,
// reading the converted values of their operands: the fused ops and opset
// 23's RMSNormalization and RotaryEmbedding (their position ids signless).
// CHECK-LABEL: func.func @kernel_ops_stay
// CHECK: %[[X:.*]] = linalg.generic
// CHECK: %[[Y:.*]], %{{.*}} = tessera.add_layer_norm %[[X]], %arg1, %arg2
// CHECK: %[[N:.*]] = onnx.RMSNormalization %[[Y]], %arg2
// CHECK: onnx.RotaryEmbedding %{{.*}}, %arg3, %arg3, %arg4 {{.*}} tensor<1x2xi64>
// CHECK-NOT: scf.for
// CHECK-NOT: vector.
func.func @kernel_ops_stay(%x: tensor<2x32xf32>, %r: tensor<2x32xf32>, %g: tensor<32xf32>, %cs: tensor<4x8xf32>, %p: tensor<1x2xui64>) -> (tensor<2x32xf32>, tensor<1x2x32xf32>) {
  %a = onnx.Add %x, %x : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
  %y, %sum = tessera.add_layer_norm %a, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<2x32xf32>, tensor<2x32xf32>, tensor<32xf32>) -> (tensor<2x32xf32>, tensor<2x32xf32>)
  %n = onnx.RMSNormalization %y, %g {epsilon = 1.0e-6 : f32} : (tensor<2x32xf32>, tensor<32xf32>) -> tensor<2x32xf32>
  %shape = onnx.Constant {value = dense<[1, 2, 32]> : tensor<3xi64>} : tensor<3xi64>
  %n3 = onnx.Reshape %n, %shape : (tensor<2x32xf32>, tensor<3xi64>) -> tensor<1x2x32xf32>
  %q = onnx.RotaryEmbedding %n3, %cs, %cs, %p {num_heads = 2 : si64} : (tensor<1x2x32xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<1x2xui64>) -> tensor<1x2x32xf32>
  return %sum, %q : tensor<2x32xf32>, tensor<1x2x32xf32>
}
