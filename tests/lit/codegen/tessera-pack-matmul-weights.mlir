// RUN: tessera-opt %s --split-input-file --tessera-pack-matmul-weights="tile-n=16" | FileCheck %s
// RUN: tessera-opt %s --split-input-file --tessera-pack-matmul-weights="tile-n=16 half-weights=false" | FileCheck %s --check-prefix=F32

// A constant [K=4, N=32] weight becomes 2 panels of 16 columns, packed at
// compile time into one [2 * 4, 16] constant; the matmul becomes a loop over
// the panels, each an [M, 4] x [4, 16] matmul of rows [4j, 4j + 4).
// The panels stay f32: f16 does not hold 331.1 (see @packed_f16).
// CHECK-LABEL: func.func @packed
// CHECK-DAG: %[[P:.*]] = arith.constant dense_resource<packed_weights> : tensor<8x16xf32>
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-NOT: tensor<4x32xf32>
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %[[C2]]
// CHECK: arith.muli %[[J]], %c4
// CHECK: tensor.extract_slice %[[P]][%{{.*}}, 0] [4, 16] [1, 1]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf32>, tensor<4x16xf32>)
// CHECK: tensor.insert_slice {{.*}} into {{.*}}[0, %{{.*}}] [8, 16] [1, 1]
// W[k][c] = 100k + c: after row 0 of panel 0 (0 to 15) comes its row 1
// (100.0 = 0x42C80000), not W[0][16] (16.0) as in the weight's own layout.
// CHECK: packed_weights: "0x04000000000000000000803F0000004000004040000080400000A0400000C0400000E04000000041000010410000204100003041000040410000504100006041000070410000C842
func.func @packed(%a: tensor<8x4xf32>) -> tensor<8x32xf32> {
  %w = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0],
    [100.0, 101.0, 102.0, 103.0, 104.0, 105.0, 106.0, 107.0, 108.0, 109.0, 110.0, 111.0, 112.0, 113.0, 114.0, 115.0, 116.0, 117.0, 118.0, 119.0, 120.0, 121.0, 122.0, 123.0, 124.0, 125.0, 126.0, 127.0, 128.0, 129.0, 130.0, 131.0],
    [200.0, 201.0, 202.0, 203.0, 204.0, 205.0, 206.0, 207.0, 208.0, 209.0, 210.0, 211.0, 212.0, 213.0, 214.0, 215.0, 216.0, 217.0, 218.0, 219.0, 220.0, 221.0, 222.0, 223.0, 224.0, 225.0, 226.0, 227.0, 228.0, 229.0, 230.0, 231.0],
    [300.0, 301.0, 302.0, 303.0, 304.0, 305.0, 306.0, 307.0, 308.0, 309.0, 310.0, 311.0, 312.0, 313.0, 314.0, 315.0, 316.0, 317.0, 318.0, 319.0, 320.0, 321.0, 322.0, 323.0, 324.0, 325.0, 326.0, 327.0, 328.0, 329.0, 330.0, 331.1]]> : tensor<4x32xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %m = linalg.matmul ins(%a, %w : tensor<8x4xf32>, tensor<4x32xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %m : tensor<8x32xf32>
}

// -----

// With a bias + relu epilogue: it moves into the panel loop, applied to
// the panel's product with the panel's 16 bias values, and is marked for
// tessera-vectorize-matmul to fuse into the register tiles.
// CHECK-LABEL: func.func @epilogue
// CHECK: scf.for
// CHECK: %[[MM:.*]] = linalg.matmul
// CHECK: %[[B:.*]] = tensor.extract_slice %{{.*}}[%{{.*}}] [16] [1]
// CHECK: linalg.generic {{.*}} ins(%[[MM]], %[[B]] : tensor<8x16xf32>, tensor<16xf32>) {{.*}} attrs = {tessera.epilogue}
// CHECK: arith.maximumf
// CHECK: } -> tensor<8x16xf32>
// CHECK-NOT: linalg.generic
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @epilogue(%a: tensor<8x4xf32>, %bias: tensor<32xf32>) -> tensor<8x32xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0]]> : tensor<4x32xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %m = linalg.matmul ins(%a, %w : tensor<8x4xf32>, tensor<4x32xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  %r = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %bias : tensor<8x32xf32>, tensor<32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %y = arith.maximumf %s, %z : f32
    linalg.yield %y : f32
  } -> tensor<8x32xf32>
  return %r : tensor<8x32xf32>
}

// -----

