// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(tessera-fuse-qkv-rotary))' | FileCheck %s
// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(tessera-fuse-qkv-rotary{report=true}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT

// A grouped-query projection (2 Q heads, 1 K/V head of 8) whose Q and K are
// rotated with equal tables (two constants of the same values, as the
// recogniser leaves them) by the same position ids: both rotations become
// the projection's rotary results; V stays as it is.
// CHECK-LABEL: func.func @llama_qk
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x8xf32>, %[[IDS:.*]]: tensor<1x?xi64>)
// CHECK-NOT: onnx.RotaryEmbedding
// CHECK: %[[P:.*]]:3 = tessera.qkv_projection %[[X]], %{{.*}} rotary %[[COS:.*]], %[[SIN:.*]] positions %[[IDS]] {kv_heads = 1 : i64, num_heads = 2 : i64, rotary_results = array<i64: 0, 1>}
// CHECK-NOT: onnx.RotaryEmbedding
// CHECK: return %[[P]]#0, %[[P]]#1, %[[P]]#2
// REPORT: remark: fused rotary in tessera.qkv_projection
func.func @llama_qk(%x: tensor<?x?x8xf32>, %ids: tensor<1x?xi64>) -> (tensor<?x2x?x8xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x32xf32>} : tensor<8x32xf32>
  %p:3 = tessera.qkv_projection %x, %w {num_heads = 2 : i64, kv_heads = 1 : i64} : (tensor<?x?x8xf32>, tensor<8x32xf32>) -> (tensor<?x2x?x8xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>)
  %cq = onnx.Constant {value = dense<[[1.0, 0.5, 0.25, 0.125], [0.5, 0.25, 0.125, 1.0]]> : tensor<2x4xf32>} : tensor<2x4xf32>
  %sq = onnx.Constant {value = dense<[[0.0, 0.5, 0.75, 0.875], [0.5, 0.75, 0.875, 0.0]]> : tensor<2x4xf32>} : tensor<2x4xf32>
  %q = onnx.RotaryEmbedding %p#0, %cq, %sq, %ids : (tensor<?x2x?x8xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<1x?xi64>) -> tensor<?x2x?x8xf32>
  %ck = onnx.Constant {value = dense<[[1.0, 0.5, 0.25, 0.125], [0.5, 0.25, 0.125, 1.0]]> : tensor<2x4xf32>} : tensor<2x4xf32>
  %sk = onnx.Constant {value = dense<[[0.0, 0.5, 0.75, 0.875], [0.5, 0.75, 0.875, 0.0]]> : tensor<2x4xf32>} : tensor<2x4xf32>
  %k = onnx.RotaryEmbedding %p#1, %ck, %sk, %ids : (tensor<?x1x?x8xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<1x?xi64>) -> tensor<?x1x?x8xf32>
  return %q, %k, %p#2 : tensor<?x2x?x8xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>
}

// -----

