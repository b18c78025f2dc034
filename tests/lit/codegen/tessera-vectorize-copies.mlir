// RUN: tessera-opt %s --split-input-file --tessera-vectorize-copies | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-vectorize-copies=vector-bits=256 | FileCheck %s --check-prefix=AVX2

// With AVX2's 256 bits: rows of 16 floats are two vectors of 8, a dynamic
// row's rest is masked with 8 lanes.
// AVX2-LABEL: func.func @concat_past
// AVX2: scf.for %{{.*}} = %c0 to %c16 step %c8
// AVX2: vector.load %arg0{{.*}} vector<8xf32>
// AVX2-NOT: vector.maskedload
// AVX2-LABEL: func.func @dynamic_rows
// AVX2: arith.remui %{{.*}}, %c8
// AVX2: vector.create_mask %{{.*}} : vector<8xi1>

// A KV cache's concatenation: the past [B, H, P, 16] copied into a strided
// view of the present. Rows of 16 floats (one 512-bit vector): loops over
// the outer dims around one vector load and store per row, no mask; the
// heads (the largest static outer dim) outermost, for the thread pool.
// CHECK-LABEL: func.func @concat_past
// CHECK-NOT: memref.copy
// CHECK: scf.for %[[H:.*]] = %c0 to %c4 step %c1
// CHECK: scf.for %[[B:.*]] = %c0 to %{{.*}} step %c1
// CHECK: scf.for %[[P:.*]] = %c0 to %{{.*}} step %c1
// CHECK: scf.for %[[C:.*]] = %c0 to %c16 step %c16
// CHECK: %[[V:.*]] = vector.load %arg0[%[[B]], %[[H]], %[[P]], %[[C]]] : memref<?x4x?x16xf32>, vector<16xf32>
// CHECK: vector.store %[[V]], %arg1[%[[B]], %[[H]], %[[P]], %[[C]]]
// CHECK-NOT: vector.maskedload
// CHECK: return
func.func @concat_past(%past: memref<?x4x?x16xf32>, %present: memref<?x4x?x16xf32, strided<[?, ?, 16, 1], offset: ?>>) {
  memref.copy %past, %present : memref<?x4x?x16xf32> to memref<?x4x?x16xf32, strided<[?, ?, 16, 1], offset: ?>>
  return
}

// -----

// A dynamic row length: full vectors up to n - n mod 16, then one masked
// vector of the n mod 16 left.
// CHECK-LABEL: func.func @dynamic_rows
// CHECK: %[[N:.*]] = memref.dim %arg0, %c2
// CHECK: %[[REM:.*]] = arith.remui %[[N]], %c16
// CHECK: %[[FULL:.*]] = arith.subi %[[N]], %[[REM]]
// CHECK: scf.for %[[C:.*]] = %c0 to %[[FULL]] step %c16
// CHECK: vector.load
// CHECK: vector.store
// CHECK: %[[REST:.*]] = arith.subi %[[N]], %[[FULL]]
// CHECK: %[[M:.*]] = vector.create_mask %[[REST]] : vector<16xi1>
// CHECK: %[[V:.*]] = vector.maskedload %arg0[%{{.*}}, %{{.*}}, %[[FULL]]], %[[M]]
// CHECK: vector.maskedstore %arg1[%{{.*}}, %{{.*}}, %[[FULL]]], %[[M]], %[[V]]
func.func @dynamic_rows(%a: memref<1x1x?xf32>, %b: memref<1x1x?xf32, strided<[?, ?, 1], offset: ?>>) {
  memref.copy %a, %b : memref<1x1x?xf32> to memref<1x1x?xf32, strided<[?, ?, 1], offset: ?>>
  return
}

// -----

// Static rows of 20 floats: one full vector, then one of the 4 left; rows
// of 5 i32 (shorter than a vector) are one vector<5xi32> each; a rank-1
// copy of 40 f16 is one vector of 32 and one of 8.
// CHECK-LABEL: func.func @static_rows
// CHECK: scf.for %[[R:.*]] = %c0 to %c3 step %c1
// CHECK: scf.for %[[C:.*]] = %c0 to %c16 step %c16
// CHECK: vector.load %arg0[%[[R]], %[[C]]] : memref<3x20xf32>, vector<16xf32>
// CHECK: %[[T:.*]] = vector.load %arg0[%[[R]], %c16] : memref<3x20xf32>, vector<4xf32>
// CHECK: vector.store %[[T]], %arg1[%[[R]], %c16]
// CHECK: scf.for %{{.*}} = %c0 to %c5 step %c5
// CHECK: vector.load %arg2{{.*}} vector<5xi32>
// CHECK: vector.store %{{.*}}, %arg3{{.*}} vector<5xi32>
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c32
// CHECK: vector.load %arg4{{.*}} vector<32xf16>
// CHECK: vector.load %arg4[%c32] : memref<40xf16>, vector<8xf16>
// CHECK-NOT: vector.maskedload
// CHECK: return
func.func @static_rows(%a: memref<3x20xf32>, %b: memref<3x20xf32, strided<[32, 1]>>, %c: memref<7x5xi32>, %d: memref<7x5xi32, strided<[8, 1], offset: ?>>, %e: memref<40xf16>, %f: memref<40xf16, strided<[1], offset: ?>>) {
  memref.copy %a, %b : memref<3x20xf32> to memref<3x20xf32, strided<[32, 1]>>
  memref.copy %c, %d : memref<7x5xi32> to memref<7x5xi32, strided<[8, 1], offset: ?>>
  memref.copy %e, %f : memref<40xf16> to memref<40xf16, strided<[1], offset: ?>>
  return
}

// -----

// Left alone: an innermost dim that is not contiguous (a transposed view),
// and a rank-0 copy.
// CHECK-LABEL: func.func @not_contiguous
// CHECK: memref.copy %arg0, %arg1
// CHECK: memref.copy %arg2, %arg3
// CHECK-NOT: vector.load
func.func @not_contiguous(%a: memref<4x8xf32>, %b: memref<4x8xf32, strided<[1, 4]>>, %s: memref<f32>, %t: memref<f32>) {
  memref.copy %a, %b : memref<4x8xf32> to memref<4x8xf32, strided<[1, 4]>>
  memref.copy %s, %t : memref<f32> to memref<f32>
  return
}
