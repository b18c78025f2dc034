//===- QKVProjection.td - tessera.qkv_projection -----------*- tablegen -*-===//

#ifndef TESSERA_TESSERA_QKV_PROJECTION
#define TESSERA_TESSERA_QKV_PROJECTION

include "dialects/tessera/TesseraBase.td"

def Tessera_QKVProjectionOp : Tessera_Op<"qkv_projection"> {
  let summary = "packed Q/K/V (or K/V) projection split into heads";
  let description = [{
    One GEMM of `X` (`[B, S, E]`, or `[S, B, E]` with `seq_first` as in
    torch's nn.MultiheadAttention) with the packed weight `W`
    (`[E, n * H * Dh]`, n = 3 for Q/K/V, 2 for K/V of cross-attention) plus
    the optional packed `bias` (`[n * H * Dh]`); result i is columns
    `[i * H * Dh, (i + 1) * H * Dh)` of that projection split into heads,
    `[B, H, S, Dh]`, so the exporter's Reshape/Transpose chains disappear.
    With `kv_heads` (grouped-query attention, 3 results), K and V have
    `kv_heads` heads each: `W` is `[E, (H + 2 * kv_heads) * Dh]`, Q its first
    `H * Dh` columns, K and V the next `kv_heads * Dh` each.
  }];
  let arguments = (ins AnyRankedTensor:$X, AnyRankedTensor:$W,
                       Optional<AnyRankedTensor>:$bias,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$kv_heads,
                       DefaultValuedAttr<BoolAttr, "false">:$seq_first);
  let results = (outs Variadic<AnyRankedTensor>:$outputs);
  let extraClassDeclaration = [{
    /// The head count of each result.
    ::llvm::SmallVector<int64_t> headCounts();
  }];
}

#endif // TESSERA_TESSERA_QKV_PROJECTION
