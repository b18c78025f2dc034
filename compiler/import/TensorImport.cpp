//===- TensorImport.cpp - ONNX types and tensors to MLIR ------------------===//

#include "compiler/import/TensorImport.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <array>

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

/// The number of values in each typed field of `t`, and which of them the
/// tensor's data type uses (INT32 and narrower, BOOL, FLOAT16 and BFLOAT16
/// live in int32_data; UINT32 and UINT64 in uint64_data).
static std::pair<std::array<int64_t, 6>, int>
typedFields(const onnx::TensorProto &t) {
  using TP = onnx::TensorProto;
  std::array<int64_t, 6> sizes = {t.float_data_size(), t.double_data_size(),
                                  t.int64_data_size(), t.uint64_data_size(),
                                  t.int32_data_size(), t.string_data_size()};
  switch (t.data_type()) {
  case TP::FLOAT:
    return {sizes, 0};
  case TP::DOUBLE:
    return {sizes, 1};
  case TP::INT64:
    return {sizes, 2};
  case TP::UINT32:
  case TP::UINT64:
    return {sizes, 3};
  default:
    return {sizes, 4};
  }
}

/// Copies the typed repeated field that holds `t`'s values (already checked
/// by checkTensor) into little-endian storage.
static std::vector<char> typedFieldBytes(const onnx::TensorProto &t, Type elt,
                                         int64_t count) {
  using TP = onnx::TensorProto;
  int64_t bytes = storageBytes(elt);
  std::vector<char> out(count * bytes);
  if (count == 0)
    return out;
  auto store = [&](auto &field) {
    for (int64_t i = 0; i < count; ++i) {
      uint64_t v = static_cast<uint64_t>(field.Get(i));
      std::memcpy(out.data() + i * bytes, &v, bytes);
    }
  };
  switch (t.data_type()) {
  case TP::FLOAT:
    std::memcpy(out.data(), t.float_data().data(), count * 4);
    break;
  case TP::DOUBLE:
    std::memcpy(out.data(), t.double_data().data(), count * 8);
    break;
  case TP::INT64:
    store(t.int64_data());
    break;
  case TP::UINT32:
  case TP::UINT64:
    store(t.uint64_data());
    break;
  default:
    store(t.int32_data());
    break;
  }
  return out;
}

llvm::Expected<TensorLayout> checkTensor(const onnx::TensorProto &t,
                                         StringRef modelDir, MLIRContext &ctx) {
  auto fail = [&](const llvm::Twine &why) {
    return error("tensor '" + t.name() + "' " + why);
  };
  TensorLayout layout;
  layout.elementType = elementType(t.data_type(), ctx);
  if (!layout.elementType)
    return fail("has unsupported data type " + dataTypeName(t.data_type()));
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && layout.count > kMaxElements / d))
      return fail("has an invalid shape");
    layout.dims.push_back(d);
    layout.count *= d;
  }
  layout.bytes = layout.count * storageBytes(layout.elementType);
  if (t.has_segment())
    return fail("is segmented, which is not supported");
  auto [sizes, own] = typedFields(t);
  int64_t typedTotal = 0;
  for (int64_t n : sizes)
    typedTotal += n;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    if (t.has_raw_data() || typedTotal)
      return fail("has external data and also data in the model");
    auto ref = resolveExternalData(t, modelDir, layout.bytes);
    if (!ref)
      return ref.takeError();
    return layout;
  }
  if (t.external_data_size())
    return fail("has external data entries but is not marked external");
  if (t.has_raw_data()) {
    if (typedTotal)
      return fail("has both raw data and typed values");
    if (static_cast<int64_t>(t.raw_data().size()) != layout.bytes)
      return fail(formatv("has {0} bytes of data but its shape needs {1}",
                          t.raw_data().size(), layout.bytes)
                      .str());
    return layout;
  }
  if (sizes[own] != layout.count)
    return fail(formatv("holds {0} values but its shape needs {1}", sizes[own],
                        layout.count)
                    .str());
  if (typedTotal != sizes[own])
    return fail("has values in a field its data type " +
                dataTypeName(t.data_type()) + " does not use");
  return layout;
}

