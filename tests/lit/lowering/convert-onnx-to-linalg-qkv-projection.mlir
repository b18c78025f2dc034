// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s
// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg --tessera-pack-matmul-weights="tile-n=4" --tessera-vectorize-matmul="tile-m=6 tile-n=4" | FileCheck %s --check-prefix=VEC

// tessera.qkv_projection: one GEMM of the flattened input with the packed
// weight from a zero accumulator, the bias added after it (an epilogue),
// then each result is its column block of the [B, S, n, H, Dh] view
// transposed into [B, H, S, Dh].
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @qkv_bias
// CHECK: %[[X:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<2x3x8xf32> into tensor<6x8xf32>
// CHECK: %[[Z:.*]] = linalg.fill
// CHECK: %[[P:.*]] = linalg.matmul ins(%[[X]], %arg1 : tensor<6x8xf32>, tensor<8x24xf32>) outs(%[[Z]] : tensor<6x24xf32>)
// CHECK: %[[C:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[P]], %arg2 : tensor<6x24xf32>, tensor<24xf32>)
// CHECK: arith.addf
// CHECK: %[[C4:.*]] = tensor.expand_shape %[[C]] {{\[\[}}0, 1], [2, 3]] output_shape [2, 3, 6, 4] : tensor<6x24xf32> into tensor<2x3x6x4xf32>
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[C4]][0, 0, 0, 0] [2, 3, 2, 4] [1, 1, 1, 1] : tensor<2x3x6x4xf32> to tensor<2x3x2x4xf32>
// CHECK: %[[Q:.*]] = linalg.transpose ins(%[[S0]] : tensor<2x3x2x4xf32>) outs(%{{.*}} : tensor<2x2x3x4xf32>) permutation = [0, 2, 1, 3]
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[C4]][0, 0, 2, 0] [2, 3, 2, 4]
// CHECK: %[[K:.*]] = linalg.transpose ins(%[[S1]] : tensor<2x3x2x4xf32>) outs(%{{.*}} : tensor<2x2x3x4xf32>) permutation = [0, 2, 1, 3]
// CHECK: %[[S2:.*]] = tensor.extract_slice %[[C4]][0, 0, 4, 0] [2, 3, 2, 4]
// CHECK: %[[V:.*]] = linalg.transpose ins(%[[S2]] : tensor<2x3x2x4xf32>) outs(%{{.*}} : tensor<2x2x3x4xf32>) permutation = [0, 2, 1, 3]
// CHECK: return %[[Q]], %[[K]], %[[V]]
func.func @qkv_bias(%x: tensor<2x3x8xf32>, %w: tensor<8x24xf32>, %b: tensor<24xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>) {
  %r:3 = tessera.qkv_projection %x, %w bias %b {num_heads = 2 : i64} : (tensor<2x3x8xf32>, tensor<8x24xf32>, tensor<24xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>)
  return %r#0, %r#1, %r#2 : tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>
}

// -----

// Float16: X and the weight widened, the product in f32, the bias added in
// f32 and the sum rounded once to f16; the head split in f16.
// CHECK-LABEL: func.func @qkv_bias_f16
// CHECK: %[[X:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<2x3x8xf16> into tensor<6x8xf16>
// CHECK: %[[WX:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<6x8xf16>) outs(%{{.*}} : tensor<6x8xf32>)
// CHECK: arith.extf
// CHECK: %[[WW:.*]] = linalg.generic {{.*}} ins(%arg1 : tensor<8x24xf16>) outs(%{{.*}} : tensor<8x24xf32>)
// CHECK: %[[P:.*]] = linalg.matmul ins(%[[WX]], %[[WW]] : tensor<6x8xf32>, tensor<8x24xf32>) outs(%{{.*}} : tensor<6x24xf32>)
// CHECK: %[[C:.*]] = linalg.generic {{.*}} ins(%[[P]], %arg2 : tensor<6x24xf32>, tensor<24xf16>) outs(%{{.*}} : tensor<6x24xf16>)
// CHECK: arith.extf
// CHECK: arith.addf
// CHECK: arith.truncf
// CHECK: tensor.expand_shape %[[C]] {{\[\[}}0, 1], [2, 3]] output_shape [2, 3, 6, 4] : tensor<6x24xf16> into tensor<2x3x6x4xf16>
// CHECK-COUNT-3: linalg.transpose ins(%{{.*}} : tensor<2x3x2x4xf16>) outs(%{{.*}} : tensor<2x2x3x4xf16>)
func.func @qkv_bias_f16(%x: tensor<2x3x8xf16>, %w: tensor<8x24xf16>, %b: tensor<24xf16>) -> (tensor<2x2x3x4xf16>, tensor<2x2x3x4xf16>, tensor<2x2x3x4xf16>) {
  %r:3 = tessera.qkv_projection %x, %w bias %b {num_heads = 2 : i64} : (tensor<2x3x8xf16>, tensor<8x24xf16>, tensor<24xf16>) -> (tensor<2x2x3x4xf16>, tensor<2x2x3x4xf16>, tensor<2x2x3x4xf16>)
  return %r#0, %r#1, %r#2 : tensor<2x2x3x4xf16>, tensor<2x2x3x4xf16>, tensor<2x2x3x4xf16>
}

