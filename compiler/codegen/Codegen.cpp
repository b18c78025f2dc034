//===- Codegen.cpp - LLVM IR, the model ABI, object code, shared library --===//
//
// The lowered module becomes LLVM IR; then two things are added to it:
//   - `tessera_entry(void *const *inputs, void *const *outputs, ctx)`, which
//     builds the memref descriptors of the (static) inputs and outputs and
//     calls the generated graph function (with dynamic dims, `tessera_run`
//     takes the dims too, and for KV-cache pairs `tessera_run_strided` the
//     allocated dims that give the strides: ABI v4 and v5);
//   - `tessera_model_v1`, the descriptor the runtime reads (names, element
//     types, shapes, index ranges, target CPU features, entry pointer).
// Every other symbol is made internal, so the library exports only the
// descriptor. With external weights (CodegenOptions::externalWeightsFile),
// the large constant globals move to a side file: their uses load a base
// pointer the runtime sets through the descriptor's `bind` before any run,
// and the descriptor (ABI v2) records the file's name, size and checksum.
// LLVM's -O3 pipeline runs for the target machine, which emits an object file;
// the system C compiler driver links it into a shared library.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Codegen.h"
#include "compiler/codegen/ExecContext.h"
#include "compiler/codegen/Passes.h"
#include "dialects/tessera/TesseraDialect.h"

#include "runtime/include/tessera/abi.h"
#include "runtime/include/tessera/weights_file.h"

#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/MDBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/ReplaceConstant.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/IR/PassTimingInfo.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/StandardInstrumentations.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#ifndef TESSERA_VERSION
#define TESSERA_VERSION "0.1.0"
#endif

using llvm::formatv;

namespace tessera {

static llvm::Error error(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Features the runtime checks with __builtin_cpu_supports before running.
static std::string requiredFeatures(llvm::StringRef featureString) {
  static const char *const checked[] = {"sse4.2",   "avx",        "avx2",
                                        "fma",      "f16c",       "avx512f",
                                        "avx512bw", "avx512vl",   "avx512dq",
                                        "avx512cd", "avx512vnni", "avx512bf16"};
  llvm::StringSet<> enabled;
  llvm::SmallVector<llvm::StringRef> parts;
  featureString.split(parts, ',');
  for (llvm::StringRef p : parts)
    if (p.consume_front("+"))
      enabled.insert(p);
  std::string out;
  for (const char *f : checked)
    if (enabled.contains(f))
      out += (out.empty() ? "" : ",") + std::string(f);
  return out;
}

static llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const CodegenOptions &options) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getDefaultTargetTriple();
  std::string err;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target)
    return error("no LLVM target for " + triple + ": " + err);
  const std::string &cpu = options.target.cpu;
  const std::string &features = options.target.features;
  llvm::TargetOptions to;
  auto level = options.optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
               : options.optLevel == 2 ? llvm::CodeGenOptLevel::Default
               : options.optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                       : llvm::CodeGenOptLevel::None;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, to, llvm::Reloc::PIC_, std::nullopt, level));
  if (!tm)
    return error("cannot create a target machine for " + cpu);
  return std::move(tm);
}

/// TesseraExecContext (see ExecContext.h).
static llvm::StructType *execContextType(llvm::LLVMContext &ctx) {
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  llvm::SmallVector<llvm::Type *> fields(kExecNumFields, ptr);
  fields[kExecAbiVersion] = fields[kExecNumThreads] = i32;
  return llvm::StructType::get(ctx, fields);
}

/// Defines @tessera_raise(i32 code), which the lowered shape checks call
/// (tessera-lower-asserts): it passes messages[code] to the context's
/// report_error. Returns whether the module calls it (ABI v4 then).
static bool defineRaise(llvm::Module &m, llvm::GlobalVariable *ctxSlot,
                        llvm::ArrayRef<std::string> messages) {
  llvm::Function *raise = m.getFunction(kRaiseFunctionName);
  if (!raise || raise->use_empty())
    return false;
  llvm::LLVMContext &ctx = m.getContext();
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", raise));
  std::vector<llvm::Constant *> table;
  for (const std::string &msg : messages)
    table.push_back(b.CreateGlobalStringPtr(msg, "tessera.error", 0, &m));
  auto *tableTy = llvm::ArrayType::get(ptr, table.size());
  auto *tableVar = new llvm::GlobalVariable(
      m, tableTy, true, llvm::GlobalValue::PrivateLinkage,
      llvm::ConstantArray::get(tableTy, table), "tessera.errors");
  llvm::Value *exec = b.CreateLoad(ptr, ctxSlot);
  llvm::Value *msg = b.CreateLoad(
      ptr, b.CreateInBoundsGEP(tableTy, tableVar,
                               {b.getInt64(0), raise->getArg(0)}));
  llvm::Value *report = b.CreateLoad(
      ptr, b.CreateStructGEP(execContextType(ctx), exec, kExecReportError));
  b.CreateCall(llvm::FunctionType::get(llvm::Type::getVoidTy(ctx),
                                       {ptr, ptr}, false),
               report, {exec, msg});
  b.CreateRetVoid();
  raise->setLinkage(llvm::GlobalValue::InternalLinkage);
  return true;
}

