//===- LowerAsserts.cpp - shape checks that report instead of aborting ----===//
//
// The lowering guards what it cannot prove at compile time (dims that must
// agree, a Reshape's run-time target shape) with cf.assert. Upstream lowers a
// failed assert to abort(); a model library must instead tell the runtime
// and return. After scf-to-cf every function is one CFG, so each assert
// splits its block: on failure, call @tessera_raise(code) and return (zeros
// for results). The messages, indexed by code, go to the module attribute
// `tessera.error_messages`, from which code generation builds the message
// table that tessera_raise passes to the runtime's report_error.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Passes.h"

#include "mlir/IR/Builders.h"

namespace tessera {
#define GEN_PASS_DEF_LOWERASSERTS
#include "compiler/codegen/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

/// A zero of a function result type (scalars only).
FailureOr<Value> zeroOf(OpBuilder &b, Location loc, Type type) {
  if (!type.isIntOrIndexOrFloat())
    return failure();
  return b.create<arith::ConstantOp>(loc, b.getZeroAttr(type)).getResult();
}

struct LowerAssertsPass : impl::LowerAssertsBase<LowerAssertsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<cf::AssertOp> asserts;
    module.walk([&](cf::AssertOp op) { asserts.push_back(op); });
    if (asserts.empty())
      return;

    OpBuilder b(ctx);
    auto raise = module.lookupSymbol<func::FuncOp>(kRaiseFunctionName);
    if (!raise) {
      b.setInsertionPointToStart(module.getBody());
      raise = b.create<func::FuncOp>(
          module.getLoc(), kRaiseFunctionName,
          FunctionType::get(ctx, {b.getI32Type()}, {}));
      raise.setPrivate();
    }
    SmallVector<Attribute> messages;
    if (auto old = module->getAttrOfType<ArrayAttr>(kErrorMessagesAttrName))
      messages.assign(old.begin(), old.end());

    for (cf::AssertOp op : asserts) {
      auto func = op->getParentOfType<func::FuncOp>();
      if (!func || op->getParentOp() != func) {
        op.emitError("internal error: cf.assert left inside a region");
        return signalPassFailure();
      }
      Location loc = op.getLoc();
      int32_t code = messages.size();
      messages.push_back(op.getMsgAttr());

      // ^before: ... cond_br %ok, ^rest, ^fail
      Block *before = op->getBlock();
      Block *rest = before->splitBlock(op->getNextNode());
      Block *fail = b.createBlock(rest);
      b.setInsertionPointToStart(fail);
      b.create<func::CallOp>(
          loc, raise,
          ValueRange{b.create<arith::ConstantIntOp>(loc, code, 32)});
      SmallVector<Value> zeros;
      for (Type t : func.getResultTypes()) {
        FailureOr<Value> zero = zeroOf(b, loc, t);
        if (failed(zero)) {
          op.emitError("internal error: cannot return early from a function "
                       "with a result of type ")
              << t;
          return signalPassFailure();
        }
        zeros.push_back(*zero);
      }
      b.create<func::ReturnOp>(loc, zeros);
      b.setInsertionPoint(op);
      b.create<cf::CondBranchOp>(loc, op.getArg(), rest, fail);
      op.erase();
    }
    module->setAttr(kErrorMessagesAttrName, ArrayAttr::get(ctx, messages));
  }
};

} // namespace
} // namespace tessera
