// RUN: tessera-opt %s --split-input-file --tessera-lower-fused-kernels --verify-diagnostics | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-lower-fused-kernels=micro-kernels=false --verify-diagnostics | FileCheck %s --check-prefix=DECOMP

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

// An op the kernel does not take is decomposed into linalg through its
// AggregatedOpInterface: an f64 add_layer_norm becomes the sum (the
// residual broadcast over the rows), the mean and variance as reductions
// over the last axis, and the normalisation; no loops, no vectors.
// CHECK-LABEL: func.func @decomposed
// CHECK-NOT: tessera.add_layer_norm
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<4x32xf64>, tensor<32xf64>)
// CHECK: arith.addf
// CHECK: linalg.reduce ins(%[[SUM]] : tensor<4x32xf64>) {{.*}} dimensions = [1]
// CHECK: arith.subf
// CHECK: linalg.reduce {{.*}} dimensions = [1]
// CHECK: math.rsqrt
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %arg2 : tensor<4x32xf64>, tensor<32xf64>)
// CHECK-NOT: scf.for
// CHECK-NOT: vector.
// CHECK: return %[[Y]], %[[SUM]]
func.func @decomposed(%x: tensor<4x32xf64>, %r: tensor<32xf64>, %g: tensor<32xf64>) -> (tensor<4x32xf64>, tensor<4x32xf64>) {
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<4x32xf64>, tensor<32xf64>, tensor<32xf64>) -> (tensor<4x32xf64>, tensor<4x32xf64>)
  return %y, %s : tensor<4x32xf64>, tensor<4x32xf64>
}

// -----

// RMSNorm of a residual sum: its kernel, or with micro-kernels=false its
// decomposition (the mean square as a reduction, no mean subtracted), the
// sum in f32 for f16 operands.
// CHECK-LABEL: func.func @rms
// CHECK: scf.for
// CHECK: vector.transfer_read
// DECOMP-LABEL: func.func @rms
// DECOMP-NOT: tessera.add_layer_norm
// DECOMP: %[[S:.*]] = linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<2x16xf16>, tensor<2x16xf16>) outs(%{{.*}} : tensor<2x16xf32>)
// DECOMP: arith.extf
// DECOMP: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<2x16xf32>) outs(%{{.*}} : tensor<2x16xf16>)
// DECOMP: arith.truncf
// DECOMP: %[[SQ:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<2x16xf32>)
// DECOMP: arith.mulf
// DECOMP: linalg.reduce ins(%[[SQ]] : tensor<2x16xf32>) {{.*}} dimensions = [1]
// DECOMP-NOT: arith.subf
// DECOMP: math.rsqrt
// DECOMP-NOT: scf.for
// DECOMP-NOT: vector.
// DECOMP: return
func.func @rms(%x: tensor<2x16xf16>, %r: tensor<2x16xf16>, %g: tensor<16xf16>) -> (tensor<2x16xf16>, tensor<2x16xf16>) {
  %y, %s = tessera.add_layer_norm %x, %r, %g {norm = "rms", operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<2x16xf16>, tensor<2x16xf16>, tensor<16xf16>) -> (tensor<2x16xf16>, tensor<2x16xf16>)
  return %y, %s : tensor<2x16xf16>, tensor<2x16xf16>
}

// -----

// tessera.attention in f16: the kernel reads Q, K and V widened to f32 and
// writes the result narrowed. With micro-kernels=false it is decomposed:
// the scores as a contraction over the head, query heads 2h and 2h + 1
// reading K/V head h (floordiv in the map), scaled and causally masked by
// index (keys past i + Sk - Sq), a softmax over the keys in f32, P V written
// in the merged layout [B, Sq, H, Dh], narrowed to f16 and collapsed.
// CHECK-LABEL: func.func @attention_f16
// CHECK: %[[Q:.*]] = vector.transfer_read %arg0{{.*}} : tensor<1x4x5x8xf16>, vector<8xf16>
// CHECK: arith.extf %[[Q]] : vector<8xf16> to vector<8xf32>
// CHECK: %[[K:.*]] = tensor.extract %arg1
// CHECK: arith.extf %[[K]] : f16 to f32
// CHECK: vector.transfer_read %arg2{{.*}} : tensor<1x2x7x8xf16>, vector<8xf16>
// CHECK: %[[O:.*]] = arith.truncf %{{.*}} : vector<8xf32> to vector<8xf16>
// CHECK: vector.transfer_write %[[O]], %{{.*}} : vector<8xf16>, tensor<1x5x32xf16>
// CHECK-NOT: linalg.reduce
// DECOMP-DAG: #[[Q:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// DECOMP-DAG: #[[K:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
// DECOMP-DAG: #[[V:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d4, d3)>
// DECOMP-DAG: #[[MERGED:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d3)>
// DECOMP-LABEL: func.func @attention_f16
// DECOMP-NOT: tessera.attention
// DECOMP: %[[S:.*]] = linalg.generic {indexing_maps = [#[[Q]], #[[K]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<1x4x5x8xf16>, tensor<1x2x7x8xf16>) outs(%{{.*}} : tensor<1x4x5x7xf32>)
// DECOMP: %[[OFF:.*]] = arith.subi %c7{{.*}}, %c5
// DECOMP: linalg.generic {{.*}} ins(%[[S]] : tensor<1x4x5x7xf32>)
// DECOMP: arith.mulf
// DECOMP: %[[I:.*]] = linalg.index 2
// DECOMP: %[[J:.*]] = linalg.index 3
// DECOMP: %[[LAST:.*]] = arith.addi %[[I]], %[[OFF]]
// DECOMP: arith.cmpi sgt, %[[J]], %[[LAST]]
// DECOMP: linalg.reduce {{.*}} dimensions = [3]
// DECOMP: arith.maxnumf
// DECOMP: math.exp
// DECOMP: linalg.reduce {{.*}} dimensions = [3]
// DECOMP: arith.divf
// DECOMP: linalg.generic {indexing_maps = [#[[Q]], #[[V]], #[[MERGED]]], {{.*}} outs(%{{.*}} : tensor<1x5x4x8xf32>)
// DECOMP: arith.truncf
// DECOMP: %[[O:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : tensor<1x5x4x8xf16> into tensor<1x5x32xf16>
// DECOMP-NOT: scf.for
// DECOMP: return %[[O]]
func.func @attention_f16(%q: tensor<1x4x5x8xf16>, %k: tensor<1x2x7x8xf16>, %v: tensor<1x2x7x8xf16>) -> tensor<1x5x32xf16> {
  %o = tessera.attention %q, %k, %v {scale = 0.35 : f32, causal = true, merge_heads = true} : (tensor<1x4x5x8xf16>, tensor<1x2x7x8xf16>, tensor<1x2x7x8xf16>) -> tensor<1x5x32xf16>
  return %o : tensor<1x5x32xf16>
}