// A residual sum as the epilogue (what tessera.add_layer_norm after a matmul
// lowers to): the [M, N] residual is read through the identity, so each panel
// gets its [8, 16] columns of it, beside the bias's 16 values.
// CHECK-LABEL: func.func @residual_epilogue
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %c2
// CHECK: %[[COL:.*]] = arith.muli %[[J]], %c16
// CHECK: %[[MM:.*]] = linalg.matmul
// CHECK: %[[B:.*]] = tensor.extract_slice %arg1[%[[COL]]] [16] [1]
// CHECK: %[[R:.*]] = tensor.extract_slice %arg2[0, %[[COL]]] [8, 16] [1, 1]
// CHECK: linalg.generic {{.*}} ins(%[[MM]], %[[B]], %[[R]] : tensor<8x16xf32>, tensor<16xf32>, tensor<8x16xf32>) {{.*}} attrs = {tessera.epilogue}
// CHECK-NOT: linalg.generic
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @residual_epilogue(%a: tensor<8x4xf32>, %bias: tensor<32xf32>, %res: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0]]> : tensor<4x32xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %m = linalg.matmul ins(%a, %w : tensor<8x4xf32>, tensor<4x32xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  %r = linalg.generic {indexing_maps = [#id, #row, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %bias, %res : tensor<8x32xf32>, tensor<32xf32>, tensor<8x32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%x: f32, %b: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %t = arith.addf %s, %y : f32
    linalg.yield %t : f32
  } -> tensor<8x32xf32>
  return %r : tensor<8x32xf32>
}

// -----

// Negative: a weight that is not a constant is not packed.
// CHECK-LABEL: func.func @not_constant
// CHECK-NOT: scf.for
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf32>, tensor<4x32xf32>)
func.func @not_constant(%a: tensor<8x4xf32>, %w: tensor<4x32xf32>) -> tensor<8x32xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %m = linalg.matmul ins(%a, %w : tensor<8x4xf32>, tensor<4x32xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %m : tensor<8x32xf32>
}

// -----

// Negative: N = 20 is not a multiple of the panel width (16). The weight
// stays as it is, but in f16, which holds its values exactly.
// CHECK-LABEL: func.func @not_multiple
// CHECK-NOT: packed_weights
// CHECK: %[[W:.*]] = arith.constant dense_resource<narrow_weights> : tensor<2x20xf16>
// CHECK-NOT: packed_weights
// CHECK: linalg.matmul ins(%{{.*}}, %[[W]] : tensor<8x2xf32>, tensor<2x20xf16>)
func.func @not_multiple(%a: tensor<8x2xf32>) -> tensor<8x20xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0]]> : tensor<2x20xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x20xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x20xf32>) -> tensor<8x20xf32>
  %m = linalg.matmul ins(%a, %w : tensor<8x2xf32>, tensor<2x20xf32>) outs(%c : tensor<8x20xf32>) -> tensor<8x20xf32>
  return %m : tensor<8x20xf32>
}

// -----

