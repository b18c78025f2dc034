// RUN: tessera-opt %s --tessera-canonicalize | FileCheck %s

// The dims of [B*S, 64] -> [B, S, 64] are the expand's output_shape (LLVM
// 19's own canonicalization divides by kDynamic here), and ordinary
// canonicalization still runs (the constant index folds).
// CHECK-LABEL: func.func @dims_of_expand(
// CHECK-SAME:      %{{.*}}: tensor<?x64xf32>, %[[B:.*]]: index, %[[S:.*]]: index)
// CHECK-NOT:     floordiv
// CHECK-NOT:     tensor.dim
// CHECK:         return %[[B]], %[[S]] : index, index
func.func @dims_of_expand(%x: tensor<?x64xf32>, %b: index, %s: index) -> (index, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %e = tensor.expand_shape %x [[0, 1], [2]] output_shape [%b, %s, 64] : tensor<?x64xf32> into tensor<?x?x64xf32>
  %d0 = tensor.dim %e, %c0 : tensor<?x?x64xf32>
  %d1 = tensor.dim %e, %c1 : tensor<?x?x64xf32>
  return %d0, %d1 : index, index
}
