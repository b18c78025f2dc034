// RUN: tessera-opt %s --tessera-results-to-out-params --split-input-file | FileCheck %s

// A dynamically shaped result allocated in the function becomes the
// caller's buffer (no copy); a returned view is copied into its argument.
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME:      %[[X:.*]]: memref<?x8xf32>, %[[OUT0:.*]]: memref<?x8xf32> {onnx.name = "y"}, %[[OUT1:.*]]: memref<?x8xf32> {onnx.name = "x_out"})
// CHECK-NOT:     memref.alloc
// CHECK:         linalg.copy ins(%[[X]] : memref<?x8xf32>) outs(%[[OUT0]] : memref<?x8xf32>)
// CHECK:         memref.copy %[[X]], %[[OUT1]]
// CHECK-NEXT:    return
// CHECK-NOT:     -> memref
func.func @main_graph(%x: memref<?x8xf32>) -> (memref<?x8xf32> {onnx.name = "y"}, memref<?x8xf32> {onnx.name = "x_out"}) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x8xf32>
  %a = memref.alloc(%n) {alignment = 64 : i64} : memref<?x8xf32>
  linalg.copy ins(%x : memref<?x8xf32>) outs(%a : memref<?x8xf32>)
  return %a, %x : memref<?x8xf32>, memref<?x8xf32>
}

// -----

// The same buffer returned twice is copied the second time.
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME:      %{{.*}}: memref<4xf32>, %[[OUT0:.*]]: memref<4xf32>, %[[OUT1:.*]]: memref<4xf32>)
// CHECK:         memref.copy %[[OUT0]], %[[OUT1]]
func.func @main_graph(%x: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%a : memref<4xf32>)
  return %a, %a : memref<4xf32>, memref<4xf32>
}
