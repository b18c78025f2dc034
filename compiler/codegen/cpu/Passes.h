//===- Passes.h - the CPU code generation passes ----------------*- C++ -*-===//
//
// Part of Tessera: the schedules of the host CPU (register-tiled matmuls,
// vectorized elementwise and reductions), the parallel outlining for the
// runtime's thread pool, and the vector lowering. Each pass is one file here
// with its lit test in tests/lit/codegen/<flag>.mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_CODEGEN_CPU_PASSES_H
#define TESSERA_COMPILER_CODEGEN_CPU_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

#include "dialects/tessera/TesseraDialect.h"

namespace tessera {

#define GEN_PASS_DECL
#include "compiler/codegen/cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/codegen/cpu/Passes.h.inc"

/// memref.copy with an innermost dim contiguous on both sides as loops of
/// vector loads and stores of `vectorBits` (tessera-vectorize-copies).
void populateVectorizeCopiesPatterns(mlir::RewritePatternSet &patterns,
                                     int64_t vectorBits);

} // namespace tessera

#endif // TESSERA_COMPILER_CODEGEN_CPU_PASSES_H
