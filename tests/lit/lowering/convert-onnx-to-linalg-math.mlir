// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// The math functions and activations of Math.td: each is one linalg.generic
// whose body is its scalar definition.

// CHECK-LABEL: func.func @rounding_and_trig
// CHECK: linalg.generic
// CHECK: math.floor
// CHECK: linalg.generic
// CHECK: math.roundeven
// CHECK: linalg.generic
// CHECK: math.asinh
// CHECK-NOT: onnx.
func.func @rounding_and_trig(%x: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) {
  %0 = onnx.Floor %x : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %1 = onnx.Round %x : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %2 = onnx.Asinh %x : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0, %1, %2 : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// Elu: x < 0 ? alpha (e^x - 1) : x, with the attribute as a constant.
// CHECK-LABEL: func.func @elu
// CHECK: linalg.generic
// CHECK: %[[E:.*]] = math.exp %[[X:.*]] : f32
// CHECK: %[[EM1:.*]] = arith.subf %[[E]]
// CHECK: %[[ALPHA:.*]] = arith.constant 2.500000e+00 : f32
// CHECK: %[[NEG:.*]] = arith.mulf %[[ALPHA]], %[[EM1]]
// CHECK: %[[LT:.*]] = arith.cmpf olt, %[[X]]
// CHECK: arith.select %[[LT]], %[[NEG]], %[[X]]
func.func @elu(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = onnx.Elu %x {alpha = 2.5 : f32} : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Softplus cannot overflow: max(x, 0) + log1p(e^-|x|).
// CHECK-LABEL: func.func @softplus
// CHECK: math.absf
// CHECK: math.exp
// CHECK: math.log1p
// CHECK: arith.maximumf
func.func @softplus(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = onnx.Softplus %x : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Mod with fmod 0 takes the divisor's sign: the remainder moves by the
// divisor when the signs differ. fmod 1 is the plain remainder.
// CHECK-LABEL: func.func @mod
// CHECK: linalg.generic
// CHECK: arith.remsi
// CHECK: arith.xori
// CHECK: arith.addi
// CHECK: arith.select
// CHECK: linalg.generic
// CHECK: arith.remf
// CHECK-NEXT: linalg.yield
func.func @mod(%a: tensor<4xi32>, %b: tensor<4xi32>, %x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xi32>, tensor<4xf32>) {
  %0 = onnx.Mod %a, %b : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %1 = onnx.Mod %x, %y {fmod = 1 : si64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0, %1 : tensor<4xi32>, tensor<4xf32>
}

// -----

// BitShift of unsigned values: shifting by the bit width or more gives 0.
// CHECK-LABEL: func.func @bitshift
// CHECK: arith.shrui
// CHECK: arith.cmpi uge
// CHECK: arith.select
func.func @bitshift(%x: tensor<3xui8>, %y: tensor<3xui8>) -> tensor<3xui8> {
  %0 = onnx.BitShift %x, %y {direction = "RIGHT"} : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
  return %0 : tensor<3xui8>
}

// -----

// Variadic Mean with broadcasting: one generic over three operands.
// CHECK-LABEL: func.func @mean
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3xf32>, tensor<2x3xf32>)
// CHECK: arith.addf
// CHECK: arith.addf
// CHECK: arith.divf
func.func @mean(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %c: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = onnx.Mean %a, %b, %c : (tensor<2x3xf32>, tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// IsNaN is an unordered self-comparison; IsInf compares with +inf only when
// negatives are not asked for.
// CHECK-LABEL: func.func @classes
// CHECK: arith.cmpf uno
// CHECK: arith.cmpf oeq
// CHECK-NOT: arith.negf
// CHECK: return
func.func @classes(%x: tensor<3xf32>) -> (tensor<3xi1>, tensor<3xi1>) {
  %0 = onnx.IsNaN %x : (tensor<3xf32>) -> tensor<3xi1>
  %1 = onnx.IsInf %x {detect_negative = 0 : si64} : (tensor<3xf32>) -> tensor<3xi1>
  return %0, %1 : tensor<3xi1>, tensor<3xi1>
}

// -----

// Shrink of integers runs in f64 (lambd and bias are floats) and converts
// back.
// CHECK-LABEL: func.func @shrink_int
// CHECK: arith.sitofp {{.*}} : i32 to f64
// CHECK-DAG: arith.cmpf ogt
// CHECK-DAG: arith.cmpf olt
// CHECK: arith.fptosi {{.*}} : f64 to i32
func.func @shrink_int(%x: tensor<4xi32>) -> tensor<4xi32> {
  %0 = onnx.Shrink %x {bias = 1.0 : f32, lambd = 1.5 : f32} : (tensor<4xi32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}
