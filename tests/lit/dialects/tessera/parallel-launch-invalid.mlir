// RUN: tessera-opt %s -split-input-file -verify-diagnostics

// tessera.parallel_launch names a function taking the captures and the
// range [begin, end); these verify.
func.func private @body(%a: memref<4xf32>, %begin: index, %end: index)
func.func @launch(%a: memref<4xf32>, %n: index) {
  tessera.parallel_launch @body(%a) count(%n) : memref<4xf32>
  return
}

// -----

func.func @launch(%a: memref<4xf32>, %n: index) {
  // expected-error @+1 {{'tessera.parallel_launch' op body @missing is not a function of the module}}
  tessera.parallel_launch @missing(%a) count(%n) : memref<4xf32>
  return
}

// -----

func.func private @body(%a: memref<4xf32>, %begin: index)
func.func @launch(%a: memref<4xf32>, %n: index) {
  // expected-error @+1 {{'tessera.parallel_launch' op body @body must take the captures and (begin, end)}}
  tessera.parallel_launch @body(%a) count(%n) : memref<4xf32>
  return
}

// -----

func.func private @body(%begin: index, %end: index) -> index
func.func @launch(%n: index) {
  // expected-error @+1 {{'tessera.parallel_launch' op body @body must not return values}}
  tessera.parallel_launch @body() count(%n)
  return
}
