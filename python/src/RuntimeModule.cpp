//===- RuntimeModule.cpp - tessera._runtime, the runtime for Python -------===//
//
// Part of Tessera. The native half of `tessera.runtime`: models, sessions and
// runs over the thin C runtime (runtime/include/tessera/runtime.h). It links
// only the runtime: no MLIR, no LLVM. Argument checking and dtype conversion
// live in tessera/runtime.py; this module takes C-contiguous arrays of the
// model's dtypes, releases the GIL while the model runs and hands back the
// runtime-allocated outputs as numpy arrays that own their memory.
//
// Every status the C API returns becomes the tessera.errors class of its
// code, with the runtime's message.
//
//===----------------------------------------------------------------------===//

#include "tessera/runtime.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <string>
#include <vector>

namespace py = pybind11;

namespace {

/// A failed runtime call: its status code and message.
struct StatusError {
  TesseraStatusCode code;
  std::string message;
};

/// Takes ownership of status and throws it when it is an error.
void check(TesseraStatus *status) {
  if (!status)
    return;
  StatusError error{tessera_status_code(status),
                    tessera_status_message(status)};
  tessera_status_free(status);
  throw error;
}

[[noreturn]] void invalidArgument(const std::string &message) {
  throw StatusError{TESSERA_ERROR_INVALID_ARGUMENT, message};
}

/// tessera.errors.<class> for a status code.
py::object errorClass(TesseraStatusCode code) {
  static const std::array<const char *, 9> names = {
      "Error",        "InvalidArgumentError", "LoadError",
      "AbiVersionError", "CpuFeatureError",   "EntryError",
      "OutOfMemoryError", "InternalError",    "WeightsError"};
  size_t i = static_cast<size_t>(code) < names.size() ? code : 0;
  return py::module_::import("tessera.errors").attr(names[i]);
}

/// The description of input/output `index` as a dict (see runtime.py).
py::dict describe(const TesseraModel *model, bool isOutput, uint32_t index) {
  const TesseraTensorDesc *d = isOutput ? tessera_model_output(model, index)
                                        : tessera_model_input(model, index);
  if (!d)
    invalidArgument("no " + std::string(isOutput ? "output " : "input ") +
                    std::to_string(index));
  py::list dims, names, mins, maxs;
  for (int32_t k = 0; k < d->rank; ++k) {
    const char *name = "";
    int64_t lo = 0, hi = 0;
    tessera_model_dim_info(model, isOutput, index, k, &name, &lo, &hi);
    dims.append(d->dims[k]);
    names.append(name ? name : "");
    mins.append(lo);
    maxs.append(hi);
  }
  py::dict info;
  info["name"] = d->name;
  info["dtype"] = d->dtype;
  info["dims"] = dims;
  info["dim_names"] = names;
  info["dim_min"] = mins;
  info["dim_max"] = maxs;
  info["index_range"] =
      d->has_index_range ? py::object(py::make_tuple(d->index_min,
                                                     d->index_max))
                         : py::object(py::none());
  return info;
}

/// The numpy dtype of a runtime dtype (bfloat16 as its uint16 bits).
py::dtype numpyDtype(int32_t dtype) {
  switch (dtype) {
  case TESSERA_DTYPE_FLOAT:
    return py::dtype::of<float>();
  case TESSERA_DTYPE_DOUBLE:
    return py::dtype::of<double>();
  case TESSERA_DTYPE_FLOAT16:
    return py::dtype("float16");
  case TESSERA_DTYPE_BFLOAT16:
  case TESSERA_DTYPE_UINT16:
    return py::dtype::of<uint16_t>();
  case TESSERA_DTYPE_INT8:
    return py::dtype::of<int8_t>();
  case TESSERA_DTYPE_UINT8:
    return py::dtype::of<uint8_t>();
  case TESSERA_DTYPE_INT16:
    return py::dtype::of<int16_t>();
  case TESSERA_DTYPE_INT32:
    return py::dtype::of<int32_t>();
  case TESSERA_DTYPE_UINT32:
    return py::dtype::of<uint32_t>();
  case TESSERA_DTYPE_INT64:
    return py::dtype::of<int64_t>();
  case TESSERA_DTYPE_UINT64:
    return py::dtype::of<uint64_t>();
  case TESSERA_DTYPE_BOOL:
    return py::dtype::of<bool>();
  default:
    throw StatusError{TESSERA_ERROR_INTERNAL,
                      std::string("the runtime returned a tensor of dtype ") +
                          tessera_dtype_name(dtype)};
  }
}

tessera::Model loadModel(const std::string &path) {
  py::gil_scoped_release release;
  return tessera::Model::load(path);
}

/// A loaded model library (runtime.hpp's, which throws tessera::Error).
/// Immutable; shared by its sessions.
class Model {
public:
  explicit Model(const std::string &path) : model_(loadModel(path)) {}

