// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// NonZero with the count the model gives (4): one pass counts the non-zero
// elements and the count is checked; a second writes each one's row-major
// coordinates (the flat index split by the dims, last dim first) into
// column `position`, never past the output.
// CHECK-LABEL: func.func @nonzero
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK: %[[D1:.*]] = tensor.dim %[[X]], %c1
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1]]
// CHECK: %[[COUNT:.*]] = scf.for
// CHECK:   tensor.extract %[[FLAT]]
// CHECK:   arith.cmpf une
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[COUNT]], %c4
// CHECK: cf.assert %[[OK]], "node '?': the number of non-zero elements does not match the output shape the model gives (4)"
// CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<2x4xi64>
// CHECK: %[[FILL:.*]]:2 = scf.for %[[I:[a-z0-9_]+]] = {{.*}} iter_args(%[[Y:.*]] = %[[ZERO]], %[[POS:.*]] = %{{.*}})
// CHECK:   scf.if
// CHECK:     %[[IN:.*]] = arith.cmpi ult, %[[POS]], %c4
// CHECK:     %[[COL:.*]] = arith.select %[[IN]], %[[POS]]
// CHECK:     %[[C1:.*]] = arith.remui %[[I]], %[[D1]]
// CHECK:     %[[V1:.*]] = arith.index_cast %[[C1]] : index to i64
// CHECK:     %[[Y1:.*]] = tensor.insert %[[V1]] into %[[Y]][%c1{{.*}}, %[[COL]]]
// CHECK:     tensor.insert %{{.*}} into %[[Y1]][%c0{{.*}}, %[[COL]]]
// CHECK: return %[[FILL]]#0
func.func @nonzero(%x: tensor<2x3xf32>) -> tensor<2x4xi64> {
  %y = onnx.NonZero %x : (tensor<2x3xf32>) -> tensor<2x4xi64>
  return %y : tensor<2x4xi64>
}

// -----

// Compress along axis 1 keeps the positions below min(len(condition), dim)
// whose condition holds, in order; their count is checked against the
// output's 2, and one gather reads them (the batch stays dynamic).
// CHECK-LABEL: func.func @compress
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>, %[[C:.*]]: tensor<3xi1>)
// CHECK: %[[N:.*]] = arith.minui
// CHECK: %[[SEL:.*]]:2 = scf.for %[[I:[a-z0-9_]+]] = %{{.*}} to %[[N]] {{.*}} -> (tensor<2xindex>, index)
// CHECK:   tensor.extract %[[C]][%[[I]]]
// CHECK:   scf.if
// CHECK:     tensor.insert
// CHECK: arith.cmpi eq, %[[SEL]]#1, %c2
// CHECK: cf.assert {{.*}}"node '?': the number of selected slices does not match the output shape the model gives (2)"
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x2xf32>)
// CHECK:   %[[R:.*]] = linalg.index 0
// CHECK:   %[[J:.*]] = linalg.index 1
// CHECK:   %[[P:.*]] = tensor.extract %[[SEL]]#0[%[[J]]]
// CHECK:   tensor.extract %[[X]][%[[R]], %[[P]]]
func.func @compress(%x: tensor<?x4xf32>, %c: tensor<3xi1>) -> tensor<?x2xf32> {
  %y = onnx.Compress %x, %c {axis = 1 : si64} : (tensor<?x4xf32>, tensor<3xi1>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Without an axis the input is flattened first.
// CHECK-LABEL: func.func @compress_flat
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<3x2xf32> into tensor<6xf32>
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2xf32>)
func.func @compress_flat(%x: tensor<3x2xf32>, %c: tensor<5xi1>) -> tensor<2xf32> {
  %y = onnx.Compress %x, %c : (tensor<3x2xf32>, tensor<5xi1>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}

// -----

// Unique over the columns (axis 1), sorted: first[i] is the first column
// equal to column i (compared element by element), rank[i] counts the first
// columns that sort before it (lexicographic, olt), the number of first
// columns is checked against Y's 2, and the rank -> column map feeds Y,
// indices, inverse_indices and counts.
// CHECK-LABEL: func.func @unique
// CHECK: %[[FIRST:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?xindex>)
// CHECK:   scf.for
// CHECK:     scf.for {{.*}} -> (i1, i1)
// CHECK:       arith.cmpf one
// CHECK: %[[RANK:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?xindex>)
// CHECK:   tensor.extract %[[FIRST]]
// CHECK:   arith.cmpf olt
// CHECK: %[[POS:.*]]:2 = scf.for {{.*}} -> (tensor<2xindex>, index)
// CHECK:   tensor.extract %[[RANK]]
// CHECK: cf.assert {{.*}}"node '?': the number of distinct slices does not match the output shape the model gives (2)"
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x2xf32>)
// CHECK:   %[[J:.*]] = linalg.index 1
// CHECK:   %[[P:.*]] = tensor.extract %[[POS]]#0[%[[J]]]
// CHECK:   tensor.extract %{{.*}}[%{{.*}}, %[[P]]]
// CHECK: %[[IDX:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2xi64>)
// CHECK: %[[INV:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4xi64>)
// CHECK:   %[[F:.*]] = tensor.extract %[[FIRST]]
// CHECK:   tensor.extract %[[RANK]][%[[F]]]
// CHECK: %[[COUNTS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2xi64>)
// CHECK:   scf.for
// CHECK: return %[[Y]], %[[IDX]], %[[INV]], %[[COUNTS]]
func.func @unique(%x: tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<2xi64>, tensor<4xi64>, tensor<2xi64>) {
  %y:4 = onnx.Unique %x {axis = 1 : si64, sorted = 1 : si64} : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<2xi64>, tensor<4xi64>, tensor<2xi64>)
  return %y#0, %y#1, %y#2, %y#3 : tensor<3x2xf32>, tensor<2xi64>, tensor<4xi64>, tensor<2xi64>
}

// -----

// In order of first occurrence, rank[i] counts the first slices before i
// (no comparison of values).
// CHECK-LABEL: func.func @unique_unsorted
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?xindex>)
// CHECK: %[[RANK:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?xindex>)
// CHECK-NOT: arith.cmpi slt
// CHECK: scf.for {{.*}} -> (tensor<3xindex>, index)
func.func @unique_unsorted(%x: tensor<6xi64>) -> tensor<3xi64> {
  %y = onnx.Unique %x {sorted = 0 : si64} : (tensor<6xi64>) -> tensor<3xi64>
  return %y : tensor<3xi64>
}