// -----

// K/V of a seq-first input [S, B, E], no bias: a zero-filled accumulator and
// the [S, B, H, Dh] -> [B, H, S, Dh] transpose.
// CHECK-LABEL: func.func @kv_seq_first
// CHECK: %[[X:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<5x2x8xf32> into tensor<10x8xf32>
// CHECK: %[[Z:.*]] = linalg.fill
// CHECK: %[[C:.*]] = linalg.matmul ins(%[[X]], %arg1 : tensor<10x8xf32>, tensor<8x16xf32>) outs(%[[Z]] : tensor<10x16xf32>)
// CHECK: tensor.expand_shape %[[C]] {{\[\[}}0, 1], [2, 3]] output_shape [5, 2, 4, 4]
// CHECK: %[[K:.*]] = linalg.transpose ins(%{{.*}} : tensor<5x2x2x4xf32>) outs(%{{.*}} : tensor<2x2x5x4xf32>) permutation = [1, 2, 0, 3]
// CHECK: %[[V:.*]] = linalg.transpose ins(%{{.*}} : tensor<5x2x2x4xf32>) outs(%{{.*}} : tensor<2x2x5x4xf32>) permutation = [1, 2, 0, 3]
// CHECK-NEXT: return %[[K]], %[[V]]
func.func @kv_seq_first(%x: tensor<5x2x8xf32>, %w: tensor<8x16xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) {
  %r:2 = tessera.qkv_projection %x, %w {num_heads = 2 : i64, seq_first = true} : (tensor<5x2x8xf32>, tensor<8x16xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>)
  return %r#0, %r#1 : tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>
}

// -----

// With the packed weight a constant (as the fusion produces), the GEMM is
// scheduled like every other projection: its weight packed into 4-column
// panels ([N/4 * E, 4]) and register-tiled, the bias added to the register
// tile after its k loop.
// VEC-LABEL: func.func @qkv_constant_weight
// VEC: arith.constant dense_resource<packed_weights> : tensor<6x4xf32>
// VEC: scf.for
// VEC: %[[ACC:.*]] = scf.for {{.*}} -> (vector<6x4xf32>)
// VEC: vector.contract
// VEC: arith.addf %[[ACC]], %{{.*}} : vector<6x4xf32>
// VEC-NOT: linalg.matmul
// VEC: linalg.transpose
func.func @qkv_constant_weight(%x: tensor<2x3x2xf32>) -> (tensor<2x2x3x2xf32>, tensor<2x2x3x2xf32>, tensor<2x2x3x2xf32>) {
  %w = onnx.Constant {value = dense<[[1.1, 2.1, 3.1, 4.1, 5.1, 6.1, 7.1, 8.1, 9.1, 10.1, 11.1, 12.1], [13.1, 14.1, 15.1, 16.1, 17.1, 18.1, 19.1, 20.1, 21.1, 22.1, 23.1, 24.1]]> : tensor<2x12xf32>} : tensor<2x12xf32>
  %b = onnx.Constant {value = dense<0.25> : tensor<12xf32>} : tensor<12xf32>
  %r:3 = tessera.qkv_projection %x, %w bias %b {num_heads = 2 : i64} : (tensor<2x3x2xf32>, tensor<2x12xf32>, tensor<12xf32>) -> (tensor<2x2x3x2xf32>, tensor<2x2x3x2xf32>, tensor<2x2x3x2xf32>)
  return %r#0, %r#1, %r#2 : tensor<2x2x3x2xf32>, tensor<2x2x3x2xf32>, tensor<2x2x3x2xf32>
}

// -----

