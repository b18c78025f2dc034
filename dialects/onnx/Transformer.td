//===- Transformer.td - onnx Transformer-block ops ---------*- tablegen -*-===//
//
// The opset 22/23 operators of whole Transformer blocks. Each op's
// definition is a separate block below.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_ONNX_TRANSFORMER
#define TESSERA_ONNX_TRANSFORMER

include "dialects/onnx/ONNXBase.td"

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
