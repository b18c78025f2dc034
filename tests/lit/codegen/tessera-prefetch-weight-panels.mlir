// RUN: tessera-opt %s --split-input-file --tessera-prefetch-weight-panels | FileCheck %s

// Two packed panels of K = 32 rows of 64 floats (4 cache lines a row, 128
// lines a panel) in one [64, 64] constant; 4 row tiles of 6 rows; a k loop
// of 8 iterations (step 4). Each iteration prefetches ceil(128 / (4 * 8)) =
// 4 lines of the next panel (rows [j * 32 + 32, ...), the last panel's
// next clamped to itself): line l = (t * 8 + i) * 4 + p, row l / 4,
// column (l mod 4) * 16.
// CHECK-LABEL: func.func @panels
// CHECK: %[[G:.*]] = memref.get_global @packed
// CHECK: scf.for %[[J:.*]] =
// CHECK: %[[OFF:.*]] = arith.muli %[[J]], %c32
// CHECK: memref.subview %[[G]][%[[OFF]], 0] [32, 64] [1, 1]
// CHECK: %[[END:.*]] = arith.addi %[[OFF]], %c32
// CHECK: %[[NEXT:.*]] = arith.minui %[[END]], %c32
// CHECK: scf.for %[[I:.*]] = %c0 to %c24 step %c6
// CHECK: %[[T:.*]] = arith.divui %{{.*}}, %c6
// CHECK: %[[TB:.*]] = arith.muli %[[T]], %c32
// CHECK: scf.for %[[K:.*]] = %c0 to %c32 step %c4
// CHECK: %[[KI:.*]] = arith.divui %{{.*}}, %c4
// CHECK: %[[KB:.*]] = arith.muli %[[KI]], %c4
// CHECK: %[[BASE:.*]] = arith.addi %[[TB]], %[[KB]]
// CHECK: %[[L0:.*]] = arith.minui %{{.*}}, %c127
// CHECK: %[[ROW:.*]] = arith.divui %[[L0]], %c4
// CHECK: %[[R:.*]] = arith.addi %[[NEXT]], %[[ROW]]
// CHECK: %[[LC:.*]] = arith.remui %[[L0]], %c4
// CHECK: %[[COL:.*]] = arith.muli %[[LC]], %c16
// CHECK: memref.prefetch %[[G]][%[[R]], %[[COL]]], read, locality<3>, data
// CHECK-COUNT-3: memref.prefetch %[[G]]
// CHECK-NOT: memref.prefetch
// CHECK: vector.outerproduct
memref.global "private" constant @packed : memref<64x64xf32> = dense<1.0>
func.func @panels(%a: memref<24x32xf32>, %c: memref<24x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %c24 = arith.constant 24 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant dense<0.0> : vector<6x64xf32>
  %f0 = arith.constant 0.0 : f32
  %g = memref.get_global @packed : memref<64x64xf32>
  scf.for %j = %c0 to %c2 step %c1 {
    %off = arith.muli %j, %c32 : index
    %col = arith.muli %j, %c64 : index
    %panel = memref.subview %g[%off, 0] [32, 64] [1, 1] : memref<64x64xf32> to memref<32x64xf32, strided<[64, 1], offset: ?>>
    scf.for %i = %c0 to %c24 step %c6 {
      %acc = scf.for %k = %c0 to %c32 step %c4 iter_args(%acc = %zero) -> (vector<6x64xf32>) {
        %row = memref.subview %panel[%k, 0] [1, 64] [1, 1] : memref<32x64xf32, strided<[64, 1], offset: ?>> to memref<1x64xf32, strided<[64, 1], offset: ?>>
        %b = vector.load %row[%c0, %c0] : memref<1x64xf32, strided<[64, 1], offset: ?>>, vector<64xf32>
        %av = vector.transfer_read %a[%i, %k], %f0 {in_bounds = [true], permutation_map = affine_map<(d0, d1) -> (d0)>} : memref<24x32xf32>, vector<6xf32>
        %r = vector.outerproduct %av, %b, %acc : vector<6xf32>, vector<64xf32>
        scf.yield %r : vector<6x64xf32>
      }
      %out = memref.subview %c[%i, %col] [6, 64] [1, 1] : memref<24x128xf32> to memref<6x64xf32, strided<[128, 1], offset: ?>>
      vector.transfer_write %acc, %out[%c0, %c0] {in_bounds = [true, true]} : vector<6x64xf32>, memref<6x64xf32, strided<[128, 1], offset: ?>>
    }
  }
  return
}

