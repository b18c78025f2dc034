// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// Elementwise with broadcasting: one linalg.generic, the bias read through a
// broadcast map.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @add_bias
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.addf
// CHECK-NOT: onnx.
func.func @add_bias(%x: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = onnx.Add %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// Ops on 16-bit floats compute in f32: the operands widened, the result
// rounded by a truncf marked tessera.widened_rounding (a fused chain skips
// it between its ops); Where (an i1 operand) and Cast compute as they are.
// CHECK-LABEL: func.func @f16_in_f32
// CHECK: %[[A:.*]] = arith.extf %{{.*}} : f16 to f32
// CHECK: %[[B:.*]] = arith.extf %{{.*}} : f16 to f32
// CHECK: %[[S:.*]] = arith.addf %[[A]], %[[B]] : f32
// CHECK: arith.truncf %[[S]] {tessera.widened_rounding} : f32 to f16
// CHECK: %[[W:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[E:.*]] = math.erf %[[W]] : f32
// CHECK: arith.truncf %[[E]] {tessera.widened_rounding} : f32 to bf16
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f16
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK-NOT: widened_rounding
// CHECK: return
func.func @f16_in_f32(%x: tensor<3xf16>, %y: tensor<3xf16>, %z: tensor<3xbf16>, %c: tensor<3xi1>) -> (tensor<3xf16>, tensor<3xbf16>, tensor<3xf16>, tensor<3xf32>) {
  %0 = onnx.Add %x, %y : (tensor<3xf16>, tensor<3xf16>) -> tensor<3xf16>
  %1 = onnx.Erf %z : (tensor<3xbf16>) -> tensor<3xbf16>
  %2 = onnx.Where %c, %x, %y : (tensor<3xi1>, tensor<3xf16>, tensor<3xf16>) -> tensor<3xf16>
  %3 = onnx.Cast %x {to = f32} : (tensor<3xf16>) -> tensor<3xf32>
  return %0, %1, %2, %3 : tensor<3xf16>, tensor<3xbf16>, tensor<3xf16>, tensor<3xf32>
}

// -----

// Unary math, comparisons, Where and Cast keep their scalar semantics.
// CHECK-LABEL: func.func @unary_and_select
// CHECK: math.erf
// CHECK: arith.cmpf olt
// CHECK: arith.select
// CHECK: arith.fptosi {{.*}} : f32 to i64
func.func @unary_and_select(%x: tensor<3xf32>, %y: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>, tensor<3xi64>) {
  %0 = onnx.Erf %x : (tensor<3xf32>) -> tensor<3xf32>
  %1 = onnx.Less %x, %y : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  %2 = onnx.Where %1, %x, %y : (tensor<3xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %3 = onnx.Cast %x {to = i64} : (tensor<3xf32>) -> tensor<3xi64>
  return %0, %2, %3 : tensor<3xf32>, tensor<3xf32>, tensor<3xi64>
}

// -----

// Pow by a constant 2 is a multiply, not a call to pow.
// CHECK-LABEL: func.func @square
// CHECK: arith.mulf
// CHECK-NOT: math.powf
func.func @square(%x: tensor<3xf32>) -> tensor<3xf32> {
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %0 = onnx.Pow %x, %two : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// MatMul with 2-D weights folds the batch into M: one linalg.matmul.
// CHECK-LABEL: func.func @matmul_weights
// CHECK: tensor.collapse_shape {{.*}} into tensor<14x64xf32>
// CHECK: linalg.matmul ins({{.*}} : tensor<14x64xf32>, tensor<64x32xf32>) outs({{.*}} : tensor<14x32xf32>)
// CHECK: tensor.expand_shape {{.*}} into tensor<2x7x32xf32>
func.func @matmul_weights(%x: tensor<2x7x64xf32>, %w: tensor<64x32xf32>) -> tensor<2x7x32xf32> {
  %0 = onnx.MatMul %x, %w : (tensor<2x7x64xf32>, tensor<64x32xf32>) -> tensor<2x7x32xf32>
  return %0 : tensor<2x7x32xf32>
}

// -----

// Batched attention-style MatMul: linalg.batch_matmul over the folded batch.
// CHECK-LABEL: func.func @matmul_batched
// CHECK: linalg.batch_matmul ins({{.*}} : tensor<8x7x16xf32>, tensor<8x16x7xf32>) outs({{.*}} : tensor<8x7x7xf32>)
func.func @matmul_batched(%q: tensor<2x4x7x16xf32>, %k: tensor<2x4x16x7xf32>) -> tensor<2x4x7x7xf32> {
  %0 = onnx.MatMul %q, %k : (tensor<2x4x7x16xf32>, tensor<2x4x16x7xf32>) -> tensor<2x4x7x7xf32>
  return %0 : tensor<2x4x7x7xf32>
}

// -----

// Softmax: max and sum reductions over the axis, no SxS temporaries beyond
// the elementwise maps. The maximum is maxnumf (one vmaxps and a NaN check
// on x86; maximumf's NaN-propagating reduction was scalarised): a NaN input
// still makes its row NaN, through the sum.
// CHECK-LABEL: func.func @softmax
// CHECK: linalg.reduce ins({{.*}} : tensor<2x5xf32>) outs({{.*}} : tensor<2xf32>) dimensions = [1]
// CHECK: arith.maxnumf
// CHECK: math.exp
// CHECK: linalg.reduce
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = onnx.Softmax %x : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// A float16 softmax is computed in f32 (its reductions too) and rounded once.
// CHECK-LABEL: func.func @softmax_f16
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<2x5xf16>) outs(%{{.*}} : tensor<2x5xf32>)
// CHECK: arith.extf
// CHECK: linalg.reduce ins({{.*}} : tensor<2x5xf32>) outs({{.*}} : tensor<2xf32>) dimensions = [1]
// CHECK: linalg.reduce ins({{.*}} : tensor<2x5xf32>) outs({{.*}} : tensor<2xf32>) dimensions = [1]
// CHECK: arith.divf {{.*}} : f32
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x5xf32>) outs(%{{.*}} : tensor<2x5xf16>)
// CHECK: arith.truncf
func.func @softmax_f16(%x: tensor<2x5xf16>) -> tensor<2x5xf16> {
  %0 = onnx.Softmax %x : (tensor<2x5xf16>) -> tensor<2x5xf16>
  return %0 : tensor<2x5xf16>
}

// -----

// LayerNormalization over the last axis: mean, variance, rsqrt, scale, bias.
// CHECK-LABEL: func.func @layer_norm
// CHECK: linalg.reduce {{.*}} dimensions = [1]
// CHECK: arith.constant 9.99999974E-6 : f32
// CHECK: math.rsqrt
func.func @layer_norm(%x: tensor<3x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<3x8xf32> {
  %0 = onnx.LayerNormalization %x, %g, %b : (tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

// ReduceMean with keepdims: a reduction, a division and a reshape back.
// CHECK-LABEL: func.func @reduce_mean
// CHECK: linalg.reduce {{.*}} dimensions = [1]
// CHECK: arith.divf
// CHECK: tensor.expand_shape {{.*}} into tensor<3x1xf32>
func.func @reduce_mean(%x: tensor<3x8xf32>) -> tensor<3x1xf32> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %0 = onnx.ReduceMean %x, %axes : (tensor<3x8xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  return %0 : tensor<3x1xf32>
}

// -----

// Gather (embedding lookup): indices are normalised and clamped, never read
// out of bounds.
// CHECK-LABEL: func.func @gather
// CHECK: linalg.generic
// CHECK: arith.index_cast
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract
func.func @gather(%emb: tensor<100x16xf32>, %ids: tensor<2x7xi64>) -> tensor<2x7x16xf32> {
  %0 = onnx.Gather %emb, %ids {axis = 0 : si64} : (tensor<100x16xf32>, tensor<2x7xi64>) -> tensor<2x7x16xf32>
  return %0 : tensor<2x7x16xf32>
}

// -----

// A Transpose that moves only dims of size 1 keeps the elements' order: a
// reshape, no copy. One that also swaps two larger dims is a transpose.
// CHECK-LABEL: func.func @transpose_unit_dims
// CHECK-NOT: linalg.transpose
// CHECK: tensor.collapse_shape %arg0 {{.*}} : tensor<5x1x8xf32> into tensor<40xf32>
// CHECK: tensor.expand_shape %{{.*}} output_shape [1, 5, 8] : tensor<40xf32> into tensor<1x5x8xf32>
// CHECK: linalg.transpose ins(%arg1 : tensor<5x1x8xf32>) outs({{.*}} : tensor<8x1x5xf32>) permutation = [2, 1, 0]
func.func @transpose_unit_dims(%x: tensor<5x1x8xf32>, %y: tensor<5x1x8xf32>) -> (tensor<1x5x8xf32>, tensor<8x1x5xf32>) {
  %a = onnx.Transpose %x {perm = [1, 0, 2]} : (tensor<5x1x8xf32>) -> tensor<1x5x8xf32>
  %b = onnx.Transpose %y {perm = [2, 1, 0]} : (tensor<5x1x8xf32>) -> tensor<8x1x5xf32>
  return %a, %b : tensor<1x5x8xf32>, tensor<8x1x5xf32>
}

// -----

// Data movement: Transpose, Concat, a strided Slice, Split and Reshape.
// CHECK-LABEL: func.func @data_movement
// CHECK: linalg.transpose ins(%arg0 : tensor<2x3xf32>) outs({{.*}} : tensor<3x2xf32>) permutation = [1, 0]
// CHECK: %[[C0:.*]] = tensor.insert_slice %arg0 into {{.*}}[0, 0] [2, 3] [1, 1]
// CHECK: %[[C1:.*]] = tensor.insert_slice %arg0 into %[[C0]][0, 3] [2, 3] [1, 1]
// CHECK: tensor.extract_slice %[[C1]][0, 1] [2, 3] [1, 2] : tensor<2x6xf32> to tensor<2x3xf32>
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1]] : tensor<2x3xf32> into tensor<6xf32>
// CHECK: tensor.extract_slice %arg0[0, 1] [2, 2] [1, 1] : tensor<2x3xf32> to tensor<2x2xf32>
func.func @data_movement(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<2x6xf32>, tensor<2x3xf32>, tensor<6xf32>, tensor<2x2xf32>) {
  %t = onnx.Transpose %x {perm = [1, 0]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %c = onnx.Concat %x, %x {axis = 1 : si64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  %st = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %en = onnx.Constant {value = dense<6> : tensor<1xi64>} : tensor<1xi64>
  %ax = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %sp = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %s = onnx.Slice %c, %st, %en, %ax, %sp {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<2x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x3xf32>
  %shape = onnx.Constant {value = dense<6> : tensor<1xi64>} : tensor<1xi64>
  %r = onnx.Reshape %x, %shape : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<6xf32>
  %two = onnx.Constant {value = dense<[1, 2]> : tensor<2xi64>} : tensor<2xi64>
  %parts:2 = onnx.Split %x, %two {axis = 1 : si64} : (tensor<2x3xf32>, tensor<2xi64>) -> (tensor<2x1xf32>, tensor<2x2xf32>)
  return %t, %c, %s, %r, %parts#1 : tensor<3x2xf32>, tensor<2x6xf32>, tensor<2x3xf32>, tensor<6xf32>, tensor<2x2xf32>
}

// -----

// Einsum becomes one contraction.
// CHECK-LABEL: func.func @einsum
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
func.func @einsum(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %0 = onnx.Einsum %a, %b {equation = "bij,bjk->bik"} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// Unsigned integers become signless, with unsigned ops.
// CHECK-LABEL: func.func @unsigned
// CHECK-SAME: tensor<4xi8>
// CHECK: arith.divui
func.func @unsigned(%a: tensor<4xui8>, %b: tensor<4xui8>) -> tensor<4xui8> {
  %0 = onnx.Div %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}
