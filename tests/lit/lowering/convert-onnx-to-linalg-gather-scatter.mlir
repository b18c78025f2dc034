// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// GatherElements: a generic over indices' shape reading data at the index
// (counted from the end when negative, clamped into the axis) along axis 0
// and the loop index elsewhere.
// CHECK-LABEL: func.func @gather_elements
// CHECK: linalg.generic {{.*}} ins(%arg1 : tensor<2x4xi64>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: %[[J:.*]] = linalg.index 1 : index
// CHECK: %[[I:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: arith.select
// CHECK: arith.maxsi
// CHECK: %[[CLAMPED:.*]] = arith.minsi
// CHECK: tensor.extract %arg0[%[[CLAMPED]], %[[J]]] : tensor<3x4xf32>
func.func @gather_elements(%d: tensor<3x4xf32>, %i: tensor<2x4xi64>) -> tensor<2x4xf32> {
  %0 = onnx.GatherElements %d, %i {axis = 0 : si64} : (tensor<3x4xf32>, tensor<2x4xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// GatherND: each result row reads its index pair from indices, then the
// trailing data dim from the loop.
// CHECK-LABEL: func.func @gather_nd
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<5x4xf32>)
// CHECK: %[[ROW:.*]] = linalg.index 0 : index
// CHECK: %[[COL:.*]] = linalg.index 1 : index
// CHECK: tensor.extract %arg1[%[[ROW]], %{{.*}}] : tensor<5x2xi64>
// CHECK: %[[A:.*]] = arith.minsi
// CHECK: tensor.extract %arg1[%[[ROW]], %{{.*}}] : tensor<5x2xi64>
// CHECK: %[[B:.*]] = arith.minsi
// CHECK: tensor.extract %arg0[%[[A]], %[[B]], %[[COL]]] : tensor<2x3x4xf32>
func.func @gather_nd(%d: tensor<2x3x4xf32>, %i: tensor<5x2xi64>) -> tensor<5x4xf32> {
  %0 = onnx.GatherND %d, %i : (tensor<2x3x4xf32>, tensor<5x2xi64>) -> tensor<5x4xf32>
  return %0 : tensor<5x4xf32>
}

// -----

// Scatters visit the updates in order in one loop nest that starts from
// data, so repeated indices combine by `reduction`.
// CHECK-LABEL: func.func @scatter_elements_add
// CHECK: scf.for %[[I:.*]] = {{.*}} iter_args(%{{.*}} = %arg0) -> (tensor<3x4xf32>)
// CHECK: scf.for %[[J:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<3x4xf32>)
// CHECK: %[[U:.*]] = tensor.extract %arg2[%[[I]], %[[J]]]
// CHECK: tensor.extract %arg1[%[[I]], %[[J]]]
// CHECK: %[[AT:.*]] = arith.minsi
// CHECK: %[[OLD:.*]] = tensor.extract %[[ACC]][%[[I]], %[[AT]]]
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[U]]
// CHECK: tensor.insert %[[NEW]] into %[[ACC]][%[[I]], %[[AT]]]
func.func @scatter_elements_add(%d: tensor<3x4xf32>, %i: tensor<2x4xi64>, %u: tensor<2x4xf32>) -> tensor<3x4xf32> {
  %0 = onnx.ScatterElements %d, %i, %u {axis = 1 : si64, reduction = "add"} : (tensor<3x4xf32>, tensor<2x4xi64>, tensor<2x4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// ScatterND writes whole rows: the row from indices, the column from the
// update's own index.
// CHECK-LABEL: func.func @scatter_nd
// CHECK: scf.for %[[I:.*]] = {{.*}} iter_args(%{{.*}} = %arg0)
// CHECK: scf.for %[[J:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %{{.*}})
// CHECK: %[[U:.*]] = tensor.extract %arg2[%[[I]], %[[J]]]
// CHECK: tensor.extract %arg1[%[[I]], %{{.*}}] : tensor<2x1xi64>
// CHECK: %[[ROW:.*]] = arith.minsi
// CHECK: tensor.insert %[[U]] into %[[ACC]][%[[ROW]], %[[J]]]
func.func @scatter_nd(%d: tensor<4x4xf32>, %i: tensor<2x1xi64>, %u: tensor<2x4xf32>) -> tensor<4x4xf32> {
  %0 = onnx.ScatterND %d, %i, %u : (tensor<4x4xf32>, tensor<2x1xi64>, tensor<2x4xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

// MaxUnpool: zeros of the unpooled shape [1, 1, (2 - 1) * 2 + 2, ...], and a
// scatter loop nest over X that writes each element at its flat index,
// clamped into the 16 elements and split row-major into (n, c, h, w). The
// static unpooled sizes were checked at import: no run-time check.
// CHECK-LABEL: func.func @max_unpool
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x2x2xf32>, %[[I:.*]]: tensor<1x1x2x2xi64>)
// CHECK: %[[Z:.*]] = linalg.fill {{.*}} outs(%{{.*}} : tensor<1x1x4x4xf32>)
// CHECK-NOT: cf.assert
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[Z]])
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for {{.*}} iter_args(%[[ACC:.*]] = %{{.*}})
// CHECK:   %[[V:.*]] = tensor.extract %[[X]]
// CHECK:   %[[F:.*]] = tensor.extract %[[I]]
// CHECK:   arith.index_cast %[[F]]
// CHECK:   %[[C:.*]] = arith.minsi %{{.*}}, %{{.*}} : index
// CHECK:   %[[W:.*]] = arith.remui %[[C]], %c4
// CHECK:   %[[R:.*]] = arith.divui %[[C]], %c4
// CHECK:   %[[H:.*]] = arith.remui %[[R]], %c4
// CHECK:   tensor.insert %[[V]] into %[[ACC]][%{{.*}}, %{{.*}}, %[[H]], %[[W]]]
func.func @max_unpool(%x: tensor<1x1x2x2xf32>, %i: tensor<1x1x2x2xi64>) -> tensor<1x1x4x4xf32> {
  %y = onnx.MaxUnpool %x, %i {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

// MaxUnpool over dynamic spatial dims: each unpooled size, (in - 1) * 2 -
// 2 + 2, is checked at run time to be positive.
// CHECK-LABEL: func.func @max_unpool_dynamic
// CHECK: %[[H:.*]] = tensor.dim %{{.*}}, %c2
// CHECK: cf.assert %{{.*}}, "node '?': MaxUnpool's unpooled size is not positive"
// CHECK: cf.assert %{{.*}}, "node '?': MaxUnpool's unpooled size is not positive"
// CHECK: scf.for
func.func @max_unpool_dynamic(%x: tensor<1x1x?x?xf32>, %i: tensor<1x1x?x?xi64>) -> tensor<1x1x?x?xf32> {
  %y = onnx.MaxUnpool %x, %i {kernel_shape = [2, 2], pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x1x?x?xf32>, tensor<1x1x?x?xi64>) -> tensor<1x1x?x?xf32>
  return %y : tensor<1x1x?x?xf32>
}
