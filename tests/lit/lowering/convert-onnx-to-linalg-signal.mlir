// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// A window's size is an input value: it is checked against the output's
// length, and each element is a0 + a1 cos(2 pi (n mod N) / N) with N =
// size - 1 for a symmetric window (at least 1: no division by zero).
// CHECK-LABEL: func.func @hann_symmetric
// CHECK-SAME: (%[[SIZE:.*]]: tensor<i32>)
// CHECK: %[[S:.*]] = tensor.extract %[[SIZE]][]
// CHECK: %[[N:.*]] = arith.index_cast %[[S]] : i32 to index
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[N]], %c10
// CHECK: cf.assert %[[OK]], "node '?': the window size does not match the output shape the model gives"
// CHECK: %[[P:.*]] = arith.subi %[[N]], %c1
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<10xf32>)
// CHECK:   %[[I:.*]] = linalg.index 0
// CHECK:   %[[A0:.*]] = arith.constant 5.000000e-01
// CHECK:   %[[PP:.*]] = arith.maxui %[[P]], %{{.*}}
// CHECK:   arith.remui %{{.*}}, %[[PP]]
// CHECK:   %[[COS:.*]] = math.cos
// CHECK:   %[[T:.*]] = arith.mulf %{{.*}}, %[[COS]]
// CHECK:   arith.addf %[[A0]], %[[T]]
func.func @hann_symmetric(%size: tensor<i32>) -> tensor<10xf32> {
  %y = onnx.HannWindow %size {periodic = 0 : si64} : (tensor<i32>) -> tensor<10xf32>
  return %y : tensor<10xf32>
}

// -----

// Blackman has a second harmonic (4 pi n / N, as k * n with k = 2); a
// periodic window divides by the size itself.
// CHECK-LABEL: func.func @blackman
// CHECK-NOT: arith.subi
// CHECK: linalg.generic
// CHECK:   arith.constant 4.200000e-01
// CHECK:   math.cos
// CHECK:   arith.constant -5.000000e-01
// CHECK:   %[[TWO:.*]] = arith.constant 2 : index
// CHECK:   arith.muli %[[TWO]]
// CHECK:   math.cos
// CHECK:   arith.constant 8.000000e-02
func.func @blackman(%size: tensor<i64>) -> tensor<8xf32> {
  %y = onnx.BlackmanWindow %size : (tensor<i64>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// An inverse complex DFT along axis 1: one generic over the output whose
// body sums the terms over the signal in an scf.for, reading the real and
// imaginary parts, with e^(+i angle) (sin not negated), then divides by N.
// CHECK-LABEL: func.func @dft_inverse
// CHECK-SAME: (%[[X:.*]]: tensor<?x10x2xf32>)
// CHECK: %[[LEN:.*]] = tensor.dim %[[X]], %c1
// CHECK: cf.assert {{.*}}"node '?': the number of DFT bins does not match the output shape the model gives"
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x10x2xf32>)
// CHECK:   %[[B:.*]] = linalg.index 0
// CHECK:   %[[K:.*]] = linalg.index 1
// CHECK:   %[[C:.*]] = linalg.index 2
// CHECK:   %[[SUM:.*]] = scf.for %[[N:[a-z0-9_]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK:     %[[RE:.*]] = tensor.extract %[[X]][%[[B]], %[[N]], %c0
// CHECK:     %[[IM:.*]] = tensor.extract %[[X]][%[[B]], %[[N]], %c1
// CHECK:     arith.muli %[[K]], %[[N]]
// CHECK:     %[[COS:.*]] = math.cos
// CHECK:     %[[SIN:.*]] = math.sin
// CHECK-NOT: arith.negf
// CHECK:     arith.mulf %[[IM]], %[[SIN]]
// CHECK:     arith.cmpi eq, %[[C]], %c0
// CHECK:   arith.divf %[[SUM]]
func.func @dft_inverse(%x: tensor<?x10x2xf32>) -> tensor<?x10x2xf32> {
  %y = onnx.DFT %x {axis = 1 : si64, inverse = 1 : si64, operandSegmentSizes = array<i32: 1, 0, 0>} : (tensor<?x10x2xf32>) -> tensor<?x10x2xf32>
  return %y : tensor<?x10x2xf32>
}

// -----

// A onesided forward DFT of a real signal with a run-time dft_length: bins =
// length / 2 + 1 are checked, the imaginary part is 0, sin is negated, and
// the sum stops at the shorter of the length and the signal (zero padding).
// CHECK-LABEL: func.func @dft_onesided
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x1xf32>, %[[L:.*]]: tensor<i64>)
// CHECK: %[[LEN:.*]] = arith.index_cast
// CHECK: cf.assert {{.*}}"node '?': dft_length must be positive"
// CHECK: arith.divui %[[LEN]], %c2
// CHECK: cf.assert {{.*}}"node '?': the number of DFT bins does not match
// CHECK: %[[TERMS:.*]] = arith.minui %[[LEN]]
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x6x2xf32>)
// CHECK:   scf.for %{{.*}} = %{{.*}} to %[[TERMS]]
// CHECK:     math.sin
// CHECK:     arith.negf
func.func @dft_onesided(%x: tensor<1x8x1xf32>, %l: tensor<i64>) -> tensor<1x6x2xf32> {
  %y = onnx.DFT %x, %l {axis = 1 : si64, onesided = 1 : si64, operandSegmentSizes = array<i32: 1, 1, 0>} : (tensor<1x8x1xf32>, tensor<i64>) -> tensor<1x6x2xf32>
  return %y : tensor<1x6x2xf32>
}

