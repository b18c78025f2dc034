// RUN: tessera-opt %s --split-input-file --tessera-cpu-codegen="mcpu=x86-64-v3" | FileCheck %s --check-prefix=AVX2
// RUN: tessera-opt %s --split-input-file --tessera-cpu-codegen="mcpu=skylake-avx512" | FileCheck %s --check-prefix=AVX512
// RUN: tessera-opt %s --split-input-file --tessera-cpu-codegen="mcpu=x86-64" | FileCheck %s --check-prefix=NOF16C
// RUN: tessera-opt %s --split-input-file --tessera-cpu-codegen="mcpu=skylake-avx512 matmul-tile=4x8" | FileCheck %s --check-prefix=TILE
// RUN: tessera-opt %s --split-input-file --tessera-cpu-codegen="mcpu=skylake-avx512 matmul-tile=4x8x16" | FileCheck %s --check-prefix=KBLOCK
// RUN: not tessera-opt %s --split-input-file --tessera-cpu-codegen="mcpu=no-such-cpu" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not tessera-opt %s --split-input-file --tessera-cpu-codegen="matmul-tile=4y8" 2>&1 | FileCheck %s --check-prefix=BADTILE

// The CPU schedules as one pipeline, every parameter from the target
// description of mcpu: AVX2 gets 6x16 register tiles and 8-wide elementwise
// vectors, AVX-512 6x64 tiles and 16-wide vectors; matmul-tile overrides the
// register tile only, and its third size (MxNxK) blocks K, which no target
// does by default (measured slower on Zen 5). The output dims function is built on the way.
// AVX2-LABEL: func.func @graph
// AVX2: vector<6x16xf32>
// AVX2: math.erf {{.*}} : vector<8xf32>
// AVX2-NOT: linalg.matmul
// AVX2-LABEL: func.func private @graph_output_dims
// AVX512-LABEL: func.func @graph
// AVX512: vector<6x64xf32>
// AVX512: math.erf {{.*}} : vector<16xf32>
// AVX512-NOT: linalg.matmul
// TILE-LABEL: func.func @graph
// TILE: vector<4x8xf32>
// TILE: math.erf {{.*}} : vector<16xf32>
// K = 64 in blocks of 16: the k loop runs to 16, inside a loop over blocks.
// KBLOCK-LABEL: func.func @graph
// KBLOCK: scf.for {{.*}} = %c0 to %c64 step %c16
// KBLOCK: scf.for {{.*}} = %c0 to %c16 step %c4 {{.*}} -> (vector<4x8xf32>)
// UNKNOWN: unknown CPU 'no-such-cpu' for --mcpu
// BADTILE: '4y8': expected MxN or MxNxK, e.g. 4x24 or 8x32x256
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @graph(%a: tensor<32x64xf32>, %b: tensor<64x64xf32>) -> tensor<32x64xf32> attributes {tessera.entry} {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32x64xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<32x64xf32>) -> tensor<32x64xf32>
  %m = linalg.matmul ins(%a, %b : tensor<32x64xf32>, tensor<64x64xf32>) outs(%c : tensor<32x64xf32>) -> tensor<32x64xf32>
  %g = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%m : tensor<32x64xf32>) outs(%e : tensor<32x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = math.erf %x : f32
    linalg.yield %y : f32
  } -> tensor<32x64xf32>
  return %g : tensor<32x64xf32>
}

// -----

// Weights that f16 holds exactly are packed in f16 where the target converts
// f16 in hardware (F16C: AVX2 and AVX-512 CPUs), in the target's panel
// width, and widened as each row is read; without F16C (x86-64) in bf16,
// which holds them too.
// AVX2-LABEL: func.func @half_weights
// AVX2: dense_resource<packed_weights> : tensor<32x16xf16>
// AVX2: arith.extf %{{.*}} : vector<16xf16> to vector<16xf32>
// AVX512-LABEL: func.func @half_weights
// AVX512: dense_resource<packed_weights> : tensor<8x64xf16>
// AVX512: arith.extf %{{.*}} : vector<64xf16> to vector<64xf32>
// NOF16C-LABEL: func.func @half_weights
// NOF16C-NOT: xf16>
// NOF16C: dense_resource<packed_weights> : tensor<64x8xbf16>
func.func @half_weights(%a: tensor<32x4xf32>) -> tensor<32x128xf32> attributes {tessera.entry} {
  %w = arith.constant dense<[[0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5], [2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5], [4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5], [6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 0.5]]> : tensor<4x128xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32x128xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<32x128xf32>) -> tensor<32x128xf32>
  %m = linalg.matmul ins(%a, %w : tensor<32x4xf32>, tensor<4x128xf32>) outs(%c : tensor<32x128xf32>) -> tensor<32x128xf32>
  return %m : tensor<32x128xf32>
}
