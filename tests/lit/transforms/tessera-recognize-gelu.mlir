// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-recognize-gelu))' | FileCheck %s
// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-recognize-gelu{report=true}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT

// BERT/ViT (opset 14 and 17): (x * (1 + erf(x / sqrt 2))) * 0.5. The
// default approximate = "none" is not printed.
// CHECK-LABEL: func.func @erf_div
// CHECK-NOT: onnx.{{Erf|Tanh|Mul|Div|Add|Pow}}
// CHECK: %[[Y:.*]] = onnx.Gelu %arg0 : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused gelu recogniser
func.func @erf_div(%x: tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  %sqrt2 = onnx.Constant {value = dense<1.41421354> : tensor<f32>} : tensor<f32>
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %half = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %0 = onnx.Div %x, %sqrt2 : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  %1 = onnx.Erf %0 : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %2 = onnx.Add %1, %one : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  %3 = onnx.Mul %x, %2 : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %4 = onnx.Mul %3, %half : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  return %4 : tensor<?x?x16xf32>
}

// -----

// Mul by 1/sqrt(2), (x * 0.5) * (1 + erf), operands swapped.
// CHECK-LABEL: func.func @erf_mul_half_first
// CHECK-NOT: onnx.{{Erf|Tanh|Mul|Div|Add|Pow}}
// CHECK: %[[Y:.*]] = onnx.Gelu %arg0 :
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused gelu recogniser
func.func @erf_mul_half_first(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %rsqrt2 = onnx.Constant {value = dense<0.707106769> : tensor<1xf32>} : tensor<1xf32>
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %half = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %h = onnx.Mul %half, %x : (tensor<f32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %0 = onnx.Mul %rsqrt2, %x : (tensor<1xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %1 = onnx.Erf %0 : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %2 = onnx.Add %one, %1 : (tensor<f32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %3 = onnx.Mul %2, %h : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %3 : tensor<4x16xf32>
}

// -----

// x * ((1 + erf) * 0.5).
// CHECK-LABEL: func.func @erf_half_then_x
// CHECK-NOT: onnx.{{Erf|Tanh|Mul|Div|Add|Pow}}
// CHECK: %[[Y:.*]] = onnx.Gelu %arg0 :
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused gelu recogniser
func.func @erf_half_then_x(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %sqrt2 = onnx.Constant {value = dense<1.41421354> : tensor<f32>} : tensor<f32>
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %half = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %0 = onnx.Div %x, %sqrt2 : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %1 = onnx.Erf %0 : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %2 = onnx.Add %1, %one : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = onnx.Mul %2, %half : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %4 = onnx.Mul %x, %3 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %4 : tensor<4x16xf32>
}

// -----

// GPT-2's gelu_new as exported: x * x * x, then 0.5 * x * (1 + tanh(...)).
// CHECK-LABEL: func.func @tanh_gpt2
// CHECK-NOT: onnx.{{Erf|Tanh|Mul|Div|Add|Pow}}
// CHECK: %[[Y:.*]] = onnx.Gelu %arg0 {approximate = "tanh"} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused gelu recogniser
func.func @tanh_gpt2(%x: tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  %c = onnx.Constant {value = dense<4.471500e-02> : tensor<f32>} : tensor<f32>
  %k = onnx.Constant {value = dense<0.797884583> : tensor<f32>} : tensor<f32>
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %half = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %0 = onnx.Mul %x, %x : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %1 = onnx.Mul %x, %0 : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %2 = onnx.Mul %1, %c : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  %3 = onnx.Add %x, %2 : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %4 = onnx.Mul %3, %k : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  %5 = onnx.Tanh %4 : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %6 = onnx.Add %5, %one : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  %7 = onnx.Mul %x, %6 : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %8 = onnx.Mul %7, %half : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  return %8 : tensor<?x?x16xf32>
}

// -----

// Pow 3, constants first, (0.5 * x) * (1 + tanh).
// CHECK-LABEL: func.func @tanh_pow
// CHECK-NOT: onnx.{{Erf|Tanh|Mul|Div|Add|Pow}}
// CHECK: %[[Y:.*]] = onnx.Gelu %arg0 {approximate = "tanh"}
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused gelu recogniser
func.func @tanh_pow(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %three = onnx.Constant {value = dense<3.0> : tensor<f32>} : tensor<f32>
  %c = onnx.Constant {value = dense<4.471500e-02> : tensor<f32>} : tensor<f32>
  %k = onnx.Constant {value = dense<0.797884583> : tensor<f32>} : tensor<f32>
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %half = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %h = onnx.Mul %half, %x : (tensor<f32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %0 = onnx.Pow %x, %three : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %2 = onnx.Mul %c, %0 : (tensor<f32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %3 = onnx.Add %2, %x : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %4 = onnx.Mul %k, %3 : (tensor<f32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %5 = onnx.Tanh %4 : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %6 = onnx.Add %one, %5 : (tensor<f32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %7 = onnx.Mul %h, %6 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %7 : tensor<4x16xf32>
}

// -----

// Negative: a wrong constant (1.4 is not sqrt 2 within 1e-6).
// CHECK-LABEL: func.func @wrong_sqrt2
// CHECK-NOT: onnx.Gelu
// CHECK: onnx.Erf
// REPORT: remark: not fused gelu recogniser: the argument is not x / sqrt(2) or x * (1 / sqrt(2))
func.func @wrong_sqrt2(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %sqrt2 = onnx.Constant {value = dense<1.4> : tensor<f32>} : tensor<f32>
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %half = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %0 = onnx.Div %x, %sqrt2 : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %1 = onnx.Erf %0 : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %2 = onnx.Add %1, %one : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = onnx.Mul %x, %2 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %4 = onnx.Mul %3, %half : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  return %4 : tensor<4x16xf32>
}

// -----

// Negative: sqrt 2 divided by x (the other order is another function).
// CHECK-LABEL: func.func @sqrt2_over_x
// CHECK-NOT: onnx.Gelu
// REPORT: remark: not fused gelu recogniser: the argument is not x / sqrt(2) or x * (1 / sqrt(2))
func.func @sqrt2_over_x(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %sqrt2 = onnx.Constant {value = dense<1.41421354> : tensor<f32>} : tensor<f32>
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %half = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %0 = onnx.Div %sqrt2, %x : (tensor<f32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %1 = onnx.Erf %0 : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %2 = onnx.Add %1, %one : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = onnx.Mul %x, %2 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %4 = onnx.Mul %3, %half : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  return %4 : tensor<4x16xf32>
}

// -----

// Negative: multiplied by another tensor than the Erf's input.
// CHECK-LABEL: func.func @other_x
// CHECK-NOT: onnx.Gelu
// REPORT: remark: not fused gelu recogniser: the product is not 0.5 * x * (1 + ...)
func.func @other_x(%x: tensor<4x16xf32>, %z: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %sqrt2 = onnx.Constant {value = dense<1.41421354> : tensor<f32>} : tensor<f32>
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %half = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %0 = onnx.Div %x, %sqrt2 : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %1 = onnx.Erf %0 : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %2 = onnx.Add %1, %one : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = onnx.Mul %z, %2 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %4 = onnx.Mul %3, %half : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  return %4 : tensor<4x16xf32>
}

// -----

// Negative: the intermediate 1 + erf is also returned.
// CHECK-LABEL: func.func @intermediate_used
// CHECK-NOT: onnx.Gelu
// REPORT: remark: not fused gelu recogniser: 1 + the result is not (only) multiplied
func.func @intermediate_used(%x: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %sqrt2 = onnx.Constant {value = dense<1.41421354> : tensor<f32>} : tensor<f32>
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %half = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %0 = onnx.Div %x, %sqrt2 : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %1 = onnx.Erf %0 : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %2 = onnx.Add %1, %one : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = onnx.Mul %x, %2 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %4 = onnx.Mul %3, %half : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  return %4, %2 : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Negative: tanh form with 0.04 instead of 0.044715.
// CHECK-LABEL: func.func @tanh_wrong_coefficient
// CHECK-NOT: onnx.Gelu
// REPORT: remark: not fused gelu recogniser: the argument is not sqrt(2/pi) * (x + 0.044715 * x^3)
func.func @tanh_wrong_coefficient(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %three = onnx.Constant {value = dense<3.0> : tensor<f32>} : tensor<f32>
  %c = onnx.Constant {value = dense<4.0e-02> : tensor<f32>} : tensor<f32>
  %k = onnx.Constant {value = dense<0.797884583> : tensor<f32>} : tensor<f32>
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %half = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %0 = onnx.Pow %x, %three : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %2 = onnx.Mul %0, %c : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %3 = onnx.Add %x, %2 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %4 = onnx.Mul %3, %k : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %5 = onnx.Tanh %4 : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %6 = onnx.Add %5, %one : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %7 = onnx.Mul %x, %6 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %8 = onnx.Mul %7, %half : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  return %8 : tensor<4x16xf32>
}

// -----

// Not a candidate: a BERT pooler's Tanh of a projection (no constant factor
// on its argument, nothing added to its result) is no near miss of a GELU.
// CHECK-LABEL: func.func @pooler_tanh
// CHECK: onnx.Tanh
// REPORT-NOT: remark: not fused gelu recogniser
func.func @pooler_tanh(%x: tensor<4x16xf32>, %w: tensor<16x16xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %0 = onnx.MatMul %x, %w : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  %1 = onnx.Add %0, %b : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %2 = onnx.Tanh %1 : (tensor<4x16xf32>) -> tensor<4x16xf32>
  return %2 : tensor<4x16xf32>
}