/// Sends the model's heap allocations (the malloc, aligned_alloc and free
/// calls that memref.alloc / memref.dealloc lower to) to the runtime's
/// per-session allocator, ctx->alloc and ctx->free, through internal
/// wrappers: only this module's calls change, the process's malloc is left
/// alone. Every thread running model code has the context in its
/// thread-local (the entry and the parallel trampolines set it), so a block
/// is always allocated and freed by the same session's allocator. Returns
/// whether any call was redirected (the library then needs ABI version 3).
static llvm::Expected<bool> redirectAllocations(llvm::Module &m,
                                                llvm::GlobalVariable *ctxSlot) {
  llvm::LLVMContext &ctx = m.getContext();
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *voidTy = llvm::Type::getVoidTy(ctx);
  auto *execTy = execContextType(ctx);
  auto *allocTy = llvm::FunctionType::get(ptr, {ptr, i64, i64}, false);
  auto *freeTy = llvm::FunctionType::get(voidTy, {ptr, ptr}, false);
  bool redirected = false;

  // Replaces the declaration `name` of type `expected` by an internal
  // wrapper whose body `build` emits.
  auto wrap = [&](llvm::StringRef name, llvm::FunctionType *expected,
                  llvm::function_ref<void(llvm::IRBuilder<> &, llvm::Function *,
                                          llvm::Value *)>
                      build) -> llvm::Error {
    llvm::Function *decl = m.getFunction(name);
    if (!decl || decl->use_empty())
      return llvm::Error::success();
    if (!decl->isDeclaration() || decl->getFunctionType() != expected)
      return error("internal error: unexpected @" + name +
                   " in the lowered module");
    auto *wrapper =
        llvm::Function::Create(expected, llvm::GlobalValue::InternalLinkage,
                               "tessera_" + name.str(), m);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", wrapper));
    llvm::Value *exec = b.CreateLoad(ptr, ctxSlot);
    build(b, wrapper, exec);
    decl->replaceAllUsesWith(wrapper);
    decl->eraseFromParent();
    redirected = true;
    return llvm::Error::success();
  };
  auto callAlloc = [&](llvm::IRBuilder<> &b, llvm::Value *exec,
                       llvm::Value *size, llvm::Value *alignment) {
    llvm::Value *fn =
        b.CreateLoad(ptr, b.CreateStructGEP(execTy, exec, kExecAlloc));
    llvm::CallInst *call = b.CreateCall(allocTy, fn, {exec, size, alignment});
    call->addRetAttr(llvm::Attribute::NoAlias);
    b.CreateRet(call);
  };
  // malloc(size): the lowering aligns inside the block itself.
  if (llvm::Error err =
          wrap("malloc", llvm::FunctionType::get(ptr, {i64}, false),
               [&](llvm::IRBuilder<> &b, llvm::Function *f, llvm::Value *exec) {
                 callAlloc(b, exec, f->getArg(0), b.getInt64(0));
               }))
    return std::move(err);
  // aligned_alloc(alignment, size)
  if (llvm::Error err =
          wrap("aligned_alloc", llvm::FunctionType::get(ptr, {i64, i64}, false),
               [&](llvm::IRBuilder<> &b, llvm::Function *f, llvm::Value *exec) {
                 callAlloc(b, exec, f->getArg(1), f->getArg(0));
               }))
    return std::move(err);
  // free(ptr)
  if (llvm::Error err =
          wrap("free", llvm::FunctionType::get(voidTy, {ptr}, false),
               [&](llvm::IRBuilder<> &b, llvm::Function *f, llvm::Value *exec) {
                 llvm::Value *fn = b.CreateLoad(
                     ptr, b.CreateStructGEP(execTy, exec, kExecFree));
                 b.CreateCall(freeTy, fn, {exec, f->getArg(0)});
                 b.CreateRetVoid();
               }))
    return std::move(err);
  // Anything else that manages memory would bypass the session's allocator.
  for (llvm::StringRef other : {"calloc", "realloc", "posix_memalign"})
    if (llvm::Function *f = m.getFunction(other); f && !f->use_empty())
      return error("internal error: the lowered module calls @" + other);
  return redirected;
}

/// Writes the bytes of `c` (in memory layout) to `dst`; false for constants
/// that are not plain data (pointers, expressions).
static bool serializeConstant(const llvm::Constant *c,
                              const llvm::DataLayout &dl, char *dst) {
  if (llvm::isa<llvm::ConstantAggregateZero>(c))
    return true; // dst is zero-filled
  if (auto *seq = llvm::dyn_cast<llvm::ConstantDataSequential>(c)) {
    llvm::StringRef raw = seq->getRawDataValues();
    std::memcpy(dst, raw.data(), raw.size());
    return true;
  }
  if (auto *ci = llvm::dyn_cast<llvm::ConstantInt>(c)) {
    if (ci->getBitWidth() % 8 != 0 || ci->getBitWidth() > 64)
      return false;
    uint64_t v = ci->getZExtValue();
    std::memcpy(dst, &v, ci->getBitWidth() / 8);
    return true;
  }
  if (auto *cf = llvm::dyn_cast<llvm::ConstantFP>(c)) {
    llvm::APInt bits = cf->getValueAPF().bitcastToAPInt();
    if (bits.getBitWidth() % 8 != 0 || bits.getBitWidth() > 64)
      return false;
    uint64_t v = bits.getZExtValue();
    std::memcpy(dst, &v, bits.getBitWidth() / 8);
    return true;
  }
  if (auto *arr = llvm::dyn_cast<llvm::ConstantArray>(c)) {
    uint64_t stride = dl.getTypeAllocSize(arr->getType()->getElementType());
    for (unsigned i = 0; i < arr->getNumOperands(); ++i)
      if (!serializeConstant(arr->getOperand(i), dl, dst + i * stride))
        return false;
    return true;
  }
  if (auto *st = llvm::dyn_cast<llvm::ConstantStruct>(c)) {
    const llvm::StructLayout *layout = dl.getStructLayout(st->getType());
    for (unsigned i = 0; i < st->getNumOperands(); ++i)
      if (!serializeConstant(st->getOperand(i), dl,
                             dst + layout->getElementOffset(i)))
        return false;
    return true;
  }
  return false;
}