// Dynamic batch and sequence: one GEMM over [B * S, E] (the weight and the
// head split stay static), the result viewed back with the run-time sizes.
// CHECK-LABEL: func.func @qkv_dynamic
// CHECK: %[[B:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[S:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[X:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<?x?x8xf32> into tensor<?x8xf32>
// CHECK: %[[ROWS:.*]] = arith.muli %[[B]], %[[S]]
// CHECK: tensor.empty(%[[ROWS]]) : tensor<?x24xf32>
// CHECK: %[[P:.*]] = linalg.matmul ins(%[[X]], %arg1 : tensor<?x8xf32>, tensor<8x24xf32>)
// CHECK: %[[C:.*]] = linalg.generic {{.*}} ins(%[[P]], %arg2 : tensor<?x24xf32>, tensor<24xf32>)
// CHECK: tensor.expand_shape %[[C]] {{.*}} output_shape [%[[B]], %[[S]], 6, 4] : tensor<?x24xf32> into tensor<?x?x6x4xf32>
// CHECK-COUNT-3: linalg.transpose {{.*}} outs(%{{.*}} : tensor<?x2x?x4xf32>)
// CHECK-NOT: tessera.
func.func @qkv_dynamic(%x: tensor<?x?x8xf32>, %w: tensor<8x24xf32>, %b: tensor<24xf32>) -> (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) {
  %r:3 = tessera.qkv_projection %x, %w bias %b {num_heads = 2 : i64} : (tensor<?x?x8xf32>, tensor<8x24xf32>, tensor<24xf32>) -> (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>)
  return %r#0, %r#1, %r#2 : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
}

// -----

// Grouped-query attention: Q's 2 heads, then K's and V's one head each, of
// one [6, 16] product viewed as [2, 3, 4 heads, 4].
// CHECK-LABEL: func.func @qkv_grouped_query
// CHECK: %[[C:.*]] = linalg.matmul
// CHECK: %[[C4:.*]] = tensor.expand_shape %[[C]] {{\[\[}}0, 1], [2, 3]] output_shape [2, 3, 4, 4] : tensor<6x16xf32> into tensor<2x3x4x4xf32>
// CHECK: tensor.extract_slice %[[C4]][0, 0, 0, 0] [2, 3, 2, 4] [1, 1, 1, 1] : tensor<2x3x4x4xf32> to tensor<2x3x2x4xf32>
// CHECK: tensor.extract_slice %[[C4]][0, 0, 2, 0] [2, 3, 1, 4] [1, 1, 1, 1] : tensor<2x3x4x4xf32> to tensor<2x3x1x4xf32>
// CHECK: tensor.extract_slice %[[C4]][0, 0, 3, 0] [2, 3, 1, 4] [1, 1, 1, 1] : tensor<2x3x4x4xf32> to tensor<2x3x1x4xf32>
func.func @qkv_grouped_query(%x: tensor<2x3x8xf32>, %w: tensor<8x16xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x1x3x4xf32>, tensor<2x1x3x4xf32>) {
  %q, %k, %v = tessera.qkv_projection %x, %w {num_heads = 2 : i64, kv_heads = 1 : i64} : (tensor<2x3x8xf32>, tensor<8x16xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x1x3x4xf32>, tensor<2x1x3x4xf32>)
  return %q, %k, %v : tensor<2x2x3x4xf32>, tensor<2x1x3x4xf32>, tensor<2x1x3x4xf32>
}

// -----

// Rotary results (Q and K, half-split over the whole head of 8): the
// weight's columns are regrouped at compile time into the first halves of
// Q's and K's heads, their second halves, and V; the two rotated products
// share one two-result epilogue reading the per-row cos/sin rows through
// `d1 mod 4` (the column within the head); each product is transposed into
// its features of the results.
// CHECK-DAG: #[[TABLE:.*]] = affine_map<(d0, d1) -> (d0, d1 mod 4)>
// CHECK-LABEL: func.func @rotary
// CHECK: %[[P1:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<8x8xf32>)
// CHECK: %[[P2:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<8x8xf32>)
// CHECK: cf.assert {{.*}}position_ids must have the sequence length of X
// CHECK: tensor.extract %{{.*}} : tensor<1x?xi64>
// CHECK: arith.minsi
// CHECK: tensor.extract %{{.*}} : tensor<4x4xf32>
// CHECK: %[[R:.*]]:2 = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[TABLE]], #[[TABLE]], #{{.*}}, #{{.*}}]{{.*}} ins(%[[P1]], %[[P2]], %{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>) outs(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<?x8xf32>)
// CHECK: arith.subf
// CHECK: arith.addf
// CHECK: linalg.yield
// CHECK: %[[V:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<8x8xf32>)
// CHECK: tensor.expand_shape %[[R]]#0
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [%{{.*}}, 1, %{{.*}}, 4] [1, 1, 1, 1]
// CHECK: linalg.transpose
// CHECK: tensor.insert_slice
// CHECK: tensor.expand_shape %[[R]]#1
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 4] [%{{.*}}, 1, %{{.*}}, 4] [1, 1, 1, 1]
func.func @rotary(%x: tensor<?x?x8xf32>, %ids: tensor<1x?xi64>) -> (tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x24xf32>} : tensor<8x24xf32>
  %c = onnx.Constant {value = dense<0.25> : tensor<4x4xf32>} : tensor<4x4xf32>
  %s = onnx.Constant {value = dense<0.75> : tensor<4x4xf32>} : tensor<4x4xf32>
  %q, %k, %v = tessera.qkv_projection %x, %w rotary %c, %s positions %ids {num_heads = 1 : i64, rotary_results = array<i64: 0, 1>} : (tensor<?x?x8xf32>, tensor<8x24xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<1x?xi64>) -> (tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>)
  return %q, %k, %v : tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>
}

