//===- tessera/runtime.hpp - C++ wrapper over the runtime C API -*- C++ -*-===//
//
// Part of Tessera. RAII owners for models, sessions and runtime-allocated
// tensors, header-only over runtime.h.
//
// Error handling: every call that can fail throws tessera::Error (a
// std::runtime_error carrying the status code and message of the C API);
// nothing else is thrown apart from std::bad_alloc. Accessors never throw.
// Thread safety is that of the C API: a Model may be shared across threads,
// a Session serialises its runs.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_RUNTIME_HPP
#define TESSERA_RUNTIME_HPP

#include "tessera/runtime.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tessera {

class Error : public std::runtime_error {
public:
  Error(TesseraStatusCode code, const std::string &message,
        int32_t entryCode = 0)
      : std::runtime_error(message), code_(code), entryCode_(entryCode) {}
  TesseraStatusCode code() const noexcept { return code_; }
  /// The model's return value for TESSERA_ERROR_ENTRY, else 0.
  int32_t entryCode() const noexcept { return entryCode_; }

private:
  TesseraStatusCode code_;
  int32_t entryCode_;
};

namespace detail {
/// Takes ownership of status and throws it as an Error if it is one.
inline void check(TesseraStatus *status) {
  if (!status)
    return;
  Error error(tessera_status_code(status), tessera_status_message(status),
              tessera_status_entry_code(status));
  tessera_status_free(status);
  throw error;
}
} // namespace detail

/// The ONNX dtype number of a C++ element type.
template <typename T> constexpr int32_t dtypeOf();
template <> constexpr int32_t dtypeOf<float>() { return TESSERA_DTYPE_FLOAT; }
template <> constexpr int32_t dtypeOf<double>() { return TESSERA_DTYPE_DOUBLE; }
template <> constexpr int32_t dtypeOf<int8_t>() { return TESSERA_DTYPE_INT8; }
template <> constexpr int32_t dtypeOf<uint8_t>() { return TESSERA_DTYPE_UINT8; }
template <> constexpr int32_t dtypeOf<int16_t>() { return TESSERA_DTYPE_INT16; }
template <> constexpr int32_t dtypeOf<uint16_t>() {
  return TESSERA_DTYPE_UINT16;
}
template <> constexpr int32_t dtypeOf<int32_t>() { return TESSERA_DTYPE_INT32; }
template <> constexpr int32_t dtypeOf<uint32_t>() {
  return TESSERA_DTYPE_UINT32;
}
template <> constexpr int32_t dtypeOf<int64_t>() { return TESSERA_DTYPE_INT64; }
template <> constexpr int32_t dtypeOf<uint64_t>() {
  return TESSERA_DTYPE_UINT64;
}
template <> constexpr int32_t dtypeOf<bool>() { return TESSERA_DTYPE_BOOL; }

/// The name (ONNX dim_param, or empty) and the supported sizes of a dim.
struct DimInfo {
  std::string name;
  int64_t min = 0, max = 0;
};

/// A copy of one input or output descriptor.
struct TensorInfo {
  std::string name;
  int32_t dtype = 0;
  std::vector<int64_t> dims; // -1 marks a dynamic dimension
  std::vector<DimInfo> dimInfo; // one per dim
  bool hasIndexRange = false;
  int64_t indexMin = 0;
  int64_t indexMax = 0;

  int32_t rank() const { return static_cast<int32_t>(dims.size()); }
  const char *dtypeName() const { return tessera_dtype_name(dtype); }

  static TensorInfo from(const TesseraTensorDesc &d) {
    TensorInfo info;
    info.name = d.name;
    info.dtype = d.dtype;
    info.dims.assign(d.dims, d.dims + d.rank);
    info.hasIndexRange = d.has_index_range != 0;
    info.indexMin = d.index_min;
    info.indexMax = d.index_max;
    return info;
  }
};

struct Input;

/// A past/present pair of a KV-cache decoder (tessera_model_cache_pairs):
/// input `input` is the cache before a step, output `output` after it, grown
/// along `axis`.
struct CachePair {
  uint32_t input = 0;
  uint32_t output = 0;
  int32_t axis = 0;
  bool inPlace = false; // TESSERA_CACHE_IN_PLACE

  static CachePair from(const TesseraCachePair &p) {
    return {p.input, p.output, p.axis, (p.flags & TESSERA_CACHE_IN_PLACE) != 0};
  }
};

