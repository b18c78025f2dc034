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

// -----

// tan, sinh and the inverse hyperbolics are expanded into what the
// approximations and LLVM take (sin/cos, exp, log, sqrt), then approximated.
// CHECK-LABEL: func.func @expanded
// CHECK-NOT: math.tan
// CHECK-NOT: math.sinh
// CHECK-NOT: math.asinh
// CHECK-NOT: math.log
// CHECK: return
func.func @expanded(%x: vector<8xf32>) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>) {
  %0 = math.tan %x : vector<8xf32>
  %1 = math.sinh %x : vector<8xf32>
  %2 = math.asinh %x : vector<8xf32>
  return %0, %1, %2 : vector<8xf32>, vector<8xf32>, vector<8xf32>
}

// -----

// f64 atan has neither an approximation nor an LLVM intrinsic: a libm call,
// element by element for vectors.
// CHECK-LABEL: func.func private @atan(f64) -> f64
// CHECK-LABEL: func.func @libm
// CHECK: call @atan({{.*}}) : (f64) -> f64
// CHECK: call @atan({{.*}}) : (f64) -> f64
// CHECK-NOT: math.atan
func.func @libm(%x: vector<2xf64>) -> vector<2xf64> {
  %0 = math.atan %x : vector<2xf64>
  return %0 : vector<2xf64>
}
