// RUN: tessera-opt %s --tessera-lower-expand-shape | FileCheck %s

// CHECK: #[[MAP:.*]] = affine_map<()[s0] -> (s0 * 64)>

// The sizes of the view come from output_shape; within the group the last
// dim keeps the source stride (64) and the first is 64 * S.
// CHECK-LABEL: func.func @expand(
// CHECK-SAME:      %[[X:.*]]: memref<?x64xf32>, %[[B:.*]]: index, %[[S:.*]]: index)
// CHECK:         %[[BASE:.*]], %{{.*}}, %{{.*}}:2, %{{.*}}:2 = memref.extract_strided_metadata %[[X]]
// CHECK:         %[[STRIDE:.*]] = affine.apply #[[MAP]]()[%[[S]]]
// CHECK:         memref.reinterpret_cast %[[BASE]] to offset: [0], sizes: [%[[B]], %[[S]], 64], strides: [%[[STRIDE]], 64, 1]
// CHECK-NOT:     memref.expand_shape
func.func @expand(%x: memref<?x64xf32>, %b: index, %s: index) -> memref<?x?x64xf32> {
  %e = memref.expand_shape %x [[0, 1], [2]] output_shape [%b, %s, 64] : memref<?x64xf32> into memref<?x?x64xf32>
  return %e : memref<?x?x64xf32>
}