// -----

// Not prefetched: weights that are not a global constant (an argument).
// CHECK-LABEL: func.func @not_panels
// CHECK-NOT: memref.prefetch
// CHECK: return
func.func @not_panels(%w: memref<64x64xf32>, %a: memref<24x32xf32>, %c: memref<24x64xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %c24 = arith.constant 24 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant dense<0.0> : vector<6x64xf32>
  %f0 = arith.constant 0.0 : f32
  %arg = memref.subview %w[0, 0] [32, 64] [1, 1] : memref<64x64xf32> to memref<32x64xf32, strided<[64, 1]>>
  scf.for %i = %c0 to %c24 step %c6 {
    %acc = scf.for %k = %c0 to %c32 step %c4 iter_args(%acc = %zero) -> (vector<6x64xf32>) {
      %row = memref.subview %arg[%k, 0] [1, 64] [1, 1] : memref<32x64xf32, strided<[64, 1]>> to memref<1x64xf32, strided<[64, 1], offset: ?>>
      %b = vector.load %row[%c0, %c0] : memref<1x64xf32, strided<[64, 1], offset: ?>>, vector<64xf32>
      %av = vector.transfer_read %a[%i, %k], %f0 {in_bounds = [true], permutation_map = affine_map<(d0, d1) -> (d0)>} : memref<24x32xf32>, vector<6xf32>
      %r = vector.outerproduct %av, %b, %acc : vector<6xf32>, vector<64xf32>
      scf.yield %r : vector<6x64xf32>
    }
    vector.transfer_write %acc, %c[%i, %c0] {in_bounds = [true, true]} : vector<6x64xf32>, memref<24x64xf32>
  }
  return
}

// -----

