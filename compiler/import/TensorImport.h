//===- TensorImport.h - ONNX types and tensors to MLIR ----------*- C++ -*-===//

#ifndef TESSERA_COMPILER_IMPORT_TENSORIMPORT_H
#define TESSERA_COMPILER_IMPORT_TENSORIMPORT_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include "onnx/onnx_pb.h"

namespace tessera::importer {

/// The most elements a tensor (an initializer, or any value whose shape
/// inference gives a static shape) may have: 2^40, far beyond any model, and
/// small enough that byte sizes and index arithmetic cannot overflow.
constexpr int64_t kMaxElements = int64_t(1) << 40;

/// The MLIR element type for an ONNX TensorProto::DataType, or null if
/// Tessera does not support it (strings, complex, 8-bit floats).
mlir::Type elementType(int dataType, mlir::MLIRContext &context);

/// ONNX's name for a data type, for diagnostics ("FLOAT", "STRING", ...).
std::string dataTypeName(int dataType);

/// The tensor type described by an ONNX TypeProto (unknown dims dynamic, no
/// shape unranked); null if it is not a tensor of a supported element type.
mlir::Type tensorType(const onnx::TypeProto &type, mlir::MLIRContext &context);

/// What checkTensor found out about a tensor.
struct TensorLayout {
  mlir::Type elementType;
  llvm::SmallVector<int64_t> dims;
  int64_t count = 1; ///< elements
  int64_t bytes = 0; ///< bytes as ONNX stores them (one per bool)
};

/// Checks that `tensor` is self-consistent before anything reads its data: a
/// supported data type, a non-negative shape of at most 2^40 elements, and
/// exactly as many bytes (raw), values (in the typed field its data type
/// uses, and no other) or external bytes (see resolveExternalData) as the
/// shape needs.
llvm::Expected<TensorLayout> checkTensor(const onnx::TensorProto &tensor,
                                         llvm::StringRef modelDir,
                                         mlir::MLIRContext &context);

/// Where an external-data tensor's bytes are.
struct ExternalDataRef {
  std::string path; ///< real path, inside the model's directory
  int64_t offset = 0;
  int64_t length = 0;
};

/// Resolves and checks the external data of `tensor`: known keys only, once
/// each; numeric non-negative offset and length; a relative location without
/// '..' whose real path (symbolic links resolved) is a regular file inside
/// the real path of `modelDir`; `expectedBytes` bytes at the offset.
llvm::Expected<ExternalDataRef>
resolveExternalData(const onnx::TensorProto &tensor, llvm::StringRef modelDir,
                    int64_t expectedBytes);

/// Converts an initializer or Constant value. Tensors with more than
/// `denseLimit` elements become resource-backed attributes that take over the
/// proto's raw bytes (the proto is left without data) or memory-map external
/// data found relative to `modelDir`.
llvm::Expected<mlir::ElementsAttr> importTensor(onnx::TensorProto &tensor,
                                                llvm::StringRef modelDir,
                                                mlir::MLIRContext &context,
                                                int64_t denseLimit = 1024);

} // namespace tessera::importer

#endif // TESSERA_COMPILER_IMPORT_TENSORIMPORT_H
