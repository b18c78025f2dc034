//===- Passes.td - Tessera code generation passes ----------*- tablegen -*-===//
//
// Passes between linalg on tensors and the LLVM dialect that shape the
// generated functions for the model ABI (tessera/abi.h).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_CODEGEN_PASSES
#define TESSERA_CODEGEN_PASSES

include "mlir/Pass/PassBase.td"

def Canonicalize : Pass<"tessera-canonicalize"> {
  let summary = "Canonicalization that is safe for dynamic reshapes";
  let description = [{
    Upstream's canonicalization patterns plus a tensor.dim-of-expand_shape
    pattern that takes the size from the expand's output_shape. LLVM 19's
    own pattern divides by kDynamic when a reassociation group has several
    dynamic dims (a silent miscompile with assertions off); this one runs
    first. Used everywhere the pipeline canonicalizes.
  }];
}

def DynamicExpandToReshape : Pass<"tessera-dynamic-expand-to-reshape"> {
  let summary = "Turn expand_shapes with several dynamic dims per group into reshapes";
  let description = [{
    LLVM 19 recomputes the dims of a tensor.expand_shape from its source
    (canonicalization, shape reification, bufferization, memref lowering)
    and gets them wrong, or crashes, when a reassociation group has several
    dynamic dims ([B*S, D] -> [B, S, D]). Such an expand becomes a
    tensor.reshape whose shape operand is the expand's output_shape.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def BuildOutputDims : Pass<"tessera-build-output-dims", "::mlir::ModuleOp"> {
  let summary = "Derive a function computing the output dims from the input dims";
  let description = [{
    On linalg on tensors: clones the entry function into a function of the
    same arguments that returns every dim of every result as an index (the
    runtime sizes outputs with it before a run). Result dims are reified
    back to the argument dims (ReifyRankedShapedTypeOpInterface, scf.for
    results), shape checks (cf.assert) that depend only on dims are kept,
    those that read tensor data are dropped (the run checks them), and
    everything else is erased. Fails, naming the output, when an output dim
    depends on tensor data.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def CacheInPlace : Pass<"tessera-cache-in-place", "::mlir::ModuleOp"> {
  let summary = "Let KV caches grow in place in one buffer (ABI v5 pairs)";
  let description = [{
    On linalg on tensors, before bufferization: an output of the entry
    function that is Concat(past input, new) along a dynamic axis (two
    tensor.insert_slice into a tensor.empty) becomes a memref argument of
    its own, marked `tessera.output_index` (the output buffer), in which
    the concatenation is built; the past becomes a memref argument. Both
    get the strides of a buffer that may be larger along the axis, and the
    past is copied into the present only when they are not the same memory,
    so the runtime can pass one buffer of its capacity as both (ABI v5,
    TESSERA_CACHE_IN_PLACE) and a step writes only its new rows. The pairs
    are recorded in the module attribute `tessera.cache_pairs`.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def ReadOnlyInputs : Pass<"tessera-read-only-inputs", "::mlir::ModuleOp"> {
  let summary = "Keep bufferization from writing into the entry function's inputs";
  let description = [{
    The entry function's arguments are the caller's input buffers, which the
    runtime takes as `const void *` (a NumPy array, a KV cache's past). One-
    Shot Bufferize takes function arguments as writable unless told
    otherwise, and would then update an input in place (ScatterND on a graph
    input wrote into the caller's array). Marks every tensor argument of the
    entry function `bufferization.writable = false`, so that an op that
    writes its operand gets a copy of the input instead.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def ResultsToOutParams
    : Pass<"tessera-results-to-out-params", "::mlir::ModuleOp"> {
  let summary = "Turn the entry function's memref results into out-params";
  let description = [{
    After bufferization: each memref result of the entry function becomes a
    trailing argument of the same type (dynamic dims included, which
    upstream's buffer-results-to-out-params refuses). A result that is a
    memref.alloc of the function, directly or through dense reshapes of it,
    is replaced by the argument (viewed with the allocation's shape: the
    graph writes the caller's buffer directly); any other is copied into it.
    An argument marked `tessera.output_index` (an output's buffer already)
    moves to that output's place among the new arguments.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::affine::AffineDialect"];
}

def LowerExpandShape : Pass<"tessera-lower-expand-shape"> {
  let summary = "Rewrite memref.expand_shape to reinterpret_cast by its output_shape";
  let description = [{
    Runs before expand-strided-metadata, whose LLVM 19 version recomputes the
    sizes of an expand from its source and crashes when a reassociation
    group has several dynamic dims ([B*S, D] -> [B, S, D]). The sizes come
    from the op's output_shape, the strides from the source's.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::affine::AffineDialect"];
}

def LowerAsserts : Pass<"tessera-lower-asserts", "::mlir::ModuleOp"> {
  let summary = "Turn cf.assert into an error report and an early return";
  let description = [{
    After scf-to-cf: every `cf.assert %ok, "msg"` becomes a branch to a block
    that calls `@tessera_raise(code)` and returns (zeros for any results).
    The messages are collected, in code order, in the module attribute
    `tessera.error_messages`; code generation implements `tessera_raise`
    with the runtime's `report_error` (ABI v4), so a failed shape check is a
    clear error, never an abort.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::cf::ControlFlowDialect"];
}

#endif // TESSERA_CODEGEN_PASSES
