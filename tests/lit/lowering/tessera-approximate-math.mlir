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

// f32 erf is Tessera's rational x P(x^2) / Q(x^2): x clamped to +-3.925 by
// ordered comparisons (NaN passes through), one division, the result
// clamped to [-1, 1]; none of MLIR's piecewise blends.
// CHECK-LABEL: func.func @erf_rational
// CHECK-DAG: %[[HI:.*]] = arith.constant dense<3.925000e+00> : vector<16xf32>
// CHECK-DAG: %[[LO:.*]] = arith.constant dense<-3.925000e+00> : vector<16xf32>
// CHECK: %[[GT:.*]] = arith.cmpf ogt, %[[X:.*]], %[[HI]]
// CHECK: %[[X1:.*]] = arith.select %[[GT]], %[[HI]], %[[X]]
// CHECK: %[[LT:.*]] = arith.cmpf olt, %[[X1]], %[[LO]]
// CHECK: %[[XC:.*]] = arith.select %[[LT]], %[[LO]], %[[X1]]
// CHECK: %[[T:.*]] = arith.mulf %[[XC]], %[[XC]]
// CHECK-COUNT-5: math.fma {{.*}}, %[[T]]
// CHECK: arith.mulf %[[XC]]
// CHECK-COUNT-5: math.fma {{.*}}, %[[T]]
// CHECK: %[[R:.*]] = arith.divf
// CHECK: arith.cmpf ogt, %[[R]]
// CHECK: arith.cmpf olt
// CHECK-NOT: arith.divf
// CHECK: return
func.func @erf_rational(%x: vector<16xf32>) -> vector<16xf32> {
  %0 = math.erf %x : vector<16xf32>
  return %0 : vector<16xf32>
}

// -----

// Negative: f64 erf is not the f32 rational (no 3.925 clamp); it becomes
// libm's erf.
// CHECK-LABEL: func.func private @erf(f64) -> f64
// CHECK-LABEL: func.func @erf_f64
// CHECK-NOT: 3.925
// CHECK: call @erf({{.*}}) : (f64) -> f64
func.func @erf_f64(%x: f64) -> f64 {
  %0 = math.erf %x : f64
  return %0 : f64
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
