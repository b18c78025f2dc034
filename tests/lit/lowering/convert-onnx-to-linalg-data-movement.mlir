// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// DepthToSpace (CRD): one copy reading the input through a floordiv/mod map.
// CHECK-DAG: #[[D2S:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 * 4 + (d2 mod 2) * 2 + d3 mod 2, d2 floordiv 2, d3 floordiv 2)>
// CHECK-LABEL: func.func @depth_to_space
// CHECK: linalg.generic {indexing_maps = [#[[D2S]], {{.*}}]{{.*}} ins(%arg0 : tensor<1x8x2x3xf32>) outs(%{{.*}} : tensor<1x2x4x6xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]]
func.func @depth_to_space(%x: tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32> {
  %0 = onnx.DepthToSpace %x {blocksize = 2 : si64, mode = "CRD"} : (tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32>
  return %0 : tensor<1x2x4x6xf32>
}

// -----

// Pad with run-time pads: read from the pads input, checked against the
// declared output shape; reflect mode folds each index back into the input
// with period 2 (n - 1).
// CHECK-LABEL: func.func @pad_reflect
// CHECK: %[[LO:.*]] = tensor.extract %arg1[%{{.*}}] : tensor<4xi64>
// CHECK: cf.assert %{{.*}}, "node '?': the pads give another output shape than the model declares"
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<5x8xf32>)
// CHECK: arith.remsi
// CHECK: arith.remsi
// CHECK: tensor.extract %arg0[%{{.*}}, %{{.*}}] : tensor<3x4xf32>
func.func @pad_reflect(%x: tensor<3x4xf32>, %p: tensor<4xi64>) -> tensor<5x8xf32> {
  %0 = onnx.Pad %x, %p {mode = "reflect", operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<3x4xf32>, tensor<4xi64>) -> tensor<5x8xf32>
  return %0 : tensor<5x8xf32>
}

// -----

// TopK without a sort: each element's rank in its row (how many come
// before it: larger, or equal at a smaller index), then the elements of
// rank 0..k-1 and their indices.
// CHECK-DAG: #[[OWN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[OTHER:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @top_k
// CHECK: cf.assert %{{.*}}, "node '?': k differs from the output size the model declares"
// CHECK: %[[RANKS:.*]] = linalg.generic {indexing_maps = [#[[OWN]], #[[OTHER]], #[[OWN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg0 : {{.*}}) outs(%{{.*}} : tensor<3x6xi64>)
// CHECK: arith.cmpf ogt
// CHECK: linalg.generic {indexing_maps = [#[[OTHER]], #[[OTHER]], #[[OWN]], #[[OWN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %[[RANKS]] : {{.*}}) outs({{.*}} : tensor<3x2xf32>, tensor<3x2xi64>)
// CHECK: %[[HIT:.*]] = arith.cmpi eq
// CHECK: arith.select %[[HIT]]
func.func @top_k(%x: tensor<3x6xf32>, %k: tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>) {
  %0:2 = onnx.TopK %x, %k {axis = 1 : si64} : (tensor<3x6xf32>, tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  return %0#0, %0#1 : tensor<3x2xf32>, tensor<3x2xi64>
}

// -----

// Resize (linear, half_pixel) by run-time scales: two taps per resized axis
// (the batch and channel dims are copied), clamped into the input.
// CHECK-LABEL: func.func @resize_linear
// CHECK: tensor.extract %arg1[%{{.*}}] : tensor<4xf32>
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x4x4xf32>)
// CHECK: math.floor
// CHECK: math.floor
// CHECK-COUNT-4: tensor.extract %arg0
// CHECK-NOT: tensor.extract %arg0
// CHECK: linalg.yield
func.func @resize_linear(%x: tensor<1x1x2x2xf32>, %s: tensor<4xf32>) -> tensor<1x1x4x4xf32> {
  %0 = onnx.Resize %x, %s {mode = "linear", operandSegmentSizes = array<i32: 1, 0, 1, 0>} : (tensor<1x1x2x2xf32>, tensor<4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

// Dropout whose training_mode is a graph input: a run-time check that it is
// not training with a non-zero ratio (the identity otherwise), then the data
// and an all-true mask.
// CHECK-LABEL: func.func @dropout_runtime_training
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>, %[[R:.*]]: tensor<f32>, %[[T:.*]]: tensor<i1>)
// CHECK: %[[TRAIN:.*]] = tensor.extract %[[T]][] : tensor<i1>
// CHECK: %[[RATIO:.*]] = tensor.extract %[[R]][] : tensor<f32>
// CHECK: %[[ZERO:.*]] = arith.cmpf oeq, %[[RATIO]]
// CHECK: %[[ON:.*]] = arith.cmpi ne, %[[TRAIN]]
// CHECK: %[[OFF:.*]] = arith.xori %[[ON]]
// CHECK: %[[OK:.*]] = arith.ori %[[OFF]], %[[ZERO]]
// CHECK: cf.assert %[[OK]], "node 'drop': training-mode Dropout with a non-zero ratio is random
// CHECK: %[[MASK:.*]] = linalg.fill ins(%{{.*}} : i1) outs(%{{.*}} : tensor<3x4xi1>)
// CHECK: return %[[X]], %[[MASK]]
func.func @dropout_runtime_training(%x: tensor<3x4xf32>, %r: tensor<f32>, %t: tensor<i1>) -> (tensor<3x4xf32>, tensor<3x4xi1>) {
  %y, %m = onnx.Dropout %x, %r, %t {operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<3x4xf32>, tensor<f32>, tensor<i1>) -> (tensor<3x4xf32>, tensor<3x4xi1>) loc("drop")
  return %y, %m : tensor<3x4xf32>, tensor<3x4xi1>
}

// -----

// GridSample (nearest, zeros): one generic over [N, C, H_out, W_out] reads
// the point's (x, y) from the grid, maps it to pixels ((v + 1) * size - 1) / 2,
// rounds half to even, reads X at the coordinate clamped into the image
// (maxnumf/minnumf, so a NaN reads pixel 0) and keeps the value only inside.
// CHECK-LABEL: func.func @grid_sample
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x5x7xf32>, %[[G:.*]]: tensor<?x4x6x2xf32>)
// CHECK: cf.assert %{{.*}}, "node 'sample': GridSample needs an image of at least one pixel"
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x3x4x6xf32>)
// CHECK:   %[[N:.*]] = linalg.index 0
// CHECK:   %[[C:.*]] = linalg.index 1
// CHECK:   %[[I:.*]] = linalg.index 2
// CHECK:   %[[J:.*]] = linalg.index 3
// CHECK:   %[[GX:.*]] = tensor.extract %[[G]][%[[N]], %[[I]], %[[J]], %c0{{.*}}]
// CHECK:   %[[GY:.*]] = tensor.extract %[[G]][%[[N]], %[[I]], %[[J]], %c1{{.*}}]
// CHECK:   arith.addf %[[GX]]
// CHECK:   %[[RX:.*]] = math.roundeven
// CHECK:   %[[RY:.*]] = math.roundeven
// CHECK:   arith.maxnumf %[[RY]]
// CHECK:   arith.minnumf
// CHECK:   arith.fptosi
// CHECK:   arith.maxnumf %[[RX]]
// CHECK:   arith.minnumf
// CHECK:   %[[V:.*]] = tensor.extract %[[X]][%[[N]], %[[C]], %{{.*}}, %{{.*}}]
// CHECK:   arith.select %{{.*}}, %[[V]], %{{.*}} : f32
func.func @grid_sample(%x: tensor<?x3x5x7xf32>, %g: tensor<?x4x6x2xf32>) -> tensor<?x3x4x6xf32> {
  %y = onnx.GridSample %x, %g {mode = "nearest", padding_mode = "zeros"} : (tensor<?x3x5x7xf32>, tensor<?x4x6x2xf32>) -> tensor<?x3x4x6xf32> loc("sample")
  return %y : tensor<?x3x4x6xf32>
}

