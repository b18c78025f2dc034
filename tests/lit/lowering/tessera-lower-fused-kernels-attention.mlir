// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg --tessera-lower-fused-kernels | FileCheck %s
// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg --tessera-lower-fused-kernels=vector-bits=512 | FileCheck %s --check-prefix=ZMM

// tessera.attention becomes a blocked flash-style loop nest: a top-level loop
// over batch * heads (what tessera-outline-parallel hands to the thread pool:
// it contains vector.fma) with its scratch buffers (Q^T block, P^T block, O
// block, m / l / rescale rows), blocks of 48 queries, blocks of 48 keys
// stopping at the diagonal when causal, and no S x S buffer anywhere.
// Partial blocks: the Q^T block is zero filled, the register-tile loops run
// ceil(len / tile) times, K rows are clamped to the last key.
// With 512-bit vectors (AVX-512) the kernel's vectors are 16 floats and its
// blocks 96 queries x 96 keys; O's columns pad the head size to 2 vectors.
// ZMM-LABEL: func.func @main_graph
// ZMM: arith.constant dense<0.000000e+00> : vector<16xf32>
// ZMM-DAG: tensor.empty() : tensor<16x96xf32>
// ZMM-DAG: tensor.empty() : tensor<96x96xf32>
// ZMM-DAG: tensor.empty() : tensor<96x32xf32>
// ZMM: scf.for %{{.*}} = %c0 to %c20 step %c96 iter_args
// ZMM-NOT: vector<8xf32>
// ZMM-LABEL: func.func @main_graph
// CHECK-LABEL: func.func @main_graph
// CHECK-NOT: tensor<2x3x20x20xf32>
// The i1 keep mask as f32 offsets (0 / -inf), one row per batch element.
// CHECK: linalg.generic {{.*}} ins(%arg3 : tensor<2x1x1x20xi1>) outs(%{{.*}} : tensor<2x1x20xf32>)
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: scf.for %{{.*}} = %c0 to %c6 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (tensor<2x20x48xf32>)
// CHECK-DAG: tensor.empty() : tensor<16x48xf32>
// CHECK-DAG: tensor.empty() : tensor<48x48xf32>
// CHECK-DAG: tensor.empty() : tensor<48x16xf32>
// CHECK-DAG: tensor.empty() : tensor<4x48xf32>
// CHECK: scf.for %[[Q0:.*]] = %c0 to %c20 step %c48 iter_args
// Q^T block: zero fill (20 is not a multiple of 48), then the transpose.
// CHECK: vector.transfer_write %{{.*}} : vector<8xf32>, tensor<16x48xf32>
// CHECK: vector.transfer_read %arg0{{.*}} : tensor<2x3x20x16xf32>, vector<8xf32>
// CHECK: tensor.insert
// CHECK: %[[LIM:.*]] = arith.addi %[[Q0]], %{{.*}}
// CHECK: %[[END:.*]] = arith.minsi %[[LIM]], %{{.*}}
// CHECK: scf.for %{{.*}} = %c0 to %[[END]] step %{{.*}} iter_args({{.*}}) -> (tensor<48x48xf32>, tensor<48x16xf32>, tensor<4x48xf32>)
// (1) S^T: 6 keys x 16 queries, 12 accumulators over the head dimension.
// Causal: only blocks with keys after some query (the diagonal) apply the
// mask, and there tiles entirely after the diagonal are only filled with
// -inf. The tiles fold their column max into row 3 of the stats (vmaxps).
// CHECK: arith.ceildivui %{{.*}}, %c6
// CHECK: vector.transfer_write {{.*}}[%c3{{.*}}] {{.*}} : vector<8xf32>, tensor<4x48xf32>
// CHECK: %[[DIAG:.*]] = arith.cmpi sgt
// CHECK: scf.if %[[DIAG]] -> (tensor<48x48xf32>, tensor<4x48xf32>)
// CHECK: arith.minsi %{{.*}}, %c19
// CHECK: %[[SKIP:.*]] = arith.cmpi sgt
// CHECK: scf.if %[[SKIP]] -> (tensor<48x48xf32>, tensor<4x48xf32>)
// CHECK: vector.transfer_write %cst{{.*}} : vector<8xf32>, tensor<48x48xf32>
// CHECK: } else {
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: vector.transfer_read {{.*}} : tensor<16x48xf32>, vector<8xf32>
// CHECK: tensor.extract %arg1
// CHECK: vector.fma %{{.*}} : vector<8xf32>
// CHECK: tensor.extract %{{.*}} : tensor<2x1x20xf32>
// CHECK: arith.cmpi sge, %{{.*}} : vector<8xi64>
// CHECK: vector.transfer_write {{.*}} : vector<8xf32>, tensor<48x48xf32>
// CHECK: arith.cmpf ogt
// CHECK: vector.transfer_write {{.*}} : vector<8xf32>, tensor<4x48xf32>
// (2) online softmax, queries in lanes: one exp pass over the block.
// CHECK: vector.transfer_read %{{.*}}[%c3{{[_0-9]*}}, %{{.*}}], %cst {{.*}} : tensor<4x48xf32>, vector<8xf32>
// CHECK: arith.cmpf oeq
// CHECK: math.exp
// CHECK: math.exp
// CHECK-NOT: arith.maximumf
// (3) O += P V: 6 queries x 16 columns, causal: keys up to the tile's last
// query only.
// CHECK: arith.subi
// CHECK: arith.minsi
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: vector.transfer_read %arg2{{.*}} {in_bounds = [true]} : tensor<2x3x20x16xf32>, vector<8xf32>
// CHECK: tensor.extract %{{.*}} : tensor<48x48xf32>
// CHECK: vector.fma
// CHECK: scf.yield
// CHECK: arith.divf %{{.*}} : vector<8xf32>
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] {in_bounds = [true]} : vector<8xf32>, tensor<2x20x48xf32>
func.func @main_graph(%q: tensor<2x3x20x16xf32>, %k: tensor<2x3x20x16xf32>, %v: tensor<2x3x20x16xf32>, %m: tensor<2x1x1x20xi1>) -> tensor<2x20x48xf32> {
  %0 = tessera.attention %q, %k, %v, %m {merge_heads = true, scale = 0.25 : f32, causal = true} : (tensor<2x3x20x16xf32>, tensor<2x3x20x16xf32>, tensor<2x3x20x16xf32>, tensor<2x1x1x20xi1>) -> tensor<2x20x48xf32>
  return %0 : tensor<2x20x48xf32>
}