class Model {
public:
  /// Loads a model library; throws Error on any failure.
  static Model load(const std::string &path) {
    TesseraModel *m = nullptr;
    detail::check(tessera_model_load(path.c_str(), &m));
    return Model(m);
  }

  /// A model linked into the program (tessera-compile --emit=exe). With
  /// external weights, weightsPath names their file (empty: beside the
  /// program).
  static Model fromDescriptor(const TesseraModelDesc *desc,
                              const std::string &weightsPath = "") {
    TesseraModel *m = nullptr;
    detail::check(tessera_model_from_descriptor_with_weights(
        desc, weightsPath.empty() ? nullptr : weightsPath.c_str(), &m));
    return Model(m);
  }

  Model(Model &&other) noexcept
      : model_(std::exchange(other.model_, nullptr)) {}
  Model &operator=(Model &&other) noexcept {
    std::swap(model_, other.model_);
    return *this;
  }
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;
  ~Model() { tessera_model_unload(model_); }

  uint32_t numInputs() const { return tessera_model_num_inputs(model_); }
  uint32_t numOutputs() const { return tessera_model_num_outputs(model_); }
  /// Throws Error (TESSERA_ERROR_INVALID_ARGUMENT) when i is out of range.
  TensorInfo input(uint32_t i) const {
    return describe(tessera_model_input(model_, i), "input", i);
  }
  TensorInfo output(uint32_t i) const {
    return describe(tessera_model_output(model_, i), "output", i);
  }
  std::vector<TensorInfo> inputs() const {
    std::vector<TensorInfo> v;
    for (uint32_t i = 0; i < numInputs(); ++i)
      v.push_back(input(i));
    return v;
  }
  std::vector<TensorInfo> outputs() const {
    std::vector<TensorInfo> v;
    for (uint32_t i = 0; i < numOutputs(); ++i)
      v.push_back(output(i));
    return v;
  }
  /// Position of the named input/output, or -1.
  int32_t findInput(const std::string &name) const {
    return tessera_model_find_input(model_, name.c_str());
  }
  int32_t findOutput(const std::string &name) const {
    return tessera_model_find_output(model_, name.c_str());
  }
  std::string compilerVersion() const {
    return tessera_model_compiler_version(model_);
  }
  std::string targetCpu() const { return tessera_model_target_cpu(model_); }
  std::string requiredCpuFeatures() const {
    return tessera_model_required_cpu_features(model_);
  }

  /// The dims of every output for inputs of these dims (their data is not
  /// read); throws Error when the model refuses them.
  std::vector<std::vector<int64_t>>
  outputDims(const std::vector<Input> &inputs) const;

  /// The past/present pairs; throws Error saying what was expected when the
  /// model has none or names a cache without its present output.
  std::vector<CachePair> cachePairs() const {
    uint32_t count = 0;
    detail::check(tessera_model_cache_pairs(model_, nullptr, 0, &count));
    std::vector<TesseraCachePair> raw(count);
    detail::check(
        tessera_model_cache_pairs(model_, raw.data(), count, &count));
    std::vector<CachePair> pairs;
    for (const TesseraCachePair &p : raw)
      pairs.push_back(CachePair::from(p));
    return pairs;
  }

  const TesseraModel *get() const { return model_; }

private:
  explicit Model(TesseraModel *m) : model_(m) {}
  TensorInfo describe(const TesseraTensorDesc *d, const char *kind,
                      uint32_t i) const {
    if (!d)
      throw Error(TESSERA_ERROR_INVALID_ARGUMENT,
                  std::string("no ") + kind + " " + std::to_string(i));
    TensorInfo info = TensorInfo::from(*d);
    for (int32_t k = 0; k < d->rank; ++k) {
      DimInfo dim;
      const char *name = "";
      tessera_model_dim_info(model_, std::string(kind) == "output", i, k,
                             &name, &dim.min, &dim.max);
      dim.name = name;
      info.dimInfo.push_back(std::move(dim));
    }
    return info;
  }

  TesseraModel *model_;
};

/// A runtime-allocated output, owned.
class Tensor {
public:
  explicit Tensor(TesseraTensor *t) : tensor_(t) {}
  Tensor(Tensor &&other) noexcept
      : tensor_(std::exchange(other.tensor_, nullptr)) {}
  Tensor &operator=(Tensor &&other) noexcept {
    std::swap(tensor_, other.tensor_);
    return *this;
  }
  Tensor(const Tensor &) = delete;
  Tensor &operator=(const Tensor &) = delete;
  ~Tensor() { tessera_tensor_free(tensor_); }

