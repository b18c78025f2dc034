// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// tessera.matmul: A's batch dims fold into M, one linalg.matmul with the
// constant weight into a zero-filled C, then one elementwise epilogue (bias,
// then GELU with onnx.Gelu's erf formula), and the result is expanded back.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @bias_gelu_erf
// CHECK: %[[W:.*]] = arith.constant dense<5.000000e-01> : tensor<8x16xf32>
// CHECK: %[[A:.*]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<2x4x8xf32> into tensor<8x8xf32>
// CHECK: %[[Z:.*]] = linalg.fill
// CHECK: %[[C:.*]] = linalg.matmul ins(%[[A]], %[[W]] : tensor<8x8xf32>, tensor<8x16xf32>) outs(%[[Z]] : tensor<8x16xf32>)
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[C]], %arg1 : tensor<8x16xf32>, tensor<16xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %[[BIAS:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[X:.*]] = arith.addf %[[IN]], %[[BIAS]]
// CHECK: arith.mulf %[[X]], %{{.*}}
// CHECK: math.erf
// CHECK: tensor.expand_shape %[[Y]] {{\[}}[0, 1], [2]] output_shape [2, 4, 16] : tensor<8x16xf32> into tensor<2x4x16xf32>
// CHECK-NOT: tessera.matmul
func.func @bias_gelu_erf(%x: tensor<2x4x8xf32>, %b: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x16xf32>} : tensor<8x16xf32>
  %0 = tessera.matmul %x, %w, %b {activation = "gelu_erf"} : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

// GELU with the tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// CHECK-LABEL: func.func @bias_gelu_tanh
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: arith.constant 4.471500e-02 : f32
// CHECK: math.tanh
// CHECK-NOT: math.erf
func.func @bias_gelu_tanh(%x: tensor<4x8xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x16xf32>} : tensor<8x16xf32>
  %0 = tessera.matmul %x, %w, %b {activation = "gelu_tanh"} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Relu is max(x, 0), as onnx.Relu lowers.
// CHECK-LABEL: func.func @bias_relu
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK: %[[X:.*]] = arith.addf
// CHECK: arith.maximumf %[[X]], %{{.*}} : f32
func.func @bias_relu(%x: tensor<4x8xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x16xf32>} : tensor<8x16xf32>
  %0 = tessera.matmul %x, %w, %b {activation = "relu"} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Bias only: the epilogue just adds; without bias or activation there is no
// epilogue at all.
// CHECK-LABEL: func.func @bias_only
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0
// CHECK-NEXT: %[[X:.*]] = arith.addf
// CHECK-NEXT: linalg.yield %[[X]]
// CHECK-LABEL: func.func @plain
// CHECK: %[[C:.*]] = linalg.matmul
// CHECK-NOT: linalg.generic
// CHECK: return %[[C]]
func.func @bias_only(%x: tensor<4x8xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x16xf32>} : tensor<8x16xf32>
  %0 = tessera.matmul %x, %w, %b : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}
func.func @plain(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x16xf32>} : tensor<8x16xf32>
  %0 = tessera.matmul %x, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Dynamic leading dims fold into a dynamic M; K and N (the constant weight)
// stay static, so tessera-vectorize-matmul still packs and register-tiles it.
// CHECK-LABEL: func.func @dynamic_rows
// CHECK: %[[B:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[S:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[A:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<?x?x8xf32> into tensor<?x8xf32>
// CHECK: %[[ROWS:.*]] = arith.muli %[[B]], %[[S]]
// CHECK: %[[E:.*]] = tensor.empty(%[[ROWS]]) : tensor<?x16xf32>
// CHECK: %[[Z:.*]] = linalg.fill {{.*}} outs(%[[E]] : tensor<?x16xf32>)
// CHECK: %[[C:.*]] = linalg.matmul ins(%[[A]], %{{.*}} : tensor<?x8xf32>, tensor<8x16xf32>) outs(%[[Z]] : tensor<?x16xf32>)
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[C]], %arg1 : tensor<?x16xf32>, tensor<16xf32>)
// CHECK: arith.maximumf
// CHECK: tensor.expand_shape %[[Y]] {{.*}} output_shape [%[[B]], %[[S]], 16] : tensor<?x16xf32> into tensor<?x?x16xf32>
// CHECK-NOT: tessera.matmul
func.func @dynamic_rows(%x: tensor<?x?x8xf32>, %b: tensor<16xf32>) -> tensor<?x?x16xf32> {
  %w = arith.constant dense<1.0> : tensor<8x16xf32>
  %0 = tessera.matmul %x, %w, %b {activation = "relu"} : (tensor<?x?x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<?x?x16xf32>
  return %0 : tensor<?x?x16xf32>
}

// -----

// f16: the constant weight is widened to f32 at compile time (a weight the
// schedule packs), A by an elementwise extf; the product accumulates in f32
// and the epilogue adds the widened bias and rounds to f16 once.
// CHECK-LABEL: func.func @f16_bias
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<widened_weights{{.*}}> : tensor<8x16xf32>
// CHECK-DAG: %[[A:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<4x8xf16>) outs(%{{.*}} : tensor<4x8xf32>)
// CHECK: %[[C:.*]] = linalg.matmul ins(%[[A]], %[[W]] : tensor<4x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<4x16xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[C]], %arg1 : tensor<4x16xf32>, tensor<16xf16>) outs(%{{.*}} : tensor<4x16xf16>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %[[BIAS:.*]]: f16, %{{.*}}: f16):
// CHECK: %[[B32:.*]] = arith.extf %[[BIAS]] : f16 to f32
// CHECK: %[[S:.*]] = arith.addf %[[IN]], %[[B32]] : f32
// CHECK: arith.truncf %[[S]] : f32 to f16
func.func @f16_bias(%x: tensor<4x8xf16>, %b: tensor<16xf16>) -> tensor<4x16xf16> {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x16xf16>} : tensor<8x16xf16>
  %0 = tessera.matmul %x, %w, %b : (tensor<4x8xf16>, tensor<8x16xf16>, tensor<16xf16>) -> tensor<4x16xf16>
  return %0 : tensor<4x16xf16>
}

// -----

// An unfused bf16 MatMul of two activations: both widened, multiplied in
// f32, rounded to bf16 once.
// CHECK-LABEL: func.func @bf16_matmul
// CHECK: %[[A:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<3x5xbf16>) outs(%{{.*}} : tensor<3x5xf32>)
// CHECK: %[[B:.*]] = linalg.generic {{.*}} ins(%arg1 : tensor<5x7xbf16>) outs(%{{.*}} : tensor<5x7xf32>)
// CHECK: %[[C:.*]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<3x5xf32>, tensor<5x7xf32>) outs(%{{.*}} : tensor<3x7xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[C]] : tensor<3x7xf32>) outs(%{{.*}} : tensor<3x7xbf16>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @bf16_matmul(%a: tensor<3x5xbf16>, %b: tensor<5x7xbf16>) -> tensor<3x7xbf16> {
  %0 = onnx.MatMul %a, %b : (tensor<3x5xbf16>, tensor<5x7xbf16>) -> tensor<3x7xbf16>
  return %0 : tensor<3x7xbf16>
}