llvm::Expected<ExternalDataRef> resolveExternalData(const onnx::TensorProto &t,
                                                    StringRef modelDir,
                                                    int64_t expectedBytes) {
  auto fail = [&](const llvm::Twine &why) {
    return error("external data of tensor '" + t.name() + "': " + why);
  };
  std::string location;
  int64_t offset = 0, length = -1;
  llvm::StringSet<> seen;
  for (const auto &kv : t.external_data()) {
    StringRef key = kv.key(), value = kv.value();
    if (!seen.insert(key).second)
      return fail("key '" + key + "' is given twice");
    if (key == "location") {
      location = kv.value();
    } else if (key == "offset" || key == "length") {
      int64_t &field = key == "offset" ? offset : length;
      if (value.getAsInteger(10, field) || field < 0)
        return fail(key + " '" + value + "' is not a non-negative integer");
    } else if (key != "checksum") {
      return fail("unknown key '" + key + "'");
    }
  }
  if (location.empty())
    return fail("it has no location");
  // Confined to the model's directory: a relative path without '..' whose
  // real path (symbolic links resolved) is inside the directory's real path.
  if (llvm::sys::path::is_absolute(location) ||
      llvm::sys::path::is_absolute(location, llvm::sys::path::Style::windows))
    return fail("location '" + location +
                "' is an absolute path; it must be relative to the model's "
                "directory");
  for (StringRef part : llvm::make_range(llvm::sys::path::begin(location),
                                         llvm::sys::path::end(location)))
    if (part == "..")
      return fail("location '" + location +
                  "' contains '..'; it must stay inside the model's directory");
  if (location.find('\\') != std::string::npos ||
      location.find('\0') != std::string::npos)
    return fail("location '" + location + "' contains '\\' or a NUL byte");
  llvm::SmallString<256> dirReal, fileReal, path(modelDir);
  llvm::sys::path::append(path, location);
  if (std::error_code ec = llvm::sys::fs::real_path(modelDir, dirReal))
    return fail("cannot resolve the model's directory '" + modelDir +
                "': " + ec.message());
  if (std::error_code ec = llvm::sys::fs::real_path(path, fileReal))
    return fail("cannot open '" + path + "': " + ec.message());
  StringRef real = fileReal;
  if (real.size() <= dirReal.size() || !real.starts_with(dirReal) ||
      !llvm::sys::path::is_separator(real[dirReal.size()]))
    return fail("location '" + location + "' resolves to '" + fileReal +
                "', outside the model's directory '" + dirReal +
                "' (a symbolic link?)");
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(fileReal, status))
    return fail("cannot open '" + path + "': " + ec.message());
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return fail("'" + path + "' is not a regular file");
  if (length < 0)
    length = expectedBytes;
  if (length != expectedBytes)
    return fail(formatv("length is {0} bytes but the tensor's shape needs {1}",
                        length, expectedBytes)
                    .str());
  uint64_t fileSize = status.getSize();
  if (uint64_t(offset) > fileSize || uint64_t(length) > fileSize - offset)
    return fail(formatv("'{0}' has {1} bytes, too few for {2} bytes at "
                        "offset {3}",
                        path, fileSize, length, offset)
                    .str());
  return ExternalDataRef{std::string(fileReal), offset, length};
}

/// Maps the external data of `t`, checked by resolveExternalData.
static llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
mapExternalData(const onnx::TensorProto &t, StringRef modelDir,
                int64_t expectedBytes) {
  auto ref = resolveExternalData(t, modelDir, expectedBytes);
  if (!ref)
    return ref.takeError();
  auto buffer =
      llvm::MemoryBuffer::getFileSlice(ref->path, ref->length, ref->offset,
                                       /*IsVolatile=*/false);
  if (!buffer)
    return error(formatv("cannot read external data of '{0}' from '{1}': {2}",
                         t.name(), ref->path, buffer.getError().message()));
  if (static_cast<int64_t>((*buffer)->getBufferSize()) != ref->length)
    return error(formatv("external data file '{0}' is too short for '{1}'",
                         ref->path, t.name()));
  return std::move(*buffer);
}

llvm::Expected<ElementsAttr> importTensor(onnx::TensorProto &t,
                                          StringRef modelDir, MLIRContext &ctx,
                                          int64_t denseLimit) {
  auto layout = checkTensor(t, modelDir, ctx);
  if (!layout)
    return layout.takeError();
  Type elt = layout->elementType;
  int64_t count = layout->count;
  auto type = RankedTensorType::get(layout->dims, elt);

  // Find the bytes: external file, raw_data, or a typed field.
  std::unique_ptr<llvm::MemoryBuffer> external;
  std::vector<char> typed;
  ArrayRef<char> data;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    auto buffer = mapExternalData(t, modelDir, layout->bytes);
    if (!buffer)
      return buffer.takeError();
    external = std::move(*buffer);
    data =
        ArrayRef<char>(external->getBufferStart(), external->getBufferSize());
  } else if (t.has_raw_data()) {
    data = ArrayRef<char>(t.raw_data().data(), t.raw_data().size());
  } else {
    typed = typedFieldBytes(t, elt, count);
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