  std::string name() const { return tessera_tensor_name(tensor_); }
  int32_t dtype() const { return tessera_tensor_dtype(tensor_); }
  const char *dtypeName() const { return tessera_dtype_name(dtype()); }
  std::vector<int64_t> dims() const {
    const int64_t *d = tessera_tensor_dims(tensor_);
    return std::vector<int64_t>(d, d + tessera_tensor_rank(tensor_));
  }
  int64_t numElements() const { return tessera_tensor_num_elements(tensor_); }
  size_t byteSize() const { return tessera_tensor_byte_size(tensor_); }
  void *data() { return tessera_tensor_data(tensor_); }
  const void *data() const { return tessera_tensor_data(tensor_); }
  /// Typed view; T must match dtype() (not checked).
  template <typename T> const T *as() const {
    return static_cast<const T *>(data());
  }
  template <typename T> T *as() { return static_cast<T *>(data()); }

  TesseraTensor *get() const { return tensor_; }

private:
  TesseraTensor *tensor_;
};

/// One input; the caller keeps the data alive during run(). An empty name
/// binds by position.
struct Input {
  std::string name;
  const void *data = nullptr;
  int32_t dtype = 0;
  std::vector<int64_t> dims;

  template <typename T>
  static Input of(std::string name, const T *data, std::vector<int64_t> dims) {
    return Input{std::move(name), data, dtypeOf<T>(), std::move(dims)};
  }
};

/// A caller-provided output buffer; an empty name binds by position.
struct OutputBuffer {
  std::string name;
  void *data = nullptr;
  size_t byteSize = 0;
};

namespace detail {
inline std::vector<TesseraInput> lower(const std::vector<Input> &inputs) {
  std::vector<TesseraInput> in;
  in.reserve(inputs.size());
  for (const Input &i : inputs)
    in.push_back({i.name.empty() ? nullptr : i.name.c_str(), i.data, i.dtype,
                  static_cast<int32_t>(i.dims.size()), i.dims.data()});
  return in;
}

inline std::vector<TesseraOutputBuffer>
lower(const std::vector<OutputBuffer> &outputs) {
  std::vector<TesseraOutputBuffer> out;
  out.reserve(outputs.size());
  for (const OutputBuffer &o : outputs)
    out.push_back(
        {o.name.empty() ? nullptr : o.name.c_str(), o.data, o.byteSize});
  return out;
}

/// Owns the tensors a run_alloc call returned.
inline std::vector<Tensor> own(const std::vector<TesseraTensor *> &raw) {
  std::vector<Tensor> out;
  out.reserve(raw.size());
  for (TesseraTensor *t : raw)
    out.emplace_back(t);
  return out;
}
} // namespace detail

inline std::vector<std::vector<int64_t>>
Model::outputDims(const std::vector<Input> &inputs) const {
  std::vector<TesseraInput> in = detail::lower(inputs);
  std::vector<std::vector<int64_t>> dims;
  std::vector<int64_t *> ptrs;
  for (uint32_t i = 0; i < numOutputs(); ++i)
    dims.emplace_back(tessera_model_output(model_, i)->rank);
  for (std::vector<int64_t> &d : dims)
    ptrs.push_back(d.data());
  detail::check(
      tessera_model_output_dims(model_, in.data(), in.size(), ptrs.data()));
  return dims;
}

class Session {
public:
  /// numThreads 0 means all hardware threads.
  explicit Session(const Model &model, int32_t numThreads = 0)
      : numOutputs_(model.numOutputs()) {
    detail::check(tessera_session_create(model.get(), numThreads, &session_));
  }
  Session(Session &&other) noexcept
      : session_(std::exchange(other.session_, nullptr)),
        numOutputs_(other.numOutputs_) {}
  Session &operator=(Session &&other) noexcept {
    std::swap(session_, other.session_);
    std::swap(numOutputs_, other.numOutputs_);
    return *this;
  }
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;
  ~Session() { tessera_session_destroy(session_); }

  int32_t numThreads() const { return tessera_session_num_threads(session_); }

