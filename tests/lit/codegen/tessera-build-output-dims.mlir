// RUN: tessera-opt %s --tessera-build-output-dims --split-input-file --verify-diagnostics | FileCheck %s

// The dims of a matmul of a [?, ?, 64] input by a constant [64, 32] weight
// and of a reshape: static dims are constants, dynamic ones the inputs'
// dims; the data-dependent check is dropped, the dims-only one kept.
// The function is marked tessera.output_dims (the entry keeps its mark).
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME:      attributes {tessera.entry}
// CHECK-LABEL: func.func private @main_graph_output_dims(
// CHECK-SAME:      %[[X:.*]]: tensor<?x?x64xf32>) -> (index, index, index, index) attributes {tessera.output_dims} {
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG:     %[[B:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK-DAG:     %[[S:.*]] = tensor.dim %[[X]], %[[C1]]
// CHECK:         cf.assert %{{.*}}, "node 'n': the batch must be positive"
// CHECK-NOT:     tensor.dim
// CHECK-NOT:     linalg
// CHECK-NOT:     "data"
// CHECK:         %[[BS:.*]] = arith.muli %[[B]], %[[S]] : index
// CHECK:         %[[N:.*]] = affine.apply #{{.*}}()[%[[BS]]]
// CHECK:         return %[[B]], %[[S]], %[[C32]], %[[N]] : index, index, index, index
func.func @main_graph(%x: tensor<?x?x64xf32>) -> (tensor<?x?x32xf32>, tensor<?xf32>) attributes {tessera.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %w = arith.constant dense<1.0> : tensor<64x32xf32>
  %b = tensor.dim %x, %c0 : tensor<?x?x64xf32>
  %s = tensor.dim %x, %c1 : tensor<?x?x64xf32>
  %pos = arith.cmpi sgt, %b, %c0 : index
  cf.assert %pos, "node 'n': the batch must be positive"
  %bs = arith.muli %b, %s : index
  %flat = tensor.collapse_shape %x [[0, 1], [2]] : tensor<?x?x64xf32> into tensor<?x64xf32>
  %e = tensor.empty(%bs) : tensor<?x32xf32>
  %zero = arith.constant 0.0 : f32
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x32xf32>) -> tensor<?x32xf32>
  %mm = linalg.matmul ins(%flat, %w : tensor<?x64xf32>, tensor<64x32xf32>) outs(%f : tensor<?x32xf32>) -> tensor<?x32xf32>
  %y = tensor.expand_shape %mm [[0, 1], [2]] output_shape [%b, %s, 32] : tensor<?x32xf32> into tensor<?x?x32xf32>
  %v = tensor.extract %x[%c0, %c0, %c0] : tensor<?x?x64xf32>
  %ok = arith.cmpf oge, %v, %zero : f32
  cf.assert %ok, "node 'm': data"
  %n = arith.muli %bs, %c1 : index
  %flat2 = tensor.collapse_shape %mm [[0, 1]] : tensor<?x32xf32> into tensor<?xf32>
  return %y, %flat2 : tensor<?x?x32xf32>, tensor<?xf32>
}

// -----

// An output whose dims come from tensor data cannot be computed before a run.
func.func @main_graph(%x: tensor<?xi64>) -> tensor<?xf32> attributes {tessera.entry} {
  %c0 = arith.constant 0 : index
  %v = tensor.extract %x[%c0] : tensor<?xi64>
  // expected-error @+1 {{the dims of output result 0 depend on tensor values}}
  %n = arith.index_cast %v : i64 to index
  %e = tensor.empty(%n) : tensor<?xf32>
  return %e : tensor<?xf32>
}
