// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// tessera.attention becomes a flash-style loop nest: a top-level loop over
// batch * heads (what tessera-outline-parallel hands to the thread pool: it
// contains vector.fma), query tiles of 8, key tiles of 8 stopping at the
// diagonal when causal, the running max / sum / O^T rows carried in
// registers, and no S x S buffer anywhere.
// CHECK-LABEL: func.func @main_graph
// CHECK-NOT: tensor<2x3x20x20xf32>
// CHECK: linalg.transpose ins(%arg0 : tensor<2x3x20x16xf32>) outs(%{{.*}} : tensor<2x3x16x20xf32>) permutation = [0, 1, 3, 2]
// CHECK: linalg.transpose ins(%arg1 : tensor<2x3x20x16xf32>) outs(%{{.*}} : tensor<2x3x16x20xf32>) permutation = [0, 1, 3, 2]
// The i1 keep mask as f32 offsets (0 / -inf), one row per batch element.
// CHECK: linalg.generic {{.*}} ins(%arg3 : tensor<2x1x1x20xi1>) outs(%{{.*}} : tensor<2x1x20xf32>)
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: %[[OUT:.*]] = scf.for %{{.*}} = %c0 to %c6 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (tensor<2x20x48xf32>)
// CHECK: scf.for %[[Q0:.*]] = %c0 to %c20 step %c8 iter_args
// CHECK: %[[LIM:.*]] = arith.addi %[[Q0]], %{{.*}}
// CHECK: %[[END:.*]] = arith.minsi %[[LIM]], %{{.*}}
// CHECK: scf.for %{{.*}} = %c0 to %[[END]] step %{{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: vector.transfer_read {{.*}} : tensor<2x3x16x20xf32>, vector<8x8xf32>
// CHECK: vector.fma %{{.*}} : vector<8xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<2x1x20xf32>, vector<8xf32>
// CHECK: arith.cmpi sge, %{{.*}} : vector<8xi64>
// CHECK: arith.maximumf
// CHECK: arith.cmpf oeq
// CHECK: math.exp
// CHECK: vector.transfer_read %arg2{{.*}} : tensor<2x3x20x16xf32>, vector<8x8xf32>
// CHECK: vector.fma
// CHECK: scf.yield
// CHECK: arith.divf %{{.*}} : vector<16x8xf32>
// CHECK: vector.transpose %{{.*}}, [1, 0] : vector<16x8xf32> to vector<8x16xf32>
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] {in_bounds = [false, true]} : vector<8x16xf32>, tensor<2x20x48xf32>
func.func @main_graph(%q: tensor<2x3x20x16xf32>, %k: tensor<2x3x20x16xf32>, %v: tensor<2x3x20x16xf32>, %m: tensor<2x1x1x20xi1>) -> tensor<2x20x48xf32> {
  %0 = tessera.attention %q, %k, %v, %m {merge_heads = true, scale = 0.25 : f32, causal = true} : (tensor<2x3x20x16xf32>, tensor<2x3x20x16xf32>, tensor<2x3x20x16xf32>, tensor<2x1x1x20xi1>) -> tensor<2x20x48xf32>
  return %0 : tensor<2x20x48xf32>
}

// -----

// A float mask that varies per query is transposed once ([.., Sk, Sq]) and
// read as [8 x 8] tiles; seq-first output rows are B * E apart; a head size
// that is not a power of two is padded to 8 lanes and written under a mask.
// CHECK-LABEL: func.func @main_graph
// CHECK: linalg.generic {{.*}} ins(%arg3 : tensor<5x7xf32>) outs(%{{.*}} : tensor<1x1x7x5xf32>)
// CHECK: scf.for
// CHECK-NOT: arith.minsi
// CHECK: vector.transfer_read %{{.*}} : tensor<1x1x7x5xf32>, vector<8x8xf32>
// CHECK: %[[WM:.*]] = vector.create_mask %{{.*}}, %{{.*}} : vector<8x8xi1>
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}], %[[WM]] {permutation_map = #{{.*}}} : vector<8x8xf32>, tensor<5x2x12xf32>
func.func @main_graph(%q: tensor<2x2x5x6xf32>, %k: tensor<2x2x7x6xf32>, %v: tensor<2x2x7x6xf32>, %m: tensor<5x7xf32>) -> tensor<5x2x12xf32> {
  %0 = tessera.attention %q, %k, %v, %m {merge_heads = true, seq_first = true, scale = 0.5 : f32} : (tensor<2x2x5x6xf32>, tensor<2x2x7x6xf32>, tensor<2x2x7x6xf32>, tensor<5x7xf32>) -> tensor<5x2x12xf32>
  return %0 : tensor<5x2x12xf32>
}

// -----

// Head size 64: O^T no longer fits in registers; it lives in a [64, 8]
// buffer, one per batch * head iteration (iterations run on different
// threads), updated 8 rows at a time. Heads are not merged here; fully
// masked rows are guarded to 0 (zero_masked_rows).
// CHECK-LABEL: func.func @main_graph
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (tensor<1x2x16x64xf32>)
// CHECK: %[[BUF:.*]] = tensor.empty() : tensor<64x8xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %[[BUF]]) -> (tensor<1x2x16x64xf32>, tensor<64x8xf32>)
// CHECK: vector.transfer_write %{{.*}} : vector<64x8xf32>, tensor<64x8xf32>
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, tensor<64x8xf32>)
// CHECK: vector.transfer_read %{{.*}} : tensor<64x8xf32>, vector<8x8xf32>
// CHECK: vector.transfer_write %{{.*}} : vector<8x8xf32>, tensor<64x8xf32>
// CHECK: scf.yield
// CHECK: arith.divf
// CHECK: arith.cmpf oeq
// CHECK: arith.select
// CHECK: vector.transfer_write %{{.*}} : vector<8x64xf32>, tensor<1x2x16x64xf32>
func.func @main_graph(%q: tensor<1x2x16x64xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32> {
  %0 = tessera.attention %q, %k, %v {scale = 0.125 : f32, zero_masked_rows = true} : (tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32>
  return %0 : tensor<1x2x16x64xf32>
}
