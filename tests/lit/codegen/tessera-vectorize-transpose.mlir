// RUN: tessera-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(tessera-vectorize-transpose{width=16}))' \
// RUN:   | FileCheck %s
// RUN: tessera-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(tessera-vectorize-transpose{width=8}))' \
// RUN:   | FileCheck %s --check-prefix=AVX2

// [S, B, D] -> [B, S, D]: the innermost dim stays, so tiles are rows: one
// vector load and one store each, no scalar loop and no transpose left.
// CHECK-LABEL: func.func @rows(
// CHECK:         scf.for {{.*}} step %c1
// CHECK:           scf.for {{.*}} step %c16
// CHECK:             vector.transfer_read {{.*}} : tensor<1x1x16xf32>, vector<16xf32>
// CHECK:             vector.transfer_write {{.*}} : vector<16xf32>, tensor<1x1x16xf32>
// CHECK-NOT:     linalg.transpose
// CHECK-NOT:     vector.transpose
func.func @rows(%x: tensor<128x1x512xf32>) -> tensor<1x128x512xf32> {
  %e = tensor.empty() : tensor<1x128x512xf32>
  %t = linalg.transpose ins(%x : tensor<128x1x512xf32>) outs(%e : tensor<1x128x512xf32>) permutation = [1, 0, 2]
  return %t : tensor<1x128x512xf32>
}

// -----

// A 2-D transpose: 16x16 register blocks, read row by row, transposed by
// the AVX-512 unpack/shuffle network (8x8 blocks and one flat shuffle with
// AVX2), written row by row.
// CHECK-LABEL: func.func @blocks(
// CHECK:         scf.for {{.*}} step %c16
// CHECK:           scf.for {{.*}} step %c16
// CHECK:             vector.transfer_read {{.*}} : tensor<16x16xf32>, vector<16x16xf32>
// CHECK-COUNT-64:    vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK:             vector.transfer_write {{.*}} : vector<16x16xf32>, tensor<16x16xf32>
// CHECK-NOT:     linalg.transpose
// CHECK-NOT:     vector.transpose
// AVX2-LABEL: func.func @blocks(
// AVX2:         vector.transfer_read {{.*}} : tensor<8x8xf32>, vector<8x8xf32>
// AVX2:         vector.shuffle {{.*}} : vector<64xf32>, vector<64xf32>
// AVX2:         vector.transfer_write {{.*}} : vector<8x8xf32>, tensor<8x8xf32>
// AVX2-NOT:     vector.transpose
func.func @blocks(%x: tensor<64x48xf32>) -> tensor<48x64xf32> {
  %e = tensor.empty() : tensor<48x64xf32>
  %t = linalg.transpose ins(%x : tensor<64x48xf32>) outs(%e : tensor<48x64xf32>) permutation = [1, 0]
  return %t : tensor<48x64xf32>
}

// -----

// Dynamic dims: the edge blocks are masked, not scalar.
// CHECK-LABEL: func.func @dynamic(
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             %[[IN:.*]] = vector.create_mask {{.*}} : vector<16x16xi1>
// CHECK:             vector.transfer_read {{.*}}, %[[IN]] {{.*}} : tensor<?x?xf32>, vector<16x16xf32>
// CHECK:             vector.shuffle
// CHECK:             %[[OUT:.*]] = vector.create_mask {{.*}} : vector<16x16xi1>
// CHECK:             vector.transfer_write {{.*}}, %[[OUT]] {{.*}} : vector<16x16xf32>, tensor<?x?xf32>
// CHECK-NOT:     linalg.transpose
func.func @dynamic(%x: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = tensor.dim %x, %c0 : tensor<?x?xf32>
  %d1 = tensor.dim %x, %c1 : tensor<?x?xf32>
  %e = tensor.empty(%d1, %d0) : tensor<?x?xf32>
  %t = linalg.transpose ins(%x : tensor<?x?xf32>) outs(%e : tensor<?x?xf32>) permutation = [1, 0]
  return %t : tensor<?x?xf32>
}

// -----

