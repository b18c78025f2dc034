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

// -----

// ConvInteger: x and w widened to i32 minus their zero points (uint8 x
// zero-extended, w's per output channel), then Conv's unfold and one i32
// matmul per batch element: exact integer sums.
// CHECK-LABEL: func.func @conv_integer
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x4x4xi8>, %[[W:.*]]: tensor<3x2x2x2xi8>, %[[XZ:.*]]: tensor<i8>, %[[WZ:.*]]: tensor<3xi8>)
// CHECK: %[[WX:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[XZ]] : tensor<1x2x4x4xi8>, tensor<i8>) outs(%{{.*}} : tensor<1x2x4x4xi32>)
// CHECK:   arith.extui
// CHECK:   arith.subi
// CHECK: %[[WW:.*]] = linalg.generic {{.*}} ins(%[[W]], %[[WZ]] : tensor<3x2x2x2xi8>, tensor<3xi8>) outs(%{{.*}} : tensor<3x2x2x2xi32>)
// CHECK:   arith.extsi
// CHECK: %[[COLS:.*]] = linalg.generic {{.*}} ins(%[[WX]] : tensor<1x2x4x4xi32>) outs(%{{.*}} : tensor<1x2x2x2x3x3xi32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x8xi32>, tensor<8x9xi32>) outs(%{{.*}} : tensor<3x9xi32>)
// CHECK: tensor.expand_shape {{.*}} into tensor<1x3x3x3xi32>
func.func @conv_integer(%x: tensor<1x2x4x4xui8>, %w: tensor<3x2x2x2xi8>, %xz: tensor<ui8>, %wz: tensor<3xi8>) -> tensor<1x3x3x3xi32> {
  %y = onnx.ConvInteger %x, %w, %xz, %wz {operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<1x2x4x4xui8>, tensor<3x2x2x2xi8>, tensor<ui8>, tensor<3xi8>) -> tensor<1x3x3x3xi32>
  return %y : tensor<1x3x3x3xi32>
}

// -----

// QLinearConv: ConvInteger (grouped here), plus the int32 bias per output
// channel, requantized with one multiplier per channel, x_scale * w_scale[c]
// / y_scale, rounded half to even and saturated.
// CHECK-LABEL: func.func @qlinear_conv
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x5x5xi8>, %[[XS:.*]]: tensor<f32>, %[[XZ:.*]]: tensor<i8>, %[[W:.*]]: tensor<6x2x3x3xi8>, %[[WS:.*]]: tensor<6xf32>, %[[WZ:.*]]: tensor<6xi8>, %[[YS:.*]]: tensor<f32>, %[[YZ:.*]]: tensor<i8>, %[[B:.*]]: tensor<6xi32>)
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x18xi32>, tensor<18x9xi32>)
// CHECK: %[[ACC:.*]] = tensor.expand_shape
// CHECK: %[[BIASED:.*]] = linalg.generic {{.*}} ins(%[[ACC]], %[[B]] : tensor<1x6x3x3xi32>, tensor<6xi32>)
// CHECK:   arith.addi
// CHECK: %[[SX:.*]] = tensor.extract %[[XS]][]
// CHECK: %[[SY:.*]] = tensor.extract %[[YS]][]
// CHECK: linalg.generic {{.*}} ins(%[[BIASED]], %[[WS]] : tensor<1x6x3x3xi32>, tensor<6xf32>) outs(%{{.*}} : tensor<1x6x3x3xi8>)
// CHECK:   ^bb0(%{{.*}}: i32, %[[SW:.*]]: f32,
// CHECK:   %[[XW:.*]] = arith.mulf %[[SX]], %[[SW]]
// CHECK:   arith.divf %[[XW]], %[[SY]]
// CHECK:   math.roundeven
// CHECK:   arith.fptoui
func.func @qlinear_conv(%x: tensor<1x4x5x5xui8>, %xs: tensor<f32>, %xz: tensor<ui8>, %w: tensor<6x2x3x3xi8>, %ws: tensor<6xf32>, %wz: tensor<6xi8>, %ys: tensor<f32>, %yz: tensor<ui8>, %b: tensor<6xi32>) -> tensor<1x6x3x3xui8> {
  %y = onnx.QLinearConv %x, %xs, %xz, %w, %ws, %wz, %ys, %yz, %b {group = 2 : si64} : (tensor<1x4x5x5xui8>, tensor<f32>, tensor<ui8>, tensor<6x2x3x3xi8>, tensor<6xf32>, tensor<6xi8>, tensor<f32>, tensor<ui8>, tensor<6xi32>) -> tensor<1x6x3x3xui8>
  return %y : tensor<1x6x3x3xui8>
}
