// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg -verify-diagnostics

// An input of unknown rank is reported with its name (dynamic dims are fine).
// expected-error @+1 {{input 'input_ids' has no known rank ('tensor<*xi64>'); give it one with --shape input_ids=DIMS (use ? for a dynamic dimension)}}
func.func @main_graph(%x: tensor<*xi64> {onnx.name = "input_ids"}) -> tensor<*xi64> {
  %0 = onnx.Neg %x : (tensor<*xi64>) -> tensor<*xi64>
  return %0 : tensor<*xi64>
}

// -----

// Grouped convolution is reported, not miscompiled.
func.func @grouped(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'onnx.Conv' op grouped convolution (group 4) is not supported yet}}
  %0 = onnx.Conv %x, %w {group = 4 : si64} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}
