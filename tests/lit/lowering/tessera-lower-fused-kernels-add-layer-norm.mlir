// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg --tessera-lower-fused-kernels=vector-bits=512 | FileCheck %s
// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg --tessera-lower-fused-kernels | FileCheck %s --check-prefix=AVX2

// tessera.add_layer_norm: one loop per leading axis, then three vector loops
// over the row: x + bias + residual written to `sum` and accumulated, the
// squared deviations accumulated, y written. The [S, D] residual broadcasts
// over the batch: it is read without the batch index.
// CHECK-LABEL: func.func @bias_broadcast
// With 256-bit vectors (the default), the same loops in 8 lanes.
// AVX2-LABEL: func.func @bias_broadcast
// AVX2: scf.for %{{.*}} = %{{.*}} to %c32 step %c8 {{.*}} -> (tensor<2x3x32xf32>, vector<8xf32>)
// AVX2-NOT: vector<16xf32>
// AVX2: vector.reduction <add>, %{{.*}} : vector<8xf32> into f32
// AVX2-LABEL: func.func @
// CHECK-SAME: (%[[X:[^:]*]]: tensor<2x3x32xf32>, %[[R:[^:]*]]: tensor<3x32xf32>, %[[BIAS:[^:]*]]: tensor<32xf32>, %[[G:[^:]*]]: tensor<32xf32>, %[[B:[^:]*]]: tensor<32xf32>)
// CHECK-DAG: %[[YINIT:.*]] = bufferization.alloc_tensor() : tensor<2x3x32xf32>
// CHECK-DAG: %[[SINIT:.*]] = bufferization.alloc_tensor() : tensor<2x3x32xf32>
// CHECK: %[[OUT:.*]]:2 = scf.for %[[I:.*]] = %{{.*}} to %c2 step %{{.*}} iter_args(%{{.*}} = %[[YINIT]], %{{.*}} = %[[SINIT]])
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %c3 step
// 1. The sum.
// CHECK: %[[ROW:.*]]:2 = scf.for %[[K:.*]] = %{{.*}} to %c32 step %c16 {{.*}} -> (tensor<2x3x32xf32>, vector<16xf32>)
// CHECK: %[[XV:.*]] = vector.transfer_read %[[X]][%[[I]], %[[J]], %[[K]]]{{.*}} : tensor<2x3x32xf32>, vector<16xf32>
// CHECK: %[[BV:.*]] = vector.transfer_read %[[BIAS]][%[[K]]]
// CHECK: %[[XB:.*]] = arith.addf %[[XV]], %[[BV]] : vector<16xf32>
// CHECK: %[[RV:.*]] = vector.transfer_read %[[R]][%[[J]], %[[K]]]{{.*}} : tensor<3x32xf32>, vector<16xf32>
// CHECK: %[[SV:.*]] = arith.addf %[[XB]], %[[RV]] : vector<16xf32>
// CHECK: vector.transfer_write %[[SV]], %{{.*}}[%[[I]], %[[J]], %[[K]]]
// CHECK: arith.addf %{{.*}}, %[[SV]] : vector<16xf32>
// CHECK: %[[TOTAL:.*]] = vector.reduction <add>, %[[ROW]]#1 : vector<16xf32> into f32
// CHECK: %[[MEAN:.*]] = arith.divf %[[TOTAL]], %{{.*}} : f32
// 2. The variance.
// CHECK: scf.for
// CHECK: vector.transfer_read %[[ROW]]#0[%[[I]], %[[J]], %{{.*}}]
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: vector.reduction <add>
// CHECK: %[[EPS:.*]] = arith.constant 9.99999996E-13 : f32
// CHECK: arith.addf %{{.*}}, %[[EPS]] : f32
// CHECK: math.sqrt
// 3. y = (s - mean) * rstd * gamma + beta.
// CHECK: scf.for
// CHECK: vector.transfer_read %[[ROW]]#0
// CHECK: arith.subf
// CHECK: %[[SCALED:.*]] = arith.mulf
// CHECK: %[[GV:.*]] = vector.transfer_read %[[G]]
// CHECK: arith.mulf %[[SCALED]], %[[GV]]
// CHECK: vector.transfer_read %[[B]]
// CHECK: arith.addf
// CHECK: vector.transfer_write
// CHECK: return %[[OUT]]#0, %[[OUT]]#1
// CHECK-NOT: tessera.
func.func @bias_broadcast(%x: tensor<2x3x32xf32>, %r: tensor<3x32xf32>, %bias: tensor<32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>) -> (tensor<2x3x32xf32>, tensor<2x3x32xf32>) {
  %y, %s = tessera.add_layer_norm %x, %r, %bias, %g, %b {epsilon = 1.0e-12 : f32, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<2x3x32xf32>, tensor<3x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) -> (tensor<2x3x32xf32>, tensor<2x3x32xf32>)
  return %y, %s : tensor<2x3x32xf32>, tensor<2x3x32xf32>
}

// -----

