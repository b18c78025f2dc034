// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-fold-shapes))' | FileCheck %s

// The exporter's view(B, S, H, Dh): Shape -> Gather -> Unsqueeze -> Concat ->
// Reshape folds to a constant shape and a static Reshape.
// CHECK-LABEL: func.func @view_heads
// CHECK-SAME: -> tensor<2x7x4x16xf32>
// CHECK-NOT: onnx.Shape
// CHECK-NOT: onnx.Gather
// CHECK-NOT: onnx.Concat
// CHECK: %[[SHAPE:.*]] = onnx.Constant {value = dense<[2, 7, 4, 16]> : tensor<4xi64>} : tensor<4xi64>
// CHECK: %[[R:.*]] = onnx.Reshape %arg0, %[[SHAPE]] : (tensor<2x7x64xf32>, tensor<4xi64>) -> tensor<2x7x4x16xf32>
// CHECK: return %[[R]]
func.func @view_heads(%x: tensor<2x7x64xf32>) -> tensor<?x?x4x16xf32> {
  %shape = onnx.Shape %x : (tensor<2x7x64xf32>) -> tensor<3xi64>
  %i0 = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %i1 = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %b = onnx.Gather %shape, %i0 {axis = 0 : si64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %s = onnx.Gather %shape, %i1 {axis = 0 : si64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %ax = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %ub = onnx.Unsqueeze %b, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %us = onnx.Unsqueeze %s, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %h = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %dh = onnx.Constant {value = dense<16> : tensor<1xi64>} : tensor<1xi64>
  %cat = onnx.Concat %ub, %us, %h, %dh {axis = 0 : si64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %r = onnx.Reshape %x, %cat : (tensor<2x7x64xf32>, tensor<4xi64>) -> tensor<?x?x4x16xf32>
  return %r : tensor<?x?x4x16xf32>
}

// -----

// Range over a static sequence length (position ids), ConstantOfShape and
// Expand, and Equal/Where on constants, all fold.
// CHECK-LABEL: func.func @positions
// CHECK-NOT: onnx.Range
// CHECK-NOT: onnx.ConstantOfShape
// CHECK-NOT: onnx.Where
// CHECK-DAG: %[[POS:.*]] = onnx.Constant {value = dense<{{\[\[}}0, 1, 2, 3, 4]]> : tensor<1x5xi64>} : tensor<1x5xi64>
// CHECK-DAG: %[[MASK:.*]] = onnx.Constant {value = dense<1.000000e+00> : tensor<1x5xf32>} : tensor<1x5xf32>
// CHECK: return %[[POS]], %[[MASK]] : tensor<1x5xi64>, tensor<1x5xf32>
func.func @positions(%x: tensor<1x5xi64>) -> (tensor<?x?xi64>, tensor<?x?xf32>) {
  %shape = onnx.Shape %x : (tensor<1x5xi64>) -> tensor<2xi64>
  %i1 = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %seq = onnx.Gather %shape, %i1 {axis = 0 : si64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %zero = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %r = onnx.Range %zero, %seq, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %ax = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %pos = onnx.Unsqueeze %r, %ax : (tensor<?xi64>, tensor<1xi64>) -> tensor<?x?xi64>
  %ones = onnx.ConstantOfShape %shape {value = dense<1> : tensor<1xi64>} : (tensor<2xi64>) -> tensor<?x?xi64>
  %eq = onnx.Equal %ones, %zero : (tensor<?x?xi64>, tensor<i64>) -> tensor<?x?xi1>
  %neg = onnx.Constant {value = dense<-1.0e4> : tensor<f32>} : tensor<f32>
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %m = onnx.Where %eq, %neg, %one : (tensor<?x?xi1>, tensor<f32>, tensor<f32>) -> tensor<?x?xf32>
  %e = onnx.Expand %m, %shape : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %pos, %e : tensor<?x?xi64>, tensor<?x?xf32>
}

// -----

// Negative: dimensions that are not known stay dynamic; the Shape of a dynamic
// tensor is not folded, but the static part of the arithmetic is.
// CHECK-LABEL: func.func @dynamic_batch
// CHECK-SAME: (%[[X:.*]]: tensor<?x7x64xf32>) -> tensor<?x7x4x16xf32>
// CHECK: %[[SHAPE:.*]] = onnx.Shape %[[X]] : (tensor<?x7x64xf32>) -> tensor<3xi64>
// CHECK: onnx.Gather %[[SHAPE]]
// CHECK: onnx.Concat
// CHECK: onnx.Reshape %[[X]], %{{.*}} : (tensor<?x7x64xf32>, tensor<4xi64>) -> tensor<?x7x4x16xf32>
func.func @dynamic_batch(%x: tensor<?x7x64xf32>) -> tensor<?x?x4x16xf32> {
  %shape = onnx.Shape %x : (tensor<?x7x64xf32>) -> tensor<3xi64>
  %i0 = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %b = onnx.Gather %shape, %i0 {axis = 0 : si64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %ax = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %ub = onnx.Unsqueeze %b, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %rest = onnx.Constant {value = dense<[7, 4, 16]> : tensor<3xi64>} : tensor<3xi64>
  %cat = onnx.Concat %ub, %rest {axis = 0 : si64} : (tensor<1xi64>, tensor<3xi64>) -> tensor<4xi64>
  %r = onnx.Reshape %x, %cat : (tensor<?x7x64xf32>, tensor<4xi64>) -> tensor<?x?x4x16xf32>
  return %r : tensor<?x?x4x16xf32>
}

// -----

// Negative: weights are not folded (only small constants are), and ops on
// function arguments are untouched.
// CHECK-LABEL: func.func @no_fold_of_values
// CHECK: onnx.Add %arg0, %arg1
// CHECK: onnx.Transpose %arg0 {perm = [1, 0]}
func.func @no_fold_of_values(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3x2xf32>) {
  %0 = onnx.Add %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = onnx.Transpose %a {perm = [1, 0]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<3x2xf32>
}

// -----

// No-ops disappear: Identity, inference Dropout, same-type Cast, identity
// Transpose, and a Reshape to the same type.
// CHECK-LABEL: func.func @noops
// CHECK-NOT: onnx.
// CHECK: return %arg0
func.func @noops(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = onnx.Identity %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = onnx.Dropout %0 {operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = onnx.Cast %1 {to = f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = onnx.Transpose %2 {perm = [0, 1]} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %s = onnx.Constant {value = dense<[2, 3]> : tensor<2xi64>} : tensor<2xi64>
  %4 = onnx.Reshape %3, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %4 : tensor<2x3xf32>
}

// -----

// Constant arithmetic on small integer and float tensors with broadcasting,
// Slice and Cast of constants.
// CHECK-LABEL: func.func @const_arith
// CHECK-DAG: onnx.Constant {value = dense<[11, 22, 33]> : tensor<3xi64>}
// CHECK-DAG: onnx.Constant {value = dense<[2.000000e+00, 3.000000e+00]> : tensor<2xf32>}
// CHECK-DAG: onnx.Constant {value = dense<[1, 2]> : tensor<2xi32>}
// CHECK-NOT: onnx.Add
// CHECK-NOT: onnx.Slice
// CHECK-NOT: onnx.Cast
func.func @const_arith() -> (tensor<3xi64>, tensor<2xf32>, tensor<2xi32>) {
  %a = onnx.Constant {value = dense<[1, 2, 3]> : tensor<3xi64>} : tensor<3xi64>
  %b = onnx.Constant {value = dense<10> : tensor<1xi64>} : tensor<1xi64>
  %m = onnx.Mul %a, %b : (tensor<3xi64>, tensor<1xi64>) -> tensor<3xi64>
  %s = onnx.Add %m, %a : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %f = onnx.Constant {value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : tensor<4xf32>
  %st = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %en = onnx.Constant {value = dense<3> : tensor<1xi64>} : tensor<1xi64>
  %sl = onnx.Slice %f, %st, %en {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<4xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xf32>
  %c = onnx.Cast %sl {to = i32} : (tensor<2xf32>) -> tensor<2xi32>
  %one = onnx.Constant {value = dense<1> : tensor<i32>} : tensor<i32>
  %d = onnx.Sub %c, %one : (tensor<2xi32>, tensor<i32>) -> tensor<2xi32>
  return %s, %sl, %d : tensor<3xi64>, tensor<2xf32>, tensor<2xi32>
}

// -----

// Negative: with dynamic dims, equal operand and result types do not make a
// Slice, Reshape, Expand or Tile a no-op (a GPT-2 causal-mask slice was once
// folded away like this).
// CHECK-LABEL: func.func @dynamic_not_noop
// CHECK: onnx.Slice
// CHECK: onnx.Reshape
// CHECK: onnx.Expand
// CHECK: onnx.Tile
func.func @dynamic_not_noop(%x: tensor<?x?xf32>, %end: tensor<1xi64>, %shape: tensor<2xi64>) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %zero = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %s = onnx.Slice %x, %zero, %end {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<?x?xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  %r = onnx.Reshape %x, %shape : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %e = onnx.Expand %x, %shape : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %t = onnx.Tile %x, %shape : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %s, %r, %e, %t : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// GPT-2's causal mask: Slices with run-time starts/ends keep the dims of
// the axes they do not slice (1x1x?x?, so the mask broadcasts over batch and
// heads), and a sliced axis whose start and end are known, even among
// unknown entries, gets its static size.
// CHECK-LABEL: func.func @slice_keeps_unsliced_dims
// CHECK: onnx.Slice {{.*}} -> tensor<1x1x?x128xf32>
// CHECK: onnx.Slice {{.*}} -> tensor<1x1x?x?xf32>
// CHECK: onnx.Slice {{.*}} -> tensor<2x?x5xf32>
// CHECK: return {{.*}} : tensor<1x1x?x?xf32>, tensor<2x?x5xf32>
func.func @slice_keeps_unsliced_dims(%bias: tensor<1x1x128x128xf32>, %q: tensor<1xi64>, %k: tensor<1xi64>, %x: tensor<4x6x5xf32>, %e: tensor<1xi64>) -> (tensor<?x?x?x?xf32>, tensor<?x?x?xf32>) {
  %zero = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %ax2 = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %ax3 = onnx.Constant {value = dense<3> : tensor<1xi64>} : tensor<1xi64>
  %s1 = onnx.Slice %bias, %zero, %q, %ax2, %one {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x1x128x128xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x?x?xf32>
  %s2 = onnx.Slice %s1, %zero, %k, %ax3, %one {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x?x?x?xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x?x?xf32>
  %two = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %starts = onnx.Concat %one, %zero {axis = 0 : si64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %ends = onnx.Concat %ax3, %e {axis = 0 : si64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %s3 = onnx.Slice %x, %starts, %ends {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<4x6x5xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?x?xf32>
  return %s2, %s3 : tensor<?x?x?x?xf32>, tensor<?x?x?xf32>
}

// -----

// Negative: with run-time axes any axis may be sliced (a dim of 0 stays 0).
// CHECK-LABEL: func.func @slice_unknown_axes
// CHECK: onnx.Slice {{.*}} -> tensor<?x0x?xf32>
func.func @slice_unknown_axes(%x: tensor<1x0x8xf32>, %axes: tensor<1xi64>) -> tensor<?x?x?xf32> {
  %zero = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %s = onnx.Slice %x, %zero, %one, %axes {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<1x0x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x?xf32>
  return %s : tensor<?x?x?xf32>
}

// -----

// The head size of a dynamic [B, S, 64] -> [B, S, 4, 16] view: Gather picks
// the static dim 2 of a Shape whose other dims are dynamic, so it folds, and
// the Reshape's head size becomes static.
// CHECK-LABEL: func.func @static_dim_of_dynamic_shape
// CHECK: onnx.Reshape %arg0, %{{.*}} : (tensor<?x?x64xf32>, tensor<4xi64>) -> tensor<?x?x4x16xf32>
func.func @static_dim_of_dynamic_shape(%x: tensor<?x?x64xf32>) -> tensor<?x?x4x?xf32> {
  %shape = onnx.Shape %x : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %i0 = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %i1 = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %i2 = onnx.Constant {value = dense<-1> : tensor<i64>} : tensor<i64>
  %b = onnx.Gather %shape, %i0 {axis = 0 : si64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %s = onnx.Gather %shape, %i1 {axis = 0 : si64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %e = onnx.Gather %shape, %i2 {axis = 0 : si64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %four = onnx.Constant {value = dense<4> : tensor<i64>} : tensor<i64>
  %dh = onnx.Div %e, %four : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %ax = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %ub = onnx.Unsqueeze %b, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %us = onnx.Unsqueeze %s, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %ud = onnx.Unsqueeze %dh, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %h = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %cat = onnx.Concat %ub, %us, %h, %ud {axis = 0 : si64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %r = onnx.Reshape %x, %cat : (tensor<?x?x64xf32>, tensor<4xi64>) -> tensor<?x?x4x?xf32>
  return %r : tensor<?x?x4x?xf32>
}

// -----

// torch's multi-head attention splits its packed in_proj weight at E, taken
// as `x.shape[-1:]`: a Slice of a Shape whose other dims are dynamic. The
// dim it picks is static, so the split is static; a Slice that picks a
// dynamic dim stays.
// CHECK-LABEL: func.func @static_slice_of_dynamic_shape
// CHECK-DAG: %[[E:.*]] = onnx.Constant {value = dense<512> : tensor<1xi64>}
// CHECK-DAG: %[[S:.*]] = onnx.Slice %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {{.*}} : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
// CHECK: onnx.Slice %arg1, %{{.*}}, %[[E]], %{{.*}} {{.*}} -> tensor<512x512xf32>
// CHECK: return {{.*}}, %[[S]]
func.func @static_slice_of_dynamic_shape(%x: tensor<?x?x512xf32>, %w: tensor<1536x512xf32>) -> (tensor<?x512xf32>, tensor<1xi64>) {
  %shape = onnx.Shape %x : (tensor<?x?x512xf32>) -> tensor<3xi64>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %max = onnx.Constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %zero = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %e = onnx.Slice %shape, %last, %max, %zero {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %s = onnx.Slice %shape, %one, %two, %zero {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %wq = onnx.Slice %w, %zero, %e, %zero {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<1536x512xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x512xf32>
  return %wq, %s : tensor<?x512xf32>, tensor<1xi64>
}

// -----

// torch's Expand guard: the target shape [B, 1, S, S] (B and S dynamic) goes
// through Where(Equal(shape, -1), 1, shape). The entry that is known (the 1)
// stays known through Equal and Where, so the expanded mask keeps its
// broadcast dim and adds to [B, 12, S, S] scores. An entry whose Equal is not
// known stays dynamic.
// CHECK-LABEL: func.func @expand_guard
// CHECK: onnx.Expand %{{.*}}, %{{.*}} : (tensor<1x1x?x?xf32>, tensor<4xi64>) -> tensor<?x1x?x?xf32>
// CHECK: onnx.Add %{{.*}}, %{{.*}} : (tensor<?x12x?x?xf32>, tensor<?x1x?x?xf32>) -> tensor<?x12x?x?xf32>
func.func @expand_guard(%mask: tensor<1x1x?x?xf32>, %scores: tensor<?x12x?x?xf32>, %ids: tensor<?x?xi64>) -> tensor<?x?x?x?xf32> {
  %shape = onnx.Shape %ids : (tensor<?x?xi64>) -> tensor<2xi64>
  %i0 = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %i1 = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %b = onnx.Gather %shape, %i0 {axis = 0 : si64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %s = onnx.Gather %shape, %i1 {axis = 0 : si64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %ax = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %ub = onnx.Unsqueeze %b, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %us = onnx.Unsqueeze %s, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %cat = onnx.Concat %ub, %one, %us, %us {axis = 0 : si64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %minus = onnx.Constant {value = dense<-1> : tensor<4xi64>} : tensor<4xi64>
  %ones = onnx.Constant {value = dense<1> : tensor<4xi64>} : tensor<4xi64>
  %eq = onnx.Equal %cat, %minus : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  %target = onnx.Where %eq, %ones, %cat : (tensor<4xi1>, tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %e = onnx.Expand %mask, %target : (tensor<1x1x?x?xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  %r = onnx.Add %scores, %e : (tensor<?x12x?x?xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  return %r : tensor<?x?x?x?xf32>
}

// -----

// T5's relative-position buckets: once the sequence length is pinned the
// positions are constants, and Abs, Log, Min and Max of them fold (with the
// Div, Mul, Cast and Where around them), leaving the bucket table.
// CHECK-LABEL: func.func @t5_buckets
// CHECK-NOT: onnx.{{Abs|Log|Min|Max|Div|Cast|Where}}
// CHECK: %[[B:.*]] = onnx.Constant {value = dense<{{\[}}[0, 1, 2, 2], [1, 0, 1, 2], [2, 1, 0, 1], [2, 2, 1, 0]]> : tensor<4x4xi64>}
// CHECK: return %[[B]]
func.func @t5_buckets() -> tensor<4x4xi64> {
  %rel = onnx.Constant {value = dense<[[0, 1, 2, 3], [-1, 0, 1, 2], [-2, -1, 0, 1], [-3, -2, -1, 0]]> : tensor<4x4xi64>} : tensor<4x4xi64>
  %exact = onnx.Constant {value = dense<2> : tensor<i64>} : tensor<i64>
  %fexact = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %scale = onnx.Constant {value = dense<1.5> : tensor<f32>} : tensor<f32>
  %top = onnx.Constant {value = dense<2> : tensor<4x4xi64>} : tensor<4x4xi64>
  %zero = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %abs = onnx.Abs %rel : (tensor<4x4xi64>) -> tensor<4x4xi64>
  %small = onnx.Less %abs, %exact : (tensor<4x4xi64>, tensor<i64>) -> tensor<4x4xi1>
  %f = onnx.Cast %abs {to = f32} : (tensor<4x4xi64>) -> tensor<4x4xf32>
  %d = onnx.Div %f, %fexact : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
  %l = onnx.Log %d : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %m = onnx.Mul %l, %scale : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
  %i = onnx.Cast %m {to = i64} : (tensor<4x4xf32>) -> tensor<4x4xi64>
  %a = onnx.Add %i, %exact : (tensor<4x4xi64>, tensor<i64>) -> tensor<4x4xi64>
  %lo = onnx.Max %a, %zero : (tensor<4x4xi64>, tensor<i64>) -> tensor<4x4xi64>
  %large = onnx.Min %lo, %top : (tensor<4x4xi64>, tensor<4x4xi64>) -> tensor<4x4xi64>
  %b = onnx.Where %small, %abs, %large : (tensor<4x4xi1>, tensor<4x4xi64>, tensor<4x4xi64>) -> tensor<4x4xi64>
  return %b : tensor<4x4xi64>
}
