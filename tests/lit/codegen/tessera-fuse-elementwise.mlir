// RUN: tessera-opt %s --split-input-file --tessera-fuse-elementwise | FileCheck %s

// A chain of elementwise generics becomes one.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @chain
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: math.exp
// CHECK-NOT: linalg.generic
func.func @chain(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  %1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%0 : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = math.exp %a : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// A float16 chain computed in f32 op by op: the lowering's roundings
// (tessera.widened_rounding) that are only widened again are skipped, the
// chain rounds once, at its end; an unmarked rounding (a Cast the model
// asks for) stays. The marks are spent.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @f16_chain
// CHECK: linalg.generic
// CHECK: %[[A:.*]] = arith.extf
// CHECK: %[[B:.*]] = arith.extf
// CHECK: %[[S:.*]] = arith.addf %[[A]], %[[B]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[S]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.truncf %[[E]] : f32 to f16
// CHECK-NEXT: %[[W:.*]] = arith.extf %[[R]] : f16 to f32
// CHECK-NEXT: %[[N:.*]] = arith.negf %[[W]] : f32
// CHECK-NEXT: %[[O:.*]] = arith.truncf %[[N]] : f32 to f16
// CHECK-NOT: tessera.widened_rounding
// CHECK-NEXT: linalg.yield %[[O]]
// CHECK-NOT: linalg.generic
func.func @f16_chain(%x: tensor<4x8xf16>, %y: tensor<4x8xf16>) -> tensor<4x8xf16> {
  %e = tensor.empty() : tensor<4x8xf16>
  %0 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %y : tensor<4x8xf16>, tensor<4x8xf16>) outs(%e : tensor<4x8xf16>) {
  ^bb0(%a: f16, %b: f16, %o: f16):
    %wa = arith.extf %a : f16 to f32
    %wb = arith.extf %b : f16 to f32
    %s = arith.addf %wa, %wb : f32
    %r = arith.truncf %s {tessera.widened_rounding} : f32 to f16
    linalg.yield %r : f16
  } -> tensor<4x8xf16>
  %1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%0 : tensor<4x8xf16>) outs(%e : tensor<4x8xf16>) {
  ^bb0(%a: f16, %o: f16):
    %w = arith.extf %a : f16 to f32
    %s = math.exp %w : f32
    %r = arith.truncf %s : f32 to f16
    linalg.yield %r : f16
  } -> tensor<4x8xf16>
  %2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%1 : tensor<4x8xf16>) outs(%e : tensor<4x8xf16>) {
  ^bb0(%a: f16, %o: f16):
    %w = arith.extf %a : f16 to f32
    %s = arith.negf %w : f32
    %r = arith.truncf %s {tessera.widened_rounding} : f32 to f16
    linalg.yield %r : f16
  } -> tensor<4x8xf16>
  return %2 : tensor<4x8xf16>
}

// -----

// Negative: an elementwise producer (GELU-like, expensive) is not fused into
// a matmul or a reduction, where it would be recomputed at every step; the
// matmul stays a named op, and a producer with two uses is not duplicated.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @no_fusion_into_contractions
// CHECK: math.erf
// CHECK: linalg.matmul
// CHECK: linalg.reduce
func.func @no_fusion_into_contractions(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %acc: tensor<4x8xf32>, %r: tensor<4xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %g = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = math.erf %a : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  %m = linalg.matmul ins(%g, %w : tensor<4x8xf32>, tensor<8x8xf32>) outs(%acc : tensor<4x8xf32>) -> tensor<4x8xf32>
  %red = linalg.reduce ins(%g : tensor<4x8xf32>) outs(%r : tensor<4xf32>) dimensions = [1]
    (%in: f32, %init: f32) {
      %s = arith.addf %in, %init : f32
      linalg.yield %s : f32
    }
  return %m, %red : tensor<4x8xf32>, tensor<4xf32>
}
