// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg --tessera-lower-fused-kernels=vector-bits=512 | FileCheck %s
// RUN: tessera-opt %s --split-input-file --convert-onnx-to-linalg --tessera-lower-fused-kernels | FileCheck %s --check-prefix=AVX2

// The kernels of opset 23's RMSNormalization and RotaryEmbedding, left by
// the conversion on converted types: vectors of one register of the target
// (16 lanes at vector-bits=512, 8 at 256).

// onnx.RMSNormalization: the row-normalisation kernel without a residual:
// one vector loop accumulating the squares of x (no sum written), then one
// writing x * rstd * w.
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x40xf32>, %[[W:[^:]*]]: tensor<40xf32>)
// CHECK-COUNT-1: bufferization.alloc_tensor
// CHECK-NOT: bufferization.alloc_tensor
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[ACC:.*]] = scf.for %[[K:.*]] = %{{.*}} to %c32 step %c16 {{.*}} -> (vector<16xf32>)
// CHECK: %[[XV:.*]] = vector.transfer_read %[[X]][%[[I]], %[[K]]]
// CHECK: %[[SQ:.*]] = arith.mulf %[[XV]], %[[XV]] : vector<16xf32>
// CHECK: arith.addf %{{.*}}, %[[SQ]] : vector<16xf32>
// The remainder: 8 lanes.
// CHECK: vector.transfer_read %[[X]][%[[I]], %c32{{.*}}]{{.*}} vector<8xf32>
// CHECK: vector.reduction <add>
// CHECK-NOT: arith.subf
// CHECK: math.sqrt
// CHECK: scf.for
// CHECK: vector.transfer_read %[[X]]
// CHECK: vector.transfer_read %[[W]]
// CHECK: vector.transfer_write
// With 256-bit vectors, 8 lanes and no remainder.
// AVX2-LABEL: func.func @rms_norm
// AVX2: scf.for %{{.*}} = %{{.*}} to %c40 step %c8 {{.*}} -> (vector<8xf32>)
// AVX2-NOT: vector<16xf32>
// AVX2: math.sqrt
func.func @rms_norm(%x: tensor<?x40xf32>, %w: tensor<40xf32>) -> tensor<?x40xf32> {
  %y = onnx.RMSNormalization %x, %w {epsilon = 1.0e-6 : f32} : (tensor<?x40xf32>, tensor<40xf32>) -> tensor<?x40xf32>
  return %y : tensor<?x40xf32>
}

// -----

// onnx.RotaryEmbedding, half-split: per (batch, head, position) row, the
// position id is read once (clamped into the table's 64 rows, as Gather
// clamps), the cos/sin rows at it and both halves of x. The ids' sizes are
// checked against x's at run time.
// CHECK-LABEL: func.func @rotary_half
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x2x?x32xf32>, %[[C:[^:]*]]: tensor<64x16xf32>, %[[S:[^:]*]]: tensor<64x16xf32>, %[[P:[^:]*]]: tensor<?x?xi64>)
// CHECK: cf.assert {{.*}}position_ids must have X's batch size
// CHECK: cf.assert {{.*}}position_ids must have X's sequence length
// CHECK: scf.for %[[B:[^ ]*]] =
// CHECK: scf.for %[[H:[^ ]*]] =
// CHECK: scf.for %[[T:[^ ]*]] =
// CHECK: %[[ID:.*]] = tensor.extract %[[P]][%[[B]], %[[T]]]
// CHECK: arith.index_cast %[[ID]]
// CHECK: arith.maxsi
// CHECK: %[[POS:.*]] = arith.minsi
// CHECK: vector.transfer_read %[[C]][%[[POS]], %{{.*}}]{{.*}} vector<16xf32>
// CHECK: vector.transfer_read %[[S]][%[[POS]], %{{.*}}]{{.*}} vector<16xf32>
// AVX2-LABEL: func.func @rotary_half
// AVX2: vector.transfer_read %{{.*}} : tensor<64x16xf32>, vector<8xf32>
// AVX2-NOT: vector<16xf32>
// AVX2-LABEL: func.func @rotary_interleaved
// CHECK: %[[X1:.*]] = vector.transfer_read %[[X]][%[[B]], %[[H]], %[[T]], %[[COL:[%a-z0-9_]*]]]
// CHECK: %[[X2:.*]] = vector.transfer_read %[[X]][%[[B]], %[[H]], %[[T]], %[[COL2:[%a-z0-9_]*]]]
// CHECK: %[[Y1:.*]] = arith.subf
// CHECK: %[[Y2:.*]] = arith.addf
// CHECK: %[[W:.*]] = vector.transfer_write %[[Y1]], %{{.*}}[%[[B]], %[[H]], %[[T]], %[[COL]]]
// CHECK: vector.transfer_write %[[Y2]], %[[W]][%[[B]], %[[H]], %[[T]], %[[COL2]]]
func.func @rotary_half(%x: tensor<?x2x?x32xf32>, %c: tensor<64x16xf32>, %s: tensor<64x16xf32>, %p: tensor<?x?xi64>) -> tensor<?x2x?x32xf32> {
  %y = onnx.RotaryEmbedding %x, %c, %s, %p : (tensor<?x2x?x32xf32>, tensor<64x16xf32>, tensor<64x16xf32>, tensor<?x?xi64>) -> tensor<?x2x?x32xf32>
  return %y : tensor<?x2x?x32xf32>
}

