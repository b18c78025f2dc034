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

//===----------------------------------------------------------------------===//
// Attention (opset 23)
//===----------------------------------------------------------------------===//

def ONNX_AttentionOp : ONNX_Op<"Attention", [AttrSizedOperandSegments]> {
  let summary = "scaled dot-product attention (opset 23)";
  let description = [{
    softmax(Q K^T * scale + attn_mask [+ causal]) V. Q, K and V are 4-D
    (`[B, H, S, Dh]`, K and V with `kv_num_heads` heads, fewer than Q's for
    grouped-query attention) or 3-D (`[B, S, heads * Dh]`, with
    `q_num_heads` and `kv_num_heads`). `attn_mask` (bool: true keeps; or
    float: added) broadcasts to `[B, Hq, Sq, Sk]` where Sk counts the past
    keys too. With `past_key`/`past_value` (`[B, Hkv, P, Dh]`), K and V are
    appended to them, and `present` holds the results (present_key,
    present_value). `scale` defaults to 1 / sqrt(Dh). `is_causal` masks
    key j for query i when j > i (upper-left aligned). `softcap`,
    `qk_matmul_output_mode` and the qk_matmul_output are not supported (the
    importer refuses them).
  }];
  let arguments = (ins AnyTensor:$Q, AnyTensor:$K, AnyTensor:$V,
                       Optional<AnyTensor>:$attn_mask,
                       Optional<AnyTensor>:$past_key,
                       Optional<AnyTensor>:$past_value,
                       DefaultValuedAttr<SI64Attr, "0">:$is_causal,
                       OptionalAttr<SI64Attr>:$q_num_heads,
                       OptionalAttr<SI64Attr>:$kv_num_heads,
                       OptionalAttr<F32Attr>:$scale,
                       DefaultValuedAttr<F32Attr, "0.0">:$softcap,
                       DefaultValuedAttr<SI64Attr, "0">:$qk_matmul_output_mode,
                       OptionalAttr<SI64Attr>:$softmax_precision);
  let results = (outs AnyTensor:$Y, Variadic<AnyTensor>:$present);
  let hasVerifier = 1;
}

// (end of Attention)

#endif // TESSERA_ONNX_TRANSFORMER
