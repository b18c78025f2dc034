//===- LowerParallelLaunch.cpp - launches to the runtime's parallel_for ---===//
//
// After the lowering to the LLVM dialect, each
// `tessera.parallel_launch @body(captures...) count(n)` becomes
//
//   closure = {captures..., ctx}            (an alloca in the entry block)
//   ctx->parallel_for(ctx, n, @body_trampoline, &closure)
//
// where ctx is the current run's execution context (the thread-local the
// entry sets) and `body_trampoline(closure, begin, end)` sets that
// thread-local on the thread it runs on, calls `body(captures..., begin,
// end)` and restores it (the body may allocate through the context).
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/ExecContext.h"
#include "compiler/codegen/cpu/Passes.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Conversion/LLVMCommon/MemRefBuilder.h"
#include "mlir/Conversion/LLVMCommon/Pattern.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Transforms/DialectConversion.h"

namespace tessera {
#define GEN_PASS_DEF_LOWERPARALLELLAUNCH
#include "compiler/codegen/cpu/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

/// The thread-local that holds the current run's context; made on first use.
LLVM::GlobalOp getOrCreateContextSlot(ModuleOp module, OpBuilder &builder) {
  if (auto slot = module.lookupSymbol<LLVM::GlobalOp>(kExecContextGlobalName))
    return slot;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(module.getBody());
  Location loc = module.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(builder.getContext());
  auto slot = builder.create<LLVM::GlobalOp>(
      loc, ptr, /*isConstant=*/false, LLVM::Linkage::Internal,
      kExecContextGlobalName, Attribute(), /*alignment=*/0, /*addrSpace=*/0,
      /*dsoLocal=*/false, /*threadLocal=*/true);
  builder.setInsertionPointToStart(
      builder.createBlock(&slot.getInitializerRegion()));
  builder.create<LLVM::ReturnOp>(loc, builder.create<LLVM::ZeroOp>(loc, ptr));
  return slot;
}

/// `void <body>_trampoline(ptr closure, i64 begin, i64 end)`: loads the
/// captures and the context from the closure, makes the context this
/// thread's for the call of the body, and restores the previous one.
LLVM::LLVMFuncOp getOrCreateTrampoline(LLVM::LLVMFuncOp body,
                                       LLVM::LLVMStructType closureType,
                                       LLVM::GlobalOp slot,
                                       OpBuilder &builder) {
  auto module = body->getParentOfType<ModuleOp>();
  std::string name = (body.getName() + "_trampoline").str();
  if (auto existing = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return existing;
  MLIRContext *ctx = builder.getContext();
  Location loc = body.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointAfter(body);
  auto tramp = builder.create<LLVM::LLVMFuncOp>(
      loc, name,
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                  {ptr, i64, i64}),
      LLVM::Linkage::Internal);
  Block *entry = builder.createBlock(&tramp.getBody(), {}, {ptr, i64, i64},
                                     {loc, loc, loc});
  Value closure = entry->getArgument(0);
  auto field = [&](unsigned i) -> Value {
    Type type = closureType.getBody()[i];
    Value addr = builder.create<LLVM::GEPOp>(
        loc, ptr, closureType, closure,
        ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
    return builder.create<LLVM::LoadOp>(loc, type, addr);
  };
  unsigned numCaptures = closureType.getBody().size() - 1;
  SmallVector<Value> args;
  for (unsigned i = 0; i < numCaptures; ++i)
    args.push_back(field(i));
  args.append({entry->getArgument(1), entry->getArgument(2)});
  Value exec = field(numCaptures);
  Value slotAddr = builder.create<LLVM::AddressOfOp>(loc, slot);
  Value saved = builder.create<LLVM::LoadOp>(loc, ptr, slotAddr);
  builder.create<LLVM::StoreOp>(loc, exec, slotAddr);
  builder.create<LLVM::CallOp>(loc, body, args);
  builder.create<LLVM::StoreOp>(loc, saved, slotAddr);
  builder.create<LLVM::ReturnOp>(loc, ValueRange());
  return tramp;
}

/// How many LLVM values a capture of `type` becomes (memref descriptors are
/// unpacked, as promoteOperands does for calls).
unsigned numUnpackedValues(Type type) {
  if (auto memref = dyn_cast<MemRefType>(type))
    return MemRefDescriptor::getNumUnpackedValues(memref);
  if (isa<UnrankedMemRefType>(type))
    return UnrankedMemRefDescriptor::getNumUnpackedValues();
  return 1;
}

/// Checks, before the conversion, that the launch's body and caller are
/// llvm.func and that the body takes the unpacked captures and the range.
LogicalResult checkLaunch(fused::ParallelLaunchOp op) {
  auto module = op->getParentOfType<ModuleOp>();
  auto body = module.lookupSymbol<LLVM::LLVMFuncOp>(op.getBody());
  if (!body || !op->getParentOfType<LLVM::LLVMFuncOp>())
    return op.emitOpError("must be lowered after its body and caller are "
                          "llvm.func (after convert-func-to-llvm)");
  unsigned numCaptures = 0;
  for (Type type : op.getCaptures().getTypes())
    numCaptures += numUnpackedValues(type);
  if (body.getNumArguments() != numCaptures + 2)
    return op.emitOpError()
           << "body @" << body.getName() << " takes " << body.getNumArguments()
           << " arguments, the launch passes " << numCaptures
           << " captures and a range";
  return success();
}

struct LaunchLowering : ConvertOpToLLVMPattern<fused::ParallelLaunchOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;

  LogicalResult
  matchAndRewrite(fused::ParallelLaunchOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // checkLaunch has checked the body and the caller.
    auto module = op->getParentOfType<ModuleOp>();
    auto caller = op->getParentOfType<LLVM::LLVMFuncOp>();
    auto body = module.lookupSymbol<LLVM::LLVMFuncOp>(op.getBody());
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    // The captures as the body's LLVM arguments (memref descriptors
    // unpacked, as convert-func-to-llvm does for calls).
    SmallVector<Value> captures = getTypeConverter()->promoteOperands(
        loc, op.getCaptures(), adaptor.getCaptures(), rewriter);
    SmallVector<Type> fields(ValueRange(captures).getTypes());
    fields.push_back(ptr); // the execution context
    auto closureType = LLVM::LLVMStructType::getLiteral(ctx, fields);

    LLVM::GlobalOp slot = getOrCreateContextSlot(module, rewriter);
    LLVM::LLVMFuncOp tramp =
        getOrCreateTrampoline(body, closureType, slot, rewriter);

    Value closure;
    {
      // In the entry block, so launches inside loops do not grow the stack.
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(&caller.getBody().front());
      Value one = rewriter.create<LLVM::ConstantOp>(
          loc, rewriter.getI64Type(), rewriter.getI64IntegerAttr(1));
      closure = rewriter.create<LLVM::AllocaOp>(loc, ptr, closureType, one);
    }
    auto store = [&](Value v, unsigned i) {
      Value addr = rewriter.create<LLVM::GEPOp>(
          loc, ptr, closureType, closure,
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
      rewriter.create<LLVM::StoreOp>(loc, v, addr);
    };
    for (auto [i, v] : llvm::enumerate(captures))
      store(v, i);
    Value slotAddr = rewriter.create<LLVM::AddressOfOp>(loc, slot);
    Value exec = rewriter.create<LLVM::LoadOp>(loc, ptr, slotAddr);
    store(exec, captures.size());

    // ctx->parallel_for(ctx, n, trampoline, closure)
    auto i32 = rewriter.getI32Type();
    SmallVector<Type> contextFields(kExecNumFields, ptr);
    contextFields[kExecAbiVersion] = contextFields[kExecNumThreads] = i32;
    auto contextType = LLVM::LLVMStructType::getLiteral(ctx, contextFields);
    Value pforAddr = rewriter.create<LLVM::GEPOp>(
        loc, ptr, contextType, exec,
        ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(kExecParallelFor)});
    Value pfor = rewriter.create<LLVM::LoadOp>(loc, ptr, pforAddr);
    Value trampAddr = rewriter.create<LLVM::AddressOfOp>(loc, tramp);
    auto pforType = LLVM::LLVMFunctionType::get(
        LLVM::LLVMVoidType::get(ctx), {ptr, rewriter.getI64Type(), ptr, ptr});
    rewriter.create<LLVM::CallOp>(
        loc, pforType,
        ValueRange{pfor, exec, adaptor.getCount(), trampAddr, closure});
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerParallelLaunchPass
    : impl::LowerParallelLaunchBase<LowerParallelLaunchPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    WalkResult checked = getOperation().walk([](fused::ParallelLaunchOp op) {
      return failed(checkLaunch(op)) ? WalkResult::interrupt()
                                     : WalkResult::advance();
    });
    if (checked.wasInterrupted())
      return signalPassFailure();
    LLVMTypeConverter converter(ctx);
    RewritePatternSet patterns(ctx);
    patterns.add<LaunchLowering>(converter);
    ConversionTarget target(*ctx);
    target.addLegalDialect<LLVM::LLVMDialect>();
    target.addIllegalOp<fused::ParallelLaunchOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace tessera
