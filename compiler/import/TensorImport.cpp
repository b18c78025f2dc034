//===- TensorImport.cpp - ONNX types and tensors to MLIR ------------------===//

#include "compiler/import/TensorImport.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using llvm::formatv;

namespace tessera::importer {

static llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

Type elementType(int dataType, MLIRContext &ctx) {
  using TP = onnx::TensorProto;
  switch (dataType) {
  case TP::FLOAT:
    return Float32Type::get(&ctx);
  case TP::DOUBLE:
    return Float64Type::get(&ctx);
  case TP::FLOAT16:
    return Float16Type::get(&ctx);
  case TP::BFLOAT16:
    return BFloat16Type::get(&ctx);
  case TP::BOOL:
    return IntegerType::get(&ctx, 1);
  case TP::INT8:
    return IntegerType::get(&ctx, 8);
  case TP::INT16:
    return IntegerType::get(&ctx, 16);
  case TP::INT32:
    return IntegerType::get(&ctx, 32);
  case TP::INT64:
    return IntegerType::get(&ctx, 64);
  case TP::UINT8:
    return IntegerType::get(&ctx, 8, IntegerType::Unsigned);
  case TP::UINT16:
    return IntegerType::get(&ctx, 16, IntegerType::Unsigned);
  case TP::UINT32:
    return IntegerType::get(&ctx, 32, IntegerType::Unsigned);
  case TP::UINT64:
    return IntegerType::get(&ctx, 64, IntegerType::Unsigned);
  default:
    return {};
  }
}

std::string dataTypeName(int dataType) {
  if (onnx::TensorProto_DataType_IsValid(dataType))
    return onnx::TensorProto_DataType_Name(
        static_cast<onnx::TensorProto_DataType>(dataType));
  return formatv("<data type {0}>", dataType).str();
}

Type tensorType(const onnx::TypeProto &type, MLIRContext &ctx) {
  if (!type.has_tensor_type())
    return {};
  const auto &tt = type.tensor_type();
  Type elt = elementType(tt.elem_type(), ctx);
  if (!elt)
    return {};
  if (!tt.has_shape())
    return UnrankedTensorType::get(elt);
  SmallVector<int64_t> dims;
  for (const auto &d : tt.shape().dim())
    dims.push_back(d.has_dim_value() && d.dim_value() >= 0
                       ? d.dim_value()
                       : ShapedType::kDynamic);
  return RankedTensorType::get(dims, elt);
}

/// Bytes per element as ONNX stores them (bool is one byte).
static int64_t storageBytes(Type elt) {
  if (elt.isInteger(1))
    return 1;
  return elt.getIntOrFloatBitWidth() / 8;
}

/// Copies the typed repeated field that holds `tensor`'s values into
/// little-endian storage. Fails if the field has the wrong number of values.
static llvm::Expected<std::vector<char>>
typedFieldBytes(const onnx::TensorProto &t, Type elt, int64_t count) {
  using TP = onnx::TensorProto;
  int64_t bytes = storageBytes(elt);
  std::vector<char> out(count * bytes);
  auto store = [&](auto &field) -> llvm::Error {
    if (static_cast<int64_t>(field.size()) != count)
      return error(
          formatv("tensor '{0}' holds {1} values but its shape needs {2}",
                  t.name(), field.size(), count));
    for (int64_t i = 0; i < count; ++i) {
      uint64_t v = static_cast<uint64_t>(field.Get(i));
      std::memcpy(out.data() + i * bytes, &v, bytes);
    }
    return llvm::Error::success();
  };
  llvm::Error err = llvm::Error::success();
  switch (t.data_type()) {
  case TP::FLOAT: {
    if (static_cast<int64_t>(t.float_data_size()) != count)
      return error(
          formatv("tensor '{0}' holds {1} values but its shape needs {2}",
                  t.name(), t.float_data_size(), count));
    std::memcpy(out.data(), t.float_data().data(), count * 4);
    break;
  }
  case TP::DOUBLE: {
    if (static_cast<int64_t>(t.double_data_size()) != count)
      return error(
          formatv("tensor '{0}' holds {1} values but its shape needs {2}",
                  t.name(), t.double_data_size(), count));
    std::memcpy(out.data(), t.double_data().data(), count * 8);
    break;
  }
  case TP::INT64:
    err = store(t.int64_data());
    break;
  case TP::UINT32:
  case TP::UINT64:
    err = store(t.uint64_data());
    break;
  default: // INT32 and narrower, BOOL, FLOAT16, BFLOAT16 live in int32_data.
    err = store(t.int32_data());
    break;
  }
  if (err)
    return std::move(err);
  return out;
}

/// Maps `length` bytes at `offset` of the external-data file of `t`.
static llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
mapExternalData(const onnx::TensorProto &t, StringRef modelDir,
                int64_t expectedBytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : t.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset" &&
             !StringRef(kv.value()).getAsInteger(10, offset))
      continue;
    else if (kv.key() == "length" &&
             !StringRef(kv.value()).getAsInteger(10, length))
      continue;
  }
  if (location.empty())
    return error(formatv(
        "initializer '{0}' has external data without a location", t.name()));
  llvm::SmallString<256> path(modelDir);
  llvm::sys::path::append(path, location);
  if (length < 0)
    length = expectedBytes;
  if (length != expectedBytes)
    return error(
        formatv("external data of '{0}' is {1} bytes but its shape needs {2}",
                t.name(), length, expectedBytes));
  uint64_t fileSize = 0;
  if (std::error_code ec = llvm::sys::fs::file_size(path, fileSize))
    return error(formatv("cannot read external data of '{0}' from '{1}': {2}",
                         t.name(), path, ec.message()));
  if (offset < 0 || uint64_t(offset) + uint64_t(length) > fileSize)
    return error(formatv("external data file '{0}' has {1} bytes, too few for "
                         "'{2}' ({3} bytes at offset {4})",
                         path, fileSize, t.name(), length, offset));
  auto buffer = llvm::MemoryBuffer::getFileSlice(path, length, offset,
                                                 /*IsVolatile=*/false);
  if (!buffer)
    return error(formatv("cannot read external data of '{0}' from '{1}': {2}",
                         t.name(), path, buffer.getError().message()));
  if (static_cast<int64_t>((*buffer)->getBufferSize()) != length)
    return error(formatv("external data file '{0}' is too short for '{1}'",
                         path, t.name()));
  return std::move(*buffer);
}