// The same in float16 (the tables compared by value).
// CHECK-LABEL: func.func @llama_qk_f16
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x8xf16>, %[[IDS:.*]]: tensor<1x?xi64>)
// CHECK-NOT: onnx.RotaryEmbedding
// CHECK: %[[P:.*]]:3 = tessera.qkv_projection %[[X]], %{{.*}} rotary %[[COS:.*]], %[[SIN:.*]] positions %[[IDS]] {kv_heads = 1 : i64, num_heads = 2 : i64, rotary_results = array<i64: 0, 1>}
// CHECK-NOT: onnx.RotaryEmbedding
// CHECK: return %[[P]]#0, %[[P]]#1, %[[P]]#2
// REPORT: remark: fused rotary in tessera.qkv_projection
func.func @llama_qk_f16(%x: tensor<?x?x8xf16>, %ids: tensor<1x?xi64>) -> (tensor<?x2x?x8xf16>, tensor<?x1x?x8xf16>, tensor<?x1x?x8xf16>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<8x32xf16>} : tensor<8x32xf16>
  %p:3 = tessera.qkv_projection %x, %w {num_heads = 2 : i64, kv_heads = 1 : i64} : (tensor<?x?x8xf16>, tensor<8x32xf16>) -> (tensor<?x2x?x8xf16>, tensor<?x1x?x8xf16>, tensor<?x1x?x8xf16>)
  %cq = onnx.Constant {value = dense<[[1.0, 0.5, 0.25, 0.125], [0.5, 0.25, 0.125, 1.0]]> : tensor<2x4xf16>} : tensor<2x4xf16>
  %sq = onnx.Constant {value = dense<[[0.0, 0.5, 0.75, 0.875], [0.5, 0.75, 0.875, 0.0]]> : tensor<2x4xf16>} : tensor<2x4xf16>
  %q = onnx.RotaryEmbedding %p#0, %cq, %sq, %ids : (tensor<?x2x?x8xf16>, tensor<2x4xf16>, tensor<2x4xf16>, tensor<1x?xi64>) -> tensor<?x2x?x8xf16>
  %ck = onnx.Constant {value = dense<[[1.0, 0.5, 0.25, 0.125], [0.5, 0.25, 0.125, 1.0]]> : tensor<2x4xf16>} : tensor<2x4xf16>
  %sk = onnx.Constant {value = dense<[[0.0, 0.5, 0.75, 0.875], [0.5, 0.75, 0.875, 0.0]]> : tensor<2x4xf16>} : tensor<2x4xf16>
  %k = onnx.RotaryEmbedding %p#1, %ck, %sk, %ids : (tensor<?x1x?x8xf16>, tensor<2x4xf16>, tensor<2x4xf16>, tensor<1x?xi64>) -> tensor<?x1x?x8xf16>
  return %q, %k, %p#2 : tensor<?x2x?x8xf16>, tensor<?x1x?x8xf16>, tensor<?x1x?x8xf16>
}

// -----

// The interleaved layout over the first 4 features of each head: the
// attributes carry over.
// CHECK-LABEL: func.func @interleaved_partial
// CHECK: tessera.qkv_projection %{{.*}}, %{{.*}} rotary %{{.*}}, %{{.*}} positions %{{.*}} {num_heads = 2 : i64, rotary_dim = 4 : i64, rotary_interleaved = true, rotary_results = array<i64: 0, 1>}
// CHECK-NOT: onnx.RotaryEmbedding
func.func @interleaved_partial(%x: tensor<1x3x16xf32>, %ids: tensor<1x3xi64>) -> (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x48xf32>} : tensor<16x48xf32>
  %p:3 = tessera.qkv_projection %x, %w {num_heads = 2 : i64} : (tensor<1x3x16xf32>, tensor<16x48xf32>) -> (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>)
  %c = onnx.Constant {value = dense<0.5> : tensor<4x2xf32>} : tensor<4x2xf32>
  %s = onnx.Constant {value = dense<0.25> : tensor<4x2xf32>} : tensor<4x2xf32>
  %q = onnx.RotaryEmbedding %p#0, %c, %s, %ids {interleaved = 1 : si64, rotary_embedding_dim = 4 : si64} : (tensor<1x2x3x8xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<1x3xi64>) -> tensor<1x2x3x8xf32>
  %k = onnx.RotaryEmbedding %p#1, %c, %s, %ids {interleaved = 1 : si64, rotary_embedding_dim = 4 : si64} : (tensor<1x2x3x8xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<1x3xi64>) -> tensor<1x2x3x8xf32>
  return %q, %k, %p#2 : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>
}

// -----

// Near miss: K's sine table differs from Q's, so only Q's rotation is
// fused; K's stays, reported with the reason.
// CHECK-LABEL: func.func @different_tables
// CHECK: %[[P:.*]]:3 = tessera.qkv_projection {{.*}} rotary_results = array<i64: 0>
// CHECK: onnx.RotaryEmbedding %[[P]]#1
// REPORT: remark: fused rotary in tessera.qkv_projection
// REPORT: remark: not fused rotary in tessera.qkv_projection: its tables, position ids or layout differ from the other rotation's
func.func @different_tables(%x: tensor<1x3x16xf32>, %ids: tensor<1x3xi64>) -> (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x48xf32>} : tensor<16x48xf32>
  %p:3 = tessera.qkv_projection %x, %w {num_heads = 2 : i64} : (tensor<1x3x16xf32>, tensor<16x48xf32>) -> (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>)
  %c = onnx.Constant {value = dense<0.5> : tensor<4x4xf32>} : tensor<4x4xf32>
  %s = onnx.Constant {value = dense<0.25> : tensor<4x4xf32>} : tensor<4x4xf32>
  %s2 = onnx.Constant {value = dense<0.75> : tensor<4x4xf32>} : tensor<4x4xf32>
  %q = onnx.RotaryEmbedding %p#0, %c, %s, %ids : (tensor<1x2x3x8xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<1x3xi64>) -> tensor<1x2x3x8xf32>
  %k = onnx.RotaryEmbedding %p#1, %c, %s2, %ids : (tensor<1x2x3x8xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<1x3xi64>) -> tensor<1x2x3x8xf32>
  return %q, %k, %p#2 : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>
}

