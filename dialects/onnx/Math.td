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
  let hasFolder = 1;
  let summary = "elementwise maximum of one or more inputs";
  let arguments = (ins Variadic<AnyTensor>:$data_0);
  let results = (outs AnyTensor:$max);
}
def ONNX_MinOp : ONNX_BroadcastOp<"Min"> {
  let hasCanonicalizer = 1;
  let hasFolder = 1;
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
def ONNX_AbsOp : ONNX_UnaryOp<"Abs"> {
  let summary = "elementwise absolute value";
  let hasFolder = 1;
}
def ONNX_ExpOp : ONNX_UnaryOp<"Exp"> { let summary = "elementwise e^x"; }
def ONNX_LogOp : ONNX_UnaryOp<"Log"> {
  let summary = "elementwise natural logarithm";
  let hasFolder = 1;
}
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

//===----------------------------------------------------------------------===//
// Ops whose C++ (verifier, shape inference) comes from their class: the
// lowering gives each its scalar body (compiler/lowering/Elementwise.cpp).
//===----------------------------------------------------------------------===//

// The result has operand 0's shape and element type `elt`.
class ONNX_MapOp<string mnemonic, list<Trait> traits = [],
                 string elt = "getElementTypeOrSelf((*this)->getOperand(0))">
    : ONNX_UnaryOp<mnemonic, traits> {
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      return verifySameShape(*this, (*this)->getOperand(0), getResult());
    }
    ::mlir::LogicalResult $cppClass::inferResultTypes(
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return sameShape((*this)->getOperand(0), }] # elt # [{, types);
    }
  }];
}
class ONNX_PredicateOp<string mnemonic>
    : ONNX_MapOp<mnemonic, [], "::mlir::IntegerType::get(getContext(), 1)"> {
  let results = (outs TensorOf<[I1]>:$Y);
}

// The result is the numpy broadcast of one or more operands, with operand 0's
// element type.
class ONNX_ZipOp<string mnemonic, list<Trait> traits = []>
    : ONNX_BroadcastOp<mnemonic, traits> {
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      if ((*this)->getNumOperands() == 0)
        return emitOpError("needs at least one input");
      return verifyBroadcast(*this, (*this)->getOperands());
    }
    ::mlir::LogicalResult $cppClass::inferResultTypes(
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return broadcastOperands(
          (*this)->getOperands(),
          getElementTypeOrSelf((*this)->getOperand(0)), types);
    }
  }];
}
class ONNX_ZipBinaryOp<string mnemonic, list<Trait> traits = []>
    : ONNX_ZipOp<mnemonic, traits> {
  let arguments = (ins AnyTensor:$A, AnyTensor:$B);
  let results = (outs AnyTensor:$C);
}

// Rounding and sign.
def ONNX_FloorOp : ONNX_MapOp<"Floor"> { let summary = "elementwise floor"; }
def ONNX_CeilOp : ONNX_MapOp<"Ceil"> { let summary = "elementwise ceiling"; }
def ONNX_RoundOp : ONNX_MapOp<"Round"> {
  let summary = "elementwise round to nearest, halves to even";
}
def ONNX_SignOp : ONNX_MapOp<"Sign"> { let summary = "elementwise -1, 0 or 1"; }

// Trigonometric and hyperbolic functions.
def ONNX_SinOp : ONNX_MapOp<"Sin"> { let summary = "elementwise sine"; }
def ONNX_CosOp : ONNX_MapOp<"Cos"> { let summary = "elementwise cosine"; }
def ONNX_TanOp : ONNX_MapOp<"Tan"> { let summary = "elementwise tangent"; }
def ONNX_AsinOp : ONNX_MapOp<"Asin"> { let summary = "elementwise arcsine"; }
def ONNX_AcosOp : ONNX_MapOp<"Acos"> { let summary = "elementwise arccosine"; }
def ONNX_AtanOp : ONNX_MapOp<"Atan"> { let summary = "elementwise arctangent"; }
def ONNX_SinhOp : ONNX_MapOp<"Sinh"> { let summary = "elementwise sinh"; }
def ONNX_CoshOp : ONNX_MapOp<"Cosh"> { let summary = "elementwise cosh"; }
def ONNX_AsinhOp : ONNX_MapOp<"Asinh"> { let summary = "elementwise asinh"; }
def ONNX_AcoshOp : ONNX_MapOp<"Acosh"> { let summary = "elementwise acosh"; }
def ONNX_AtanhOp : ONNX_MapOp<"Atanh"> { let summary = "elementwise atanh"; }

// Floating-point classes.
def ONNX_IsNaNOp : ONNX_PredicateOp<"IsNaN"> {
  let summary = "elementwise x is NaN";
}
def ONNX_IsInfOp : ONNX_PredicateOp<"IsInf"> {
  let summary = "elementwise x is +inf (detect_positive) or -inf "
                "(detect_negative)";
  let arguments = (ins AnyTensor:$X,
                       DefaultValuedAttr<SI64Attr, "1">:$detect_negative,
                       DefaultValuedAttr<SI64Attr, "1">:$detect_positive);
}

