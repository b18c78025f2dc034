// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// GRU (linear_before_reset 0): the input projections of all steps are one
// contraction before the loop, with Wb + Rb added first; each step multiplies
// H by the z and r rows of R, applies the reset gate to H, multiplies that by
// R_h, and one generic updates H in place (the loop's H is its output) and
// writes the step's row of Y.
// CHECK-LABEL: func.func @gru
// CHECK: %[[BIAS:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<15xf32>, tensor<15xf32>)
// CHECK: arith.addf
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[BIAS]] : tensor<15xf32>) outs(%{{.*}} : tensor<2x?x15xf32>)
// CHECK: %[[XW:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<2x?x3xf32>, tensor<15x3xf32>) outs(%[[INIT]]
// CHECK: %[[LOOP:.*]]:2 = scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[H:.*]] = %{{.*}}, %[[YS:.*]] = %{{.*}}) -> (tensor<?x5xf32>, tensor<2x?x5xf32>)
// CHECK:   tensor.extract_slice %[[XW]][%[[T]], 0, 0]
// CHECK:   %[[ZR:.*]] = linalg.generic {{.*}} ins(%[[H]], %{{.*}} : tensor<?x5xf32>, tensor<10x5xf32>)
// CHECK:   %[[RH:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[H]] : tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>)
// CHECK:   math.exp
// CHECK:   %[[HR:.*]] = linalg.generic {{.*}} ins(%[[RH]], %{{.*}} : tensor<?x5xf32>, tensor<5x5xf32>)
// CHECK:   %[[ROW:.*]] = tensor.extract_slice %[[YS]][%[[T]], 0, 0]
// CHECK:   %[[NEXT:.*]]:2 = linalg.generic {{.*}} outs(%[[H]], %[[ROW]] : tensor<?x5xf32>, tensor<?x5xf32>)
// CHECK:     math.tanh
// CHECK:   %[[Y:.*]] = tensor.insert_slice %[[NEXT]]#1 into %[[YS]][%[[T]], 0, 0]
// CHECK:   scf.yield %[[NEXT]]#0, %[[Y]]
// CHECK: tensor.insert_slice %[[LOOP]]#0 into %{{.*}}[0, 0, 0] [1, %{{.*}}, 5]
func.func @gru(%x: tensor<2x?x3xf32>, %w: tensor<1x15x3xf32>, %r: tensor<1x15x5xf32>, %b: tensor<1x30xf32>) -> tensor<1x?x5xf32> {
  %y:2 = onnx.GRU %x, %w, %r, %b {hidden_size = 5 : si64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0>} : (tensor<2x?x3xf32>, tensor<1x15x3xf32>, tensor<1x15x5xf32>, tensor<1x30xf32>) -> (tensor<2x1x?x5xf32>, tensor<1x?x5xf32>)
  return %y#1 : tensor<1x?x5xf32>
}

// -----

// A reversed LSTM with sequence_lens: X is read through a gather, each batch
// entry from its own last step (len - 1 - t, clamped), the gate generic keeps
// the state and writes 0 past an entry's length, and Y goes back to time
// order through a second gather. C is carried and updated in place.
// CHECK-LABEL: func.func @lstm_reverse_lens
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x2x3xf32>)
// CHECK:   tensor.extract %{{.*}} : tensor<2xi32>
// CHECK:   arith.maxsi
// CHECK:   arith.minsi
// CHECK:   tensor.extract %{{.*}} : tensor<4x2x3xf32>
// CHECK: %[[LOOP:.*]]:3 = scf.for %[[T:.*]] = {{.*}} iter_args(%[[H:.*]] = %{{.*}}, %[[C:.*]] = %{{.*}}, %[[YS:.*]] = %{{.*}}) -> (tensor<2x6xf32>, tensor<2x6xf32>, tensor<4x2x6xf32>)
// CHECK:   %[[NEXT:.*]]:3 = linalg.generic {{.*}} outs(%[[H]], %[[C]], %{{.*}} : tensor<2x6xf32>, tensor<2x6xf32>, tensor<2x6xf32>)
// CHECK:     arith.index_cast
// CHECK:     %[[VALID:.*]] = arith.cmpi slt, %[[T]]
// CHECK:     arith.select %[[VALID]]
// CHECK:   scf.yield %[[NEXT]]#0, %[[NEXT]]#1
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x2x6xf32>)
// CHECK:   tensor.extract %[[LOOP]]#2
// CHECK:   arith.cmpi slt
// CHECK:   arith.select
func.func @lstm_reverse_lens(%x: tensor<4x2x3xf32>, %w: tensor<1x24x3xf32>, %r: tensor<1x24x6xf32>, %lens: tensor<2xi32>) -> (tensor<4x1x2x6xf32>, tensor<1x2x6xf32>, tensor<1x2x6xf32>) {
  %y:3 = onnx.LSTM %x, %w, %r, %lens {direction = "reverse", hidden_size = 6 : si64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0>} : (tensor<4x2x3xf32>, tensor<1x24x3xf32>, tensor<1x24x6xf32>, tensor<2xi32>) -> (tensor<4x1x2x6xf32>, tensor<1x2x6xf32>, tensor<1x2x6xf32>)
  return %y#0, %y#1, %y#2 : tensor<4x1x2x6xf32>, tensor<1x2x6xf32>, tensor<1x2x6xf32>
}

// -----

// A bidirectional RNN in layout 1 ([batch, seq, input]): X is transposed to
// [seq, batch, input], each direction runs its own loop (the backward one on
// a reversed copy of X), and Y [seq, 2, batch, hidden] is stacked from both
// and transposed back to [batch, seq, 2, hidden].
// CHECK-LABEL: func.func @rnn_bidirectional_batch_first
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x5x3xf32>) outs(%{{.*}} : tensor<5x2x3xf32>) permutation = [1, 0, 2]
// CHECK: scf.for
// CHECK: math.tanh
// CHECK: tensor.extract %{{.*}} : tensor<5x2x3xf32>
// CHECK: scf.for
// CHECK: math.tanh
// CHECK: tensor.insert_slice %{{.*}}[0, 0, 0, 0] [5, 1, 2, 4]
// CHECK: tensor.insert_slice %{{.*}}[0, 1, 0, 0] [5, 1, 2, 4]
// CHECK: linalg.transpose ins(%{{.*}} : tensor<5x2x2x4xf32>) outs(%{{.*}} : tensor<2x5x2x4xf32>) permutation = [2, 0, 1, 3]
func.func @rnn_bidirectional_batch_first(%x: tensor<2x5x3xf32>, %w: tensor<2x4x3xf32>, %r: tensor<2x4x4xf32>) -> tensor<2x5x2x4xf32> {
  %y:2 = onnx.RNN %x, %w, %r {direction = "bidirectional", layout = 1 : si64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0>} : (tensor<2x5x3xf32>, tensor<2x4x3xf32>, tensor<2x4x4xf32>) -> (tensor<2x5x2x4xf32>, tensor<2x2x4xf32>)
  return %y#0 : tensor<2x5x2x4xf32>
}
