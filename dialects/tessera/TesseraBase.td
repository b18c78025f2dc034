//===- TesseraBase.td - tessera dialect base definitions ---*- tablegen -*-===//
//
// The `tessera` dialect holds the fused Transformer ops the fusion passes
// produce from `onnx` ops. Each op keeps the exact semantics of the ONNX
// subgraph it replaces; its lowering is a dedicated kernel.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_TESSERA_BASE
#define TESSERA_TESSERA_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Tessera_Dialect : Dialect {
  let name = "tessera";
  let cppNamespace = "::tessera::fused";
  let summary = "fused Transformer ops (attention, Q/K/V projection, "
                "residual LayerNorm, GEMM with epilogue)";
}

class Tessera_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tessera_Dialect, mnemonic, !listconcat(traits, [Pure])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // TESSERA_TESSERA_BASE
