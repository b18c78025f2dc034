//===- OutlineParallel.cpp - parallel loops for the thread pool -------------===//
//
// Top-level loops whose iterations write disjoint parts of their outputs,
// outlined into bodies the runtime's parallel_for runs.
//
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/cpu/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorTransforms.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"
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

    // The launch: a declaration that code generation implements.
    SmallVector<Type> launchTypes(types);
    launchTypes.push_back(index);
    auto launch =
        b.create<func::FuncOp>(loop.getLoc(), "tessera_launch_" + suffix,
                               b.getFunctionType(launchTypes, {}));
    launch.setPrivate();

    OpBuilder cb(loop);
    Location loc = loop.getLoc();
    Value span = cb.create<arith::SubIOp>(loc, loop.getUpperBound(),
                                          loop.getLowerBound());
    Value n = cb.create<arith::CeilDivSIOp>(loc, span, loop.getStep());
    SmallVector<Value> args(captures);
    args.push_back(n);
    cb.create<func::CallOp>(loc, launch, args);
    loop.erase();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main_graph");
    if (!main || main.isExternal())
      return;
    SmallVector<scf::ForOp> loops;
    for (Operation &op : main.getBody().front())
      if (auto loop = dyn_cast<scf::ForOp>(op))
        if (loop.getNumResults() == 0) {
          bool contracts = false;
          loop.walk([&](Operation *inner) {
            if (isa<vector::ContractionOp, vector::FMAOp>(inner))
              contracts = true;
          });
          if (contracts)
            loops.push_back(loop);
        }
    unsigned counter = 0;
    for (scf::ForOp loop : loops)
      outline(loop, main, counter++);
  }
};

} // namespace
} // namespace tessera