/// Constant globals smaller than this stay in the library, as do splats
/// (LLVM folds loads from them).
static constexpr uint64_t kMinExternalWeightBytes = 256;

/// Moves the large constant globals of `m` (the weights) into `blob` at
/// 64-byte aligned offsets, and rewrites their uses to go through a base
/// pointer that the returned `bind` function sets. Call before any other
/// global is added to the module.
static llvm::Function *externalizeWeights(llvm::Module &m, std::string &blob,
                                          unsigned &numWeights) {
  llvm::LLVMContext &ctx = m.getContext();
  const llvm::DataLayout &dl = m.getDataLayout();
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  llvm::SmallVector<llvm::GlobalVariable *> weights;
  for (llvm::GlobalVariable &g : m.globals()) {
    if (g.isDeclaration() || !g.isConstant() || g.isThreadLocal() ||
        !g.hasInitializer())
      continue;
    const llvm::Constant *init = g.getInitializer();
    if (dl.getTypeAllocSize(g.getValueType()) < kMinExternalWeightBytes ||
        init->isNullValue())
      continue;
    if (auto *seq = llvm::dyn_cast<llvm::ConstantDataSequential>(init)) {
      llvm::StringRef raw = seq->getRawDataValues();
      uint64_t elt = seq->getElementByteSize();
      bool splat = true;
      for (uint64_t i = elt; splat && i < raw.size(); i += elt)
        splat = raw.substr(i, elt) == raw.take_front(elt);
      if (splat)
        continue;
    }
    weights.push_back(&g);
  }

  auto *base = new llvm::GlobalVariable(
      m, ptr, /*isConstant=*/false, llvm::GlobalValue::InternalLinkage,
      llvm::ConstantPointerNull::get(ptr), "tessera.weights_base");
  auto *bindTy =
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false);
  auto *bind = llvm::Function::Create(
      bindTy, llvm::GlobalValue::InternalLinkage, "tessera_bind_weights", m);
  {
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", bind));
    b.CreateStore(bind->getArg(0), base);
    b.CreateRetVoid();
  }

  blob.clear();
  numWeights = 0;
  llvm::MDBuilder mdb(ctx);
  llvm::MDNode *empty = llvm::MDNode::get(ctx, {});
  llvm::MDNode *align = llvm::MDNode::get(
      ctx, {mdb.createConstant(llvm::ConstantInt::get(
               llvm::Type::getInt64Ty(ctx), TESSERA_WEIGHTS_ALIGNMENT))});
  for (llvm::GlobalVariable *g : weights) {
    uint64_t size = dl.getTypeAllocSize(g->getValueType());
    uint64_t offset = llvm::alignTo(blob.size(), TESSERA_WEIGHTS_ALIGNMENT);
    std::string bytes(size, '\0');
    if (!serializeConstant(g->getInitializer(), dl, bytes.data()))
      continue; // not plain data: keep it in the library
    // Constant expressions (GEPs into the weight) become instructions, so
    // every remaining use is an instruction in some function.
    llvm::convertUsersOfConstantsToInstructions({g});
    bool onlyInstructions = llvm::all_of(g->users(), [](llvm::User *u) {
      return llvm::isa<llvm::Instruction>(u);
    });
    if (!onlyInstructions)
      continue;
    // One base load and address per function that uses the weight, at the
    // top of its entry block, so it dominates every use (PHIs included).
    llvm::DenseMap<llvm::Function *, llvm::Value *> addressIn;
    llvm::SmallVector<llvm::Use *> uses;
    for (llvm::Use &u : g->uses())
      uses.push_back(&u);
    for (llvm::Use *u : uses) {
      llvm::Function *f =
          llvm::cast<llvm::Instruction>(u->getUser())->getFunction();
      llvm::Value *&addr = addressIn[f];
      if (!addr) {
        llvm::IRBuilder<> b(&*f->getEntryBlock().getFirstInsertionPt());
        llvm::LoadInst *load = b.CreateLoad(ptr, base, "weights");
        // The runtime binds the weights once, before any run.
        load->setMetadata(llvm::LLVMContext::MD_invariant_load, empty);
        load->setMetadata(llvm::LLVMContext::MD_nonnull, empty);
        load->setMetadata(llvm::LLVMContext::MD_align, align);
        addr = b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), load, offset,
                                            g->getName());
      }
      u->set(addr);
    }
    blob.resize(offset);
    blob += bytes;
    ++numWeights;
    g->eraseFromParent();
  }
  blob.resize(llvm::alignTo(blob.size(), TESSERA_WEIGHTS_ALIGNMENT));
  return bind;
}

static bool isDynamic(const TensorInfo &t) {
  return llvm::any_of(t.dims, [](int64_t d) { return d < 0; });
}

/// The functions of the lowered module that the ABI calls, by the marks
/// their stages left (their LLVM IR functions keep the symbols' names).
struct GraphFunctions {
  std::string entry;      // tessera.entry: the graph
  std::string outputDims; // tessera.output_dims: empty if there is none
  /// KV-cache pairs whose present may share the past's buffer
  /// (tessera-cache-in-place): ABI v5.
  std::vector<TesseraCachePair> cachePairs;
};

static llvm::Expected<GraphFunctions>
findGraphFunctions(mlir::ModuleOp module) {
  mlir::FunctionOpInterface entry = fused::getEntryFunction(module);
  if (!entry)
    return error("the lowered module has no entry function (tessera.entry)");
  GraphFunctions names;
  names.entry = entry.getName().str();
  if (mlir::FunctionOpInterface dims = fused::getOutputDimsFunction(module))
    names.outputDims = dims.getName().str();
  if (auto pairs = module->getAttrOfType<mlir::ArrayAttr>(kCachePairsAttrName))
    for (mlir::Attribute attr : pairs) {
      auto pair = llvm::dyn_cast<mlir::DenseI64ArrayAttr>(attr);
      if (!pair || pair.size() != 3)
        return error("internal error: a malformed " + kCachePairsAttrName +
                     " entry");
      names.cachePairs.push_back({uint32_t(pair[0]), uint32_t(pair[1]),
                                  int32_t(pair[2]), TESSERA_CACHE_IN_PLACE});
    }
  return names;
}