// A remainder tile after a static loop of 4 row tiles: those prefetch the
// next panel (4 lines an iteration), the remainder tile does not.
// CHECK-LABEL: func.func @remainder_after_row_tiles
// CHECK: scf.for %{{.*}} = %c0 to %c24 step %c6
// CHECK-COUNT-4: memref.prefetch
// CHECK-NOT: memref.prefetch
// CHECK: vector.outerproduct
// CHECK: scf.for %{{.*}} = %c0 to %{{.*}} step %c1
// CHECK-NOT: memref.prefetch
// CHECK: return
memref.global "private" constant @packed3 : memref<64x64xf32> = dense<1.0>
func.func @remainder_after_row_tiles(%a: memref<30x32xf32>, %c: memref<30x64xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %c24 = arith.constant 24 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant dense<0.0> : vector<6x64xf32>
  %f0 = arith.constant 0.0 : f32
  %g = memref.get_global @packed3 : memref<64x64xf32>
  %glob = memref.subview %g[0, 0] [32, 64] [1, 1] : memref<64x64xf32> to memref<32x64xf32, strided<[64, 1]>>
  scf.for %i = %c0 to %c24 step %c6 {
    %acc = scf.for %k = %c0 to %c32 step %c4 iter_args(%acc = %zero) -> (vector<6x64xf32>) {
      %row = memref.subview %glob[%k, 0] [1, 64] [1, 1] : memref<32x64xf32, strided<[64, 1]>> to memref<1x64xf32, strided<[64, 1], offset: ?>>
      %b = vector.load %row[%c0, %c0] : memref<1x64xf32, strided<[64, 1], offset: ?>>, vector<64xf32>
      %av = vector.transfer_read %a[%i, %k], %f0 {in_bounds = [true], permutation_map = affine_map<(d0, d1) -> (d0)>} : memref<30x32xf32>, vector<6xf32>
      %r = vector.outerproduct %av, %b, %acc : vector<6xf32>, vector<64xf32>
      scf.yield %r : vector<6x64xf32>
    }
    vector.transfer_write %acc, %c[%i, %c0] {in_bounds = [true, true]} : vector<6x64xf32>, memref<30x64xf32>
  }
  scf.for %once = %c0 to %n step %c1 {
    %acc = scf.for %k = %c0 to %c32 step %c4 iter_args(%acc = %zero) -> (vector<6x64xf32>) {
      %row = memref.subview %glob[%k, 0] [1, 64] [1, 1] : memref<32x64xf32, strided<[64, 1]>> to memref<1x64xf32, strided<[64, 1], offset: ?>>
      %b = vector.load %row[%c0, %c0] : memref<1x64xf32, strided<[64, 1], offset: ?>>, vector<64xf32>
      %av = vector.transfer_read %a[%c24, %k], %f0 {in_bounds = [true], permutation_map = affine_map<(d0, d1) -> (d0)>} : memref<30x32xf32>, vector<6xf32>
      %r = vector.outerproduct %av, %b, %acc : vector<6xf32>, vector<64xf32>
      scf.yield %r : vector<6x64xf32>
    }
    vector.transfer_write %acc, %c[%c24, %c0] {in_bounds = [true, true]} : vector<6x64xf32>, memref<30x64xf32>
  }
  return
}

// -----

