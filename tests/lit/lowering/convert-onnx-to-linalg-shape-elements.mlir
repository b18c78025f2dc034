// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg --canonicalize --cse | FileCheck %s

// Shape operands computed by exporter arithmetic are traced back to dims
// (lowering::shapeElements), so the result dims reify to input dims; only
// what cannot be traced is read at run time with tensor.extract.

// BERT's head merge: Reshape(x, [B, S, H*Dh]) with B, S from the Shape of
// another tensor and H*Dh a Mul of two gathered dims (static, folded).
// CHECK-LABEL: func.func @view_merge_heads
// CHECK-NOT: tensor.extract
// CHECK-DAG: %[[B:.*]] = tensor.dim %arg1, %c0 : tensor<?x?x64xf32>
// CHECK-DAG: %[[S:.*]] = tensor.dim %arg1, %c1 : tensor<?x?x64xf32>
// CHECK-DAG: %[[SB:.*]] = arith.select %{{.*}}, %{{.*}}, %[[B]] : index
// CHECK-DAG: %[[SS:.*]] = arith.select %{{.*}}, %{{.*}}, %[[S]] : index
// CHECK: tensor.from_elements %[[SB]], %[[SS]], %c64 : tensor<3xindex>
// CHECK-NOT: tensor.extract
// CHECK: return
func.func @view_merge_heads(%x: tensor<?x?x4x16xf32>, %m: tensor<?x?x64xf32>) -> tensor<?x?x?xf32> {
  %i0 = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %i1 = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %i2 = onnx.Constant {value = dense<2> : tensor<i64>} : tensor<i64>
  %i3 = onnx.Constant {value = dense<3> : tensor<i64>} : tensor<i64>
  %ax = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %sm = onnx.Shape %m : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %sx = onnx.Shape %x : (tensor<?x?x4x16xf32>) -> tensor<4xi64>
  %b = onnx.Gather %sm, %i0 {axis = 0 : si64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %s = onnx.Gather %sm, %i1 {axis = 0 : si64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %h = onnx.Gather %sx, %i2 {axis = 0 : si64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %d = onnx.Gather %sx, %i3 {axis = 0 : si64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %hd = onnx.Mul %h, %d : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %ub = onnx.Unsqueeze %b, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %us = onnx.Unsqueeze %s, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %uhd = onnx.Unsqueeze %hd, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %cat = onnx.Concat %ub, %us, %uhd {axis = 0 : si64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %r = onnx.Reshape %x, %cat : (tensor<?x?x4x16xf32>, tensor<3xi64>) -> tensor<?x?x?xf32> loc("merge")
  return %r : tensor<?x?x?xf32>
}

// -----

// ViT's class token: Expand(cls, Where(Equal([B, -1, 64], -1), 1, [B, -1,
// 64])). A dim is never -1, so the Equal folds and the size is the dim.
// CHECK-LABEL: func.func @cls_expand
// CHECK-NOT: tensor.extract
// CHECK-NOT: cf.assert
// CHECK: %[[B:.*]] = tensor.dim %arg0, %c0 : tensor<?x3x32x32xf32>
// CHECK: tensor.empty(%[[B]]) : tensor<?x1x64xf32>
func.func @cls_expand(%x: tensor<?x3x32x32xf32>, %cls: tensor<1x1x64xf32>) -> tensor<?x?x64xf32> {
  %i0 = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %ax = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %m1 = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %c64 = onnx.Constant {value = dense<64> : tensor<1xi64>} : tensor<1xi64>
  %one = onnx.Constant {value = dense<1> : tensor<3xi64>} : tensor<3xi64>
  %sh = onnx.Shape %x : (tensor<?x3x32x32xf32>) -> tensor<4xi64>
  %b = onnx.Gather %sh, %i0 {axis = 0 : si64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %ub = onnx.Unsqueeze %b, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %cat = onnx.Concat %ub, %m1, %c64 {axis = 0 : si64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %eq = onnx.Equal %cat, %m1 : (tensor<3xi64>, tensor<1xi64>) -> tensor<3xi1>
  %sel = onnx.Where %eq, %one, %cat : (tensor<3xi1>, tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %e = onnx.Expand %cls, %sel : (tensor<1x1x64xf32>, tensor<3xi64>) -> tensor<?x?x64xf32> loc("cls")
  return %e : tensor<?x?x64xf32>
}

// -----

// GPT-2's position ids: Range(0, Cast(Gather(Shape(ids), 1)), 1) has the
// sequence length's size.
// CHECK-LABEL: func.func @positions
// CHECK-NOT: tensor.extract
// CHECK: %[[S:.*]] = tensor.dim %arg0, %c1 : tensor<?x?xi64>
// CHECK: tensor.empty(%[[S]]) : tensor<?xi64>
func.func @positions(%ids: tensor<?x?xi64>) -> tensor<?xi64> {
  %i1 = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %z = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %sh = onnx.Shape %ids : (tensor<?x?xi64>) -> tensor<2xi64>
  %s = onnx.Gather %sh, %i1 {axis = 0 : si64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %c = onnx.Cast %s {to = i64} : (tensor<i64>) -> tensor<i64>
  %r = onnx.Range %z, %c, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64> loc("range")
  return %r : tensor<?xi64>
}

// -----

// Negative: a Gather at a run-time index is read at run time (the Gather's
// result only; the -1 entry is still a constant).
// CHECK-LABEL: func.func @gather_rt_index
// CHECK: %[[G:.*]] = linalg.generic
// CHECK: %[[E:.*]] = tensor.extract %[[G]][] : tensor<i64>
// CHECK: arith.index_cast %[[E]] : i64 to index
// CHECK: cf.assert %{{.*}}, "node 'r': the shape does not have the input's number of elements"
func.func @gather_rt_index(%x: tensor<?x?xf32>, %k: tensor<i64>) -> tensor<?x?xf32> {
  %ax = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %sh = onnx.Shape %x : (tensor<?x?xf32>) -> tensor<2xi64>
  %g = onnx.Gather %sh, %k {axis = 0 : si64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %u = onnx.Unsqueeze %g, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %m1 = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %cat = onnx.Concat %u, %m1 {axis = 0 : si64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r = onnx.Reshape %x, %cat : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32> loc("r")
  return %r : tensor<?x?xf32>
}

// -----

// Negative: arithmetic through floats is not traced; the Cast back to
// integers is read at run time, the constant entry stays static.
// CHECK-LABEL: func.func @float_detour
// CHECK: arith.mulf
// CHECK: %[[I:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<i64>)
// CHECK: arith.fptosi
// CHECK: tensor.extract %[[I]][] : tensor<i64>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [%{{.*}}, 4] : tensor<?xf32> into tensor<?x4xf32>
func.func @float_detour(%x: tensor<?x8xf32>) -> tensor<?x?xf32> {
  %ax = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %i0 = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %two = onnx.Constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %c16 = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %sh = onnx.Shape %x : (tensor<?x8xf32>) -> tensor<2xi64>
  %b = onnx.Gather %sh, %i0 {axis = 0 : si64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %f = onnx.Cast %b {to = f32} : (tensor<i64>) -> tensor<f32>
  %f2 = onnx.Mul %f, %two : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %i = onnx.Cast %f2 {to = i64} : (tensor<f32>) -> tensor<i64>
  %u = onnx.Unsqueeze %i, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %cat = onnx.Concat %u, %c16 {axis = 0 : si64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r = onnx.Reshape %x, %cat : (tensor<?x8xf32>, tensor<2xi64>) -> tensor<?x?xf32> loc("r2")
  return %r : tensor<?x?xf32>
}

// -----

// GPT-2's position embedding: a Gather at Range(0, S) indices from a table
// of 128 rows is checked on sizes only (S <= 128), naming the node, so that
// a longer sequence is refused instead of clamped.
// CHECK-LABEL: func.func @positions_gather
// CHECK: %[[S:.*]] = tensor.dim %arg0, %c1 : tensor<?x?xi64>
// CHECK: %[[LAST:.*]] = arith.subi %[[S]], %c1 : index
// CHECK: arith.cmpi slt, %[[LAST]], %c128 : index
// CHECK: cf.assert %{{.*}}, "node 'wpe': the indices (a Range) run past the 128 entries of axis 0"
func.func @positions_gather(%ids: tensor<?x?xi64>, %table: tensor<128x64xf32>) -> tensor<?x64xf32> {
  %i1 = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %z = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %sh = onnx.Shape %ids : (tensor<?x?xi64>) -> tensor<2xi64>
  %s = onnx.Gather %sh, %i1 {axis = 0 : si64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %r = onnx.Range %z, %s, %i1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64> loc("range")
  %g = onnx.Gather %table, %r {axis = 0 : si64} : (tensor<128x64xf32>, tensor<?xi64>) -> tensor<?x64xf32> loc("wpe")
  return %g : tensor<?x64xf32>
}

// -----

// Negative: token ids from an input get no such check (they are clamped).
// CHECK-LABEL: func.func @ids_gather
// CHECK-NOT: cf.assert
// CHECK: return
func.func @ids_gather(%ids: tensor<?xi64>, %table: tensor<128x64xf32>) -> tensor<?x64xf32> {
  %g = onnx.Gather %table, %ids {axis = 0 : si64} : (tensor<128x64xf32>, tensor<?xi64>) -> tensor<?x64xf32> loc("wte")
  return %g : tensor<?x64xf32>
}
