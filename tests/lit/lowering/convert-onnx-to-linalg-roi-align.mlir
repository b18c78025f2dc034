// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// RoiAlign, avg, half_pixel, adaptive grid: one generic over Y (regions and
// the batch dynamic); each element clamps its image index, sizes its grid
// ceil(roi / bins) (capped at 1024), loops over the samples (rows, then
// columns), weights the four neighbours of each sample inside [-1, size]
// and divides the sum by the grid's size.
// CHECK-LABEL: func.func @roi_align
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x12x12xf32>, %[[ROIS:.*]]: tensor<?x4xf32>, %[[IDX:.*]]: tensor<?xi64>)
// CHECK: cf.assert {{.*}}"node '?': the image is empty"
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x3x2x2xf32>)
// CHECK:   %[[R:.*]] = linalg.index 0
// CHECK:   tensor.extract %[[IDX]][%[[R]]]
// CHECK:   arith.constant 5.000000e-01
// CHECK:   %[[BIN:.*]] = arith.divf
// CHECK:   math.ceil %[[BIN]]
// CHECK:   arith.minimumf %{{.*}}, %[[CAP:.*]] : f32
// CHECK:   %[[SUM:.*]] = scf.for {{.*}} -> (f32)
// CHECK:     arith.cmpf oge, %{{.*}}, %{{.*}} : f32
// CHECK:     scf.for {{.*}} -> (f32)
// CHECK:       tensor.extract %[[X]]
// CHECK:       tensor.extract %[[X]]
// CHECK:       tensor.extract %[[X]]
// CHECK:       tensor.extract %[[X]]
// CHECK:       arith.addf
// CHECK:   arith.divf %[[SUM]]
func.func @roi_align(%x: tensor<?x3x12x12xf32>, %rois: tensor<?x4xf32>, %idx: tensor<?xi64>) -> tensor<?x3x2x2xf32> {
  %y = onnx.RoiAlign %x, %rois, %idx {output_height = 2 : si64, output_width = 2 : si64} : (tensor<?x3x12x12xf32>, tensor<?x4xf32>, tensor<?xi64>) -> tensor<?x3x2x2xf32>
  return %y : tensor<?x3x2x2xf32>
}

// -----

// max with output_half_pixel and a fixed grid: no half-pixel shift, regions
// at least 1x1, the largest weighted neighbour of any sample, no division.
// CHECK-LABEL: func.func @roi_align_max
// CHECK-NOT: math.ceil
// CHECK: linalg.generic
// CHECK:   arith.maximumf %{{.*}}, %cst
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:       arith.maximumf
// CHECK-NOT: arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: return
func.func @roi_align_max(%x: tensor<1x3x12x12xf32>, %rois: tensor<2x4xf32>, %idx: tensor<2xi64>) -> tensor<2x3x2x2xf32> {
  %y = onnx.RoiAlign %x, %rois, %idx {mode = "max", coordinate_transformation_mode = "output_half_pixel", output_height = 2 : si64, output_width = 2 : si64, sampling_ratio = 2 : si64} : (tensor<1x3x12x12xf32>, tensor<2x4xf32>, tensor<2xi64>) -> tensor<2x3x2x2xf32>
  return %y : tensor<2x3x2x2xf32>
}
