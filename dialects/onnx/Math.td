//===- Math.td - onnx elementwise math ops -----------------*- tablegen -*-===//

#ifndef TESSERA_ONNX_MATH
#define TESSERA_ONNX_MATH

include "dialects/onnx/ONNXBase.td"

def ONNX_AddOp : ONNX_BinaryOp<"Add", [Commutative]> {
  let hasCanonicalizer = 1;
  let summary = "elementwise addition with multidirectional broadcasting";
}
def ONNX_SubOp : ONNX_BinaryOp<"Sub"> {
  let summary = "elementwise subtraction with multidirectional broadcasting";
}
def ONNX_MulOp : ONNX_BinaryOp<"Mul", [Commutative]> {
  let hasCanonicalizer = 1;
  let summary = "elementwise multiplication with multidirectional broadcasting";
}
def ONNX_DivOp : ONNX_BinaryOp<"Div"> {
  let summary = "elementwise division with multidirectional broadcasting";
}
def ONNX_PowOp : ONNX_BinaryOp<"Pow"> {
  let summary = "elementwise power X^Y (the exponent may have another type)";
  let arguments = (ins AnyTensor:$X, AnyTensor:$Y);
  let results = (outs AnyTensor:$Z);
}

def ONNX_MaxOp : ONNX_BroadcastOp<"Max"> {
  let hasCanonicalizer = 1;
  let summary = "elementwise maximum of one or more inputs";
  let arguments = (ins Variadic<AnyTensor>:$data_0);
  let results = (outs AnyTensor:$max);
}
def ONNX_MinOp : ONNX_BroadcastOp<"Min"> {
  let hasCanonicalizer = 1;
  let summary = "elementwise minimum of one or more inputs";
  let arguments = (ins Variadic<AnyTensor>:$data_0);
  let results = (outs AnyTensor:$min);
}

def ONNX_SqrtOp : ONNX_UnaryOp<"Sqrt"> { let summary = "elementwise square root"; }
def ONNX_ReciprocalOp : ONNX_UnaryOp<"Reciprocal"> { let summary = "elementwise 1/x"; }
def ONNX_NegOp : ONNX_UnaryOp<"Neg"> {
  let summary = "elementwise negation";
  let hasFolder = 1;
}
def ONNX_AbsOp : ONNX_UnaryOp<"Abs"> { let summary = "elementwise absolute value"; }
def ONNX_ExpOp : ONNX_UnaryOp<"Exp"> { let summary = "elementwise e^x"; }
def ONNX_LogOp : ONNX_UnaryOp<"Log"> { let summary = "elementwise natural logarithm"; }
def ONNX_ErfOp : ONNX_UnaryOp<"Erf"> { let summary = "elementwise error function"; }
def ONNX_TanhOp : ONNX_UnaryOp<"Tanh"> { let summary = "elementwise tanh"; }
def ONNX_SigmoidOp : ONNX_UnaryOp<"Sigmoid"> { let summary = "elementwise 1/(1+e^-x)"; }
def ONNX_ReluOp : ONNX_UnaryOp<"Relu"> { let summary = "elementwise max(x, 0)"; }
def ONNX_GeluOp : ONNX_UnaryOp<"Gelu"> {
  let summary = "Gaussian error linear unit (opset 20)";
  let arguments = (ins AnyTensor:$X, DefaultValuedStrAttr<StrAttr, "none">:$approximate);
}

def ONNX_ClipOp : ONNX_Op<"Clip", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "clamps every element to [min, max]";
  let arguments = (ins AnyTensor:$input, Optional<AnyTensor>:$min,
                       Optional<AnyTensor>:$max);
  let results = (outs AnyTensor:$output);
  let hasVerifier = 1;
}

def ONNX_CastOp : ONNX_Op<"Cast",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "converts every element to the element type `to`";
  let arguments = (ins AnyTensor:$input, TypeAttr:$to,
                       DefaultValuedAttr<SI64Attr, "1">:$saturate);
  let results = (outs AnyTensor:$output);
  let hasVerifier = 1;
  let hasFolder = 1;
}
def ONNX_CastLikeOp : ONNX_Op<"CastLike",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "converts every element to the element type of target_type";
  let arguments = (ins AnyTensor:$input, AnyTensor:$target_type,
                       DefaultValuedAttr<SI64Attr, "1">:$saturate);
  let results = (outs AnyTensor:$output);
  let hasVerifier = 1;
}

#endif // TESSERA_ONNX_MATH
