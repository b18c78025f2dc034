// RUN: tessera-opt %s --split-input-file --tessera-approximate-math | FileCheck %s

// erf and tanh become polynomials in arith ops (no libm calls).
// CHECK-LABEL: func.func @erf_tanh
// CHECK-NOT: math.erf
// CHECK-NOT: math.tanh
// CHECK: arith.mulf
func.func @erf_tanh(%x: f32) -> (f32, f32) {
  %0 = math.erf %x : f32
  %1 = math.tanh %x : f32
  return %0, %1 : f32, f32
}

// -----

// Negative: sqrt has a native instruction and is kept.
// CHECK-LABEL: func.func @sqrt
// CHECK: math.sqrt
func.func @sqrt(%x: f32) -> f32 {
  %0 = math.sqrt %x : f32
  return %0 : f32
}