namespace {

/// Builds the library's ABI into `m`: the entry functions, which make the
/// memref descriptors of the inputs and outputs and call the generated
/// functions, and the descriptor the runtime reads (tessera/abi.h).
class ABIBuilder {
public:
  ABIBuilder(llvm::Module &m, const ModelInterface &iface,
             llvm::GlobalVariable *ctxSlot)
      : m(m), ctx(m.getContext()), iface(iface), ctxSlot(ctxSlot),
        ptr(llvm::PointerType::getUnqual(ctx)),
        i32(llvm::Type::getInt32Ty(ctx)), i64(llvm::Type::getInt64Ty(ctx)) {}

  /// ABI v1-3: int32_t tessera_entry(inputs, outputs, ctx), static shapes.
  llvm::Expected<llvm::Function *> buildEntry(llvm::Function *graph) {
    return buildGraphCall("tessera_entry", graph, /*withDims=*/false);
  }

  /// ABI v4: tessera_run(inputs, input_dims, outputs, output_dims, ctx).
  llvm::Expected<llvm::Function *> buildRun(llvm::Function *graph) {
    return buildGraphCall("tessera_run", graph, /*withDims=*/true);
  }

  /// ABI v5: tessera_run_strided(inputs, input_dims, input_alloc_dims,
  /// outputs, output_dims, output_alloc_dims, ctx).
  llvm::Expected<llvm::Function *> buildRunStrided(llvm::Function *graph) {
    return buildGraphCall("tessera_run_strided", graph, /*withDims=*/true,
                          /*withAllocDims=*/true);
  }

  /// ABI v4: tessera_output_dims(input_dims, output_dims, ctx), which stores
  /// the i64 dims `dimsFn` returns (a scalar, or a struct of them) into each
  /// output's dims array.
  llvm::Expected<llvm::Function *> buildOutputDims(llvm::Function *dimsFn) {
    llvm::Function *outputDims = createFunction("tessera_output_dims", 3);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", outputDims));
    b.CreateStore(outputDims->getArg(2), ctxSlot);
    std::vector<llvm::Value *> args;
    addMemrefs(b, args, nullptr, outputDims->getArg(0), iface.inputs);
    auto call = callChecked(b, dimsFn, args);
    if (!call)
      return call.takeError();
    unsigned k = 0;
    for (auto [i, t] : llvm::enumerate(iface.outputs)) {
      llvm::Value *dims = b.CreateLoad(
          ptr, b.CreateConstGEP1_64(ptr, outputDims->getArg(1), i));
      for (unsigned d = 0; d < t.dims.size(); ++d, ++k) {
        llvm::Value *v = (*call)->getType()->isStructTy()
                             ? b.CreateExtractValue(*call, k)
                             : *call;
        b.CreateStore(v, b.CreateConstGEP1_64(i64, dims, d));
      }
    }
    b.CreateRet(b.getInt32(0));
    return outputDims;
  }

  /// The fields of the descriptor up to version 1: abi version, counts,
  /// tensors, Tessera's version, target CPU and features, entry (or null).
  void addBaseFields(unsigned abiVersion, llvm::TargetMachine &tm,
                     llvm::Function *entry) {
    addField(llvm::ConstantInt::get(i32, abiVersion));
    addField(llvm::ConstantInt::get(i32, iface.inputs.size()));
    addField(llvm::ConstantInt::get(i32, iface.outputs.size()));
    addField(tensorArray(iface.inputs, "inputs"));
    addField(tensorArray(iface.outputs, "outputs"));
    addField(cstring(TESSERA_VERSION));
    addField(cstring(tm.getTargetCPU()));
    addField(cstring(requiredFeatures(tm.getTargetFeatureString())));
    addField(entry ? static_cast<llvm::Constant *>(entry) : nullPtr());
  }

  /// Version 2's field: TesseraExternalWeights {file_name, format_version,
  /// num_weights, file_size, data_size, checksum, bind}.
  void addExternalWeights(llvm::StringRef fileName,
                          const TesseraWeightsFileHeader &header,
                          unsigned numWeights, llvm::Function *bind) {
    auto *extTy =
        llvm::StructType::get(ctx, {ptr, i32, i32, i64, i64, i64, ptr});
    addField(new llvm::GlobalVariable(
        m, extTy, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantStruct::get(
            extTy,
            {cstring(fileName),
             llvm::ConstantInt::get(i32, TESSERA_WEIGHTS_FORMAT_VERSION),
             llvm::ConstantInt::get(i32, numWeights),
             llvm::ConstantInt::get(i64, sizeof(header) + header.data_size),
             llvm::ConstantInt::get(i64, header.data_size),
             llvm::ConstantInt::get(i64, header.checksum), bind}),
        "tessera.external_weights"));
  }

  /// Version 2's field when the weights are inside the library: null.
  void addNoExternalWeights() { addField(nullPtr()); }

  /// Version 4's fields: the dim infos of inputs and outputs, run and
  /// output_dims.
  void addDynamicFields(llvm::Function *run, llvm::Function *outputDims) {
    addField(dimInfoArray(iface.inputs, "input_dim_info"));
    addField(dimInfoArray(iface.outputs, "output_dim_info"));
    addField(run);
    addField(outputDims);
  }

