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
  let description = [{
    Besides the fused ops, the dialect owns the attributes through which the
    stages of the compiler name the functions they hand over, instead of
    agreeing on symbol names:
    - `tessera.entry` (unit) marks the model's entry function (the graph the
      importer built), a func.func until the LLVM lowering and an llvm.func
      after it; a module has at most one.
    - `tessera.output_dims` (unit) marks the function that computes the
      output dims from the input dims (tessera-build-output-dims).
    `getEntryFunction`/`getOutputDimsFunction` (TesseraDialect.h) find them.
    - `tessera.widened_rounding` (unit) marks an arith.truncf that rounds to
      f16 or bf16 the f32 result of an op on 16-bit floats that the lowering
      computed in f32. Code generation drops it where the rounded value is
      only widened again inside a fused elementwise chain, so such a chain
      rounds once, at its end (`isWidenedRounding`).
  }];
  let discardableAttrs = (ins
    "::mlir::UnitAttr":$entry,
    "::mlir::UnitAttr":$output_dims,
    "::mlir::UnitAttr":$widened_rounding
  );
  let hasOperationAttrVerify = 1;
}

class Tessera_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tessera_Dialect, mnemonic, !listconcat(traits, [Pure])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // TESSERA_TESSERA_BASE