// -----

// A float16 additive mask is widened into the kernel's f32 mask rows (it
// was left to the decomposition).
// CHECK-LABEL: func.func @attention_f16_mask
// CHECK: linalg.generic {{.*}} ins(%arg3 : tensor<1x1x1x7xf16>) outs(%{{.*}} : tensor<1x1x7xf32>)
// CHECK: arith.extf
// CHECK: scf.for
// CHECK-NOT: linalg.reduce
// CHECK: return
func.func @attention_f16_mask(%q: tensor<1x2x5x8xf16>, %k: tensor<1x2x7x8xf16>, %v: tensor<1x2x7x8xf16>, %m: tensor<1x1x1x7xf16>) -> tensor<1x2x5x8xf16> {
  %o = tessera.attention %q, %k, %v, %m {scale = 0.35 : f32} : (tensor<1x2x5x8xf16>, tensor<1x2x7x8xf16>, tensor<1x2x7x8xf16>, tensor<1x1x1x7xf16>) -> tensor<1x2x5x8xf16>
  return %o : tensor<1x2x5x8xf16>
}

// -----

// An attention the kernel refuses (f64) is decomposed.
// CHECK-LABEL: func.func @attention_f64
// CHECK-NOT: tessera.attention
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<1x2x3x4xf64>, tensor<1x2x3x4xf64>) outs(%{{.*}} : tensor<1x2x3x3xf64>)
// CHECK: linalg.reduce
// CHECK-NOT: scf.for
// CHECK: return
func.func @attention_f64(%q: tensor<1x2x3x4xf64>, %k: tensor<1x2x3x4xf64>, %v: tensor<1x2x3x4xf64>) -> tensor<1x2x3x4xf64> {
  %o = tessera.attention %q, %k, %v {scale = 0.5 : f32} : (tensor<1x2x3x4xf64>, tensor<1x2x3x4xf64>, tensor<1x2x3x4xf64>) -> tensor<1x2x3x4xf64>
  return %o : tensor<1x2x3x4xf64>
}

// -----

// Decomposed with dynamic head counts, each query head reads its own K/V
// head: the counts are checked to agree at run time.
// DECOMP-LABEL: func.func @attention_dynamic_heads
// DECOMP: cf.assert {{.*}}K or V has a head count other than Q's
// DECOMP: linalg.generic
// DECOMP-NOT: floordiv
func.func @attention_dynamic_heads(%q: tensor<1x?x3x4xf32>, %k: tensor<1x?x3x4xf32>, %v: tensor<1x?x3x4xf32>) -> tensor<1x?x3x4xf32> {
  %o = tessera.attention %q, %k, %v {scale = 0.5 : f32} : (tensor<1x?x3x4xf32>, tensor<1x?x3x4xf32>, tensor<1x?x3x4xf32>) -> tensor<1x?x3x4xf32>
  return %o : tensor<1x?x3x4xf32>
}

// -----

// An op neither a kernel nor a decomposition takes is an error at its node,
// with the kernel's reason.
func.func @no_kernel(%x: tensor<4x32xi32>, %r: tensor<4x32xi32>, %g: tensor<32xi32>) -> (tensor<4x32xi32>, tensor<4x32xi32>) {
  // expected-error @+1 {{'tessera.add_layer_norm' op has no kernel for these operands: needs f32, f16 or bf16}}
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<4x32xi32>, tensor<4x32xi32>, tensor<32xi32>) -> (tensor<4x32xi32>, tensor<4x32xi32>)
  return %y, %s : tensor<4x32xi32>, tensor<4x32xi32>
}