// Weights that f16 holds exactly (a float16 model's, widened to f32 when it
// was lowered; here integers, an f16 subnormal 2^-20, f16's lowest -65504
// and 0.5) are packed in f16: half the bytes in the library. The panel
// matmul reads them as f16 and widens them to f32 as it multiplies.
// Without half-weights (a target without F16C), they stay f32 (bf16 does
// not hold 301).
// CHECK-LABEL: func.func @packed_f16
// F32-LABEL: func.func @packed_f16
// F32: arith.constant dense_resource<packed_weights{{.*}}> : tensor<8x16xf32>
// F32: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf32>, tensor<4x16xf32>)
// CHECK: %[[P:.*]] = arith.constant dense_resource<packed_weights{{.*}}> : tensor<8x16xf16>
// CHECK: scf.for
// CHECK: %[[PANEL:.*]] = tensor.extract_slice %[[P]][%{{.*}}, 0] [4, 16] [1, 1] : tensor<8x16xf16> to tensor<4x16xf16>
// CHECK: linalg.matmul ins(%{{.*}}, %[[PANEL]] : tensor<8x4xf32>, tensor<4x16xf16>) outs(%{{.*}} : tensor<8x16xf32>)
// CHECK: packed_weights{{.*}}: "0x0200000000001000FFFB003800440045004600470048804800498049004A804A004B804B4056
func.func @packed_f16(%a: tensor<8x4xf32>) -> tensor<8x32xf32> {
  %w = arith.constant dense<[[0.0, 9.5367431640625e-07, -65504.0, 0.5, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0], [100.0, 101.0, 102.0, 103.0, 104.0, 105.0, 106.0, 107.0, 108.0, 109.0, 110.0, 111.0, 112.0, 113.0, 114.0, 115.0, 116.0, 117.0, 118.0, 119.0, 120.0, 121.0, 122.0, 123.0, 124.0, 125.0, 126.0, 127.0, 128.0, 129.0, 130.0, 131.0], [200.0, 201.0, 202.0, 203.0, 204.0, 205.0, 206.0, 207.0, 208.0, 209.0, 210.0, 211.0, 212.0, 213.0, 214.0, 215.0, 216.0, 217.0, 218.0, 219.0, 220.0, 221.0, 222.0, 223.0, 224.0, 225.0, 226.0, 227.0, 228.0, 229.0, 230.0, 231.0], [300.0, 301.0, 302.0, 303.0, 304.0, 305.0, 306.0, 307.0, 308.0, 309.0, 310.0, 311.0, 312.0, 313.0, 314.0, 315.0, 316.0, 317.0, 318.0, 319.0, 320.0, 321.0, 322.0, 323.0, 324.0, 325.0, 326.0, 327.0, 328.0, 329.0, 330.0, 331.0]]> : tensor<4x32xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %m = linalg.matmul ins(%a, %w : tensor<8x4xf32>, tensor<4x32xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %m : tensor<8x32xf32>
}

// -----

// An unpacked weight (N = 20: no whole panels) that two matmuls share gets
// one f16 constant.
// CHECK-LABEL: func.func @shared_unpacked
// CHECK: %[[W:.*]] = arith.constant dense_resource<narrow_weights> : tensor<2x20xf16>
// CHECK-NOT: narrow_weights
// CHECK: linalg.matmul ins(%{{.*}}, %[[W]] : tensor<8x2xf32>, tensor<2x20xf16>)
// CHECK: linalg.matmul ins(%{{.*}}, %[[W]] : tensor<8x2xf32>, tensor<2x20xf16>)
func.func @shared_unpacked(%a: tensor<8x2xf32>, %b: tensor<8x2xf32>) -> (tensor<8x20xf32>, tensor<8x20xf32>) {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0]]> : tensor<2x20xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x20xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x20xf32>) -> tensor<8x20xf32>
  %m = linalg.matmul ins(%a, %w : tensor<8x2xf32>, tensor<2x20xf32>) outs(%c : tensor<8x20xf32>) -> tensor<8x20xf32>
  %n = linalg.matmul ins(%b, %w : tensor<8x2xf32>, tensor<2x20xf32>) outs(%c : tensor<8x20xf32>) -> tensor<8x20xf32>
  return %m, %n : tensor<8x20xf32>, tensor<8x20xf32>
}

// -----

// Weights that bf16 holds exactly but f16 does not (2^-30 is below f16's
// range): packed in bf16, widened as they are read (by a shift).
// CHECK-LABEL: func.func @packed_bf16
// CHECK: %[[P:.*]] = arith.constant dense_resource<packed_weights{{.*}}> : tensor<8x16xbf16>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf32>, tensor<4x16xbf16>)
func.func @packed_bf16(%a: tensor<8x4xf32>) -> tensor<8x32xf32> {
  %w = arith.constant dense<[[9.3132257461547852e-10, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0], [64.0, 65.0, 66.0, 67.0, 68.0, 69.0, 70.0, 71.0, 72.0, 73.0, 74.0, 75.0, 76.0, 77.0, 78.0, 79.0, 80.0, 81.0, 82.0, 83.0, 84.0, 85.0, 86.0, 87.0, 88.0, 89.0, 90.0, 91.0, 92.0, 93.0, 94.0, 95.0], [128.0, 129.0, 130.0, 131.0, 132.0, 133.0, 134.0, 135.0, 136.0, 137.0, 138.0, 139.0, 140.0, 141.0, 142.0, 143.0, 144.0, 145.0, 146.0, 147.0, 148.0, 149.0, 150.0, 151.0, 152.0, 153.0, 154.0, 155.0, 156.0, 157.0, 158.0, 159.0], [192.0, 193.0, 194.0, 195.0, 196.0, 197.0, 198.0, 199.0, 200.0, 201.0, 202.0, 203.0, 204.0, 205.0, 206.0, 207.0, 208.0, 209.0, 210.0, 211.0, 212.0, 213.0, 214.0, 215.0, 216.0, 217.0, 218.0, 219.0, 220.0, 221.0, 222.0, 223.0]]> : tensor<4x32xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %m = linalg.matmul ins(%a, %w : tensor<8x4xf32>, tensor<4x32xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %m : tensor<8x32xf32>
}
