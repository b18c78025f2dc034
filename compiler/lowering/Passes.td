//===- Passes.td - Tessera lowering passes -----------------*- tablegen -*-===//

#ifndef TESSERA_LOWERING_PASSES
#define TESSERA_LOWERING_PASSES

include "mlir/Pass/PassBase.td"

def ConvertONNXToLinalg : Pass<"convert-onnx-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower the onnx dialect to linalg, tensor, arith and math";
  let description = [{
    Every onnx op becomes linalg on tensors (named ops for MatMul, Gemm,
    Conv, Transpose and reductions; linalg.generic for elementwise ops),
    tensor ops for slicing and reshaping, and arith/math for scalars. Dynamic
    dims (`?`) are allowed: sizes are read with tensor.dim, and shapes that
    can only be checked at run time (broadcasts of two dynamic dims, reshape
    targets, gather indices) get a cf.assert naming the node. An input of
    unknown rank is an error naming it. Unsigned integer tensors become
    signless.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::func::FuncDialect", "::mlir::scf::SCFDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::cf::ControlFlowDialect"
  ];
}

def LowerFusedKernels : Pass<"tessera-lower-fused-kernels"> {
  let summary = "Lower tessera.attention, tessera.add_layer_norm, "
                "onnx.RMSNormalization and onnx.RotaryEmbedding to their "
                "kernels";
  let description = [{
    After convert-onnx-to-linalg, which leaves these ops in place on
    converted types (the other fused ops decompose into linalg there): each
    becomes its hand-tuned kernel, loops of vector ops on tensors sized by
    the target's vector registers. tessera.attention: the flash-style
    online-softmax loop nest (FusedAttention.cpp); tessera.add_layer_norm:
    the residual sum (an elementwise linalg.generic when X comes from a
    matmul, which takes it as its epilogue) and the row-norm loops
    (FusedAddLayerNorm.cpp); onnx.RMSNormalization: the same row-norm loops;
    onnx.RotaryEmbedding: one loop per row rotating its pairs
    (Transformer.cpp). An op its kernel cannot take is decomposed into
    linalg through linalg::AggregatedOpInterface where it has a
    decomposition (tessera.add_layer_norm: FusedOpDecompositions.cpp), else
    an error naming the node and why.
  }];
  let options = [
    Option<"microKernels", "micro-kernels", "bool", /*default=*/"true",
           "Lower each op to its hand-tuned kernel where it takes it; with "
           "false, every op that has a decomposition is decomposed (to "
           "compare the two)">,
    Option<"vectorBits", "vector-bits", "unsigned", /*default=*/"256",
           "The target's widest vector register in bits (the driver passes "
           "its target description's): the kernels' f32 vectors are one "
           "register wide (16 floats at 512, 8 at 256)">
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::cf::ControlFlowDialect"
  ];
}

def ApproximateMath : Pass<"tessera-approximate-math"> {
  let summary = "Replace erf, tanh, exp, log, ... by polynomial approximations";
  let description = [{
    So that they vectorise and need no libm: MLIR's polynomial
    approximations of math ops, in f32 (f16/bf16 are widened first), except
    f32 erf, which is Tessera's rational x P(x^2) / Q(x^2) (max error 3.4e-7,
    a third of the instructions: GELU is every FFN's epilogue); tan,
    sinh, cosh, asinh, acosh and atanh are first expanded into exp, log,
    sqrt, sin and cos. What LLVM has no intrinsic for and no approximation
    covers (f64 atan, asin, acos, erf, tanh) becomes libm calls.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::func::FuncDialect"];
}

def CopiesToLinalg : Pass<"tessera-copies-to-linalg"> {
  let summary = "Turn memref.copy into linalg.copy";
  let description = [{
    A memref.copy between strided buffers lowers to a call into MLIR's C
    runner utilities, which a model library does not link. As linalg.copy it
    becomes generated loops like everything else.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif // TESSERA_LOWERING_PASSES