// Activations.
def ONNX_SoftplusOp : ONNX_MapOp<"Softplus"> {
  let summary = "elementwise log(1 + e^x)";
}
def ONNX_SoftsignOp : ONNX_MapOp<"Softsign"> {
  let summary = "elementwise x / (1 + |x|)";
}
def ONNX_HardSwishOp : ONNX_MapOp<"HardSwish"> {
  let summary = "elementwise x * max(0, min(1, x / 6 + 1 / 2))";
}
def ONNX_MishOp : ONNX_MapOp<"Mish"> {
  let summary = "elementwise x * tanh(softplus(x)) (opset 18)";
}
def ONNX_EluOp : ONNX_MapOp<"Elu"> {
  let summary = "elementwise x < 0 ? alpha (e^x - 1) : x";
  let arguments = (ins AnyTensor:$X, DefaultValuedAttr<F32Attr, "1.0">:$alpha);
}
def ONNX_CeluOp : ONNX_MapOp<"Celu"> {
  let summary = "elementwise max(0, x) + min(0, alpha (e^(x / alpha) - 1))";
  let arguments = (ins AnyTensor:$X, DefaultValuedAttr<F32Attr, "1.0">:$alpha);
}
def ONNX_SeluOp : ONNX_MapOp<"Selu"> {
  let summary = "elementwise gamma (x > 0 ? x : alpha (e^x - 1))";
  let arguments = (ins AnyTensor:$X,
      DefaultValuedAttr<F32Attr, "1.67326319217681884765625">:$alpha,
      DefaultValuedAttr<F32Attr, "1.05070102214813232421875">:$gamma);
}
def ONNX_LeakyReluOp : ONNX_MapOp<"LeakyRelu"> {
  let summary = "elementwise x < 0 ? alpha x : x";
  let arguments = (ins AnyTensor:$X, DefaultValuedAttr<F32Attr, "0.01">:$alpha);
}
def ONNX_ThresholdedReluOp : ONNX_MapOp<"ThresholdedRelu"> {
  let summary = "elementwise x > alpha ? x : 0";
  let arguments = (ins AnyTensor:$X, DefaultValuedAttr<F32Attr, "1.0">:$alpha);
}
def ONNX_HardSigmoidOp : ONNX_MapOp<"HardSigmoid"> {
  let summary = "elementwise max(0, min(1, alpha x + beta))";
  let arguments = (ins AnyTensor:$X, DefaultValuedAttr<F32Attr, "0.2">:$alpha,
                       DefaultValuedAttr<F32Attr, "0.5">:$beta);
}
def ONNX_ShrinkOp : ONNX_MapOp<"Shrink"> {
  let summary = "elementwise x < -lambd ? x + bias : x > lambd ? x - bias : 0";
  let arguments = (ins AnyTensor:$input, DefaultValuedAttr<F32Attr, "0.0">:$bias,
                       DefaultValuedAttr<F32Attr, "0.5">:$lambd);
  let results = (outs AnyTensor:$output);
}
def ONNX_PReluOp : ONNX_ZipBinaryOp<"PRelu"> {
  let summary = "elementwise x < 0 ? slope x : x (slope broadcast to x)";
  let arguments = (ins AnyTensor:$X, AnyTensor:$slope);
  let results = (outs AnyTensor:$Y);
}

// Integer and bitwise arithmetic.
def ONNX_ModOp : ONNX_ZipBinaryOp<"Mod"> {
  let summary = "elementwise remainder: the divisor's sign (fmod 0, integers) "
                "or the dividend's (fmod 1, C fmod)";
  let arguments = (ins AnyTensor:$A, AnyTensor:$B,
                       DefaultValuedAttr<SI64Attr, "0">:$fmod);
}
def ONNX_BitShiftOp : ONNX_ZipBinaryOp<"BitShift"> {
  let summary = "elementwise X << Y or X >> Y of unsigned integers";
  let arguments = (ins AnyTensor:$X, AnyTensor:$Y, StrAttr:$direction);
  let results = (outs AnyTensor:$Z);
}
def ONNX_BitwiseAndOp : ONNX_ZipBinaryOp<"BitwiseAnd", [Commutative]> {
  let summary = "elementwise bitwise and of integers (opset 18)";
}
def ONNX_BitwiseOrOp : ONNX_ZipBinaryOp<"BitwiseOr", [Commutative]> {
  let summary = "elementwise bitwise or of integers (opset 18)";
}
def ONNX_BitwiseXorOp : ONNX_ZipBinaryOp<"BitwiseXor", [Commutative]> {
  let summary = "elementwise bitwise exclusive or of integers (opset 18)";
}
def ONNX_BitwiseNotOp : ONNX_MapOp<"BitwiseNot"> {
  let summary = "elementwise bitwise complement of integers (opset 18)";
}

// Variadic.
def ONNX_SumOp : ONNX_ZipOp<"Sum", [Commutative]> {
  let summary = "elementwise sum of one or more inputs";
  let arguments = (ins Variadic<AnyTensor>:$data_0);
  let results = (outs AnyTensor:$sum);
}
def ONNX_MeanOp : ONNX_ZipOp<"Mean", [Commutative]> {
  let summary = "elementwise mean of one or more inputs";
  let arguments = (ins Variadic<AnyTensor>:$data_0);
  let results = (outs AnyTensor:$mean);
}

#endif // TESSERA_ONNX_MATH
