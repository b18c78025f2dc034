//===- TensorImport.h - ONNX types and tensors to MLIR ----------*- C++ -*-===//

#ifndef TESSERA_COMPILER_IMPORT_TENSORIMPORT_H
#define TESSERA_COMPILER_IMPORT_TENSORIMPORT_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/Error.h"

#include "onnx/onnx_pb.h"

namespace tessera::importer {

/// The MLIR element type for an ONNX TensorProto::DataType, or null if
/// Tessera does not support it (strings, complex, 8-bit floats).
mlir::Type elementType(int dataType, mlir::MLIRContext &context);

/// ONNX's name for a data type, for diagnostics ("FLOAT", "STRING", ...).
std::string dataTypeName(int dataType);

/// The tensor type described by an ONNX TypeProto (unknown dims dynamic, no
/// shape unranked); null if it is not a tensor of a supported element type.
mlir::Type tensorType(const onnx::TypeProto &type, mlir::MLIRContext &context);

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