  /// Runs once and returns every output, allocated by the runtime.
  std::vector<Tensor> run(const std::vector<Input> &inputs) {
    std::vector<TesseraInput> in = lower(inputs);
    std::vector<TesseraTensor *> raw(numOutputs_, nullptr);
    detail::check(
        tessera_session_run_alloc(session_, in.data(), in.size(), raw.data()));
    return detail::own(raw);
  }

  /// Runs once writing into caller-provided buffers.
  void run(const std::vector<Input> &inputs,
           const std::vector<OutputBuffer> &outputs) {
    std::vector<TesseraInput> in = lower(inputs);
    std::vector<TesseraOutputBuffer> out = detail::lower(outputs);
    detail::check(tessera_session_run(session_, in.data(), in.size(),
                                      out.data(), out.size()));
  }

  TesseraSession *get() const { return session_; }

private:
  static std::vector<TesseraInput> lower(const std::vector<Input> &inputs) {
    return detail::lower(inputs);
  }

  TesseraSession *session_ = nullptr;
  uint32_t numOutputs_ = 0;
};

/// The KV cache of a decode loop (tessera_kv_cache_create): each step binds
/// the cache's buffers as the past inputs and present outputs, so the
/// runtime copies nothing between steps. The session must outlive it.
class KVCache {
public:
  /// capacity: the most positions (past + new) a sequence reaches.
  KVCache(Session &session, int64_t capacity)
      : KVCache(session.get(), capacity) {}
  /// The same on a C API session.
  KVCache(TesseraSession *session, int64_t capacity) {
    detail::check(tessera_kv_cache_create(session, capacity, &cache_));
  }
  KVCache(KVCache &&other) noexcept
      : cache_(std::exchange(other.cache_, nullptr)) {}
  KVCache &operator=(KVCache &&other) noexcept {
    std::swap(cache_, other.cache_);
    return *this;
  }
  KVCache(const KVCache &) = delete;
  KVCache &operator=(const KVCache &) = delete;
  ~KVCache() { tessera_kv_cache_destroy(cache_); }

  /// The positions held (P).
  int64_t length() const { return tessera_kv_cache_length(cache_); }
  int64_t capacity() const { return tessera_kv_cache_capacity(cache_); }
  /// One buffer per pair growing in place (else two taking turns).
  bool inPlace() const { return tessera_kv_cache_in_place(cache_) != 0; }
  std::vector<CachePair> pairs() const {
    std::vector<CachePair> v;
    for (uint32_t i = 0; i < tessera_kv_cache_num_pairs(cache_); ++i)
      v.push_back(CachePair::from(*tessera_kv_cache_pair(cache_, i)));
    return v;
  }
  /// Starts a new sequence (the batch may change).
  void reset() { tessera_kv_cache_reset(cache_); }

  /// One step: every input but the past ones; returns every output but the
  /// present ones, allocated by the runtime.
  std::vector<Tensor> run(const std::vector<Input> &inputs) {
    std::vector<TesseraInput> in = detail::lower(inputs);
    std::vector<TesseraTensor *> raw(tessera_kv_cache_num_outputs(cache_),
                                     nullptr);
    detail::check(
        tessera_kv_cache_run_alloc(cache_, in.data(), in.size(), raw.data()));
    return detail::own(raw);
  }

  /// One step writing the non-present outputs into caller buffers.
  void run(const std::vector<Input> &inputs,
           const std::vector<OutputBuffer> &outputs) {
    std::vector<TesseraInput> in = detail::lower(inputs);
    std::vector<TesseraOutputBuffer> out = detail::lower(outputs);
    detail::check(tessera_kv_cache_run(cache_, in.data(), in.size(),
                                       out.data(), out.size()));
  }

  /// Pair `index`'s cache after the last step; strides in elements.
  struct View {
    const void *data = nullptr;
    std::vector<int64_t> dims, strides;
  };
  View view(uint32_t index) const {
    View v;
    int32_t rank = 0;
    detail::check(
        tessera_kv_cache_view(cache_, index, nullptr, &rank, nullptr, nullptr));
    v.dims.resize(rank);
    v.strides.resize(rank);
    detail::check(tessera_kv_cache_view(cache_, index, &v.data, &rank,
                                        v.dims.data(), v.strides.data()));
    return v;
  }

  TesseraKVCache *get() const { return cache_; }

private:
  TesseraKVCache *cache_ = nullptr;
};

} // namespace tessera

#endif // TESSERA_RUNTIME_HPP
