// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-fuse-add-layer-norm))' | FileCheck %s
// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-fuse-add-layer-norm{report=true}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT

// Post-LN (BERT): LN(x + residual), dynamic batch and sequence.
// CHECK-LABEL: func.func @residual
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x8xf32>, %[[R:.*]]: tensor<?x?x8xf32>, %[[G:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK-NEXT: %[[Y:.*]], %[[S:.*]] = tessera.add_layer_norm %[[X]], %[[R]], %[[G]], %[[B]] {epsilon = 9.99999996E-13 : f32, operandSegmentSizes = array<i32: 1, 1, 0, 1, 1>} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x8xf32>)
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused tessera.add_layer_norm
func.func @residual(%x: tensor<?x?x8xf32>, %r: tensor<?x?x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %s = onnx.Add %x, %r : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %y = onnx.LayerNormalization %s, %g, %b {epsilon = 1.0e-12 : f32} : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// Pre-LN (GPT-2, ViT): the projection bias folded in, Add(r, Add(bias, x)),
// and the sum feeds the next residual: that use takes the op's `sum`.
// CHECK-LABEL: func.func @bias_and_sum
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x8xf32>, %[[R:.*]]: tensor<?x?x8xf32>, %[[G:.*]]: tensor<8xf32>)
// CHECK: %[[BIAS:.*]] = onnx.Constant
// CHECK-NEXT: %[[Y:.*]], %[[S:.*]] = tessera.add_layer_norm %[[X]], %[[R]], %[[BIAS]], %[[G]] {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>}
// CHECK-NEXT: %[[N:.*]] = onnx.Add %[[S]], %[[Y]]
// CHECK-NEXT: return %[[N]]
// REPORT: remark: fused tessera.add_layer_norm
func.func @bias_and_sum(%x: tensor<?x?x8xf32>, %r: tensor<?x?x8xf32>, %g: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %bias = onnx.Constant {value = dense<0.5> : tensor<8xf32>} : tensor<8xf32>
  %xb = onnx.Add %bias, %x : (tensor<8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %s = onnx.Add %r, %xb : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %y = onnx.LayerNormalization %s, %g : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %n = onnx.Add %s, %y : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  return %n : tensor<?x?x8xf32>
}

// -----

// The bias added last: Add(Add(x, r), bias).
// CHECK-LABEL: func.func @bias_last
// CHECK: %[[BIAS:.*]] = onnx.Constant
// CHECK-NEXT: %[[Y:.*]], %[[S:.*]] = tessera.add_layer_norm %arg0, %arg1, %[[BIAS]], %arg2, %arg3
// CHECK-NEXT: return %[[Y]], %[[S]]
// REPORT: remark: fused tessera.add_layer_norm
func.func @bias_last(%x: tensor<2x3x8xf32>, %r: tensor<2x3x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<2x3x8xf32>, tensor<2x3x8xf32>) {
  %bias = onnx.Constant {value = dense<0.5> : tensor<8xf32>} : tensor<8xf32>
  %xr = onnx.Add %x, %r : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %s = onnx.Add %xr, %bias : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %y = onnx.LayerNormalization %s, %g, %b {axis = 2 : si64} : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  return %y, %s : tensor<2x3x8xf32>, tensor<2x3x8xf32>
}

// -----

// Embeddings: LN((word + type) + position); the inner Add stays as x.
// A use of the sum before the LN (in program order) reads `sum`, which is
// placed right after the Add.
// CHECK-LABEL: func.func @embeddings
// CHECK-NEXT: %[[WT:.*]] = onnx.Add %arg0, %arg1
// CHECK-NEXT: %[[Y:.*]], %[[S:.*]] = tessera.add_layer_norm %[[WT]], %arg2, %arg3
// CHECK-NEXT: %[[T:.*]] = onnx.Tanh %[[S]]
// CHECK-NEXT: return %[[Y]], %[[T]]
// REPORT: remark: fused tessera.add_layer_norm
func.func @embeddings(%w: tensor<1x5x8xf32>, %t: tensor<1x5x8xf32>, %p: tensor<1x5x8xf32>, %g: tensor<8xf32>) -> (tensor<1x5x8xf32>, tensor<1x5x8xf32>) {
  %wt = onnx.Add %w, %t : (tensor<1x5x8xf32>, tensor<1x5x8xf32>) -> tensor<1x5x8xf32>
  %s = onnx.Add %wt, %p : (tensor<1x5x8xf32>, tensor<1x5x8xf32>) -> tensor<1x5x8xf32>
  %u = onnx.Tanh %s : (tensor<1x5x8xf32>) -> tensor<1x5x8xf32>
  %y = onnx.LayerNormalization %s, %g : (tensor<1x5x8xf32>, tensor<8xf32>) -> tensor<1x5x8xf32>
  return %y, %u : tensor<1x5x8xf32>, tensor<1x5x8xf32>
}

// -----

// Token + position embeddings: the residual broadcasts over the leading
// axes ([1, S, D] or [S, D] to [B, S, D]), either operand order.
// CHECK-LABEL: func.func @position_embedding
// CHECK-NEXT: %[[Y:.*]], %{{.*}} = tessera.add_layer_norm %arg1, %arg0, %arg2 {{{.*}}} : (tensor<2x5x8xf32>, tensor<1x5x8xf32>, tensor<8xf32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>)
// CHECK-NEXT: %[[Y2:.*]], %{{.*}} = tessera.add_layer_norm %arg1, %arg3, %arg2 {{{.*}}} : (tensor<2x5x8xf32>, tensor<5x8xf32>, tensor<8xf32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>)
// CHECK-NEXT: return %[[Y]], %[[Y2]]
// REPORT: remark: fused tessera.add_layer_norm
// REPORT: remark: fused tessera.add_layer_norm
func.func @position_embedding(%p: tensor<1x5x8xf32>, %x: tensor<2x5x8xf32>, %g: tensor<8xf32>, %q: tensor<5x8xf32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>) {
  %s = onnx.Add %p, %x : (tensor<1x5x8xf32>, tensor<2x5x8xf32>) -> tensor<2x5x8xf32>
  %y = onnx.LayerNormalization %s, %g : (tensor<2x5x8xf32>, tensor<8xf32>) -> tensor<2x5x8xf32>
  %s2 = onnx.Add %x, %q : (tensor<2x5x8xf32>, tensor<5x8xf32>) -> tensor<2x5x8xf32>
  %y2 = onnx.LayerNormalization %s2, %g : (tensor<2x5x8xf32>, tensor<8xf32>) -> tensor<2x5x8xf32>
  return %y, %y2 : tensor<2x5x8xf32>, tensor<2x5x8xf32>
}

// -----

// Negative: broadcasting along the normalised axis ([B, S, 1] + [B, S, D]).
// CHECK-LABEL: func.func @broadcast_last_axis
// CHECK-NOT: tessera.add_layer_norm
// CHECK: onnx.LayerNormalization
// REPORT: remark: not fused tessera.add_layer_norm: the Add may broadcast along the normalised axis
func.func @broadcast_last_axis(%x: tensor<2x5x8xf32>, %r: tensor<2x5x1xf32>, %g: tensor<8xf32>) -> tensor<2x5x8xf32> {
  %s = onnx.Add %x, %r : (tensor<2x5x8xf32>, tensor<2x5x1xf32>) -> tensor<2x5x8xf32>
  %y = onnx.LayerNormalization %s, %g : (tensor<2x5x8xf32>, tensor<8xf32>) -> tensor<2x5x8xf32>
  return %y : tensor<2x5x8xf32>
}

// -----

// Both summands broadcast ([2, 1, D] + [1, 5, D]), and a dynamic dim on one
// side (it is 2 or 1 at run time): the op broadcasts both as the Add did.
// CHECK-LABEL: func.func @both_broadcast
// CHECK-NEXT: %[[Y:.*]], %{{.*}} = tessera.add_layer_norm %arg0, %arg1, %arg2 {{{.*}}} : (tensor<2x1x8xf32>, tensor<1x5x8xf32>, tensor<8xf32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>)
// CHECK-NEXT: %[[Y2:.*]], %{{.*}} = tessera.add_layer_norm %arg4, %arg3, %arg2 {{{.*}}} : (tensor<2x5x8xf32>, tensor<?x5x8xf32>, tensor<8xf32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>)
// REPORT: remark: fused tessera.add_layer_norm
// REPORT: remark: fused tessera.add_layer_norm
func.func @both_broadcast(%x: tensor<2x1x8xf32>, %r: tensor<1x5x8xf32>, %g: tensor<8xf32>, %x2: tensor<?x5x8xf32>, %r2: tensor<2x5x8xf32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>) {
  %s = onnx.Add %x, %r : (tensor<2x1x8xf32>, tensor<1x5x8xf32>) -> tensor<2x5x8xf32>
  %y = onnx.LayerNormalization %s, %g : (tensor<2x5x8xf32>, tensor<8xf32>) -> tensor<2x5x8xf32>
  %s2 = onnx.Add %x2, %r2 : (tensor<?x5x8xf32>, tensor<2x5x8xf32>) -> tensor<2x5x8xf32>
  %y2 = onnx.LayerNormalization %s2, %g : (tensor<2x5x8xf32>, tensor<8xf32>) -> tensor<2x5x8xf32>
  return %y, %y2 : tensor<2x5x8xf32>, tensor<2x5x8xf32>
}

// -----

// ViT while the batch is dynamic: [?, ?, D] (shape inference lost the
// sequence length through Expand + Concat) + [1, S, D].
// CHECK-LABEL: func.func @vit_dynamic
// CHECK-NEXT: tessera.add_layer_norm %arg0, %arg1, %arg2 {{{.*}}} : (tensor<?x?x8xf32>, tensor<1x17x8xf32>, tensor<8xf32>) -> (tensor<?x17x8xf32>, tensor<?x17x8xf32>)
// REPORT: remark: fused tessera.add_layer_norm
func.func @vit_dynamic(%x: tensor<?x?x8xf32>, %pos: tensor<1x17x8xf32>, %g: tensor<8xf32>) -> tensor<?x17x8xf32> {
  %s = onnx.Add %x, %pos : (tensor<?x?x8xf32>, tensor<1x17x8xf32>) -> tensor<?x17x8xf32>
  %y = onnx.LayerNormalization %s, %g : (tensor<?x17x8xf32>, tensor<8xf32>) -> tensor<?x17x8xf32>
  return %y : tensor<?x17x8xf32>
}

// -----

// Negative: the last axis is dynamic on one side (it may be 1 and broadcast
// along the normalised axis).
// CHECK-LABEL: func.func @dynamic_last_axis
// CHECK-NOT: tessera.add_layer_norm
// REPORT: remark: not fused tessera.add_layer_norm: the Add may broadcast along the normalised axis
func.func @dynamic_last_axis(%x: tensor<3x?xf32>, %r: tensor<3x8xf32>, %g: tensor<8xf32>) -> tensor<3x8xf32> {
  %s = onnx.Add %x, %r : (tensor<3x?xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
  %y = onnx.LayerNormalization %s, %g : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// A constant bias that is not [D] ([1, D]) is not folded in as the bias: the
// inner Add stays and is x.
// CHECK-LABEL: func.func @bias_not_vector
// CHECK: %[[XB:.*]] = onnx.Add %arg0, %[[C:.*]] :
// CHECK-NEXT: %[[Y:.*]], %{{.*}} = tessera.add_layer_norm %[[XB]], %arg1, %arg2 {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>}
// REPORT: remark: fused tessera.add_layer_norm
func.func @bias_not_vector(%x: tensor<3x8xf32>, %r: tensor<3x8xf32>, %g: tensor<8xf32>) -> tensor<3x8xf32> {
  %bias = onnx.Constant {value = dense<0.5> : tensor<1x8xf32>} : tensor<1x8xf32>
  %xb = onnx.Add %x, %bias : (tensor<3x8xf32>, tensor<1x8xf32>) -> tensor<3x8xf32>
  %s = onnx.Add %xb, %r : (tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
  %y = onnx.LayerNormalization %s, %g : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// A non-constant [D] bias is not folded in: the inner Add stays as x.
// CHECK-LABEL: func.func @bias_not_constant
// CHECK: %[[XB:.*]] = onnx.Add %arg0, %arg2
// CHECK-NEXT: %[[Y:.*]], %{{.*}} = tessera.add_layer_norm %[[XB]], %arg1, %arg3 {
// REPORT: remark: fused tessera.add_layer_norm
func.func @bias_not_constant(%x: tensor<3x8xf32>, %r: tensor<3x8xf32>, %bias: tensor<8xf32>, %g: tensor<8xf32>) -> tensor<3x8xf32> {
  %xb = onnx.Add %x, %bias : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  %s = onnx.Add %xb, %r : (tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
  %y = onnx.LayerNormalization %s, %g : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// Negative: normalising over the last two axes.
// CHECK-LABEL: func.func @two_axes
// CHECK-NOT: tessera.add_layer_norm
// REPORT: remark: not fused tessera.add_layer_norm: it normalises more than the last axis
func.func @two_axes(%x: tensor<2x3x8xf32>, %r: tensor<2x3x8xf32>, %g: tensor<3x8xf32>) -> tensor<2x3x8xf32> {
  %s = onnx.Add %x, %r : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %y = onnx.LayerNormalization %s, %g {axis = 1 : si64} : (tensor<2x3x8xf32>, tensor<3x8xf32>) -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

// Negative: the Mean output is used.
// CHECK-LABEL: func.func @mean_used
// CHECK-NOT: tessera.add_layer_norm
// REPORT: remark: not fused tessera.add_layer_norm: its Mean or InvStdDev output is used
func.func @mean_used(%x: tensor<3x8xf32>, %r: tensor<3x8xf32>, %g: tensor<8xf32>) -> (tensor<3x8xf32>, tensor<3x1xf32>) {
  %s = onnx.Add %x, %r : (tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
  %y, %m = onnx.LayerNormalization %s, %g : (tensor<3x8xf32>, tensor<8xf32>) -> (tensor<3x8xf32>, tensor<3x1xf32>)
  return %y, %m : tensor<3x8xf32>, tensor<3x1xf32>
}

// -----

// Not a candidate: the input is not an Add (no remark).
// CHECK-LABEL: func.func @no_add
// CHECK: onnx.LayerNormalization
// REPORT-NOT: remark
func.func @no_add(%x: tensor<3x8xf32>, %g: tensor<8xf32>) -> tensor<3x8xf32> {
  %y = onnx.LayerNormalization %x, %g : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// Two LayerNormalizations of one Add: the first fuses, the second reads its
// `sum` and is reported.
// CHECK-LABEL: func.func @two_norms
// CHECK: %[[Y:.*]], %[[S:.*]] = tessera.add_layer_norm %arg0, %arg1, %arg2
// CHECK-NEXT: %[[Y2:.*]] = onnx.LayerNormalization %[[S]], %arg3
// CHECK-NEXT: return %[[Y]], %[[Y2]]
// REPORT: remark: fused tessera.add_layer_norm
// REPORT: remark: not fused tessera.add_layer_norm: the Add is already fused with another LayerNormalization
func.func @two_norms(%x: tensor<3x8xf32>, %r: tensor<3x8xf32>, %g: tensor<8xf32>, %g2: tensor<8xf32>) -> (tensor<3x8xf32>, tensor<3x8xf32>) {
  %s = onnx.Add %x, %r : (tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
  %y = onnx.LayerNormalization %s, %g : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  %y2 = onnx.LayerNormalization %s, %g2 : (tensor<3x8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  return %y, %y2 : tensor<3x8xf32>, tensor<3x8xf32>
}
