// RUN: tessera-opt %s --split-input-file --verify-diagnostics

// tessera.widened_rounding marks an arith.truncf (a rounding the lowering
// made); anywhere else, or with a value, it is an error.
func.func @ok(%x: f32) -> f16 {
  %r = arith.truncf %x {tessera.widened_rounding} : f32 to f16
  return %r : f16
}

// -----

func.func @not_truncf(%x: f32) -> f32 {
  // expected-error @+1 {{'tessera.widened_rounding' must be a unit attribute on arith.truncf}}
  %r = arith.negf %x {tessera.widened_rounding} : f32
  return %r : f32
}

// -----

func.func @not_unit(%x: f32) -> f16 {
  // expected-error @+1 {{'tessera.widened_rounding' must be a unit attribute on arith.truncf}}
  %r = arith.truncf %x {tessera.widened_rounding = 1 : i64} : f32 to f16
  return %r : f16
}