// -----

// Interleaved, 3-D x with two heads and positions shared by the batch: the
// pairs are read as one vector and split into even and odd lanes, the
// results zipped back; the features past rotary_embedding_dim are copied.
// CHECK-LABEL: func.func @rotary_interleaved
// CHECK: vector.transfer_read %{{.*}} : tensor<2x5x16xf32>, vector<4xf32>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 2] : vector<4xf32>, vector<4xf32>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [1, 3] : vector<4xf32>, vector<4xf32>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 2, 1, 3] : vector<2xf32>, vector<2xf32>
// CHECK: vector.transfer_read %{{.*}} : tensor<2x5x16xf32>, vector<4xf32>
// CHECK: vector.transfer_write
func.func @rotary_interleaved(%x: tensor<2x5x16xf32>, %c: tensor<8x2xf32>, %s: tensor<8x2xf32>, %p: tensor<1x5xi64>) -> tensor<2x5x16xf32> {
  %y = onnx.RotaryEmbedding %x, %c, %s, %p {interleaved = 1 : si64, num_heads = 2 : si64, rotary_embedding_dim = 4 : si64} : (tensor<2x5x16xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<1x5xi64>) -> tensor<2x5x16xf32>
  return %y : tensor<2x5x16xf32>
}

// -----

// f16 is rotated in f32: every vector read is widened, every write
// narrowed (the pass-through features too).
// CHECK-LABEL: func.func @rotary_f16
// CHECK: %[[C:.*]] = vector.transfer_read %arg1{{.*}} : tensor<8x8xf16>, vector<8xf16>
// CHECK: arith.extf %[[C]] : vector<8xf16> to vector<8xf32>
// CHECK: arith.subf {{.*}} : vector<8xf32>
// CHECK: %[[Y1:.*]] = arith.truncf %{{.*}} : vector<8xf32> to vector<8xf16>
// CHECK: vector.transfer_write %[[Y1]]
// The 4 features past rotary_embedding_dim:
// CHECK: arith.extf {{.*}} : vector<4xf16> to vector<4xf32>
// CHECK: arith.truncf {{.*}} : vector<4xf32> to vector<4xf16>
func.func @rotary_f16(%x: tensor<1x2x3x20xf16>, %c: tensor<8x8xf16>, %s: tensor<8x8xf16>, %p: tensor<1x3xi64>) -> tensor<1x2x3x20xf16> {
  %y = onnx.RotaryEmbedding %x, %c, %s, %p {rotary_embedding_dim = 16 : si64} : (tensor<1x2x3x20xf16>, tensor<8x8xf16>, tensor<8x8xf16>, tensor<1x3xi64>) -> tensor<1x2x3x20xf16>
  return %y : tensor<1x2x3x20xf16>
}
