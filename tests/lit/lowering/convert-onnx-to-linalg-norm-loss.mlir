// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// BatchNormalization (inference): one generic reading the four per-channel
// vectors at dim 1.
// CHECK-DAG: #[[CHANNEL:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @batch_norm
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[CHANNEL]], #[[CHANNEL]], #[[CHANNEL]], #[[CHANNEL]], #{{.*}}]
// CHECK: math.rsqrt
// CHECK-NOT: linalg.generic
func.func @batch_norm(%x: tensor<2x3x4xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<2x3x4xf32> {
  %0 = onnx.BatchNormalization %x, %s, %b, %m, %v : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// BatchNormalization in training mode: mean and population variance per
// channel over N and the spatial dims (linalg.reduce over [0, 2]), x
// normalised with them, and the running statistics moved towards them:
// input * momentum + batch * (1 - momentum).
// CHECK-LABEL: func.func @batch_norm_training
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x4xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<3xf32>, %[[M:.*]]: tensor<3xf32>, %[[V:.*]]: tensor<3xf32>)
// CHECK: linalg.reduce ins(%[[X]] : tensor<?x3x4xf32>) outs(%{{.*}} : tensor<3xf32>) dimensions = [0, 2]
// CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<3xf32>)
// CHECK: arith.divf
// CHECK: %[[VAR:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<3xf32>)
// CHECK: arith.divf
// CHECK: math.rsqrt
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x3x4xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK: %[[RM:.*]] = linalg.generic {{.*}} ins(%[[M]], %[[MEAN]] : tensor<3xf32>, tensor<3xf32>)
// CHECK:   arith.constant 8.000000e-01 : f32
// CHECK:   arith.constant 0.199999988 : f32
// CHECK: %[[RV:.*]] = linalg.generic {{.*}} ins(%[[V]], %[[VAR]] : tensor<3xf32>, tensor<3xf32>)
// CHECK: return %[[Y]], %[[RM]], %[[RV]]
func.func @batch_norm_training(%x: tensor<?x3x4xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> (tensor<?x3x4xf32>, tensor<3xf32>, tensor<3xf32>) {
  %y, %rm, %rv = onnx.BatchNormalization %x, %s, %b, %m, %v {epsilon = 1.0e-2 : f32, momentum = 0.8 : f32, training_mode = 1 : si64} : (tensor<?x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<?x3x4xf32>, tensor<3xf32>, tensor<3xf32>)
  return %y, %rm, %rv : tensor<?x3x4xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// InstanceNormalization: statistics over the spatial dims per (n, c), then
// scale and bias per channel.
// CHECK-LABEL: func.func @instance_norm
// CHECK: linalg.reduce ins(%arg0 : tensor<2x3x5xf32>) outs(%{{.*}} : tensor<2x3xf32>) dimensions = [2]
// CHECK: math.rsqrt
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[CH:.*]], #[[CH]], #{{.*}}]
func.func @instance_norm(%x: tensor<2x3x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<2x3x5xf32> {
  %0 = onnx.InstanceNormalization %x, %s, %b : (tensor<2x3x5xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// NegativeLogLikelihoodLoss, mean with weights and ignore_index: the
// per-element losses (-input[n, t, d] * weight[t], 0 where t is ignored)
// and the weights taken, both summed, then divided.
// CHECK-LABEL: func.func @nll_mean
// CHECK: %[[LOSSES:.*]] = linalg.generic {{.*}} ins(%arg1 : tensor<3x2xi64>) outs(%{{.*}} : tensor<3x2xf32>)
// CHECK: %[[N:.*]] = linalg.index 0
// CHECK: %[[D:.*]] = linalg.index 1
// CHECK: %[[T:.*]] = arith.minsi
// CHECK: tensor.extract %arg2[%[[T]]] : tensor<5xf32>
// CHECK: arith.cmpi eq, %{{.*}}, %c-1_i64
// CHECK: tensor.extract %arg0[%[[N]], %[[T]], %[[D]]] : tensor<3x5x2xf32>
// CHECK: arith.negf
// CHECK: %[[SUM:.*]] = linalg.reduce ins(%[[LOSSES]] : tensor<3x2xf32>) outs(%{{.*}} : tensor<f32>) dimensions = [0, 1]
// CHECK: %[[WEIGHTS:.*]] = linalg.generic
// CHECK: %[[TOTAL:.*]] = linalg.reduce ins(%[[WEIGHTS]] : tensor<3x2xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[SUM]], %[[TOTAL]] : tensor<f32>, tensor<f32>)
// CHECK: arith.divf
func.func @nll_mean(%x: tensor<3x5x2xf32>, %t: tensor<3x2xi64>, %w: tensor<5xf32>) -> tensor<f32> {
  %0 = onnx.NegativeLogLikelihoodLoss %x, %t, %w {ignore_index = -1 : si64} : (tensor<3x5x2xf32>, tensor<3x2xi64>, tensor<5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// SoftmaxCrossEntropyLoss: LogSoftmax along the classes (max, exp, sum,
// log), whose result is also the log_prob output, then the loss.
// CHECK-LABEL: func.func @sce_none
// CHECK: linalg.reduce ins(%arg0 : tensor<3x5xf32>) {{.*}} dimensions = [1]
// CHECK: arith.maxnumf
// CHECK: math.exp
// CHECK: %[[LOGP:.*]] = linalg.generic
// CHECK: math.log
// CHECK: %[[LOSS:.*]] = linalg.generic {{.*}} ins(%arg1 : tensor<3xi64>)
// CHECK: tensor.extract %[[LOGP]]
// CHECK: return %[[LOSS]], %[[LOGP]]
func.func @sce_none(%x: tensor<3x5xf32>, %y: tensor<3xi64>) -> (tensor<3xf32>, tensor<3x5xf32>) {
  %0:2 = onnx.SoftmaxCrossEntropyLoss %x, %y {reduction = "none"} : (tensor<3x5xf32>, tensor<3xi64>) -> (tensor<3xf32>, tensor<3x5xf32>)
  return %0#0, %0#1 : tensor<3xf32>, tensor<3x5xf32>
}

// -----

// LRN over a window of 5 channels: x^2 inside zeros with 4 more channels
// (2 before), one generic summing the window (c + k over the padded
// channels, k a reduction over [5]), then x / (bias + alpha / 5 * sum)^beta.
// CHECK-DAG: #[[WIN:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 + d4, d2, d3)>
// CHECK-LABEL: func.func @lrn
// CHECK: %[[SQ:.*]] = linalg.generic
// CHECK: arith.mulf
// CHECK: %[[Z:.*]] = linalg.fill {{.*}} -> tensor<?x20x4x5xf32>
// CHECK: %[[P:.*]] = tensor.insert_slice %[[SQ]] into %[[Z]][0, 2, 0, 0]
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[WIN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[P]], %{{.*}} : tensor<?x20x4x5xf32>, tensor<5xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[SUM]]
// CHECK: math.powf
// CHECK: arith.divf
func.func @lrn(%x: tensor<?x16x4x5xf32>) -> tensor<?x16x4x5xf32> {
  %y = onnx.LRN %x {size = 5 : si64, alpha = 1.0e-4 : f32, beta = 0.75 : f32, bias = 2.0 : f32} : (tensor<?x16x4x5xf32>) -> tensor<?x16x4x5xf32>
  return %y : tensor<?x16x4x5xf32>
}
