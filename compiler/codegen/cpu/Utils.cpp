//===- Utils.cpp - helpers shared by the CPU schedules --------------------===//

#include "compiler/codegen/cpu/Utils.h"

#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace tessera {
namespace cpu {

FailureOr<scf::SCFTilingResult> tile(RewriterBase &rewriter, Operation *op,
                                     ArrayRef<int64_t> sizes,
                                     ArrayRef<int64_t> interchange) {
  scf::SCFTilingOptions options;
  if (!interchange.empty())
    options.setInterchange(interchange);
  SmallVector<OpFoldResult> ts;
  for (int64_t s : sizes)
    ts.push_back(rewriter.getIndexAttr(s));
  options.setTileSizes(ts);
  rewriter.setInsertionPoint(op);
  auto result = scf::tileUsingSCF(rewriter, cast<TilingInterface>(op), options);
  if (failed(result))
    return failure();
  rewriter.replaceOp(op, result->replacements);
  return result;
}

bool hasStaticShapes(linalg::LinalgOp op) {
  return llvm::all_of(op->getOperandTypes(), [](Type t) {
    auto s = dyn_cast<ShapedType>(t);
    return !s || s.hasStaticShape();
  });
}

void cleanup(Operation *root) {
  RewritePatternSet patterns(root->getContext());
  vector::populateVectorReductionToContractPatterns(patterns);
  vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
  vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
  // Not tensor::populateFoldTensorSubsetIntoVectorTransferPatterns: with a
  // peeled remainder inside a loop over packed weight panels it folded an
  // insert_slice of a partially written tile as if the write covered the
  // whole slice, dropping the main tile (tests/numerics/matmul_schedule.py).
  // All canonicalizations, as the canonicalizer pass collects them (peeling
  // leaves tensor.casts that only linalg's patterns fold into the matmuls).
  MLIRContext *ctx = root->getContext();
  for (Dialect *dialect : ctx->getLoadedDialects())
    dialect->getCanonicalizationPatterns(patterns);
  for (RegisteredOperationName op : ctx->getRegisteredOperations())
    op.getCanonicalizationPatterns(patterns, ctx);
  (void)applyPatternsAndFoldGreedily(root, std::move(patterns));
}

void eraseDeadWeight(RewriterBase &rewriter, Operation *constant,
                     Operation *scope) {
  auto cst = dyn_cast_or_null<arith::ConstantOp>(constant);
  if (!cst || !cst->use_empty())
    return;
  auto res = dyn_cast<DenseResourceElementsAttr>(cst.getValue());
  rewriter.eraseOp(cst);
  if (!res)
    return;
  DenseResourceElementsHandle handle = res.getRawHandle();
  bool referenced = false;
  scope->walk([&](Operation *op) {
    for (NamedAttribute attr : op->getAttrs())
      if (auto other = dyn_cast<DenseResourceElementsAttr>(attr.getValue()))
        if (other.getRawHandle() == handle)
          referenced = true;
    return referenced ? WalkResult::interrupt() : WalkResult::advance();
  });
  if (!referenced && handle.getResource())
    handle.getResource()->setBlob(AsmResourceBlob());
}

bool isF32(linalg::MatmulOp op) {
  return cast<ShapedType>(op.getResultTypes()[0]).getElementType().isF32();
}

std::pair<int64_t, int64_t> sizeMN(linalg::MatmulOp op) {
  auto c = cast<ShapedType>(op.getResultTypes()[0]);
  return {c.getDimSize(0), c.getDimSize(1)};
}

} // namespace cpu
} // namespace tessera
