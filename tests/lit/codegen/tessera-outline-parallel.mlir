// RUN: tessera-opt %s --split-input-file --tessera-outline-parallel | FileCheck %s

// A top-level loop with vector FMAs (a loop over weight panels) becomes a
// launch of an outlined body over the trip count, naming the body by symbol;
// constants are cloned into the body, buffers are passed.
// CHECK: func.func private @[[BODY:tessera_body_0]]
// CHECK-SAME: (%{{.*}}: memref<4x16xf32>, %{{.*}}: memref<4x16xf32>, %[[B:.*]]: index, %[[E:.*]]: index)
// CHECK: scf.for %{{.*}} = %[[B]] to %[[E]]
// CHECK: vector.fma
// CHECK-LABEL: func.func @main_graph
// CHECK-SAME: (%[[A:.*]]: memref<4x16xf32>, %[[C:.*]]: memref<4x16xf32>)
// CHECK: %[[N:.*]] = arith.ceildivsi
// CHECK-NOT: scf.for
// CHECK: tessera.parallel_launch @[[BODY]](%[[A]], %[[C]]) count(%[[N]]) : memref<4x16xf32>, memref<4x16xf32>
// CHECK-NOT: func.call
func.func @main_graph(%a: memref<4x16xf32>, %c: memref<4x16xf32>) attributes {tessera.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %pad = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    %v = vector.transfer_read %a[%i, %c0], %pad {in_bounds = [true]} : memref<4x16xf32>, vector<16xf32>
    %f = vector.fma %v, %v, %v : vector<16xf32>
    vector.transfer_write %f, %c[%i, %c0] {in_bounds = [true]} : vector<16xf32>, memref<4x16xf32>
  }
  return
}

// -----

// Negative: a loop without contractions that writes little (4 elements)
// stays serial.
// CHECK-LABEL: func.func @main_graph
// CHECK: scf.for
// CHECK-NOT: tessera.parallel_launch
func.func @main_graph(%a: memref<4xf32>) attributes {tessera.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %one, %a[%i] : memref<4xf32>
  }
  return
}

// -----

// The graph is the function marked tessera.entry, whatever its name: a
// function named like the importer's graph but unmarked is left alone.
// CHECK-LABEL: func.func @main_graph
// CHECK: scf.for
// CHECK-NOT: tessera.parallel_launch
func.func @main_graph(%a: memref<4x16xf32>, %c: memref<4x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %pad = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    %v = vector.transfer_read %a[%i, %c0], %pad {in_bounds = [true]} : memref<4x16xf32>, vector<16xf32>
    %f = vector.fma %v, %v, %v : vector<16xf32>
    vector.transfer_write %f, %c[%i, %c0] {in_bounds = [true]} : vector<16xf32>, memref<4x16xf32>
  }
  return
}

// -----

// An elementwise loop nest (128 rows of 512, a softmax's or a norm's shape)
// writes enough, each row through a view addressed by the induction
// variable: it runs on the thread pool too.
// CHECK-LABEL: func.func private @tessera_body_0
// CHECK: scf.for
// CHECK: memref.subview
// CHECK: scf.for
// CHECK: math.exp
// CHECK-LABEL: func.func @main_graph
// CHECK: tessera.parallel_launch @tessera_body_0
func.func @main_graph(%a: memref<128x512xf32>, %c: memref<128x512xf32>) attributes {tessera.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c128 = arith.constant 128 : index
  %c512 = arith.constant 512 : index
  %pad = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c128 step %c1 {
    %row = memref.subview %c[%i, 0] [1, 512] [1, 1] : memref<128x512xf32> to memref<1x512xf32, strided<[512, 1], offset: ?>>
    scf.for %j = %c0 to %c512 step %c16 {
      %v = vector.transfer_read %a[%i, %j], %pad {in_bounds = [true]} : memref<128x512xf32>, vector<16xf32>
      %e = math.exp %v : vector<16xf32>
      vector.transfer_write %e, %row[%c0, %j] {in_bounds = [true]} : vector<16xf32>, memref<1x512xf32, strided<[512, 1], offset: ?>>
    }
  }
  return
}

// -----

// Negative: as large, but every iteration writes the same row (a
// dependence between iterations), so it stays serial.
// CHECK-LABEL: func.func @main_graph
// CHECK: scf.for
// CHECK-NOT: tessera.parallel_launch
func.func @main_graph(%a: memref<128x512xf32>, %c: memref<1x512xf32>) attributes {tessera.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c128 = arith.constant 128 : index
  %c512 = arith.constant 512 : index
  %pad = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c128 step %c1 {
    scf.for %j = %c0 to %c512 step %c16 {
      %v = vector.transfer_read %a[%i, %j], %pad {in_bounds = [true]} : memref<128x512xf32>, vector<16xf32>
      %s = vector.transfer_read %c[%c0, %j], %pad {in_bounds = [true]} : memref<1x512xf32>, vector<16xf32>
      %e = arith.addf %v, %s : vector<16xf32>
      vector.transfer_write %e, %c[%c0, %j] {in_bounds = [true]} : vector<16xf32>, memref<1x512xf32>
    }
  }
  return
}
