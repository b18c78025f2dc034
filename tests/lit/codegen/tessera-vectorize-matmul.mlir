// RUN: tessera-opt %s --split-input-file --tessera-pack-matmul-weights="tile-n=16" --tessera-vectorize-matmul="tile-m=6 tile-n=16" | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-pack-matmul-weights="tile-n=16 k-block=4" --tessera-vectorize-matmul="tile-m=6 tile-n=16 k-block=4" | FileCheck %s --check-prefix=KBLOCK
// RUN: tessera-opt %s --split-input-file --tessera-pack-matmul-weights="tile-n=16 narrow-tile-n=8 narrow-above-k=16" --tessera-vectorize-matmul="tile-m=6 tile-n=16 narrow-tile-m=8 narrow-tile-n=8" | FileCheck %s --check-prefix=NARROW

// A matmul whose sizes divide the tile: 6x16 register tiles (N outer, so a
// panel of B stays in cache), the C tile carried through the k loop as a
// vector, k unrolled by 4.
// CHECK-LABEL: func.func @divisible
// CHECK: scf.for {{.*}} step %c16
// CHECK: scf.for {{.*}} step %c6
// CHECK: vector.transfer_read {{.*}} : tensor<6x16xf32>, vector<6x16xf32>
// CHECK: scf.for {{.*}} step %c4 iter_args({{.*}}) -> (vector<6x16xf32>)
// CHECK-COUNT-4: vector.contract
// CHECK: scf.yield {{.*}} : vector<6x16xf32>
// CHECK: vector.transfer_write
func.func @divisible(%a: tensor<12x64xf32>, %b: tensor<64x32xf32>, %c: tensor<12x32xf32>) -> tensor<12x32xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<12x64xf32>, tensor<64x32xf32>) outs(%c : tensor<12x32xf32>) -> tensor<12x32xf32>
  return %0 : tensor<12x32xf32>
}

// -----

// Sizes that do not divide the tile: the last partial tiles are peeled off
// and vectorized with their own static shapes (here 1 row and 4 columns).
// CHECK-LABEL: func.func @remainders
// CHECK-DAG: vector<6x16xf32>
// CHECK-DAG: vector<1x16xf32>
// CHECK-DAG: vector<6x4xf32>
// CHECK-DAG: vector<1x4xf32>
// CHECK-NOT: linalg.matmul
func.func @remainders(%a: tensor<7x8xf32>, %b: tensor<8x20xf32>, %c: tensor<7x20xf32>) -> tensor<7x20xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<7x8xf32>, tensor<8x20xf32>) outs(%c : tensor<7x20xf32>) -> tensor<7x20xf32>
  return %0 : tensor<7x20xf32>
}

// -----

// Negative: non-f32 matmuls are left alone.
// CHECK-LABEL: func.func @not_vectorized
// CHECK: linalg.matmul ins(%arg0, %arg1 : tensor<12x64xi32>, tensor<64x32xi32>)
// CHECK-NOT: vector.contract
func.func @not_vectorized(%ai: tensor<12x64xi32>, %bi: tensor<64x32xi32>, %ci: tensor<12x32xi32>) -> tensor<12x32xi32> {
  %1 = linalg.matmul ins(%ai, %bi : tensor<12x64xi32>, tensor<64x32xi32>) outs(%ci : tensor<12x32xi32>) -> tensor<12x32xi32>
  return %1 : tensor<12x32xi32>
}

// -----

// Dynamic M (batch x sequence) with static K and N keeps the register
// tiles: full 6x16 tiles in a loop to M floordiv 6 * 6, then the remainder
// (M mod 6 rows, in a loop of 0 or 1 iterations) as at most one 3-row tile
// and a loop of 1-row tiles, all static and vectorized; no matmul is left.
// CHECK-LABEL: func.func @dynamic_m
// CHECK: %[[M:.*]] = tensor.dim %arg0, %c0 : tensor<?x64xf32>
// CHECK: scf.for {{.*}} step %c16
// CHECK: %[[FULL:.*]] = affine.apply {{.*}}()[%[[M]]]
// CHECK: scf.for {{.*}} = %c0 to %[[FULL]] step %c6
// CHECK: scf.for {{.*}} step %c4 iter_args({{.*}}) -> (vector<6x16xf32>)
// CHECK-COUNT-4: vector.contract
// CHECK: %[[REM:.*]] = arith.cmpi slt, %[[FULL]], %[[M]]
// CHECK: %[[ONCE:.*]] = arith.select %[[REM]], %c1, %c0
// CHECK: scf.for {{.*}} = %c0 to %[[ONCE]] step %c1
// CHECK: scf.for {{.*}} step %c3
// CHECK: scf.for {{.*}} step %c4 iter_args({{.*}}) -> (vector<3x16xf32>)
// CHECK: arith.select
// CHECK: scf.for {{.*}} step %c1
// CHECK: scf.for {{.*}} step %c4 iter_args({{.*}}) -> (vector<16xf32>)
// CHECK-NOT: linalg.matmul
func.func @dynamic_m(%a: tensor<?x64xf32>, %b: tensor<64x32xf32>, %c: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<?x64xf32>, tensor<64x32xf32>) outs(%c : tensor<?x32xf32>) -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

