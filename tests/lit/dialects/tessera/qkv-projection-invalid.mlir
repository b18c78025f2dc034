// RUN: tessera-opt %s --split-input-file -verify-diagnostics

func.func @one_result(%x: tensor<2x3x8xf32>, %w: tensor<8x8xf32>) -> tensor<2x2x3x4xf32> {
  // expected-error @below {{expects 3 results (Q, K, V) or 2 (K, V), got 1}}
  %r = tessera.qkv_projection %x, %w {num_heads = 2 : i64} : (tensor<2x3x8xf32>, tensor<8x8xf32>) -> tensor<2x2x3x4xf32>
  return %r : tensor<2x2x3x4xf32>
}

// -----

func.func @heads_do_not_divide(%x: tensor<2x3x8xf32>, %w: tensor<8x24xf32>) {
  // expected-error @below {{W's columns (24) must split into 3 x 5 heads}}
  %r:3 = tessera.qkv_projection %x, %w {num_heads = 5 : i64} : (tensor<2x3x8xf32>, tensor<8x24xf32>) -> (tensor<2x5x3x1xf32>, tensor<2x5x3x1xf32>, tensor<2x5x3x1xf32>)
  return
}

// -----

func.func @bad_bias(%x: tensor<2x3x8xf32>, %w: tensor<8x24xf32>, %b: tensor<8xf32>) {
  // expected-error @below {{bias must be a vector of 24 elements, got 'tensor<8xf32>'}}
  %r:3 = tessera.qkv_projection %x, %w bias %b {num_heads = 2 : i64} : (tensor<2x3x8xf32>, tensor<8x24xf32>, tensor<8xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>)
  return
}

// -----

func.func @weight_element_type(%x: tensor<2x3x8xf32>, %w: tensor<8x24xf16>) {
  // expected-error @below {{W's element type must be X's ('f32'), got 'f16'}}
  %r:3 = tessera.qkv_projection %x, %w {num_heads = 2 : i64} : (tensor<2x3x8xf32>, tensor<8x24xf16>) -> (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>)
  return
}

// -----

// Batch-first: results are [B, H, S, Dh] with B = X's dim 0.
func.func @batch_first_layout(%x: tensor<5x2x8xf32>, %w: tensor<8x16xf32>) {
  // expected-error @below {{results must be [B, H, S, Dh] = [5, 2, 2, 4], got 'tensor<2x2x5x4xf32>'}}
  %r:2 = tessera.qkv_projection %x, %w {num_heads = 2 : i64} : (tensor<5x2x8xf32>, tensor<8x16xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>)
  return
}

// -----

// Seq-first: X is [S, B, E] and results still [B, H, S, Dh].
func.func @seq_first_layout(%x: tensor<5x2x8xf32>, %w: tensor<8x16xf32>) {
  // expected-error @below {{results must be [B, H, S, Dh] = [2, 2, 5, 4], got 'tensor<5x2x2x4xf32>'}}
  %r:2 = tessera.qkv_projection %x, %w {num_heads = 2 : i64, seq_first = true} : (tensor<5x2x8xf32>, tensor<8x16xf32>) -> (tensor<5x2x2x4xf32>, tensor<5x2x2x4xf32>)
  return
}

// -----

func.func @wrong_e(%x: tensor<2x3x8xf32>, %w: tensor<6x24xf32>) {
  // expected-error @below {{W must be [E, n * H * Dh] with E = 8, got 'tensor<6x24xf32>'}}
  %r:3 = tessera.qkv_projection %x, %w {num_heads = 2 : i64} : (tensor<2x3x8xf32>, tensor<6x24xf32>) -> (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>)
  return
}
