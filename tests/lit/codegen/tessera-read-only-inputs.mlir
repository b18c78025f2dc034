// RUN: tessera-opt %s --tessera-read-only-inputs | FileCheck %s
// RUN: tessera-opt %s --tessera-read-only-inputs --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s --check-prefix=BUF

// The entry function's tensor arguments (the caller's inputs) are not
// writable; other functions and non-tensor arguments are left alone.
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME:      %{{.*}}: tensor<4x3xf32> {bufferization.writable = false},
// CHECK-SAME:      %{{.*}}: tensor<3xf32> {bufferization.writable = false},
// CHECK-SAME:      %{{.*}}: index)
// CHECK-LABEL: func.func @helper(
// CHECK-NOT:     writable

// An update of an input in place (ScatterND on a graph input lowers so)
// writes a copy of it, not the caller's buffer.
// BUF-LABEL: func.func @main_graph(
// BUF-SAME:      %[[DATA:.*]]: memref<4x3xf32>
// BUF:           %[[COPY:.*]] = memref.alloc() {{.*}} : memref<4x3xf32>
// BUF:           memref.copy %[[DATA]], %[[COPY]]
// BUF:           %[[ROW:.*]] = memref.subview %[[COPY]][%{{.*}}, 0] [1, 3] [1, 1]
// BUF:           memref.copy %{{.*}}, %[[ROW]]
// BUF:           return %[[COPY]]
func.func @main_graph(%data: tensor<4x3xf32>, %row: tensor<3xf32>, %i: index) -> tensor<4x3xf32> attributes {tessera.entry} {
  %r = tensor.insert_slice %row into %data[%i, 0] [1, 3] [1, 1] : tensor<3xf32> into tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

func.func @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
