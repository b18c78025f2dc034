//===- MatMul.td - tessera.matmul --------------------------*- tablegen -*-===//

#ifndef TESSERA_TESSERA_MATMUL
#define TESSERA_TESSERA_MATMUL

include "dialects/tessera/TesseraBase.td"

def Tessera_MatMulOp : Tessera_Op<"matmul"> {
  let summary = "GEMM with a bias and activation epilogue";
  let description = [{
    `Y = activation(A x B + bias)`. `A` is `[..., M, K]`, `B` is `[K, N]`
    (usually a constant weight, packed at compile time), `bias` is `[N]`.
    `activation` is one of `none`, `relu`, `gelu_erf`, `gelu_tanh`.
  }];
  let arguments = (ins AnyRankedTensor:$A, AnyRankedTensor:$B,
                       Optional<AnyRankedTensor>:$bias,
                       DefaultValuedStrAttr<StrAttr, "none">:$activation);
  let results = (outs AnyRankedTensor:$Y);
}

#endif // TESSERA_TESSERA_MATMUL
