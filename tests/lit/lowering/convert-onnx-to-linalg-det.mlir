// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// Det: one iteration per matrix, on a copy. Per column k: the pivot is the
// row with the largest |a[i, k]|, rows k and p are swapped, the determinant
// is negated on a swap and multiplied by the pivot, and the rows below lose
// their multiple of row k (a zero pivot multiplies by 0 instead of dividing).
// CHECK-LABEL: func.func @det
// CHECK-SAME: (%[[X:.*]]: tensor<3x2x2xf32>)
// CHECK: %[[DETS:.*]] = scf.for %[[B:[a-z0-9_]+]] = {{.*}} -> (tensor<3xf32>)
// CHECK:   %[[M:.*]] = tensor.extract_slice %{{.*}}[%[[B]], 0, 0]
// CHECK:   %[[COPY:.*]] = linalg.copy ins(%[[M]]
// CHECK:   %[[K:.*]]:2 = scf.for %[[COL:[a-z0-9_]+]] = {{.*}} iter_args(%[[A:.*]] = %[[COPY]], %[[DET:.*]] = %{{.*}})
// CHECK:     %[[PIV:.*]]:2 = scf.for
// CHECK:       math.absf
// CHECK:       arith.cmpf ogt
// CHECK:     %[[SWAPPED:.*]] = scf.for
// CHECK:       tensor.insert
// CHECK:       tensor.insert
// CHECK:     %[[ROWSWAP:.*]] = arith.cmpi ne, %[[PIV]]#0, %[[COL]]
// CHECK:     %[[NEG:.*]] = arith.negf %[[DET]]
// CHECK:     %[[SIGNED:.*]] = arith.select %[[ROWSWAP]], %[[NEG]], %[[DET]]
// CHECK:     %[[P:.*]] = tensor.extract %[[SWAPPED]][%[[COL]], %[[COL]]]
// CHECK:     %[[NEXT:.*]] = arith.mulf %[[SIGNED]], %[[P]]
// CHECK:     %[[SINGULAR:.*]] = arith.cmpf oeq, %[[P]]
// CHECK:     scf.for
// CHECK:       arith.divf %{{.*}}, %[[P]]
// CHECK:       arith.select %[[SINGULAR]]
// CHECK:       scf.for
// CHECK:         arith.subf
// CHECK:     scf.yield %{{.*}}, %[[NEXT]]
// CHECK:   tensor.insert %[[K]]#1 into %{{.*}}[%[[B]]]
func.func @det(%x: tensor<3x2x2xf32>) -> tensor<3xf32> {
  %y = onnx.Det %x : (tensor<3x2x2xf32>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

// One matrix gives a scalar.
// CHECK-LABEL: func.func @det_2d
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] {{.*}} into tensor<1x?x?xf32>
// CHECK: %[[D:.*]] = tensor.extract %{{.*}}[%c0{{.*}}] : tensor<1xf32>
// CHECK: tensor.from_elements %[[D]] : tensor<f32>
func.func @det_2d(%x: tensor<?x?xf32>) -> tensor<f32> {
  %y = onnx.Det %x : (tensor<?x?xf32>) -> tensor<f32>
  return %y : tensor<f32>
}
