// RUN: tessera-opt %s -split-input-file -verify-diagnostics

// tessera.add_layer_norm: X and the residual may broadcast to the result
// over the leading axes (position embeddings); these verify.
func.func @valid(%x: tensor<?x5x8xf32>, %p: tensor<1x5x8xf32>, %q: tensor<5x8xf32>, %g: tensor<8xf32>) {
  %y, %s = tessera.add_layer_norm %x, %p, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<?x5x8xf32>, tensor<1x5x8xf32>, tensor<8xf32>) -> (tensor<?x5x8xf32>, tensor<?x5x8xf32>)
  %y2, %s2 = tessera.add_layer_norm %x, %q, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<?x5x8xf32>, tensor<5x8xf32>, tensor<8xf32>) -> (tensor<?x5x8xf32>, tensor<?x5x8xf32>)
  %y3, %s3 = tessera.add_layer_norm %p, %x, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<1x5x8xf32>, tensor<?x5x8xf32>, tensor<8xf32>) -> (tensor<?x5x8xf32>, tensor<?x5x8xf32>)
  return
}

// -----

func.func @residual_last_axis(%x: tensor<2x5x8xf32>, %r: tensor<2x5x1xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tessera.add_layer_norm' op residual must broadcast to the result over the leading axes only}}
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<2x5x8xf32>, tensor<2x5x1xf32>, tensor<8xf32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>)
  return
}

// -----

func.func @residual_other_dim(%x: tensor<2x5x8xf32>, %r: tensor<2x4x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tessera.add_layer_norm' op residual must broadcast to the result over the leading axes only}}
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<2x5x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>)
  return
}

// -----

func.func @residual_higher_rank(%x: tensor<5x8xf32>, %r: tensor<2x5x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tessera.add_layer_norm' op residual must broadcast to the result over the leading axes only, got 'tensor<2x5x8xf32>' for 'tensor<5x8xf32>'}}
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<5x8xf32>, tensor<2x5x8xf32>, tensor<8xf32>) -> (tensor<5x8xf32>, tensor<5x8xf32>)
  return
}

// -----

func.func @gamma_size(%x: tensor<2x8xf32>, %r: tensor<2x8xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'tessera.add_layer_norm' op gamma}}
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<4xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>)
  return
}

// -----

func.func @x_last_axis(%x: tensor<2x1xf32>, %r: tensor<2x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tessera.add_layer_norm' op X must broadcast to the result over the leading axes only}}
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<2x1xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>)
  return
}

// -----

func.func @results_differ(%x: tensor<2x8xf32>, %r: tensor<2x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tessera.add_layer_norm' op Y and sum must have the same type}}
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<3x8xf32>)
  return
}