// A head split fused with a scale ([B, S, H, Dh] -> [B, H, S, Dh] times a
// constant): a transposing generic, tiled into rows of Dh.
// CHECK-LABEL: func.func @scaled_head_split(
// CHECK:         vector.transfer_read {{.*}} vector<16xf32>
// CHECK:         arith.mulf {{.*}} : vector<16xf32>
// CHECK:         vector.transfer_write
// CHECK-NOT:     linalg.generic
#in = affine_map<(b, h, s, d) -> (b, s, h, d)>
#id = affine_map<(b, h, s, d) -> (b, h, s, d)>
func.func @scaled_head_split(%x: tensor<1x32x4x64xf32>) -> tensor<1x4x32x64xf32> {
  %c = arith.constant 0.125 : f32
  %e = tensor.empty() : tensor<1x4x32x64xf32>
  %r = linalg.generic {indexing_maps = [#in, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x32x4x64xf32>) outs(%e : tensor<1x4x32x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<1x4x32x64xf32>
  return %r : tensor<1x4x32x64xf32>
}

// -----

// An embedding lookup (token ids [1, S], a dynamic S, plus positions): the
// id becomes a scalar of each row tile, the row one contiguous load of the
// table (no vector.gather, no scalar loop over the row).
// CHECK-LABEL: func.func @embedding(
// CHECK:         scf.for {{.*}} step %c1
// CHECK:           scf.for {{.*}} step %c16
// CHECK:             %[[ID:.*]] = tensor.extract {{.*}} : tensor<1x1xi64>
// CHECK:             arith.index_cast %[[ID]]
// CHECK:             vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}], {{.*}} : tensor<1000x64xf32>, vector<16xf32>
// CHECK:             arith.addf {{.*}} : vector<16xf32>
// CHECK-NOT:     vector.gather
// CHECK-NOT:     linalg.generic
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#pos = affine_map<(d0, d1, d2) -> (d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @embedding(%ids: tensor<1x?xi64>, %pos: tensor<?x64xf32>, %table: tensor<1000x64xf32>) -> tensor<1x?x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c999 = arith.constant 999 : index
  %s = tensor.dim %ids, %c1 : tensor<1x?xi64>
  %e = tensor.empty(%s) : tensor<1x?x64xf32>
  %r = linalg.generic {indexing_maps = [#ids, #pos, #out], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ids, %pos : tensor<1x?xi64>, tensor<?x64xf32>) outs(%e : tensor<1x?x64xf32>) {
  ^bb0(%in: i64, %p: f32, %out: f32):
    %j = linalg.index 2 : index
    %i = arith.index_cast %in : i64 to index
    %lo = arith.maxsi %i, %c0 : index
    %k = arith.minsi %lo, %c999 : index
    %v = tensor.extract %table[%k, %j] : tensor<1000x64xf32>
    %a = arith.addf %v, %p : f32
    linalg.yield %a : f32
  } -> tensor<1x?x64xf32>
  return %r : tensor<1x?x64xf32>
}

// -----

// A gather along a column (Gather on axis 1 of a [64, 1000] table): not
// contiguous, so a vector.gather per tile, still no scalar loop.
// CHECK-LABEL: func.func @column_gather(
// CHECK:         vector.gather {{.*}} : tensor<64x1000xf32>, vector<16xindex>, vector<16xi1>, vector<16xf32> into vector<16xf32>
// CHECK-NOT:     linalg.generic
#cg_ids = affine_map<(d0, d1) -> (d1)>
#cg_out = affine_map<(d0, d1) -> (d0, d1)>
func.func @column_gather(%ids: tensor<32xi64>, %table: tensor<64x1000xf32>) -> tensor<64x32xf32> {
  %e = tensor.empty() : tensor<64x32xf32>
  %r = linalg.generic {indexing_maps = [#cg_ids, #cg_out], iterator_types = ["parallel", "parallel"]} ins(%ids : tensor<32xi64>) outs(%e : tensor<64x32xf32>) {
  ^bb0(%in: i64, %out: f32):
    %row = linalg.index 0 : index
    %i = arith.index_cast %in : i64 to index
    %v = tensor.extract %table[%row, %i] : tensor<64x1000xf32>
    linalg.yield %v : f32
  } -> tensor<64x32xf32>
  return %r : tensor<64x32xf32>
}