// Unfused attention's batched matmuls with dynamic batch, M and N (Q K^T)
// or K (P V): the batch loop runs to its run-time bound, full tiles are
// 6x16, dynamic N remainders are split like M's (8, 4, 2, 1 columns), and a
// dynamic K is a k loop to a run-time bound, still unrolled.
// CHECK-LABEL: func.func @batched_dynamic
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (tensor<?x?x?xf32>)
// CHECK: tensor.collapse_shape {{.*}} : tensor<1x?x64xf32> into tensor<?x64xf32>
// CHECK-DAG: -> (vector<6x16xf32>)
// CHECK-DAG: -> (vector<6x8xf32>)
// CHECK-DAG: -> (vector<3x16xf32>)
// CHECK-DAG: -> (vector<16xf32>)
// CHECK-DAG: -> (vector<1xf32>)
// CHECK-NOT: linalg.
// CHECK-LABEL: func.func @batched_dynamic_k
// CHECK: %[[K:.*]] = tensor.dim %arg0, %c2 : tensor<?x?x?xf32>
// CHECK: scf.for {{.*}} to %{{.*}} step %c4 iter_args({{.*}}) -> (vector<6x16xf32>)
// CHECK: vector.contract
// CHECK-NOT: linalg.
func.func @batched_dynamic(%a: tensor<?x?x64xf32>, %b: tensor<?x64x?xf32>, %c: tensor<?x?x?xf32>) -> tensor<?x?x?xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<?x?x64xf32>, tensor<?x64x?xf32>) outs(%c : tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}
func.func @batched_dynamic_k(%a: tensor<?x?x?xf32>, %b: tensor<?x?x64xf32>, %c: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<?x?x?xf32>, tensor<?x?x64xf32>) outs(%c : tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %0 : tensor<?x?x64xf32>
}

// -----

// A packed weight with a bias + relu epilogue and dynamic M: the epilogue
// stays fused into every register tile, the full 6x16 ones and the 3-row
// and 1-row tiles of the remainder.
// CHECK-LABEL: func.func @dynamic_m_epilogue
// CHECK: scf.for {{.*}} to %c2 step %c1 iter_args({{.*}}) -> (tensor<?x32xf32>)
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<6x16xf32>)
// CHECK: arith.maximumf {{.*}} : vector<6x16xf32>
// CHECK: arith.select
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<3x16xf32>)
// CHECK: arith.maximumf {{.*}} : vector<3x16xf32>
// CHECK: arith.select
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>)
// CHECK: arith.maximumf {{.*}} : vector<16xf32>
// CHECK-NOT: linalg.
func.func @dynamic_m_epilogue(%a: tensor<?x2xf32>, %bias: tensor<32xf32>) -> tensor<?x32xf32> {
  %w = arith.constant dense<[[-3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1], [-3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1]]> : tensor<2x32xf32>
  %z = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x2xf32>
  %e = tensor.empty(%m) : tensor<?x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<?x32xf32>) -> tensor<?x32xf32>
  %mm = linalg.matmul ins(%a, %w : tensor<?x2xf32>, tensor<2x32xf32>) outs(%c : tensor<?x32xf32>) -> tensor<?x32xf32>
  %e2 = tensor.empty(%m) : tensor<?x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %bias : tensor<?x32xf32>, tensor<32xf32>) outs(%e2 : tensor<?x32xf32>) {
    ^bb0(%in: f32, %b: f32, %out: f32):
      %s = arith.addf %in, %b : f32
      %r = arith.maximumf %s, %z : f32
      linalg.yield %r : f32
  } -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// Batched (attention) matmuls: a loop over the batch of 2-D matmuls, each
// register-tiled and vectorized.
// CHECK-LABEL: func.func @batched
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (tensor<4x12x32xf32>)
// CHECK: tensor.collapse_shape {{.*}} : tensor<1x12x64xf32> into tensor<12x64xf32>
// CHECK: vector.contract
// CHECK-NOT: linalg.batch_matmul
func.func @batched(%a: tensor<4x12x64xf32>, %b: tensor<4x64x32xf32>, %c: tensor<4x12x32xf32>) -> tensor<4x12x32xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<4x12x64xf32>, tensor<4x64x32xf32>) outs(%c : tensor<4x12x32xf32>) -> tensor<4x12x32xf32>
  return %0 : tensor<4x12x32xf32>
}

// -----

