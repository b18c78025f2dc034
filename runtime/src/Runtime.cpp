//===- Runtime.cpp - the Tessera runtime C API ----------------------------===//
//
// Part of Tessera. Loading, descriptor and input checks, sessions and runs.
// Every exported function catches everything: errors leave as statuses.
//
//===----------------------------------------------------------------------===//

#include "tessera/runtime.h"
#include "tessera/weights_file.h"

#include "CpuFeatures.h"
#include "ElfCheck.h"
#include "Internal.h"
#include "Status.h"
#include "ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <map>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace tessera;
using tessera::runtime::checkElfFile;
using tessera::runtime::ElfProblem;
using tessera::runtime::gOutOfMemory;
using tessera::runtime::guarded;
using tessera::runtime::invalidArgument;
using tessera::runtime::makeStatus;

//===----------------------------------------------------------------------===//
// Status
//===----------------------------------------------------------------------===//

TesseraStatusCode tessera_status_code(const TesseraStatus *status) {
  return status ? status->code : TESSERA_OK;
}

const char *tessera_status_message(const TesseraStatus *status) {
  return status ? status->message.c_str() : "";
}

int32_t tessera_status_entry_code(const TesseraStatus *status) {
  return status ? status->entryCode : 0;
}

void tessera_status_free(TesseraStatus *status) {
  if (status != &gOutOfMemory)
    delete status;
}

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

const char *tessera_dtype_name(int32_t dtype) {
  // ONNX TensorProto.DataType, including the types the runtime cannot run,
  // so that messages about them still read well.
  switch (dtype) {
  case 0:
    return "undefined";
  case 1:
    return "float32";
  case 2:
    return "uint8";
  case 3:
    return "int8";
  case 4:
    return "uint16";
  case 5:
    return "int16";
  case 6:
    return "int32";
  case 7:
    return "int64";
  case 8:
    return "string";
  case 9:
    return "bool";
  case 10:
    return "float16";
  case 11:
    return "float64";
  case 12:
    return "uint32";
  case 13:
    return "uint64";
  case 14:
    return "complex64";
  case 15:
    return "complex128";
  case 16:
    return "bfloat16";
  case 17:
    return "float8e4m3fn";
  case 18:
    return "float8e4m3fnuz";
  case 19:
    return "float8e5m2";
  case 20:
    return "float8e5m2fnuz";
  case 21:
    return "uint4";
  case 22:
    return "int4";
  default:
    return "unknown";
  }
}

size_t tessera_dtype_size(int32_t dtype) {
  switch (dtype) {
  case TESSERA_DTYPE_UINT8:
  case TESSERA_DTYPE_INT8:
  case TESSERA_DTYPE_BOOL:
    return 1;
  case TESSERA_DTYPE_UINT16:
  case TESSERA_DTYPE_INT16:
  case TESSERA_DTYPE_FLOAT16:
  case TESSERA_DTYPE_BFLOAT16:
    return 2;
  case TESSERA_DTYPE_FLOAT:
  case TESSERA_DTYPE_INT32:
  case TESSERA_DTYPE_UINT32:
    return 4;
  case TESSERA_DTYPE_INT64:
  case TESSERA_DTYPE_DOUBLE:
  case TESSERA_DTYPE_UINT64:
    return 8;
  default:
    return 0;
  }
}

uint32_t tessera_runtime_abi_version(void) { return TESSERA_ABI_VERSION; }

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {
std::string dtypeString(int32_t dtype) {
  std::string name = tessera_dtype_name(dtype);
  if (name == "unknown")
    name += " (" + std::to_string(dtype) + ")";
  return name;
}

std::string formatDims(const int64_t *dims, int64_t rank) {
  std::string s = "[";
  for (int64_t i = 0; i < rank; ++i) {
    if (i)
      s += ", ";
    s += dims ? std::to_string(dims[i]) : "?";
  }
  return s + "]";
}

std::string formatIndex(const std::vector<int64_t> &index) {
  return formatDims(index.data(), static_cast<int64_t>(index.size()));
}

bool isIntegerDType(int32_t dtype) {
  switch (dtype) {
  case TESSERA_DTYPE_UINT8:
  case TESSERA_DTYPE_INT8:
  case TESSERA_DTYPE_UINT16:
  case TESSERA_DTYPE_INT16:
  case TESSERA_DTYPE_INT32:
  case TESSERA_DTYPE_INT64:
  case TESSERA_DTYPE_UINT32:
  case TESSERA_DTYPE_UINT64:
    return true;
  default:
    return false;
  }
}

/// Element count of a shape with known, non-negative dims; false on
/// overflow (of the byte size too).
bool countElements(const int64_t *dims, int32_t rank, size_t elemSize,
                   int64_t &elements) {
  int64_t n = 1;
  for (int32_t i = 0; i < rank; ++i)
    if (__builtin_mul_overflow(n, dims[i], &n))
      return false;
  int64_t bytes;
  if (__builtin_mul_overflow(n, static_cast<int64_t>(elemSize), &bytes))
    return false;
  elements = n;
  return true;
}

std::string nameList(const TesseraTensorDesc *descs, uint32_t count) {
  std::string s;
  for (uint32_t i = 0; i < count; ++i) {
    if (i)
      s += ", ";
    s += descs[i].name;
  }
  return s.empty() ? "none" : s;
}

std::string plural(size_t n, const char *word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}
} // namespace

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

namespace {
/// An external weights file mapped read-only. Shared by every Library that
/// binds it; unmapped when the last goes away.
struct WeightsMapping {
  void *base = nullptr;
  size_t size = 0;

  ~WeightsMapping() {
    if (base)
      munmap(base, size);
  }
};

/// An open model library. Shared by the model handle and its sessions; the
/// library is closed when the last of them goes away.
struct Library {
  void *handle = nullptr;
  const TesseraModelDesc *desc = nullptr;
  std::string path;
  std::shared_ptr<WeightsMapping> weights;

  ~Library() {
    if (handle)
      dlclose(handle);
  }
};

/// Weights bound per descriptor. dlopen returns the same library (and the
/// same weight base pointer inside it) when a model is loaded twice, so the
/// second load reuses the first's mapping instead of rebinding.
std::mutex gWeightsMutex;
std::map<const TesseraModelDesc *, std::weak_ptr<WeightsMapping>> gBoundWeights;
} // namespace

struct TesseraModel {
  std::shared_ptr<const Library> lib;
};

