//===- Driver.h - the compilation pipeline as a library ---------*- C++ -*-===//
//
// Part of Tessera. From an imported module to an object file or a shared
// library: shape folding, lowering to linalg, bufferization, lowering to the
// LLVM dialect, LLVM IR with the model ABI, -O3 code generation for the host
// or a chosen CPU, and the link into a shared library.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_DRIVER_DRIVER_H
#define TESSERA_COMPILER_DRIVER_DRIVER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

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

/// Every dialect and interface model the pipeline needs (bufferization
/// models for arith/linalg/tensor/func, LLVM translation).
void registerDialects(mlir::DialectRegistry &registry);

/// Reads names, element types and shapes from the imported entry function,
/// and the range of valid values for integer inputs used as Gather indices.
llvm::Expected<ModelInterface> describeModel(mlir::ModuleOp module);

/// Register tile of the matmul schedule: rows x columns of fp32.
struct MatmulTile {
  int64_t m = 8, n = 32;
};

/// The register tile for a CPU with these LLVM target features: 8x32 with
/// AVX-512 (16 zmm accumulators), 6x16 with AVX2 (12 ymm accumulators).
MatmulTile matmulTileFor(llvm::StringRef targetFeatures);

/// The target features of --mcpu (native: the host's), as LLVM spells them.
std::string targetFeaturesFor(llvm::StringRef cpu);

/// The fusion passes on the `onnx` dialect, in order: LayerNorm and GELU
/// recognisers, attention, Q/K/V projection, residual + LayerNorm, GEMM
/// epilogues. With `report`, each emits fusion remarks (see FusionReport.h).
void buildFusionPipeline(mlir::OpPassManager &pm, bool report = false);

/// onnx-fold-shapes, then onnx -> linalg on tensors (fusion, vectorized
/// matmuls with the given register tile).
void buildONNXToLinalgPipeline(mlir::OpPassManager &pm, MatmulTile tile = {});

/// linalg on tensors -> LLVM dialect (bufferization, loops, math, LLVM).
void buildLinalgToLLVMPipeline(mlir::OpPassManager &pm);

struct CodegenOptions {
  std::string cpu = "native"; // or an LLVM CPU name, e.g. znver4, skylake
  unsigned optLevel = 3;
  /// When set, the weights go to this side file (a name relative to the
  /// library's directory, see externalWeightsFileName) instead of the
  /// library's read-only data.
  std::string externalWeightsFile;
};

/// The external weights file of the library or executable `output`:
/// its file name with ".weights" appended (model.so -> model.so.weights).
std::string externalWeightsFileName(llvm::StringRef output);

/// Translates a module in the LLVM dialect to LLVM IR, adds the ABI (the
/// `tessera_model_v1` descriptor and its entry function), optimises it, and
/// returns it as textual IR (`emitObject` false) or an object file. With
/// options.externalWeightsFile, `weightsFile` (if not null) receives the
/// contents of the external weights file (tessera/weights_file.h).
llvm::Expected<std::string> generateCode(mlir::ModuleOp module,
                                         const ModelInterface &iface,
                                         const CodegenOptions &options,
                                         bool emitObject,
                                         std::string *weightsFile = nullptr);

/// Links an object file into a shared library at `output` (written to a
/// temporary file first, so a failure leaves nothing behind). With
/// `weightsFile`, also writes it beside `output` as
/// externalWeightsFileName(output), under the same rule.
llvm::Error linkSharedLibrary(llvm::StringRef objectBytes,
                              llvm::StringRef output,
                              const std::string *weightsFile = nullptr);

/// Links an object file with `inputs` (objects, static libraries, -l flags)
/// into an executable at `output`, with the same no-partial-output rule and
/// external weights file.
llvm::Error linkExecutable(llvm::StringRef objectBytes, llvm::StringRef output,
                           llvm::ArrayRef<std::string> inputs,
                           const std::string *weightsFile = nullptr);

} // namespace tessera

#endif // TESSERA_COMPILER_DRIVER_DRIVER_H
