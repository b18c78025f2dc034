//===- Passes.h - Tessera lowering passes -----------------------*- C++ -*-===//

#ifndef TESSERA_COMPILER_LOWERING_PASSES_H
#define TESSERA_COMPILER_LOWERING_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/Pass.h"

namespace tessera {

/// The fused ops' decompositions into linalg, as external models of
/// linalg::AggregatedOpInterface (FusedOpDecompositions.cpp).
void registerFusedOpDecompositions(mlir::DialectRegistry &registry);

#define GEN_PASS_DECL
#include "compiler/lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/lowering/Passes.h.inc"

} // namespace tessera

#endif // TESSERA_COMPILER_LOWERING_PASSES_H
