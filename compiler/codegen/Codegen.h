//===- Codegen.h - LLVM IR with the model ABI, objects, libraries -*- C++ -*-===//
//
// Part of Tessera. The last stage: a module in the LLVM dialect becomes LLVM
// IR with the model ABI (tessera/abi.h), -O3 code for the target, and a
// shared library or executable.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_CODEGEN_CODEGEN_H
#define TESSERA_COMPILER_CODEGEN_CODEGEN_H

#include "compiler/codegen/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace tessera {

/// The name (ONNX dim_param, or empty) and the supported sizes of a dim.
struct DimInfo {
  std::string name;
  int64_t min = 0, max = INT64_MAX;
};

/// One model input or output as the ABI describes it.
struct TensorInfo {
  std::string name;
  int dtype = 0; // ONNX TensorProto.DataType
  std::vector<int64_t> dims; // -1: dynamic
  std::vector<DimInfo> dimInfo; // one per dim

  std::optional<std::pair<int64_t, int64_t>> indexRange;
};

struct ModelInterface {
  std::vector<TensorInfo> inputs, outputs;
};

struct CodegenOptions {
  TargetDescription target; // from describeTarget(--mcpu)
  unsigned optLevel = 3;
  /// When set, the weights go to this side file (a name relative to the
  /// library's directory, see externalWeightsFileName) instead of the
  /// library's read-only data.
  std::string externalWeightsFile;
  /// Report the time each LLVM pass takes (optimisation and code
  /// generation) on stderr, as `--timing` does for the MLIR passes.
  bool timing = false;
};

/// The external weights file of the library or executable `output`:
/// its file name with ".weights" appended (model.so -> model.so.weights).
std::string externalWeightsFileName(llvm::StringRef output);

/// Translates a module in the LLVM dialect to LLVM IR, adds the ABI (the
/// `tessera_model_v1` descriptor and its entry function), optimises it, and
/// writes it to `out` as textual IR (`emitObject` false) or an object file.
/// The object goes straight to `out` (a file, not a buffer: the weights are
/// its largest part). With options.externalWeightsFile, `weightsFile` (if not
/// null) receives the contents of the external weights file
/// (tessera/weights_file.h). The module's weights are freed once translated:
/// `module` is not usable after.
llvm::Error generateCode(mlir::ModuleOp module, const ModelInterface &iface,
                         const CodegenOptions &options,
                         llvm::raw_pwrite_stream &out, bool emitObject,
                         std::string *weightsFile = nullptr);

/// Links the object file at `objectPath` into a shared library at `output` (written to a
/// temporary file first, so a failure leaves nothing behind). With
/// `weightsFile`, also writes it beside `output` as
/// externalWeightsFileName(output), under the same rule.
llvm::Error linkSharedLibrary(llvm::StringRef objectPath,
                              llvm::StringRef output,
                              const std::string *weightsFile = nullptr);

/// Links the object file at `objectPath` with `inputs` (objects, static libraries, -l flags)
/// into an executable at `output`, with the same no-partial-output rule and
/// external weights file.
llvm::Error linkExecutable(llvm::StringRef objectPath, llvm::StringRef output,
                           llvm::ArrayRef<std::string> inputs,
                           const std::string *weightsFile = nullptr);

} // namespace tessera

#endif // TESSERA_COMPILER_CODEGEN_CODEGEN_H
