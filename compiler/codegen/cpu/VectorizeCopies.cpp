//===- VectorizeCopies.cpp - memref.copy as vector loads and stores -------===//
//
// After bufferization, copies between buffers remain: a tensor inserted into
// a larger one (a KV cache's concatenation of the past and the new
// positions), results copied out. tessera-copies-to-linalg would make them
// loops of scalar loads and stores, which LLVM does not vectorize (source and
// destination may alias). A copy whose innermost dim is contiguous on both
// sides becomes loops over its outer dims around vector loads and stores of
// that dim: full vectors, then a shorter vector for what is left of a static
// size, a masked one for what is left of a dynamic size. The outermost loop
// runs over the largest static outer dim (the heads of a cache, not its
// batch of 1), so that tessera-outline-parallel can split it.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tessera {
#define GEN_PASS_DEF_VECTORIZECOPIES
#include "compiler/codegen/cpu/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

/// Whether `type` is a strided memref whose innermost dim has stride 1.
bool innermostContiguous(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return type.getRank() > 0 &&
         succeeded(getStridesAndOffset(type, strides, offset)) &&
         strides.back() == 1;
}

struct VectorizeCopy : OpRewritePattern<memref::CopyOp> {
  VectorizeCopy(MLIRContext *ctx, int64_t vectorBits)
      : OpRewritePattern(ctx), vectorBits(vectorBits) {}

  LogicalResult matchAndRewrite(memref::CopyOp op,
                                PatternRewriter &rewriter) const override {
    auto source = dyn_cast<MemRefType>(op.getSource().getType());
    auto target = dyn_cast<MemRefType>(op.getTarget().getType());
    if (!source || !target || source.getShape() != target.getShape() ||
        source.getElementType() != target.getElementType() ||
        !innermostContiguous(source) || !innermostContiguous(target))
      return rewriter.notifyMatchFailure(op, "innermost dim not contiguous");
    Type element = source.getElementType();
    if (!element.isIntOrFloat() || element.getIntOrFloatBitWidth() % 8 != 0 ||
        vectorBits < element.getIntOrFloatBitWidth())
      return rewriter.notifyMatchFailure(op, "not a byte-sized scalar type");
    int64_t lanes = vectorBits / element.getIntOrFloatBitWidth();
    int64_t inner = source.getShape().back();
    // A static row shorter than a vector is copied whole.
    if (!ShapedType::isDynamic(inner))
      lanes = std::min(lanes, inner);
    if (lanes == 0)
      return rewriter.notifyMatchFailure(op, "empty rows");

    Location loc = op.getLoc();
    Value src = op.getSource(), dst = op.getTarget();
    // The outer dims' loops, the largest static dim outermost (the one the
    // thread pool splits; a batch of 1 would leave it one iteration).
    SmallVector<int64_t> order;
    for (int64_t d = 0; d + 1 < source.getRank(); ++d)
      order.push_back(d);
    auto largest = llvm::max_element(order, [&](int64_t a, int64_t b) {
      auto size = [&](int64_t d) {
        return ShapedType::isDynamic(source.getDimSize(d))
                   ? 0
                   : source.getDimSize(d);
      };
      return size(a) < size(b);
    });
    if (largest != order.end())
      std::rotate(order.begin(), largest, std::next(largest));
    SmallVector<Value> outer(order.size());
    auto dims = [&](OpBuilder &b, Location l, ValueRange ivs) {
      for (auto [d, iv] : llvm::zip(order, ivs))
        outer[d] = iv;
      copyRow(b, l, src, dst, outer, lanes, VectorType::get({lanes}, element));
    };
    SmallVector<Value> lbs, ubs, steps;
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    for (int64_t d : order) {
      lbs.push_back(zero);
      ubs.push_back(rewriter.createOrFold<memref::DimOp>(loc, src, d));
      steps.push_back(one);
    }
    scf::buildLoopNest(rewriter, loc, lbs, ubs, steps, dims);
    rewriter.eraseOp(op);
    return success();
  }

  /// Copies row `outer` of `src` into `dst`: vectors of `lanes`, then the
  /// rest as one shorter vector (a static size) or one masked vector.
  static void copyRow(OpBuilder &b, Location loc, Value src, Value dst,
                      ValueRange outer, int64_t lanes, VectorType vector) {
    auto type = cast<MemRefType>(src.getType());
    int64_t inner = type.getShape().back();
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    Value step = b.create<arith::ConstantIndexOp>(loc, lanes);
    Value size = b.createOrFold<memref::DimOp>(loc, src, type.getRank() - 1);
    auto indices = [&](Value col) {
      SmallVector<Value> all(outer.begin(), outer.end());
      all.push_back(col);
      return all;
    };
    // Full vectors up to size - size % lanes.
    Value full = b.createOrFold<arith::SubIOp>(
        loc, size, b.createOrFold<arith::RemUIOp>(loc, size, step));
    b.create<scf::ForOp>(loc, zero, full, step, ValueRange{},
                         [&](OpBuilder &lb, Location l, Value col, ValueRange) {
                           Value v = lb.create<vector::LoadOp>(l, vector, src,
                                                               indices(col));
                           lb.create<vector::StoreOp>(l, v, dst, indices(col));
                           lb.create<scf::YieldOp>(l);
                         });
    if (!ShapedType::isDynamic(inner)) {
      // The rest of a static row: one shorter vector.
      if (int64_t rest = inner % lanes) {
        auto restType = VectorType::get({rest}, vector.getElementType());
        Value v = b.create<vector::LoadOp>(loc, restType, src, indices(full));
        b.create<vector::StoreOp>(loc, v, dst, indices(full));
      }
      return;
    }
    // The rest of a dynamic row: a masked vector (its mask empty when
    // nothing is left).
    Value rest = b.createOrFold<arith::SubIOp>(loc, size, full);
    auto maskType = VectorType::get({lanes}, b.getI1Type());
    Value mask = b.create<vector::CreateMaskOp>(loc, maskType, rest);
    Value pass =
        b.create<arith::ConstantOp>(loc, vector, b.getZeroAttr(vector));
    Value v = b.create<vector::MaskedLoadOp>(loc, vector, src, indices(full),
                                             mask, pass);
    b.create<vector::MaskedStoreOp>(loc, dst, indices(full), mask, v);
  }

  int64_t vectorBits;
};

struct VectorizeCopiesPass : impl::VectorizeCopiesBase<VectorizeCopiesPass> {
  using VectorizeCopiesBase::VectorizeCopiesBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateVectorizeCopiesPatterns(patterns, vectorBits);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void populateVectorizeCopiesPatterns(RewritePatternSet &patterns,
                                     int64_t vectorBits) {
  patterns.add<VectorizeCopy>(patterns.getContext(), vectorBits);
}

} // namespace tessera
