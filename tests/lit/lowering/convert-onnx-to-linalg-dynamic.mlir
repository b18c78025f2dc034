// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg --canonicalize --cse | FileCheck %s

// Lowering with dynamic dims: sizes come from tensor.dim of the operands (or
// from shape operands read at run time), results are tensor.empty with
// dynamic sizes, and what can only be checked at run time is a cf.assert
// naming the node.

// Elementwise with a static bias: sizes from tensor.dim, no run-time check.
// CHECK-LABEL: func.func @add_bias
// CHECK-NOT: cf.assert
// CHECK-DAG: %[[D0:.*]] = tensor.dim %arg0, %c0
// CHECK-DAG: %[[D1:.*]] = tensor.dim %arg0, %c1
// CHECK: tensor.empty(%[[D0]], %[[D1]]) : tensor<?x?x768xf32>
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<?x?x768xf32>, tensor<768xf32>)
func.func @add_bias(%x: tensor<?x?x768xf32>, %b: tensor<768xf32>) -> tensor<?x?x768xf32> {
  %0 = onnx.Add %x, %b : (tensor<?x?x768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
  return %0 : tensor<?x?x768xf32>
}

// -----

// Two dynamic dims must agree: a cf.assert naming the node.
// CHECK-LABEL: func.func @add_dyn
// CHECK: %[[A:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[B:.*]] = tensor.dim %arg1, %c0
// CHECK: %[[EQ:.*]] = arith.cmpi eq, %[[B]], %[[A]]
// CHECK: cf.assert %[[EQ]], "node 'add1': operand 1 does not broadcast: its dim 0 differs from the other operands'"
// CHECK: tensor.empty(%[[A]]) : tensor<?x4xf32>
func.func @add_dyn(%x: tensor<?x4xf32>, %y: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = onnx.Add %x, %y {onnx_node_name = "a"} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32> loc("add1")
  return %0 : tensor<?x4xf32>
}

// -----

// MatMul with a weight: batch and M fold into one dynamic M, K and N stay
// static, and the result is expanded back (no flattening, no check).
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: cf.assert
// CHECK: %[[A:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<?x?x64xf32> into tensor<?x64xf32>
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[A]], %arg1 : tensor<?x64xf32>, tensor<64x32xf32>) outs({{.*}} : tensor<?x32xf32>)
// Two dynamic dims in one group: tensor.reshape (MLIR 19 bufferizes
// expand_shape without its output_shape).
// CHECK: %[[S:.*]] = tensor.from_elements %{{.*}}, %{{.*}}, %c32 : tensor<3xindex>
// CHECK: tensor.reshape %[[M]](%[[S]]) : (tensor<?x32xf32>, tensor<3xindex>) -> tensor<?x?x32xf32>
func.func @matmul(%x: tensor<?x?x64xf32>, %w: tensor<64x32xf32>) -> tensor<?x?x32xf32> {
  %0 = onnx.MatMul %x, %w : (tensor<?x?x64xf32>, tensor<64x32xf32>) -> tensor<?x?x32xf32>
  return %0 : tensor<?x?x32xf32>
}

// -----

