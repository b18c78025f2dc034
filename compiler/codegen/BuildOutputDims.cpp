//===- BuildOutputDims.cpp - output dims as a function of input dims ------===//
//
// The runtime must size a model's outputs before it runs the model, so the
// library carries a second function computing them from the input dims.
// It is derived from the entry function on linalg on tensors: clone it,
// return the dims of its results instead of the results, fold those dims
// back to the arguments' dims through the ops' shape reification, and erase
// everything that is then dead. Shape checks (cf.assert) that depend only on
// dims stay, so a shape the model cannot take is refused before a run.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Passes.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/Iterators.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tessera {
#define GEN_PASS_DEF_BUILDOUTPUTDIMS
#include "compiler/codegen/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

/// Whether `op` computes on dims only: scalars in and out, or the dim of a
/// function argument (whose data the output-dims function never reads).
bool isShapeOnly(Operation *op) {
  if (auto dim = dyn_cast<tensor::DimOp>(op))
    return isa<BlockArgument>(dim.getSource()) &&
           isa<func::FuncOp>(
               cast<BlockArgument>(dim.getSource()).getOwner()->getParentOp());
  if (op->getNumRegions() != 0)
    return false;
  auto scalar = [](Type t) { return t.isIntOrIndexOrFloat(); };
  return llvm::all_of(op->getOperandTypes(), scalar) &&
         llvm::all_of(op->getResultTypes(), scalar);
}

/// Whether everything `v` is computed from is shape-only; `memo` caches
/// the answer per op.
bool dependsOnDimsOnly(Value v, DenseMap<Operation *, bool> &memo) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return isa<func::FuncOp>(
        cast<BlockArgument>(v).getOwner()->getParentOp()) &&
           v.getType().isIntOrIndexOrFloat();
  auto [it, inserted] = memo.try_emplace(def, false);
  if (!inserted)
    return it->second;
  bool ok = isShapeOnly(def);
  if (ok && !isa<tensor::DimOp>(def))
    for (Value operand : def->getOperands())
      if (!(ok = dependsOnDimsOnly(operand, memo)))
        break;
  return memo[def] = ok;
}

/// Whether `v`, the value yielded for the loop-carried tensor `arg`, is
/// `arg` written in place: through destination-passing ops, vector writes
/// and nested loops that do the same. Its dims are then `arg`'s.
bool writesInPlace(Value v, Value arg) {
  while (v != arg) {
    Operation *def = v.getDefiningOp();
    if (auto write = dyn_cast_or_null<vector::TransferWriteOp>(def)) {
      v = write.getSource();
    } else if (auto loop = dyn_cast_or_null<scf::ForOp>(def)) {
      unsigned i = cast<OpResult>(v).getResultNumber();
      if (!writesInPlace(loop.getYieldedValues()[i],
                         loop.getRegionIterArgs()[i]))
        return false;
      v = loop.getInitArgs()[i];
    } else if (auto dps = dyn_cast_or_null<DestinationStyleOpInterface>(def)) {
      v = dps.getTiedOpOperand(cast<OpResult>(v))->get();
    } else {
      return false;
    }
  }
  return true;
}

/// dim(scf.for result) is dim(its init) when the loop writes the tensor in
/// place (upstream's DimOfLoopResultFolder does not see through vector
/// writes, which the fused kernels use).
struct DimOfLoopResult : OpRewritePattern<tensor::DimOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::DimOp op,
                                PatternRewriter &rewriter) const override {
    auto result = dyn_cast<OpResult>(op.getSource());
    auto loop = result ? dyn_cast<scf::ForOp>(result.getOwner()) : nullptr;
    if (!loop)
      return failure();
    unsigned i = result.getResultNumber();
    if (!writesInPlace(loop.getYieldedValues()[i],
                       loop.getRegionIterArgs()[i]))
      return failure();
    rewriter.modifyOpInPlace(
        op, [&] { op.getSourceMutable().assign(loop.getInitArgs()[i]); });
    return success();
  }
};