// A panel with a single tile (a matrix-vector product: a decoder's step)
// reads each panel once, from memory: a loop of one row tile, and a
// remainder tile's run-once loop (step 1), prefetch the whole next panel
// (128 lines) over their own 8 k iterations, ceil(128 / 8) = 16 lines an
// iteration capped at max-per-iteration = 8: line l = i * 8 + p.
// CHECK-LABEL: func.func @single_tiles
// CHECK: %[[G:.*]] = memref.get_global @packed2
// CHECK: %[[NEXT:.*]] = arith.minui %{{.*}}, %c32
// CHECK: scf.for %{{.*}} = %c0 to %c6 step %c6
// CHECK: scf.for
// CHECK: %[[KI:.*]] = arith.divui %{{.*}}, %c4
// CHECK: %[[KB:.*]] = arith.muli %[[KI]], %c8
// CHECK-COUNT-7: memref.prefetch %[[G]]
// CHECK: %[[L7:.*]] = arith.addi %{{.*}}, %c7
// CHECK: %[[L7C:.*]] = arith.minui %[[L7]], %c127
// CHECK: memref.prefetch %[[G]]
// CHECK-NOT: memref.prefetch
// CHECK: vector.outerproduct
// CHECK: scf.for %{{.*}} = %c0 to %{{.*}} step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c4
// CHECK-NOT: scf.for
// CHECK: %[[RKI:.*]] = arith.divui %{{.*}}, %c4
// CHECK: %[[RKB:.*]] = arith.muli %[[RKI]], %c8
// CHECK: %[[RB:.*]] = arith.addi %c0{{(_[0-9]+)?}}, %[[RKB]]
// CHECK: %[[RL0:.*]] = arith.addi %[[RB]], %c0
// CHECK: %[[RL0C:.*]] = arith.minui %[[RL0]], %c127
// CHECK: %[[RROW:.*]] = arith.divui %[[RL0C]], %c4
// CHECK: %[[RR:.*]] = arith.addi %{{.*}}, %[[RROW]]
// CHECK: memref.prefetch %[[G]][%[[RR]], %{{.*}}]
// CHECK-COUNT-7: memref.prefetch %[[G]]
// CHECK-NOT: memref.prefetch
// CHECK: vector.outerproduct
memref.global "private" constant @packed2 : memref<64x64xf32> = dense<1.0>
func.func @single_tiles(%a: memref<24x32xf32>, %c: memref<24x64xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant dense<0.0> : vector<6x64xf32>
  %f0 = arith.constant 0.0 : f32
  %g = memref.get_global @packed2 : memref<64x64xf32>
  %glob = memref.subview %g[0, 0] [32, 64] [1, 1] : memref<64x64xf32> to memref<32x64xf32, strided<[64, 1]>>
  // One row tile.
  scf.for %i = %c0 to %c6 step %c6 {
    %acc = scf.for %k = %c0 to %c32 step %c4 iter_args(%acc = %zero) -> (vector<6x64xf32>) {
      %row = memref.subview %glob[%k, 0] [1, 64] [1, 1] : memref<32x64xf32, strided<[64, 1]>> to memref<1x64xf32, strided<[64, 1], offset: ?>>
      %b = vector.load %row[%c0, %c0] : memref<1x64xf32, strided<[64, 1], offset: ?>>, vector<64xf32>
      %av = vector.transfer_read %a[%i, %k], %f0 {in_bounds = [true], permutation_map = affine_map<(d0, d1) -> (d0)>} : memref<24x32xf32>, vector<6xf32>
      %r = vector.outerproduct %av, %b, %acc : vector<6xf32>, vector<64xf32>
      scf.yield %r : vector<6x64xf32>
    }
    vector.transfer_write %acc, %c[%i, %c0] {in_bounds = [true, true]} : vector<6x64xf32>, memref<24x64xf32>
  }
  // A remainder tile, run at most once.
  scf.for %once = %c0 to %n step %c1 {
    %acc = scf.for %k = %c0 to %c32 step %c4 iter_args(%acc = %zero) -> (vector<6x64xf32>) {
      %row = memref.subview %glob[%k, 0] [1, 64] [1, 1] : memref<32x64xf32, strided<[64, 1]>> to memref<1x64xf32, strided<[64, 1], offset: ?>>
      %b = vector.load %row[%c0, %c0] : memref<1x64xf32, strided<[64, 1], offset: ?>>, vector<64xf32>
      %av = vector.transfer_read %a[%c0, %k], %f0 {in_bounds = [true], permutation_map = affine_map<(d0, d1) -> (d0)>} : memref<24x32xf32>, vector<6xf32>
      %r = vector.outerproduct %av, %b, %acc : vector<6xf32>, vector<64xf32>
      scf.yield %r : vector<6x64xf32>
    }
    vector.transfer_write %acc, %c[%c0, %c0] {in_bounds = [true, true]} : vector<6x64xf32>, memref<24x64xf32>
  }
  return
}

// -----