// -----

// STFT with a window: the frame length is the window's, frames and bins are
// checked against the output, and each term reads the signal at
// f * step + n (clamped into the signal) times the window.
// CHECK-LABEL: func.func @stft
// CHECK-SAME: (%[[X:.*]]: tensor<1x128x1xf32>, %[[STEP:.*]]: tensor<i64>, %[[W:.*]]: tensor<16xf32>)
// CHECK: %[[LEN:.*]] = tensor.dim %[[W]], %c0
// CHECK: cf.assert {{.*}}"node '?': frame_step and frame_length must be positive, and the frame no longer than the signal"
// CHECK: cf.assert {{.*}}"node '?': the number of frames does not match the output shape the model gives"
// CHECK: cf.assert {{.*}}"node '?': the number of bins does not match the output shape the model gives"
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x15x9x2xf32>)
// CHECK:   %[[F:.*]] = linalg.index 1
// CHECK:   %[[START:.*]] = arith.muli %[[F]]
// CHECK:   scf.for %[[N:[a-z0-9_]+]] = %{{.*}} to %[[LEN]]
// CHECK:     %[[T:.*]] = arith.addi %[[START]], %[[N]]
// CHECK:     %[[TC:.*]] = arith.minui %[[T]]
// CHECK:     %[[S:.*]] = tensor.extract %[[X]][%{{.*}}, %[[TC]], %c0
// CHECK:     %[[WN:.*]] = tensor.extract %[[W]][%[[N]]]
// CHECK:     arith.mulf %[[S]], %[[WN]]
func.func @stft(%x: tensor<1x128x1xf32>, %step: tensor<i64>, %w: tensor<16xf32>) -> tensor<1x15x9x2xf32> {
  %y = onnx.STFT %x, %step, %w {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<1x128x1xf32>, tensor<i64>, tensor<16xf32>) -> tensor<1x15x9x2xf32>
  return %y : tensor<1x15x9x2xf32>
}

// -----

// MelWeightMatrix: both dims checked against the inputs; each element finds
// its filter's three points (mel -> hz with exp, floor to a DFT bin) and
// takes the falling edge over the rising one.
// CHECK-LABEL: func.func @mel
// CHECK: cf.assert {{.*}}"node '?': dft_length / 2 + 1 does not match the output shape the model gives"
// CHECK: cf.assert {{.*}}"node '?': num_mel_bins does not match the output shape the model gives"
// CHECK: math.log
// CHECK: math.log
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<9x8xf32>)
// CHECK:   math.exp
// CHECK:   math.floor
// CHECK:   math.exp
// CHECK:   math.floor
// CHECK:   math.exp
// CHECK:   math.floor
// CHECK:   arith.select
func.func @mel(%m: tensor<i64>, %d: tensor<i64>, %r: tensor<i64>, %lo: tensor<f32>, %hi: tensor<f32>) -> tensor<9x8xf32> {
  %y = onnx.MelWeightMatrix %m, %d, %r, %lo, %hi : (tensor<i64>, tensor<i64>, tensor<i64>, tensor<f32>, tensor<f32>) -> tensor<9x8xf32>
  return %y : tensor<9x8xf32>
}