// -----

// A float mask that varies per query is transposed once ([.., Sk, Sq]) and
// read as query vectors (bounds checked: 5 queries); seq-first output rows
// are B * E apart; a head size of 6 is padded (V reads bounds checked) and
// written under a mask.
// CHECK-LABEL: func.func @main_graph
// CHECK: linalg.generic {{.*}} ins(%arg3 : tensor<5x7xf32>) outs(%{{.*}} : tensor<1x1x7x5xf32>)
// CHECK: scf.for
// CHECK-NOT: arith.minsi %{{.*}}, %c7
// CHECK: vector.transfer_read %{{.*}} : tensor<1x1x7x5xf32>, vector<8xf32>
// CHECK: vector.transfer_read %arg2{{.*}}, %cst : tensor<2x2x7x6xf32>, vector<8xf32>
// CHECK: %[[WM:.*]] = vector.create_mask %c6{{.*}} : vector<8xi1>
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}], %[[WM]] : vector<8xf32>, tensor<5x2x12xf32>
func.func @main_graph(%q: tensor<2x2x5x6xf32>, %k: tensor<2x2x7x6xf32>, %v: tensor<2x2x7x6xf32>, %m: tensor<5x7xf32>) -> tensor<5x2x12xf32> {
  %0 = tessera.attention %q, %k, %v, %m {merge_heads = true, seq_first = true, scale = 0.5 : f32} : (tensor<2x2x5x6xf32>, tensor<2x2x7x6xf32>, tensor<2x2x7x6xf32>, tensor<5x7xf32>) -> tensor<5x2x12xf32>
  return %0 : tensor<5x2x12xf32>
}

// -----