// AVX2-width panels (16 floats: one cache line a row, 32 lines a panel) and
// a dynamic row count (M not known at compile time): the count is taken to
// be assumed-row-tiles = 16, so each of the 8 k iterations prefetches
// ceil(32 / (16 * 8)) = 1 line: line l = t * 8 + i, row l, column 0.
// CHECK-LABEL: func.func @dynamic_rows_avx2
// CHECK: %[[G:.*]] = memref.get_global @packed16
// CHECK: scf.for %{{.*}} = %c0 to %{{.*}} step %c6
// CHECK: %[[TB:.*]] = arith.muli %{{.*}}, %c8
// CHECK: scf.for
// CHECK: arith.minui %{{.*}}, %c31
// CHECK: arith.divui %{{.*}}, %c1
// CHECK: memref.prefetch %[[G]][%{{.*}}, %{{.*}}], read, locality<3>, data
// CHECK-NOT: memref.prefetch
// CHECK: vector.outerproduct
memref.global "private" constant @packed16 : memref<64x16xf32> = dense<1.0>
func.func @dynamic_rows_avx2(%a: memref<?x32xf32>, %c: memref<?x32xf32>, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant dense<0.0> : vector<6x16xf32>
  %f0 = arith.constant 0.0 : f32
  %g = memref.get_global @packed16 : memref<64x16xf32>
  scf.for %j = %c0 to %c2 step %c1 {
    %off = arith.muli %j, %c32 : index
    %col = arith.muli %j, %c16 : index
    %panel = memref.subview %g[%off, 0] [32, 16] [1, 1] : memref<64x16xf32> to memref<32x16xf32, strided<[16, 1], offset: ?>>
    scf.for %i = %c0 to %m step %c6 {
      %acc = scf.for %k = %c0 to %c32 step %c4 iter_args(%acc = %zero) -> (vector<6x16xf32>) {
        %row = memref.subview %panel[%k, 0] [1, 16] [1, 1] : memref<32x16xf32, strided<[16, 1], offset: ?>> to memref<1x16xf32, strided<[16, 1], offset: ?>>
        %b = vector.load %row[%c0, %c0] : memref<1x16xf32, strided<[16, 1], offset: ?>>, vector<16xf32>
        %av = vector.transfer_read %a[%i, %k], %f0 {in_bounds = [true], permutation_map = affine_map<(d0, d1) -> (d0)>} : memref<?x32xf32>, vector<6xf32>
        %r = vector.outerproduct %av, %b, %acc : vector<6xf32>, vector<16xf32>
        scf.yield %r : vector<6x16xf32>
      }
      %out = memref.subview %c[%i, %col] [6, 16] [1, 1] : memref<?x32xf32> to memref<6x16xf32, strided<[32, 1], offset: ?>>
      vector.transfer_write %acc, %out[%c0, %c0] {in_bounds = [true, true]} : vector<6x16xf32>, memref<6x16xf32, strided<[32, 1], offset: ?>>
    }
  }
  return
}

// -----

// f16 panels of 16 columns (the AVX2 register tile's): a row is 32 bytes,
// two rows to a cache line. K = 32 rows make 16 lines a panel; 4 row tiles
// of a k loop of 8 iterations prefetch ceil(16 / 32) = 1 line each: line
// l = t * 8 + i (at most 15), row 2 * l, column 0.
// CHECK-LABEL: func.func @half_rows
// CHECK: %[[G:.*]] = memref.get_global @packed_half
// CHECK: %[[NEXT:.*]] = arith.minui %{{.*}}, %c32
// CHECK: scf.for %[[K:.*]] = %c0 to %c32 step %c4
// CHECK: %[[L0:.*]] = arith.minui %{{.*}}, %c15
// CHECK: %[[LR:.*]] = arith.divui %[[L0]], %c1{{(_[0-9]+)?}} :
// CHECK: %[[ROW:.*]] = arith.muli %[[LR]], %c2{{(_[0-9]+)?}} :
// CHECK: %[[R:.*]] = arith.addi %[[NEXT]], %[[ROW]]
// CHECK: memref.prefetch %[[G]][%[[R]], %{{.*}}], read, locality<3>, data
// CHECK-NOT: memref.prefetch
// CHECK: vector.outerproduct
memref.global "private" constant @packed_half : memref<64x16xf16> = dense<1.0>
func.func @half_rows(%a: memref<24x32xf32>, %c: memref<24x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %c16 = arith.constant 16 : index
  %c24 = arith.constant 24 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant dense<0.0> : vector<6x16xf32>
  %f0 = arith.constant 0.0 : f32
  %h0 = arith.constant 0.0 : f16
  %g = memref.get_global @packed_half : memref<64x16xf16>
  scf.for %j = %c0 to %c2 step %c1 {
    %off = arith.muli %j, %c32 : index
    %col = arith.muli %j, %c16 : index
    %panel = memref.subview %g[%off, 0] [32, 16] [1, 1] : memref<64x16xf16> to memref<32x16xf16, strided<[16, 1], offset: ?>>
    scf.for %i = %c0 to %c24 step %c6 {
      %acc = scf.for %k = %c0 to %c32 step %c4 iter_args(%acc = %zero) -> (vector<6x16xf32>) {
        %row = memref.subview %panel[%k, 0] [1, 16] [1, 1] : memref<32x16xf16, strided<[16, 1], offset: ?>> to memref<1x16xf16, strided<[16, 1], offset: ?>>
        %bh = vector.load %row[%c0, %c0] : memref<1x16xf16, strided<[16, 1], offset: ?>>, vector<16xf16>
        %b = arith.extf %bh : vector<16xf16> to vector<16xf32>
        %av = vector.transfer_read %a[%i, %k], %f0 {in_bounds = [true], permutation_map = affine_map<(d0, d1) -> (d0)>} : memref<24x32xf32>, vector<6xf32>
        %r = vector.outerproduct %av, %b, %acc : vector<6xf32>, vector<16xf32>
        scf.yield %r : vector<6x16xf32>
      }
      %out = memref.subview %c[%i, %col] [6, 16] [1, 1] : memref<24x32xf32> to memref<6x16xf32, strided<[32, 1], offset: ?>>
      vector.transfer_write %acc, %out[%c0, %c0] {in_bounds = [true, true]} : vector<6x16xf32>, memref<6x16xf32, strided<[32, 1], offset: ?>>
    }
  }
  return
}

