// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// Every Reduce* op is one linalg.reduce (pre-map and combiner in its body)
// plus its finaliser and the keepdims reshape.

// ReduceL2: squares summed, then a square root; keepdims puts the 1 back.
// CHECK-LABEL: func.func @reduce_l2
// CHECK: linalg.fill
// CHECK: linalg.reduce
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: math.sqrt
// CHECK: tensor.expand_shape {{.*}} into tensor<2x1x4xf32>
func.func @reduce_l2(%x: tensor<2x3x4xf32>) -> tensor<2x1x4xf32> {
  %axes = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %0 = onnx.ReduceL2 %x, %axes : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<2x1x4xf32>
  return %0 : tensor<2x1x4xf32>
}

// -----

// ReduceProd starts from 1; with no axes it reduces every dim.
// CHECK-LABEL: func.func @reduce_prod
// CHECK: arith.constant 1.000000e+00 : f32
// CHECK: linalg.reduce {{.*}} dimensions = [0, 1]
// CHECK: arith.mulf
func.func @reduce_prod(%x: tensor<3x4xf32>) -> tensor<f32> {
  %0 = onnx.ReduceProd %x {keepdims = 0 : si64} : (tensor<3x4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// ReduceLogSumExp subtracts the maximum before exp and adds it back after
// the log.
// CHECK-LABEL: func.func @reduce_log_sum_exp
// CHECK: linalg.reduce
// CHECK: arith.maximumf
// CHECK: arith.subf
// CHECK: linalg.reduce
// CHECK: math.exp
// CHECK: math.log
// CHECK: arith.addf
func.func @reduce_log_sum_exp(%x: tensor<3x4xf32>) -> tensor<3xf32> {
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %0 = onnx.ReduceLogSumExp %x, %axes {keepdims = 0 : si64} : (tensor<3x4xf32>, tensor<1xi64>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// ArgMax: one generic reducing (value, index) pairs along the axis; the last
// index wins ties with select_last_index (>=).
// CHECK-LABEL: func.func @argmax
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.cmpf oge
// CHECK: linalg.index 1
// CHECK: arith.select
// CHECK: arith.select
// CHECK: tensor.expand_shape {{.*}} into tensor<?x1xi64>
func.func @argmax(%x: tensor<?x5xf32>) -> tensor<?x1xi64> {
  %0 = onnx.ArgMax %x {axis = 1 : si64, select_last_index = 1 : si64} : (tensor<?x5xf32>) -> tensor<?x1xi64>
  return %0 : tensor<?x1xi64>
}

// -----

// Hardmax: 1 where the index along the axis is the first maximum's.
// CHECK-LABEL: func.func @hardmax
// CHECK: arith.cmpf ogt
// CHECK: linalg.generic
// CHECK: linalg.index 1
// CHECK: arith.cmpi eq
func.func @hardmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = onnx.Hardmax %x : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// CumSum: a loop over the axis carrying the running sum, updated in place;
// exclusive stores the sum before the current slice is added.
// CHECK-LABEL: func.func @cumsum
// CHECK: scf.for {{.*}} iter_args(%[[OUT:.*]] = %{{.*}}, %[[ACC:.*]] = %{{.*}})
// CHECK: tensor.extract_slice
// CHECK: %[[STORED:.*]] = tensor.insert_slice %[[ACC]] into %[[OUT]]
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} outs(%[[ACC]] :
// CHECK: arith.addf
// CHECK: scf.yield %[[STORED]], %[[SUM]]
func.func @cumsum(%x: tensor<2x?xf32>) -> tensor<2x?xf32> {
  %axis = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %0 = onnx.CumSum %x, %axis {exclusive = 1 : si64} : (tensor<2x?xf32>, tensor<i64>) -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}

// -----

// MeanVarianceNormalization: the mean, the centred values, their variance,
// then (x - mean) / (sqrt(variance) + 1e-9).
// CHECK-LABEL: func.func @mvn
// CHECK: linalg.reduce
// CHECK: arith.divf
// CHECK: arith.subf
// CHECK: linalg.reduce
// CHECK: arith.mulf
// CHECK: math.sqrt
// CHECK: arith.addf
// CHECK: arith.divf
func.func @mvn(%x: tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32> {
  %0 = onnx.MeanVarianceNormalization %x : (tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// A CumSum axis given at run time: checked against the rank, then one loop
// per possible axis behind an scf.index_switch.
// CHECK-LABEL: func.func @cumsum_runtime_axis
// CHECK: tensor.extract
// CHECK: cf.assert {{.*}} "node '{{.*}}': the CumSum axis is out of range for rank 2"
// CHECK: scf.index_switch
// CHECK: case 0 {
// CHECK: scf.for
// CHECK: case 1 {
// CHECK: scf.for
// CHECK: default {
func.func @cumsum_runtime_axis(%x: tensor<2x3xf32>, %axis: tensor<i32>) -> tensor<2x3xf32> {
  %0 = onnx.CumSum %x, %axis {reverse = 1 : si64} : (tensor<2x3xf32>, tensor<i32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A float16 reduction is computed in f32 and rounded once.
// CHECK-LABEL: func.func @reduce_mean_f16
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<3x5xf16>) outs(%{{.*}} : tensor<3x5xf32>)
// CHECK: arith.extf
// CHECK: linalg.reduce ins(%{{.*}} : tensor<3x5xf32>) outs(%{{.*}} : tensor<3xf32>) dimensions = [1]
// CHECK: arith.divf {{.*}} : f32
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<3xf32>) outs(%{{.*}} : tensor<3xf16>)
// CHECK: arith.truncf
func.func @reduce_mean_f16(%x: tensor<3x5xf16>) -> tensor<3xf16> {
  %axes = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %0 = onnx.ReduceMean %x, %axes {keepdims = 0 : si64} : (tensor<3x5xf16>, tensor<1xi64>) -> tensor<3xf16>
  return %0 : tensor<3xf16>
}
