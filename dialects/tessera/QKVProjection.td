//===- QKVProjection.td - tessera.qkv_projection -----------*- tablegen -*-===//

#ifndef TESSERA_TESSERA_QKV_PROJECTION
#define TESSERA_TESSERA_QKV_PROJECTION

include "dialects/tessera/TesseraBase.td"

def Tessera_QKVProjectionOp : Tessera_Op<"qkv_projection",
    [AttrSizedOperandSegments]> {
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

    With `rotary_results`, those results (Q and K) are rotated as by
    onnx.RotaryEmbedding with `cos_cache`, `sin_cache`, `position_ids`,
    `rotary_interleaved` and `rotary_dim` (0: the whole head) before they are
    stored: the rotation is the projection's epilogue. The tables are
    `[P, rotary_dim / 2]`, indexed by `position_ids` (`[B, S]`, or `[1, S]`
    for every batch) or, without it, by the position in the sequence.
  }];
  let arguments = (ins AnyRankedTensor:$X, AnyRankedTensor:$W,
                       Optional<AnyRankedTensor>:$bias,
                       Optional<AnyRankedTensor>:$cos_cache,
                       Optional<AnyRankedTensor>:$sin_cache,
                       Optional<AnyRankedTensor>:$position_ids,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$kv_heads,
                       DefaultValuedAttr<BoolAttr, "false">:$seq_first,
                       OptionalAttr<DenseI64ArrayAttr>:$rotary_results,
                       DefaultValuedAttr<BoolAttr, "false">:$rotary_interleaved,
                       DefaultValuedAttr<I64Attr, "0">:$rotary_dim);
  let results = (outs Variadic<AnyRankedTensor>:$outputs);
  let assemblyFormat = [{
    $X `,` $W (`bias` $bias^)? (`rotary` $cos_cache^ `,` $sin_cache)?
    (`positions` $position_ids^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The head count of each result.
    ::llvm::SmallVector<int64_t> headCounts();
    /// The head size Dh (0 if W's columns do not split into heads).
    int64_t headDim();
    /// The rotated features of each rotated head (rotary_dim, or Dh).
    int64_t rotatedFeatures();
  private:
    ::mlir::LogicalResult verifyRotary(int64_t dh);
  public:
  }];
}

#endif // TESSERA_TESSERA_QKV_PROJECTION