// D = 20: a 16-lane loop, then one 4-lane remainder, padded into the 16-lane
// accumulator; no scalar loop.
// CHECK-LABEL: func.func @remainder
// CHECK: scf.for %{{.*}} = %{{.*}} to %c16{{.*}} step %c16
// CHECK: vector.transfer_read {{.*}} : tensor<4x20xf32>, vector<16xf32>
// CHECK: %[[T:.*]] = vector.transfer_read %arg0[%{{.*}}, %c16{{.*}}]{{.*}} : tensor<4x20xf32>, vector<4xf32>
// CHECK: vector.insert_strided_slice %{{.*}}, %{{.*}} {offsets = [0], strides = [1]} : vector<4xf32> into vector<16xf32>
// CHECK: vector.reduction <add>
// CHECK-NOT: tensor.extract
// CHECK-NOT: memref.load
func.func @remainder(%x: tensor<4x20xf32>, %r: tensor<4x20xf32>, %g: tensor<20xf32>) -> tensor<4x20xf32> {
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<4x20xf32>, tensor<4x20xf32>, tensor<20xf32>) -> (tensor<4x20xf32>, tensor<4x20xf32>)
  return %y : tensor<4x20xf32>
}

// -----

// f16: the sum is kept in f16 (as the Add would), the statistics in f32.
// CHECK-LABEL: func.func @half
// CHECK: %[[S:.*]] = arith.addf %{{.*}}, %{{.*}} : vector<16xf16>
// CHECK: arith.extf %[[S]] : vector<16xf16> to vector<16xf32>
// CHECK: arith.truncf %{{.*}} : vector<16xf32> to vector<16xf16>
func.func @half(%x: tensor<2x16xf16>, %r: tensor<2x16xf16>, %g: tensor<16xf16>) -> tensor<2x16xf16> {
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<2x16xf16>, tensor<2x16xf16>, tensor<16xf16>) -> (tensor<2x16xf16>, tensor<2x16xf16>)
  return %y : tensor<2x16xf16>
}

// -----

// X broadcasts too ([2, 1, D] + [1, 5, D] -> [2, 5, D]): each read skips the
// index of its broadcast axis.
// CHECK-LABEL: func.func @both_broadcast
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %c2
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %c5
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %c16
// CHECK: vector.transfer_read %arg0[%[[I]], %[[C0:.*]], %[[K]]]{{.*}} : tensor<2x1x16xf32>, vector<16xf32>
// CHECK: vector.transfer_read %arg1[%[[C0]], %[[J]], %[[K]]]{{.*}} : tensor<1x5x16xf32>, vector<16xf32>
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%[[I]], %[[J]], %[[K]]]{{.*}} : vector<16xf32>, tensor<2x5x16xf32>
func.func @both_broadcast(%x: tensor<2x1x16xf32>, %r: tensor<1x5x16xf32>, %g: tensor<16xf32>) -> tensor<2x5x16xf32> {
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<2x1x16xf32>, tensor<1x5x16xf32>, tensor<16xf32>) -> (tensor<2x5x16xf32>, tensor<2x5x16xf32>)
  return %y : tensor<2x5x16xf32>
}

// -----

// Dynamic batch and sequence (the row size stays static): the row loops run
// to the run-time sizes (the outer one writing through whole slices of the
// results, so that their dims fold back to the inputs'), X and the residual
// are checked to agree, and the row is still three 16-wide vector loops.
// CHECK-LABEL: func.func @dynamic_rows
// CHECK: %[[B:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[RB:.*]] = tensor.dim %arg1, %c0
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[RB]], %[[B]]
// CHECK: cf.assert %[[OK]], "node 'ln': X and the residual do not broadcast to the result"
// CHECK: %[[S:.*]] = tensor.dim %arg0, %c1
// CHECK: bufferization.alloc_tensor(%[[B]], %[[S]]) : tensor<?x?x32xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[B]] step {{.*}} iter_args(%[[Y:.*]] = %{{.*}}, %[[SUM:.*]] = %{{.*}})
// CHECK-DAG: tensor.extract_slice %[[Y]][0, 0, 0] [%{{.*}}, %{{.*}}, 32] [1, 1, 1]
// CHECK-DAG: tensor.extract_slice %[[SUM]][0, 0, 0] [%{{.*}}, %{{.*}}, 32] [1, 1, 1]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[S]] step
// CHECK: vector.transfer_read %arg0{{.*}} : tensor<?x?x32xf32>, vector<16xf32>
// CHECK: vector.reduction <add>
// CHECK-NOT: tessera.
func.func @dynamic_rows(%x: tensor<?x?x32xf32>, %r: tensor<?x?x32xf32>, %g: tensor<32xf32>) -> (tensor<?x?x32xf32>, tensor<?x?x32xf32>) {
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<32xf32>) -> (tensor<?x?x32xf32>, tensor<?x?x32xf32>) loc("ln")
  return %y, %s : tensor<?x?x32xf32>, tensor<?x?x32xf32>
}

// -----

