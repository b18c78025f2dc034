// RUN: tessera-opt %s --tessera-dynamic-expand-to-reshape | FileCheck %s

// [B*S, 64] -> [B, S, 64] has two dynamic dims in one group: a reshape
// with the output_shape as its shape.
// CHECK-LABEL: func.func @two_dynamic(
// CHECK-SAME:      %[[X:.*]]: tensor<?x64xf32>, %[[B:.*]]: index, %[[S:.*]]: index)
// CHECK:         %[[C64:.*]] = arith.constant 64 : index
// CHECK:         %[[SHAPE:.*]] = tensor.from_elements %[[B]], %[[S]], %[[C64]] : tensor<3xindex>
// CHECK:         tensor.reshape %[[X]](%[[SHAPE]]) : (tensor<?x64xf32>, tensor<3xindex>) -> tensor<?x?x64xf32>
// CHECK-NOT:     tensor.expand_shape
func.func @two_dynamic(%x: tensor<?x64xf32>, %b: index, %s: index) -> tensor<?x?x64xf32> {
  %e = tensor.expand_shape %x [[0, 1], [2]] output_shape [%b, %s, 64] : tensor<?x64xf32> into tensor<?x?x64xf32>
  return %e : tensor<?x?x64xf32>
}

// One dynamic dim per group is unambiguous and stays an expand.
// CHECK-LABEL: func.func @one_dynamic(
// CHECK:         tensor.expand_shape
// CHECK-NOT:     tensor.reshape
func.func @one_dynamic(%x: tensor<?x64xf32>, %b: index) -> tensor<?x4x64xf32> {
  %e = tensor.expand_shape %x [[0, 1], [2]] output_shape [%b, 4, 64] : tensor<?x64xf32> into tensor<?x4x64xf32>
  return %e : tensor<?x4x64xf32>
}