  /// Version 5's fields: the cache pairs and run_strided.
  void addCacheFields(llvm::ArrayRef<TesseraCachePair> pairs,
                      llvm::Function *runStrided) {
    auto *pairTy = llvm::StructType::get(ctx, {i32, i32, i32, i32});
    std::vector<llvm::Constant *> elems;
    for (const TesseraCachePair &p : pairs)
      elems.push_back(llvm::ConstantStruct::get(
          pairTy, {llvm::ConstantInt::get(i32, p.input),
                   llvm::ConstantInt::get(i32, p.output),
                   llvm::ConstantInt::get(i32, uint32_t(p.axis)),
                   llvm::ConstantInt::get(i32, p.flags)}));
    auto *arrTy = llvm::ArrayType::get(pairTy, elems.size());
    addField(llvm::ConstantInt::get(i32, pairs.size()));
    addField(new llvm::GlobalVariable(
        m, arrTy, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(arrTy, elems), "tessera.cache_pairs"));
    addField(runStrided);
  }

  /// The descriptor, the library's one exported symbol.
  void emitDescriptor() {
    auto *descTy = llvm::StructType::get(ctx, descFields);
    auto *descVar = new llvm::GlobalVariable(
        m, descTy, true, llvm::GlobalValue::ExternalLinkage,
        llvm::ConstantStruct::get(descTy, descValues), TESSERA_MODEL_SYMBOL);
    descVar->setVisibility(llvm::GlobalValue::DefaultVisibility);
  }

private:
  /// int32_t name(inputs, [input_dims, [input_alloc_dims,]] outputs,
  /// [output_dims, [output_alloc_dims,]] ctx): sets the run's context and
  /// calls `graph` on the memrefs of the inputs and outputs (their dims from
  /// the dims arrays when `withDims`, their strides from the alloc dims when
  /// `withAllocDims`).
  llvm::Expected<llvm::Function *> buildGraphCall(llvm::StringRef name,
                                                  llvm::Function *graph,
                                                  bool withDims,
                                                  bool withAllocDims = false) {
    unsigned perSide = 1 + withDims + withAllocDims;
    llvm::Function *f = createFunction(name, 2 * perSide + 1);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
    b.CreateStore(f->getArg(2 * perSide), ctxSlot);
    auto dims = [&](unsigned side) -> llvm::Value * {
      return withDims ? f->getArg(side * perSide + 1) : nullptr;
    };
    auto allocDims = [&](unsigned side) -> llvm::Value * {
      return withAllocDims ? f->getArg(side * perSide + 2) : nullptr;
    };
    std::vector<llvm::Value *> args;
    addMemrefs(b, args, f->getArg(0), dims(0), iface.inputs, allocDims(0));
    addMemrefs(b, args, f->getArg(perSide), dims(1), iface.outputs,
               allocDims(1));
    if (auto call = callChecked(b, graph, args); !call)
      return call.takeError();
    b.CreateRet(b.getInt32(0));
    return f;
  }

  llvm::Function *createFunction(llvm::StringRef name, unsigned numPtrArgs) {
    llvm::SmallVector<llvm::Type *> params(numPtrArgs, ptr);
    return llvm::Function::Create(llvm::FunctionType::get(i32, params, false),
                                  llvm::GlobalValue::InternalLinkage, name, m);
  }

  llvm::Constant *nullPtr() { return llvm::ConstantPointerNull::get(ptr); }

  void addField(llvm::Constant *value) {
    descFields.push_back(value->getType());
    descValues.push_back(value);
  }

  llvm::Constant *cstring(llvm::StringRef s) {
    llvm::IRBuilder<> b(ctx);
    return b.CreateGlobalStringPtr(s, "tessera.str", 0, &m);
  }

  /// Memref descriptors {ptr, ptr, offset, sizes..., strides...} of dense
  /// row-major tensors: static dims are constants, dynamic ones are loaded
  /// from dims[i] (dimsArray may be null when every dim is static; data may
  /// be null for the output-dims function, which reads no data). With
  /// `allocDimsArray`, tensor i is at the start of a row-major buffer of
  /// dims allocDims[i], which give its strides.
  void addMemrefs(llvm::IRBuilder<> &b, std::vector<llvm::Value *> &args,
                  llvm::Value *data, llvm::Value *dimsArray,
                  const std::vector<TensorInfo> &tensors,
                  llvm::Value *allocDimsArray = nullptr) {
    for (auto [i, t] : llvm::enumerate(tensors)) {
      llvm::Value *p = data ? static_cast<llvm::Value *>(b.CreateLoad(
                                  ptr, b.CreateConstGEP1_64(ptr, data, i)))
                            : nullPtr();
      llvm::Value *dims =
          dimsArray ? b.CreateLoad(ptr, b.CreateConstGEP1_64(ptr, dimsArray, i))
                    : nullptr;
      args.push_back(p);
      args.push_back(p);
      args.push_back(b.getInt64(0));
      std::vector<llvm::Value *> sizes;
      for (auto [d, size] : llvm::enumerate(t.dims))
        sizes.push_back(
            size >= 0 ? static_cast<llvm::Value *>(b.getInt64(size))
                      : b.CreateLoad(i64, b.CreateConstGEP1_64(i64, dims, d)));
      std::vector<llvm::Value *> extents = sizes;
      if (allocDimsArray) {
        llvm::Value *alloc =
            b.CreateLoad(ptr, b.CreateConstGEP1_64(ptr, allocDimsArray, i));
        for (unsigned d = 0; d < extents.size(); ++d)
          extents[d] = b.CreateLoad(i64, b.CreateConstGEP1_64(i64, alloc, d));
      }
      std::vector<llvm::Value *> strides(sizes.size());
      llvm::Value *stride = b.getInt64(1);
      for (int64_t d = int64_t(sizes.size()) - 1; d >= 0; --d) {
        strides[d] = stride;
        stride = b.CreateMul(stride, extents[d]);
      }
      args.insert(args.end(), sizes.begin(), sizes.end());
      args.insert(args.end(), strides.begin(), strides.end());
    }
  }