// A packed constant weight with a bias + relu epilogue (tessera.matmul's
// lowering): the epilogue moves into the loop over weight panels and is
// fused into the register tiles. The k loop starts from a zero vector (the
// fill is fused too), bias and relu apply to the accumulator it yields, and
// the tile is written once, into the result. The 2-row remainder likewise.
// CHECK-LABEL: func.func @epilogue_in_register_tile
// CHECK-NOT: linalg.fill
// CHECK: scf.for {{.*}} to %c2 step %c1 iter_args({{.*}}) -> (tensor<8x32xf32>)
// CHECK: %[[ACC:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO:.*]]) -> (vector<6x16xf32>)
// CHECK-COUNT-4: vector.contract
// CHECK: scf.yield {{.*}} : vector<6x16xf32>
// CHECK: %[[BIAS:.*]] = vector.broadcast {{.*}} : vector<16xf32> to vector<6x16xf32>
// CHECK: %[[X:.*]] = arith.addf %[[ACC]], %[[BIAS]] : vector<6x16xf32>
// CHECK: %[[Y:.*]] = arith.maximumf %[[X]], {{.*}} : vector<6x16xf32>
// CHECK: vector.transfer_write %[[Y]]
// CHECK: scf.for {{.*}} -> (vector<2x16xf32>)
// CHECK: arith.maximumf {{.*}} : vector<2x16xf32>
// CHECK-NOT: linalg.
// KBLOCK-LABEL: func.func @epilogue_in_register_tile
// KBLOCK-NOT: scf.for {{.*}} -> (tensor<8x16xf32>)
// KBLOCK: arith.maximumf {{.*}} : vector<6x16xf32>
func.func @epilogue_in_register_tile(%a: tensor<8x8xf32>, %bias: tensor<32xf32>) -> tensor<8x32xf32> {
  %w = arith.constant dense<[[-3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1], [1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1], [-2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1], [2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1], [-1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1], [3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1], [0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1], [-3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1]]> : tensor<8x32xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %mm = linalg.matmul ins(%a, %w : tensor<8x8xf32>, tensor<8x32xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  %e2 = tensor.empty() : tensor<8x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %bias : tensor<8x32xf32>, tensor<32xf32>) outs(%e2 : tensor<8x32xf32>) {
    ^bb0(%in: f32, %b: f32, %out: f32):
      %s = arith.addf %in, %b : f32
      %r = arith.maximumf %s, %z : f32
      linalg.yield %r : f32
  } -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// With K blocking (k-block=4, K = 12): the first 8 of K run as a loop over
// K blocks (the C panel carried as a tensor), and the last block is fused
// with the epilogue, which applies after its k loop.
// KBLOCK-LABEL: func.func @epilogue_after_k_blocks
// KBLOCK: scf.for {{.*}} to %c2 step %c1 iter_args({{.*}}) -> (tensor<8x32xf32>)
// KBLOCK: scf.for {{.*}} to %c8 step %c4 iter_args({{.*}}) -> (tensor<8x16xf32>)
// KBLOCK: scf.yield {{.*}} : tensor<8x16xf32>
// KBLOCK: vector.contract
// KBLOCK: %[[X:.*]] = arith.addf {{.*}} : vector<6x16xf32>
// KBLOCK: math.erf %[[X]] : vector<6x16xf32>
// KBLOCK: math.erf {{.*}} : vector<2x16xf32>
func.func @epilogue_after_k_blocks(%a: tensor<8x12xf32>, %bias: tensor<32xf32>) -> tensor<8x32xf32> {
  %w = arith.constant dense<[[-3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1], [1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1], [-2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1], [2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1], [-1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1], [3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1], [0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1], [-3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1], [1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1], [-2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1], [2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1], [-1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1]]> : tensor<12x32xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %mm = linalg.matmul ins(%a, %w : tensor<8x12xf32>, tensor<12x32xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  %e2 = tensor.empty() : tensor<8x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %bias : tensor<8x32xf32>, tensor<32xf32>) outs(%e2 : tensor<8x32xf32>) {
    ^bb0(%in: f32, %b: f32, %out: f32):
      %s = arith.addf %in, %b : f32
      %r = math.erf %s : f32
      linalg.yield %r : f32
  } -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// A packed constant weight without epilogue: the zero fill of C is fused
// into the register tiles, so each k loop starts from a zero vector and C is
// neither filled nor read.
// CHECK-LABEL: func.func @packed_zero_fill
// CHECK-NOT: linalg.fill
// CHECK: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<6x16xf32>
// CHECK: scf.for {{.*}} to %c2 step %c1 iter_args({{.*}}) -> (tensor<8x32xf32>)
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO]]) -> (vector<6x16xf32>)
// CHECK-NOT: linalg.fill
func.func @packed_zero_fill(%a: tensor<8x8xf32>) -> tensor<8x32xf32> {
  %w = arith.constant dense<[[-3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1], [1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1], [-2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1], [2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1], [-1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1], [3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1], [0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1], [-3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1, 1.1, 2.1, 3.1, -3.1, -2.1, -1.1, 0.1]]> : tensor<8x32xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %mm = linalg.matmul ins(%a, %w : tensor<8x8xf32>, tensor<8x32xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %mm : tensor<8x32xf32>
}

// -----

// A batched matmul into a zero fill: the fill moves into the batch loop and
// is fused into the register tiles (no fill of C in memory).
// CHECK-LABEL: func.func @batched_zero_fill
// CHECK-NOT: linalg.fill
// CHECK: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<6x16xf32>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (tensor<4x12x32xf32>)
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO]]) -> (vector<6x16xf32>)
// CHECK-NOT: linalg.fill
func.func @batched_zero_fill(%a: tensor<4x12x64xf32>, %b: tensor<4x64x32xf32>) -> tensor<4x12x32xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x12x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<4x12x32xf32>) -> tensor<4x12x32xf32>
  %0 = linalg.batch_matmul ins(%a, %b : tensor<4x12x64xf32>, tensor<4x64x32xf32>) outs(%c : tensor<4x12x32xf32>) -> tensor<4x12x32xf32>
  return %0 : tensor<4x12x32xf32>
}

// -----

