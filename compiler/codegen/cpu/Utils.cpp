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

namespace {
/// A widening (extf) of a vector whose dims are all unit but one, other than
/// the leading one (say [64, 1]), as a widening of the 1-D vector between
/// shape casts. The vectorizer makes such vectors of a weight row around a
/// row tile's contraction; from f16 panels, their widening was lowered as 64
/// scalar conversions. As 1-D, it folds into the row's load (vcvtph2ps).
/// (Leading unit dims are cast away by populateCastAwayVectorLeadingOneDim-
/// Patterns.)
struct WidenUnitDimVectorsAs1D : OpRewritePattern<arith::ExtFOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(arith::ExtFOp ext,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<VectorType>(ext.getIn().getType());
    if (!type || type.getRank() < 2 || type.isScalable() ||
        type.getDimSize(0) == 1 ||
        llvm::count_if(type.getShape(), [](int64_t d) { return d != 1; }) != 1)
      return failure();
    Location loc = ext.getLoc();
    auto flat = VectorType::get({type.getNumElements()}, type.getElementType());
    auto wideFlat = flat.clone(getElementTypeOrSelf(ext.getType()));
    Value narrow = rewriter.create<vector::ShapeCastOp>(loc, flat, ext.getIn());
    Value wide = rewriter.create<arith::ExtFOp>(loc, wideFlat, narrow);
    rewriter.replaceOpWithNewOp<vector::ShapeCastOp>(ext, ext.getType(), wide);
    return success();
  }
};
} // namespace

void cleanup(Operation *root) {
  RewritePatternSet patterns(root->getContext());
  vector::populateVectorReductionToContractPatterns(patterns);
  patterns.add<WidenUnitDimVectorsAs1D>(root->getContext());
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
