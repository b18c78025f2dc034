//===- AddLayerNorm.td - tessera.add_layer_norm ------------*- tablegen -*-===//

#ifndef TESSERA_TESSERA_ADD_LAYER_NORM
#define TESSERA_TESSERA_ADD_LAYER_NORM

include "dialects/tessera/TesseraBase.td"

def Tessera_AddLayerNormOp : Tessera_Op<"add_layer_norm",
    [AttrSizedOperandSegments]> {
  let summary = "residual add followed by LayerNorm or RMSNorm over the last axis";
  let description = [{
    `sum = X + bias + residual` (bias optional, `[D]`), then
    `Y = (sum - mean(sum)) / sqrt(var(sum) + epsilon) * gamma + beta` over the
    last axis (beta optional). Returns `Y` and `sum` (pre-LN models feed the
    sum to the next residual). One pass over each row. X and `residual`
    broadcast to the results' shape over the leading axes (numpy rules,
    aligned on the right: each dim equals the result's or is 1, fewer axes
    allowed; the last dim is D), as the Add they come from does (token +
    position embeddings [B, S, D] + [1, S, D]).

    With `norm` = "rms" the normalisation is RMSNorm (opset-23
    RMSNormalization): `Y = sum / sqrt(mean(sum^2) + epsilon) * gamma`, no
    beta (pre-norm LLaMA/T5-style blocks).
  }];
  let arguments = (ins AnyRankedTensor:$X, AnyRankedTensor:$residual,
                       Optional<AnyRankedTensor>:$bias,
                       AnyRankedTensor:$gamma, Optional<AnyRankedTensor>:$beta,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon,
                       DefaultValuedStrAttr<StrAttr, "layer">:$norm);
  let results = (outs AnyRankedTensor:$Y, AnyRankedTensor:$sum);
}

#endif // TESSERA_TESSERA_ADD_LAYER_NORM
