// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-recognize-rotary))' | FileCheck %s
// RUN: tessera-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onnx-operand-order,tessera-recognize-rotary{report=true}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT

// The opset-14 export of LLaMA's rotate_half with cos/sin tables gathered by
// position ids: x * cos + cat(-x2, x1) * sin. The tables repeat each
// frequency in both halves; the op takes the [6, 4] frequencies.
// CHECK-LABEL: func.func @half_split
// CHECK-SAME: (%[[X:.*]]: tensor<?x2x?x8xf32>, %[[POS:.*]]: tensor<1x?xi64>)
// CHECK-NOT: onnx.{{Slice|Neg|Concat|Gather|Mul|Add}}
// CHECK-DAG: %[[C:.*]] = onnx.Constant {value = dense<{{.*}}> : tensor<6x4xf32>}
// CHECK-DAG: %[[S:.*]] = onnx.Constant {value = dense<{{.*}}> : tensor<6x4xf32>}
// CHECK: %[[Y:.*]] = onnx.RotaryEmbedding %[[X]], %[[C]], %[[S]], %[[POS]] : (tensor<?x2x?x8xf32>, tensor<6x4xf32>, tensor<6x4xf32>, tensor<1x?xi64>) -> tensor<?x2x?x8xf32>
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused rotary recogniser
func.func @half_split(%x: tensor<?x2x?x8xf32>, %pos: tensor<1x?xi64>) -> tensor<?x2x?x8xf32> {
  %ct = onnx.Constant {value = dense<[[1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], [5.403023e-01, 9.950042e-01, 9.999500e-01, 9.999995e-01, 5.403023e-01, 9.950042e-01, 9.999500e-01, 9.999995e-01], [-4.161468e-01, 9.800666e-01, 9.998000e-01, 9.999980e-01, -4.161468e-01, 9.800666e-01, 9.998000e-01, 9.999980e-01], [-9.899925e-01, 9.553365e-01, 9.995500e-01, 9.999955e-01, -9.899925e-01, 9.553365e-01, 9.995500e-01, 9.999955e-01], [-6.536436e-01, 9.210610e-01, 9.992001e-01, 9.999920e-01, -6.536436e-01, 9.210610e-01, 9.992001e-01, 9.999920e-01], [2.836622e-01, 8.775826e-01, 9.987503e-01, 9.999875e-01, 2.836622e-01, 8.775826e-01, 9.987503e-01, 9.999875e-01]]> : tensor<6x8xf32>} : tensor<6x8xf32>
  %st = onnx.Constant {value = dense<[[0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [8.414710e-01, 9.983341e-02, 9.999833e-03, 9.999998e-04, 8.414710e-01, 9.983341e-02, 9.999833e-03, 9.999998e-04], [9.092974e-01, 1.986693e-01, 1.999867e-02, 1.999999e-03, 9.092974e-01, 1.986693e-01, 1.999867e-02, 1.999999e-03], [1.411200e-01, 2.955202e-01, 2.999550e-02, 2.999996e-03, 1.411200e-01, 2.955202e-01, 2.999550e-02, 2.999996e-03], [-7.568025e-01, 3.894183e-01, 3.998933e-02, 3.999989e-03, -7.568025e-01, 3.894183e-01, 3.998933e-02, 3.999989e-03], [-9.589243e-01, 4.794255e-01, 4.997917e-02, 4.999979e-03, -9.589243e-01, 4.794255e-01, 4.997917e-02, 4.999979e-03]]> : tensor<6x8xf32>} : tensor<6x8xf32>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c4 = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %c8 = onnx.Constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %cg = onnx.Gather %ct, %pos : (tensor<6x8xf32>, tensor<1x?xi64>) -> tensor<1x?x8xf32>
  %cos = onnx.Unsqueeze %cg, %one : (tensor<1x?x8xf32>, tensor<1xi64>) -> tensor<1x1x?x8xf32>
  %sg = onnx.Gather %st, %pos : (tensor<6x8xf32>, tensor<1x?xi64>) -> tensor<1x?x8xf32>
  %sin = onnx.Unsqueeze %sg, %one : (tensor<1x?x8xf32>, tensor<1xi64>) -> tensor<1x1x?x8xf32>
  %x2 = onnx.Slice %x, %c4, %c8, %last, %one {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x2x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x2x?x4xf32>
  %ng = onnx.Neg %x2 : (tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %x1 = onnx.Slice %x, %c0, %c4, %last, %one {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x2x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x2x?x4xf32>
  %rot = onnx.Concat %ng, %x1 {axis = -1 : si64} : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x8xf32>
  %a = onnx.Mul %x, %cos : (tensor<?x2x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<?x2x?x8xf32>
  %b = onnx.Mul %rot, %sin : (tensor<?x2x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<?x2x?x8xf32>
  %y = onnx.Add %a, %b : (tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32>
  return %y : tensor<?x2x?x8xf32>
}

// -----

// The same in float16: the tables are float16 (RotaryEmbedding's T), their
// values exactly the model's.
// CHECK-LABEL: func.func @half_split_f16
// CHECK-SAME: (%[[X:.*]]: tensor<?x2x?x8xf16>, %[[POS:.*]]: tensor<1x?xi64>)
// CHECK-NOT: onnx.{{Slice|Neg|Concat|Gather|Mul|Add}}
// CHECK-DAG: %[[C:.*]] = onnx.Constant {value = dense<{{.*}}> : tensor<6x4xf16>}
// CHECK-DAG: %[[S:.*]] = onnx.Constant {value = dense<{{.*}}> : tensor<6x4xf16>}
// CHECK: %[[Y:.*]] = onnx.RotaryEmbedding %[[X]], %[[C]], %[[S]], %[[POS]] : (tensor<?x2x?x8xf16>, tensor<6x4xf16>, tensor<6x4xf16>, tensor<1x?xi64>) -> tensor<?x2x?x8xf16>
// CHECK-NEXT: return %[[Y]]
// REPORT: remark: fused rotary recogniser
func.func @half_split_f16(%x: tensor<?x2x?x8xf16>, %pos: tensor<1x?xi64>) -> tensor<?x2x?x8xf16> {
  %ct = onnx.Constant {value = dense<[[1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], [5.403023e-01, 9.950042e-01, 9.999500e-01, 9.999995e-01, 5.403023e-01, 9.950042e-01, 9.999500e-01, 9.999995e-01], [-4.161468e-01, 9.800666e-01, 9.998000e-01, 9.999980e-01, -4.161468e-01, 9.800666e-01, 9.998000e-01, 9.999980e-01], [-9.899925e-01, 9.553365e-01, 9.995500e-01, 9.999955e-01, -9.899925e-01, 9.553365e-01, 9.995500e-01, 9.999955e-01], [-6.536436e-01, 9.210610e-01, 9.992001e-01, 9.999920e-01, -6.536436e-01, 9.210610e-01, 9.992001e-01, 9.999920e-01], [2.836622e-01, 8.775826e-01, 9.987503e-01, 9.999875e-01, 2.836622e-01, 8.775826e-01, 9.987503e-01, 9.999875e-01]]> : tensor<6x8xf16>} : tensor<6x8xf16>
  %st = onnx.Constant {value = dense<[[0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [8.414710e-01, 9.983341e-02, 9.999833e-03, 9.999998e-04, 8.414710e-01, 9.983341e-02, 9.999833e-03, 9.999998e-04], [9.092974e-01, 1.986693e-01, 1.999867e-02, 1.999999e-03, 9.092974e-01, 1.986693e-01, 1.999867e-02, 1.999999e-03], [1.411200e-01, 2.955202e-01, 2.999550e-02, 2.999996e-03, 1.411200e-01, 2.955202e-01, 2.999550e-02, 2.999996e-03], [-7.568025e-01, 3.894183e-01, 3.998933e-02, 3.999989e-03, -7.568025e-01, 3.894183e-01, 3.998933e-02, 3.999989e-03], [-9.589243e-01, 4.794255e-01, 4.997917e-02, 4.999979e-03, -9.589243e-01, 4.794255e-01, 4.997917e-02, 4.999979e-03]]> : tensor<6x8xf16>} : tensor<6x8xf16>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c4 = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %c8 = onnx.Constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %cg = onnx.Gather %ct, %pos : (tensor<6x8xf16>, tensor<1x?xi64>) -> tensor<1x?x8xf16>
  %cos = onnx.Unsqueeze %cg, %one : (tensor<1x?x8xf16>, tensor<1xi64>) -> tensor<1x1x?x8xf16>
  %sg = onnx.Gather %st, %pos : (tensor<6x8xf16>, tensor<1x?xi64>) -> tensor<1x?x8xf16>
  %sin = onnx.Unsqueeze %sg, %one : (tensor<1x?x8xf16>, tensor<1xi64>) -> tensor<1x1x?x8xf16>
  %x2 = onnx.Slice %x, %c4, %c8, %last, %one {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x2x?x8xf16>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x2x?x4xf16>
  %ng = onnx.Neg %x2 : (tensor<?x2x?x4xf16>) -> tensor<?x2x?x4xf16>
  %x1 = onnx.Slice %x, %c0, %c4, %last, %one {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x2x?x8xf16>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x2x?x4xf16>
  %rot = onnx.Concat %ng, %x1 {axis = -1 : si64} : (tensor<?x2x?x4xf16>, tensor<?x2x?x4xf16>) -> tensor<?x2x?x8xf16>
  %a = onnx.Mul %x, %cos : (tensor<?x2x?x8xf16>, tensor<1x1x?x8xf16>) -> tensor<?x2x?x8xf16>
  %b = onnx.Mul %rot, %sin : (tensor<?x2x?x8xf16>, tensor<1x1x?x8xf16>) -> tensor<?x2x?x8xf16>
  %y = onnx.Add %a, %b : (tensor<?x2x?x8xf16>, tensor<?x2x?x8xf16>) -> tensor<?x2x?x8xf16>
  return %y : tensor<?x2x?x8xf16>
}

// -----

// GPT-J's rotate_every_two: x1 = x[..., ::2], x2 = x[..., 1::2], stacked
// (-x2, x1) and flattened back; the tables repeat each frequency twice in a
// row. Operands of the Mul and Add in the other orders.
// CHECK-LABEL: func.func @interleaved
// CHECK-NOT: onnx.{{Slice|Neg|Concat|Gather|Mul|Add|Unsqueeze|Reshape}}
// CHECK: onnx.RotaryEmbedding %arg0, %{{.*}}, %{{.*}}, %arg1 {interleaved = 1 : si64} : (tensor<1x2x5x8xf32>, tensor<6x4xf32>, tensor<6x4xf32>, tensor<1x5xi64>) -> tensor<1x2x5x8xf32>
// REPORT: remark: fused rotary recogniser
func.func @interleaved(%x: tensor<1x2x5x8xf32>, %pos: tensor<1x5xi64>) -> tensor<1x2x5x8xf32> {
  %ct = onnx.Constant {value = dense<[[1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], [5.403023e-01, 5.403023e-01, 9.950042e-01, 9.950042e-01, 9.999500e-01, 9.999500e-01, 9.999995e-01, 9.999995e-01], [-4.161468e-01, -4.161468e-01, 9.800666e-01, 9.800666e-01, 9.998000e-01, 9.998000e-01, 9.999980e-01, 9.999980e-01], [-9.899925e-01, -9.899925e-01, 9.553365e-01, 9.553365e-01, 9.995500e-01, 9.995500e-01, 9.999955e-01, 9.999955e-01], [-6.536436e-01, -6.536436e-01, 9.210610e-01, 9.210610e-01, 9.992001e-01, 9.992001e-01, 9.999920e-01, 9.999920e-01], [2.836622e-01, 2.836622e-01, 8.775826e-01, 8.775826e-01, 9.987503e-01, 9.987503e-01, 9.999875e-01, 9.999875e-01]]> : tensor<6x8xf32>} : tensor<6x8xf32>
  %st = onnx.Constant {value = dense<[[0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [8.414710e-01, 8.414710e-01, 9.983341e-02, 9.983341e-02, 9.999833e-03, 9.999833e-03, 9.999998e-04, 9.999998e-04], [9.092974e-01, 9.092974e-01, 1.986693e-01, 1.986693e-01, 1.999867e-02, 1.999867e-02, 1.999999e-03, 1.999999e-03], [1.411200e-01, 1.411200e-01, 2.955202e-01, 2.955202e-01, 2.999550e-02, 2.999550e-02, 2.999996e-03, 2.999996e-03], [-7.568025e-01, -7.568025e-01, 3.894183e-01, 3.894183e-01, 3.998933e-02, 3.998933e-02, 3.999989e-03, 3.999989e-03], [-9.589243e-01, -9.589243e-01, 4.794255e-01, 4.794255e-01, 4.997917e-02, 4.997917e-02, 4.999979e-03, 4.999979e-03]]> : tensor<6x8xf32>} : tensor<6x8xf32>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %end = onnx.Constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %shape = onnx.Constant {value = dense<[1, 2, 5, 8]> : tensor<4xi64>} : tensor<4xi64>
  %cg = onnx.Gather %ct, %pos : (tensor<6x8xf32>, tensor<1x5xi64>) -> tensor<1x5x8xf32>
  %cos = onnx.Unsqueeze %cg, %one : (tensor<1x5x8xf32>, tensor<1xi64>) -> tensor<1x1x5x8xf32>
  %sg = onnx.Gather %st, %pos : (tensor<6x8xf32>, tensor<1x5xi64>) -> tensor<1x5x8xf32>
  %sin = onnx.Unsqueeze %sg, %one : (tensor<1x5x8xf32>, tensor<1xi64>) -> tensor<1x1x5x8xf32>
  %x1 = onnx.Slice %x, %c0, %end, %last, %two {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x5x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x5x4xf32>
  %x2 = onnx.Slice %x, %one, %end, %last, %two {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x5x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x5x4xf32>
  %ng = onnx.Neg %x2 : (tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  %u1 = onnx.Unsqueeze %ng, %last : (tensor<1x2x5x4xf32>, tensor<1xi64>) -> tensor<1x2x5x4x1xf32>
  %u2 = onnx.Unsqueeze %x1, %last : (tensor<1x2x5x4xf32>, tensor<1xi64>) -> tensor<1x2x5x4x1xf32>
  %st2 = onnx.Concat %u1, %u2 {axis = -1 : si64} : (tensor<1x2x5x4x1xf32>, tensor<1x2x5x4x1xf32>) -> tensor<1x2x5x4x2xf32>
  %rot = onnx.Reshape %st2, %shape : (tensor<1x2x5x4x2xf32>, tensor<4xi64>) -> tensor<1x2x5x8xf32>
  %a = onnx.Mul %cos, %x : (tensor<1x1x5x8xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32>
  %b = onnx.Mul %sin, %rot : (tensor<1x1x5x8xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32>
  %y = onnx.Add %b, %a : (tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32>
  return %y : tensor<1x2x5x8xf32>
}

// -----

// Near miss: the halves swapped, cat(x1, -x2) (the rotation the other way).
// CHECK-LABEL: func.func @halves_swapped
// CHECK-NOT: onnx.RotaryEmbedding
// CHECK: onnx.Concat
// REPORT: remark: not fused rotary recogniser: the halves are swapped or misplaced (rot(x) must be (-x2, x1), x1 the first half or the even features)
func.func @halves_swapped(%x: tensor<?x2x?x8xf32>, %pos: tensor<1x?xi64>) -> tensor<?x2x?x8xf32> {
  %ct = onnx.Constant {value = dense<[[1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], [5.403023e-01, 9.950042e-01, 9.999500e-01, 9.999995e-01, 5.403023e-01, 9.950042e-01, 9.999500e-01, 9.999995e-01], [-4.161468e-01, 9.800666e-01, 9.998000e-01, 9.999980e-01, -4.161468e-01, 9.800666e-01, 9.998000e-01, 9.999980e-01], [-9.899925e-01, 9.553365e-01, 9.995500e-01, 9.999955e-01, -9.899925e-01, 9.553365e-01, 9.995500e-01, 9.999955e-01], [-6.536436e-01, 9.210610e-01, 9.992001e-01, 9.999920e-01, -6.536436e-01, 9.210610e-01, 9.992001e-01, 9.999920e-01], [2.836622e-01, 8.775826e-01, 9.987503e-01, 9.999875e-01, 2.836622e-01, 8.775826e-01, 9.987503e-01, 9.999875e-01]]> : tensor<6x8xf32>} : tensor<6x8xf32>
  %st = onnx.Constant {value = dense<[[0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [8.414710e-01, 9.983341e-02, 9.999833e-03, 9.999998e-04, 8.414710e-01, 9.983341e-02, 9.999833e-03, 9.999998e-04], [9.092974e-01, 1.986693e-01, 1.999867e-02, 1.999999e-03, 9.092974e-01, 1.986693e-01, 1.999867e-02, 1.999999e-03], [1.411200e-01, 2.955202e-01, 2.999550e-02, 2.999996e-03, 1.411200e-01, 2.955202e-01, 2.999550e-02, 2.999996e-03], [-7.568025e-01, 3.894183e-01, 3.998933e-02, 3.999989e-03, -7.568025e-01, 3.894183e-01, 3.998933e-02, 3.999989e-03], [-9.589243e-01, 4.794255e-01, 4.997917e-02, 4.999979e-03, -9.589243e-01, 4.794255e-01, 4.997917e-02, 4.999979e-03]]> : tensor<6x8xf32>} : tensor<6x8xf32>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c4 = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %c8 = onnx.Constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %cg = onnx.Gather %ct, %pos : (tensor<6x8xf32>, tensor<1x?xi64>) -> tensor<1x?x8xf32>
  %cos = onnx.Unsqueeze %cg, %one : (tensor<1x?x8xf32>, tensor<1xi64>) -> tensor<1x1x?x8xf32>
  %sg = onnx.Gather %st, %pos : (tensor<6x8xf32>, tensor<1x?xi64>) -> tensor<1x?x8xf32>
  %sin = onnx.Unsqueeze %sg, %one : (tensor<1x?x8xf32>, tensor<1xi64>) -> tensor<1x1x?x8xf32>
  %x2 = onnx.Slice %x, %c4, %c8, %last, %one {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x2x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x2x?x4xf32>
  %ng = onnx.Neg %x2 : (tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %x1 = onnx.Slice %x, %c0, %c4, %last, %one {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x2x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x2x?x4xf32>
  %rot = onnx.Concat %x1, %ng {axis = -1 : si64} : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x8xf32>
  %a = onnx.Mul %x, %cos : (tensor<?x2x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<?x2x?x8xf32>
  %b = onnx.Mul %rot, %sin : (tensor<?x2x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<?x2x?x8xf32>
  %y = onnx.Add %a, %b : (tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32>
  return %y : tensor<?x2x?x8xf32>
}

// -----

// Near miss: the first half negated, cat(-x1, x2).
// CHECK-LABEL: func.func @first_half_negated
// CHECK-NOT: onnx.RotaryEmbedding
// REPORT: remark: not fused rotary recogniser: the halves are swapped or misplaced
func.func @first_half_negated(%x: tensor<?x2x?x8xf32>, %pos: tensor<1x?xi64>) -> tensor<?x2x?x8xf32> {
  %ct = onnx.Constant {value = dense<[[1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], [5.403023e-01, 9.950042e-01, 9.999500e-01, 9.999995e-01, 5.403023e-01, 9.950042e-01, 9.999500e-01, 9.999995e-01], [-4.161468e-01, 9.800666e-01, 9.998000e-01, 9.999980e-01, -4.161468e-01, 9.800666e-01, 9.998000e-01, 9.999980e-01], [-9.899925e-01, 9.553365e-01, 9.995500e-01, 9.999955e-01, -9.899925e-01, 9.553365e-01, 9.995500e-01, 9.999955e-01], [-6.536436e-01, 9.210610e-01, 9.992001e-01, 9.999920e-01, -6.536436e-01, 9.210610e-01, 9.992001e-01, 9.999920e-01], [2.836622e-01, 8.775826e-01, 9.987503e-01, 9.999875e-01, 2.836622e-01, 8.775826e-01, 9.987503e-01, 9.999875e-01]]> : tensor<6x8xf32>} : tensor<6x8xf32>
  %st = onnx.Constant {value = dense<[[0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [8.414710e-01, 9.983341e-02, 9.999833e-03, 9.999998e-04, 8.414710e-01, 9.983341e-02, 9.999833e-03, 9.999998e-04], [9.092974e-01, 1.986693e-01, 1.999867e-02, 1.999999e-03, 9.092974e-01, 1.986693e-01, 1.999867e-02, 1.999999e-03], [1.411200e-01, 2.955202e-01, 2.999550e-02, 2.999996e-03, 1.411200e-01, 2.955202e-01, 2.999550e-02, 2.999996e-03], [-7.568025e-01, 3.894183e-01, 3.998933e-02, 3.999989e-03, -7.568025e-01, 3.894183e-01, 3.998933e-02, 3.999989e-03], [-9.589243e-01, 4.794255e-01, 4.997917e-02, 4.999979e-03, -9.589243e-01, 4.794255e-01, 4.997917e-02, 4.999979e-03]]> : tensor<6x8xf32>} : tensor<6x8xf32>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c4 = onnx.Constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %c8 = onnx.Constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %cg = onnx.Gather %ct, %pos : (tensor<6x8xf32>, tensor<1x?xi64>) -> tensor<1x?x8xf32>
  %cos = onnx.Unsqueeze %cg, %one : (tensor<1x?x8xf32>, tensor<1xi64>) -> tensor<1x1x?x8xf32>
  %sg = onnx.Gather %st, %pos : (tensor<6x8xf32>, tensor<1x?xi64>) -> tensor<1x?x8xf32>
  %sin = onnx.Unsqueeze %sg, %one : (tensor<1x?x8xf32>, tensor<1xi64>) -> tensor<1x1x?x8xf32>
  %x2 = onnx.Slice %x, %c0, %c4, %last, %one {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x2x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x2x?x4xf32>
  %ng = onnx.Neg %x2 : (tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %x1 = onnx.Slice %x, %c4, %c8, %last, %one {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<?x2x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x2x?x4xf32>
  %rot = onnx.Concat %ng, %x1 {axis = -1 : si64} : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x8xf32>
  %a = onnx.Mul %x, %cos : (tensor<?x2x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<?x2x?x8xf32>
  %b = onnx.Mul %rot, %sin : (tensor<?x2x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<?x2x?x8xf32>
  %y = onnx.Add %a, %b : (tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32>
  return %y : tensor<?x2x?x8xf32>
}

// -----

// The stacked form, pair by pair: y1 = x1 * cos - x2 * sin, y2 = x1 * sin +
// x2 * cos over the even and odd features, stacked and flattened back; the
// gathered tables hold one value per pair ([P, Dh / 2]) and are taken as
// they are. The Muls of y2 in the other operand order.
// CHECK-LABEL: func.func @stacked_interleaved
// CHECK-NOT: onnx.{{Slice|Sub|Concat|Gather|Mul|Add|Unsqueeze|Reshape}}
// CHECK: onnx.RotaryEmbedding %arg0, %{{.*}}, %{{.*}}, %arg1 {interleaved = 1 : si64} : (tensor<1x2x5x8xf32>, tensor<6x4xf32>, tensor<6x4xf32>, tensor<1x5xi64>) -> tensor<1x2x5x8xf32>
// REPORT: remark: fused rotary recogniser
func.func @stacked_interleaved(%x: tensor<1x2x5x8xf32>, %pos: tensor<1x5xi64>) -> tensor<1x2x5x8xf32> {
  %ct = onnx.Constant {value = dense<[[1.0, 1.0, 1.0, 1.0], [0.5, 0.75, 0.875, 0.9375], [0.25, 0.5, 0.75, 0.875], [0.125, 0.25, 0.5, 0.75], [0.0625, 0.125, 0.25, 0.5], [0.0, 0.0625, 0.125, 0.25]]> : tensor<6x4xf32>} : tensor<6x4xf32>
  %st = onnx.Constant {value = dense<[[0.0, 0.0, 0.0, 0.0], [0.5, 0.25, 0.125, 0.0625], [0.75, 0.5, 0.25, 0.125], [0.875, 0.75, 0.5, 0.25], [0.9375, 0.875, 0.75, 0.5], [1.0, 0.9375, 0.875, 0.75]]> : tensor<6x4xf32>} : tensor<6x4xf32>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %end = onnx.Constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %shape = onnx.Constant {value = dense<[1, 2, 5, 8]> : tensor<4xi64>} : tensor<4xi64>
  %cg = onnx.Gather %ct, %pos : (tensor<6x4xf32>, tensor<1x5xi64>) -> tensor<1x5x4xf32>
  %cos = onnx.Unsqueeze %cg, %one : (tensor<1x5x4xf32>, tensor<1xi64>) -> tensor<1x1x5x4xf32>
  %sg = onnx.Gather %st, %pos : (tensor<6x4xf32>, tensor<1x5xi64>) -> tensor<1x5x4xf32>
  %sin = onnx.Unsqueeze %sg, %one : (tensor<1x5x4xf32>, tensor<1xi64>) -> tensor<1x1x5x4xf32>
  %x1 = onnx.Slice %x, %c0, %end, %last, %two {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x5x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x5x4xf32>
  %x2 = onnx.Slice %x, %one, %end, %last, %two {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x5x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x5x4xf32>
  %a1 = onnx.Mul %x1, %cos : (tensor<1x2x5x4xf32>, tensor<1x1x5x4xf32>) -> tensor<1x2x5x4xf32>
  %a2 = onnx.Mul %x2, %sin : (tensor<1x2x5x4xf32>, tensor<1x1x5x4xf32>) -> tensor<1x2x5x4xf32>
  %y1 = onnx.Sub %a1, %a2 : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  %b1 = onnx.Mul %sin, %x1 : (tensor<1x1x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  %b2 = onnx.Mul %cos, %x2 : (tensor<1x1x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  %y2 = onnx.Add %b1, %b2 : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  %u1 = onnx.Unsqueeze %y1, %last : (tensor<1x2x5x4xf32>, tensor<1xi64>) -> tensor<1x2x5x4x1xf32>
  %u2 = onnx.Unsqueeze %y2, %last : (tensor<1x2x5x4xf32>, tensor<1xi64>) -> tensor<1x2x5x4x1xf32>
  %st2 = onnx.Concat %u1, %u2 {axis = -1 : si64} : (tensor<1x2x5x4x1xf32>, tensor<1x2x5x4x1xf32>) -> tensor<1x2x5x4x2xf32>
  %y = onnx.Reshape %st2, %shape : (tensor<1x2x5x4x2xf32>, tensor<4xi64>) -> tensor<1x2x5x8xf32>
  return %y : tensor<1x2x5x8xf32>
}

// -----

// Near miss: the stacked form with the pairs taken the other way round
// (y1 = x2 * cos - x1 * sin): a rotation by minus the angle with the
// features swapped, not RotaryEmbedding's.
// CHECK-LABEL: func.func @stacked_swapped
// CHECK-NOT: onnx.RotaryEmbedding
// REPORT: remark: not fused rotary recogniser: the pairs are not the even and odd features or the halves (x1 * cos - x2 * sin, x1 first)
func.func @stacked_swapped(%x: tensor<1x2x5x8xf32>, %cos: tensor<1x1x5x4xf32>, %sin: tensor<1x1x5x4xf32>) -> tensor<1x2x5x8xf32> {
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %two = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %c0 = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %end = onnx.Constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %shape = onnx.Constant {value = dense<[1, 2, 5, 8]> : tensor<4xi64>} : tensor<4xi64>
  %x1 = onnx.Slice %x, %c0, %end, %last, %two {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x5x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x5x4xf32>
  %x2 = onnx.Slice %x, %one, %end, %last, %two {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x5x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x5x4xf32>
  %a1 = onnx.Mul %x2, %cos : (tensor<1x2x5x4xf32>, tensor<1x1x5x4xf32>) -> tensor<1x2x5x4xf32>
  %a2 = onnx.Mul %x1, %sin : (tensor<1x2x5x4xf32>, tensor<1x1x5x4xf32>) -> tensor<1x2x5x4xf32>
  %y1 = onnx.Sub %a1, %a2 : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  %b1 = onnx.Mul %x2, %sin : (tensor<1x2x5x4xf32>, tensor<1x1x5x4xf32>) -> tensor<1x2x5x4xf32>
  %b2 = onnx.Mul %x1, %cos : (tensor<1x2x5x4xf32>, tensor<1x1x5x4xf32>) -> tensor<1x2x5x4xf32>
  %y2 = onnx.Add %b1, %b2 : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  %u1 = onnx.Unsqueeze %y1, %last : (tensor<1x2x5x4xf32>, tensor<1xi64>) -> tensor<1x2x5x4x1xf32>
  %u2 = onnx.Unsqueeze %y2, %last : (tensor<1x2x5x4xf32>, tensor<1xi64>) -> tensor<1x2x5x4x1xf32>
  %st2 = onnx.Concat %u1, %u2 {axis = -1 : si64} : (tensor<1x2x5x4x1xf32>, tensor<1x2x5x4x1xf32>) -> tensor<1x2x5x4x2xf32>
  %y = onnx.Reshape %st2, %shape : (tensor<1x2x5x4x2xf32>, tensor<4xi64>) -> tensor<1x2x5x8xf32>
  return %y : tensor<1x2x5x8xf32>
}
