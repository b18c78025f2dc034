// RUN: tessera-opt %s -split-input-file -verify-diagnostics

// The entry and output-dims marks: unit attributes of one function each.
func.func @graph() attributes {tessera.entry} {
  return
}
func.func private @graph_output_dims() -> index attributes {tessera.output_dims}

// -----

// expected-error @+1 {{'tessera.entry' must be a unit attribute}}
func.func @graph() attributes {tessera.entry = 1 : i64} {
  return
}

// -----

func.func @graph() attributes {tessera.entry} {
  // expected-error @+1 {{'tessera.entry' must be on a function}}
  %c = arith.constant {tessera.entry} 0 : index
  return
}

// -----

// expected-error @+1 {{'tessera.entry' is on more than one function}}
func.func @a() attributes {tessera.entry} {
  return
}
func.func @b() attributes {tessera.entry} {
  return
}
