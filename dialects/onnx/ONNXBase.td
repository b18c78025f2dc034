//===- ONNXBase.td - onnx dialect base definitions ---------*- tablegen -*-===//
//
// The `onnx` dialect mirrors ONNX operators one to one. Mnemonics keep ONNX's
// names so that every op maps back to the specification; attributes are typed
// MLIR attributes; optional inputs are optional operands.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_ONNX_BASE
#define TESSERA_ONNX_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def ONNX_Dialect : Dialect {
  let name = "onnx";
  let cppNamespace = "::tessera::onnx";
  let summary = "ONNX operators, one op per operator";
  let description = [{
    Imported ONNX graphs. Each op corresponds to one ONNX operator (latest
    semantics among the supported opsets; the importer normalises older forms,
    e.g. attribute `axes` of opset-13 reductions becomes a constant operand).
  }];
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

include "dialects/onnx/ShapeInferenceInterface.td"

class ONNX_Op<string mnemonic, list<Trait> traits = []>
    : Op<ONNX_Dialect, mnemonic, !listconcat(traits, [Pure])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

// Ops whose result is the broadcast of all operand shapes.
class ONNX_BroadcastOp<string mnemonic, list<Trait> traits = []>
    : ONNX_Op<mnemonic, !listconcat(traits,
          [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>])> {
  let hasVerifier = 1;
}

class ONNX_BinaryOp<string mnemonic, list<Trait> traits = []>
    : ONNX_BroadcastOp<mnemonic, traits> {
  let arguments = (ins AnyTensor:$A, AnyTensor:$B);
  let results = (outs AnyTensor:$C);
  let hasFolder = 1;
}

class ONNX_UnaryOp<string mnemonic, list<Trait> traits = []>
    : ONNX_Op<mnemonic, !listconcat(traits,
          [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>])> {
  let arguments = (ins AnyTensor:$X);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

#endif // TESSERA_ONNX_BASE
