//===- MatMul.td - tessera.matmul --------------------------*- tablegen -*-===//

#ifndef TESSERA_TESSERA_MATMUL
#define TESSERA_TESSERA_MATMUL

include "dialects/tessera/TesseraBase.td"

def Tessera_MatMulOp : Tessera_Op<"matmul"> {
  let summary = "GEMM with a bias and activation epilogue";
  let description = [{
    `Y = activation(A x B + bias)`. `A` is `[..., M, K]`, `B` is `[K, N]`
    (usually a constant weight, packed at compile time), `bias` is `[N]`.
    `activation` is one of `none`, `relu`, `gelu_erf`, `gelu_tanh`, or a
    gated one (SwiGLU/GeGLU feed-forward blocks): `swiglu`, `geglu_erf`,
    `geglu_tanh`. Gated, `B` is `[K, 2N]`, the gate's weight then the
    value's (`bias` `[2N]` likewise), and
    `Y = act(A x B[:, :N] + bias[:N]) * (A x B[:, N:] + bias[N:])`, `[..., N]`,
    act being SiLU (x * sigmoid(x)) or GELU.
  }];
  let arguments = (ins AnyRankedTensor:$A, AnyRankedTensor:$B,
                       Optional<AnyRankedTensor>:$bias,
                       DefaultValuedStrAttr<StrAttr, "none">:$activation);
  let results = (outs AnyRankedTensor:$Y);
  let extraClassDeclaration = [{
    /// Whether the activation is a gated one (B is [K, 2N]).
    bool isGated();
  }];
}

#endif // TESSERA_TESSERA_MATMUL