// -----

// Near miss: Q before its rotation is an output too, so the projection must
// still store it unrotated: nothing is fused.
// CHECK-LABEL: func.func @unrotated_q_used
// CHECK: tessera.qkv_projection %{{.*}}, %{{.*}} {num_heads = 2 : i64}
// CHECK: onnx.RotaryEmbedding
// REPORT: remark: not fused rotary in tessera.qkv_projection: the rotated result has other users
func.func @unrotated_q_used(%x: tensor<1x3x16xf32>, %ids: tensor<1x3xi64>) -> (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x48xf32>} : tensor<16x48xf32>
  %p:3 = tessera.qkv_projection %x, %w {num_heads = 2 : i64} : (tensor<1x3x16xf32>, tensor<16x48xf32>) -> (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>)
  %c = onnx.Constant {value = dense<0.5> : tensor<4x4xf32>} : tensor<4x4xf32>
  %s = onnx.Constant {value = dense<0.25> : tensor<4x4xf32>} : tensor<4x4xf32>
  %q = onnx.RotaryEmbedding %p#0, %c, %s, %ids : (tensor<1x2x3x8xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<1x3xi64>) -> tensor<1x2x3x8xf32>
  return %q, %p#0 : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>
}

// -----

// Near miss: without position ids the tables are [B, S, Dh / 2] rows, not
// a table read by position.
// CHECK-LABEL: func.func @no_position_ids
// CHECK: onnx.RotaryEmbedding
// REPORT: remark: not fused rotary in tessera.qkv_projection: the rotary does not read [P, rotary_dim / 2] tables by position ids
func.func @no_position_ids(%x: tensor<1x3x16xf32>, %c: tensor<1x3x4xf32>, %s: tensor<1x3x4xf32>) -> tensor<1x2x3x8xf32> {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x48xf32>} : tensor<16x48xf32>
  %p:3 = tessera.qkv_projection %x, %w {num_heads = 2 : i64} : (tensor<1x3x16xf32>, tensor<16x48xf32>) -> (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>)
  %q = onnx.RotaryEmbedding %p#0, %c, %s : (tensor<1x2x3x8xf32>, tensor<1x3x4xf32>, tensor<1x3x4xf32>) -> tensor<1x2x3x8xf32>
  return %q : tensor<1x2x3x8xf32>
}

// -----

// With pinned shapes the position ids fold to one constant per rotation:
// equal constants are the same ids.
// CHECK-LABEL: func.func @constant_ids
// CHECK: tessera.qkv_projection {{.*}} rotary_results = array<i64: 0, 1>
// CHECK-NOT: onnx.RotaryEmbedding
func.func @constant_ids(%x: tensor<1x3x16xf32>) -> (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x48xf32>} : tensor<16x48xf32>
  %p:3 = tessera.qkv_projection %x, %w {num_heads = 2 : i64} : (tensor<1x3x16xf32>, tensor<16x48xf32>) -> (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>)
  %c = onnx.Constant {value = dense<0.5> : tensor<4x4xf32>} : tensor<4x4xf32>
  %s = onnx.Constant {value = dense<0.25> : tensor<4x4xf32>} : tensor<4x4xf32>
  %ids = onnx.Constant {value = dense<[[0, 1, 2]]> : tensor<1x3xi64>} : tensor<1x3xi64>
  %q = onnx.RotaryEmbedding %p#0, %c, %s, %ids : (tensor<1x2x3x8xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<1x3xi64>) -> tensor<1x2x3x8xf32>
  %ids2 = onnx.Constant {value = dense<[[0, 1, 2]]> : tensor<1x3xi64>} : tensor<1x3xi64>
  %k = onnx.RotaryEmbedding %p#1, %c, %s, %ids2 : (tensor<1x2x3x8xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<1x3xi64>) -> tensor<1x2x3x8xf32>
  return %q, %k, %p#2 : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>
}
