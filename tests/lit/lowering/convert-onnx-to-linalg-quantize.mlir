// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// QuantizeLinear per axis: scale and zero point read along dim 1; round half
// to even, add the zero point, saturate to the int8 range.
// CHECK-DAG: #[[AXIS:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @quantize_per_axis
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[AXIS]], #[[AXIS]], #{{.*}}]
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.fptosi %{{.*}} : f32 to i8
func.func @quantize_per_axis(%x: tensor<2x3xf32>, %s: tensor<3xf32>, %z: tensor<3xi8>) -> tensor<2x3xi8> {
  %0 = onnx.QuantizeLinear %x, %s, %z {axis = 1 : si64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3xi8>
  return %0 : tensor<2x3xi8>
}

// -----

// DequantizeLinear per tensor of uint8 (signless after conversion; the ops
// keep it unsigned).
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @dequantize
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[SCALAR]], #[[SCALAR]], #{{.*}}]
// CHECK: arith.uitofp
// CHECK: arith.uitofp
// CHECK: arith.subf
// CHECK: arith.mulf
func.func @dequantize(%x: tensor<4xui8>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<4xf32> {
  %0 = onnx.DequantizeLinear %x, %s, %z : (tensor<4xui8>, tensor<f32>, tensor<ui8>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// MatMulInteger: both operands widened to i32 (A minus its zero point),
// then the matmul of MatMul.
// CHECK-LABEL: func.func @matmul_integer
// CHECK: %[[A:.*]] = linalg.generic {{.*}} ins(%arg0, %arg2 : tensor<4x3xi8>, tensor<i8>) outs(%{{.*}} : tensor<4x3xi32>)
// CHECK: arith.extui
// CHECK: arith.subi
// CHECK: %[[B:.*]] = linalg.generic {{.*}} ins(%arg1 : tensor<3x2xi8>) outs(%{{.*}} : tensor<3x2xi32>)
// CHECK: linalg.matmul ins(%[[A]], %[[B]] : tensor<4x3xi32>, tensor<3x2xi32>)
func.func @matmul_integer(%a: tensor<4x3xui8>, %b: tensor<3x2xui8>, %za: tensor<ui8>) -> tensor<4x2xi32> {
  %0 = onnx.MatMulInteger %a, %b, %za {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x3xui8>, tensor<3x2xui8>, tensor<ui8>) -> tensor<4x2xi32>
  return %0 : tensor<4x2xi32>
}

// -----

// DynamicQuantizeLinear: one generic reduces x to min(0, min x) and
// max(0, max x) (both start at 0), the scale and zero point are scalar
// arithmetic on them, and one generic quantizes to [0, 255].
// CHECK-LABEL: func.func @dynamic_quantize
// CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%{{.*}} : tensor<?x5xf32>) outs(%{{.*}}, %{{.*}} : tensor<f32>, tensor<f32>)
// CHECK:   arith.minimumf
// CHECK:   arith.maximumf
// CHECK: %[[LO:.*]] = tensor.extract %[[R]]#0[]
// CHECK: %[[HI:.*]] = tensor.extract %[[R]]#1[]
// CHECK: %[[SPAN:.*]] = arith.subf %[[HI]], %[[LO]]
// CHECK: %[[SCALE:.*]] = arith.divf %[[SPAN]]
// CHECK: %[[Q:.*]] = arith.divf %[[LO]], %[[SCALE]]
// CHECK: %[[NEG:.*]] = arith.negf %[[Q]]
// CHECK: %[[ZP:.*]] = math.roundeven %[[NEG]]
// CHECK: %[[ZPC:.*]] = arith.minimumf
// CHECK: %[[Y:.*]] = linalg.generic
// CHECK:   arith.divf %{{.*}}, %[[SCALE]]
// CHECK:   math.roundeven
// CHECK:   arith.addf %{{.*}}, %[[ZPC]]
// CHECK:   arith.fptoui %{{.*}} : f32 to i8
// CHECK: %[[S:.*]] = tensor.from_elements %[[SCALE]] : tensor<f32>
// CHECK: return %[[Y]], %[[S]], %{{.*}} : tensor<?x5xi8>, tensor<f32>, tensor<i8>
func.func @dynamic_quantize(%x: tensor<?x5xf32>) -> (tensor<?x5xui8>, tensor<f32>, tensor<ui8>) {
  %y, %s, %z = onnx.DynamicQuantizeLinear %x : (tensor<?x5xf32>) -> (tensor<?x5xui8>, tensor<f32>, tensor<ui8>)
  return %y, %s, %z : tensor<?x5xui8>, tensor<f32>, tensor<ui8>
}

// -----

// QLinearMatMul: both operands widened to i32 minus their zero points (as
// MatMulInteger), one i32 matmul, then requantized by the f32 multiplier
// a_scale * b_scale / y_scale, rounded half to even, shifted by y_zero_point
// and saturated to [0, 255].
// CHECK-LABEL: func.func @qlinear_matmul
// CHECK-SAME: (%[[A:.*]]: tensor<2x4xi8>, %[[AS:.*]]: tensor<f32>, %[[AZ:.*]]: tensor<i8>, %[[B:.*]]: tensor<4x3xi8>, %[[BS:.*]]: tensor<f32>, %[[BZ:.*]]: tensor<i8>, %[[YS:.*]]: tensor<f32>, %[[YZ:.*]]: tensor<i8>)
// CHECK: %[[WA:.*]] = linalg.generic {{.*}} ins(%[[A]], %[[AZ]] : tensor<2x4xi8>, tensor<i8>) outs(%{{.*}} : tensor<2x4xi32>)
// CHECK:   arith.extui
// CHECK:   arith.subi
// CHECK: %[[WB:.*]] = linalg.generic {{.*}} ins(%[[B]], %[[BZ]] : tensor<4x3xi8>, tensor<i8>) outs(%{{.*}} : tensor<4x3xi32>)
// CHECK: %[[ACC:.*]] = linalg.matmul ins(%[[WA]], %[[WB]] : tensor<2x4xi32>, tensor<4x3xi32>)
// CHECK: %[[SA:.*]] = tensor.extract %[[AS]][]
// CHECK: %[[SY:.*]] = tensor.extract %[[YS]][]
// CHECK: %[[Z:.*]] = arith.uitofp
// CHECK: linalg.generic {{.*}} ins(%[[ACC]], %[[BS]] : tensor<2x3xi32>, tensor<f32>) outs(%{{.*}} : tensor<2x3xi8>)
// CHECK:   ^bb0(%{{.*}}: i32, %[[SB:.*]]: f32,
// CHECK:   %[[AB:.*]] = arith.mulf %[[SA]], %[[SB]]
// CHECK:   %[[M:.*]] = arith.divf %[[AB]], %[[SY]]
// CHECK:   %[[F:.*]] = arith.sitofp
// CHECK:   %[[P:.*]] = arith.mulf %[[F]], %[[M]]
// CHECK:   %[[R:.*]] = math.roundeven %[[P]]
// CHECK:   arith.addf %[[R]], %[[Z]]
// CHECK:   arith.maximumf
// CHECK:   arith.minimumf
// CHECK:   arith.fptoui
func.func @qlinear_matmul(%a: tensor<2x4xui8>, %as: tensor<f32>, %az: tensor<ui8>, %b: tensor<4x3xui8>, %bs: tensor<f32>, %bz: tensor<ui8>, %ys: tensor<f32>, %yz: tensor<ui8>) -> tensor<2x3xui8> {
  %y = onnx.QLinearMatMul %a, %as, %az, %b, %bs, %bz, %ys, %yz : (tensor<2x4xui8>, tensor<f32>, tensor<ui8>, tensor<4x3xui8>, tensor<f32>, tensor<ui8>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
  return %y : tensor<2x3xui8>
}

// -----

// QuantizeLinear to int8 saturates to [-128, 127] (a conditional mixing
// uint64_t and int64_t once made the lower bound 2^64 - 128, so every value
// became 127).
// CHECK-LABEL: func.func @quantize_int8
// CHECK: linalg.generic
// CHECK:   math.roundeven
// CHECK:   %[[LO:.*]] = arith.constant -1.280000e+02 : f32
// CHECK:   arith.maximumf %{{.*}}, %[[LO]]
// CHECK:   %[[HI:.*]] = arith.constant 1.270000e+02 : f32
// CHECK:   arith.minimumf %{{.*}}, %[[HI]]
// CHECK:   arith.fptosi %{{.*}} : f32 to i8
func.func @quantize_int8(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<4xi8> {
  %y = onnx.QuantizeLinear %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xi8>
  return %y : tensor<4xi8>
}
