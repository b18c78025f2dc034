// RUN: tessera-opt %s --split-input-file --tessera-split-vector-rows=min-chain=1 | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-split-vector-rows | FileCheck %s --check-prefix=DEFAULT

// An epilogue on a 2 x 32 tile, (acc + bias) * acc with the bias broadcast
// from a row and a splat constant, its rows extracted to be stored: each row
// is computed on 1-D vectors at its extract, row 0 before row 1, and the 2-D
// ops are gone. The accumulator (not elementwise) is read row by row.
// By default (min-chain 8) this 3-op chain is left as it is.
// DEFAULT-LABEL: func.func @epilogue_rows
// DEFAULT: arith.maximumf %{{.*}}, %{{.*}} : vector<2x32xf32>
// CHECK-LABEL: func.func @epilogue_rows
// CHECK-SAME: (%[[ACC:.*]]: vector<2x32xf32>, %[[BIAS:.*]]: vector<32xf32>, %[[OUT:.*]]: memref<2x32xf32>)
// CHECK-NOT: {{: vector<2x32xf32>$}}
// CHECK: %[[A0:.*]] = vector.extract %[[ACC]][0] : vector<32xf32> from vector<2x32xf32>
// CHECK: %[[S0:.*]] = arith.addf %[[A0]], %[[BIAS]] : vector<32xf32>
// CHECK: %[[M0:.*]] = arith.mulf %[[S0]], %[[A0]] : vector<32xf32>
// CHECK: %[[C:.*]] = arith.constant dense<2.000000e+00> : vector<32xf32>
// CHECK: %[[R0:.*]] = arith.maximumf %[[M0]], %[[C]] : vector<32xf32>
// CHECK: vector.store %[[R0]], %[[OUT]][%c0, %c0]
// CHECK: %[[A1:.*]] = vector.extract %[[ACC]][1] : vector<32xf32> from vector<2x32xf32>
// CHECK: %[[S1:.*]] = arith.addf %[[A1]], %[[BIAS]] : vector<32xf32>
// CHECK: %[[M1:.*]] = arith.mulf %[[S1]], %[[A1]] : vector<32xf32>
// CHECK: arith.maximumf %[[M1]], %[[C]] : vector<32xf32>
// CHECK: vector.store
// CHECK-NOT: {{: vector<2x32xf32>$}}
func.func @epilogue_rows(%acc: vector<2x32xf32>, %bias: vector<32xf32>, %out: memref<2x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %two = arith.constant dense<2.0> : vector<2x32xf32>
  %b = vector.broadcast %bias : vector<32xf32> to vector<2x32xf32>
  %s = arith.addf %acc, %b : vector<2x32xf32>
  %m = arith.mulf %s, %acc : vector<2x32xf32>
  %r = arith.maximumf %m, %two : vector<2x32xf32>
  %r0 = vector.extract %r[0] : vector<32xf32> from vector<2x32xf32>
  vector.store %r0, %out[%c0, %c0] : memref<2x32xf32>, vector<32xf32>
  %r1 = vector.extract %r[1] : vector<32xf32> from vector<2x32xf32>
  vector.store %r1, %out[%c1, %c0] : memref<2x32xf32>, vector<32xf32>
  return
}

// -----

// A 2-D op with another user than stored row extracts stays (its stored
// row is still split where it is extracted); a scalar broadcast becomes a
// 1-D one.
// CHECK-LABEL: func.func @kept_for_other_users
// CHECK: %[[N:.*]] = arith.addf %arg0, %{{.*}} : vector<2x4xf32>
// CHECK: %[[X:.*]] = vector.extract %arg0[1] : vector<4xf32> from vector<2x4xf32>
// CHECK: %[[B:.*]] = vector.broadcast %arg1 : f32 to vector<4xf32>
// CHECK: %[[R:.*]] = arith.addf %[[X]], %[[B]] : vector<4xf32>
// CHECK: vector.store %[[R]], %arg2
// CHECK: return %[[N]]
func.func @kept_for_other_users(%a: vector<2x4xf32>, %x: f32, %out: memref<4xf32>) -> vector<2x4xf32> {
  %c0 = arith.constant 0 : index
  %b = vector.broadcast %x : f32 to vector<2x4xf32>
  %n = arith.addf %a, %b : vector<2x4xf32>
  %r = vector.extract %n[1] : vector<4xf32> from vector<2x4xf32>
  vector.store %r, %out[%c0] : memref<4xf32>, vector<4xf32>
  return %n : vector<2x4xf32>
}
