//===- SplitVectorRows.cpp - elementwise vector chains row by row ---------===//
//
// Part of Tessera. A vector.extract of one row of an n-D elementwise op's
// result is replaced by that row's computation on 1-D vectors, built at the
// extract (memoized per value and row), so that each row's chain is computed
// where it is stored and the n-D ops die.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/cpu/Passes.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace tessera {
#define GEN_PASS_DEF_SPLITVECTORROWS
#include "compiler/codegen/cpu/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

/// A vector of rank 2 or more.
bool isNDVector(Type t) {
  auto v = dyn_cast<VectorType>(t);
  return v && v.getRank() >= 2 && !v.isScalable();
}

/// An elementwise op on n-D vectors whose vector operands all have its
/// result's shape.
bool isSplittable(Operation *op) {
  if (!op || op->getNumResults() != 1 || op->getNumRegions() != 0 ||
      !op->hasTrait<OpTrait::Elementwise>() ||
      !isNDVector(op->getResult(0).getType()))
    return false;
  auto shape = cast<VectorType>(op->getResult(0).getType()).getShape();
  return llvm::all_of(op->getOperandTypes(), [&](Type t) {
    auto v = dyn_cast<VectorType>(t);
    return !v || v.getShape() == shape;
  });
}

/// The number of splittable ops in the chain that computes `root`.
int64_t chainSize(Operation *root) {
  llvm::DenseSet<Operation *> seen;
  SmallVector<Operation *> stack = {root};
  while (!stack.empty()) {
    Operation *op = stack.pop_back_val();
    if (!isSplittable(op) || !seen.insert(op).second)
      continue;
    for (Value operand : op->getOperands())
      stack.push_back(operand.getDefiningOp());
  }
  return seen.size();
}

/// Builds rows of n-D values as 1-D vectors at the builder's insertion
/// point, memoized per block: a row built in one block serves the later
/// extracts of that block, not those of another.
struct RowBuilder {
  OpBuilder &b;
  /// (block, value, flattened row index; -1 for a row every row shares).
  llvm::DenseMap<std::tuple<Block *, Value, int64_t>, Value> memo;

  /// Row `pos` (the leading indices) of `v`, as a 1-D vector.
  Value rowOf(Value v, ArrayRef<int64_t> pos) {
    auto type = cast<VectorType>(v.getType());
    int64_t row = 0;
    for (auto [i, p] : llvm::enumerate(pos))
      row = row * type.getDimSize(i) + p;
    Block *block = b.getInsertionBlock();
    for (int64_t key : {row, int64_t(-1)}) {
      auto it = memo.find({block, v, key});
      if (it != memo.end())
        return it->second;
    }
    auto rowType =
        VectorType::get(type.getShape().back(), type.getElementType());
    Location loc = v.getLoc();
    Value result;
    Operation *def = v.getDefiningOp();
    DenseElementsAttr dense;
    int64_t key = row;
    if (def && matchPattern(def, m_Constant(&dense)) && dense.isSplat()) {
      result = b.create<arith::ConstantOp>(
          loc,
          DenseElementsAttr::get(rowType, dense.getSplatValue<Attribute>()));
      key = -1;
    } else if (auto bcast = dyn_cast_or_null<vector::BroadcastOp>(def);
               bcast && (!isa<VectorType>(bcast.getSourceType()) ||
                         bcast.getSourceType() == rowType)) {
      Value source = bcast.getSource();
      result =
          source.getType() == rowType
              ? source
              : b.create<vector::BroadcastOp>(loc, rowType, source).getResult();
      key = -1;
    } else if (isSplittable(def)) {
      SmallVector<Value> operands;
      for (Value operand : def->getOperands())
        operands.push_back(
            isa<VectorType>(operand.getType()) ? rowOf(operand, pos) : operand);
      auto resultType = VectorType::get(
          rowType.getShape(),
          cast<VectorType>(def->getResult(0).getType()).getElementType());
      OperationState state(def->getLoc(), def->getName(), operands,
                           {resultType}, def->getAttrs());
      result = b.create(state)->getResult(0);
    } else {
      result = b.create<vector::ExtractOp>(loc, v, pos);
    }
    memo[{block, v, key}] = result;
    return result;
  }
};

struct SplitVectorRowsPass : impl::SplitVectorRowsBase<SplitVectorRowsPass> {
  using SplitVectorRowsBase::SplitVectorRowsBase;

  void runOnOperation() override {
    // Stored row extracts of long enough splittable chains, in program
    // order (each chain's size counted once).
    llvm::DenseMap<Operation *, int64_t> chainSizes;
    SmallVector<vector::ExtractOp> extracts;
    getOperation().walk([&](vector::ExtractOp op) {
      // Rows that are stored: the epilogue of a register tile.
      bool stored =
          op->hasOneUse() && isa<vector::StoreOp, vector::TransferWriteOp>(
                                 *op->getUsers().begin());
      Operation *root = op.getVector().getDefiningOp();
      if (!stored || !isSplittable(root) || op.hasDynamicPosition() ||
          int64_t(op.getStaticPosition().size()) !=
              op.getSourceVectorType().getRank() - 1)
        return;
      auto [it, inserted] = chainSizes.try_emplace(root, 0);
      if (inserted)
        it->second = chainSize(root);
      if (it->second >= minChain)
        extracts.push_back(op);
    });
    OpBuilder b(&getContext());
    RowBuilder rows{b, {}};
    SmallVector<Operation *> roots;
    for (vector::ExtractOp op : extracts) {
      b.setInsertionPoint(op);
      Value v = rows.rowOf(op.getVector(), op.getStaticPosition());
      roots.push_back(op.getVector().getDefiningOp());
      op.replaceAllUsesWith(v);
      op.erase();
    }
    // The n-D ops left without users (each erased once).
    SmallVector<Operation *> worklist(roots.begin(), roots.end());
    llvm::DenseSet<Operation *> erased;
    while (!worklist.empty()) {
      Operation *op = worklist.pop_back_val();
      if (!op || erased.contains(op) || !isOpTriviallyDead(op))
        continue;
      for (Value operand : op->getOperands())
        worklist.push_back(operand.getDefiningOp());
      erased.insert(op);
      op->erase();
    }
  }
};

} // namespace
} // namespace tessera
