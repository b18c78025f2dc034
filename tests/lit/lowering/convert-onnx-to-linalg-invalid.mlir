// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg -verify-diagnostics

// A dynamic input is reported with its name and the --shape that fixes it.
// expected-error @+1 {{input 'input_ids' has dynamic dimension 0 ('tensor<?x7xi64>'); Tessera needs static shapes for now: pin it with --shape input_ids=Nx7}}
func.func @main_graph(%x: tensor<?x7xi64> {onnx.name = "input_ids"}) -> tensor<?x7xi64> {
  %0 = onnx.Neg %x : (tensor<?x7xi64>) -> tensor<?x7xi64>
  return %0 : tensor<?x7xi64>
}

// -----

// Grouped convolution is reported, not miscompiled.
func.func @grouped(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'onnx.Conv' op grouped convolution (group 4) is not supported yet}}
  %0 = onnx.Conv %x, %w {group = 4 : si64} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}
