// RUN: tessera-opt %s --split-input-file --tessera-lower-vectors | FileCheck %s

// A contraction becomes FMAs on 1-D vectors.
// CHECK-LABEL: func.func @contract
// CHECK-NOT: vector.contract
// CHECK: vector.fma {{.*}} : vector<16xf32>
#map = affine_map<(d0, d1, d2) -> (d0, d2)>
#map1 = affine_map<(d0, d1, d2) -> (d2, d1)>
#map2 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @contract(%a: vector<2x1xf32>, %b: vector<1x16xf32>, %c: vector<2x16xf32>) -> vector<2x16xf32> {
  %0 = vector.contract {indexing_maps = [#map, #map1, #map2], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %a, %b, %c : vector<2x1xf32>, vector<1x16xf32> into vector<2x16xf32>
  return %0 : vector<2x16xf32>
}

// -----

// Negative: 1-D transfers from contiguous memory become plain loads.
// CHECK-LABEL: func.func @transfer
// CHECK: vector.load
// CHECK-NOT: vector.transfer_read
func.func @transfer(%m: memref<16xf32>) -> vector<16xf32> {
  %c0 = arith.constant 0 : index
  %p = arith.constant 0.0 : f32
  %0 = vector.transfer_read %m[%c0], %p {in_bounds = [true]} : memref<16xf32>, vector<16xf32>
  return %0 : vector<16xf32>
}
