//===- Transformer.td - opset-23 Transformer ops -----------*- tablegen -*-===//
//
// Operators ONNX added for modern Transformer blocks (opset 23). Each block
// below is owned by one part of the compiler; keep them separate.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_ONNX_TRANSFORMER
#define TESSERA_ONNX_TRANSFORMER

include "dialects/onnx/ONNXBase.td"

//===----------------------------------------------------------------------===//
// Normalisation and position embeddings: RMSNormalization, RotaryEmbedding
// (dialects/onnx/Transformer.cpp; recognised by tessera-recognize-rms-norm
// and tessera-recognize-rotary, lowered in compiler/lowering/Transformer.cpp)
//===----------------------------------------------------------------------===//

def ONNX_RMSNormalizationOp : ONNX_Op<"RMSNormalization",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "root-mean-square normalisation (opset 23)";
  let description = [{
    `Y = X / sqrt(mean(X^2) + epsilon) * scale`, the mean over the axes from
    `axis` to the last, computed in f32 (`stash_type` 1). `scale` broadcasts
    to the normalised axes.
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$scale,
                       DefaultValuedAttr<SI64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon,
                       DefaultValuedAttr<SI64Attr, "1">:$stash_type);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def ONNX_RotaryEmbeddingOp : ONNX_Op<"RotaryEmbedding",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "rotary position embedding (opset 23)";
  let description = [{
    `X` is `[B, H, S, Dh]`, or `[B, S, H * Dh]` with `num_heads` = H. The
    first `rotary_embedding_dim` (0: all Dh) features of each head are
    rotated in pairs (x1, x2): the two halves of that range, or with
    `interleaved` the even and odd features; `x1' = x1 * cos - x2 * sin`,
    `x2' = x2 * cos + x1 * sin`; the other features pass through. With
    `position_ids` `[B, S]` (Tessera also accepts `[1, S]`, broadcast over
    the batch), `cos_cache` and `sin_cache` are `[P, rotary_dim / 2]` tables
    indexed by position; without, they are `[B, S, rotary_dim / 2]`.
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$cos_cache,
                       AnyTensor:$sin_cache,
                       Optional<AnyTensor>:$position_ids,
                       DefaultValuedAttr<SI64Attr, "0">:$interleaved,
                       DefaultValuedAttr<SI64Attr, "0">:$num_heads,
                       DefaultValuedAttr<SI64Attr, "0">:$rotary_embedding_dim);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

#endif // TESSERA_ONNX_TRANSFORMER
