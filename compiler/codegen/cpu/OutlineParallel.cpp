//===- OutlineParallel.cpp - parallel loops for the thread pool -------------===//
//
// Top-level loops whose iterations write disjoint parts of their outputs,
// outlined into bodies the runtime's parallel_for runs: the loops over
// weight panels and attention batches, and every other loop nest that
// writes enough (see shouldParallelize).
//===----------------------------------------------------------------------===//

#include "compiler/codegen/cpu/Passes.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorTransforms.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "mlir/Transforms/RegionUtils.h"

namespace tessera {
#define GEN_PASS_DEF_OUTLINEPARALLEL
#include "compiler/codegen/cpu/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

/// Loops that write fewer elements than this stay serial: waking the pool
/// costs more than they save.
constexpr int64_t kMinParallelElements = 32768;
/// The trip count assumed for a loop with dynamic bounds.
constexpr int64_t kDynamicTripCount = 64;

int64_t tripCount(scf::ForOp loop) {
  std::optional<int64_t> count = constantTripCount(
      loop.getLowerBound(), loop.getUpperBound(), loop.getStep());
  return count ? std::max<int64_t>(0, *count) : kDynamicTripCount;
}

/// The buffer a view of memory comes from.
Value rootBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// The memrefs `op` writes, or failure when its effects are unknown.
FailureOr<SmallVector<Value>> writtenBuffers(Operation *op) {
  if (isa<func::CallOp, func::CallIndirectOp>(op))
    return failure();
  SmallVector<Value> written;
  auto iface = dyn_cast<MemoryEffectOpInterface>(op);
  if (!iface) {
    if (isMemoryEffectFree(op) ||
        op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return written;
    return failure();
  }
  SmallVector<MemoryEffects::EffectInstance> effects;
  iface.getEffects(effects);
  for (auto &effect : effects) {
    if (!isa<MemoryEffects::Write>(effect.getEffect()))
      continue;
    Value v = effect.getValue();
    if (!v)
      return failure(); // writes to unknown memory
    written.push_back(v);
  }
  return written;
}

/// Whether the iterations of `loop` write disjoint memory: every write to a
/// buffer from outside the loop is addressed (through its indices or the
/// offsets of the views it writes through) by the induction variable.
bool writesDisjoint(scf::ForOp loop) {
  SetVector<Operation *> dependent;
  getForwardSlice(loop.getInductionVar(), &dependent);
  // Only addresses count (index operands), not the values stored.
  auto dependsOnIv = [&](Value v) {
    if (!v.getType().isIndex())
      return false;
    if (v == loop.getInductionVar())
      return true;
    Operation *def = v.getDefiningOp();
    return def && dependent.contains(def);
  };
  auto addressedByIv = [&](Operation *op, Value buffer) {
    if (llvm::any_of(op->getOperands(), dependsOnIv))
      return true;
    for (Value v = buffer; auto view = v.getDefiningOp<ViewLikeOpInterface>();
         v = view.getViewSource())
      if (llvm::any_of(view->getOperands(), dependsOnIv))
        return true;
    return false;
  };
  WalkResult result = loop.getBody()->walk([&](Operation *op) {
    FailureOr<SmallVector<Value>> written = writtenBuffers(op);
    if (failed(written))
      return WalkResult::interrupt();
    for (Value buffer : *written) {
      Value root = rootBuffer(buffer);
      Operation *def = root.getDefiningOp();
      bool privateToIteration = def && loop->isProperAncestor(def);
      if (!privateToIteration && !addressedByIv(op, buffer))
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return !result.wasInterrupted();
}

/// About how many elements `loop` writes over all its iterations.
int64_t writtenElements(scf::ForOp loop) {
  int64_t total = 0;
  loop.getBody()->walk([&](Operation *op) {
    int64_t n = 0;
    if (auto write = dyn_cast<vector::TransferWriteOp>(op))
      n = write.getVectorType().getNumElements();
    else if (auto store = dyn_cast<vector::StoreOp>(op))
      n = store.getVectorType().getNumElements();
    else if (isa<memref::StoreOp>(op))
      n = 1;
    else if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
      for (Value out : linalgOp.getDpsInits())
        if (auto type = dyn_cast<MemRefType>(out.getType()))
          n += type.hasStaticShape() ? type.getNumElements()
                                     : kDynamicTripCount * kDynamicTripCount;
    for (Operation *p = op->getParentOp(); n && p != loop->getParentOp();
         p = p->getParentOp())
      if (auto inner = dyn_cast<scf::ForOp>(p))
        n *= tripCount(inner);
    total += n;
  });
  return total;
}

bool containsContraction(scf::ForOp loop) {
  bool contracts = false;
  loop.walk([&](Operation *inner) {
    if (isa<vector::ContractionOp, vector::FMAOp>(inner))
      contracts = true;
  });
  return contracts;
}

/// Which top-level loops of the graph run on the thread pool: the loops
/// over weight panels and attention batches (vector contractions), and any
/// other loop nest whose iterations write disjoint memory and that writes
/// enough elements (elementwise chains, norms, softmax, transposes,
/// gathers). This is the one place that decides it.
bool shouldParallelize(scf::ForOp loop) {
  if (loop.getNumResults() != 0)
    return false;
  if (containsContraction(loop))
    return true;
  return tripCount(loop) > 1 &&
         writtenElements(loop) >= kMinParallelElements &&
         writesDisjoint(loop);
}

struct OutlineParallelPass : impl::OutlineParallelBase<OutlineParallelPass> {
  static bool isCheapToClone(Value v) {
    Operation *def = v.getDefiningOp();
    return def && def->getNumOperands() == 0 && def->getNumRegions() == 0 &&
           isa<arith::ConstantOp, memref::GetGlobalOp>(def);
  }

  void outline(scf::ForOp loop, func::FuncOp parent, unsigned id) {
    MLIRContext *ctx = &getContext();
    // Values from above: cheap ones (constants, globals) are cloned into the
    // body, the rest are passed.
    llvm::SetVector<Value> above;
    getUsedValuesDefinedAbove(loop.getRegion(), above);
    for (Value bound : {loop.getLowerBound(), loop.getStep()})
      above.insert(bound);
    SmallVector<Value> captures, clones;
    for (Value v : above)
      (isCheapToClone(v) ? clones : captures).push_back(v);
    SmallVector<Type> types;
    for (Value v : captures)
      types.push_back(v.getType());
    Type index = IndexType::get(ctx);
    std::string suffix = std::to_string(id);

    OpBuilder b(parent);
    // The body: for it in [begin, end): iv = lb + it * step.
    SmallVector<Type> bodyTypes(types);
    bodyTypes.append({index, index});
    auto body = b.create<func::FuncOp>(loop.getLoc(), "tessera_body_" + suffix,
                                       b.getFunctionType(bodyTypes, {}));
    body.setPrivate();
    Block *entry = body.addEntryBlock();
    OpBuilder bb = OpBuilder::atBlockBegin(entry);
    IRMapping map;
    for (Value v : clones)
      map.map(v, bb.clone(*v.getDefiningOp())->getResult(0));
    for (auto [v, arg] : llvm::zip(captures, entry->getArguments()))
      map.map(v, arg);
    Value begin = entry->getArgument(captures.size());
    Value end = entry->getArgument(captures.size() + 1);
    Value one = bb.create<arith::ConstantIndexOp>(loop.getLoc(), 1);
    auto inner = bb.create<scf::ForOp>(loop.getLoc(), begin, end, one);
    {
      OpBuilder ib = OpBuilder::atBlockBegin(inner.getBody());
      Value scaled = ib.create<arith::MulIOp>(
          loop.getLoc(), inner.getInductionVar(), map.lookup(loop.getStep()));
      Value iv = ib.create<arith::AddIOp>(loop.getLoc(), scaled,
                                          map.lookup(loop.getLowerBound()));
      map.map(loop.getInductionVar(), iv);
      for (Operation &op : loop.getBody()->without_terminator())
        ib.clone(op, map);
    }
    bb.create<func::ReturnOp>(loop.getLoc());

    // The launch names the body: tessera-lower-parallel-launch pairs them
    // by this symbol reference, not by their names.
    OpBuilder cb(loop);
    Location loc = loop.getLoc();
    Value span = cb.create<arith::SubIOp>(loc, loop.getUpperBound(),
                                          loop.getLowerBound());
    Value n = cb.create<arith::CeilDivSIOp>(loc, span, loop.getStep());
    cb.create<fused::ParallelLaunchOp>(loc, body.getSymName(), captures, n);
    loop.erase();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = fused::getEntryFunctionAs<func::FuncOp>(module);
    if (!main || main.isExternal())
      return;
    SmallVector<scf::ForOp> loops;
    for (Operation &op : main.getBody().front())
      if (auto loop = dyn_cast<scf::ForOp>(op))
        if (shouldParallelize(loop))
          loops.push_back(loop);
    unsigned counter = 0;
    for (scf::ForOp loop : loops)
      outline(loop, main, counter++);
  }
};

} // namespace
} // namespace tessera
