// RUN: tessera-opt %s | tessera-opt | FileCheck %s
// RUN: tessera-opt %s --mlir-print-op-generic | tessera-opt | FileCheck %s

// Round-trip of every op of the onnx dialect, in the custom and the generic
// form. Default-valued attributes are elided by the printer, so the CHECK lines
// spell out the whole op up to its type to make sure nothing else is printed.

//===----------------------------------------------------------------------===//
// Math.td
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @binary(
// CHECK-SAME: %[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<3xf32>, %[[D:.*]]: tensor<?x128xf32>, %[[E:.*]]: tensor<1x128xf32>, %[[S:.*]]: tensor<f32>, %[[I:.*]]: tensor<4xi32>, %[[P:.*]]: tensor<i64>, %[[U:.*]]: tensor<*xf32>)
func.func @binary(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %d: tensor<?x128xf32>,
                  %e: tensor<1x128xf32>, %s: tensor<f32>, %i: tensor<4xi32>,
                  %p: tensor<i64>, %u: tensor<*xf32>) {
  // CHECK: = onnx.Add %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %0 = onnx.Add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: = onnx.Sub %[[D]], %[[E]] : (tensor<?x128xf32>, tensor<1x128xf32>) -> tensor<?x128xf32>
  %1 = onnx.Sub %d, %e : (tensor<?x128xf32>, tensor<1x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Mul %[[S]], %[[D]] : (tensor<f32>, tensor<?x128xf32>) -> tensor<?x128xf32>
  %2 = onnx.Mul %s, %d : (tensor<f32>, tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Div %[[I]], %[[I]] : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %3 = onnx.Div %i, %i : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  // The exponent may have another element type.
  // CHECK: = onnx.Pow %[[A]], %[[P]] : (tensor<2x3xf32>, tensor<i64>) -> tensor<2x3xf32>
  %4 = onnx.Pow %a, %p : (tensor<2x3xf32>, tensor<i64>) -> tensor<2x3xf32>
  // Unranked operands and results are accepted.
  // CHECK: = onnx.Add %[[U]], %[[A]] : (tensor<*xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  %5 = onnx.Add %u, %a : (tensor<*xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  // Dynamic result dims are compatible with static broadcast dims.
  // CHECK: = onnx.Mul %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<?x?xf32>
  %6 = onnx.Mul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<?x?xf32>
  return
}

// CHECK-LABEL: func.func @variadic_max_min(
// CHECK-SAME: %[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<3xf32>, %[[C:.*]]: tensor<?x1xf32>)
func.func @variadic_max_min(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %c: tensor<?x1xf32>) {
  // CHECK: = onnx.Max %[[A]] : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %0 = onnx.Max %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: = onnx.Max %[[A]], %[[B]], %[[C]] : (tensor<2x3xf32>, tensor<3xf32>, tensor<?x1xf32>) -> tensor<2x3xf32>
  %1 = onnx.Max %a, %b, %c : (tensor<2x3xf32>, tensor<3xf32>, tensor<?x1xf32>) -> tensor<2x3xf32>
  // CHECK: = onnx.Min %[[B]], %[[C]] : (tensor<3xf32>, tensor<?x1xf32>) -> tensor<?x3xf32>
  %2 = onnx.Min %b, %c : (tensor<3xf32>, tensor<?x1xf32>) -> tensor<?x3xf32>
  // CHECK: = onnx.Min %[[A]], %[[B]], %[[C]] : (tensor<2x3xf32>, tensor<3xf32>, tensor<?x1xf32>) -> tensor<2x3xf32>
  %3 = onnx.Min %a, %b, %c : (tensor<2x3xf32>, tensor<3xf32>, tensor<?x1xf32>) -> tensor<2x3xf32>
  return
}

// CHECK-LABEL: func.func @unary(
// CHECK-SAME: %[[X:.*]]: tensor<?x128xf32>, %[[U:.*]]: tensor<*xf32>)
func.func @unary(%x: tensor<?x128xf32>, %u: tensor<*xf32>) {
  // CHECK: = onnx.Sqrt %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %0 = onnx.Sqrt %x : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Reciprocal %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %1 = onnx.Reciprocal %x : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Neg %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %2 = onnx.Neg %x : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Abs %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %3 = onnx.Abs %x : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Exp %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %4 = onnx.Exp %x : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Log %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %5 = onnx.Log %x : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Erf %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %6 = onnx.Erf %x : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Tanh %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %7 = onnx.Tanh %x : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Sigmoid %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %8 = onnx.Sigmoid %x : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Relu %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %9 = onnx.Relu %x : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // A dynamic dim in the result is compatible with a static input dim.
  // CHECK: = onnx.Relu %[[X]] : (tensor<?x128xf32>) -> tensor<?x?xf32>
  %10 = onnx.Relu %x : (tensor<?x128xf32>) -> tensor<?x?xf32>
  // CHECK: = onnx.Exp %[[U]] : (tensor<*xf32>) -> tensor<*xf32>
  %11 = onnx.Exp %u : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// CHECK-LABEL: func.func @gelu(
// CHECK-SAME: %[[X:.*]]: tensor<?x128xf32>)
func.func @gelu(%x: tensor<?x128xf32>) {
  // CHECK: = onnx.Gelu %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %0 = onnx.Gelu %x : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // The default value is elided when printed.
  // CHECK: = onnx.Gelu %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %1 = onnx.Gelu %x {approximate = "none"} : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Gelu %[[X]] {approximate = "tanh"} : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %2 = onnx.Gelu %x {approximate = "tanh"} : (tensor<?x128xf32>) -> tensor<?x128xf32>
  return
}

// CHECK-LABEL: func.func @clip(
// CHECK-SAME: %[[X:.*]]: tensor<?x128xf32>, %[[LO:.*]]: tensor<f32>, %[[HI:.*]]: tensor<1xf32>)
func.func @clip(%x: tensor<?x128xf32>, %lo: tensor<f32>, %hi: tensor<1xf32>) {
  // CHECK: = onnx.Clip %[[X]], %[[LO]], %[[HI]] {operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<?x128xf32>, tensor<f32>, tensor<1xf32>) -> tensor<?x128xf32>
  %0 = onnx.Clip %x, %lo, %hi {operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<?x128xf32>, tensor<f32>, tensor<1xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Clip %[[X]], %[[LO]] {operandSegmentSizes = array<i32: 1, 1, 0>} : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %1 = onnx.Clip %x, %lo {operandSegmentSizes = array<i32: 1, 1, 0>} : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Clip %[[X]], %[[HI]] {operandSegmentSizes = array<i32: 1, 0, 1>} : (tensor<?x128xf32>, tensor<1xf32>) -> tensor<?x128xf32>
  %2 = onnx.Clip %x, %hi {operandSegmentSizes = array<i32: 1, 0, 1>} : (tensor<?x128xf32>, tensor<1xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Clip %[[X]] {operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %3 = onnx.Clip %x {operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<?x128xf32>) -> tensor<?x128xf32>
  return
}

// CHECK-LABEL: func.func @cast(
// CHECK-SAME: %[[X:.*]]: tensor<?x128xf32>, %[[T:.*]]: tensor<i64>)
func.func @cast(%x: tensor<?x128xf32>, %t: tensor<i64>) {
  // CHECK: = onnx.Cast %[[X]] {to = f16} : (tensor<?x128xf32>) -> tensor<?x128xf16>
  %0 = onnx.Cast %x {to = f16} : (tensor<?x128xf32>) -> tensor<?x128xf16>
  // CHECK: = onnx.Cast %[[X]] {saturate = 0 : si64, to = i64} : (tensor<?x128xf32>) -> tensor<?x128xi64>
  %1 = onnx.Cast %x {saturate = 0 : si64, to = i64} : (tensor<?x128xf32>) -> tensor<?x128xi64>
  // CHECK: = onnx.Cast %[[X]] {to = i1} : (tensor<?x128xf32>) -> tensor<?x128xi1>
  %2 = onnx.Cast %x {saturate = 1 : si64, to = i1} : (tensor<?x128xf32>) -> tensor<?x128xi1>
  // CHECK: = onnx.CastLike %[[X]], %[[T]] : (tensor<?x128xf32>, tensor<i64>) -> tensor<?x128xi64>
  %3 = onnx.CastLike %x, %t : (tensor<?x128xf32>, tensor<i64>) -> tensor<?x128xi64>
  // CHECK: = onnx.CastLike %[[X]], %[[T]] {saturate = 0 : si64} : (tensor<?x128xf32>, tensor<i64>) -> tensor<?x128xi64>
  %4 = onnx.CastLike %x, %t {saturate = 0 : si64} : (tensor<?x128xf32>, tensor<i64>) -> tensor<?x128xi64>
  return
}

//===----------------------------------------------------------------------===//
// Logic.td
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @compare(
// CHECK-SAME: %[[A:.*]]: tensor<?x128xf32>, %[[B:.*]]: tensor<128xf32>, %[[I:.*]]: tensor<2x3xi64>, %[[J:.*]]: tensor<i64>)
func.func @compare(%a: tensor<?x128xf32>, %b: tensor<128xf32>, %i: tensor<2x3xi64>, %j: tensor<i64>) {
  // CHECK: = onnx.Equal %[[A]], %[[B]] : (tensor<?x128xf32>, tensor<128xf32>) -> tensor<?x128xi1>
  %0 = onnx.Equal %a, %b : (tensor<?x128xf32>, tensor<128xf32>) -> tensor<?x128xi1>
  // CHECK: = onnx.Less %[[A]], %[[B]] : (tensor<?x128xf32>, tensor<128xf32>) -> tensor<?x128xi1>
  %1 = onnx.Less %a, %b : (tensor<?x128xf32>, tensor<128xf32>) -> tensor<?x128xi1>
  // CHECK: = onnx.Greater %[[I]], %[[J]] : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi1>
  %2 = onnx.Greater %i, %j : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi1>
  // CHECK: = onnx.LessOrEqual %[[I]], %[[J]] : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi1>
  %3 = onnx.LessOrEqual %i, %j : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi1>
  // CHECK: = onnx.GreaterOrEqual %[[A]], %[[A]] : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xi1>
  %4 = onnx.GreaterOrEqual %a, %a : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xi1>
  return
}

// CHECK-LABEL: func.func @logical(
// CHECK-SAME: %[[P:.*]]: tensor<?x4xi1>, %[[Q:.*]]: tensor<4xi1>)
func.func @logical(%p: tensor<?x4xi1>, %q: tensor<4xi1>) {
  // CHECK: = onnx.And %[[P]], %[[Q]] : (tensor<?x4xi1>, tensor<4xi1>) -> tensor<?x4xi1>
  %0 = onnx.And %p, %q : (tensor<?x4xi1>, tensor<4xi1>) -> tensor<?x4xi1>
  // CHECK: = onnx.Or %[[Q]], %[[P]] : (tensor<4xi1>, tensor<?x4xi1>) -> tensor<?x4xi1>
  %1 = onnx.Or %q, %p : (tensor<4xi1>, tensor<?x4xi1>) -> tensor<?x4xi1>
  // CHECK: = onnx.Not %[[P]] : (tensor<?x4xi1>) -> tensor<?x4xi1>
  %2 = onnx.Not %p : (tensor<?x4xi1>) -> tensor<?x4xi1>
  return
}

// CHECK-LABEL: func.func @where(
// CHECK-SAME: %[[C:.*]]: tensor<?x1xi1>, %[[X:.*]]: tensor<128xf32>, %[[Y:.*]]: tensor<f32>)
func.func @where(%c: tensor<?x1xi1>, %x: tensor<128xf32>, %y: tensor<f32>) {
  // CHECK: = onnx.Where %[[C]], %[[X]], %[[Y]] : (tensor<?x1xi1>, tensor<128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %0 = onnx.Where %c, %x, %y : (tensor<?x1xi1>, tensor<128xf32>, tensor<f32>) -> tensor<?x128xf32>
  return
}

//===----------------------------------------------------------------------===//
// NN.td
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @softmax(
// CHECK-SAME: %[[X:.*]]: tensor<?x12x128xf32>)
func.func @softmax(%x: tensor<?x12x128xf32>) {
  // CHECK: = onnx.Softmax %[[X]] : (tensor<?x12x128xf32>) -> tensor<?x12x128xf32>
  %0 = onnx.Softmax %x : (tensor<?x12x128xf32>) -> tensor<?x12x128xf32>
  // CHECK: = onnx.Softmax %[[X]] {axis = 1 : si64} : (tensor<?x12x128xf32>) -> tensor<?x12x128xf32>
  %1 = onnx.Softmax %x {axis = 1 : si64} : (tensor<?x12x128xf32>) -> tensor<?x12x128xf32>
  // CHECK: = onnx.LogSoftmax %[[X]] : (tensor<?x12x128xf32>) -> tensor<?x12x128xf32>
  %2 = onnx.LogSoftmax %x {axis = -1 : si64} : (tensor<?x12x128xf32>) -> tensor<?x12x128xf32>
  // CHECK: = onnx.LogSoftmax %[[X]] {axis = -3 : si64} : (tensor<?x12x128xf32>) -> tensor<?x12x128xf32>
  %3 = onnx.LogSoftmax %x {axis = -3 : si64} : (tensor<?x12x128xf32>) -> tensor<?x12x128xf32>
  return
}

// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: %[[A:.*]]: tensor<?x128xf32>, %[[B:.*]]: tensor<128x64xf32>, %[[C:.*]]: tensor<8x?x16x128xf32>, %[[V:.*]]: tensor<128xf32>)
func.func @matmul(%a: tensor<?x128xf32>, %b: tensor<128x64xf32>,
                  %c: tensor<8x?x16x128xf32>, %v: tensor<128xf32>) {
  // CHECK: = onnx.MatMul %[[A]], %[[B]] : (tensor<?x128xf32>, tensor<128x64xf32>) -> tensor<?x64xf32>
  %0 = onnx.MatMul %a, %b : (tensor<?x128xf32>, tensor<128x64xf32>) -> tensor<?x64xf32>
  // CHECK: = onnx.MatMul %[[C]], %[[B]] : (tensor<8x?x16x128xf32>, tensor<128x64xf32>) -> tensor<8x?x16x64xf32>
  %1 = onnx.MatMul %c, %b : (tensor<8x?x16x128xf32>, tensor<128x64xf32>) -> tensor<8x?x16x64xf32>
  // CHECK: = onnx.MatMul %[[A]], %[[V]] : (tensor<?x128xf32>, tensor<128xf32>) -> tensor<?xf32>
  %2 = onnx.MatMul %a, %v : (tensor<?x128xf32>, tensor<128xf32>) -> tensor<?xf32>
  // CHECK: = onnx.MatMul %[[V]], %[[B]] : (tensor<128xf32>, tensor<128x64xf32>) -> tensor<64xf32>
  %3 = onnx.MatMul %v, %b : (tensor<128xf32>, tensor<128x64xf32>) -> tensor<64xf32>
  return
}

// CHECK-LABEL: func.func @gemm(
// CHECK-SAME: %[[A:.*]]: tensor<?x128xf32>, %[[B:.*]]: tensor<64x128xf32>, %[[C:.*]]: tensor<64xf32>, %[[D:.*]]: tensor<128x?xf32>)
func.func @gemm(%a: tensor<?x128xf32>, %b: tensor<64x128xf32>, %c: tensor<64xf32>,
                %d: tensor<128x?xf32>) {
  // CHECK: = onnx.Gemm %[[A]], %[[B]], %[[C]] {transB = 1 : si64} : (tensor<?x128xf32>, tensor<64x128xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %0 = onnx.Gemm %a, %b, %c {transB = 1 : si64} : (tensor<?x128xf32>, tensor<64x128xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  // C absent.
  // CHECK: = onnx.Gemm %[[A]], %[[B]] {alpha = 5.000000e-01 : f32, transB = 1 : si64} : (tensor<?x128xf32>, tensor<64x128xf32>) -> tensor<?x64xf32>
  %1 = onnx.Gemm %a, %b {alpha = 0.5 : f32, transB = 1 : si64} : (tensor<?x128xf32>, tensor<64x128xf32>) -> tensor<?x64xf32>
  // CHECK: = onnx.Gemm %[[D]], %[[B]], %[[C]] {beta = 2.000000e+00 : f32, transA = 1 : si64, transB = 1 : si64} : (tensor<128x?xf32>, tensor<64x128xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %2 = onnx.Gemm %d, %b, %c {alpha = 1.0 : f32, beta = 2.0 : f32, transA = 1 : si64, transB = 1 : si64} : (tensor<128x?xf32>, tensor<64x128xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  // CHECK: = onnx.Gemm %[[A]], %[[D]] : (tensor<?x128xf32>, tensor<128x?xf32>) -> tensor<?x?xf32>
  %3 = onnx.Gemm %a, %d : (tensor<?x128xf32>, tensor<128x?xf32>) -> tensor<?x?xf32>
  return
}

// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME: %[[X:.*]]: tensor<?x?x768xf32>, %[[S:.*]]: tensor<768xf32>, %[[B:.*]]: tensor<768xf32>)
func.func @layer_norm(%x: tensor<?x?x768xf32>, %s: tensor<768xf32>, %b: tensor<768xf32>) {
  // CHECK: = onnx.LayerNormalization %[[X]], %[[S]], %[[B]] : (tensor<?x?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
  %0 = onnx.LayerNormalization %x, %s, %b {axis = -1 : si64, epsilon = 9.99999974E-6 : f32} : (tensor<?x?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
  // B absent.
  // CHECK: = onnx.LayerNormalization %[[X]], %[[S]] {epsilon = 9.99999996E-13 : f32} : (tensor<?x?x768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
  %1 = onnx.LayerNormalization %x, %s {epsilon = 9.99999996E-13 : f32} : (tensor<?x?x768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
  // CHECK: = onnx.LayerNormalization %[[X]], %[[S]], %[[B]] {axis = 2 : si64, stash_type = 0 : si64} : (tensor<?x?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
  %2 = onnx.LayerNormalization %x, %s, %b {axis = 2 : si64, stash_type = 0 : si64} : (tensor<?x?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
  return
}

// CHECK-LABEL: func.func @dropout(
// CHECK-SAME: %[[X:.*]]: tensor<?x128xf32>, %[[R:.*]]: tensor<f32>, %[[T:.*]]: tensor<i1>)
func.func @dropout(%x: tensor<?x128xf32>, %r: tensor<f32>, %t: tensor<i1>) {
  // CHECK: = onnx.Dropout %[[X]] {operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %0 = onnx.Dropout %x {operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Dropout %[[X]], %[[R]] {operandSegmentSizes = array<i32: 1, 1, 0>} : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %1 = onnx.Dropout %x, %r {operandSegmentSizes = array<i32: 1, 1, 0>} : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Dropout %[[X]], %[[R]], %[[T]] {operandSegmentSizes = array<i32: 1, 1, 1>, seed = 42 : si64} : (tensor<?x128xf32>, tensor<f32>, tensor<i1>) -> tensor<?x128xf32>
  %2 = onnx.Dropout %x, %r, %t {operandSegmentSizes = array<i32: 1, 1, 1>, seed = 42 : si64} : (tensor<?x128xf32>, tensor<f32>, tensor<i1>) -> tensor<?x128xf32>
  // CHECK: = onnx.Dropout %[[X]], %[[T]] {operandSegmentSizes = array<i32: 1, 0, 1>} : (tensor<?x128xf32>, tensor<i1>) -> tensor<?x128xf32>
  %3 = onnx.Dropout %x, %t {operandSegmentSizes = array<i32: 1, 0, 1>} : (tensor<?x128xf32>, tensor<i1>) -> tensor<?x128xf32>
  return
}

// CHECK-LABEL: func.func @conv(
// CHECK-SAME: %[[X:.*]]: tensor<?x3x224x224xf32>, %[[W:.*]]: tensor<768x3x16x16xf32>, %[[B:.*]]: tensor<768xf32>, %[[GX:.*]]: tensor<1x8x?xf32>, %[[GW:.*]]: tensor<4x2x3xf32>)
func.func @conv(%x: tensor<?x3x224x224xf32>, %w: tensor<768x3x16x16xf32>, %b: tensor<768xf32>,
                %gx: tensor<1x8x?xf32>, %gw: tensor<4x2x3xf32>) {
  // CHECK: = onnx.Conv %[[X]], %[[W]], %[[B]] {kernel_shape = [16, 16], strides = [16, 16]} : (tensor<?x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32>) -> tensor<?x768x14x14xf32>
  %0 = onnx.Conv %x, %w, %b {kernel_shape = [16, 16], strides = [16, 16]} : (tensor<?x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32>) -> tensor<?x768x14x14xf32>
  // B absent; every attribute set (the default group is elided when printed).
  // CHECK: = onnx.Conv %[[X]], %[[W]] {auto_pad = "VALID", dilations = [1, 1], kernel_shape = [16, 16], pads = [0, 0, 0, 0], strides = [16, 16]} : (tensor<?x3x224x224xf32>, tensor<768x3x16x16xf32>) -> tensor<?x768x14x14xf32>
  %1 = onnx.Conv %x, %w {auto_pad = "VALID", dilations = [1, 1], group = 1 : si64, kernel_shape = [16, 16], pads = [0, 0, 0, 0], strides = [16, 16]} : (tensor<?x3x224x224xf32>, tensor<768x3x16x16xf32>) -> tensor<?x768x14x14xf32>
  // Grouped 1-D convolution: 8 input channels = 2 weight channels x group 4.
  // CHECK: = onnx.Conv %[[GX]], %[[GW]] {auto_pad = "SAME_UPPER", group = 4 : si64} : (tensor<1x8x?xf32>, tensor<4x2x3xf32>) -> tensor<1x4x?xf32>
  %2 = onnx.Conv %gx, %gw {auto_pad = "SAME_UPPER", group = 4 : si64} : (tensor<1x8x?xf32>, tensor<4x2x3xf32>) -> tensor<1x4x?xf32>
  return
}

// CHECK-LABEL: func.func @einsum(
// CHECK-SAME: %[[Q:.*]]: tensor<?x12x128x64xf32>, %[[K:.*]]: tensor<?x12x128x64xf32>, %[[M:.*]]: tensor<4x4xf32>)
func.func @einsum(%q: tensor<?x12x128x64xf32>, %k: tensor<?x12x128x64xf32>, %m: tensor<4x4xf32>) {
  // CHECK: = onnx.Einsum %[[Q]], %[[K]] {equation = "bhid,bhjd->bhij"} : (tensor<?x12x128x64xf32>, tensor<?x12x128x64xf32>) -> tensor<?x12x128x128xf32>
  %0 = onnx.Einsum %q, %k {equation = "bhid,bhjd->bhij"} : (tensor<?x12x128x64xf32>, tensor<?x12x128x64xf32>) -> tensor<?x12x128x128xf32>
  // CHECK: = onnx.Einsum %[[M]] {equation = "ii->i"} : (tensor<4x4xf32>) -> tensor<4xf32>
  %1 = onnx.Einsum %m {equation = "ii->i"} : (tensor<4x4xf32>) -> tensor<4xf32>
  // Implicit output.
  // CHECK: = onnx.Einsum %[[M]], %[[M]] {equation = "ij,jk"} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %2 = onnx.Einsum %m, %m {equation = "ij,jk"} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return
}

// CHECK-LABEL: func.func @reduce(
// CHECK-SAME: %[[X:.*]]: tensor<?x12x128xf32>, %[[AX:.*]]: tensor<2xi64>)
func.func @reduce(%x: tensor<?x12x128xf32>, %ax: tensor<2xi64>) {
  // CHECK: %[[C:.*]] = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %c = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  // CHECK: = onnx.ReduceMean %[[X]], %[[C]] : (tensor<?x12x128xf32>, tensor<1xi64>) -> tensor<?x12x1xf32>
  %0 = onnx.ReduceMean %x, %c : (tensor<?x12x128xf32>, tensor<1xi64>) -> tensor<?x12x1xf32>
  // CHECK: = onnx.ReduceSum %[[X]], %[[AX]] {keepdims = 0 : si64} : (tensor<?x12x128xf32>, tensor<2xi64>) -> tensor<?xf32>
  %1 = onnx.ReduceSum %x, %ax {keepdims = 0 : si64} : (tensor<?x12x128xf32>, tensor<2xi64>) -> tensor<?xf32>
  // axes absent: reduce over all axes.
  // CHECK: = onnx.ReduceMax %[[X]] : (tensor<?x12x128xf32>) -> tensor<1x1x1xf32>
  %2 = onnx.ReduceMax %x {keepdims = 1 : si64} : (tensor<?x12x128xf32>) -> tensor<1x1x1xf32>
  // axes absent with noop_with_empty_axes: identity.
  // CHECK: = onnx.ReduceMin %[[X]] {noop_with_empty_axes = 1 : si64} : (tensor<?x12x128xf32>) -> tensor<?x12x128xf32>
  %3 = onnx.ReduceMin %x {noop_with_empty_axes = 1 : si64} : (tensor<?x12x128xf32>) -> tensor<?x12x128xf32>
  // CHECK: = onnx.ReduceMin %[[X]], %[[C]] {keepdims = 0 : si64} : (tensor<?x12x128xf32>, tensor<1xi64>) -> tensor<?x12xf32>
  %4 = onnx.ReduceMin %x, %c {keepdims = 0 : si64} : (tensor<?x12x128xf32>, tensor<1xi64>) -> tensor<?x12xf32>
  return
}

//===----------------------------------------------------------------------===//
// Tensor.td
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @constant(
func.func @constant() {
  // CHECK: = onnx.Constant {value = dense<[1, 2]> : tensor<2xi64>} : tensor<2xi64>
  %0 = onnx.Constant {value = dense<[1, 2]> : tensor<2xi64>} : tensor<2xi64>
  // CHECK: = onnx.Constant {value = dense<5.000000e-01> : tensor<f32>} : tensor<f32>
  %1 = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  // CHECK: = onnx.Constant {value = dense<0.000000e+00> : tensor<2x3xf16>} : tensor<2x3xf16>
  %2 = onnx.Constant {value = dense<0.0> : tensor<2x3xf16>} : tensor<2x3xf16>
  // CHECK: = onnx.Constant {value = dense<{{\[\[}}true, false], [false, true]]> : tensor<2x2xi1>} : tensor<2x2xi1>
  %3 = onnx.Constant {value = dense<[[true, false], [false, true]]> : tensor<2x2xi1>} : tensor<2x2xi1>
  // CHECK: = onnx.Constant {value = dense<> : tensor<0xi64>} : tensor<0xi64>
  %4 = onnx.Constant {value = dense<> : tensor<0xi64>} : tensor<0xi64>
  return
}

// CHECK-LABEL: func.func @constant_of_shape(
// CHECK-SAME: %[[S:.*]]: tensor<3xi64>)
func.func @constant_of_shape(%s: tensor<3xi64>) {
  // value absent: zeros of f32.
  // CHECK: = onnx.ConstantOfShape %[[S]] : (tensor<3xi64>) -> tensor<?x?x?xf32>
  %0 = onnx.ConstantOfShape %s : (tensor<3xi64>) -> tensor<?x?x?xf32>
  // CHECK: = onnx.ConstantOfShape %[[S]] {value = dense<1> : tensor<1xi64>} : (tensor<3xi64>) -> tensor<?x?x?xi64>
  %1 = onnx.ConstantOfShape %s {value = dense<1> : tensor<1xi64>} : (tensor<3xi64>) -> tensor<?x?x?xi64>
  // CHECK: = onnx.ConstantOfShape %[[S]] {value = dense<-1.000000e+00> : tensor<1xf32>} : (tensor<3xi64>) -> tensor<2x3x4xf32>
  %2 = onnx.ConstantOfShape %s {value = dense<-1.0> : tensor<1xf32>} : (tensor<3xi64>) -> tensor<2x3x4xf32>
  return
}

// CHECK-LABEL: func.func @identity(
// CHECK-SAME: %[[X:.*]]: tensor<?x128xf32>)
func.func @identity(%x: tensor<?x128xf32>) {
  // CHECK: = onnx.Identity %[[X]] : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %0 = onnx.Identity %x : (tensor<?x128xf32>) -> tensor<?x128xf32>
  return
}

// CHECK-LABEL: func.func @reshape(
// CHECK-SAME: %[[X:.*]]: tensor<?x128xf32>, %[[S:.*]]: tensor<3xi64>)
func.func @reshape(%x: tensor<?x128xf32>, %s: tensor<3xi64>) {
  // CHECK: %[[C:.*]] = onnx.Constant {value = dense<[0, -1, 64]> : tensor<3xi64>} : tensor<3xi64>
  %c = onnx.Constant {value = dense<[0, -1, 64]> : tensor<3xi64>} : tensor<3xi64>
  // CHECK: = onnx.Reshape %[[X]], %[[C]] : (tensor<?x128xf32>, tensor<3xi64>) -> tensor<?x2x64xf32>
  %0 = onnx.Reshape %x, %c : (tensor<?x128xf32>, tensor<3xi64>) -> tensor<?x2x64xf32>
  // CHECK: = onnx.Reshape %[[X]], %[[S]] {allowzero = 1 : si64} : (tensor<?x128xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %1 = onnx.Reshape %x, %s {allowzero = 1 : si64} : (tensor<?x128xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return
}

// CHECK-LABEL: func.func @transpose(
// CHECK-SAME: %[[X:.*]]: tensor<?x12x128x64xf32>, %[[U:.*]]: tensor<*xf32>)
func.func @transpose(%x: tensor<?x12x128x64xf32>, %u: tensor<*xf32>) {
  // CHECK: = onnx.Transpose %[[X]] {perm = [0, 2, 1, 3]} : (tensor<?x12x128x64xf32>) -> tensor<?x128x12x64xf32>
  %0 = onnx.Transpose %x {perm = [0, 2, 1, 3]} : (tensor<?x12x128x64xf32>) -> tensor<?x128x12x64xf32>
  // CHECK: = onnx.Transpose %[[U]] {perm = [1, 0]} : (tensor<*xf32>) -> tensor<*xf32>
  %1 = onnx.Transpose %u {perm = [1, 0]} : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// CHECK-LABEL: func.func @gather(
// CHECK-SAME: %[[D:.*]]: tensor<30522x768xf32>, %[[I:.*]]: tensor<?x128xi64>, %[[J:.*]]: tensor<i32>)
func.func @gather(%d: tensor<30522x768xf32>, %i: tensor<?x128xi64>, %j: tensor<i32>) {
  // CHECK: = onnx.Gather %[[D]], %[[I]] : (tensor<30522x768xf32>, tensor<?x128xi64>) -> tensor<?x128x768xf32>
  %0 = onnx.Gather %d, %i : (tensor<30522x768xf32>, tensor<?x128xi64>) -> tensor<?x128x768xf32>
  // CHECK: = onnx.Gather %[[D]], %[[J]] {axis = 1 : si64} : (tensor<30522x768xf32>, tensor<i32>) -> tensor<30522xf32>
  %1 = onnx.Gather %d, %j {axis = 1 : si64} : (tensor<30522x768xf32>, tensor<i32>) -> tensor<30522xf32>
  // CHECK: = onnx.Gather %[[D]], %[[J]] {axis = -2 : si64} : (tensor<30522x768xf32>, tensor<i32>) -> tensor<768xf32>
  %2 = onnx.Gather %d, %j {axis = -2 : si64} : (tensor<30522x768xf32>, tensor<i32>) -> tensor<768xf32>
  return
}

// CHECK-LABEL: func.func @shape_size(
// CHECK-SAME: %[[X:.*]]: tensor<?x12x128xf32>, %[[U:.*]]: tensor<*xf32>)
func.func @shape_size(%x: tensor<?x12x128xf32>, %u: tensor<*xf32>) {
  // CHECK: = onnx.Shape %[[X]] : (tensor<?x12x128xf32>) -> tensor<3xi64>
  %0 = onnx.Shape %x : (tensor<?x12x128xf32>) -> tensor<3xi64>
  // CHECK: = onnx.Shape %[[X]] {end = -1 : si64, start = 1 : si64} : (tensor<?x12x128xf32>) -> tensor<1xi64>
  %1 = onnx.Shape %x {start = 1 : si64, end = -1 : si64} : (tensor<?x12x128xf32>) -> tensor<1xi64>
  // CHECK: = onnx.Shape %[[U]] : (tensor<*xf32>) -> tensor<?xi64>
  %2 = onnx.Shape %u : (tensor<*xf32>) -> tensor<?xi64>
  // CHECK: = onnx.Size %[[X]] : (tensor<?x12x128xf32>) -> tensor<i64>
  %3 = onnx.Size %x : (tensor<?x12x128xf32>) -> tensor<i64>
  return
}

// CHECK-LABEL: func.func @unsqueeze_squeeze(
// CHECK-SAME: %[[X:.*]]: tensor<?x128xf32>, %[[Y:.*]]: tensor<1x?x1xf32>, %[[AX:.*]]: tensor<2xi64>)
func.func @unsqueeze_squeeze(%x: tensor<?x128xf32>, %y: tensor<1x?x1xf32>, %ax: tensor<2xi64>) {
  // CHECK: %[[C:.*]] = onnx.Constant {value = dense<[0, -1]> : tensor<2xi64>} : tensor<2xi64>
  %c = onnx.Constant {value = dense<[0, -1]> : tensor<2xi64>} : tensor<2xi64>
  // CHECK: = onnx.Unsqueeze %[[X]], %[[C]] : (tensor<?x128xf32>, tensor<2xi64>) -> tensor<1x?x128x1xf32>
  %0 = onnx.Unsqueeze %x, %c : (tensor<?x128xf32>, tensor<2xi64>) -> tensor<1x?x128x1xf32>
  // CHECK: = onnx.Unsqueeze %[[X]], %[[AX]] : (tensor<?x128xf32>, tensor<2xi64>) -> tensor<?x?x?x?xf32>
  %1 = onnx.Unsqueeze %x, %ax : (tensor<?x128xf32>, tensor<2xi64>) -> tensor<?x?x?x?xf32>
  // CHECK: = onnx.Squeeze %[[Y]], %[[C]] : (tensor<1x?x1xf32>, tensor<2xi64>) -> tensor<?xf32>
  %2 = onnx.Squeeze %y, %c : (tensor<1x?x1xf32>, tensor<2xi64>) -> tensor<?xf32>
  // axes absent: squeeze every unit dim.
  // CHECK: = onnx.Squeeze %[[Y]] : (tensor<1x?x1xf32>) -> tensor<?xf32>
  %3 = onnx.Squeeze %y : (tensor<1x?x1xf32>) -> tensor<?xf32>
  return
}

// CHECK-LABEL: func.func @flatten(
// CHECK-SAME: %[[X:.*]]: tensor<?x3x4x5xf32>)
func.func @flatten(%x: tensor<?x3x4x5xf32>) {
  // CHECK: = onnx.Flatten %[[X]] : (tensor<?x3x4x5xf32>) -> tensor<?x60xf32>
  %0 = onnx.Flatten %x : (tensor<?x3x4x5xf32>) -> tensor<?x60xf32>
  // CHECK: = onnx.Flatten %[[X]] {axis = 0 : si64} : (tensor<?x3x4x5xf32>) -> tensor<1x?xf32>
  %1 = onnx.Flatten %x {axis = 0 : si64} : (tensor<?x3x4x5xf32>) -> tensor<1x?xf32>
  // axis may equal the rank.
  // CHECK: = onnx.Flatten %[[X]] {axis = 4 : si64} : (tensor<?x3x4x5xf32>) -> tensor<?x1xf32>
  %2 = onnx.Flatten %x {axis = 4 : si64} : (tensor<?x3x4x5xf32>) -> tensor<?x1xf32>
  // CHECK: = onnx.Flatten %[[X]] {axis = -2 : si64} : (tensor<?x3x4x5xf32>) -> tensor<?x20xf32>
  %3 = onnx.Flatten %x {axis = -2 : si64} : (tensor<?x3x4x5xf32>) -> tensor<?x20xf32>
  return
}

// CHECK-LABEL: func.func @concat(
// CHECK-SAME: %[[A:.*]]: tensor<?x128xf32>, %[[B:.*]]: tensor<1x128xf32>, %[[C:.*]]: tensor<?x?xf32>)
func.func @concat(%a: tensor<?x128xf32>, %b: tensor<1x128xf32>, %c: tensor<?x?xf32>) {
  // CHECK: = onnx.Concat %[[B]], %[[A]] {axis = 0 : si64} : (tensor<1x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
  %0 = onnx.Concat %b, %a {axis = 0 : si64} : (tensor<1x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: = onnx.Concat %[[A]], %[[C]], %[[A]] {axis = -1 : si64} : (tensor<?x128xf32>, tensor<?x?xf32>, tensor<?x128xf32>) -> tensor<?x?xf32>
  %1 = onnx.Concat %a, %c, %a {axis = -1 : si64} : (tensor<?x128xf32>, tensor<?x?xf32>, tensor<?x128xf32>) -> tensor<?x?xf32>
  // CHECK: = onnx.Concat %[[B]] {axis = 1 : si64} : (tensor<1x128xf32>) -> tensor<1x128xf32>
  %2 = onnx.Concat %b {axis = 1 : si64} : (tensor<1x128xf32>) -> tensor<1x128xf32>
  return
}

// CHECK-LABEL: func.func @slice(
// CHECK-SAME: %[[X:.*]]: tensor<?x128xf32>, %[[S:.*]]: tensor<1xi64>, %[[E:.*]]: tensor<1xi64>, %[[AX:.*]]: tensor<1xi32>, %[[ST:.*]]: tensor<1xi64>, %[[D:.*]]: tensor<?xi64>)
func.func @slice(%x: tensor<?x128xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>,
                 %ax: tensor<1xi32>, %st: tensor<1xi64>, %d: tensor<?xi64>) {
  // CHECK: = onnx.Slice %[[X]], %[[S]], %[[E]] {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<?x128xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x128xf32>
  %0 = onnx.Slice %x, %s, %e {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<?x128xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x128xf32>
  // CHECK: = onnx.Slice %[[X]], %[[S]], %[[E]], %[[AX]] {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<?x128xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi32>) -> tensor<?x?xf32>
  %1 = onnx.Slice %x, %s, %e, %ax {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<?x128xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi32>) -> tensor<?x?xf32>
  // CHECK: = onnx.Slice %[[X]], %[[S]], %[[E]], %[[AX]], %[[ST]] {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x128xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi32>, tensor<1xi64>) -> tensor<?x?xf32>
  %2 = onnx.Slice %x, %s, %e, %ax, %st {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x128xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi32>, tensor<1xi64>) -> tensor<?x?xf32>
  // steps without axes; dynamic-length starts/ends.
  // CHECK: = onnx.Slice %[[X]], %[[D]], %[[D]], %[[ST]] {operandSegmentSizes = array<i32: 1, 1, 1, 0, 1>} : (tensor<?x128xf32>, tensor<?xi64>, tensor<?xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  %3 = onnx.Slice %x, %d, %d, %st {operandSegmentSizes = array<i32: 1, 1, 1, 0, 1>} : (tensor<?x128xf32>, tensor<?xi64>, tensor<?xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  return
}

// CHECK-LABEL: func.func @split(
// CHECK-SAME: %[[X:.*]]: tensor<?x768xf32>, %[[SP:.*]]: tensor<3xi64>)
func.func @split(%x: tensor<?x768xf32>, %sp: tensor<3xi64>) {
  // CHECK: %[[C:.*]] = onnx.Constant {value = dense<[256, 512]> : tensor<2xi64>} : tensor<2xi64>
  %c = onnx.Constant {value = dense<[256, 512]> : tensor<2xi64>} : tensor<2xi64>
  // CHECK: = onnx.Split %[[X]], %[[C]] {axis = 1 : si64} : (tensor<?x768xf32>, tensor<2xi64>) -> (tensor<?x256xf32>, tensor<?x512xf32>)
  %0:2 = onnx.Split %x, %c {axis = 1 : si64} : (tensor<?x768xf32>, tensor<2xi64>) -> (tensor<?x256xf32>, tensor<?x512xf32>)
  // split absent, num_outputs given.
  // CHECK: = onnx.Split %[[X]] {axis = -1 : si64, num_outputs = 3 : si64} : (tensor<?x768xf32>) -> (tensor<?x256xf32>, tensor<?x256xf32>, tensor<?x256xf32>)
  %1:3 = onnx.Split %x {axis = -1 : si64, num_outputs = 3 : si64} : (tensor<?x768xf32>) -> (tensor<?x256xf32>, tensor<?x256xf32>, tensor<?x256xf32>)
  // Non-constant split sizes along a dynamic axis.
  // CHECK: = onnx.Split %[[X]], %[[SP]] : (tensor<?x768xf32>, tensor<3xi64>) -> (tensor<?x768xf32>, tensor<?x768xf32>, tensor<?x768xf32>)
  %2:3 = onnx.Split %x, %sp : (tensor<?x768xf32>, tensor<3xi64>) -> (tensor<?x768xf32>, tensor<?x768xf32>, tensor<?x768xf32>)
  // A single result.
  // CHECK: = onnx.Split %[[X]] : (tensor<?x768xf32>) -> tensor<?x768xf32>
  %3 = onnx.Split %x : (tensor<?x768xf32>) -> tensor<?x768xf32>
  return
}

// CHECK-LABEL: func.func @expand_tile(
// CHECK-SAME: %[[X:.*]]: tensor<?x1xf32>, %[[S:.*]]: tensor<3xi64>, %[[R:.*]]: tensor<2xi64>, %[[D:.*]]: tensor<?xi64>)
func.func @expand_tile(%x: tensor<?x1xf32>, %s: tensor<3xi64>, %r: tensor<2xi64>, %d: tensor<?xi64>) {
  // CHECK: = onnx.Expand %[[X]], %[[S]] : (tensor<?x1xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %0 = onnx.Expand %x, %s : (tensor<?x1xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  // CHECK: = onnx.Tile %[[X]], %[[R]] : (tensor<?x1xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %1 = onnx.Tile %x, %r : (tensor<?x1xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  // CHECK: = onnx.Tile %[[X]], %[[D]] : (tensor<?x1xf32>, tensor<?xi64>) -> tensor<?x?xf32>
  %2 = onnx.Tile %x, %d : (tensor<?x1xf32>, tensor<?xi64>) -> tensor<?x?xf32>
  return
}

// CHECK-LABEL: func.func @range(
// CHECK-SAME: %[[S:.*]]: tensor<i64>, %[[L:.*]]: tensor<i64>, %[[D:.*]]: tensor<i64>, %[[F:.*]]: tensor<f32>, %[[G:.*]]: tensor<1xf32>)
func.func @range(%s: tensor<i64>, %l: tensor<i64>, %d: tensor<i64>, %f: tensor<f32>, %g: tensor<1xf32>) {
  // CHECK: = onnx.Range %[[S]], %[[L]], %[[D]] : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %0 = onnx.Range %s, %l, %d : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  // Single-element 1-D operands count as scalars.
  // CHECK: = onnx.Range %[[F]], %[[G]], %[[F]] : (tensor<f32>, tensor<1xf32>, tensor<f32>) -> tensor<10xf32>
  %1 = onnx.Range %f, %g, %f : (tensor<f32>, tensor<1xf32>, tensor<f32>) -> tensor<10xf32>
  return
}

// CHECK-LABEL: func.func @trilu(
// CHECK-SAME: %[[X:.*]]: tensor<?x128x128xf32>, %[[K:.*]]: tensor<i64>)
func.func @trilu(%x: tensor<?x128x128xf32>, %k: tensor<i64>) {
  // CHECK: = onnx.Trilu %[[X]] : (tensor<?x128x128xf32>) -> tensor<?x128x128xf32>
  %0 = onnx.Trilu %x : (tensor<?x128x128xf32>) -> tensor<?x128x128xf32>
  // CHECK: = onnx.Trilu %[[X]], %[[K]] {upper = 0 : si64} : (tensor<?x128x128xf32>, tensor<i64>) -> tensor<?x128x128xf32>
  %1 = onnx.Trilu %x, %k {upper = 0 : si64} : (tensor<?x128x128xf32>, tensor<i64>) -> tensor<?x128x128xf32>
  return
}