struct BuildOutputDimsPass
    : impl::BuildOutputDimsBase<BuildOutputDimsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto entry = fused::getEntryFunctionAs<func::FuncOp>(module);
    if (!entry || entry.isExternal() || fused::getOutputDimsFunction(module))
      return;
    if (failed(build(module, entry)))
      signalPassFailure();
  }

  LogicalResult build(ModuleOp module, func::FuncOp entry) {
    MLIRContext *ctx = module.getContext();
    OpBuilder b(ctx);
    b.setInsertionPointAfter(entry);
    auto dims = cast<func::FuncOp>(b.clone(*entry));
    dims->removeAttr(fused::TesseraDialect::EntryAttrHelper::getNameStr());
    fused::markOutputDimsFunction(dims);
    dims.setSymName((entry.getSymName() + "_output_dims").str());
    dims.setPrivate();
    dims.removeResAttrsAttr();

    // Return the result dims instead of the results.
    auto ret = cast<func::ReturnOp>(dims.getBody().back().getTerminator());
    b.setInsertionPoint(ret);
    SmallVector<Value> values;
    for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
      auto type = dyn_cast<RankedTensorType>(v.getType());
      if (!type)
        return entry.emitError() << "output " << i << " has no known rank";
      for (int64_t d = 0; d < type.getRank(); ++d)
        values.push_back(
            type.isDynamicDim(d)
                ? b.create<tensor::DimOp>(ret.getLoc(), v, d).getResult()
                : b.create<arith::ConstantIndexOp>(ret.getLoc(),
                                                   type.getDimSize(d))
                      .getResult());
    }
    b.create<func::ReturnOp>(ret.getLoc(), values);
    ret.erase();
    dims.setFunctionType(FunctionType::get(ctx, entry.getArgumentTypes(),
                                           ValueRange(values).getTypes()));

    if (failed(simplify(dims)))
      return failure();
    // Shape checks on dims only stay; those on data are the run's.
    DenseMap<Operation *, bool> memo;
    SmallVector<cf::AssertOp> dataChecks;
    dims.walk([&](cf::AssertOp check) {
      if (!dependsOnDimsOnly(check.getArg(), memo))
        dataChecks.push_back(check);
    });
    for (cf::AssertOp check : dataChecks)
      check.erase();
    if (failed(simplify(dims)))
      return failure();

    auto result = cast<func::ReturnOp>(dims.getBody().back().getTerminator());
    for (auto [i, v] : llvm::enumerate(result.getOperands())) {
      if (dependsOnDimsOnly(v, memo))
        continue;
      Operation *def = v.getDefiningOp();
      return (def ? def->emitError() : entry.emitError())
             << "the dims of output result " << i
             << " depend on tensor values, not only on the input dims; pin "
                "the input shapes with --shape";
    }
    // Only the returned dims and the checks are left: no op may remain that
    // reads tensors or has regions (the function is called without data).
    WalkResult walk = dims.getBody().walk([&](Operation *op) {
      if (isa<func::ReturnOp, cf::AssertOp>(op) || isShapeOnly(op))
        return WalkResult::advance();
      op->emitError("internal error: left in the output-dims function: ")
          << op->getName();
      return WalkResult::interrupt();
    });
    return failure(walk.wasInterrupted());
  }

  /// Folds result dims back to argument dims and erases dead ops.
  LogicalResult simplify(func::FuncOp func) {
    MLIRContext *ctx = func.getContext();
    RewritePatternSet patterns(ctx);
    populateCanonicalizationPatterns(patterns);
    patterns.add<DimOfLoopResult>(ctx);
    memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
    memref::populateResolveShapedTypeResultDimsPatterns(patterns);
    scf::populateSCFForLoopCanonicalizationPatterns(patterns);
    GreedyRewriteConfig config;
    config.maxIterations = 32;
    if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns),
                                            config)))
      return func.emitError(
          "internal error: the output-dims function did not converge");
    // Fresh buffers nobody reads any more (bufferization.alloc_tensor
    // declares an effect, so the greedy driver keeps it).
    bool erased = true;
    while (erased) {
      erased = false;
      func.walk<WalkOrder::PostOrder, mlir::ReverseIterator>([&](Operation *op) {
        if (op->use_empty() &&
            (isa<bufferization::AllocTensorOp>(op) || isOpTriviallyDead(op))) {
          op->erase();
          erased = true;
        }
      });
    }
    IRRewriter rewriter(func.getContext());
    DominanceInfo dominance;
    eliminateCommonSubExpressions(rewriter, dominance, func);
    return success();
  }
};

} // namespace
} // namespace tessera
