// RUN: tessera-opt %s --split-input-file --tessera-vectorize-elementwise="width=8" | FileCheck %s

// An elementwise op with a broadcast bias: 8-wide tiles along the last dim,
// the remainder (20 = 2 x 8 + 4) peeled and vectorized with its own width.
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @bias_gelu
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} vector<8xf32>
// CHECK: math.erf {{.*}} : vector<8xf32>
// CHECK: math.erf {{.*}} : vector<4xf32>
// CHECK-NOT: linalg.generic
func.func @bias_gelu(%x: tensor<3x20xf32>, %b: tensor<20xf32>) -> tensor<3x20xf32> {
  %e = tensor.empty() : tensor<3x20xf32>
  %0 = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %b : tensor<3x20xf32>, tensor<20xf32>) outs(%e : tensor<3x20xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    %g = math.erf %s : f32
    linalg.yield %g : f32
  } -> tensor<3x20xf32>
  return %0 : tensor<3x20xf32>
}

// -----

// Negative: booleans (stored one byte per element, but packed as vector
// bits), index arithmetic (gathers), transposed reads and reductions stay
// scalar.
#id = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-LABEL: func.func @not_vectorized
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: vector.
func.func @not_vectorized(%x: tensor<8x8xf32>, %y: tensor<8x8xf32>) -> (tensor<8x8xi1>, tensor<8x8xf32>, tensor<8x8xf32>) {
  %eb = tensor.empty() : tensor<8x8xi1>
  %ef = tensor.empty() : tensor<8x8xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %y : tensor<8x8xf32>, tensor<8x8xf32>) outs(%eb : tensor<8x8xi1>) {
  ^bb0(%a: f32, %c: f32, %o: i1):
    %s = arith.cmpf olt, %a, %c : f32
    linalg.yield %s : i1
  } -> tensor<8x8xi1>
  %1 = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]} outs(%ef : tensor<8x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %v = tensor.extract %x[%i, %i] : tensor<8x8xf32>
    linalg.yield %v : f32
  } -> tensor<8x8xf32>
  %2 = linalg.generic {indexing_maps = [#tr, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<8x8xf32>) outs(%ef : tensor<8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<8x8xf32>
  return %0, %1, %2 : tensor<8x8xi1>, tensor<8x8xf32>, tensor<8x8xf32>
}

// -----

// A reduction over the last dim (softmax max): 8-wide chunks reduced into a
// loop-carried accumulator, the remainder (20 = 2 x 8 + 4) peeled.
// CHECK-LABEL: func.func @softmax_max
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<1xf32>)
// CHECK: vector.multi_reduction <maximumf>, {{.*}} : vector<1x8xf32> to vector<1xf32>
// CHECK: vector.multi_reduction <maximumf>, {{.*}} : vector<1x4xf32> to vector<1xf32>
// CHECK-NOT: linalg.reduce
func.func @softmax_max(%x: tensor<4x20xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.reduce ins(%x : tensor<4x20xf32>) outs(%init : tensor<4xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %m = arith.maximumf %in, %acc : f32
      linalg.yield %m : f32
    }
  return %r : tensor<4xf32>
}

// -----

// Negative: a reduction over an outer dim is left alone.
// CHECK-LABEL: func.func @outer_reduction
// CHECK: linalg.reduce
func.func @outer_reduction(%x: tensor<16x4xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.reduce ins(%x : tensor<16x4xf32>) outs(%init : tensor<4xf32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return %r : tensor<4xf32>
}

// -----

// A dynamic leading dim (rows = batch x sequence): the rows loop runs to the
// run-time bound, the static last dim is vectorized as before (two 8-wide
// tiles and a 4-wide remainder).
// CHECK-LABEL: func.func @rows_dynamic
// CHECK: %[[ROWS:.*]] = tensor.dim %arg0, %c0 : tensor<?x20xf32>
// CHECK: scf.for %{{.*}} = %c0 to %[[ROWS]] step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c8
// CHECK: arith.addf {{.*}} : vector<8xf32>
// CHECK: arith.addf {{.*}} : vector<4xf32>
// CHECK-NOT: linalg.generic
func.func @rows_dynamic(%a: tensor<?x20xf32>, %b: tensor<20xf32>, %c: tensor<?x20xf32>) -> tensor<?x20xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%a, %b : tensor<?x20xf32>, tensor<20xf32>) outs(%c : tensor<?x20xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<?x20xf32>
  return %0 : tensor<?x20xf32>
}

// -----

// A reduction over a dynamic last dim (softmax over a run-time sequence):
// full 8-wide tiles are vector reductions carried through the loop, the
// remainder (the last S mod 8 elements) stays a scalar linalg.reduce.
// CHECK-LABEL: func.func @reduce_dynamic
// CHECK: scf.for {{.*}} step %c8 iter_args({{.*}}) -> (vector<1xf32>)
// CHECK: vector.multi_reduction <maximumf>, {{.*}} : vector<1x8xf32> to vector<1xf32>
// CHECK: linalg.reduce ins({{.*}} : tensor<1x?xf32>)
func.func @reduce_dynamic(%a: tensor<?x?xf32>, %init: tensor<?xf32>) -> tensor<?xf32> {
  %0 = linalg.reduce ins(%a : tensor<?x?xf32>) outs(%init : tensor<?xf32>) dimensions = [1]
    (%x: f32, %acc: f32) {
      %m = arith.maximumf %x, %acc : f32
      linalg.yield %m : f32
    }
  return %0 : tensor<?xf32>
}
