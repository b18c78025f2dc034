// RUN: tessera-opt %s --tessera-cache-in-place --split-input-file | FileCheck %s

// A present output that is Concat(past input, new) along a dynamic axis is
// built in a buffer argument of its own (marked with its output index); the
// past becomes a read-only memref argument with the same strides, copied in
// only when it is not the same memory; the present is no longer a result.
// CHECK: module attributes {tessera.cache_pairs = [array<i64: 1, 1, 2>]}
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<?x?x8xf32> {onnx.name = "x"},
// CHECK-SAME:      %[[PAST:[^:]*]]: memref<?x2x?x8xf32, strided<[?, ?, 8, 1]>> {onnx.name = "past.key"},
// CHECK-SAME:      %[[BUF:[^:]*]]: memref<?x2x?x8xf32, strided<[?, ?, 8, 1]>> {onnx.name = "present.key", tessera.output_index = 1 : i64})
// CHECK-SAME:      -> (tensor<?x?x8xf32> {onnx.name = "y"})
// CHECK:         %[[PAST_T:.*]] = bufferization.to_tensor %[[PAST]] restrict :
// CHECK:         %[[P:.*]] = tensor.dim %[[PAST_T]], %c2
// CHECK:         %[[PRESENT:.*]] = bufferization.to_tensor %[[BUF]] restrict writable
// CHECK-DAG:     %[[PTR0:.*]] = memref.extract_aligned_pointer_as_index %[[BUF]]
// CHECK-DAG:     %[[PTR1:.*]] = memref.extract_aligned_pointer_as_index %[[PAST]]
// CHECK:         %[[SAMEPTR:.*]] = arith.cmpi eq, %[[PTR1]], %[[PTR0]]
// CHECK:         arith.andi %[[SAMEPTR]]
// CHECK:         %[[SAME:.*]] = arith.andi
// CHECK:         %[[WITH_PAST:.*]] = scf.if %[[SAME]]
// CHECK-NEXT:      scf.yield %[[PRESENT]]
// CHECK-NEXT:    } else {
// CHECK-NEXT:      %[[COPIED:.*]] = tensor.insert_slice %[[PAST_T]] into %[[PRESENT]][0, 0, 0, 0]
// CHECK-NEXT:      scf.yield %[[COPIED]]
// CHECK:         %[[R:.*]] = tensor.insert_slice %{{.*}} into %[[WITH_PAST]][0, 0, %[[P]], 0]
// CHECK:         tensor.extract %[[R]]
// CHECK:         bufferization.materialize_in_destination %[[R]] in restrict writable %[[BUF]]
// CHECK-NEXT:    return %{{.*}} : tensor<?x?x8xf32>
func.func @main_graph(%x: tensor<?x?x8xf32> {onnx.name = "x"}, %past: tensor<?x2x?x8xf32> {onnx.name = "past.key"}) -> (tensor<?x?x8xf32> {onnx.name = "y"}, tensor<?x2x?x8xf32> {onnx.name = "present.key"}) attributes {tessera.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %past, %c0 : tensor<?x2x?x8xf32>
  %p = tensor.dim %past, %c2 : tensor<?x2x?x8xf32>
  %s = tensor.dim %x, %c1 : tensor<?x?x8xf32>
  %n = arith.addi %p, %s : index
  %new = tensor.expand_shape %x [[0], [1, 2], [3]] output_shape [%b, 1, %s, 8] : tensor<?x?x8xf32> into tensor<?x1x?x8xf32>
  %e = tensor.empty(%b, %n) : tensor<?x2x?x8xf32>
  %a = tensor.insert_slice %past into %e[0, 0, 0, 0] [%b, 2, %p, 8] [1, 1, 1, 1] : tensor<?x2x?x8xf32> into tensor<?x2x?x8xf32>
  %r = tensor.insert_slice %new into %a[0, 0, %p, 0] [%b, 1, %s, 8] [1, 1, 1, 1] : tensor<?x1x?x8xf32> into tensor<?x2x?x8xf32>
  %v = tensor.extract %r[%c0, %c1, %c0, %c0] : tensor<?x2x?x8xf32>
  %y = linalg.fill ins(%v : f32) outs(%x : tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  return %y, %r : tensor<?x?x8xf32>, tensor<?x2x?x8xf32>
}

// -----

// Along the outermost axis every stride is static; a past that is not an
// argument, or a static axis, is left alone.
// CHECK: module attributes {tessera.cache_pairs = [array<i64: 0, 0, 0>]}
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME:      %{{[^:]*}}: memref<?x4xf32, strided<[4, 1]>>
// CHECK-SAME:      %{{[^:]*}}: tensor<3x4xf32>
// CHECK-SAME:      %{{[^:]*}}: memref<?x4xf32, strided<[4, 1]>> {tessera.output_index = 0 : i64})
// CHECK-SAME:      -> (tensor<5x4xf32>, tensor<?x4xf32>)
func.func @main_graph(%past: tensor<?x4xf32>, %other: tensor<3x4xf32>, %new: tensor<2x4xf32>) -> (tensor<?x4xf32>, tensor<5x4xf32>, tensor<?x4xf32>) attributes {tessera.entry} {
  %c0 = arith.constant 0 : index
  %p = tensor.dim %past, %c0 : tensor<?x4xf32>
  %n = arith.addi %p, %p : index
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %a = tensor.insert_slice %past into %e[0, 0] [%p, 4] [1, 1] : tensor<?x4xf32> into tensor<?x4xf32>
  %r = tensor.insert_slice %past into %a[%p, 0] [%p, 4] [1, 1] : tensor<?x4xf32> into tensor<?x4xf32>
  // Static: not a growing cache.
  %e2 = tensor.empty() : tensor<5x4xf32>
  %a2 = tensor.insert_slice %other into %e2[0, 0] [3, 4] [1, 1] : tensor<3x4xf32> into tensor<5x4xf32>
  %r2 = tensor.insert_slice %new into %a2[3, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<5x4xf32>
  // Not the past of an argument.
  %sq = arith.addf %past, %past : tensor<?x4xf32>
  %e3 = tensor.empty(%n) : tensor<?x4xf32>
  %a3 = tensor.insert_slice %sq into %e3[0, 0] [%p, 4] [1, 1] : tensor<?x4xf32> into tensor<?x4xf32>
  %r3 = tensor.insert_slice %sq into %a3[%p, 0] [%p, 4] [1, 1] : tensor<?x4xf32> into tensor<?x4xf32>
  return %r, %r2, %r3 : tensor<?x4xf32>, tensor<5x4xf32>, tensor<?x4xf32>
}

// -----

// The same value returned twice is not a cache.
// CHECK-NOT: tessera.cache_pairs
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME:      %{{[^:]*}}: tensor<?x4xf32>
func.func @main_graph(%past: tensor<?x4xf32>, %new: tensor<1x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) attributes {tessera.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %p = tensor.dim %past, %c0 : tensor<?x4xf32>
  %n = arith.addi %p, %c1 : index
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %a = tensor.insert_slice %past into %e[0, 0] [%p, 4] [1, 1] : tensor<?x4xf32> into tensor<?x4xf32>
  %r = tensor.insert_slice %new into %a[%p, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<?x4xf32>
  return %r, %r : tensor<?x4xf32>, tensor<?x4xf32>
}
