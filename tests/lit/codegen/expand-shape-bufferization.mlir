// RUN: tessera-opt %s --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s

// tessera's bufferization model of tensor.expand_shape passes the
// output_shape on (upstream's re-infers it and crashes on this group).
// CHECK-LABEL: func.func @expand(
// CHECK-SAME:      %[[X:.*]]: memref<?x64xf32{{.*}}>, %[[B:.*]]: index, %[[S:.*]]: index)
// CHECK:         memref.expand_shape %[[X]] {{\[\[}}0, 1], [2]] output_shape [%[[B]], %[[S]], 64]
func.func @expand(%x: tensor<?x64xf32>, %b: index, %s: index) -> tensor<?x?x64xf32> {
  %e = tensor.expand_shape %x [[0, 1], [2]] output_shape [%b, %s, 64] : tensor<?x64xf32> into tensor<?x?x64xf32>
  return %e : tensor<?x?x64xf32>
}
