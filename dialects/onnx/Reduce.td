//===- Reduce.td - onnx reductions, scans and axis ops -----*- tablegen -*-===//
//
// Reductions over axes (the ONNX_ReduceOp class is in NN.td), arg-reductions,
// CumSum, and the ops that normalise or pick along an axis. Their verifiers
// and shape inference come from their classes; the lowering is
// compiler/lowering/Reduce.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_ONNX_REDUCE
#define TESSERA_ONNX_REDUCE

include "dialects/onnx/ONNXBase.td"
include "dialects/onnx/NN.td"

def ONNX_ReduceProdOp : ONNX_ReduceOp<"ReduceProd"> {
  let summary = "product over `axes`";
}
def ONNX_ReduceL1Op : ONNX_ReduceOp<"ReduceL1"> {
  let summary = "sum of absolute values over `axes`";
}
def ONNX_ReduceL2Op : ONNX_ReduceOp<"ReduceL2"> {
  let summary = "square root of the sum of squares over `axes`";
}
def ONNX_ReduceLogSumOp : ONNX_ReduceOp<"ReduceLogSum"> {
  let summary = "log of the sum over `axes`";
}
def ONNX_ReduceLogSumExpOp : ONNX_ReduceOp<"ReduceLogSumExp"> {
  let summary = "log of the sum of exponentials over `axes`";
}
def ONNX_ReduceSumSquareOp : ONNX_ReduceOp<"ReduceSumSquare"> {
  let summary = "sum of squares over `axes`";
}

// The index of the largest (smallest) element along `axis`.
class ONNX_ArgReduceOp<string mnemonic>
    : ONNX_Op<mnemonic, [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let arguments = (ins AnyTensor:$data, DefaultValuedAttr<SI64Attr, "0">:$axis,
                       DefaultValuedAttr<SI64Attr, "1">:$keepdims,
                       DefaultValuedAttr<SI64Attr, "0">:$select_last_index);
  let results = (outs TensorOf<[I64]>:$reduced);
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      if (getKeepdims() != 0 && getKeepdims() != 1)
        return emitOpError("keepdims must be 0 or 1");
      if (getSelectLastIndex() != 0 && getSelectLastIndex() != 1)
        return emitOpError("select_last_index must be 0 or 1");
      return verifyAxis(*this, getAxis(), getData());
    }
    ::mlir::LogicalResult $cppClass::inferResultTypes(
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      int64_t axis = getAxis();
      return inferReduce(getData(), axis, getKeepdims(), false,
                         ::mlir::IntegerType::get(getContext(), 64), types);
    }
  }];
}
def ONNX_ArgMaxOp : ONNX_ArgReduceOp<"ArgMax"> {
  let summary = "index of the first (or last) largest element along `axis`";
}
def ONNX_ArgMinOp : ONNX_ArgReduceOp<"ArgMin"> {
  let summary = "index of the first (or last) smallest element along `axis`";
}

// Same-shape ops along one `axis` of their input.
class ONNX_AxisMapOp<string mnemonic, string dflt = "-1">
    : ONNX_UnaryOp<mnemonic> {
  let arguments = (ins AnyTensor:$input,
                       DefaultValuedAttr<SI64Attr, dflt>:$axis);
  let results = (outs AnyTensor:$output);
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      if (failed(verifyAxis(*this, getAxis(), getInput())))
        return ::mlir::failure();
      return verifySameShape(*this, getInput(), getOutput());
    }
    ::mlir::LogicalResult $cppClass::inferResultTypes(
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return sameShape(getInput(), getElementTypeOrSelf(getInput()), types);
    }
  }];
}
def ONNX_HardmaxOp : ONNX_AxisMapOp<"Hardmax"> {
  let summary = "1 at the first largest element along `axis`, else 0 "
                "(opset 13 semantics)";
}
def ONNX_LpNormalizationOp : ONNX_AxisMapOp<"LpNormalization"> {
  let summary = "x divided by its L1 or L2 norm (`p`) along `axis`";
  let arguments = (ins AnyTensor:$input, DefaultValuedAttr<SI64Attr, "-1">:$axis,
                       DefaultValuedAttr<SI64Attr, "2">:$p);
}

def ONNX_MeanVarianceNormalizationOp
    : ONNX_UnaryOp<"MeanVarianceNormalization"> {
  let summary = "(x - mean) / (std + 1e-9) over `axes`";
  let arguments = (ins AnyTensor:$X,
                       DefaultValuedAttr<I64ArrayAttr, "{0, 2, 3}">:$axes);
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      for (::mlir::Attribute a : getAxes())
        if (failed(verifyAxis(*this, ::mlir::cast<::mlir::IntegerAttr>(a).getInt(),
                              getX())))
          return ::mlir::failure();
      return verifySameShape(*this, getX(), getY());
    }
    ::mlir::LogicalResult $cppClass::inferResultTypes(
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return sameShape(getX(), getElementTypeOrSelf(getX()), types);
    }
  }];
}

def ONNX_CumSumOp : ONNX_Op<"CumSum",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "cumulative sum along the (constant scalar) `axis` operand";
  let arguments = (ins AnyTensor:$x, AnyTensor:$axis,
                       DefaultValuedAttr<SI64Attr, "0">:$exclusive,
                       DefaultValuedAttr<SI64Attr, "0">:$reverse);
  let results = (outs AnyTensor:$y);
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      if (getExclusive() != 0 && getExclusive() != 1)
        return emitOpError("exclusive must be 0 or 1");
      if (getReverse() != 0 && getReverse() != 1)
        return emitOpError("reverse must be 0 or 1");
      if (failed(verifyScalarLike(*this, getAxis(), "axis")))
        return ::mlir::failure();
      ::llvm::SmallVector<int64_t> axis;
      if (getConstantInts(getAxis(), axis) && axis.size() == 1 &&
          failed(verifyAxis(*this, axis[0], getX())))
        return ::mlir::failure();
      return verifySameShape(*this, getX(), getY());
    }
    ::mlir::LogicalResult $cppClass::inferResultTypes(
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return sameShape(getX(), getElementTypeOrSelf(getX()), types);
    }
  }];
}

#endif // TESSERA_ONNX_REDUCE
