//===- ExecContext.h - the runtime context in generated code ----*- C++ -*-===//
//
// Part of Tessera. Generated code reaches the runtime (parallel_for, the
// session's allocator, error reports) through the TesseraExecContext of the
// current run (tessera/abi.h), which the entry functions store in a
// thread-local global and parallel trampolines set on the threads they run
// on. The MLIR lowering of parallel launches (codegen/cpu) and the ABI built
// in LLVM IR (Codegen.cpp) share that global and the struct layout here.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_CODEGEN_EXECCONTEXT_H
#define TESSERA_COMPILER_CODEGEN_EXECCONTEXT_H

#include "runtime/include/tessera/abi.h"

#include "llvm/ADT/StringRef.h"

namespace tessera {

/// The thread-local `ptr` global holding the current run's context.
constexpr llvm::StringLiteral kExecContextGlobalName = "tessera.exec_ctx";

/// Fields of TesseraExecContext {u32 abi_version, i32 num_threads,
/// parallel_for, runtime_private, alloc, free, report_error}: two i32s, then
/// pointers.
enum ExecContextField : unsigned {
  kExecAbiVersion,
  kExecNumThreads,
  kExecParallelFor,
  kExecRuntimePrivate,
  kExecAlloc,
  kExecFree,
  kExecReportError,
  kExecNumFields
};
// Version 5 leaves the context as version 4 has it.
static_assert(TESSERA_ABI_VERSION == 5, "update the context layout");

} // namespace tessera

#endif // TESSERA_COMPILER_CODEGEN_EXECCONTEXT_H
