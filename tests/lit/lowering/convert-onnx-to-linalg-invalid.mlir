// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg -verify-diagnostics

// An input of unknown rank is reported with its name (dynamic dims are fine).
// expected-error @+1 {{input 'input_ids' has no known rank ('tensor<*xi64>'); give it one with --shape input_ids=DIMS (use ? for a dynamic dimension)}}
func.func @main_graph(%x: tensor<*xi64> {onnx.name = "input_ids"}) -> tensor<*xi64> {
  %0 = onnx.Neg %x : (tensor<*xi64>) -> tensor<*xi64>
  return %0 : tensor<*xi64>
}

// -----

// Filters that the group does not divide are reported, not miscompiled.
func.func @bad_group(%x: tensor<1x4x8x8xf32>, %w: tensor<5x2x3x3xf32>) -> tensor<1x5x6x6xf32> {
  // expected-error @+1 {{'onnx.Conv' op the input has 4 channels, the weight 5x2, which group 2 does not divide evenly}}
  %0 = onnx.Conv %x, %w {group = 2 : si64} : (tensor<1x4x8x8xf32>, tensor<5x2x3x3xf32>) -> tensor<1x5x6x6xf32>
  return %0 : tensor<1x5x6x6xf32>
}

// -----

// How many elements NonZero selects depends on the values: without an
// output shape from the model it is refused, naming what would make it work.
func.func @nonzero_unknown_count(%x: tensor<2x3xf32>) -> tensor<2x?xi64> {
  // expected-error @+1 {{'onnx.NonZero' op NonZero's output shape depends on the values of its inputs: Tessera compiles it when the model gives that shape (a graph output or value_info with static dims) and checks the count against it at run time}}
  %y = onnx.NonZero %x : (tensor<2x3xf32>) -> tensor<2x?xi64>
  return %y : tensor<2x?xi64>
}

// -----

// Compress needs only the selected axis known.
func.func @compress_unknown_count(%x: tensor<3x2xf32>, %c: tensor<3xi1>) -> tensor<?x2xf32> {
  // expected-error @+1 {{'onnx.Compress' op Compress's output shape depends on the values of its inputs}}
  %y = onnx.Compress %x, %c {axis = 0 : si64} : (tensor<3x2xf32>, tensor<3xi1>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// A window whose size is not known at compile time.
func.func @window_unknown_size(%n: tensor<i64>) -> tensor<?xf32> {
  // expected-error @+1 {{'onnx.HannWindow' op HannWindow's output shape depends on the values of its inputs: Tessera compiles it when the model gives that shape (a graph output or value_info with static dims) and checks the values against it at run time}}
  %y = onnx.HannWindow %n : (tensor<i64>) -> tensor<?xf32>
  return %y : tensor<?xf32>
}

// -----

// DFT along the last (complex) dimension.
func.func @dft_axis(%x: tensor<1x8x1xf32>) -> tensor<1x8x2xf32> {
  // expected-error @+1 {{'onnx.DFT' op DFT's axis must be a constant naming a signal dimension (not the batch or the last)}}
  %y = onnx.DFT %x {axis = 2 : si64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x8x1xf32>) -> tensor<1x8x2xf32>
  return %y : tensor<1x8x2xf32>
}

// -----

// ConvInteger shares Conv's limits: only the batch may be dynamic.
func.func @conv_integer_dynamic(%x: tensor<1x2x?x4xui8>, %w: tensor<3x2x2x2xui8>) -> tensor<1x3x?x3xi32> {
  // expected-error @+1 {{'onnx.ConvInteger' op only the batch dimension of a convolution may be dynamic}}
  %y = onnx.ConvInteger %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<1x2x?x4xui8>, tensor<3x2x2x2xui8>) -> tensor<1x3x?x3xi32>
  return %y : tensor<1x3x?x3xi32>
}

// -----

// Unique needs Y's size along the axis.
func.func @unique_unknown_count(%x: tensor<6xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'onnx.Unique' op Unique's output shape depends on the values of its inputs}}
  %y = onnx.Unique %x : (tensor<6xf32>) -> tensor<?xf32>
  return %y : tensor<?xf32>
}

// -----

// An opset-23 Attention that tessera.attention cannot express is reported
// with the reason, not as an op the conversion failed to legalize.
func.func @attention_softcap(%q: tensor<1x4x3x8xf32>, %k: tensor<1x4x3x8xf32>, %v: tensor<1x4x3x8xf32>) -> tensor<1x4x3x8xf32> {
  // expected-error @+1 {{'onnx.Attention' op Attention: softcap and qk_matmul_output_mode are not supported}}
  %y = onnx.Attention %q, %k, %v {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0>, softcap = 30.0 : f32} : (tensor<1x4x3x8xf32>, tensor<1x4x3x8xf32>, tensor<1x4x3x8xf32>) -> tensor<1x4x3x8xf32>
  return %y : tensor<1x4x3x8xf32>
}
