//===- Logic.td - onnx comparison and logical ops ----------*- tablegen -*-===//

#ifndef TESSERA_ONNX_LOGIC
#define TESSERA_ONNX_LOGIC

include "dialects/onnx/ONNXBase.td"
include "dialects/onnx/Math.td"

class ONNX_CompareOp<string mnemonic, list<Trait> traits = []>
    : ONNX_BinaryOp<mnemonic, traits> {
  let results = (outs TensorOf<[I1]>:$C);
}

def ONNX_EqualOp : ONNX_CompareOp<"Equal", [Commutative]> {
  let hasCanonicalizer = 1;
  let summary = "elementwise A == B";
}
def ONNX_LessOp : ONNX_CompareOp<"Less"> { let summary = "elementwise A < B"; }
def ONNX_GreaterOp : ONNX_CompareOp<"Greater"> { let summary = "elementwise A > B"; }
def ONNX_LessOrEqualOp : ONNX_CompareOp<"LessOrEqual"> {
  let summary = "elementwise A <= B";
}
def ONNX_GreaterOrEqualOp : ONNX_CompareOp<"GreaterOrEqual"> {
  let summary = "elementwise A >= B";
}
def ONNX_AndOp : ONNX_CompareOp<"And", [Commutative]> {
  let hasCanonicalizer = 1;
  let summary = "elementwise logical and";
  let arguments = (ins TensorOf<[I1]>:$A, TensorOf<[I1]>:$B);
}
def ONNX_OrOp : ONNX_CompareOp<"Or", [Commutative]> {
  let hasCanonicalizer = 1;
  let summary = "elementwise logical or";
  let arguments = (ins TensorOf<[I1]>:$A, TensorOf<[I1]>:$B);
}
def ONNX_NotOp : ONNX_UnaryOp<"Not"> {
  let summary = "elementwise logical not";
  let arguments = (ins TensorOf<[I1]>:$X);
  let results = (outs TensorOf<[I1]>:$Y);
  let hasFolder = 1;
}
def ONNX_XorOp : ONNX_ZipBinaryOp<"Xor", [Commutative]> {
  let summary = "elementwise logical exclusive or";
  let arguments = (ins TensorOf<[I1]>:$A, TensorOf<[I1]>:$B);
  let results = (outs TensorOf<[I1]>:$C);
}

def ONNX_WhereOp : ONNX_BroadcastOp<"Where"> {
  let summary = "selects X where condition is true, else Y (with broadcasting)";
  let arguments = (ins TensorOf<[I1]>:$condition, AnyTensor:$X, AnyTensor:$Y);
  let results = (outs AnyTensor:$output);
  let hasFolder = 1;
}

#endif // TESSERA_ONNX_LOGIC
