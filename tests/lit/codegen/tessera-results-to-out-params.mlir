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
func.func @main_graph(%x: memref<?x8xf32>) -> (memref<?x8xf32> {onnx.name = "y"}, memref<?x8xf32> {onnx.name = "x_out"}) attributes {tessera.entry} {
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
func.func @main_graph(%x: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) attributes {tessera.entry} {
  %a = memref.alloc() : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%a : memref<4xf32>)
  return %a, %a : memref<4xf32>, memref<4xf32>
}

// -----

// Returned through a loop that carries it and a dense reshape (the dynamic
// [B*S, N] -> [B, S, N] of a matmul's result): the allocation becomes a view
// of the caller's buffer and nothing is copied.
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME:      %[[X:.*]]: memref<?x8xf32>, %[[SHAPE:.*]]: memref<3xindex>, %[[OUT:.*]]: memref<?x?x8xf32>)
// CHECK:         %[[N:.*]] = memref.dim %[[X]]
// CHECK:         %[[VIEW:.*]] = memref.reinterpret_cast %[[OUT]] to offset: [0], sizes: [%[[N]], 8], strides: [8, 1]
// CHECK:         linalg.copy ins(%[[X]] : memref<?x8xf32>) outs(%[[VIEW]] : memref<?x8xf32>)
// CHECK-NOT:     memref.copy
// CHECK:         return
func.func @main_graph(%x: memref<?x8xf32>, %shape: memref<3xindex>) -> memref<?x?x8xf32> attributes {tessera.entry} {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x8xf32>
  %a = memref.alloc(%n) : memref<?x8xf32>
  linalg.copy ins(%x : memref<?x8xf32>) outs(%a : memref<?x8xf32>)
  %c1 = arith.constant 1 : index
  %l = scf.for %i = %c0 to %c1 step %c1 iter_args(%b = %a) -> (memref<?x8xf32>) {
    scf.yield %b : memref<?x8xf32>
  }
  %r = memref.reshape %l(%shape) : (memref<?x8xf32>, memref<3xindex>) -> memref<?x?x8xf32>
  return %r : memref<?x?x8xf32>
}

// -----

// A reshape of an argument is not the function's buffer: copied.
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME:      %[[X:.*]]: memref<8xf32>, %[[OUT:.*]]: memref<2x4xf32>)
// CHECK:         %[[E:.*]] = memref.expand_shape %[[X]]
// CHECK:         memref.copy %[[E]], %[[OUT]]
func.func @main_graph(%x: memref<8xf32>) -> memref<2x4xf32> attributes {tessera.entry} {
  %e = memref.expand_shape %x [[0, 1]] output_shape [2, 4] : memref<8xf32> into memref<2x4xf32>
  return %e : memref<2x4xf32>
}

// -----

// An argument that is already an output's buffer (tessera-cache-in-place's
// present) moves to that output's place among the out-params, also when it
// is the last output or every output.
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME:      %[[X:[^:]*]]: memref<?xf32>,
// CHECK-SAME:      %[[Y:[^:]*]]: memref<?xf32> {onnx.name = "y"},
// CHECK-SAME:      %[[P:[^:]*]]: memref<?xf32, strided<[1]>> {onnx.name = "present"},
// CHECK-SAME:      %[[Z:[^:]*]]: memref<?xf32> {onnx.name = "z"},
// CHECK-SAME:      %[[Q:[^:]*]]: memref<?xf32, strided<[1]>> {onnx.name = "last"})
// CHECK:         memref.copy %[[X]], %[[P]]
// CHECK:         memref.copy %[[X]], %[[Q]]
// CHECK:         linalg.copy ins(%[[X]] : memref<?xf32>) outs(%[[Y]] : memref<?xf32>)
// CHECK:         linalg.copy ins(%[[X]] : memref<?xf32>) outs(%[[Z]] : memref<?xf32>)
func.func @main_graph(%x: memref<?xf32>, %last: memref<?xf32, strided<[1]>> {onnx.name = "last", tessera.output_index = 3 : i64}, %buf: memref<?xf32, strided<[1]>> {onnx.name = "present", tessera.output_index = 1 : i64}) -> (memref<?xf32> {onnx.name = "y"}, memref<?xf32> {onnx.name = "z"}) attributes {tessera.entry} {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?xf32>
  memref.copy %x, %buf : memref<?xf32> to memref<?xf32, strided<[1]>>
  memref.copy %x, %last : memref<?xf32> to memref<?xf32, strided<[1]>>
  %a = memref.alloc(%n) : memref<?xf32>
  linalg.copy ins(%x : memref<?xf32>) outs(%a : memref<?xf32>)
  %b = memref.alloc(%n) : memref<?xf32>
  linalg.copy ins(%x : memref<?xf32>) outs(%b : memref<?xf32>)
  return %a, %b : memref<?xf32>, memref<?xf32>
}

// -----

// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME:      %[[X:[^:]*]]: memref<4xf32>,
// CHECK-SAME:      %[[P:[^:]*]]: memref<4xf32> {onnx.name = "only"})
// CHECK-NEXT:    memref.copy %[[X]], %[[P]]
// CHECK-NEXT:    return
func.func @main_graph(%x: memref<4xf32>, %buf: memref<4xf32> {onnx.name = "only", tessera.output_index = 0 : i64}) attributes {tessera.entry} {
  memref.copy %x, %buf : memref<4xf32> to memref<4xf32>
  return
}