  llvm::Expected<llvm::Value *>
  callChecked(llvm::IRBuilder<> &b, llvm::Function *callee,
              llvm::ArrayRef<llvm::Value *> args) {
    if (args.size() != callee->arg_size())
      return error(formatv("internal error: @{0} takes {1} arguments but the "
                           "interface gives {2}",
                           callee->getName(), callee->arg_size(), args.size()));
    return b.CreateCall(callee, args);
  }

  /// TesseraTensorInfo {name, dtype, rank, dims, has_index_range, min, max}
  /// per tensor.
  llvm::Constant *tensorArray(const std::vector<TensorInfo> &tensors,
                              llvm::StringRef what) {
    auto *tensorTy =
        llvm::StructType::get(ctx, {ptr, i32, i32, ptr, i32, i64, i64});
    std::vector<llvm::Constant *> elems;
    for (const TensorInfo &t : tensors) {
      std::vector<llvm::Constant *> dims;
      for (int64_t d : t.dims)
        dims.push_back(llvm::ConstantInt::get(i64, d));
      auto *dimsTy = llvm::ArrayType::get(i64, dims.size());
      auto *dimsVar = new llvm::GlobalVariable(
          m, dimsTy, true, llvm::GlobalValue::PrivateLinkage,
          llvm::ConstantArray::get(dimsTy, dims), "tessera.dims");
      elems.push_back(llvm::ConstantStruct::get(
          tensorTy,
          {cstring(t.name), llvm::ConstantInt::get(i32, t.dtype),
           llvm::ConstantInt::get(i32, t.dims.size()), dimsVar,
           llvm::ConstantInt::get(i32, t.indexRange ? 1 : 0),
           llvm::ConstantInt::get(i64, t.indexRange ? t.indexRange->first : 0),
           llvm::ConstantInt::get(i64,
                                  t.indexRange ? t.indexRange->second : 0)}));
    }
    auto *arrTy = llvm::ArrayType::get(tensorTy, elems.size());
    return new llvm::GlobalVariable(
        m, arrTy, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(arrTy, elems), "tessera." + what);
  }

  /// TesseraDimInfo {name, min, max} per dim, an array per tensor.
  llvm::Constant *dimInfoArray(const std::vector<TensorInfo> &tensors,
                               llvm::StringRef what) {
    auto *dimTy = llvm::StructType::get(ctx, {ptr, i64, i64});
    std::vector<llvm::Constant *> perTensor;
    for (const TensorInfo &t : tensors) {
      std::vector<llvm::Constant *> dims;
      for (auto [d, size] : llvm::enumerate(t.dims)) {
        DimInfo info = d < t.dimInfo.size() ? t.dimInfo[d] : DimInfo();
        if (size >= 0)
          info.min = info.max = size;
        dims.push_back(llvm::ConstantStruct::get(
            dimTy, {info.name.empty() ? nullPtr() : cstring(info.name),
                    llvm::ConstantInt::get(i64, info.min),
                    llvm::ConstantInt::get(i64, info.max)}));
      }
      auto *arrTy = llvm::ArrayType::get(dimTy, dims.size());
      perTensor.push_back(new llvm::GlobalVariable(
          m, arrTy, true, llvm::GlobalValue::PrivateLinkage,
          llvm::ConstantArray::get(arrTy, dims), "tessera.dim_info"));
    }
    auto *arrTy = llvm::ArrayType::get(ptr, perTensor.size());
    return new llvm::GlobalVariable(
        m, arrTy, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(arrTy, perTensor), "tessera." + what);
  }

  llvm::Module &m;
  llvm::LLVMContext &ctx;
  const ModelInterface &iface;
  llvm::GlobalVariable *ctxSlot;
  llvm::PointerType *ptr;
  llvm::IntegerType *i32, *i64;
  llvm::SmallVector<llvm::Type *> descFields;
  llvm::SmallVector<llvm::Constant *> descValues;
};

/// The header of the external weights file of `blob`.
TesseraWeightsFileHeader weightsFileHeader(const std::string &blob) {
  TesseraWeightsFileHeader header = {};
  std::memcpy(header.magic, TESSERA_WEIGHTS_MAGIC, TESSERA_WEIGHTS_MAGIC_SIZE);
  header.format_version = TESSERA_WEIGHTS_FORMAT_VERSION;
  header.header_size = TESSERA_WEIGHTS_HEADER_SIZE;
  header.data_offset = TESSERA_WEIGHTS_HEADER_SIZE;
  header.data_size = blob.size();
  header.checksum = tessera_weights_checksum(blob.data(), blob.size());
  static_assert(sizeof(header) == TESSERA_WEIGHTS_HEADER_SIZE);
  return header;
}

} // namespace

