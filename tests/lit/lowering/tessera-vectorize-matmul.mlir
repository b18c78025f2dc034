// RUN: tessera-opt %s --split-input-file --tessera-vectorize-matmul="tile-m=6 tile-n=16" | FileCheck %s

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

// Negative: dynamic shapes and non-f32 matmuls are left alone.
// CHECK-LABEL: func.func @not_vectorized
// CHECK: linalg.matmul ins(%arg0, %arg1 : tensor<?x64xf32>, tensor<64x32xf32>)
// CHECK: linalg.matmul ins(%arg3, %arg4 : tensor<12x64xi32>, tensor<64x32xi32>)
// CHECK-NOT: vector.contract
func.func @not_vectorized(%a: tensor<?x64xf32>, %b: tensor<64x32xf32>, %c: tensor<?x32xf32>,
                          %ai: tensor<12x64xi32>, %bi: tensor<64x32xi32>, %ci: tensor<12x32xi32>) -> (tensor<?x32xf32>, tensor<12x32xi32>) {
  %0 = linalg.matmul ins(%a, %b : tensor<?x64xf32>, tensor<64x32xf32>) outs(%c : tensor<?x32xf32>) -> tensor<?x32xf32>
  %1 = linalg.matmul ins(%ai, %bi : tensor<12x64xi32>, tensor<64x32xi32>) outs(%ci : tensor<12x32xi32>) -> tensor<12x32xi32>
  return %0, %1 : tensor<?x32xf32>, tensor<12x32xi32>
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