llvm::Expected<ElementsAttr> importTensor(onnx::TensorProto &t,
                                          StringRef modelDir, MLIRContext &ctx,
                                          int64_t denseLimit) {
  Type elt = elementType(t.data_type(), ctx);
  if (!elt)
    return error(formatv("tensor '{0}' has unsupported data type {1}", t.name(),
                         dataTypeName(t.data_type())));
  SmallVector<int64_t> dims;
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && count > (int64_t(1) << 40) / d))
      return error(formatv("tensor '{0}' has an invalid shape", t.name()));
    dims.push_back(d);
    count *= d;
  }
  auto type = RankedTensorType::get(dims, elt);
  int64_t bytes = count * storageBytes(elt);

  // Find the bytes: external file, raw_data, or a typed field.
  std::unique_ptr<llvm::MemoryBuffer> external;
  std::vector<char> typed;
  ArrayRef<char> data;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    auto buffer = mapExternalData(t, modelDir, bytes);
    if (!buffer)
      return buffer.takeError();
    external = std::move(*buffer);
    data =
        ArrayRef<char>(external->getBufferStart(), external->getBufferSize());
  } else if (t.has_raw_data()) {
    if (static_cast<int64_t>(t.raw_data().size()) != bytes)
      return error(
          formatv("tensor '{0}' has {1} bytes of data but its shape needs {2}",
                  t.name(), t.raw_data().size(), bytes));
    data = ArrayRef<char>(t.raw_data().data(), t.raw_data().size());
  } else {
    auto field = typedFieldBytes(t, elt, count);
    if (!field)
      return field.takeError();
    typed = std::move(*field);
    data = ArrayRef<char>(typed.data(), typed.size());
  }

  if (elt.isInteger(1)) {
    // MLIR packs i1 as bits; ONNX stores one byte per bool.
    SmallVector<bool> values;
    values.reserve(count);
    for (char c : data)
      values.push_back(c != 0);
    return cast<ElementsAttr>(DenseElementsAttr::get(type, values));
  }
  if (count <= denseLimit)
    return cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(type, data));

  // Large tensors: a resource blob that owns the bytes without copying them.
  size_t align = storageBytes(elt);
  AsmResourceBlob blob;
  if (external && reinterpret_cast<uintptr_t>(data.data()) % align == 0) {
    auto *owned = external.release();
    blob = AsmResourceBlob(
        data, align, [owned](void *, size_t, size_t) { delete owned; },
        /*dataIsMutable=*/false);
  } else if (!external && t.has_raw_data() &&
             reinterpret_cast<uintptr_t>(data.data()) % align == 0) {
    auto *owned = new std::string();
    owned->swap(*t.mutable_raw_data());
    blob = AsmResourceBlob(
        ArrayRef<char>(owned->data(), owned->size()), align,
        [owned](void *, size_t, size_t) { delete owned; },
        /*dataIsMutable=*/false);
  } else {
    blob =
        HeapAsmResourceBlob::allocateAndCopyWithAlign(data, align,
                                                      /*dataIsMutable=*/false);
  }
  // Resource keys must be identifiers in MLIR's assembly.
  std::string blobName = t.name().empty() ? "tensor" : t.name();
  for (char &c : blobName)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  if (llvm::isDigit(blobName[0]) || blobName[0] == '.')
    blobName.insert(0, "t_");
  return cast<ElementsAttr>(
      DenseResourceElementsAttr::get(type, blobName, std::move(blob)));
}

} // namespace tessera::importer