/// Builds the entry functions and the descriptor.
static llvm::Error addABI(llvm::Module &m, const GraphFunctions &functions,
                          const ModelInterface &iface,
                          llvm::ArrayRef<std::string> errorMessages,
                          llvm::TargetMachine &tm,
                          const CodegenOptions &options,
                          std::string *weightsFile) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::Function *graph = m.getFunction(functions.entry);
  if (!graph)
    return error("internal error: no LLVM function for the entry @" +
                 functions.entry);
  auto *ptr = llvm::PointerType::getUnqual(ctx);

  bool external = !options.externalWeightsFile.empty();
  std::string blob;
  unsigned numWeights = 0;
  llvm::Function *bind =
      external ? externalizeWeights(m, blob, numWeights) : nullptr;

  // Every symbol but the descriptor stays inside the library.
  for (llvm::Function &f : m)
    if (!f.isDeclaration())
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable &g : m.globals())
    if (!g.isDeclaration())
      g.setLinkage(llvm::GlobalValue::InternalLinkage);

  // The execution context of the current run: the thread-local that the
  // parallel launches' lowering (tessera-lower-parallel-launch) made, if any.
  llvm::GlobalVariable *ctxSlot = m.getNamedGlobal(kExecContextGlobalName);
  if (!ctxSlot)
    ctxSlot = new llvm::GlobalVariable(
        m, ptr, /*isConstant=*/false, llvm::GlobalValue::InternalLinkage,
        llvm::ConstantPointerNull::get(ptr), kExecContextGlobalName, nullptr,
        llvm::GlobalValue::GeneralDynamicTLSModel);
  else if (!ctxSlot->isThreadLocal() || ctxSlot->getValueType() != ptr)
    return error("internal error: @" + kExecContextGlobalName +
                 " is not a thread-local pointer");
  llvm::Expected<bool> usesAllocator = redirectAllocations(m, ctxSlot);
  if (!usesAllocator)
    return usesAllocator.takeError();
  // The lowest version the library needs (see tessera/abi.h); 4 below.
  unsigned abiVersion = *usesAllocator ? 3 : external ? 2 : 1;

  bool dynamic = llvm::any_of(iface.inputs, isDynamic) ||
                 llvm::any_of(iface.outputs, isDynamic);
  bool raises = defineRaise(m, ctxSlot, errorMessages);
  if (dynamic || raises)
    abiVersion = 4;
  if (!functions.cachePairs.empty()) {
    if (!dynamic)
      return error("internal error: KV-cache pairs in a model without "
                   "dynamic dims");
    abiVersion = 5;
  }

  ABIBuilder abi(m, iface, ctxSlot);
  llvm::Function *entry = nullptr;
  if (!dynamic) {
    llvm::Expected<llvm::Function *> built = abi.buildEntry(graph);
    if (!built)
      return built.takeError();
    entry = *built;
  }
  llvm::Function *run = nullptr, *outputDims = nullptr;
  if (abiVersion >= 4) {
    llvm::Expected<llvm::Function *> builtRun = abi.buildRun(graph);
    if (!builtRun)
      return builtRun.takeError();
    run = *builtRun;
    llvm::Function *dimsFn = functions.outputDims.empty()
                                 ? nullptr
                                 : m.getFunction(functions.outputDims);
    if (!dimsFn)
      return error("internal error: the lowered module has no output dims "
                   "function (tessera.output_dims)");
    llvm::Expected<llvm::Function *> builtDims = abi.buildOutputDims(dimsFn);
    if (!builtDims)
      return builtDims.takeError();
    outputDims = *builtDims;
  }
  llvm::Function *runStrided = nullptr;
  if (abiVersion >= 5) {
    llvm::Expected<llvm::Function *> built = abi.buildRunStrided(graph);
    if (!built)
      return built.takeError();
    runStrided = *built;
  }

  abi.addBaseFields(abiVersion, tm, entry);
  static_assert(TESSERA_ABI_VERSION == 5, "update the descriptor layout");
  if (external) {
    TesseraWeightsFileHeader header = weightsFileHeader(blob);
    abi.addExternalWeights(options.externalWeightsFile, header, numWeights,
                           bind);
    if (weightsFile) {
      weightsFile->assign(reinterpret_cast<const char *>(&header),
                          sizeof(header));
      *weightsFile += blob;
    }
  } else if (abiVersion >= 2) {
    // Versions 2 and later have the field; null: the weights are inside.
    abi.addNoExternalWeights();
  }
  if (abiVersion >= 4)
    abi.addDynamicFields(run, outputDims);
  if (abiVersion >= 5)
    abi.addCacheFields(functions.cachePairs, runStrided);
  abi.emitDescriptor();

  std::string verifyErrors;
  llvm::raw_string_ostream os(verifyErrors);
  if (llvm::verifyModule(m, &os))
    return error("internal error: invalid LLVM IR: " + os.str());
  return llvm::Error::success();
}

/// Frees the weights (resource blobs) of `module` once LLVM IR holds its own
/// copy: the context's blob manager would keep them until it dies, and the
/// module is not used after code generation.
static void releaseWeights(mlir::ModuleOp module) {
  module->walk([](mlir::Operation *op) {
    for (mlir::NamedAttribute attr : op->getAttrs())
      if (auto res =
              llvm::dyn_cast<mlir::DenseResourceElementsAttr>(attr.getValue()))
        if (auto *entry = res.getRawHandle().getResource())
          entry->setBlob(mlir::AsmResourceBlob());
  });
}

