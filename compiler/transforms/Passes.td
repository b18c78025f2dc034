//===- Passes.td - Tessera passes on the onnx dialect ------*- tablegen -*-===//

#ifndef TESSERA_TRANSFORMS_PASSES
#define TESSERA_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def ONNXFoldShapes : Pass<"onnx-fold-shapes", "::mlir::func::FuncOp"> {
  let summary = "Fold exporter shape arithmetic and refine result types";
  let description = [{
    Exporters compute shapes in the graph (Shape -> Gather -> Unsqueeze ->
    Concat -> Reshape, Range, ConstantOfShape, Expand). Once the input shapes
    are known, this pass alternates between refining every op's result type
    from its operands (the dialect's shape inference) and folding ops with
    constant operands, until nothing changes; then it updates the function
    signature. Dynamic dimensions that stay unknown remain dynamic.
  }];
  let dependentDialects = ["::tessera::onnx::ONNXDialect"];
  let options = [
    Option<"maxIterations", "max-iterations", "unsigned", "16",
           "Stop after this many refine/fold rounds">,
  ];
}

def ONNXOperandOrder : Pass<"onnx-operand-order", "::mlir::func::FuncOp"> {
  let summary = "Put the constant operands of commutative onnx ops last";
  let description = [{
    The canonical operand order of Add, Mul, Max, Min, Equal, And and Or
    (their canonicalisation patterns), without folding anything: the fusion
    passes that follow match "op(x, constant)" in that order only.
  }];
  let dependentDialects = ["::tessera::onnx::ONNXDialect"];
}

// Fusion passes. Each is guarded on ranks, shapes, constants and uses: a near
// miss is left unfused (and reported with `report`), never miscompiled. The
// driver runs them in this order (see buildFusionPipeline).

class FusionPass<string flag, string summaryText>
    : Pass<flag, "::mlir::func::FuncOp"> {
  let summary = summaryText;
  let dependentDialects = ["::tessera::onnx::ONNXDialect",
                           "::tessera::fused::TesseraDialect"];
  let options = [
    Option<"report", "report", "bool", "false",
           "Emit a remark for every fusion and every candidate left unfused "
           "(collected by tessera-compile --fusion-report)">,
  ];
}

def RecognizeLayerNorm : FusionPass<"tessera-recognize-layer-norm",
    "Recognise decomposed LayerNorm as onnx.LayerNormalization"> {
  let description = [{
    ReduceMean, Sub, Pow 2 (or Mul by itself), ReduceMean, Add eps, Sqrt,
    Div (or Reciprocal + Mul), Mul gamma, Add beta, with optional Casts,
    normalising over the trailing axis.
  }];
}

def RecognizeGelu : FusionPass<"tessera-recognize-gelu",
    "Recognise GELU in erf or tanh form as onnx.Gelu"> {
  let description = [{
    x * 0.5 * (1 + erf(x / sqrt 2)) in any association order, and
    0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))).
  }];
}

def RecognizeRMSNorm : FusionPass<"tessera-recognize-rms-norm",
    "Recognise decomposed RMSNorm as onnx.RMSNormalization"> {
  let description = [{
    ReduceMean over the last axis of Pow(x, 2) (or Mul(x, x)), Add eps, Sqrt,
    Div (or Reciprocal/Div-by-1 + Mul), an optional [D] weight Mul in either
    order, with optional Casts to f32 and back. A mean over another axis is
    reported as a near miss.
  }];
}

def RecognizeRotary : FusionPass<"tessera-recognize-rotary",
    "Recognise rotary position embeddings as onnx.RotaryEmbedding"> {
  let description = [{
    x * cos + rot(x) * sin with rot the half-split rotate_half (Slice or
    Split halves, Neg, Concat) or the interleaved rotate_every_two (strided
    Slices, Neg, Unsqueeze, Concat, Reshape), cos and sin constant tables
    gathered by position ids (or constant [S, Dh] tables). A rotation whose
    halves are swapped is reported as a near miss.
  }];
}

def FuseGatedMLP : FusionPass<"tessera-fuse-gated-mlp",
    "Fuse SwiGLU/GeGLU feed-forward projections into one gated tessera.matmul"> {
  let description = [{
    act(x W1) * (x W3), act SiLU (x * Sigmoid(x)) or GELU, with separate W1
    and W3 or a packed W13 cut by Slice or Split, becomes one tessera.matmul
    with [W1 | W3] and the activation swiglu, geglu_erf or geglu_tanh. A gate
    and value taken from the same half is reported as a near miss.
  }];
}

def FuseAttention : FusionPass<"tessera-fuse-attention",
    "Fuse scaled-softmax attention into tessera.attention"> {
  let description = [{
    MatMul(Q, K^T), scale, mask, Softmax on the last axis, MatMul with V and
    the trailing Transpose + Reshape, in the forms real exporters produce:
    batch-first [B, H, S, Dh] heads and nn.MultiheadAttention's seq-first
    [B*H, S, Dh] ones; scales on the scores or pre-applied to Q and K;
    additive masks, -inf keep/masked Where masks, and causal masks (Trilu,
    tril constants and their slices, Range comparisons) as `causal`, also
    with a key/value cache (K, V = Concat(past, new); the mask offset by the
    past length) and dynamic dims: the mask's extent and offset are proven
    from the graph's dims (SymbolicDims.h). A keep mask that is all true is
    dropped. Q, K and V are left as the canonical head splits of their
    projections, the form tessera-fuse-qkv folds.
  }];
}

def FuseQKV : FusionPass<"tessera-fuse-qkv",
    "Fuse Q/K/V projections into tessera.qkv_projection"> {
  let description = [{
    Three MatMul (+ bias Add) sharing one input, or one packed MatMul followed
    by Split/Slice, with their head splits (Reshape + Transpose) folded into
    the results. K/V only for cross-attention.
  }];
}

def FuseQKVRotary : FusionPass<"tessera-fuse-qkv-rotary",
    "Fuse rotary embeddings of Q and K into their tessera.qkv_projection"> {
  let description = [{
    onnx.RotaryEmbedding of [B, H, S, Dh] results of a tessera.qkv_projection
    (the only user of each), with [P, rotary_dim / 2] tables read by position
    ids, becomes the projection's `rotary_results`: the rotation is applied
    to the GEMM's register tiles before the heads are stored. Rotations fused
    together share their tables, ids and layout; a projection whose
    rotations differ keeps the ones unlike the first.
  }];
}

def FuseAddLayerNorm : FusionPass<"tessera-fuse-add-layer-norm",
    "Fuse residual Add + LayerNormalization or RMSNormalization into "
    "tessera.add_layer_norm"> {}

def FuseMatMulEpilogue : FusionPass<"tessera-fuse-matmul-epilogue",
    "Fuse MatMul + bias + activation into tessera.matmul"> {}

#endif // TESSERA_TRANSFORMS_PASSES