// Head size 64: O is a [48, 64] block; heads are not merged here; fully
// masked rows are guarded to 0 (zero_masked_rows). The register tile of (1)
// runs over the head dimension 8 steps at a time.
// CHECK-LABEL: func.func @main_graph
// CHECK: scf.for %{{.*}} = %c0 to %c2{{(_[0-9]+)?}} step %c1 iter_args(%{{.*}} = %{{.*}}) -> (tensor<1x2x16x64xf32>)
// CHECK-DAG: tensor.empty() : tensor<64x48xf32>
// CHECK-DAG: tensor.empty() : tensor<48x64xf32>
// CHECK: scf.for {{.*}} -> (tensor<1x2x16x64xf32>, tensor<64x48xf32>, tensor<48x48xf32>, tensor<48x64xf32>, tensor<4x48xf32>)
// CHECK: scf.for {{.*}} -> (tensor<48x48xf32>, tensor<48x64xf32>, tensor<4x48xf32>)
// Not causal: no diagonal test, no -inf tiles, no position compares.
// CHECK-NOT: scf.if
// CHECK-NOT: arith.cmpi sge
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c64{{.*}} step %c8{{.*}} iter_args
// CHECK: scf.yield
// CHECK: arith.divf
// CHECK: arith.cmpf oeq
// CHECK: arith.select
// CHECK: vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<8xf32>, tensor<1x2x16x64xf32>
// With AVX-512 (16-float vectors), (1)'s tile is 6 keys x 2 vectors (12
// accumulators) and (3)'s is 6 queries x 4 vectors (24): the head of 64 in
// one tile.
// ZMM-LABEL: func.func @main_graph(%arg0: tensor<1x2x16x64xf32>
// ZMM: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// ZMM: math.exp
// ZMM: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
func.func @main_graph(%q: tensor<1x2x16x64xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32> {
  %0 = tessera.attention %q, %k, %v {scale = 0.125 : f32, zero_masked_rows = true} : (tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32>
  return %0 : tensor<1x2x16x64xf32>
}

// -----

// Dynamic batch, query and key counts (causal, with a [B, 1, 1, Sk] keep
// mask whose dims are dynamic too; the head size stays static): Q, K, V and
// the mask are checked to agree at run time, the result and the mask
// offsets get run-time sizes, the batch x heads loop writes through a whole
// slice of the result (so that its dims fold back to the inputs'), the
// query and key block loops run to run-time bounds, K rows clamp to Sk - 1,
// and the Q^T block is zero filled. The register tiles are unchanged: 12
// vector.fma accumulators over the head dim in (1) and (3). Causal is
// aligned at the end: the queries of the block at q0 see keys up to
// q0 + Sk - Sq + 47, the key loop stops there.
// CHECK-LABEL: func.func @dynamic
// CHECK: %[[B:.*]] = tensor.dim %arg0, %c0
// CHECK: cf.assert %{{.*}}, "node 'attn': Q, K and V have different batch sizes"
// CHECK: %[[SQ:.*]] = tensor.dim %arg0, %c2
// CHECK: %[[SK:.*]] = tensor.dim %arg1, %c2
// CHECK: cf.assert %{{.*}}, "node 'attn': K and V have different numbers of keys"
// CHECK: cf.assert %{{.*}}, "node 'attn': the mask's batch size differs from the attention's"
// CHECK: cf.assert %{{.*}}, "node 'attn': the mask's key count differs from the attention's"
// CHECK: tensor.empty(%[[B]], %[[SK]]) : tensor<?x1x?xf32>
// CHECK: %[[OUT:.*]] = tensor.empty(%[[B]], %[[SQ]]) : tensor<?x?x48xf32>
// CHECK: %[[BH:.*]] = arith.muli %[[B]], %c3
// CHECK: %[[OFF:.*]] = arith.subi %[[SK]], %[[SQ]]
// CHECK: %[[LAST:.*]] = arith.subi %[[SK]], %c1
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %[[BH]] step %c1 iter_args(%[[ARG:.*]] = %[[OUT]]) -> (tensor<?x?x48xf32>)
// CHECK: %[[WHOLE:.*]] = tensor.extract_slice %[[ARG]][0, 0, 0] [%{{.*}}, %{{.*}}, 48] [1, 1, 1]
// CHECK: scf.for %[[Q0:.*]] = %c0{{.*}} to %[[SQ]] step %c48 iter_args(%{{.*}} = %[[WHOLE]]
// CHECK: %[[QC:.*]] = arith.addi %[[Q0]], %[[OFF]]
// CHECK: vector.transfer_write %{{.*}} : vector<8xf32>, tensor<16x48xf32>
// CHECK: %[[LIM:.*]] = arith.addi %[[QC]], %c48
// CHECK: %[[END:.*]] = arith.minsi %[[LIM]], %[[SK]]
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %[[END]] step %c48
// CHECK: arith.minsi %{{.*}}, %[[LAST]]
// CHECK-COUNT-12: vector.fma
// CHECK: math.exp
// CHECK-COUNT-12: vector.fma
// CHECK: tensor.insert_slice %{{.*}} into %[[ARG]][0, 0, 0]
// CHECK-NOT: tessera.attention
func.func @dynamic(%q: tensor<?x3x?x16xf32>, %k: tensor<?x3x?x16xf32>, %v: tensor<?x3x?x16xf32>, %m: tensor<?x1x1x?xi1>) -> tensor<?x?x48xf32> {
  %0 = tessera.attention %q, %k, %v, %m {merge_heads = true, scale = 0.25 : f32, causal = true} : (tensor<?x3x?x16xf32>, tensor<?x3x?x16xf32>, tensor<?x3x?x16xf32>, tensor<?x1x1x?xi1>) -> tensor<?x?x48xf32> loc("attn")
  return %0 : tensor<?x?x48xf32>
}

// -----

// Grouped-query attention: 4 query heads read 2 K/V heads in place, query
// head h from K/V head h / 2 (no copy of K or V).
// CHECK-LABEL: func.func @gqa
// CHECK: %[[H:.*]] = arith.remui %{{.*}}, %c4{{.*}} : index
// CHECK: %[[HK:.*]] = arith.divui %[[H]], %c2{{.*}} : index
// CHECK: tensor.extract %arg1[%{{.*}}, %[[HK]], %{{.*}}, %{{.*}}] : tensor<1x2x8x8xf32>
// CHECK: vector.transfer_read %arg2[%{{.*}}, %[[HK]], %{{.*}}, %{{.*}}]
func.func @gqa(%q: tensor<1x4x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %0 = tessera.attention %q, %k, %v {scale = 0.5 : f32} : (tensor<1x4x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

// A tiled K/V repeat: query head h reads K/V head h % 2.
// CHECK-LABEL: func.func @gqa_tiled
// CHECK: %[[H:.*]] = arith.remui %{{.*}}, %c4{{.*}} : index
// CHECK: %[[HK:.*]] = arith.remui %[[H]], %c2{{.*}} : index
// CHECK: tensor.extract %arg1[%{{.*}}, %[[HK]], %{{.*}}, %{{.*}}] : tensor<1x2x8x8xf32>
func.func @gqa_tiled(%q: tensor<1x4x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %0 = tessera.attention %q, %k, %v {scale = 0.5 : f32, kv_tiled = true} : (tensor<1x4x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

// Q, K and V from tessera.qkv_projection: the kernel reads them in place
// from the projection's [B, S, 3H, Dh] view (indices [b, s, h, d]), so its
// head-split transposes are left dead (for the canonicalizer to erase).
// CHECK-LABEL: func.func @from_qkv_projection
// CHECK: %[[C:.*]] = linalg.matmul
// CHECK: %[[C4:.*]] = tensor.expand_shape %[[C]] {{.*}} : tensor<32x96xf32> into tensor<2x16x6x16xf32>
// CHECK: %[[QV:.*]] = tensor.extract_slice %[[C4]][0, 0, 0, 0] [2, 16, 2, 16]
// CHECK: %[[KV:.*]] = tensor.extract_slice %[[C4]][0, 0, 2, 0] [2, 16, 2, 16]
// CHECK: %[[VV:.*]] = tensor.extract_slice %[[C4]][0, 0, 4, 0] [2, 16, 2, 16]
// CHECK: vector.transfer_read %[[QV]][%{{.*}}, %{{.*}}, %{{.*}}, %c0{{.*}}]
// CHECK: tensor.extract %[[KV]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : tensor<2x16x2x16xf32>
// CHECK: vector.transfer_read %[[VV]][%{{.*}}, %{{.*}}, %{{.*}}, %c0{{.*}}]
func.func @from_qkv_projection(%x: tensor<2x16x32xf32>, %w: tensor<32x96xf32>) -> tensor<2x16x32xf32> {
  %r:3 = tessera.qkv_projection %x, %w {num_heads = 2 : i64} : (tensor<2x16x32xf32>, tensor<32x96xf32>) -> (tensor<2x2x16x16xf32>, tensor<2x2x16x16xf32>, tensor<2x2x16x16xf32>)
  %0 = tessera.attention %r#0, %r#1, %r#2 {merge_heads = true, scale = 0.25 : f32} : (tensor<2x2x16x16xf32>, tensor<2x2x16x16xf32>, tensor<2x2x16x16xf32>) -> tensor<2x16x32xf32>
  return %0 : tensor<2x16x32xf32>
}

// -----

// Near miss: a K that is a transpose moving the head size ([0, 1, 3, 2]) is
// read from the transposed tensor, not in place.
// CHECK-LABEL: func.func @transposed_k_not_in_place
// CHECK: %[[KT:.*]] = linalg.transpose ins(%arg1 : tensor<1x2x16x16xf32>) {{.*}} permutation = [0, 1, 3, 2]
// CHECK: tensor.extract %[[KT]][
// CHECK-NOT: tensor.extract %arg1[
func.func @transposed_k_not_in_place(%q: tensor<1x2x16x16xf32>, %kt: tensor<1x2x16x16xf32>, %v: tensor<1x2x16x16xf32>) -> tensor<1x2x16x16xf32> {
  %k = onnx.Transpose %kt {perm = [0, 1, 3, 2]} : (tensor<1x2x16x16xf32>) -> tensor<1x2x16x16xf32>
  %0 = tessera.attention %q, %k, %v {scale = 0.25 : f32} : (tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>) -> tensor<1x2x16x16xf32>
  return %0 : tensor<1x2x16x16xf32>
}

// -----

// One query (a decode step with a KV cache): the keys are the lanes. Per
// block of L keys, each score is the dot product of a K row with Q (the
// head's vectors reduced across lanes), the block's scores go into one
// vector (scaled, plus the mask's offsets), and the online softmax and
// O += p_j V[j] run on it: no scratch blocks, no Q^T. With a dynamic query
// count the batch x heads loop chooses it when Sq = 1 at run time.
// With AVX-512's 16 lanes, a head of 16 is one vector: blocks of 16 keys,
// one multiply per score.
// ZMM-LABEL: func.func @decode
// ZMM: %[[Q:.*]] = vector.transfer_read %arg0{{.*}} : tensor<1x4x1x16xf32>, vector<16xf32>
// ZMM: scf.for %{{.*}} = %c0{{.*}} to %{{.*}} step %c16{{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>)
// ZMM-COUNT-16: vector.reduction <add>
// ZMM: vector.from_elements {{.*}} : vector<16xf32>
// ZMM: vector.reduction <maxnumf>
// ZMM-COUNT-16: vector.fma
// ZMM: vector.transfer_write {{.*}} : vector<16xf32>, tensor<1x1x64xf32>
// ZMM-NOT: vector<8xf32>
// ZMM: return
// CHECK-LABEL: func.func @decode
// CHECK: %[[M:.*]] = linalg.generic {{.*}} ins(%arg3 : tensor<1x1x1x?xi1>)
// CHECK: scf.for %{{.*}} = %c0 to %c4{{.*}} step %c1 iter_args(%{{.*}}) -> (tensor<1x1x64xf32>)
// CHECK-NOT: tensor.empty
// CHECK: %[[Q0:.*]] = vector.transfer_read %arg0{{.*}} : tensor<1x4x1x16xf32>, vector<8xf32>
// CHECK: %[[Q1:.*]] = vector.transfer_read %arg0{{.*}} : tensor<1x4x1x16xf32>, vector<8xf32>
// CHECK: scf.for %[[K0:.*]] = %c0{{.*}} to %{{.*}} step %c8{{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: %[[K:.*]] = vector.transfer_read %arg1{{.*}} : tensor<1x4x?x16xf32>, vector<8xf32>
// CHECK: arith.mulf %[[K]], %[[Q0]]
// CHECK: vector.fma %{{.*}}, %[[Q1]], %{{.*}}
// CHECK-COUNT-8: vector.reduction <add>
// CHECK: %[[S:.*]] = vector.from_elements
// CHECK: arith.mulf %[[S]]
// CHECK: vector.transfer_read %[[M]][%{{.*}}, %{{.*}}, %[[K0]]]{{.*}} : tensor<1x1x?xf32>, vector<8xf32>
// CHECK: vector.reduction <maxnumf>
// CHECK: math.exp
// CHECK: math.exp
// CHECK: vector.reduction <add>
// CHECK-COUNT-16: vector.fma
// CHECK: scf.yield
// CHECK: arith.divf
// CHECK: vector.transfer_write {{.*}} : vector<8xf32>, tensor<1x1x64xf32>
// CHECK-NOT: vector.fma
// CHECK: return
func.func @decode(%q: tensor<1x4x1x16xf32>, %k: tensor<1x4x?x16xf32>, %v: tensor<1x4x?x16xf32>, %m: tensor<1x1x1x?xi1>) -> tensor<1x1x64xf32> {
  %0 = tessera.attention %q, %k, %v, %m {merge_heads = true, scale = 0.25 : f32, causal = true} : (tensor<1x4x1x16xf32>, tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>, tensor<1x1x1x?xi1>) -> tensor<1x1x64xf32> loc("attn")
  return %0 : tensor<1x1x64xf32>
}

// -----

// CHECK-LABEL: func.func @decode_or_all
// CHECK: %[[SQ:.*]] = tensor.dim %arg0, %c2
// CHECK: scf.for
// CHECK: %[[ONE:.*]] = arith.cmpi eq, %[[SQ]], %c1
// CHECK: scf.if %[[ONE]] -> (tensor<1x4x?x16xf32>)
// CHECK: vector.from_elements
// CHECK: } else {
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %[[SQ]] step %c48
func.func @decode_or_all(%q: tensor<1x4x?x16xf32>, %k: tensor<1x4x?x16xf32>, %v: tensor<1x4x?x16xf32>) -> tensor<1x4x?x16xf32> {
  %0 = tessera.attention %q, %k, %v {scale = 0.25 : f32} : (tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>) -> tensor<1x4x?x16xf32>
  return %0 : tensor<1x4x?x16xf32>
}

// -----

// Grouped-query attention on the decode kernel: query head h reads K and V
// head h / 2.
// CHECK-LABEL: func.func @gqa_decode
// CHECK: %[[H:.*]] = arith.remui %{{.*}}, %c4{{.*}} : index
// CHECK: %[[HK:.*]] = arith.divui %[[H]], %c2{{.*}} : index
// CHECK: vector.transfer_read %arg0[%{{.*}}, %[[H]], %c0{{.*}}, %c0{{.*}}]
// CHECK: vector.transfer_read %arg1[%{{.*}}, %[[HK]], %{{.*}}, %c0{{.*}}]
// CHECK: vector.from_elements
// CHECK: vector.transfer_read %arg2[%{{.*}}, %[[HK]], %{{.*}}, %c0{{.*}}]
func.func @gqa_decode(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x4x1x8xf32> {
  %0 = tessera.attention %q, %k, %v {scale = 0.5 : f32} : (tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x4x1x8xf32>
  return %0 : tensor<1x4x1x8xf32>
}

// -----

// A head size that is not a multiple of the vector (12 with 8 lanes) keeps
// the general kernel for one query too: its Q^T, P^T and O blocks, no
// scores built from reductions.
// CHECK-LABEL: func.func @one_query_odd_head
// CHECK-NOT: vector.from_elements
// CHECK: tensor.empty() : tensor<12x48xf32>
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c1{{.*}} step %c48
// CHECK-NOT: vector.from_elements
// CHECK: return
func.func @one_query_odd_head(%q: tensor<1x2x1x12xf32>, %k: tensor<1x2x?x12xf32>, %v: tensor<1x2x?x12xf32>) -> tensor<1x2x1x12xf32> {
  %0 = tessera.attention %q, %k, %v {scale = 0.5 : f32} : (tensor<1x2x1x12xf32>, tensor<1x2x?x12xf32>, tensor<1x2x?x12xf32>) -> tensor<1x2x1x12xf32>
  return %0 : tensor<1x2x1x12xf32>
}
