//===- Attention.td - tessera.attention --------------------*- tablegen -*-===//

#ifndef TESSERA_TESSERA_ATTENTION
#define TESSERA_TESSERA_ATTENTION

include "dialects/tessera/TesseraBase.td"

def Tessera_AttentionOp : Tessera_Op<"attention"> {
  let summary = "scaled-softmax attention: softmax(Q K^T * scale + mask) V";
  let description = [{
    `Q` is `[B, H, Sq, Dh]`, `K` and `V` are `[B, Hkv, Sk, Dh]`, where Hkv
    divides H: grouped-query attention (multi-query with Hkv = 1) reads the
    K/V heads in place, no repeat. Query head h uses K/V head
    `h / (H / Hkv)` (Hugging Face's repeat_kv, repeat_interleave), or
    `h % Hkv` with `kv_tiled` (a Tile of the K/V heads). The optional
    `mask` broadcasts to `[B, H, Sq, Sk]`: a float tensor is added to the
    scaled scores, an i1 tensor keeps the scores where it is true (-inf
    elsewhere). `causal` masks keys after the query's position, aligned at
    the end: query i sees keys j <= i + (Sk - Sq), so with a key/value cache
    (K and V the past P keys followed by Sq new ones, Sk = P + Sq) query i
    is at position P + i; Sk >= Sq (kernels skip the masked tiles). With `zero_masked_rows`, a row whose keys are all masked
    gives 0 (the exporters' IsNaN/Where guard) instead of NaN. With
    `merge_heads` the result is `[B, Sq, H * Dh]` (the trailing
    Transpose + Reshape folded in), otherwise `[B, H, Sq, Dh]`. With
    `seq_first` (only with `merge_heads`) the merged result is
    `[Sq, B, H * Dh]`, the layout of torch's nn.MultiheadAttention.
  }];
  let arguments = (ins AnyRankedTensor:$Q, AnyRankedTensor:$K,
                       AnyRankedTensor:$V, Optional<AnyRankedTensor>:$mask,
                       F32Attr:$scale,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       DefaultValuedAttr<BoolAttr, "false">:$zero_masked_rows,
                       DefaultValuedAttr<BoolAttr, "false">:$merge_heads,
                       DefaultValuedAttr<BoolAttr, "false">:$seq_first,
                       DefaultValuedAttr<BoolAttr, "false">:$kv_tiled);
  let results = (outs AnyRankedTensor:$output);
}

#endif // TESSERA_TESSERA_ATTENTION
