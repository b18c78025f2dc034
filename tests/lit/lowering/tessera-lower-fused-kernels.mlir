// RUN: tessera-opt %s --split-input-file --tessera-lower-fused-kernels --verify-diagnostics | FileCheck %s

// The pass rewrites the fused kernel ops only: the ops around them (a
// transpose nothing reads but the attention, a generic) are left as they
// are, for code generation to simplify; the kernels are loops of vectors.
// CHECK-LABEL: func.func @only_fused_ops
// CHECK: linalg.transpose
// CHECK: scf.for
// CHECK: vector.transfer_read
// CHECK-NOT: tessera.add_layer_norm
// CHECK: linalg.generic
func.func @only_fused_ops(%x: tensor<4x32xf32>, %t: tensor<32x4xf32>, %g: tensor<32xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>) {
  %e = tensor.empty() : tensor<4x32xf32>
  %r = linalg.transpose ins(%t : tensor<32x4xf32>) outs(%e : tensor<4x32xf32>) permutation = [1, 0]
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<4x32xf32>, tensor<4x32xf32>, tensor<32xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>)
  %z = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<4x32xf32>) outs(%e : tensor<4x32xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x32xf32>
  return %z, %s : tensor<4x32xf32>, tensor<4x32xf32>
}

// -----

// An op the kernel does not take is an error at its node, with the reason.
func.func @no_kernel(%x: tensor<4x32xf64>, %r: tensor<4x32xf64>, %g: tensor<32xf64>) -> (tensor<4x32xf64>, tensor<4x32xf64>) {
  // expected-error @+1 {{'tessera.add_layer_norm' op has no kernel for these operands: needs f32, f16 or bf16}}
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<4x32xf64>, tensor<4x32xf64>, tensor<32xf64>) -> (tensor<4x32xf64>, tensor<4x32xf64>)
  return %y, %s : tensor<4x32xf64>, tensor<4x32xf64>
}