namespace {
/// Checks one input or output of a descriptor; returns an error or "".
std::string checkTensorDesc(const TesseraTensorDesc &t, const char *kind,
                            uint32_t index) {
  std::string what = std::string(kind) + " " + std::to_string(index);
  if (!t.name || !*t.name)
    return what + " has no name";
  what = std::string(kind) + " '" + t.name + "'";
  if (tessera_dtype_size(t.dtype) == 0)
    return what + " has unsupported dtype " + dtypeString(t.dtype);
  if (t.rank < 0)
    return what + " has negative rank " + std::to_string(t.rank);
  if (t.rank > 0 && !t.dims)
    return what + " has rank " + std::to_string(t.rank) + " but no dims";
  for (int32_t d = 0; d < t.rank; ++d)
    if (t.dims[d] < -1)
      return what + " has invalid dimension " + std::to_string(d) + " = " +
             std::to_string(t.dims[d]);
  if (t.has_index_range) {
    if (!isIntegerDType(t.dtype))
      return what + " has an index range but dtype " + dtypeString(t.dtype);
    if (t.index_min > t.index_max)
      return what + " has an empty index range [" +
             std::to_string(t.index_min) + ", " + std::to_string(t.index_max) +
             "]";
  }
  return "";
}

/// Checks that names are unique within one list.
std::string checkUniqueNames(const TesseraTensorDesc *descs, uint32_t count,
                             const char *kind) {
  for (uint32_t i = 0; i < count; ++i)
    for (uint32_t j = 0; j < i; ++j)
      if (std::strcmp(descs[i].name, descs[j].name) == 0)
        return std::string("two ") + kind + "s are named '" + descs[i].name +
               "'";
  return "";
}

/// Checks the ABI v4 dim table of one input or output; returns an error or "".
std::string checkDimInfo(const TesseraTensorDesc &t,
                         const TesseraDimInfo *const *table, uint32_t index,
                         const char *kind) {
  std::string what = std::string(kind) + " '" + t.name + "'";
  const TesseraDimInfo *dims = table ? table[index] : nullptr;
  if (t.rank > 0 && !dims)
    return what + " has no dimension table";
  for (int32_t d = 0; d < t.rank; ++d) {
    const TesseraDimInfo &info = dims[d];
    std::string dim = what + " dimension " + std::to_string(d);
    if (t.dims[d] >= 0 && (info.min != t.dims[d] || info.max != t.dims[d]))
      return dim + " is static (" + std::to_string(t.dims[d]) +
             ") but its bounds are [" + std::to_string(info.min) + ", " +
             std::to_string(info.max) + "]";
    if (t.dims[d] < 0 && (info.min < 0 || info.max < info.min))
      return dim + " has invalid bounds [" + std::to_string(info.min) + ", " +
             std::to_string(info.max) + "]";
  }
  return "";
}

/// Checks the ABI v5 past/present pairs; returns an error or "".
std::string checkCachePairs(const TesseraModelDesc &d) {
  if (d.num_cache_pairs && !d.cache_pairs)
    return "it declares " + plural(d.num_cache_pairs, "cache pair") +
           " but the pair table is NULL";
  for (uint32_t i = 0; i < d.num_cache_pairs; ++i) {
    const TesseraCachePair &p = d.cache_pairs[i];
    std::string what = "cache pair " + std::to_string(i);
    if (p.input >= d.num_inputs || p.output >= d.num_outputs)
      return what + " names a tensor that does not exist";
    const TesseraTensorDesc &in = d.inputs[p.input], &out = d.outputs[p.output];
    if (in.dtype != out.dtype || in.rank != out.rank)
      return what + " pairs input '" + in.name + "' with output '" +
             out.name + "' of another dtype or rank";
    if (p.axis < 0 || p.axis >= in.rank)
      return what + " has axis " + std::to_string(p.axis) + " out of range";
    if ((p.flags & TESSERA_CACHE_IN_PLACE) && !d.run_strided)
      return what + " is in place but run_strided is NULL";
  }
  return "";
}

std::string checkDescriptor(const TesseraModelDesc &d) {
  if (d.num_inputs && !d.inputs)
    return "it declares " + plural(d.num_inputs, "input") +
           " but the input table is NULL";
  if (d.num_outputs && !d.outputs)
    return "it declares " + plural(d.num_outputs, "output") +
           " but the output table is NULL";
  bool v4 = d.abi_version >= 4;
  if (!v4 && !d.entry)
    return "its entry function is NULL";
  if (v4 && (!d.run || !d.output_dims))
    return "its run or output_dims function is NULL";
  for (uint32_t i = 0; i < d.num_inputs; ++i)
    if (std::string e = checkTensorDesc(d.inputs[i], "input", i); !e.empty())
      return e;
  for (uint32_t i = 0; i < d.num_outputs; ++i) {
    if (std::string e = checkTensorDesc(d.outputs[i], "output", i); !e.empty())
      return e;
  }
  if (std::string e = checkUniqueNames(d.inputs, d.num_inputs, "input");
      !e.empty())
    return e;
  if (std::string e = checkUniqueNames(d.outputs, d.num_outputs, "output");
      !e.empty())
    return e;
  if (!v4)
    return "";
  for (uint32_t i = 0; i < d.num_inputs; ++i)
    if (std::string e = checkDimInfo(d.inputs[i], d.input_dim_info, i, "input");
        !e.empty())
      return e;
  for (uint32_t i = 0; i < d.num_outputs; ++i)
    if (std::string e =
            checkDimInfo(d.outputs[i], d.output_dim_info, i, "output");
        !e.empty())
      return e;
  return d.abi_version >= 5 ? checkCachePairs(d) : "";
}

/// Checks required_cpu_features; returns an error or "".
std::string checkCpuFeatures(const TesseraModelDesc &d,
                             const std::string &path) {
  if (!d.required_cpu_features)
    return "";
  std::vector<std::string> unknown, missing;
  const std::string all = d.required_cpu_features;
  size_t start = 0;
  while (start <= all.size()) {
    size_t comma = all.find(',', start);
    if (comma == std::string::npos)
      comma = all.size();
    std::string name = all.substr(start, comma - start);
    size_t b = name.find_first_not_of(" \t");
    size_t e = name.find_last_not_of(" \t");
    name = b == std::string::npos ? "" : name.substr(b, e - b + 1);
    start = comma + 1;
    if (name.empty())
      continue;
    switch (checkCpuFeature(name)) {
    case CpuFeatureSupport::Supported:
      break;
    case CpuFeatureSupport::Missing:
      missing.push_back(name);
      break;
    case CpuFeatureSupport::Unknown:
      unknown.push_back(name);
      break;
    }
  }
  auto join = [](const std::vector<std::string> &v) {
    std::string s;
    for (const std::string &x : v)
      s += (s.empty() ? "'" : ", '") + x + "'";
    return s;
  };
  std::string target =
      d.target_cpu && *d.target_cpu
          ? std::string(" (it was compiled for '") + d.target_cpu + "')"
          : "";
  if (!unknown.empty())
    return "model '" + path + "' requires CPU " +
           (unknown.size() == 1 ? "feature " : "features ") + join(unknown) +
           " that this runtime does not know";
  if (!missing.empty())
    return "model '" + path + "' requires CPU " +
           (missing.size() == 1 ? "feature " : "features ") + join(missing) +
           " that this CPU does not have" + target;
  return "";
}

std::string hex(uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

/// The external weights of a descriptor (ABI v2 and later), or NULL.
const TesseraExternalWeights *externalWeights(const TesseraModelDesc &d) {
  return d.abi_version >= 2 ? d.external_weights : nullptr;
}

/// Maps the weights file at `path`, checks it against `ext` and binds it.
/// Never reads past the end of the file: sizes are checked before the header
/// and the data are read.
TesseraStatus *mapWeights(const TesseraExternalWeights &ext,
                          const std::string &path, const std::string &model,
                          std::shared_ptr<WeightsMapping> &out) {
  auto fail = [&](const std::string &why) {
    return makeStatus(TESSERA_ERROR_WEIGHTS, "model '" + model +
                                                 "': weights file '" + path +
                                                 "' " + why);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(std::string("cannot be opened: ") + std::strerror(errno) +
                " (tessera-compile --external-weights writes it beside the "
                "library; keep the two together)");
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return fail(std::string("cannot be read: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return fail("is not a regular file");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  TesseraWeightsFileHeader header;
  static_assert(sizeof(header) == TESSERA_WEIGHTS_HEADER_SIZE,
                "weights header layout");
  if (size < sizeof(header))
    return fail("is truncated: it has " + plural(size, "byte") +
                ", less than its header");
  if (::pread(fd, &header, sizeof(header), 0) !=
      static_cast<ssize_t>(sizeof(header)))
    return fail(std::string("cannot be read: ") + std::strerror(errno));
  if (std::memcmp(header.magic, TESSERA_WEIGHTS_MAGIC,
                  TESSERA_WEIGHTS_MAGIC_SIZE) != 0)
    return fail("is not a Tessera weights file (bad magic)");
  if (header.format_version != TESSERA_WEIGHTS_FORMAT_VERSION ||
      header.format_version != ext.format_version)
    return fail("has format version " + std::to_string(header.format_version) +
                ", but the model expects version " +
                std::to_string(ext.format_version) +
                " and this runtime reads version " +
                std::to_string(TESSERA_WEIGHTS_FORMAT_VERSION));
  if (header.header_size != TESSERA_WEIGHTS_HEADER_SIZE ||
      header.data_offset != TESSERA_WEIGHTS_HEADER_SIZE)
    return fail("has a malformed header");
  if (header.checksum != ext.checksum || header.data_size != ext.data_size)
    return fail(
        "belongs to another model: it holds " +
        plural(header.data_size, "byte") + " of weights with checksum " +
        hex(header.checksum) + ", the model was compiled with " +
        plural(ext.data_size, "byte") + " and checksum " + hex(ext.checksum));
  if (size != ext.file_size || size - header.data_offset != header.data_size)
    return fail("has " + plural(size, "byte") + ", expected " +
                std::to_string(ext.file_size) +
                (size < ext.file_size ? " (truncated)" : ""));
  void *base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (base == MAP_FAILED)
    return fail(std::string("cannot be mapped: ") + std::strerror(errno));
  auto mapping = std::make_shared<WeightsMapping>();
  mapping->base = base;
  mapping->size = size;
  const char *data = static_cast<const char *>(base) + header.data_offset;
  uint64_t sum = tessera_weights_checksum(data, header.data_size);
  if (sum != ext.checksum)
    return fail("is corrupted: its data has checksum " + hex(sum) +
                ", expected " + hex(ext.checksum));
  out = std::move(mapping);
  return nullptr;
}

/// Maps and binds the external weights of `lib`, if it has any. `dir` is the
/// directory the descriptor's file name is relative to; `weightsPath`, when
/// not empty, overrides the file.
TesseraStatus *bindWeights(Library &lib, const std::string &dir,
                           const std::string &weightsPath,
                           const std::string &model) {
  const TesseraExternalWeights *ext = externalWeights(*lib.desc);
  if (!ext)
    return nullptr;
  std::lock_guard<std::mutex> lock(gWeightsMutex);
  if (auto bound = gBoundWeights[lib.desc].lock()) {
    lib.weights = std::move(bound);
    return nullptr;
  }
  std::string path = weightsPath;
  if (path.empty())
    path = (dir.empty() ? std::string(".") : dir) + "/" + ext->file_name;
  std::shared_ptr<WeightsMapping> mapping;
  if (TesseraStatus *st = mapWeights(*ext, path, model, mapping))
    return st;
  ext->bind(static_cast<const char *>(mapping->base) +
            TESSERA_WEIGHTS_HEADER_SIZE);
  gBoundWeights[lib.desc] = mapping;
  lib.weights = std::move(mapping);
  return nullptr;
}

/// Checks the external weights record of a v2 descriptor; returns an error
/// or "".
std::string checkExternalWeights(const TesseraModelDesc &d) {
  const TesseraExternalWeights *ext = externalWeights(d);
  if (!ext)
    return "";
  if (!ext->file_name || !*ext->file_name)
    return "its external weights have no file name";
  if (std::strchr(ext->file_name, '/'))
    return std::string("its external weights file name '") + ext->file_name +
           "' contains '/'";
  if (!ext->bind)
    return "its external weights have no bind function";
  if (ext->file_size != TESSERA_WEIGHTS_HEADER_SIZE + ext->data_size)
    return "its external weights sizes disagree";
  return "";
}

/// The directory part of a path ("" for a bare file name).
std::string dirName(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// The checks every model goes through, however it was found: ABI version,
/// a well-formed descriptor, and the CPU features it was compiled for; then
/// the external weights are mapped from `dir` (or `weightsPath`) and bound.
TesseraStatus *checkAndWrap(std::shared_ptr<Library> lib, const std::string &p,
                            TesseraModel **out, const std::string &dir,
                            const std::string &weightsPath = "") {
  // The version comes first: with another version the rest of the layout
  // may differ.
  if (lib->desc->abi_version < TESSERA_ABI_MIN_VERSION ||
      lib->desc->abi_version > TESSERA_ABI_VERSION)
    return makeStatus(TESSERA_ERROR_ABI_VERSION,
                      "model '" + p + "' uses Tessera ABI version " +
                          std::to_string(lib->desc->abi_version) +
                          ", but this runtime supports versions " +
                          std::to_string(TESSERA_ABI_MIN_VERSION) + " to " +
                          std::to_string(TESSERA_ABI_VERSION));
  if (std::string e = checkDescriptor(*lib->desc); !e.empty())
    return makeStatus(TESSERA_ERROR_LOAD,
                      "model '" + p + "' has a malformed descriptor: " + e);
  if (std::string e = checkExternalWeights(*lib->desc); !e.empty())
    return makeStatus(TESSERA_ERROR_LOAD,
                      "model '" + p + "' has a malformed descriptor: " + e);
  if (std::string e = checkCpuFeatures(*lib->desc, p); !e.empty())
    return makeStatus(TESSERA_ERROR_CPU_FEATURE, e);
  if (TesseraStatus *st = bindWeights(*lib, dir, weightsPath, p))
    return st;

  *out = new TesseraModel{std::move(lib)};
  return nullptr;
}

TesseraStatus *loadModel(const char *path, TesseraModel **out) {
  if (!out)
    return invalidArgument("tessera_model_load: out_model is NULL");
  *out = nullptr;
  if (!path)
    return invalidArgument("tessera_model_load: path is NULL");
  std::string p = path;

  struct stat st;
  if (::stat(path, &st) != 0)
    return makeStatus(TESSERA_ERROR_LOAD,
                      "cannot open model '" + p + "': " + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    return makeStatus(TESSERA_ERROR_LOAD,
                      "cannot open model '" + p + "': it is a directory");

  // dlopen trusts the file's headers (a truncated library is a SIGBUS in the
  // loader) and runs a foreign library's constructors: check it first.
  ElfProblem elf = checkElfFile(p, TESSERA_MODEL_SYMBOL);
  if (elf.kind == ElfProblem::NoSymbol)
    return makeStatus(TESSERA_ERROR_LOAD,
                      "'" + p + "' is not a Tessera model: " + elf.message);
  if (elf.kind != ElfProblem::None)
    return makeStatus(TESSERA_ERROR_LOAD,
                      "cannot load model '" + p +
                          "': not a loadable shared library (" + elf.message +
                          ")");

  // Without a slash dlopen would search the library path instead.
  std::string dlPath = p.find('/') == std::string::npos ? "./" + p : p;
  auto lib = std::make_shared<Library>();
  lib->path = p;
  lib->handle = dlopen(dlPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib->handle) {
    const char *err = dlerror();
    return makeStatus(TESSERA_ERROR_LOAD,
                      "cannot load model '" + p +
                          "': not a loadable shared library (" +
                          (err ? err : "unknown dlopen error") + ")");
  }
  dlerror();
  void *sym = dlsym(lib->handle, TESSERA_MODEL_SYMBOL);
  if (!sym)
    return makeStatus(TESSERA_ERROR_LOAD,
                      "'" + p +
                          "' is not a Tessera model: it does not export '" +
                          TESSERA_MODEL_SYMBOL + "'");
  lib->desc = static_cast<const TesseraModelDesc *>(sym);
  // External weights live beside the library, whatever its name now; when
  // the path is a symbolic link, beside the file it points to.
  std::string dir = dirName(p);
  if (char *real = ::realpath(path, nullptr)) {
    dir = dirName(real);
    std::free(real);
  }
  return checkAndWrap(std::move(lib), p, out, dir);
}

/// The directory of the object (executable or library) that holds `desc`.
std::string directoryOfObject(const void *desc) {
  Dl_info info;
  struct link_map *map = nullptr;
  if (dladdr1(desc, &info, reinterpret_cast<void **>(&map), RTLD_DL_LINKMAP) &&
      map && map->l_name && std::strchr(map->l_name, '/'))
    return dirName(map->l_name);
  // The main program has an empty name in the link map.
  std::vector<char> buf(4096);
  ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0)
    return "";
  return dirName(std::string(buf.data(), static_cast<size_t>(n)));
}

TesseraStatus *modelFromDescriptor(const TesseraModelDesc *desc,
                                   const char *weightsPath,
                                   TesseraModel **out) {
  if (!out)
    return invalidArgument("tessera_model_from_descriptor: out_model is NULL");
  *out = nullptr;
  if (!desc)
    return invalidArgument("tessera_model_from_descriptor: desc is NULL");
  auto lib = std::make_shared<Library>();
  lib->path = "<embedded model>";
  lib->desc = desc;
  std::string path = lib->path;
  std::string explicitPath = weightsPath ? weightsPath : "";
  std::string dir;
  if (explicitPath.empty() && desc->abi_version >= 2 &&
      desc->abi_version <= TESSERA_ABI_VERSION && desc->external_weights)
    dir = directoryOfObject(desc);
  return checkAndWrap(std::move(lib), path, out, dir, explicitPath);
}
} // namespace

TesseraStatus *tessera_model_load(const char *path, TesseraModel **out_model) {
  return guarded([&] { return loadModel(path, out_model); });
}

TesseraStatus *tessera_model_from_descriptor(const TesseraModelDesc *desc,
                                             TesseraModel **out_model) {
  return guarded([&] { return modelFromDescriptor(desc, nullptr, out_model); });
}

TesseraStatus *
tessera_model_from_descriptor_with_weights(const TesseraModelDesc *desc,
                                           const char *weights_path,
                                           TesseraModel **out_model) {
  return guarded(
      [&] { return modelFromDescriptor(desc, weights_path, out_model); });
}

void tessera_model_unload(TesseraModel *model) { delete model; }

uint32_t tessera_model_num_inputs(const TesseraModel *model) {
  return model ? model->lib->desc->num_inputs : 0;
}

uint32_t tessera_model_num_outputs(const TesseraModel *model) {
  return model ? model->lib->desc->num_outputs : 0;
}

const TesseraTensorDesc *tessera_model_input(const TesseraModel *model,
                                             uint32_t index) {
  if (!model || index >= model->lib->desc->num_inputs)
    return nullptr;
  return &model->lib->desc->inputs[index];
}

const TesseraTensorDesc *tessera_model_output(const TesseraModel *model,
                                              uint32_t index) {
  if (!model || index >= model->lib->desc->num_outputs)
    return nullptr;
  return &model->lib->desc->outputs[index];
}

namespace {
int32_t findByName(const TesseraTensorDesc *descs, uint32_t count,
                   const char *name) {
  if (!name)
    return -1;
  for (uint32_t i = 0; i < count; ++i)
    if (std::strcmp(descs[i].name, name) == 0)
      return static_cast<int32_t>(i);
  return -1;
}

const char *orEmpty(const char *s) { return s ? s : ""; }
} // namespace

int32_t tessera_model_find_input(const TesseraModel *model, const char *name) {
  if (!model)
    return -1;
  const TesseraModelDesc *d = model->lib->desc;
  return findByName(d->inputs, d->num_inputs, name);
}

int32_t tessera_model_find_output(const TesseraModel *model, const char *name) {
  if (!model)
    return -1;
  const TesseraModelDesc *d = model->lib->desc;
  return findByName(d->outputs, d->num_outputs, name);
}

const char *tessera_model_compiler_version(const TesseraModel *m) {
  return m ? orEmpty(m->lib->desc->compiler_version) : "";
}

const char *tessera_model_target_cpu(const TesseraModel *m) {
  return m ? orEmpty(m->lib->desc->target_cpu) : "";
}

const char *tessera_model_required_cpu_features(const TesseraModel *m) {
  return m ? orEmpty(m->lib->desc->required_cpu_features) : "";
}

//===----------------------------------------------------------------------===//
// Sessions
//===----------------------------------------------------------------------===//

namespace {
/// The buffers a session hands to generated code (TesseraExecContext::alloc).
/// Runs of one shape ask for the same sizes: freed blocks are kept on a free
/// list keyed by (size class, alignment) and handed out again by the next
/// request of that key, which spares the page faults of fresh mmap'ed memory
/// on every run. Sizes are rounded up to classes a quarter octave apart (at
/// most 25% more), so the runs of a decode loop, whose buffers grow by a
/// position per step, keep reusing the same blocks, and a session holds
/// blocks of few sizes. Nothing is returned to the system before the session
/// is destroyed, so a session holds, for each key, as many blocks as one run
/// ever had alive at once. Thread-safe: pool workers may allocate while the
/// entry's thread does.
class BlockCache {
public:
  static constexpr uint64_t kMinAlignment = 64;

  BlockCache() = default;
  BlockCache(const BlockCache &) = delete;
  BlockCache &operator=(const BlockCache &) = delete;
  ~BlockCache() {
    for (auto &entry : freeLists_)
      for (void *p : entry.second)
        std::free(p);
    for (auto &entry : live_)
      std::free(entry.first);
  }

  /// The size a request of `size` bytes gets: a multiple of 64 up to 4 KiB,
  /// above that the next of 4, 5, 6 or 7 times a power of two (0 when it
  /// would overflow).
  static uint64_t sizeClass(uint64_t size) {
    if (size <= 4096)
      return std::max<uint64_t>((size + 63) & ~uint64_t(63), 64);
    int shift = 63 - __builtin_clzll(size) - 2; // size / 2^shift in [4, 8)
    uint64_t step = uint64_t(1) << shift;
    if (size > UINT64_MAX - (step - 1))
      return 0;
    return (size + step - 1) & ~(step - 1);
  }

  void *allocate(uint64_t size, uint64_t alignment) noexcept {
    if (alignment & (alignment - 1))
      return nullptr; // not a power of two
    alignment = std::max(alignment, kMinAlignment);
    size = sizeClass(size);
    if (size == 0)
      return nullptr;
    Key key{size, alignment};
    try {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = freeLists_.find(key);
        if (it != freeLists_.end() && !it->second.empty()) {
          void *p = it->second.back();
          it->second.pop_back();
          live_.emplace(p, key);
          return p;
        }
      }
      // aligned_alloc wants a multiple of the alignment; 0 bytes still get
      // a distinct block.
      uint64_t bytes = std::max<uint64_t>(size, 1);
      if (bytes > UINT64_MAX - (alignment - 1))
        return nullptr;
      bytes = (bytes + alignment - 1) & ~(alignment - 1);
      if (bytes > SIZE_MAX)
        return nullptr;
      void *p = std::aligned_alloc(static_cast<size_t>(alignment),
                                   static_cast<size_t>(bytes));
      if (!p)
        return nullptr;
      try {
        std::lock_guard<std::mutex> lock(mutex_);
        live_.emplace(p, key);
      } catch (...) {
        std::free(p);
        return nullptr;
      }
      return p;
    } catch (...) {
      return nullptr;
    }
  }

  void release(void *p) noexcept {
    if (!p)
      return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(p);
    if (it == live_.end()) {
      // Like free() of a pointer malloc never returned: a bug in the caller
      // that would corrupt the cache if ignored.
      std::fprintf(stderr,
                   "tessera: the model freed a block %p that its "
                   "session did not allocate\n",
                   p);
      std::abort();
    }
    Key key = it->second;
    live_.erase(it);
    try {
      freeLists_[key].push_back(p);
    } catch (...) {
      std::free(p); // cannot cache it
    }
  }

private:
  using Key = std::pair<uint64_t, uint64_t>; // size, alignment
  std::mutex mutex_;
  std::map<Key, std::vector<void *>> freeLists_;
  std::unordered_map<void *, Key> live_;
};
} // namespace

namespace {
/// The context generated code runs with: the execution context it sees,
/// then the first error a run-time check of the code reported.
struct RunContext {
  TesseraExecContext ctx; // first: the code's ctx pointer is this struct's
  std::atomic<const char *> error{nullptr};
};
static_assert(std::is_standard_layout_v<RunContext>);
} // namespace

struct TesseraSession {
  std::shared_ptr<const Library> lib;
  // Declared before the pool: the workers are gone before the blocks are.
  BlockCache blocks;
  std::unique_ptr<ThreadPool> pool;
  RunContext run;
  // Runs on one session take turns: the pool runs one job at a time.
  std::mutex runMutex;
};

namespace {
constexpr int32_t kMaxThreads = 1024;

// ctx->runtime_private is the session.
void parallelForThunk(const TesseraExecContext *ctx, int64_t n,
                      TesseraParallelBody body, void *closure) noexcept {
  if (!ctx || !ctx->runtime_private) {
    if (n > 0 && body)
      body(closure, 0, n);
    return;
  }
  static_cast<TesseraSession *>(ctx->runtime_private)
      ->pool->parallelFor(n, body, closure);
}

void *allocThunk(const TesseraExecContext *ctx, uint64_t size,
                 uint64_t alignment) noexcept {
  if (!ctx || !ctx->runtime_private)
    return nullptr;
  return static_cast<TesseraSession *>(ctx->runtime_private)
      ->blocks.allocate(size, alignment);
}

void freeThunk(const TesseraExecContext *ctx, void *p) noexcept {
  if (!p)
    return;
  if (!ctx || !ctx->runtime_private) {
    std::fprintf(stderr, "tessera: free called without a session\n");
    std::abort();
  }
  static_cast<TesseraSession *>(ctx->runtime_private)->blocks.release(p);
}

void reportErrorThunk(const TesseraExecContext *ctx,
                      const char *message) noexcept {
  if (!ctx)
    return;
  // ctx is the first member of a RunContext (the only contexts we hand out).
  auto *run = reinterpret_cast<RunContext *>(
      const_cast<TesseraExecContext *>(ctx));
  const char *none = nullptr;
  run->error.compare_exchange_strong(none, message ? message : "unknown");
}

/// Fills every field of `ctx`, whatever the model's version (older
/// libraries never read the newer ones); abi_version reports the model's.
void initContext(TesseraExecContext &ctx, uint32_t abiVersion,
                 int32_t numThreads, TesseraSession *session) {
  ctx.abi_version = abiVersion;
  ctx.num_threads = numThreads;
  ctx.parallel_for = parallelForThunk;
  ctx.runtime_private = session;
  ctx.alloc = allocThunk;
  ctx.free = freeThunk;
  ctx.report_error = reportErrorThunk;
}

TesseraStatus *createSession(const TesseraModel *model, int32_t numThreads,
                             TesseraSession **out) {
  if (!out)
    return invalidArgument("tessera_session_create: out is NULL");
  *out = nullptr;
  if (!model)
    return invalidArgument("tessera_session_create: model is NULL");
  if (numThreads < 0 || numThreads > kMaxThreads)
    return invalidArgument("thread count " + std::to_string(numThreads) +
                           " is out of range: expected 0 (all cores) to " +
                           std::to_string(kMaxThreads));
  if (numThreads == 0)
    numThreads = static_cast<int32_t>(
        std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(),
                                        static_cast<unsigned>(kMaxThreads))));

  auto session = std::make_unique<TesseraSession>();
  session->lib = model->lib;
  try {
    session->pool = std::make_unique<ThreadPool>(numThreads);
  } catch (const std::system_error &e) {
    return makeStatus(TESSERA_ERROR_INTERNAL, "cannot start " +
                                                  std::to_string(numThreads) +
                                                  " threads: " + e.what());
  }
  initContext(session->run.ctx, model->lib->desc->abi_version,
              session->pool->numThreads(), session.get());
  *out = session.release();
  return nullptr;
}
} // namespace

TesseraStatus *tessera_session_create(const TesseraModel *model,
                                      int32_t num_threads,
                                      TesseraSession **out) {
  return guarded([&] { return createSession(model, num_threads, out); });
}

void tessera_session_destroy(TesseraSession *session) { delete session; }

int32_t tessera_session_num_threads(const TesseraSession *s) {
  return s ? s->run.ctx.num_threads : 0;
}

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

struct TesseraTensor {
  std::string name;
  int32_t dtype = 0;
  std::vector<int64_t> dims;
  int64_t numElements = 0;
  size_t byteSize = 0;
  void *data = nullptr;

  ~TesseraTensor() { std::free(data); }
};

void tessera_tensor_free(TesseraTensor *tensor) { delete tensor; }

const char *tessera_tensor_name(const TesseraTensor *t) {
  return t ? t->name.c_str() : "";
}

int32_t tessera_tensor_dtype(const TesseraTensor *t) {
  return t ? t->dtype : 0;
}

int32_t tessera_tensor_rank(const TesseraTensor *t) {
  return t ? static_cast<int32_t>(t->dims.size()) : 0;
}

const int64_t *tessera_tensor_dims(const TesseraTensor *t) {
  return t ? t->dims.data() : nullptr;
}

int64_t tessera_tensor_num_elements(const TesseraTensor *t) {
  return t ? t->numElements : 0;
}

size_t tessera_tensor_byte_size(const TesseraTensor *t) {
  return t ? t->byteSize : 0;
}

void *tessera_tensor_data(TesseraTensor *t) { return t ? t->data : nullptr; }

//===----------------------------------------------------------------------===//
// Running
//===----------------------------------------------------------------------===//

namespace {
/// The byte range of a bound buffer, for overlap checks.
struct Span {
  const char *kind;
  const char *name;
  uint32_t index; // of the input or output
  uintptr_t begin;
  uintptr_t end;
};

using tessera::runtime::RunLayout;

/// The alloc dims `layout` gives a tensor, or nullptr when it is dense.
const std::vector<int64_t> *allocDimsOf(const RunLayout *layout, bool output,
                                        uint32_t index) {
  if (!layout)
    return nullptr;
  const auto &all = output ? layout->outputAllocDims : layout->inputAllocDims;
  if (index >= all.size() || all[index].empty())
    return nullptr;
  return &all[index];
}

/// Bytes of the buffer a tensor of `dims` occupies: dense, or the start of
/// a buffer of alloc dims (which must cover dims).
TesseraStatus *bufferSize(const TesseraTensorDesc &d,
                          const std::vector<int64_t> &dims,
                          const std::vector<int64_t> *allocDims,
                          const char *kind, size_t &bytes);

/// The dims of every input and output of one run, and pointers to them in
/// the form the ABI v4 functions take.
struct Shapes {
  std::vector<std::vector<int64_t>> inputs, outputs;
  std::vector<const int64_t *> inputPtrs;
  std::vector<int64_t *> outputPtrs;
};

/// Size in bytes of a tensor of `dims` (all known).
TesseraStatus *byteSize(const TesseraTensorDesc &d,
                        const std::vector<int64_t> &dims, const char *kind,
                        size_t &bytes) {
  int64_t elements;
  size_t elemSize = tessera_dtype_size(d.dtype);
  if (!countElements(dims.data(), d.rank, elemSize, elements))
    return invalidArgument(std::string(kind) + " '" + d.name + "': shape " +
                           formatDims(dims.data(), d.rank) + " is too large");
  bytes = static_cast<size_t>(elements) * elemSize;
  return nullptr;
}

TesseraStatus *bufferSize(const TesseraTensorDesc &d,
                          const std::vector<int64_t> &dims,
                          const std::vector<int64_t> *allocDims,
                          const char *kind, size_t &bytes) {
  if (!allocDims)
    return byteSize(d, dims, kind, bytes);
  if (allocDims->size() != dims.size())
    return makeStatus(TESSERA_ERROR_INTERNAL,
                      std::string(kind) + " '" + d.name +
                          "': alloc dims have the wrong rank");
  for (size_t k = 0; k < dims.size(); ++k)
    if ((*allocDims)[k] < dims[k])
      return invalidArgument(std::string(kind) + " '" + d.name + "': shape " +
                             formatDims(dims.data(), d.rank) +
                             " does not fit its buffer " +
                             formatDims(allocDims->data(), d.rank));
  return byteSize(d, *allocDims, kind, bytes);
}

/// Checks a caller's dim k of input `d` against the descriptor.
TesseraStatus *checkInputDim(const TesseraModelDesc &desc, uint32_t pos,
                             const TesseraInput &in, int32_t k) {
  const TesseraTensorDesc &d = desc.inputs[pos];
  std::string what = "input '" + std::string(d.name) + "'";
  int64_t got = in.dims[k];
  if (d.dims[k] >= 0) {
    if (got == d.dims[k])
      return nullptr;
    return invalidArgument(what + ": dimension " + std::to_string(k) + " is " +
                           std::to_string(got) + ", expected " +
                           std::to_string(d.dims[k]) + " (expected shape " +
                           formatDims(d.dims, d.rank) + ", got " +
                           formatDims(in.dims, in.rank) + ")");
  }
  if (desc.abi_version < 4)
    return invalidArgument(
        what + ": dimension " + std::to_string(k) +
        " is dynamic in the model, and ABI versions before 4 cannot pass "
        "shapes to compiled code; compile the model with --shape to pin it");
  const TesseraDimInfo &info = desc.input_dim_info[pos][k];
  if (got >= info.min && got <= info.max)
    return nullptr;
  std::string name = info.name ? std::string(" (") + info.name + ")" : "";
  std::string supported =
      info.max == INT64_MAX
          ? std::to_string(info.min) + " or more"
          : std::to_string(info.min) + ".." + std::to_string(info.max);
  return invalidArgument(what + " dim " + std::to_string(k) + name + " is " +
                         std::to_string(got) + "; this model supports " +
                         supported);
}

/// Inputs whose dims share a name must agree.
TesseraStatus *checkNamedDims(const TesseraModelDesc &desc,
                              const Shapes &shapes) {
  if (desc.abi_version < 4)
    return nullptr;
  std::map<std::string, std::pair<uint32_t, int32_t>> first;
  for (uint32_t i = 0; i < desc.num_inputs; ++i)
    for (int32_t k = 0; k < desc.inputs[i].rank; ++k) {
      const char *name = desc.input_dim_info[i][k].name;
      if (!name || desc.inputs[i].dims[k] >= 0)
        continue;
      auto [it, inserted] = first.try_emplace(name, i, k);
      auto [j, l] = it->second;
      if (inserted || shapes.inputs[i][k] == shapes.inputs[j][l])
        continue;
      return invalidArgument(
          "input '" + std::string(desc.inputs[i].name) + "' dim " +
          std::to_string(k) + " (" + name + ") is " +
          std::to_string(shapes.inputs[i][k]) + ", but input '" +
          desc.inputs[j].name + "' dim " + std::to_string(l) + " (" + name +
          ") is " + std::to_string(shapes.inputs[j][l]));
    }
  return nullptr;
}

TesseraStatus *bindPosition(const char *name, size_t i,
                            const TesseraTensorDesc *descs, uint32_t count,
                            const char *kind, std::vector<bool> &bound,
                            uint32_t &pos) {
  if (name) {
    int32_t found = findByName(descs, count, name);
    if (found < 0)
      return invalidArgument(std::string("unknown ") + kind + " '" + name +
                             "' (" + kind + "s: " + nameList(descs, count) +
                             ")");
    pos = static_cast<uint32_t>(found);
  } else {
    pos = static_cast<uint32_t>(i);
  }
  if (bound[pos])
    return invalidArgument(std::string(kind) + " '" + descs[pos].name +
                           "' is given more than once");
  bound[pos] = true;
  return nullptr;
}

template <typename T>
TesseraStatus *checkRange(const TesseraTensorDesc &d, const int64_t *dims,
                          const void *data, int64_t count) {
  const T *values = static_cast<const T *>(data);
  for (int64_t i = 0; i < count; ++i) {
    T v = values[i];
    bool below, above;
    if constexpr (std::is_signed_v<T>) {
      below = static_cast<int64_t>(v) < d.index_min;
      above = static_cast<int64_t>(v) > d.index_max;
    } else {
      // index_max >= index_min, so a negative max excludes every value.
      below = d.index_min > 0 &&
              static_cast<uint64_t>(v) < static_cast<uint64_t>(d.index_min);
      above = d.index_max < 0 ||
              static_cast<uint64_t>(v) > static_cast<uint64_t>(d.index_max);
    }
    if (!below && !above)
      continue;
    std::vector<int64_t> index(d.rank);
    int64_t rest = i;
    for (int32_t k = d.rank - 1; k >= 0; --k) {
      index[k] = rest % dims[k];
      rest /= dims[k];
    }
    std::string value = std::is_signed_v<T>
                            ? std::to_string(static_cast<int64_t>(v))
                            : std::to_string(static_cast<uint64_t>(v));
    return invalidArgument("input '" + std::string(d.name) + "': value " +
                           value + " at index " + formatIndex(index) +
                           " is out of range [" + std::to_string(d.index_min) +
                           ", " + std::to_string(d.index_max) + "]");
  }
  return nullptr;
}

TesseraStatus *checkIndexRange(const TesseraTensorDesc &d, const int64_t *dims,
                               const void *data, int64_t count) {
  switch (d.dtype) {
  case TESSERA_DTYPE_INT8:
    return checkRange<int8_t>(d, dims, data, count);
  case TESSERA_DTYPE_UINT8:
    return checkRange<uint8_t>(d, dims, data, count);
  case TESSERA_DTYPE_INT16:
    return checkRange<int16_t>(d, dims, data, count);
  case TESSERA_DTYPE_UINT16:
    return checkRange<uint16_t>(d, dims, data, count);
  case TESSERA_DTYPE_INT32:
    return checkRange<int32_t>(d, dims, data, count);
  case TESSERA_DTYPE_UINT32:
    return checkRange<uint32_t>(d, dims, data, count);
  case TESSERA_DTYPE_INT64:
    return checkRange<int64_t>(d, dims, data, count);
  case TESSERA_DTYPE_UINT64:
    return checkRange<uint64_t>(d, dims, data, count);
  default:
    return nullptr; // rejected when the model was loaded
  }
}

TesseraStatus *checkPointer(const void *data, size_t bytes, size_t elemSize,
                            const char *kind, const char *name) {
  if (bytes == 0)
    return nullptr;
  if (!data)
    return invalidArgument(std::string(kind) + " '" + name +
                           "': data pointer is NULL");
  if (reinterpret_cast<uintptr_t>(data) % elemSize != 0)
    return invalidArgument(
        std::string(kind) + " '" + name + "': data pointer is not aligned to " +
        std::to_string(elemSize) + " bytes (its element size)");
  return nullptr;
}

/// Checks the caller's inputs against the descriptor and records their dims
/// in `shapes`; with `ptrs`, also their data (pointers, index ranges) and
/// fills ptrs (in model order). Without, data may be NULL (a dims query).
TesseraStatus *bindInputs(const TesseraModelDesc &desc,
                          const TesseraInput *inputs, size_t numInputs,
                          Shapes &shapes, std::vector<void *> *ptrs,
                          std::vector<Span> *spans,
                          const RunLayout *layout = nullptr) {
  if (numInputs != desc.num_inputs)
    return invalidArgument("expected " + plural(desc.num_inputs, "input") +
                           ", got " + std::to_string(numInputs));
  if (numInputs && !inputs)
    return invalidArgument("the input array is NULL");
  if (ptrs)
    ptrs->assign(desc.num_inputs, nullptr);
  shapes.inputs.assign(desc.num_inputs, {});
  std::vector<bool> bound(desc.num_inputs, false);
  for (size_t i = 0; i < numInputs; ++i) {
    const TesseraInput &in = inputs[i];
    uint32_t pos;
    if (TesseraStatus *s = bindPosition(in.name, i, desc.inputs,
                                        desc.num_inputs, "input", bound, pos))
      return s;
    const TesseraTensorDesc &d = desc.inputs[pos];
    std::string what = "input '" + std::string(d.name) + "'";
    if (in.dtype != d.dtype)
      return invalidArgument(what + ": expected dtype " + dtypeString(d.dtype) +
                             ", got " + dtypeString(in.dtype));
    if (in.rank != d.rank)
      return invalidArgument(
          what + ": expected rank " + std::to_string(d.rank) + " " +
          formatDims(d.dims, d.rank) + ", got rank " + std::to_string(in.rank));
    if (in.rank > 0 && !in.dims)
      return invalidArgument(what + ": dims is NULL for rank " +
                             std::to_string(in.rank));
    for (int32_t k = 0; k < d.rank; ++k)
      if (TesseraStatus *s = checkInputDim(desc, pos, in, k))
        return s;
    shapes.inputs[pos].assign(in.dims, in.dims + in.rank);
    if (!ptrs)
      continue;
    size_t bytes;
    if (TesseraStatus *s = byteSize(d, shapes.inputs[pos], "input", bytes))
      return s;
    size_t elemSize = tessera_dtype_size(d.dtype);
    if (TesseraStatus *s =
            checkPointer(in.data, bytes, elemSize, "input", d.name))
      return s;
    if (d.has_index_range)
      if (TesseraStatus *s =
              checkIndexRange(d, in.dims, in.data,
                              static_cast<int64_t>(bytes / elemSize)))
        return s;
    // The entry's signature is not const-qualified; compiled code only
    // reads its inputs.
    (*ptrs)[pos] = const_cast<void *>(in.data);
    if (TesseraStatus *s =
            bufferSize(d, shapes.inputs[pos], allocDimsOf(layout, false, pos),
                       "input", bytes))
      return s;
    uintptr_t begin = reinterpret_cast<uintptr_t>(in.data);
    if (bytes)
      spans->push_back({"input", d.name, pos, begin, begin + bytes});
  }
  return checkNamedDims(desc, shapes);
}

/// Computes every output's dims from the input dims in `shapes`: the
/// descriptor's for static shapes, else the library's output_dims (ABI v4),
/// whose shape checks may refuse the inputs.
TesseraStatus *computeOutputDims(const Library &lib, Shapes &shapes) {
  const TesseraModelDesc &desc = *lib.desc;
  shapes.outputs.assign(desc.num_outputs, {});
  for (uint32_t i = 0; i < desc.num_outputs; ++i)
    shapes.outputs[i].assign(desc.outputs[i].dims,
                             desc.outputs[i].dims + desc.outputs[i].rank);
  shapes.inputPtrs.clear();
  for (const std::vector<int64_t> &dims : shapes.inputs)
    shapes.inputPtrs.push_back(dims.data());
  shapes.outputPtrs.clear();
  for (std::vector<int64_t> &dims : shapes.outputs)
    shapes.outputPtrs.push_back(dims.data());
  if (desc.abi_version < 4) {
    for (uint32_t i = 0; i < desc.num_outputs; ++i)
      for (int32_t k = 0; k < desc.outputs[i].rank; ++k)
        if (desc.outputs[i].dims[k] < 0)
          return invalidArgument(
              std::string("output '") + desc.outputs[i].name +
              "': dimension " + std::to_string(k) +
              " is dynamic in the model, and ABI versions before 4 cannot "
              "pass shapes to compiled code; compile the model with --shape "
              "to pin it");
    return nullptr;
  }
  // A context without a session: the function neither allocates nor runs
  // parallel loops, and reports failed checks here.
  RunContext run;
  initContext(run.ctx, desc.abi_version, 1, nullptr);
  desc.output_dims(shapes.inputPtrs.data(), shapes.outputPtrs.data(),
                   &run.ctx);
  if (const char *error = run.error.load())
    return invalidArgument("model '" + lib.path + "' refuses these inputs: " +
                           error);
  for (uint32_t i = 0; i < desc.num_outputs; ++i)
    for (int32_t k = 0; k < desc.outputs[i].rank; ++k) {
      int64_t got = shapes.outputs[i][k], want = desc.outputs[i].dims[k];
      if (got < 0 || (want >= 0 && got != want))
        return makeStatus(TESSERA_ERROR_INTERNAL,
                          "model '" + lib.path + "' computed dimension " +
                              std::to_string(k) + " of output '" +
                              desc.outputs[i].name + "' as " +
                              std::to_string(got));
    }
  return nullptr;
}

/// Outputs must not overlap inputs or each other: compiled code assumes its
/// buffers do not alias.
TesseraStatus *checkOverlaps(const std::vector<Span> &spans,
                             size_t firstOutput, const RunLayout *layout) {
  auto shared = [&](const Span &out, const Span &in) {
    if (!layout || in.kind != std::string("input"))
      return false;
    for (auto [i, o] : layout->shared)
      if (i == in.index && o == out.index)
        return in.begin == out.begin;
    return false;
  };
  for (size_t i = firstOutput; i < spans.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (spans[i].begin < spans[j].end && spans[j].begin < spans[i].end &&
          !shared(spans[i], spans[j]))
        return invalidArgument(std::string("output '") + spans[i].name +
                               "' overlaps " + spans[j].kind + " '" +
                               spans[j].name + "'");
  return nullptr;
}

/// The alloc dims of every tensor for run_strided: the layout's, else the
/// tensor's own dims.
std::vector<const int64_t *>
allocDimPointers(const RunLayout &layout, bool output,
                 const std::vector<const int64_t *> &dims) {
  std::vector<const int64_t *> ptrs = dims;
  for (uint32_t i = 0; i < ptrs.size(); ++i)
    if (const std::vector<int64_t> *alloc = allocDimsOf(&layout, output, i))
      ptrs[i] = alloc->data();
  return ptrs;
}

TesseraStatus *callEntry(TesseraSession &session, const Shapes &shapes,
                         const std::vector<void *> &inputs,
                         const std::vector<void *> &outputs,
                         const RunLayout *layout = nullptr) {
  const TesseraModelDesc &desc = *session.lib->desc;
  bool strided = layout && (!layout->inputAllocDims.empty() ||
                            !layout->outputAllocDims.empty());
  if (strided && (desc.abi_version < 5 || !desc.run_strided))
    return makeStatus(TESSERA_ERROR_INTERNAL,
                      "model '" + session.lib->path +
                          "' has no run_strided entry (ABI v5)");
  int32_t rc;
  const char *error;
  {
    std::lock_guard<std::mutex> lock(session.runMutex);
    session.run.error = nullptr;
    if (strided) {
      std::vector<const int64_t *> outDims(shapes.outputPtrs.begin(),
                                           shapes.outputPtrs.end());
      std::vector<const int64_t *> inAlloc =
          allocDimPointers(*layout, false, shapes.inputPtrs);
      std::vector<const int64_t *> outAlloc =
          allocDimPointers(*layout, true, outDims);
      rc = desc.run_strided(inputs.data(), shapes.inputPtrs.data(),
                            inAlloc.data(), outputs.data(), outDims.data(),
                            outAlloc.data(), &session.run.ctx);
    } else if (desc.abi_version >= 4)
      rc = desc.run(inputs.data(), shapes.inputPtrs.data(), outputs.data(),
                    shapes.outputPtrs.data(), &session.run.ctx);
    else
      rc = desc.entry(inputs.data(), outputs.data(), &session.run.ctx);
    error = session.run.error.exchange(nullptr);
  }
  if (error)
    return invalidArgument("model '" + session.lib->path +
                           "' refuses these inputs: " + error);
  if (rc != 0)
    return makeStatus(TESSERA_ERROR_ENTRY,
                      "model '" + session.lib->path +
                          "' failed: its entry function returned error code " +
                          std::to_string(rc),
                      rc);
  return nullptr;
}

TesseraStatus *run(TesseraSession *session, const TesseraInput *inputs,
                   size_t numInputs, const TesseraOutputBuffer *outputs,
                   size_t numOutputs, const RunLayout *layout = nullptr) {
  if (!session)
    return invalidArgument("tessera_session_run: session is NULL");
  const TesseraModelDesc &desc = *session->lib->desc;
  std::vector<void *> inPtrs;
  std::vector<Span> spans;
  Shapes shapes;
  if (TesseraStatus *s = bindInputs(desc, inputs, numInputs, shapes, &inPtrs,
                                    &spans, layout))
    return s;
  if (TesseraStatus *s = computeOutputDims(*session->lib, shapes))
    return s;

  if (numOutputs != desc.num_outputs)
    return invalidArgument("expected " +
                           plural(desc.num_outputs, "output buffer") +
                           ", got " + std::to_string(numOutputs));
  if (numOutputs && !outputs)
    return invalidArgument("the output array is NULL");
  std::vector<void *> outPtrs(desc.num_outputs, nullptr);
  std::vector<bool> bound(desc.num_outputs, false);
  size_t firstOutput = spans.size();
  for (size_t i = 0; i < numOutputs; ++i) {
    const TesseraOutputBuffer &out = outputs[i];
    uint32_t pos;
    if (TesseraStatus *s = bindPosition(out.name, i, desc.outputs,
                                        desc.num_outputs, "output", bound, pos))
      return s;
    const TesseraTensorDesc &d = desc.outputs[pos];
    size_t bytes;
    if (TesseraStatus *s =
            bufferSize(d, shapes.outputs[pos], allocDimsOf(layout, true, pos),
                       "output", bytes))
      return s;
    if (out.byte_size < bytes)
      return invalidArgument(
          "output '" + std::string(d.name) + "': buffer has " +
          std::to_string(out.byte_size) + " bytes, expected at least " +
          std::to_string(bytes) + " (" + dtypeString(d.dtype) + " " +
          formatDims(shapes.outputs[pos].data(), d.rank) + ")");
    if (TesseraStatus *s = checkPointer(
            out.data, bytes, tessera_dtype_size(d.dtype), "output", d.name))
      return s;
    outPtrs[pos] = out.data;
    uintptr_t begin = reinterpret_cast<uintptr_t>(out.data);
    if (bytes)
      spans.push_back({"output", d.name, pos, begin, begin + bytes});
  }
  if (TesseraStatus *s = checkOverlaps(spans, firstOutput, layout))
    return s;
  return callEntry(*session, shapes, inPtrs, outPtrs, layout);
}

TesseraStatus *runAlloc(TesseraSession *session, const TesseraInput *inputs,
                        size_t numInputs, TesseraTensor **outTensors) {
  if (!outTensors)
    return invalidArgument("tessera_session_run_alloc: out_tensors is NULL");
  if (!session)
    return invalidArgument("tessera_session_run_alloc: session is NULL");
  const TesseraModelDesc &desc = *session->lib->desc;
  for (uint32_t i = 0; i < desc.num_outputs; ++i)
    outTensors[i] = nullptr;

  std::vector<void *> inPtrs;
  std::vector<Span> spans;
  Shapes shapes;
  if (TesseraStatus *s =
          bindInputs(desc, inputs, numInputs, shapes, &inPtrs, &spans))
    return s;
  if (TesseraStatus *s = computeOutputDims(*session->lib, shapes))
    return s;

  std::vector<std::unique_ptr<TesseraTensor>> tensors;
  std::vector<void *> outPtrs;
  for (uint32_t i = 0; i < desc.num_outputs; ++i) {
    TesseraTensor *raw;
    if (TesseraStatus *s = tessera::runtime::allocateTensor(
            desc.outputs[i], shapes.outputs[i], &raw))
      return s;
    std::unique_ptr<TesseraTensor> t(raw);
    outPtrs.push_back(t->data);
    tensors.push_back(std::move(t));
  }
  if (TesseraStatus *s = callEntry(*session, shapes, inPtrs, outPtrs))
    return s;
  for (uint32_t i = 0; i < desc.num_outputs; ++i)
    outTensors[i] = tensors[i].release();
  return nullptr;
}

TesseraStatus *outputDims(const Library &lib, const TesseraInput *inputs,
                          size_t numInputs, int64_t *const *outputDims) {
  const TesseraModelDesc &desc = *lib.desc;
  if (desc.num_outputs && !outputDims)
    return invalidArgument("tessera_model_output_dims: output_dims is NULL");
  for (uint32_t i = 0; i < desc.num_outputs; ++i)
    if (desc.outputs[i].rank > 0 && !outputDims[i])
      return invalidArgument("tessera_model_output_dims: output_dims[" +
                             std::to_string(i) + "] is NULL");
  Shapes shapes;
  if (TesseraStatus *s =
          bindInputs(desc, inputs, numInputs, shapes, nullptr, nullptr))
    return s;
  if (TesseraStatus *s = computeOutputDims(lib, shapes))
    return s;
  for (uint32_t i = 0; i < desc.num_outputs; ++i)
    std::copy(shapes.outputs[i].begin(), shapes.outputs[i].end(),
              outputDims[i]);
  return nullptr;
}
} // namespace

TesseraStatus *tessera_model_output_dims(const TesseraModel *model,
                                         const TesseraInput *inputs,
                                         size_t num_inputs,
                                         int64_t *const *output_dims) {
  return guarded([&]() -> TesseraStatus * {
    if (!model)
      return invalidArgument("tessera_model_output_dims: model is NULL");
    return outputDims(*model->lib, inputs, num_inputs, output_dims);
  });
}

//===----------------------------------------------------------------------===//
// Hooks for the other sources of the runtime (Internal.h)
//===----------------------------------------------------------------------===//

TesseraStatus *tessera::runtime::runWithLayout(
    TesseraSession *session, const TesseraInput *inputs, size_t numInputs,
    const TesseraOutputBuffer *outputs, size_t numOutputs,
    const RunLayout *layout) {
  return run(session, inputs, numInputs, outputs, numOutputs, layout);
}

TesseraStatus *tessera::runtime::sessionOutputDims(
    const TesseraSession *session, const TesseraInput *inputs,
    size_t numInputs, int64_t *const *dims) {
  return outputDims(*session->lib, inputs, numInputs, dims);
}

const TesseraModelDesc &
tessera::runtime::sessionDescriptor(const TesseraSession *session) {
  return *session->lib->desc;
}

const TesseraModelDesc &
tessera::runtime::modelDescriptor(const TesseraModel *model) {
  return *model->lib->desc;
}

const std::string &
tessera::runtime::sessionModelPath(const TesseraSession *session) {
  return session->lib->path;
}

TesseraStatus *tessera::runtime::allocateTensor(const TesseraTensorDesc &d,
                                                const std::vector<int64_t> &dims,
                                                TesseraTensor **out) {
  *out = nullptr;
  size_t bytes;
  if (TesseraStatus *s = byteSize(d, dims, "output", bytes))
    return s;
  auto t = std::make_unique<TesseraTensor>();
  t->name = d.name;
  t->dtype = d.dtype;
  t->dims = dims;
  t->numElements = static_cast<int64_t>(bytes / tessera_dtype_size(d.dtype));
  t->byteSize = bytes;
  // aligned_alloc wants a multiple of the alignment, and a real pointer
  // even for empty tensors.
  size_t capacity = (bytes + 63) / 64 * 64;
  t->data = std::aligned_alloc(64, capacity ? capacity : 64);
  if (!t->data)
    return makeStatus(TESSERA_ERROR_OUT_OF_MEMORY,
                      "out of memory allocating " + std::to_string(bytes) +
                          " bytes for output '" + d.name + "'");
  // Not zeroed: the model writes every element of its outputs, as it does
  // into a caller's buffers (zeroing GPT-2's 200 MB of prompt logits took a
  // tenth of its prefill).
  *out = t.release();
  return nullptr;
}

int32_t tessera_model_dim_info(const TesseraModel *model, int32_t is_output,
                               uint32_t index, int32_t dim, const char **name,
                               int64_t *min, int64_t *max) {
  if (!model)
    return 0;
  const TesseraModelDesc &desc = *model->lib->desc;
  uint32_t count = is_output ? desc.num_outputs : desc.num_inputs;
  if (index >= count)
    return 0;
  const TesseraTensorDesc &t = is_output ? desc.outputs[index]
                                         : desc.inputs[index];
  if (dim < 0 || dim >= t.rank)
    return 0;
  const char *n = "";
  int64_t lo = t.dims[dim], hi = t.dims[dim];
  if (desc.abi_version >= 4) {
    const TesseraDimInfo &info =
        (is_output ? desc.output_dim_info : desc.input_dim_info)[index][dim];
    n = info.name ? info.name : "";
    lo = info.min;
    hi = info.max;
  } else if (t.dims[dim] < 0) {
    lo = 0;
    hi = INT64_MAX;
  }
  if (name)
    *name = n;
  if (min)
    *min = lo;
  if (max)
    *max = hi;
  return 1;
}

TesseraStatus *tessera_session_run(TesseraSession *session,
                                   const TesseraInput *inputs,
                                   size_t num_inputs,
                                   const TesseraOutputBuffer *outputs,
                                   size_t num_outputs) {
  return guarded(
      [&] { return run(session, inputs, num_inputs, outputs, num_outputs); });
}

TesseraStatus *tessera_session_run_alloc(TesseraSession *session,
                                         const TesseraInput *inputs,
                                         size_t num_inputs,
                                         TesseraTensor **out_tensors) {
  return guarded(
      [&] { return runAlloc(session, inputs, num_inputs, out_tensors); });
}
