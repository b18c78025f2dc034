// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// One pooling lowering for every combiner: the input padded with the
// combiner's identity up to the last window ceil_mode asks for (5 -> 6),
// then one generic over (n, c, out..., window...) reading x[out * s + k]
// with the window extents from an empty kernel-shaped operand.
// CHECK-DAG: #[[READ:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
// CHECK-DAG: #[[WINDOW:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
// CHECK-LABEL: func.func @max_pool_ceil
// CHECK: %[[LOWEST:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[FILL:.*]] = linalg.fill ins(%[[LOWEST]] : f32) {{.*}} -> tensor<?x3x6x6xf32>
// CHECK: %[[X:.*]] = tensor.insert_slice %arg0 into %[[FILL]][0, 0, 0, 0]
// CHECK: %[[K:.*]] = tensor.empty() : tensor<2x2xf32>
// CHECK: linalg.generic {indexing_maps = [#[[READ]], #[[WINDOW]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%[[X]], %[[K]] : tensor<?x3x6x6xf32>, tensor<2x2xf32>)
// CHECK: arith.maximumf
func.func @max_pool_ceil(%x: tensor<?x3x5x5xf32>) -> tensor<?x3x3x3xf32> {
  %0 = onnx.MaxPool %x {ceil_mode = 1 : si64, kernel_shape = [2, 2], strides = [2, 2]} : (tensor<?x3x5x5xf32>) -> tensor<?x3x3x3xf32>
  return %0 : tensor<?x3x3x3xf32>
}

// -----

// AveragePool without the padding in the counts: a sum pool over the
// zero-padded input divided by each window's count, a constant per output
// position (the windows at the border hold fewer elements).
// CHECK-DAG: #[[SPATIAL:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-LABEL: func.func @average_pool_pads
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[0, 0, 1, 1] [1, 2, 4, 4]
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x2x6x6xf32>, tensor<3x3xf32>)
// CHECK: arith.addf
// CHECK: %[[COUNTS:.*]] = arith.constant dense<{{\[\[}}{{.*}}]]> : tensor<4x4xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[SPATIAL]], #{{.*}}], {{.*}} ins(%[[SUM]], %[[COUNTS]] : tensor<1x2x4x4xf32>, tensor<4x4xf32>)
// CHECK: arith.divf
func.func @average_pool_pads(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %0 = onnx.AveragePool %x {kernel_shape = [3, 3], pads = [1, 1, 1, 1]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

// The global forms are one window the size of the input; equal counts are
// a splat.
// CHECK-LABEL: func.func @global_average
// CHECK-NOT: tensor.insert_slice
// CHECK: linalg.generic {{.*}} ins(%arg0, %{{.*}} : tensor<2x8x7x7xf32>, tensor<7x7xf32>) outs(%{{.*}} : tensor<2x8x1x1xf32>)
// CHECK: arith.constant dense<{{[0-9.e+]+}}> : tensor<1x1xf32>
// CHECK: arith.divf
func.func @global_average(%x: tensor<2x8x7x7xf32>) -> tensor<2x8x1x1xf32> {
  %0 = onnx.GlobalAveragePool %x : (tensor<2x8x7x7xf32>) -> tensor<2x8x1x1xf32>
  return %0 : tensor<2x8x1x1xf32>
}

// -----

// LpPool (p = 2): the sum of squares, then its square root.
// CHECK-LABEL: func.func @lp_pool
// CHECK: linalg.generic
// CHECK: %[[SQ:.*]] = arith.mulf %[[IN:.*]], %[[IN]] : f32
// CHECK: arith.addf %{{.*}}, %[[SQ]]
// CHECK: linalg.generic
// CHECK: math.sqrt
func.func @lp_pool(%x: tensor<1x2x6xf32>) -> tensor<1x2x3xf32> {
  %0 = onnx.LpPool %x {kernel_shape = [2], strides = [2]} : (tensor<1x2x6xf32>) -> tensor<1x2x3xf32>
  return %0 : tensor<1x2x3xf32>
}

// -----

// MaxPool with Indices (storage_order 1): one generic keeps each window's
// first strict maximum and its flat index into the unpadded X:
// (n * C + c) * H * W + h + w * H, with h = o * stride + k - pad.
// CHECK-LABEL: func.func @max_pool_indices
// CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<?x2x7x6xf32>, tensor<3x2xf32>) outs(%{{.*}}, %{{.*}} : tensor<?x2x3x3xf32>, tensor<?x2x3x3xi64>)
// CHECK:   ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32, %[[OUT:.*]]: f32, %[[IDX:.*]]: i64):
// CHECK:   arith.muli %{{.*}}, %c30
// CHECK:   %[[H:.*]] = arith.subi %{{.*}}, %c1
// CHECK:   arith.muli %[[H]], %c1
// CHECK:   arith.muli %{{.*}}, %c5
// CHECK:   %[[AT:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK:   %[[GT:.*]] = arith.cmpf ogt, %[[IN]], %[[OUT]]
// CHECK:   %[[V:.*]] = arith.select %[[GT]], %[[IN]], %[[OUT]]
// CHECK:   %[[I:.*]] = arith.select %[[GT]], %[[AT]], %[[IDX]]
// CHECK:   linalg.yield %[[V]], %[[I]]
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @max_pool_indices(%x: tensor<?x2x5x6xf32>) -> (tensor<?x2x3x3xf32>, tensor<?x2x3x3xi64>) {
  %y, %i = onnx.MaxPool %x {kernel_shape = [3, 2], pads = [1, 0, 1, 0], strides = [2, 2], storage_order = 1 : si64} : (tensor<?x2x5x6xf32>) -> (tensor<?x2x3x3xf32>, tensor<?x2x3x3xi64>)
  return %y, %i : tensor<?x2x3x3xf32>, tensor<?x2x3x3xi64>
}