// A gated MLP (tessera.matmul swiglu lowering): two matmuls of the same A
// read by one epilogue. Their weights share panels (8 columns of each per
// 16-column panel), their k loops are one loop carrying both accumulators
// (one A load for both), and act(gate + bias) * value applies to the
// registers: neither product is stored. The 3-row and 1-row remainders
// likewise.
// CHECK-LABEL: func.func @gated_pair
// CHECK-NOT: linalg.matmul
// CHECK: scf.for {{.*}} to %c2 step %c1 iter_args({{.*}}) -> (tensor<?x16xf32>)
// CHECK: %[[ACC:.*]]:2 = scf.for {{.*}} -> (vector<6x8xf32>, vector<6x8xf32>)
// CHECK-COUNT-8: vector.contract
// CHECK: scf.yield {{.*}} : vector<6x8xf32>, vector<6x8xf32>
// CHECK: arith.addf %[[ACC]]#0
// CHECK: math.exp {{.*}} : vector<6x8xf32>
// CHECK: arith.mulf {{.*}}, %[[ACC]]#1 : vector<6x8xf32>
// CHECK: vector.transfer_write
// CHECK: -> (vector<3x8xf32>, vector<3x8xf32>)
// CHECK: arith.mulf {{.*}} : vector<3x8xf32>
// CHECK: -> (vector<8xf32>, vector<8xf32>)
// CHECK: arith.mulf {{.*}} : vector<8xf32>
// CHECK-NOT: linalg.
// KBLOCK-LABEL: func.func @gated_pair
// KBLOCK: arith.mulf {{.*}} : vector<6x8xf32>
func.func @gated_pair(%a: tensor<?x8xf32>, %bg: tensor<16xf32>) -> tensor<?x16xf32> {
  %wg = arith.constant dense<[[2.1, 1.1, 0.1, -2.1, -1.1, -3.1, -3.1, -3.1, -2.1, 2.1, 1.1, 3.1, 0.1, 1.1, 3.1, 2.1], [1.1, 0.1, 0.1, 3.1, -2.1, 2.1, 1.1, -3.1, -1.1, 3.1, 0.1, -3.1, 2.1, 2.1, 2.1, -2.1], [-3.1, 3.1, -3.1, 0.1, -3.1, -1.1, 0.1, -1.1, -1.1, -3.1, -3.1, -3.1, -3.1, 1.1, 0.1, 1.1], [-2.1, 1.1, 2.1, -1.1, 0.1, 3.1, 2.1, 3.1, -1.1, 1.1, 3.1, 1.1, 2.1, 1.1, 1.1, -1.1], [3.1, -3.1, 1.1, 2.1, 2.1, 0.1, -1.1, -1.1, -1.1, 0.1, 2.1, 3.1, -3.1, 3.1, 0.1, -1.1], [1.1, 1.1, -2.1, -1.1, 2.1, 1.1, 0.1, -1.1, 2.1, -1.1, -1.1, 3.1, -2.1, -2.1, 1.1, 1.1], [-3.1, -3.1, -1.1, 2.1, -1.1, 2.1, -1.1, -2.1, 2.1, 3.1, -3.1, -3.1, 1.1, -1.1, 1.1, -2.1], [3.1, 0.1, 3.1, 2.1, 1.1, -2.1, 2.1, -3.1, 0.1, -1.1, 3.1, -2.1, 3.1, -3.1, 1.1, 1.1]]> : tensor<8x16xf32>
  %wv = arith.constant dense<[[3.1, -1.1, 3.1, 1.1, 3.1, -2.1, 2.1, 3.1, -3.1, -1.1, 1.1, -3.1, 0.1, 1.1, 2.1, 3.1], [-1.1, 0.1, 0.1, 3.1, -2.1, 0.1, -3.1, -1.1, 3.1, 1.1, -1.1, 3.1, 1.1, 3.1, -3.1, 0.1], [2.1, 2.1, -1.1, 0.1, -1.1, 0.1, -2.1, 2.1, -3.1, -1.1, -2.1, 2.1, 2.1, 1.1, 3.1, 3.1], [-2.1, -3.1, -3.1, 2.1, 3.1, 3.1, 1.1, 3.1, 3.1, -3.1, -3.1, 3.1, -3.1, 3.1, 2.1, 3.1], [-1.1, -2.1, 0.1, 3.1, -1.1, 3.1, -1.1, 2.1, -2.1, 0.1, -1.1, -2.1, 3.1, 2.1, -3.1, 3.1], [3.1, -2.1, -1.1, 0.1, 1.1, 0.1, -2.1, 3.1, 1.1, -3.1, 2.1, 2.1, -2.1, 1.1, 0.1, -3.1], [3.1, 2.1, -1.1, -3.1, -3.1, 2.1, -2.1, 0.1, 3.1, 3.1, -2.1, -3.1, 0.1, 2.1, 1.1, -3.1], [1.1, -1.1, -2.1, 0.1, 3.1, 3.1, -3.1, 0.1, 2.1, -2.1, -2.1, -2.1, -2.1, 3.1, -2.1, -2.1]]> : tensor<8x16xf32>
  %z = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x8xf32>
  %e = tensor.empty(%m) : tensor<?x16xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  %g = linalg.matmul ins(%a, %wg : tensor<?x8xf32>, tensor<8x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  %v = linalg.matmul ins(%a, %wv : tensor<?x8xf32>, tensor<8x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  %e2 = tensor.empty(%m) : tensor<?x16xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g, %v, %bg : tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>) outs(%e2 : tensor<?x16xf32>) {
    ^bb0(%x: f32, %w: f32, %b: f32, %out: f32):
      %s = arith.addf %x, %b : f32
      %n = arith.negf %s : f32
      %x1 = math.exp %n : f32
      %d = arith.addf %one, %x1 : f32
      %act = arith.divf %s, %d : f32
      %r = arith.mulf %act, %w : f32
      linalg.yield %r : f32
  } -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// Near miss: the epilogue reads products of two different A, so the
// weights do not share panels and the k loops stay apart; each matmul is
// packed alone (6x16 tiles) and the epilogue is left as it is.
// CHECK-LABEL: func.func @gated_two_inputs
// CHECK-NOT: vector<6x8xf32>, vector<6x8xf32>
// CHECK: -> (vector<6x16xf32>)
// CHECK: -> (vector<6x16xf32>)
// CHECK: linalg.generic
func.func @gated_two_inputs(%a: tensor<?x8xf32>, %a2: tensor<?x8xf32>, %bg: tensor<16xf32>) -> tensor<?x16xf32> {
  %wg = arith.constant dense<[[2.1, 1.1, 0.1, -2.1, -1.1, -3.1, -3.1, -3.1, -2.1, 2.1, 1.1, 3.1, 0.1, 1.1, 3.1, 2.1], [1.1, 0.1, 0.1, 3.1, -2.1, 2.1, 1.1, -3.1, -1.1, 3.1, 0.1, -3.1, 2.1, 2.1, 2.1, -2.1], [-3.1, 3.1, -3.1, 0.1, -3.1, -1.1, 0.1, -1.1, -1.1, -3.1, -3.1, -3.1, -3.1, 1.1, 0.1, 1.1], [-2.1, 1.1, 2.1, -1.1, 0.1, 3.1, 2.1, 3.1, -1.1, 1.1, 3.1, 1.1, 2.1, 1.1, 1.1, -1.1], [3.1, -3.1, 1.1, 2.1, 2.1, 0.1, -1.1, -1.1, -1.1, 0.1, 2.1, 3.1, -3.1, 3.1, 0.1, -1.1], [1.1, 1.1, -2.1, -1.1, 2.1, 1.1, 0.1, -1.1, 2.1, -1.1, -1.1, 3.1, -2.1, -2.1, 1.1, 1.1], [-3.1, -3.1, -1.1, 2.1, -1.1, 2.1, -1.1, -2.1, 2.1, 3.1, -3.1, -3.1, 1.1, -1.1, 1.1, -2.1], [3.1, 0.1, 3.1, 2.1, 1.1, -2.1, 2.1, -3.1, 0.1, -1.1, 3.1, -2.1, 3.1, -3.1, 1.1, 1.1]]> : tensor<8x16xf32>
  %wv = arith.constant dense<[[3.1, -1.1, 3.1, 1.1, 3.1, -2.1, 2.1, 3.1, -3.1, -1.1, 1.1, -3.1, 0.1, 1.1, 2.1, 3.1], [-1.1, 0.1, 0.1, 3.1, -2.1, 0.1, -3.1, -1.1, 3.1, 1.1, -1.1, 3.1, 1.1, 3.1, -3.1, 0.1], [2.1, 2.1, -1.1, 0.1, -1.1, 0.1, -2.1, 2.1, -3.1, -1.1, -2.1, 2.1, 2.1, 1.1, 3.1, 3.1], [-2.1, -3.1, -3.1, 2.1, 3.1, 3.1, 1.1, 3.1, 3.1, -3.1, -3.1, 3.1, -3.1, 3.1, 2.1, 3.1], [-1.1, -2.1, 0.1, 3.1, -1.1, 3.1, -1.1, 2.1, -2.1, 0.1, -1.1, -2.1, 3.1, 2.1, -3.1, 3.1], [3.1, -2.1, -1.1, 0.1, 1.1, 0.1, -2.1, 3.1, 1.1, -3.1, 2.1, 2.1, -2.1, 1.1, 0.1, -3.1], [3.1, 2.1, -1.1, -3.1, -3.1, 2.1, -2.1, 0.1, 3.1, 3.1, -2.1, -3.1, 0.1, 2.1, 1.1, -3.1], [1.1, -1.1, -2.1, 0.1, 3.1, 3.1, -3.1, 0.1, 2.1, -2.1, -2.1, -2.1, -2.1, 3.1, -2.1, -2.1]]> : tensor<8x16xf32>
  %z = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x8xf32>
  %e = tensor.empty(%m) : tensor<?x16xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  %g = linalg.matmul ins(%a, %wg : tensor<?x8xf32>, tensor<8x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  %v = linalg.matmul ins(%a2, %wv : tensor<?x8xf32>, tensor<8x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  %e2 = tensor.empty(%m) : tensor<?x16xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g, %v, %bg : tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>) outs(%e2 : tensor<?x16xf32>) {
    ^bb0(%x: f32, %w: f32, %b: f32, %out: f32):
      %s = arith.addf %x, %b : f32
      %n = arith.negf %s : f32
      %x1 = math.exp %n : f32
      %d = arith.addf %one, %x1 : f32
      %act = arith.divf %s, %d : f32
      %r = arith.mulf %act, %w : f32
      linalg.yield %r : f32
  } -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// A rotary epilogue (tessera.qkv_projection with rotary results): the x1
// and x2 products share panels like a gated pair, and one epilogue writes
// both rotated halves, reading the cos and sin rows through `d1 mod 8` (the
// column within the head). A panel's 8 columns of each are one run of the
// period, so each panel reads its cos/sin columns at `col mod 8` and the
// rotation applies to the registers: both results are written once.
// CHECK-LABEL: func.func @rotary_pair
// CHECK-NOT: linalg.matmul
// CHECK: scf.for {{.*}} to %c2 step %c1 iter_args({{.*}}) -> (tensor<?x16xf32>, tensor<?x16xf32>)
// CHECK: arith.remui {{.*}}, %c8
// CHECK: %[[ACC:.*]]:2 = scf.for {{.*}} -> (vector<6x8xf32>, vector<6x8xf32>)
// CHECK: arith.mulf %[[ACC]]#0, {{.*}} : vector<6x8xf32>
// CHECK: arith.subf {{.*}} : vector<6x8xf32>
// CHECK: arith.addf {{.*}} : vector<6x8xf32>
// CHECK-COUNT-2: vector.transfer_write
// CHECK: -> (vector<3x8xf32>, vector<3x8xf32>)
// CHECK: -> (vector<8xf32>, vector<8xf32>)
// CHECK-NOT: linalg.
// KBLOCK-LABEL: func.func @rotary_pair
// KBLOCK: arith.subf {{.*}} : vector<6x8xf32>
func.func @rotary_pair(%a: tensor<?x8xf32>, %cos: tensor<?x8xf32>, %sin: tensor<?x8xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>) {
  %w1 = arith.constant dense<[[-1.1, -2.1, 0.1, 2.1, -3.1, -3.1, 3.1, 1.1, -3.1, -1.1, 1.1, -3.1, 1.1, -2.1, -3.1, -3.1], [0.1, 0.1, -3.1, -2.1, -3.1, 1.1, 0.1, -3.1, 3.1, 1.1, -3.1, -2.1, 2.1, 2.1, 1.1, -3.1], [1.1, 1.1, 0.1, -3.1, -2.1, -3.1, 1.1, 3.1, -2.1, -1.1, 0.1, -2.1, 1.1, -3.1, 1.1, -1.1], [1.1, 3.1, 2.1, -2.1, -3.1, 1.1, 1.1, 2.1, -2.1, -1.1, -3.1, 1.1, 2.1, -3.1, 1.1, -3.1], [1.1, -2.1, 0.1, 2.1, 1.1, 0.1, 3.1, -1.1, 0.1, 1.1, 0.1, -1.1, -1.1, -2.1, 3.1, -2.1], [2.1, 3.1, -2.1, -3.1, 1.1, -1.1, 1.1, 0.1, -1.1, 2.1, 0.1, -1.1, 1.1, -3.1, -3.1, 1.1], [0.1, -2.1, 3.1, -1.1, -2.1, 0.1, 0.1, -3.1, 2.1, -3.1, 3.1, 1.1, 1.1, 3.1, 3.1, -1.1], [-1.1, 2.1, -1.1, 1.1, 0.1, 1.1, 3.1, 0.1, -3.1, 3.1, -3.1, -1.1, 0.1, 2.1, 2.1, -3.1]]> : tensor<8x16xf32>
  %w2 = arith.constant dense<[[-3.1, 2.1, 2.1, -1.1, 2.1, 1.1, 2.1, 3.1, 0.1, -1.1, 2.1, 0.1, 2.1, -1.1, -3.1, 0.1], [-1.1, -2.1, 1.1, -3.1, 0.1, -3.1, -2.1, 3.1, -1.1, -2.1, 2.1, -2.1, 0.1, 0.1, 3.1, 0.1], [-3.1, -2.1, 0.1, 0.1, 1.1, -1.1, -2.1, 3.1, 0.1, 3.1, 1.1, -1.1, 2.1, 0.1, -1.1, 2.1], [0.1, -2.1, -2.1, -3.1, -2.1, -2.1, -2.1, 2.1, -2.1, -3.1, 0.1, 3.1, 1.1, -2.1, -1.1, -1.1], [-3.1, -2.1, 0.1, 1.1, -1.1, 1.1, 1.1, -1.1, -2.1, 2.1, 3.1, 1.1, 1.1, 2.1, 2.1, 2.1], [-3.1, 0.1, 3.1, 3.1, 3.1, 2.1, 3.1, 1.1, 0.1, 0.1, 0.1, 0.1, -3.1, 0.1, 2.1, 0.1], [-3.1, -2.1, -3.1, -2.1, 0.1, -2.1, -3.1, -1.1, 1.1, -3.1, -3.1, -3.1, 1.1, -2.1, 1.1, -3.1], [-1.1, 1.1, -3.1, -3.1, 3.1, -2.1, 1.1, 0.1, -2.1, 2.1, -1.1, -1.1, 1.1, -1.1, 0.1, -3.1]]> : tensor<8x16xf32>
  %z = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x8xf32>
  %e = tensor.empty(%m) : tensor<?x16xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  %p1 = linalg.matmul ins(%a, %w1 : tensor<?x8xf32>, tensor<8x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  %p2 = linalg.matmul ins(%a, %w2 : tensor<?x8xf32>, tensor<8x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  %o1 = tensor.empty(%m) : tensor<?x16xf32>
  %o2 = tensor.empty(%m) : tensor<?x16xf32>
  %y:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1 mod 8)>, affine_map<(d0, d1) -> (d0, d1 mod 8)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%p1, %p2, %cos, %sin : tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>) outs(%o1, %o2 : tensor<?x16xf32>, tensor<?x16xf32>) {
    ^bb0(%x1: f32, %x2: f32, %cs: f32, %sn: f32, %out1: f32, %out2: f32):
      %a1 = arith.mulf %x1, %cs : f32
      %a2 = arith.mulf %x2, %sn : f32
      %y1 = arith.subf %a1, %a2 : f32
      %b1 = arith.mulf %x2, %cs : f32
      %b2 = arith.mulf %x1, %sn : f32
      %y2 = arith.addf %b1, %b2 : f32
      linalg.yield %y1, %y2 : f32, f32
  } -> (tensor<?x16xf32>, tensor<?x16xf32>)
  return %y#0, %y#1 : tensor<?x16xf32>, tensor<?x16xf32>
}

// -----

// Near miss: a period of 4 (a head of 8 features) is shorter than a
// panel's 8 columns, which would wrap around it: the matmuls are packed one
// by one and the epilogue is left as it is.
// CHECK-LABEL: func.func @rotary_short_period
// CHECK-NOT: vector<6x8xf32>, vector<6x8xf32>
// CHECK: -> (vector<6x16xf32>)
// CHECK: -> (vector<6x16xf32>)
// CHECK: linalg.generic
// CHECK-SAME: outs({{.*}}) {
func.func @rotary_short_period(%a: tensor<?x8xf32>, %cos: tensor<?x4xf32>, %sin: tensor<?x4xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>) {
  %w1 = arith.constant dense<[[-1.1, -2.1, 0.1, 2.1, -3.1, -3.1, 3.1, 1.1, -3.1, -1.1, 1.1, -3.1, 1.1, -2.1, -3.1, -3.1], [0.1, 0.1, -3.1, -2.1, -3.1, 1.1, 0.1, -3.1, 3.1, 1.1, -3.1, -2.1, 2.1, 2.1, 1.1, -3.1], [1.1, 1.1, 0.1, -3.1, -2.1, -3.1, 1.1, 3.1, -2.1, -1.1, 0.1, -2.1, 1.1, -3.1, 1.1, -1.1], [1.1, 3.1, 2.1, -2.1, -3.1, 1.1, 1.1, 2.1, -2.1, -1.1, -3.1, 1.1, 2.1, -3.1, 1.1, -3.1], [1.1, -2.1, 0.1, 2.1, 1.1, 0.1, 3.1, -1.1, 0.1, 1.1, 0.1, -1.1, -1.1, -2.1, 3.1, -2.1], [2.1, 3.1, -2.1, -3.1, 1.1, -1.1, 1.1, 0.1, -1.1, 2.1, 0.1, -1.1, 1.1, -3.1, -3.1, 1.1], [0.1, -2.1, 3.1, -1.1, -2.1, 0.1, 0.1, -3.1, 2.1, -3.1, 3.1, 1.1, 1.1, 3.1, 3.1, -1.1], [-1.1, 2.1, -1.1, 1.1, 0.1, 1.1, 3.1, 0.1, -3.1, 3.1, -3.1, -1.1, 0.1, 2.1, 2.1, -3.1]]> : tensor<8x16xf32>
  %w2 = arith.constant dense<[[-3.1, 2.1, 2.1, -1.1, 2.1, 1.1, 2.1, 3.1, 0.1, -1.1, 2.1, 0.1, 2.1, -1.1, -3.1, 0.1], [-1.1, -2.1, 1.1, -3.1, 0.1, -3.1, -2.1, 3.1, -1.1, -2.1, 2.1, -2.1, 0.1, 0.1, 3.1, 0.1], [-3.1, -2.1, 0.1, 0.1, 1.1, -1.1, -2.1, 3.1, 0.1, 3.1, 1.1, -1.1, 2.1, 0.1, -1.1, 2.1], [0.1, -2.1, -2.1, -3.1, -2.1, -2.1, -2.1, 2.1, -2.1, -3.1, 0.1, 3.1, 1.1, -2.1, -1.1, -1.1], [-3.1, -2.1, 0.1, 1.1, -1.1, 1.1, 1.1, -1.1, -2.1, 2.1, 3.1, 1.1, 1.1, 2.1, 2.1, 2.1], [-3.1, 0.1, 3.1, 3.1, 3.1, 2.1, 3.1, 1.1, 0.1, 0.1, 0.1, 0.1, -3.1, 0.1, 2.1, 0.1], [-3.1, -2.1, -3.1, -2.1, 0.1, -2.1, -3.1, -1.1, 1.1, -3.1, -3.1, -3.1, 1.1, -2.1, 1.1, -3.1], [-1.1, 1.1, -3.1, -3.1, 3.1, -2.1, 1.1, 0.1, -2.1, 2.1, -1.1, -1.1, 1.1, -1.1, 0.1, -3.1]]> : tensor<8x16xf32>
  %z = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x8xf32>
  %e = tensor.empty(%m) : tensor<?x16xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  %p1 = linalg.matmul ins(%a, %w1 : tensor<?x8xf32>, tensor<8x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  %p2 = linalg.matmul ins(%a, %w2 : tensor<?x8xf32>, tensor<8x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  %o1 = tensor.empty(%m) : tensor<?x16xf32>
  %o2 = tensor.empty(%m) : tensor<?x16xf32>
  %y:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1 mod 4)>, affine_map<(d0, d1) -> (d0, d1 mod 4)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%p1, %p2, %cos, %sin : tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x4xf32>, tensor<?x4xf32>) outs(%o1, %o2 : tensor<?x16xf32>, tensor<?x16xf32>) {
    ^bb0(%x1: f32, %x2: f32, %cs: f32, %sn: f32, %out1: f32, %out2: f32):
      %a1 = arith.mulf %x1, %cs : f32
      %a2 = arith.mulf %x2, %sn : f32
      %y1 = arith.subf %a1, %a2 : f32
      %b1 = arith.mulf %x2, %cs : f32
      %b2 = arith.mulf %x1, %sn : f32
      %y2 = arith.addf %b1, %b2 : f32
      linalg.yield %y1, %y2 : f32, f32
  } -> (tensor<?x16xf32>, tensor<?x16xf32>)
  return %y#0, %y#1 : tensor<?x16xf32>, tensor<?x16xf32>
}

// -----

// A weight whose K is above narrow-above-k gets narrow panels and register
// tiles (8 columns, 8 rows: a panel of a long K that stays in cache); a
// short K keeps the 16-column panels and the 6x16 tiles. (The two functions
// are packed on parallel threads: either may get the resource name with a
// suffix.)
// NARROW-LABEL: func.func @narrow_long_k
// NARROW: arith.constant dense_resource<packed_weights{{.*}}> : tensor<64x8xf32>
// NARROW: scf.for {{.*}} -> (tensor<16x16xf32>)
// NARROW: scf.for {{.*}} step %c8
// NARROW: scf.for {{.*}} -> (vector<8x8xf32>)
// NARROW-NOT: vector<6x
// NARROW-LABEL: func.func @wide_short_k
// NARROW: arith.constant dense_resource<packed_weights{{.*}}> : tensor<16x16xf32>
// NARROW: scf.for {{.*}} step %c6
// NARROW: scf.for {{.*}} -> (vector<6x16xf32>)
func.func @narrow_long_k(%a: tensor<16x32xf32>) -> tensor<16x16xf32> {
  %w = arith.constant dense<[[1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1], [3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1], [5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1], [7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1], [2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1], [4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1], [6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1], [1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1], [3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1], [5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1], [7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1], [2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1], [4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1], [6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1], [1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1], [3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1], [5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1], [7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1], [2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1], [4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1], [6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1], [1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1], [3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1], [5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1], [7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1], [2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1], [4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1], [6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1], [1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1], [3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1], [5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1], [7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1]]> : tensor<32x16xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %m = linalg.matmul ins(%a, %w : tensor<16x32xf32>, tensor<32x16xf32>) outs(%c : tensor<16x16xf32>) -> tensor<16x16xf32>
  return %m : tensor<16x16xf32>
}
func.func @wide_short_k(%a: tensor<12x8xf32>) -> tensor<12x32xf32> {
  %w = arith.constant dense<[[1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1], [5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1], [2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1], [6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1], [3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1], [7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1], [4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1], [1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 1.1, 2.1, 3.1, 4.1]]> : tensor<8x32xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<12x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<12x32xf32>) -> tensor<12x32xf32>
  %m = linalg.matmul ins(%a, %w : tensor<12x8xf32>, tensor<8x32xf32>) outs(%c : tensor<12x32xf32>) -> tensor<12x32xf32>
  return %m : tensor<12x32xf32>
}

// -----

// Panels packed in f16 (a weight that f16 holds exactly): each k step
// widens the panel's row as it reads it (one 1-D extf of the transfer_read,
// which LLVM folds into the load), in the full 6-row tile and in the 1-row
// remainder tile alike. (The vectorizer makes [16, 1] vectors of the row
// around the 1-row tile's contraction; widened as such, they became 16
// scalar conversions.)
// CHECK-LABEL: func.func @f16_panels
// CHECK: %[[ROW:.*]] = vector.transfer_read {{.*}} : tensor<1x16xf16>, vector<16xf16>
// CHECK-NEXT: arith.extf %[[ROW]] : vector<16xf16> to vector<16xf32>
// CHECK: vector.contract {{.*}} : vector<6x1xf32>, vector<1x16xf32> into vector<6x16xf32>
// CHECK-NOT: vector<16x1xf16> to vector<16x1xf32>
// CHECK: arith.extf %{{.*}} : vector<16xf16> to vector<16xf32>
// CHECK-NOT: vector<16x1xf16> to vector<16x1xf32>
// CHECK: vector.contract {{.*}} : vector<1xf32>, vector<16x1xf32> into vector<16xf32>
// CHECK-NOT: vector<16x1xf16> to vector<16x1xf32>
// CHECK: return
func.func @f16_panels(%a: tensor<7x4xf32>) -> tensor<7x32xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0]]> : tensor<4x32xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<7x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<7x32xf32>) -> tensor<7x32xf32>
  %m = linalg.matmul ins(%a, %w : tensor<7x4xf32>, tensor<4x32xf32>) outs(%c : tensor<7x32xf32>) -> tensor<7x32xf32>
  return %m : tensor<7x32xf32>
}

// -----

// The schedule's clean-up widens a vector whose dims are all unit but one
// (not the leading one) as 1-D; a vector of two non-unit dims is left as
// it is.
// CHECK-LABEL: func.func @widen_shapes
// CHECK: %[[FLAT:.*]] = vector.shape_cast %arg0 : vector<16x1xf16> to vector<16xf16>
// CHECK: %[[WIDE:.*]] = arith.extf %[[FLAT]] : vector<16xf16> to vector<16xf32>
// CHECK: vector.shape_cast %[[WIDE]] : vector<16xf32> to vector<16x1xf32>
// CHECK: arith.extf %arg1 : vector<16x2xf16> to vector<16x2xf32>
func.func @widen_shapes(%a: vector<16x1xf16>, %b: vector<16x2xf16>) -> (vector<16x1xf32>, vector<16x2xf32>) {
  %x = arith.extf %a : vector<16x1xf16> to vector<16x1xf32>
  %y = arith.extf %b : vector<16x2xf16> to vector<16x2xf32>
  return %x, %y : vector<16x1xf32>, vector<16x2xf32>
}
