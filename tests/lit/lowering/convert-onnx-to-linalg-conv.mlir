// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// A patch embedding (stride = kernel): the unfold reads x at o*8 + k, the
// weight becomes [F, C*kh*kw], and one [16, 192] x [192, 16] matmul per
// batch element writes y in [N, F, P] order; the bias follows along dim 1.
// CHECK-DAG: #[[UNFOLD:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 * 8 + d2, d5 * 8 + d3)>
// CHECK-DAG: #[[BIAS:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func.func @patch_embedding
// CHECK: %[[COLS:.*]] = linalg.generic {indexing_maps = [#[[UNFOLD]], {{.*}}]{{.*}} ins(%arg0 : tensor<1x3x32x32xf32>) outs(%{{.*}} : tensor<1x3x8x8x4x4xf32>)
// CHECK: %[[COL:.*]] = tensor.collapse_shape %[[COLS]] {{\[}}[0], [1, 2, 3], [4, 5]] : tensor<1x3x8x8x4x4xf32> into tensor<1x192x16xf32>
// CHECK: %[[W:.*]] = tensor.collapse_shape %arg1 {{\[}}[0], [1, 2, 3]] : tensor<16x3x8x8xf32> into tensor<16x192xf32>
// CHECK: scf.for
// CHECK: %[[SLICE:.*]] = tensor.extract_slice %[[COL]]
// CHECK: linalg.matmul ins(%[[W]], %[[SLICE]] : tensor<16x192xf32>, tensor<192x16xf32>)
// CHECK: tensor.expand_shape {{.*}} : tensor<1x16x16xf32> into tensor<1x16x4x4xf32>
// CHECK: linalg.generic {indexing_maps = [{{.*}}, #[[BIAS]], {{.*}}]
// CHECK-NOT: linalg.conv
func.func @patch_embedding(%x: tensor<1x3x32x32xf32>, %w: tensor<16x3x8x8xf32>, %b: tensor<16xf32>) -> tensor<1x16x4x4xf32> {
  %0 = onnx.Conv %x, %w, %b {kernel_shape = [8, 8], strides = [8, 8]} : (tensor<1x3x32x32xf32>, tensor<16x3x8x8xf32>, tensor<16xf32>) -> tensor<1x16x4x4xf32>
  return %0 : tensor<1x16x4x4xf32>
}

// -----

// Grouped, padded, dynamic batch: the padding is a zero fill with x inserted
// (not tensor.pad, whose LLVM 19 bufferization breaks with a dynamic batch);
// a loop over the batch, one over the 2 groups, each a [3, 18] x [18, 64]
// matmul of the group's weight rows and column rows.
// CHECK-LABEL: func.func @grouped
// CHECK-NOT: tensor.pad
// CHECK: %[[ZEROS:.*]] = linalg.fill {{.*}} -> tensor<?x4x10x10xf32>
// CHECK: tensor.insert_slice %arg0 into %[[ZEROS]][0, 0, 1, 1]
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %{{.*}}
// CHECK: scf.for %[[G:.*]] = %{{.*}} to %c2
// CHECK: %[[K:.*]] = arith.muli %[[G]], %c18
// CHECK: tensor.extract_slice %{{.*}}[%[[N]], %[[K]], 0] [1, 18, 64]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x18xf32>, tensor<18x64xf32>)
// CHECK: tensor.expand_shape {{.*}} output_shape [%{{.*}}, 6, 8, 8] : tensor<?x6x64xf32> into tensor<?x6x8x8xf32>
func.func @grouped(%x: tensor<?x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<?x6x8x8xf32> {
  %0 = onnx.Conv %x, %w {group = 2 : si64, pads = [1, 1, 1, 1]} : (tensor<?x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<?x6x8x8xf32>
  return %0 : tensor<?x6x8x8xf32>
}

// -----

// ConvTranspose as Conv: the input spread into a zero fill with extent - 1
// around it, the weight flipped in space with its channel axes swapped
// ([C, M, k] -> [M, C, k]), then Conv's unfold and matmul.
// CHECK-DAG: #[[FLIP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0 floordiv 2 + d1, d0 mod 2, -d2 + 2, -d3 + 2)>
// CHECK-LABEL: func.func @conv_transpose
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[0, 0, 2, 2] [1, 1, 3, 3] [1, 1, 1, 1] : tensor<1x1x3x3xf32> into tensor<1x1x7x7xf32>
// CHECK: %[[W:.*]] = linalg.generic {indexing_maps = [#[[FLIP]], {{.*}}]{{.*}} ins(%arg1 : tensor<1x2x3x3xf32>) outs(%{{.*}} : tensor<2x1x3x3xf32>)
// CHECK: %[[WF:.*]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1, 2, 3]] : tensor<2x1x3x3xf32> into tensor<2x9xf32>
// CHECK: linalg.matmul ins(%[[WF]], %{{.*}} : tensor<2x9xf32>, tensor<9x25xf32>)
func.func @conv_transpose(%x: tensor<1x1x3x3xf32>, %w: tensor<1x2x3x3xf32>) -> tensor<1x2x5x5xf32> {
  %0 = onnx.ConvTranspose %x, %w : (tensor<1x1x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<1x2x5x5xf32>
  return %0 : tensor<1x2x5x5xf32>
}