  uint32_t numInputs() const { return model_.numInputs(); }
  uint32_t numOutputs() const { return model_.numOutputs(); }
  py::dict input(uint32_t i) const { return describe(get(), false, i); }
  py::dict output(uint32_t i) const { return describe(get(), true, i); }
  std::string targetCpu() const { return model_.targetCpu(); }
  std::string compilerVersion() const { return model_.compilerVersion(); }
  std::string requiredCpuFeatures() const {
    return model_.requiredCpuFeatures();
  }
  const TesseraModel *get() const { return model_.get(); }

  /// The past/present pairs: [(input, output, axis, in_place)].
  std::vector<std::tuple<uint32_t, uint32_t, int32_t, bool>>
  cachePairs() const {
    std::vector<std::tuple<uint32_t, uint32_t, int32_t, bool>> out;
    for (const tessera::CachePair &p : model_.cachePairs())
      out.emplace_back(p.input, p.output, p.axis, p.inPlace);
    return out;
  }

  /// Output dims for inputs of these dims: [(name, dtype, dims)].
  std::vector<std::vector<int64_t>>
  outputDims(const std::vector<std::tuple<std::string, int32_t,
                                          std::vector<int64_t>>> &inputs) const {
    std::vector<tessera::Input> in;
    for (const auto &[name, dtype, dims] : inputs)
      in.push_back({name, nullptr, dtype, dims});
    return model_.outputDims(in);
  }

private:
  tessera::Model model_;
};

using InputList = std::vector<std::tuple<std::string, py::array, int32_t>>;

/// The C API's view of [(name, array, dtype)]; `dims` keeps the shapes.
std::vector<TesseraInput> lowerInputs(const InputList &inputs,
                                      std::vector<std::vector<int64_t>> &dims) {
  std::vector<TesseraInput> in;
  dims.assign(inputs.size(), {});
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto &[name, array, dtype] = inputs[i];
    if (!(array.flags() & py::array::c_style) ||
        !(array.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
      invalidArgument("input '" + name +
                      "' is not a C-contiguous, aligned array");
    dims[i].assign(array.shape(), array.shape() + array.ndim());
    in.push_back({name.c_str(), array.data(), dtype,
                  static_cast<int32_t>(array.ndim()), dims[i].data()});
  }
  return in;
}

/// Runtime-allocated tensors as numpy arrays that own them.
py::list wrapOutputs(const std::vector<TesseraTensor *> &raw) {
  // Each output's memory belongs to a capsule from here on, so nothing
  // leaks if wrapping a later one fails.
  std::vector<py::capsule> owners;
  for (TesseraTensor *t : raw)
    owners.emplace_back(t, [](void *p) {
      tessera_tensor_free(static_cast<TesseraTensor *>(p));
    });
  py::list outputs;
  for (size_t i = 0; i < raw.size(); ++i) {
    TesseraTensor *t = raw[i];
    const int64_t *d = tessera_tensor_dims(t);
    std::vector<py::ssize_t> shape(d, d + tessera_tensor_rank(t));
    outputs.append(py::array(numpyDtype(tessera_tensor_dtype(t)), shape,
                             tessera_tensor_data(t), owners[i]));
  }
  return outputs;
}

/// A session: a thread pool and the buffers of its runs.
class Session {
public:
  Session(std::shared_ptr<Model> model, int32_t threads)
      : model_(std::move(model)) {
    check(tessera_session_create(model_->get(), threads, &session_));
  }
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;
  ~Session() { tessera_session_destroy(session_); }

  int32_t numThreads() const { return tessera_session_num_threads(session_); }

  /// Runs once on [(name, array, dtype)] and returns every output, in the
  /// model's order. The arrays must be C-contiguous and aligned (runtime.py
  /// makes them so); the runtime checks names, dtypes and dims.
  py::list run(const InputList &inputs) {
    std::vector<std::vector<int64_t>> dims;
    std::vector<TesseraInput> in = lowerInputs(inputs, dims);
    uint32_t n = model_->numOutputs();
    std::vector<TesseraTensor *> raw(n, nullptr);
    TesseraStatus *status;
    {
      py::gil_scoped_release release;
      status = tessera_session_run_alloc(session_, in.data(), in.size(),
                                         raw.data());
    }
    check(status);
    return wrapOutputs(raw);
  }

  TesseraSession *get() const { return session_; }

private:
  std::shared_ptr<Model> model_;
  TesseraSession *session_ = nullptr;
};

/// The KV cache of a decode loop on a session (kept alive by the cache).
class KVCache {
public:
  KVCache(std::shared_ptr<Session> session, int64_t capacity)
      : session_(std::move(session)), cache_(session_->get(), capacity) {}

  int64_t length() const { return cache_.length(); }
  int64_t capacity() const { return cache_.capacity(); }
  bool inPlace() const { return cache_.inPlace(); }
  void reset() { cache_.reset(); }

  /// One step on [(name, array, dtype)] (every input but the pasts); returns
  /// every output but the presents, in the model's order.
  py::list run(const InputList &inputs) {
    std::vector<std::vector<int64_t>> dims;
    std::vector<TesseraInput> in = lowerInputs(inputs, dims);
    std::vector<TesseraTensor *> raw(
        tessera_kv_cache_num_outputs(cache_.get()), nullptr);
    TesseraStatus *status;
    {
      py::gil_scoped_release release;
      status = tessera_kv_cache_run_alloc(cache_.get(), in.data(), in.size(),
                                          raw.data());
    }
    check(status);
    return wrapOutputs(raw);
  }

private:
  std::shared_ptr<Session> session_; // outlives cache_
  tessera::KVCache cache_;
};

} // namespace

PYBIND11_MODULE(_runtime, m) {
  m.doc() = "Tessera's runtime (native part of tessera.runtime)";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p)
        std::rethrow_exception(p);
    } catch (const StatusError &e) {
      py::object cls = errorClass(e.code);
      PyErr_SetObject(cls.ptr(), cls(e.message, static_cast<int>(e.code)).ptr());
    } catch (const tessera::Error &e) {
      py::object cls = errorClass(e.code());
      PyErr_SetObject(cls.ptr(), cls(e.what(), static_cast<int>(e.code())).ptr());
    }
  });

  m.def("abi_version", &tessera_runtime_abi_version,
        "The newest model ABI version this runtime loads");
  m.def("dtype_name", &tessera_dtype_name,
        "The name of an ONNX TensorProto data type number");

  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def(py::init<const std::string &>(), py::arg("path"))
      .def_property_readonly("num_inputs", &Model::numInputs)
      .def_property_readonly("num_outputs", &Model::numOutputs)
      .def("input", &Model::input)
      .def("output", &Model::output)
      .def_property_readonly("target_cpu", &Model::targetCpu)
      .def_property_readonly("compiler_version", &Model::compilerVersion)
      .def_property_readonly("required_cpu_features",
                             &Model::requiredCpuFeatures)
      .def("output_dims", &Model::outputDims)
      .def("cache_pairs", &Model::cachePairs);

  py::class_<Session, std::shared_ptr<Session>>(m, "Session")
      .def(py::init<std::shared_ptr<Model>, int32_t>(), py::arg("model"),
           py::arg("threads"))
      .def_property_readonly("num_threads", &Session::numThreads)
      .def("run", &Session::run);

  py::class_<KVCache>(m, "KVCache")
      .def(py::init<std::shared_ptr<Session>, int64_t>(), py::arg("session"),
           py::arg("capacity"))
      .def_property_readonly("length", &KVCache::length)
      .def_property_readonly("capacity", &KVCache::capacity)
      .def_property_readonly("in_place", &KVCache::inPlace)
      .def("reset", &KVCache::reset)
      .def("run", &KVCache::run);
}
