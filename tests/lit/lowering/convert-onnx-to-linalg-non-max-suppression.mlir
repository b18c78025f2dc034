// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// NonMaxSuppression: loops over batches and classes carry the output rows
// and their count. Per class: the candidates are the boxes scoring above
// score_threshold; each step takes the best open candidate (strictly
// greater: the first on ties), closes it, keeps it unless its IOU with a
// box kept in this class (rows [start, total)) exceeds iou_threshold or the
// class has max_output_boxes_per_class rows, and writes [batch, class, box]
// under scf.if (in place). The count is checked against the given 3 rows.
// CHECK-LABEL: func.func @nms
// CHECK-SAME: (%[[BOXES:.*]]: tensor<1x6x4xf32>, %[[SCORES:.*]]: tensor<1x1x6xf32>, %[[MAX:.*]]: tensor<1xi64>, %[[IOU:.*]]: tensor<1xf32>, %[[THR:.*]]: tensor<1xf32>)
// CHECK: %[[IOUV:.*]] = tensor.extract %[[IOU]]
// CHECK: %[[THRV:.*]] = tensor.extract %[[THR]]
// CHECK: cf.assert {{.*}}"node '?': boxes and scores disagree on the batches or the boxes"
// CHECK: %[[ROWS:.*]]:2 = scf.for %[[B:[a-z0-9_]+]] = {{.*}} -> (tensor<3x3xi64>, index)
// CHECK:   scf.for %[[C:[a-z0-9_]+]] = {{.*}} iter_args(%{{.*}} = %{{.*}}, %[[START:[a-z0-9_]+]] = %{{.*}}) -> (tensor<3x3xi64>, index)
// CHECK:     %[[OPEN:.*]] = scf.for {{.*}} -> (tensor<?xi1>)
// CHECK:       %[[S:.*]] = tensor.extract %[[SCORES]][%[[B]], %[[C]], %{{.*}}]
// CHECK:       arith.cmpf ogt, %[[S]], %[[THRV]]
// CHECK:     scf.for {{.*}} iter_args(%{{.*}} = %[[OPEN]], %{{.*}} = %{{.*}}, %[[TOTAL:[a-z0-9_]+]] = %{{.*}}) -> (tensor<?xi1>, tensor<3x3xi64>, index)
// CHECK:       scf.for {{.*}} -> (index, f32)
// CHECK:         arith.cmpf ogt
// CHECK:       scf.if %{{.*}} -> (tensor<?xi1>)
// CHECK:         tensor.insert %false{{.*}}
// CHECK:       scf.for %{{.*}} = %[[START]] to %[[TOTAL]] {{.*}} -> (i1)
// CHECK:         arith.minimumf
// CHECK:         %[[RATIO:.*]] = arith.divf
// CHECK:         arith.cmpf ogt, %[[RATIO]], %[[IOUV]]
// CHECK:       scf.if %{{.*}} -> (tensor<3x3xi64>)
// CHECK:         tensor.insert
// CHECK:         tensor.insert
// CHECK:         tensor.insert
// CHECK: cf.assert {{.*}}"node '?': the number of selected boxes does not match the output shape the model gives (3)"
// CHECK: return %[[ROWS]]#0
func.func @nms(%boxes: tensor<1x6x4xf32>, %scores: tensor<1x1x6xf32>, %max: tensor<1xi64>, %iou: tensor<1xf32>, %thr: tensor<1xf32>) -> tensor<3x3xi64> {
  %y = onnx.NonMaxSuppression %boxes, %scores, %max, %iou, %thr {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x6x4xf32>, tensor<1x1x6xf32>, tensor<1xi64>, tensor<1xf32>, tensor<1xf32>) -> tensor<3x3xi64>
  return %y : tensor<3x3xi64>
}

// -----

// Centre-size boxes: corners are the centre -+ half the size; without a
// score_threshold every box is a candidate.
// CHECK-LABEL: func.func @nms_center
// CHECK-NOT: arith.cmpf ogt, %{{.*}}, %extracted
// CHECK: arith.mulf %{{.*}}, %cst
// CHECK: arith.subf
// CHECK: arith.addf
func.func @nms_center(%boxes: tensor<1x6x4xf32>, %scores: tensor<1x1x6xf32>, %max: tensor<1xi64>) -> tensor<2x3xi64> {
  %y = onnx.NonMaxSuppression %boxes, %scores, %max {center_point_box = 1 : si64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<1x6x4xf32>, tensor<1x1x6xf32>, tensor<1xi64>) -> tensor<2x3xi64>
  return %y : tensor<2x3xi64>
}