// X fresh from a matmul (a projection, dynamic rows): the residual sum is an
// elementwise linalg.generic over the rows, x (+ bias) + residual, beside the
// matmul (tessera-pack-matmul-weights makes it the matmul's epilogue); the
// kernel normalises the sum, which it reads and does not write.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @after_matmul
// CHECK: %[[C:.*]] = linalg.matmul
// CHECK: %[[X:.*]] = tensor.expand_shape %[[C]] {{\[}}[0, 1], [2]]
// CHECK: %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<?x?x32xf32> into tensor<?x32xf32>
// CHECK: %[[R2:.*]] = tensor.collapse_shape %arg1 {{\[}}[0, 1], [2]] : tensor<?x?x32xf32> into tensor<?x32xf32>
// CHECK: %[[S2:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X2]], %arg2, %[[R2]] : tensor<?x32xf32>, tensor<32xf32>, tensor<?x32xf32>)
// CHECK: ^bb0(%[[XE:.*]]: f32, %[[BE:.*]]: f32, %[[RE:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[XB:.*]] = arith.addf %[[XE]], %[[BE]] : f32
// CHECK: %[[SE:.*]] = arith.addf %[[XB]], %[[RE]] : f32
// CHECK: linalg.yield %[[SE]]
// CHECK: %[[S:.*]] = tensor.expand_shape %[[S2]] {{\[}}[0, 1], [2]]
// CHECK: %[[YINIT:.*]] = bufferization.alloc_tensor(%{{.*}}, %{{.*}}) : tensor<?x?x32xf32>
// CHECK-NOT: bufferization.alloc_tensor
// CHECK: %[[Y:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[YINIT]]) -> (tensor<?x?x32xf32>)
// CHECK: vector.transfer_read %[[S]]
// CHECK-NOT: vector.transfer_read %arg1
// CHECK: return %[[Y]], %[[S]]
func.func @after_matmul(%a: tensor<?x?x16xf32>, %r: tensor<?x?x32xf32>, %bias: tensor<32xf32>, %g: tensor<32xf32>) -> (tensor<?x?x32xf32>, tensor<?x?x32xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x32xf32>} : tensor<16x32xf32>
  %x = tessera.matmul %a, %w : (tensor<?x?x16xf32>, tensor<16x32xf32>) -> tensor<?x?x32xf32>
  %y, %s = tessera.add_layer_norm %x, %r, %bias, %g {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<32xf32>, tensor<32xf32>) -> (tensor<?x?x32xf32>, tensor<?x?x32xf32>)
  return %y, %s : tensor<?x?x32xf32>, tensor<?x?x32xf32>
}

// -----

// tessera.add_layer_norm with norm = "rms": the sum is written and its
// squares accumulated in the same loop; no mean, no second pass.
// CHECK-LABEL: func.func @add_rms_norm
// CHECK: %[[ROW:.*]]:2 = scf.for {{.*}} -> (tensor<2x32xf32>, vector<16xf32>)
// CHECK: %[[S:.*]] = arith.addf
// CHECK: vector.transfer_write %[[S]]
// CHECK: arith.mulf %[[S]], %[[S]]
// CHECK: vector.reduction <add>, %[[ROW]]#1
// CHECK-NOT: arith.subf
// CHECK: math.sqrt
// CHECK: vector.transfer_read %[[ROW]]#0
func.func @add_rms_norm(%x: tensor<2x32xf32>, %r: tensor<2x32xf32>, %g: tensor<32xf32>) -> (tensor<2x32xf32>, tensor<2x32xf32>) {
  %y, %sum = tessera.add_layer_norm %x, %r, %g {norm = "rms", operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<2x32xf32>, tensor<2x32xf32>, tensor<32xf32>) -> (tensor<2x32xf32>, tensor<2x32xf32>)
  return %y, %sum : tensor<2x32xf32>, tensor<2x32xf32>
}

// -----

// Near miss: X from a matmul that something else reads too. The matmul's
// result could not take the sum as its epilogue, so there is no separate
// sum: the kernel reads X and the residual and writes the sum itself.
// CHECK-LABEL: func.func @after_matmul_two_uses
// CHECK: %[[X:.*]] = tensor.expand_shape
// CHECK-NOT: linalg.generic
// CHECK: bufferization.alloc_tensor
// CHECK: bufferization.alloc_tensor
// CHECK: vector.transfer_read %[[X]]
// CHECK: vector.transfer_read %arg1
func.func @after_matmul_two_uses(%a: tensor<2x3x16xf32>, %r: tensor<2x3x32xf32>, %g: tensor<32xf32>) -> (tensor<2x3x32xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>) {
  %w = onnx.Constant {value = dense<0.5> : tensor<16x32xf32>} : tensor<16x32xf32>
  %x = tessera.matmul %a, %w : (tensor<2x3x16xf32>, tensor<16x32xf32>) -> tensor<2x3x32xf32>
  %y, %s = tessera.add_layer_norm %x, %r, %g {operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>} : (tensor<2x3x32xf32>, tensor<2x3x32xf32>, tensor<32xf32>) -> (tensor<2x3x32xf32>, tensor<2x3x32xf32>)
  return %y, %s, %x : tensor<2x3x32xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>
}