// -----

// Not prefetched: rows of 48 bytes (24 f16 columns), neither whole cache
// lines nor a fraction of one that lines up with them.
// CHECK-LABEL: func.func @rows_across_lines
// CHECK-NOT: memref.prefetch
// CHECK: return
memref.global "private" constant @packed_48 : memref<64x24xf16> = dense<1.0>
func.func @rows_across_lines(%a: memref<24x32xf32>, %c: memref<24x48xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %c24 = arith.constant 24 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant dense<0.0> : vector<6x24xf32>
  %f0 = arith.constant 0.0 : f32
  %g = memref.get_global @packed_48 : memref<64x24xf16>
  scf.for %j = %c0 to %c2 step %c1 {
    %off = arith.muli %j, %c32 : index
    %col = arith.muli %j, %c24 : index
    %panel = memref.subview %g[%off, 0] [32, 24] [1, 1] : memref<64x24xf16> to memref<32x24xf16, strided<[24, 1], offset: ?>>
    scf.for %i = %c0 to %c24 step %c6 {
      %acc = scf.for %k = %c0 to %c32 step %c4 iter_args(%acc = %zero) -> (vector<6x24xf32>) {
        %row = memref.subview %panel[%k, 0] [1, 24] [1, 1] : memref<32x24xf16, strided<[24, 1], offset: ?>> to memref<1x24xf16, strided<[24, 1], offset: ?>>
        %bh = vector.load %row[%c0, %c0] : memref<1x24xf16, strided<[24, 1], offset: ?>>, vector<24xf16>
        %b = arith.extf %bh : vector<24xf16> to vector<24xf32>
        %av = vector.transfer_read %a[%i, %k], %f0 {in_bounds = [true], permutation_map = affine_map<(d0, d1) -> (d0)>} : memref<24x32xf32>, vector<6xf32>
        %r = vector.outerproduct %av, %b, %acc : vector<6xf32>, vector<24xf32>
        scf.yield %r : vector<6x24xf32>
      }
      %out = memref.subview %c[%i, %col] [6, 24] [1, 1] : memref<24x48xf32> to memref<6x24xf32, strided<[48, 1], offset: ?>>
      vector.transfer_write %acc, %out[%c0, %c0] {in_bounds = [true, true]} : vector<6x24xf32>, memref<6x24xf32, strided<[48, 1], offset: ?>>
    }
  }
  return
}
