//===- Importer.h - ONNX ModelProto to the onnx dialect ---------*- C++ -*-===//
//
// Part of Tessera. Reads an ONNX model (binary protobuf or ONNX's textual
// syntax) with libonnx, checks it (onnx::checker, supported ops and opsets),
// runs ONNX shape inference and builds a module with one func.func holding
// `onnx` dialect ops. Node names become locations; initializers become
// constants, large ones backed by resource blobs that own the model's bytes
// (or a memory map of the external-data file), so weights are not copied.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_IMPORT_IMPORTER_H
#define TESSERA_COMPILER_IMPORT_IMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <utility>
#include <vector>

namespace tessera {

struct ImportOptions {
  /// Dimensions pinned per graph input (`--shape NAME=1x128`); a -1 entry
  /// keeps that dimension as the model declares it.
  std::vector<std::pair<std::string, std::vector<int64_t>>> inputShapes;
  /// Named dimensions pinned on every input that uses them (`--dim batch=1`).
  std::vector<std::pair<std::string, int64_t>> dimValues;
  /// Parse the input as ONNX's textual syntax instead of binary protobuf.
  /// When unset, text is detected by the `.onnxtxt` extension or a leading '<'.
  std::optional<bool> textFormat;
};

/// Parses `NAME=DxDx...` (a `?` dimension stays dynamic) into `options`.
llvm::Error parseShapeOption(llvm::StringRef spec, ImportOptions &options);

/// Imports the model at `path` (external data is read relative to it). Every
/// problem comes back as an llvm::Error whose message is ready to print.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importONNXFile(llvm::StringRef path, mlir::MLIRContext &context,
               const ImportOptions &options = {});

/// Imports a model held in memory; `modelDir` resolves external data.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importONNXBuffer(llvm::StringRef bytes, llvm::StringRef modelDir,
                 mlir::MLIRContext &context, const ImportOptions &options = {});

/// One operator of the default ONNX domain and whether Tessera imports it:
/// from opset `sinceOpset` on, or (when `sinceOpset` is 0) not, for `reason`.
struct OperatorSupport {
  std::string name;
  int64_t sinceOpset = 0;
  std::string reason;
};

/// Every default-domain operator libonnx knows, and every one Tessera
/// imports, sorted by name (the README's operator table is generated from
/// this by `tessera-compile --list-operators`).
std::vector<OperatorSupport> operatorSupport();

} // namespace tessera

#endif // TESSERA_COMPILER_IMPORT_IMPORTER_H
