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
