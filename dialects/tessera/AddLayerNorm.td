//===- AddLayerNorm.td - tessera.add_layer_norm ------------*- tablegen -*-===//

#ifndef TESSERA_TESSERA_ADD_LAYER_NORM
#define TESSERA_TESSERA_ADD_LAYER_NORM

include "dialects/tessera/TesseraBase.td"

def Tessera_AddLayerNormOp : Tessera_Op<"add_layer_norm",
    [AttrSizedOperandSegments]> {
  let summary = "residual add followed by LayerNormalization over the last axis";
  let description = [{
    `sum = X + bias + residual` (bias optional, `[D]`), then
    `Y = (sum - mean(sum)) / sqrt(var(sum) + epsilon) * gamma + beta` over the
    last axis (beta optional). Returns `Y` and `sum` (pre-LN models feed the
    sum to the next residual). One pass over each row. `residual` may
    broadcast to X's shape over the leading axes (numpy rules, aligned on the
    right: each of its dims equals X's or is 1, fewer axes allowed; its last
    dim is D), as token + position embeddings do; `sum` has X's shape.
  }];
  let arguments = (ins AnyRankedTensor:$X, AnyRankedTensor:$residual,
                       Optional<AnyRankedTensor>:$bias,
                       AnyRankedTensor:$gamma, Optional<AnyRankedTensor>:$beta,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs AnyRankedTensor:$Y, AnyRankedTensor:$sum);
}

#endif // TESSERA_TESSERA_ADD_LAYER_NORM