// Batched matmul: the dynamic batch dims must agree; they fold into one.
// CHECK-LABEL: func.func @bmm
// CHECK: cf.assert %{{.*}}, "node 'qk': operand 1 does not broadcast: its dim 0 differs from the other operands'"
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2], [3]] : tensor<?x4x?x16xf32> into tensor<?x?x16xf32>
// CHECK: linalg.batch_matmul {{.*}} -> tensor<?x?x?xf32>
// CHECK: tensor.expand_shape {{.*}} into tensor<?x4x?x?xf32>
func.func @bmm(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32> {
  %0 = onnx.MatMul %q, %k : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32> loc("qk")
  return %0 : tensor<?x4x?x?xf32>
}

// -----

// A constant shape with 0s copies the input's dynamic dims: one expand.
// CHECK-LABEL: func.func @reshape_const
// CHECK-NOT: cf.assert
// CHECK: tensor.expand_shape %arg0 {{\[\[}}0], [1], [2, 3]] output_shape [%{{.*}}, %{{.*}}, 12, 64] : tensor<?x?x768xf32> into tensor<?x?x12x64xf32>
func.func @reshape_const(%x: tensor<?x?x768xf32>) -> tensor<?x?x12x64xf32> {
  %s = onnx.Constant {value = dense<[0, 0, 12, 64]> : tensor<4xi64>} : tensor<4xi64>
  %0 = onnx.Reshape %x, %s : (tensor<?x?x768xf32>, tensor<4xi64>) -> tensor<?x?x12x64xf32>
  return %0 : tensor<?x?x12x64xf32>
}

// -----

// A shape read at run time: ONNX's rules and checks, then through 1-D.
// CHECK-LABEL: func.func @reshape_rt
// CHECK: tensor.extract %arg1[%c0] : tensor<3xi64>
// CHECK: cf.assert %{{.*}}, "node 'r': the shape has a negative entry other than -1"
// CHECK: cf.assert %{{.*}}, "node 'r': the shape has more than one -1"
// CHECK: arith.divsi %c24
// CHECK: cf.assert %{{.*}}, "node 'r': the shape does not have the input's number of elements"
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
// CHECK: tensor.reshape {{.*}} -> tensor<?x?x?xf32>
func.func @reshape_rt(%x: tensor<2x3x4xf32>, %s: tensor<3xi64>) -> tensor<?x?x?xf32> {
  %0 = onnx.Reshape %x, %s : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<?x?x?xf32> loc("r")
  return %0 : tensor<?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @softmax
// CHECK: tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x4x?xf32>
// CHECK: linalg.reduce ins(%arg0 : tensor<?x4x?x?xf32>) outs({{.*}} : tensor<?x4x?xf32>) dimensions = [3]
// CHECK: tensor.empty(%{{.*}}, %{{.*}}, %{{.*}}) : tensor<?x4x?x?xf32>
func.func @softmax(%x: tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32> {
  %0 = onnx.Softmax %x {axis = -1 : si64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  return %0 : tensor<?x4x?x?xf32>
}

// -----

// The row length is static (8): the mean divides by a constant.
// CHECK-LABEL: func.func @layernorm
// CHECK: arith.constant 8.000000e+00 : f32
// CHECK: linalg.reduce ins(%arg0 : tensor<?x?x8xf32>) outs({{.*}} : tensor<?x?xf32>) dimensions = [2]
// CHECK: linalg.generic {{.*}} ins({{.*}}, %arg1, %arg2 : tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>)
func.func @layernorm(%x: tensor<?x?x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %0 = onnx.LayerNormalization %x, %g, %b {axis = -1 : si64, epsilon = 1.0e-5 : f32} : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// Mean over a dynamic dim divides by its run-time size; keepdims expands.
// CHECK-LABEL: func.func @reduce
// CHECK: %[[N:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[I:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK: %[[F:.*]] = arith.sitofp %[[I]] : i64 to f32
// CHECK: arith.divf %{{.*}}, %[[F]] : f32
// CHECK-NOT: cf.assert
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [%{{.*}}, 1, 8] : tensor<?x8xf32> into tensor<?x1x8xf32>
func.func @reduce(%x: tensor<?x?x8xf32>) -> tensor<?x1x8xf32> {
  %a = onnx.Constant {value = dense<[1]> : tensor<1xi64>} : tensor<1xi64>
  %0 = onnx.ReduceMean %x, %a : (tensor<?x?x8xf32>, tensor<1xi64>) -> tensor<?x1x8xf32>
  return %0 : tensor<?x1x8xf32>
}

// -----

// CHECK-LABEL: func.func @gemm
// CHECK: linalg.matmul ins(%arg0, %{{.*}} : tensor<?x8xf32>, tensor<8x4xf32>) outs(%{{.*}} : tensor<?x4xf32>)
func.func @gemm(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>, %c: tensor<4xf32>) -> tensor<?x4xf32> {
  %0 = onnx.Gemm %x, %w, %c {transB = 1 : si64} : (tensor<?x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Gather with dynamic indices: the index is clamped into the table.
// CHECK-LABEL: func.func @gather
// CHECK: tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?x16xf32>
// CHECK: arith.maxsi
// CHECK: arith.minsi %{{.*}}, %c99
// CHECK: tensor.extract %arg0
func.func @gather(%t: tensor<100x16xf32>, %i: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
  %0 = onnx.Gather %t, %i {axis = 0 : si64} : (tensor<100x16xf32>, tensor<?x?xi64>) -> tensor<?x?x16xf32>
  return %0 : tensor<?x?x16xf32>
}

// -----

// A dynamic table: clamped to its run-time size, which must not be 0.
// CHECK-LABEL: func.func @gather_dyn
// CHECK: %[[N:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[LAST:.*]] = arith.subi %[[N]], %c1
// CHECK: cf.assert %{{.*}}, "node 'g': gathers from an empty axis"
// CHECK: arith.minsi %{{.*}}, %[[LAST]]
func.func @gather_dyn(%t: tensor<?x16xf32>, %i: tensor<?xi64>) -> tensor<?x16xf32> {
  %0 = onnx.Gather %t, %i {axis = 0 : si64} : (tensor<?x16xf32>, tensor<?xi64>) -> tensor<?x16xf32> loc("g")
  return %0 : tensor<?x16xf32>
}

// -----

// CHECK-LABEL: func.func @shapes
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<?x?x8xf32> into tensor<?x8xf32>
// CHECK: tensor.expand_shape %arg0 {{\[\[}}0], [1, 2], [3]] output_shape [%{{.*}}, 1, %{{.*}}, 8] : tensor<?x?x8xf32> into tensor<?x1x?x8xf32>
// CHECK: linalg.transpose ins(%arg0 : tensor<?x?x8xf32>) outs(%{{.*}} : tensor<8x?x?xf32>) permutation = [2, 0, 1]
// CHECK: tensor.from_elements %{{.*}}, %{{.*}}, %c8_i64 : tensor<3xi64>
// CHECK: tensor.from_elements %{{.*}} : tensor<i64>
func.func @shapes(%x: tensor<?x?x8xf32>) -> (tensor<?x8xf32>, tensor<?x1x?x8xf32>, tensor<8x?x?xf32>, tensor<3xi64>, tensor<i64>) {
  %0 = onnx.Flatten %x {axis = 2 : si64} : (tensor<?x?x8xf32>) -> tensor<?x8xf32>
  %a = onnx.Constant {value = dense<[1]> : tensor<1xi64>} : tensor<1xi64>
  %1 = onnx.Unsqueeze %x, %a : (tensor<?x?x8xf32>, tensor<1xi64>) -> tensor<?x1x?x8xf32>
  %2 = onnx.Transpose %x {perm = [2, 0, 1]} : (tensor<?x?x8xf32>) -> tensor<8x?x?xf32>
  %3 = onnx.Shape %x : (tensor<?x?x8xf32>) -> tensor<3xi64>
  %4 = onnx.Size %x : (tensor<?x?x8xf32>) -> tensor<i64>
  return %0, %1, %2, %3, %4 : tensor<?x8xf32>, tensor<?x1x?x8xf32>, tensor<8x?x?xf32>, tensor<3xi64>, tensor<i64>
}

// -----

// CHECK-LABEL: func.func @concat_slice
// CHECK: cf.assert %{{.*}}, "node 'cat': input 1 differs from input 0 in dim 0"
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[0, 0] [%{{.*}}, 4] [1, 1] : tensor<?x4xf32> into tensor<?x8xf32>
// CHECK: tensor.insert_slice %arg1 into %{{.*}}[0, 4] [%{{.*}}, 4] [1, 1] : tensor<?x4xf32> into tensor<?x8xf32>
// CHECK: tensor.extract_slice %arg0[0, 1] [%{{.*}}, 2] [1, 1] : tensor<?x4xf32> to tensor<?x2xf32>
// The end computed at run time: read, normalised and clamped.
// CHECK: tensor.extract %arg2[%c0] : tensor<1xi64>
// CHECK: arith.minsi %{{.*}}, %{{.*}} : index
// CHECK: tensor.extract_slice %arg0[%{{.*}}, 0] [%{{.*}}, 4] [1, 1] : tensor<?x4xf32> to tensor<?x4xf32>
func.func @concat_slice(%x: tensor<?x4xf32>, %y: tensor<?x4xf32>, %e: tensor<1xi64>) -> (tensor<?x8xf32>, tensor<?x2xf32>, tensor<?x4xf32>) {
  %0 = onnx.Concat %x, %y {axis = 1 : si64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32> loc("cat")
  %s = onnx.Constant {value = dense<[1]> : tensor<1xi64>} : tensor<1xi64>
  %en = onnx.Constant {value = dense<[3]> : tensor<1xi64>} : tensor<1xi64>
  %ax = onnx.Constant {value = dense<[1]> : tensor<1xi64>} : tensor<1xi64>
  %1 = onnx.Slice %x, %s, %en, %ax {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<?x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x2xf32>
  %z = onnx.Constant {value = dense<[0]> : tensor<1xi64>} : tensor<1xi64>
  %a0 = onnx.Constant {value = dense<[0]> : tensor<1xi64>} : tensor<1xi64>
  %2 = onnx.Slice %x, %z, %e, %a0 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<?x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4xf32>
  return %0, %1, %2 : tensor<?x8xf32>, tensor<?x2xf32>, tensor<?x4xf32>
}

// -----

// An even split of a dynamic dim: ceil(n / 2), the rest to the last part.
// CHECK-LABEL: func.func @split
// CHECK: arith.divsi %{{.*}}, %c2
// CHECK: tensor.extract_slice %arg0[0, 0] [%{{.*}}, %{{.*}}] [1, 1]
// CHECK: tensor.extract_slice %arg0[0, %{{.*}}] [%{{.*}}, %{{.*}}] [1, 1]
func.func @split(%x: tensor<?x?xf32>) -> (tensor<?x?xf32>, tensor<?x?xf32>) {
  %0:2 = onnx.Split %x {axis = 1 : si64, num_outputs = 2 : si64} : (tensor<?x?xf32>) -> (tensor<?x?xf32>, tensor<?x?xf32>)
  return %0#0, %0#1 : tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// Shape operands read at run time.
// CHECK-LABEL: func.func @expand_tile_cos
// CHECK: tensor.extract %arg1[%c0] : tensor<2xi64>
// CHECK: cf.assert %{{.*}}, "node 'ex': the shape has a negative entry"
// CHECK: cf.assert %{{.*}}, "node 'ex': the shape does not broadcast with the input in dim 1"
// CHECK: tensor.extract %arg2[%c0] : tensor<2xi64>
// CHECK: cf.assert %{{.*}}, "node 'tile': repeats has a negative entry 0"
// CHECK: %[[W:.*]] = arith.muli %{{.*}}, %c4 : index
// CHECK: tensor.empty(%{{.*}}, %[[W]]) : tensor<?x?xf32>
// CHECK: cf.assert %{{.*}}, "node 'cos': the shape has a negative entry 0"
// CHECK: linalg.fill
func.func @expand_tile_cos(%x: tensor<1x4xf32>, %s: tensor<2xi64>, %r: tensor<2xi64>) -> (tensor<?x4xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %0 = onnx.Expand %x, %s : (tensor<1x4xf32>, tensor<2xi64>) -> tensor<?x4xf32> loc("ex")
  %1 = onnx.Tile %x, %r : (tensor<1x4xf32>, tensor<2xi64>) -> tensor<?x?xf32> loc("tile")
  %2 = onnx.ConstantOfShape %s {value = dense<1.0> : tensor<1xf32>} : (tensor<2xi64>) -> tensor<?x?xf32> loc("cos")
  return %0, %1, %2 : tensor<?x4xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func.func @range_trilu
// CHECK: %[[L:.*]] = tensor.extract %arg0[] : tensor<i64>
// CHECK: %[[N:.*]] = arith.index_cast %[[L]] : i64 to index
// CHECK: %[[C:.*]] = arith.maxsi %[[N]], %c0
// CHECK: tensor.empty(%[[C]]) : tensor<?xi64>
// CHECK: tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?xf32>
func.func @range_trilu(%n: tensor<i64>, %x: tensor<?x?xf32>) -> (tensor<?xi64>, tensor<?x?xf32>) {
  %z = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %o = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %0 = onnx.Range %z, %n, %o : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %1 = onnx.Trilu %x {upper = 0 : si64} : (tensor<?x?xf32>) -> tensor<?x?xf32>
  return %0, %1 : tensor<?xi64>, tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func.func @einsum
// CHECK: cf.assert %{{.*}}, "node '?': the sizes of index 'b' differ"
// CHECK: tensor.empty(%{{.*}}) : tensor<?x3x5xf32>
func.func @einsum(%a: tensor<?x3x4xf32>, %b: tensor<?x4x5xf32>) -> tensor<?x3x5xf32> {
  %0 = onnx.Einsum %a, %b {equation = "bij,bjk->bik"} : (tensor<?x3x4xf32>, tensor<?x4x5xf32>) -> tensor<?x3x5xf32>
  return %0 : tensor<?x3x5xf32>
}

// -----

// A static result whose shape comes from a graph input is checked against
// it (test_reshape_reordered_all_dims with shape [-7, 99, 0] must fail).
// CHECK-LABEL: func.func @reshape_static_rt
// CHECK: cf.assert %{{.*}}, "node 'reorder': the shape has a negative entry other than -1"
// CHECK: cf.assert %{{.*}}, "node 'reorder': the shape does not have the input's number of elements"
// CHECK: cf.assert %{{.*}}, "node 'reorder': the shape gives dim 0 a size other than the declared 4"
// CHECK: tensor.expand_shape {{.*}} output_shape [4, 2, 3] : tensor<24xf32> into tensor<4x2x3xf32>
func.func @reshape_static_rt(%x: tensor<2x3x4xf32>, %s: tensor<3xi64>) -> tensor<4x2x3xf32> {
  %0 = onnx.Reshape %x, %s : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<4x2x3xf32> loc("reorder")
  return %0 : tensor<4x2x3xf32>
}

// -----

// Slice axes and steps read at run time (graph inputs): each dim takes the
// parameters of the entry whose axis names it (selected per dim), a zero step
// or an axis out of range is a run-time error, and the elements are gathered
// (the step's sign is not known). The result's declared dims are checked.
// CHECK-LABEL: func.func @slice_runtime_axes_steps
// CHECK-DAG: tensor.extract %arg3[%c0] : tensor<1xi64>
// CHECK-DAG: tensor.extract %arg4[%c0] : tensor<1xi64>
// CHECK: cf.assert %{{.*}}, "node 'sl': slice step is 0"
// CHECK: cf.assert %{{.*}}, "node 'sl': slice axis out of range"
// CHECK: arith.select
// CHECK: cf.assert %{{.*}}, "node 'sl': the slice gives dim 1 a size other than the declared 3"
// CHECK: linalg.generic
// CHECK: arith.muli
// CHECK: tensor.extract %arg0
// CHECK-NOT: tensor.extract_slice
func.func @slice_runtime_axes_steps(%x: tensor<4x6xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>, %a: tensor<1xi64>, %st: tensor<1xi64>) -> tensor<4x3xf32> {
  %0 = onnx.Slice %x, %s, %e, %a, %st {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<4x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x3xf32> loc("sl")
  return %0 : tensor<4x3xf32>
}

// -----

// ReduceSum over run-time axes (a graph input): each element is added into
// a flat result at its position without the reduced coordinates (selected
// per dim at run time), which then takes the declared shape.
// CHECK-LABEL: func.func @reduce_sum_runtime_axes
// CHECK: tensor.extract %arg1[%c0] : tensor<1xi64>
// CHECK: cf.assert %{{.*}}, "node 'rs': reduction axis out of range"
// CHECK: cf.assert %{{.*}}, "node 'rs': the reduction gives dim 1 a size other than the declared 1"
// CHECK: linalg.fill
// CHECK: scf.for
// CHECK: scf.for
// CHECK: arith.select
// CHECK: tensor.extract %arg0
// CHECK: arith.addf
// CHECK: tensor.insert
// CHECK: tensor.expand_shape {{.*}} output_shape [4, 1] : tensor<4xf32> into tensor<4x1xf32>
func.func @reduce_sum_runtime_axes(%x: tensor<4x6xf32>, %a: tensor<1xi64>) -> tensor<4x1xf32> {
  %0 = onnx.ReduceSum %x, %a {keepdims = 1 : si64} : (tensor<4x6xf32>, tensor<1xi64>) -> tensor<4x1xf32> loc("rs")
  return %0 : tensor<4x1xf32>
}