// -----

// ReverseSequence (batch axis 0, time axis 1): one gather; step t of entry b
// reads step len_b - 1 - t while t < len_b (len_b clamped into [0, steps]),
// else step t.
// CHECK-LABEL: func.func @reverse_sequence
// CHECK-SAME: (%[[X:.*]]: tensor<3x?x2xf32>, %[[L:.*]]: tensor<3xi64>)
// CHECK: %[[STEPS:.*]] = tensor.dim %[[X]], %c1
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<3x?x2xf32>)
// CHECK:   %[[B:.*]] = linalg.index 0
// CHECK:   %[[T:.*]] = linalg.index 1
// CHECK:   %[[K:.*]] = linalg.index 2
// CHECK:   %[[LEN:.*]] = tensor.extract %[[L]][%[[B]]]
// CHECK:   %[[LENI:.*]] = arith.index_cast %[[LEN]]
// CHECK:   %[[LO:.*]] = arith.maxsi %[[LENI]]
// CHECK:   %[[N:.*]] = arith.minsi %[[LO]], %[[STEPS]]
// CHECK:   %[[LAST:.*]] = arith.subi %[[N]]
// CHECK:   %[[BACK:.*]] = arith.subi %[[LAST]], %[[T]]
// CHECK:   %[[REV:.*]] = arith.cmpi slt, %[[T]], %[[N]]
// CHECK:   %[[AT:.*]] = arith.select %[[REV]], %[[BACK]], %[[T]]
// CHECK:   tensor.extract %[[X]][%[[B]], %[[AT]], %[[K]]]
func.func @reverse_sequence(%x: tensor<3x?x2xf32>, %lens: tensor<3xi64>) -> tensor<3x?x2xf32> {
  %y = onnx.ReverseSequence %x, %lens {batch_axis = 0 : si64, time_axis = 1 : si64} : (tensor<3x?x2xf32>, tensor<3xi64>) -> tensor<3x?x2xf32>
  return %y : tensor<3x?x2xf32>
}