// -----

// Float16 rotary results: X widened, the regrouped weights f32 constants,
// the x1 and x2 products in f32, the f16 cos/sin rows widened in the
// rotation, each rotated value rounded once to f16.
// CHECK-LABEL: func.func @rotary_f16
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<?x8xf16>) outs(%{{.*}} : tensor<?x8xf32>)
// CHECK: %[[P1:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<8x8xf32>)
// CHECK: %[[P2:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<8x8xf32>)
// CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} ins(%[[P1]], %[[P2]], %{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x4xf16>, tensor<?x4xf16>) outs(%{{.*}}, %{{.*}} : tensor<?x8xf16>, tensor<?x8xf16>)
// CHECK: arith.extf
// CHECK: arith.subf
// CHECK: arith.addf
// CHECK: arith.truncf
// CHECK: arith.truncf
// CHECK: linalg.yield
func.func @rotary_f16(%x: tensor<?x?x8xf16>, %ids: tensor<1x?xi64>) -> (tensor<?x1x?x8xf16>, tensor<?x1x?x8xf16>, tensor<?x1x?x8xf16>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x24xf16>} : tensor<8x24xf16>
  %c = onnx.Constant {value = dense<0.25> : tensor<4x4xf16>} : tensor<4x4xf16>
  %s = onnx.Constant {value = dense<0.75> : tensor<4x4xf16>} : tensor<4x4xf16>
  %q, %k, %v = tessera.qkv_projection %x, %w rotary %c, %s positions %ids {num_heads = 1 : i64, rotary_results = array<i64: 0, 1>} : (tensor<?x?x8xf16>, tensor<8x24xf16>, tensor<4x4xf16>, tensor<4x4xf16>, tensor<1x?xi64>) -> (tensor<?x1x?x8xf16>, tensor<?x1x?x8xf16>, tensor<?x1x?x8xf16>)
  return %q, %k, %v : tensor<?x1x?x8xf16>, tensor<?x1x?x8xf16>, tensor<?x1x?x8xf16>
}

// -----

// Interleaved: the even and odd features of each pair go to stride-2
// slices of the results.
// CHECK-LABEL: func.func @rotary_interleaved
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [2, 1, 3, 4] [1, 1, 1, 2]
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 1] [2, 1, 3, 4] [1, 1, 1, 2]
func.func @rotary_interleaved(%x: tensor<2x3x8xf32>, %ids: tensor<2x3xi64>) -> (tensor<2x1x3x8xf32>, tensor<2x1x3x8xf32>, tensor<2x1x3x8xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x24xf32>} : tensor<8x24xf32>
  %c = onnx.Constant {value = dense<0.25> : tensor<4x4xf32>} : tensor<4x4xf32>
  %s = onnx.Constant {value = dense<0.75> : tensor<4x4xf32>} : tensor<4x4xf32>
  %q, %k, %v = tessera.qkv_projection %x, %w rotary %c, %s positions %ids {num_heads = 1 : i64, rotary_interleaved = true, rotary_results = array<i64: 0, 1>} : (tensor<2x3x8xf32>, tensor<8x24xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<2x3xi64>) -> (tensor<2x1x3x8xf32>, tensor<2x1x3x8xf32>, tensor<2x1x3x8xf32>)
  return %q, %k, %v : tensor<2x1x3x8xf32>, tensor<2x1x3x8xf32>, tensor<2x1x3x8xf32>
}
