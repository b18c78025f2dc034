//===- Utils.h - helpers shared by the CPU schedules ------------*- C++ -*-===//
//
// Part of Tessera: tiling and clean-up steps that every CPU schedule pass in
// compiler/codegen/cpu uses.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_CODEGEN_CPU_UTILS_H
#define TESSERA_COMPILER_CODEGEN_CPU_UTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace tessera {
namespace cpu {

/// Marks the per-panel epilogues that tessera-pack-matmul-weights makes and
/// tessera-vectorize-matmul tiles together with their matmul.
constexpr llvm::StringLiteral kEpilogueAttr = "tessera.epilogue";

/// Whether the matmul computes in f32.
bool isF32(mlir::linalg::MatmulOp op);

/// The M and N sizes of the matmul's result (possibly dynamic).
std::pair<int64_t, int64_t> sizeMN(mlir::linalg::MatmulOp op);

/// Tiles `op` with `sizes` (0 = not tiled), replaces it, and returns the
/// tiled op and loops.
mlir::FailureOr<mlir::scf::SCFTilingResult>
tile(mlir::RewriterBase &rewriter, mlir::Operation *op,
     llvm::ArrayRef<int64_t> sizes, llvm::ArrayRef<int64_t> interchange = {});

/// Whether every shaped operand of `op` has a static shape.
bool hasStaticShapes(mlir::linalg::LinalgOp op);

/// Folds what tiling and vectorization leave behind: vector transfer
/// clean-ups and every dialect's and op's canonicalization patterns.
void cleanup(mlir::Operation *root);

/// Erases `constant` if it has no uses left and frees its resource blob (a
/// weight) if no other op in `scope` refers to it. Weights are held by the
/// context's blob manager until the context dies, so a weight that a
/// schedule replaced (by packed panels) would otherwise stay in memory
/// through code generation.
void eraseDeadWeight(mlir::RewriterBase &rewriter, mlir::Operation *constant,
                     mlir::Operation *scope);

} // namespace cpu
} // namespace tessera

#endif // TESSERA_COMPILER_CODEGEN_CPU_UTILS_H