llvm::Error generateCode(mlir::ModuleOp module, const ModelInterface &iface,
                         const CodegenOptions &options,
                         llvm::raw_pwrite_stream &out, bool emitObject,
                         std::string *weightsFile) {
  std::vector<std::string> errorMessages;
  if (auto messages =
          module->getAttrOfType<mlir::ArrayAttr>(kErrorMessagesAttrName))
    for (auto msg : messages.getAsValueRange<mlir::StringAttr>())
      errorMessages.push_back(msg.str());
  llvm::Expected<GraphFunctions> functions = findGraphFunctions(module);
  if (!functions)
    return functions.takeError();
  mlir::registerBuiltinDialectTranslation(*module->getContext());
  mlir::registerLLVMDialectTranslation(*module->getContext());
  auto llvmCtx = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> m =
      mlir::translateModuleToLLVMIR(module, *llvmCtx);
  if (!m)
    return error("translation to LLVM IR failed");
  releaseWeights(module);
  auto tm = createTargetMachine(options);
  if (!tm)
    return tm.takeError();
  m->setTargetTriple((*tm)->getTargetTriple().str());
  m->setDataLayout((*tm)->createDataLayout());
  if (!options.externalWeightsFile.empty() &&
      (options.externalWeightsFile.find('/') != std::string::npos ||
       options.externalWeightsFile.find('\0') != std::string::npos))
    return error("the external weights file name '" +
                 options.externalWeightsFile + "' must not contain '/'");
  if (llvm::Error err = addABI(*m, *functions, iface, errorMessages, **tm,
                               options, weightsFile))
    return std::move(err);

  // Set the CPU and features on every function so LLVM uses them.
  for (llvm::Function &f : *m) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", (*tm)->getTargetCPU());
    f.addFnAttr("target-features", (*tm)->getTargetFeatureString());
  }

  // LLVM's pass timers report when their group is destroyed, at the end of
  // this function (after the object is written).
  llvm::TimePassesIsEnabled = options.timing;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassInstrumentationCallbacks instrumentation;
  llvm::StandardInstrumentations standard(*llvmCtx, /*DebugLogging=*/false);
  standard.registerCallbacks(instrumentation, &mam);
  llvm::PassBuilder pb(tm->get(), llvm::PipelineTuningOptions(), std::nullopt,
                       &instrumentation);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  auto level = options.optLevel >= 3   ? llvm::OptimizationLevel::O3
               : options.optLevel == 2 ? llvm::OptimizationLevel::O2
               : options.optLevel == 1 ? llvm::OptimizationLevel::O1
                                       : llvm::OptimizationLevel::O0;
  llvm::ModulePassManager mpm = level == llvm::OptimizationLevel::O0
                                    ? pb.buildO0DefaultPipeline(level)
                                    : pb.buildPerModuleDefaultPipeline(level);
  mpm.run(*m, mam);

  if (!emitObject) {
    m->print(out, nullptr);
    return llvm::Error::success();
  }
  llvm::legacy::PassManager codegen;
  if ((*tm)->addPassesToEmitFile(codegen, out, nullptr,
                                 llvm::CodeGenFileType::ObjectFile))
    return error("the target cannot emit object files");
  codegen.run(*m);
  if (options.timing)
    llvm::reportAndResetTimings(&llvm::errs());
  return llvm::Error::success();
}

std::string externalWeightsFileName(llvm::StringRef output) {
  llvm::StringRef name = llvm::sys::path::filename(output);
  if (output == "-" || name.empty())
    name = "model";
  return (name + TESSERA_WEIGHTS_SUFFIX).str();
}

/// Runs the system compiler driver on the object and `args`, writing
/// `output` through a temporary file. With `weightsFile`, also writes it to
/// the external weights file beside `output`; either both files are written
/// or neither.
static llvm::Error link(llvm::StringRef objectPath, llvm::StringRef output,
                        llvm::ArrayRef<std::string> args, llvm::StringRef what,
                        const std::string *weightsFile) {
  // The weights go to a temporary file beside their final place first.
  llvm::SmallString<128> weightsPath, weightsTmp;
  std::optional<llvm::FileRemover> removeWeightsTmp;
  if (weightsFile) {
    weightsPath = llvm::sys::path::parent_path(output);
    llvm::sys::path::append(weightsPath, externalWeightsFileName(output));
    weightsTmp = weightsPath;
    weightsTmp += ".tmp-write";
    removeWeightsTmp.emplace(weightsTmp);
    std::error_code ec;
    llvm::raw_fd_ostream os(weightsTmp, ec, llvm::sys::fs::OF_None);
    if (!ec) {
      os << *weightsFile;
      os.close();
      if (os.has_error())
        ec = os.error();
    }
    if (ec)
      return error("cannot write '" + weightsPath + "': " + ec.message());
  }
  // Link next to the output, then rename: no partial output on failure.
  llvm::SmallString<128> tmpOut(output);
  tmpOut += ".tmp-link";
  llvm::FileRemover removeTmp(tmpOut);
  auto cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    return error("cannot find the system C compiler driver 'cc' to link the " +
                 what);
  llvm::SmallString<128> errPath;
  llvm::sys::fs::createTemporaryFile("tessera-link", "txt", errPath);
  llvm::FileRemover removeErr(errPath);
  std::vector<llvm::StringRef> argv = {*cc, "-o", tmpOut, objectPath};
  for (const std::string &a : args)
    argv.push_back(a);
  argv.push_back("-Wl,-z,noexecstack");
  argv.push_back("-lm");
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, errPath, errPath};
  std::string msg;
  int rc =
      llvm::sys::ExecuteAndWait(*cc, argv, std::nullopt, redirects, 0, 0, &msg);
  if (rc != 0) {
    auto log = llvm::MemoryBuffer::getFile(errPath);
    return error("linking the " + what +
                 " failed: " + (log ? (*log)->getBuffer().str() : msg));
  }
  if (weightsFile) {
    if (std::error_code ec = llvm::sys::fs::rename(weightsTmp, weightsPath))
      return error("cannot write '" + weightsPath + "': " + ec.message());
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmpOut, output)) {
    if (weightsFile)
      llvm::sys::fs::remove(weightsPath);
    return error("cannot write '" + output + "': " + ec.message());
  }
  return llvm::Error::success();
}

llvm::Error linkSharedLibrary(llvm::StringRef objectPath,
                              llvm::StringRef output,
                              const std::string *weightsFile) {
  return link(objectPath, output, {"-shared"}, "shared library", weightsFile);
}

llvm::Error linkExecutable(llvm::StringRef objectPath, llvm::StringRef output,
                           llvm::ArrayRef<std::string> inputs,
                           const std::string *weightsFile) {
  return link(objectPath, output, inputs, "executable", weightsFile);
}

} // namespace tessera
