//===- RuntimeTest.cpp - tests of the runtime C API and tessera-run -------===//
//
// Part of Tessera. The models are hand-written C libraries under models/,
// built by this folder's CMakeLists.txt into TESSERA_TEST_MODEL_DIR.
//
//===----------------------------------------------------------------------===//

#include "tessera/runtime.h"
#include "tessera/runtime.hpp"
#include "tessera/weights_file.h"

#include "onnx/onnx_pb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

std::string modelPath(const std::string &name) {
  return std::string(TESSERA_TEST_MODEL_DIR) + "/" + name + ".so";
}

/// Owns a status; converts to bool (true = error).
struct Status {
  TesseraStatus *s = nullptr;
  Status(TesseraStatus *status) : s(status) {}
  Status(const Status &) = delete;
  ~Status() { tessera_status_free(s); }
  explicit operator bool() const { return s != nullptr; }
  TesseraStatusCode code() const { return tessera_status_code(s); }
  std::string message() const { return tessera_status_message(s); }
};

struct ModelDeleter {
  void operator()(TesseraModel *m) const { tessera_model_unload(m); }
};
struct SessionDeleter {
  void operator()(TesseraSession *s) const { tessera_session_destroy(s); }
};
using ModelPtr = std::unique_ptr<TesseraModel, ModelDeleter>;
using SessionPtr = std::unique_ptr<TesseraSession, SessionDeleter>;

ModelPtr loadOrFail(const std::string &path) {
  TesseraModel *m = nullptr;
  Status st = tessera_model_load(path.c_str(), &m);
  EXPECT_FALSE(st) << st.message();
  return ModelPtr(m);
}

SessionPtr sessionOrFail(const TesseraModel *m, int32_t threads) {
  TesseraSession *s = nullptr;
  Status st = tessera_session_create(m, threads, &s);
  EXPECT_FALSE(st) << st.message();
  return SessionPtr(s);
}

/// Loading `path` fails with `code` and a message containing every part.
void expectLoadError(const std::string &path, TesseraStatusCode code,
                     const std::vector<std::string> &parts) {
  TesseraModel *m = reinterpret_cast<TesseraModel *>(0x1);
  Status st = tessera_model_load(path.c_str(), &m);
  ASSERT_TRUE(st) << "loading " << path << " should fail";
  EXPECT_EQ(m, nullptr);
  EXPECT_EQ(st.code(), code) << st.message();
  for (const std::string &p : parts)
    EXPECT_NE(st.message().find(p), std::string::npos)
        << "'" << st.message() << "' lacks '" << p << "'";
  EXPECT_EQ(st.message().find('\n'), std::string::npos);
}

/// A fresh directory, removed at the end of the test.
class TempDir {
public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tessera-rt-XXXXXX");
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data()))
      throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string &name) const {
    return (path_ / name).string();
  }
  const fs::path &path() const { return path_; }

private:
  fs::path path_;
};

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

//===----------------------------------------------------------------------===//
// The add model: sum = a + b (float32[2,3]), ids_twice = 2 * ids (int64[4],
// ids in [0, 9]).
//===----------------------------------------------------------------------===//

const int64_t kMatrixDims[] = {2, 3};
const int64_t kIdsDims[] = {4};

struct AddInputs {
  alignas(64) float a[6] = {1, 2, 3, 4, 5, 6};
  alignas(64) float b[6] = {0.5f, -1, 10, 0.25f, -5, 100};
  alignas(64) int64_t ids[4] = {0, 3, 9, 7};

  std::vector<TesseraInput> named() const {
    return {{"a", a, TESSERA_DTYPE_FLOAT, 2, kMatrixDims},
            {"b", b, TESSERA_DTYPE_FLOAT, 2, kMatrixDims},
            {"ids", ids, TESSERA_DTYPE_INT64, 1, kIdsDims}};
  }
  std::vector<TesseraInput> positional() const {
    std::vector<TesseraInput> v = named();
    for (TesseraInput &in : v)
      in.name = nullptr;
    return v;
  }
};

struct AddOutputs {
  alignas(64) float sum[6] = {};
  alignas(64) int64_t twice[4] = {};
  std::vector<TesseraOutputBuffer> buffers() {
    return {{"sum", sum, sizeof sum}, {"ids_twice", twice, sizeof twice}};
  }
};

Status runAdd(TesseraSession *s, const std::vector<TesseraInput> &in,
              AddOutputs &out) {
  std::vector<TesseraOutputBuffer> bufs = out.buffers();
  return tessera_session_run(s, in.data(), in.size(), bufs.data(), bufs.size());
}

/// Runs the add model with one input changed and expects an
/// INVALID_ARGUMENT error containing every part.
template <typename Mutate>
void expectAddInputError(Mutate mutate, const std::vector<std::string> &parts) {
  ModelPtr m = loadOrFail(modelPath("add_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 1);
  AddInputs inputs;
  std::vector<TesseraInput> in = inputs.named();
  mutate(inputs, in);
  AddOutputs out;
  out.sum[0] = -123;
  Status st = runAdd(s.get(), in, out);
  ASSERT_TRUE(st) << "the run should fail";
  EXPECT_EQ(st.code(), TESSERA_ERROR_INVALID_ARGUMENT) << st.message();
  for (const std::string &p : parts)
    EXPECT_NE(st.message().find(p), std::string::npos)
        << "'" << st.message() << "' lacks '" << p << "'";
  // Nothing ran.
  EXPECT_EQ(out.sum[0], -123);

  // The run_alloc path checks the same way and leaves every slot NULL.
  TesseraTensor *tensors[2] = {reinterpret_cast<TesseraTensor *>(0x1),
                               reinterpret_cast<TesseraTensor *>(0x1)};
  Status st2 =
      tessera_session_run_alloc(s.get(), in.data(), in.size(), tensors);
  ASSERT_TRUE(st2);
  EXPECT_EQ(st2.message(), st.message());
  EXPECT_EQ(tensors[0], nullptr);
  EXPECT_EQ(tensors[1], nullptr);
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

TEST(RuntimeLoad, MissingFile) {
  std::string path = modelPath("does_not_exist");
  expectLoadError(path, TESSERA_ERROR_LOAD,
                  {path, "No such file or directory"});
}

TEST(RuntimeLoad, TextFileNamedSo) {
  TempDir dir;
  writeBytes(dir.file("x.so"), "this is not a shared library\n");
  expectLoadError(dir.file("x.so"), TESSERA_ERROR_LOAD,
                  {"x.so", "not a loadable shared library"});
}

TEST(RuntimeLoad, EmptyFileAndDirectory) {
  TempDir dir;
  writeBytes(dir.file("empty.so"), "");
  expectLoadError(dir.file("empty.so"), TESSERA_ERROR_LOAD,
                  {"not a loadable shared library"});
  expectLoadError(dir.path().string(), TESSERA_ERROR_LOAD, {"is a directory"});
}

TEST(RuntimeLoad, LibraryWithoutDescriptor) {
  expectLoadError(modelPath("no_symbol"), TESSERA_ERROR_LOAD,
                  {"not a Tessera model", "tessera_model_v1"});
}

TEST(RuntimeLoad, WrongAbiVersion) {
  expectLoadError(
      modelPath("wrong_abi"), TESSERA_ERROR_ABI_VERSION,
      {"wrong_abi.so", "ABI version 99",
       "supports versions 1 to " + std::to_string(TESSERA_ABI_VERSION)});
}

TEST(RuntimeLoad, AbiVersion1StillLoads) {
  ModelPtr m = loadOrFail(modelPath("abi_v1"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 1);
  float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {};
  int64_t dims[2] = {2, 3};
  TesseraInput in = {"x", x, TESSERA_DTYPE_FLOAT, 2, dims};
  TesseraOutputBuffer out = {nullptr, y, sizeof y};
  Status st = tessera_session_run(s.get(), &in, 1, &out, 1);
  ASSERT_FALSE(st) << st.message();
  EXPECT_EQ(y[5], 6.0f);
}

TEST(RuntimeLoad, MissingCpuFeature) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512fp16"))
    GTEST_SKIP() << "this CPU has avx512fp16";
  expectLoadError(modelPath("needs_avx512fp16"), TESSERA_ERROR_CPU_FEATURE,
                  {"'avx512fp16'", "this CPU does not have", "znver4"});
}

TEST(RuntimeLoad, UnknownCpuFeature) {
  expectLoadError(modelPath("unknown_feature"), TESSERA_ERROR_CPU_FEATURE,
                  {"'not_a_cpu_feature'", "does not know"});
}

TEST(RuntimeLoad, MalformedDescriptors) {
  expectLoadError(
      modelPath("float_index_range"), TESSERA_ERROR_LOAD,
      {"malformed descriptor", "input 'x'", "index range", "float32"});
  expectLoadError(modelPath("duplicate_names"), TESSERA_ERROR_LOAD,
                  {"malformed descriptor", "two inputs are named 'x'"});
}

TEST(RuntimeLoad, NullArguments) {
  TesseraModel *m = reinterpret_cast<TesseraModel *>(0x1);
  Status st = tessera_model_load(nullptr, &m);
  ASSERT_TRUE(st);
  EXPECT_EQ(st.code(), TESSERA_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(m, nullptr);
  Status st2 = tessera_model_load(modelPath("add_model").c_str(), nullptr);
  ASSERT_TRUE(st2);
  EXPECT_EQ(st2.code(), TESSERA_ERROR_INVALID_ARGUMENT);
}

TEST(RuntimeLoad, BareFileNameIsRelativeToWorkingDirectory) {
  // "libc.so.6" would be found on the library path by a plain dlopen.
  expectLoadError("libc.so.6", TESSERA_ERROR_LOAD, {"cannot open model"});

  fs::path old = fs::current_path();
  fs::current_path(TESSERA_TEST_MODEL_DIR);
  TesseraModel *m = nullptr;
  Status st = tessera_model_load("add_model.so", &m);
  fs::current_path(old);
  ASSERT_FALSE(st) << st.message();
  EXPECT_EQ(tessera_model_num_inputs(m), 3u);
  tessera_model_unload(m);
}

TEST(RuntimeLoad, LoadTwiceAndUnloadNull) {
  ModelPtr m1 = loadOrFail(modelPath("add_model"));
  ModelPtr m2 = loadOrFail(modelPath("add_model"));
  ASSERT_TRUE(m1 && m2);
  EXPECT_NE(m1.get(), m2.get());
  m1.reset();
  // The library stays open for the second handle.
  EXPECT_STREQ(tessera_model_input(m2.get(), 0)->name, "a");
  tessera_model_unload(nullptr);
}

//===----------------------------------------------------------------------===//
// Queries and helpers
//===----------------------------------------------------------------------===//

TEST(RuntimeQuery, InputsAndOutputs) {
  ModelPtr m = loadOrFail(modelPath("add_model"));
  ASSERT_TRUE(m);
  ASSERT_EQ(tessera_model_num_inputs(m.get()), 3u);
  ASSERT_EQ(tessera_model_num_outputs(m.get()), 2u);

  const TesseraTensorDesc *a = tessera_model_input(m.get(), 0);
  ASSERT_NE(a, nullptr);
  EXPECT_STREQ(a->name, "a");
  EXPECT_EQ(a->dtype, TESSERA_DTYPE_FLOAT);
  ASSERT_EQ(a->rank, 2);
  EXPECT_EQ(a->dims[0], 2);
  EXPECT_EQ(a->dims[1], 3);
  EXPECT_EQ(a->has_index_range, 0);

  const TesseraTensorDesc *ids = tessera_model_input(m.get(), 2);
  ASSERT_NE(ids, nullptr);
  EXPECT_STREQ(ids->name, "ids");
  EXPECT_EQ(ids->dtype, TESSERA_DTYPE_INT64);
  ASSERT_EQ(ids->rank, 1);
  EXPECT_EQ(ids->dims[0], 4);
  EXPECT_EQ(ids->has_index_range, 1);
  EXPECT_EQ(ids->index_min, 0);
  EXPECT_EQ(ids->index_max, 9);

  const TesseraTensorDesc *twice = tessera_model_output(m.get(), 1);
  ASSERT_NE(twice, nullptr);
  EXPECT_STREQ(twice->name, "ids_twice");
  EXPECT_EQ(twice->dtype, TESSERA_DTYPE_INT64);

  EXPECT_EQ(tessera_model_input(m.get(), 3), nullptr);
  EXPECT_EQ(tessera_model_output(m.get(), 2), nullptr);
  EXPECT_EQ(tessera_model_input(nullptr, 0), nullptr);
  EXPECT_EQ(tessera_model_find_input(m.get(), "ids"), 2);
  EXPECT_EQ(tessera_model_find_input(m.get(), "sum"), -1);
  EXPECT_EQ(tessera_model_find_input(m.get(), nullptr), -1);
  EXPECT_EQ(tessera_model_find_output(m.get(), "sum"), 0);
  EXPECT_STREQ(tessera_model_compiler_version(m.get()), "tessera-test 0");
  EXPECT_STREQ(tessera_model_target_cpu(m.get()), "x86-64");
  EXPECT_STREQ(tessera_model_required_cpu_features(m.get()), "sse2, sse");
}

TEST(RuntimeQuery, NullDescriptorStringsReadAsEmpty) {
  ModelPtr m = loadOrFail(modelPath("relu_model"));
  ASSERT_TRUE(m);
  EXPECT_STREQ(tessera_model_required_cpu_features(m.get()), "");
  EXPECT_STREQ(tessera_model_target_cpu(m.get()), "");
}

TEST(RuntimeQuery, DynamicDimensionIsReportedAndCannotRun) {
  ModelPtr m = loadOrFail(modelPath("dynamic_dim"));
  ASSERT_TRUE(m);
  const TesseraTensorDesc *x = tessera_model_input(m.get(), 0);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->dims[0], -1);
  EXPECT_EQ(x->dims[1], 3);

  SessionPtr s = sessionOrFail(m.get(), 1);
  float xs[6] = {}, ys[6] = {};
  const int64_t dims[] = {2, 3};
  TesseraInput in = {"x", xs, TESSERA_DTYPE_FLOAT, 2, dims};
  TesseraOutputBuffer out = {"y", ys, sizeof ys};
  Status st = tessera_session_run(s.get(), &in, 1, &out, 1);
  ASSERT_TRUE(st);
  EXPECT_NE(st.message().find("input 'x': dimension 0 is dynamic"),
            std::string::npos)
      << st.message();
}

TEST(RuntimeQuery, DTypeHelpers) {
  EXPECT_STREQ(tessera_dtype_name(TESSERA_DTYPE_FLOAT), "float32");
  EXPECT_STREQ(tessera_dtype_name(TESSERA_DTYPE_INT64), "int64");
  EXPECT_STREQ(tessera_dtype_name(TESSERA_DTYPE_BOOL), "bool");
  EXPECT_STREQ(tessera_dtype_name(TESSERA_DTYPE_FLOAT16), "float16");
  EXPECT_STREQ(tessera_dtype_name(TESSERA_DTYPE_DOUBLE), "float64");
  EXPECT_STREQ(tessera_dtype_name(TESSERA_DTYPE_BFLOAT16), "bfloat16");
  EXPECT_STREQ(tessera_dtype_name(TESSERA_DTYPE_UINT64), "uint64");
  EXPECT_STREQ(tessera_dtype_name(8), "string");
  EXPECT_STREQ(tessera_dtype_name(99), "unknown");
  EXPECT_STREQ(tessera_dtype_name(-1), "unknown");
  EXPECT_EQ(tessera_dtype_size(TESSERA_DTYPE_FLOAT), 4u);
  EXPECT_EQ(tessera_dtype_size(TESSERA_DTYPE_INT64), 8u);
  EXPECT_EQ(tessera_dtype_size(TESSERA_DTYPE_BOOL), 1u);
  EXPECT_EQ(tessera_dtype_size(TESSERA_DTYPE_FLOAT16), 2u);
  EXPECT_EQ(tessera_dtype_size(TESSERA_DTYPE_BFLOAT16), 2u);
  EXPECT_EQ(tessera_dtype_size(TESSERA_DTYPE_DOUBLE), 8u);
  EXPECT_EQ(tessera_dtype_size(8), 0u);
  EXPECT_EQ(tessera_dtype_size(99), 0u);
  EXPECT_EQ(tessera_runtime_abi_version(), TESSERA_ABI_VERSION);
}

TEST(RuntimeQuery, NullStatusIsSuccess) {
  EXPECT_EQ(tessera_status_code(nullptr), TESSERA_OK);
  EXPECT_STREQ(tessera_status_message(nullptr), "");
  EXPECT_EQ(tessera_status_entry_code(nullptr), 0);
  tessera_status_free(nullptr);
}

//===----------------------------------------------------------------------===//
// Sessions and runs
//===----------------------------------------------------------------------===//

TEST(RuntimeSession, ThreadCounts) {
  ModelPtr m = loadOrFail(modelPath("add_model"));
  ASSERT_TRUE(m);
  SessionPtr s3 = sessionOrFail(m.get(), 3);
  EXPECT_EQ(tessera_session_num_threads(s3.get()), 3);
  SessionPtr s0 = sessionOrFail(m.get(), 0);
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(tessera_session_num_threads(s0.get()), static_cast<int32_t>(hw));

  for (int32_t bad : {-1, 5000}) {
    TesseraSession *s = reinterpret_cast<TesseraSession *>(0x1);
    Status st = tessera_session_create(m.get(), bad, &s);
    ASSERT_TRUE(st);
    EXPECT_EQ(st.code(), TESSERA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(st.message().find(std::to_string(bad)), std::string::npos);
    EXPECT_EQ(s, nullptr);
  }
  TesseraSession *s = nullptr;
  Status st = tessera_session_create(nullptr, 1, &s);
  ASSERT_TRUE(st);
  EXPECT_EQ(st.code(), TESSERA_ERROR_INVALID_ARGUMENT);
  tessera_session_destroy(nullptr);
}

TEST(RuntimeRun, CallerProvidedOutputs) {
  ModelPtr m = loadOrFail(modelPath("add_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 2);
  AddInputs in;
  AddOutputs out;
  Status st = runAdd(s.get(), in.named(), out);
  ASSERT_FALSE(st) << st.message();
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(out.sum[i], in.a[i] + in.b[i]) << i;
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(out.twice[i], 2 * in.ids[i]) << i;
}

TEST(RuntimeRun, PositionalAndReorderedInputsAndOutputs) {
  ModelPtr m = loadOrFail(modelPath("add_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 1);
  AddInputs in;
  in.a[5] = 42;

  AddOutputs out1;
  ASSERT_FALSE(runAdd(s.get(), in.positional(), out1));
  EXPECT_EQ(out1.sum[5], 42 + in.b[5]);

  // Named, in another order; outputs named in another order too.
  std::vector<TesseraInput> named = in.named();
  std::vector<TesseraInput> shuffled = {named[2], named[0], named[1]};
  AddOutputs out2;
  std::vector<TesseraOutputBuffer> bufs = out2.buffers();
  std::swap(bufs[0], bufs[1]);
  Status st = tessera_session_run(s.get(), shuffled.data(), shuffled.size(),
                                  bufs.data(), bufs.size());
  ASSERT_FALSE(st) << st.message();
  EXPECT_EQ(out2.sum[5], 42 + in.b[5]);
  EXPECT_EQ(out2.twice[2], 18);

  // Positional outputs.
  AddOutputs out3;
  std::vector<TesseraOutputBuffer> posBufs = out3.buffers();
  posBufs[0].name = posBufs[1].name = nullptr;
  ASSERT_FALSE(Status(tessera_session_run(s.get(), named.data(), named.size(),
                                          posBufs.data(), posBufs.size())));
  EXPECT_EQ(out3.sum[0], in.a[0] + in.b[0]);
  EXPECT_EQ(out3.twice[1], 6);
}

TEST(RuntimeRun, RuntimeAllocatedOutputs) {
  ModelPtr m = loadOrFail(modelPath("add_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 2);
  AddInputs in;
  std::vector<TesseraInput> inputs = in.named();
  TesseraTensor *t[2] = {nullptr, nullptr};
  Status st =
      tessera_session_run_alloc(s.get(), inputs.data(), inputs.size(), t);
  ASSERT_FALSE(st) << st.message();
  ASSERT_NE(t[0], nullptr);
  ASSERT_NE(t[1], nullptr);

  EXPECT_STREQ(tessera_tensor_name(t[0]), "sum");
  EXPECT_EQ(tessera_tensor_dtype(t[0]), TESSERA_DTYPE_FLOAT);
  ASSERT_EQ(tessera_tensor_rank(t[0]), 2);
  EXPECT_EQ(tessera_tensor_dims(t[0])[0], 2);
  EXPECT_EQ(tessera_tensor_dims(t[0])[1], 3);
  EXPECT_EQ(tessera_tensor_num_elements(t[0]), 6);
  EXPECT_EQ(tessera_tensor_byte_size(t[0]), 24u);
  void *data = tessera_tensor_data(t[0]);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % 64, 0u);
  const float *sum = static_cast<const float *>(data);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(sum[i], in.a[i] + in.b[i]) << i;

  EXPECT_STREQ(tessera_tensor_name(t[1]), "ids_twice");
  EXPECT_EQ(tessera_tensor_dtype(t[1]), TESSERA_DTYPE_INT64);
  EXPECT_EQ(tessera_tensor_byte_size(t[1]), 32u);
  const int64_t *twice =
      static_cast<const int64_t *>(tessera_tensor_data(t[1]));
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(twice[i], 2 * in.ids[i]);

  // The tensors outlive the session and the model.
  s.reset();
  m.reset();
  EXPECT_EQ(static_cast<const float *>(tessera_tensor_data(t[0]))[1],
            in.a[1] + in.b[1]);
  tessera_tensor_free(t[0]);
  tessera_tensor_free(t[1]);
  tessera_tensor_free(nullptr);
  EXPECT_EQ(tessera_tensor_data(nullptr), nullptr);
}

TEST(RuntimeRun, WrongInputCount) {
  expectAddInputError(
      [](AddInputs &, std::vector<TesseraInput> &in) { in.pop_back(); },
      {"expected 3 inputs, got 2"});
}

TEST(RuntimeRun, UnknownInputName) {
  expectAddInputError(
      [](AddInputs &, std::vector<TesseraInput> &in) { in[1].name = "foo"; },
      {"unknown input 'foo' (inputs: a, b, ids)"});
}

TEST(RuntimeRun, InputGivenTwice) {
  expectAddInputError(
      [](AddInputs &, std::vector<TesseraInput> &in) { in[1].name = "a"; },
      {"input 'a' is given more than once"});
}

TEST(RuntimeRun, WrongDType) {
  static const int32_t ids32[4] = {0, 1, 2, 3};
  expectAddInputError(
      [](AddInputs &, std::vector<TesseraInput> &in) {
        in[2].data = ids32;
        in[2].dtype = TESSERA_DTYPE_INT32;
      },
      {"input 'ids': expected dtype int64, got int32"});
  expectAddInputError(
      [](AddInputs &, std::vector<TesseraInput> &in) { in[0].dtype = 1234; },
      {"input 'a': expected dtype float32, got unknown (1234)"});
}

TEST(RuntimeRun, WrongRank) {
  static const int64_t dims3[] = {1, 2, 3};
  expectAddInputError(
      [](AddInputs &, std::vector<TesseraInput> &in) {
        in[1].rank = 3;
        in[1].dims = dims3;
      },
      {"input 'b': expected rank 2 [2, 3], got rank 3"});
}

TEST(RuntimeRun, WrongDimension) {
  static const int64_t dims[] = {2, 7};
  expectAddInputError(
      [](AddInputs &, std::vector<TesseraInput> &in) { in[1].dims = dims; },
      {"input 'b': dimension 1 is 7, expected 3"});
  static const int64_t negative[] = {-2, 3};
  expectAddInputError(
      [](AddInputs &, std::vector<TesseraInput> &in) { in[0].dims = negative; },
      {"input 'a': dimension 0 is -2, expected 2"});
}

TEST(RuntimeRun, NullPointers) {
  expectAddInputError(
      [](AddInputs &, std::vector<TesseraInput> &in) { in[0].data = nullptr; },
      {"input 'a': data pointer is NULL"});
  expectAddInputError(
      [](AddInputs &, std::vector<TesseraInput> &in) { in[2].dims = nullptr; },
      {"input 'ids': dims is NULL"});

  ModelPtr m = loadOrFail(modelPath("add_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 1);
  Status st = tessera_session_run(s.get(), nullptr, 3, nullptr, 2);
  ASSERT_TRUE(st);
  EXPECT_NE(st.message().find("input array is NULL"), std::string::npos);
  AddInputs in;
  std::vector<TesseraInput> inputs = in.named();
  Status st2 =
      tessera_session_run(nullptr, inputs.data(), inputs.size(), nullptr, 0);
  ASSERT_TRUE(st2);
  EXPECT_NE(st2.message().find("session is NULL"), std::string::npos);
}

TEST(RuntimeRun, MisalignedData) {
  alignas(8) static char raw[64];
  expectAddInputError(
      [](AddInputs &, std::vector<TesseraInput> &in) { in[2].data = raw + 4; },
      {"input 'ids': data pointer is not aligned to 8 bytes"});
}

TEST(RuntimeRun, IndexOutOfRange) {
  expectAddInputError(
      [](AddInputs &inputs, std::vector<TesseraInput> &) {
        inputs.ids[2] = 10;
      },
      {"input 'ids': value 10 at index [2] is out of range [0, 9]"});
  expectAddInputError(
      [](AddInputs &inputs, std::vector<TesseraInput> &) {
        inputs.ids[3] = -1;
      },
      {"input 'ids': value -1 at index [3] is out of range [0, 9]"});

  // Both ends of the range are accepted.
  ModelPtr m = loadOrFail(modelPath("add_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 1);
  AddInputs in;
  in.ids[0] = 0;
  in.ids[1] = 9;
  AddOutputs out;
  Status st = runAdd(s.get(), in.named(), out);
  ASSERT_FALSE(st) << st.message();
  EXPECT_EQ(out.twice[1], 18);
}

TEST(RuntimeRun, OutputBufferErrors) {
  ModelPtr m = loadOrFail(modelPath("add_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 1);
  AddInputs in;
  std::vector<TesseraInput> inputs = in.named();

  auto expectError = [&](std::vector<TesseraOutputBuffer> bufs,
                         const std::string &part) {
    Status st = tessera_session_run(s.get(), inputs.data(), inputs.size(),
                                    bufs.data(), bufs.size());
    ASSERT_TRUE(st) << part;
    EXPECT_EQ(st.code(), TESSERA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(st.message().find(part), std::string::npos) << st.message();
  };
  AddOutputs out;
  std::vector<TesseraOutputBuffer> bufs = out.buffers();

  auto small = bufs;
  small[0].byte_size = 20;
  expectError(small, "output 'sum': buffer has 20 bytes, expected at least 24");
  auto null = bufs;
  null[1].data = nullptr;
  expectError(null, "output 'ids_twice': data pointer is NULL");
  auto unknown = bufs;
  unknown[0].name = "total";
  expectError(unknown, "unknown output 'total' (outputs: sum, ids_twice)");
  auto one = bufs;
  one.pop_back();
  expectError(one, "expected 2 output buffers, got 1");
  auto overlap = bufs;
  overlap[0].data = const_cast<float *>(in.a);
  expectError(overlap, "output 'sum' overlaps input 'a'");
  auto overlapOut = bufs;
  overlapOut[1].data = out.sum;
  expectError(overlapOut, "output 'ids_twice' overlaps output 'sum'");

  // A larger buffer is fine.
  alignas(64) float big[16] = {};
  auto large = bufs;
  large[0] = {"sum", big, sizeof big};
  Status st = tessera_session_run(s.get(), inputs.data(), inputs.size(),
                                  large.data(), large.size());
  ASSERT_FALSE(st) << st.message();
  EXPECT_EQ(big[2], in.a[2] + in.b[2]);
}

TEST(RuntimeRun, EntryReturningNonzero) {
  ModelPtr m = loadOrFail(modelPath("fail_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 1);
  const int64_t dims[] = {1};
  float x = 42, y = 0;
  TesseraInput in = {"x", &x, TESSERA_DTYPE_FLOAT, 1, dims};
  TesseraOutputBuffer out = {"y", &y, sizeof y};
  Status st = tessera_session_run(s.get(), &in, 1, &out, 1);
  ASSERT_TRUE(st);
  EXPECT_EQ(st.code(), TESSERA_ERROR_ENTRY);
  EXPECT_EQ(tessera_status_entry_code(st.s), 42);
  EXPECT_NE(st.message().find("error code 42"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("fail_model.so"), std::string::npos);

  TesseraTensor *t = reinterpret_cast<TesseraTensor *>(0x1);
  Status st2 = tessera_session_run_alloc(s.get(), &in, 1, &t);
  ASSERT_TRUE(st2);
  EXPECT_EQ(tessera_status_entry_code(st2.s), 42);
  EXPECT_EQ(t, nullptr);

  x = 0;
  Status ok = tessera_session_run(s.get(), &in, 1, &out, 1);
  EXPECT_FALSE(ok) << ok.message();
}

TEST(RuntimeRun, SessionOutlivesModelHandle) {
  ModelPtr m = loadOrFail(modelPath("add_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 2);
  m.reset();
  AddInputs in;
  AddOutputs out;
  Status st = runAdd(s.get(), in.named(), out);
  ASSERT_FALSE(st) << st.message();
  EXPECT_EQ(out.sum[3], in.a[3] + in.b[3]);
}

TEST(RuntimeRun, ConcurrentRunsOnOneModel) {
  ModelPtr m = loadOrFail(modelPath("add_model"));
  ASSERT_TRUE(m);
  SessionPtr shared = sessionOrFail(m.get(), 2);
  std::atomic<int> failures{0};
  std::vector<std::string> errors(4);
  auto worker = [&](int id) {
    // Half the threads use their own session, half share one.
    SessionPtr own;
    TesseraSession *s = shared.get();
    if (id % 2 == 0) {
      TesseraSession *raw = nullptr;
      Status st = tessera_session_create(m.get(), 2, &raw);
      if (st) {
        errors[id] = st.message();
        ++failures;
        return;
      }
      own.reset(raw);
      s = raw;
    }
    for (int iter = 0; iter < 300; ++iter) {
      AddInputs in;
      for (int i = 0; i < 6; ++i) {
        in.a[i] = static_cast<float>(id * 1000 + iter);
        in.b[i] = static_cast<float>(i);
      }
      for (int i = 0; i < 4; ++i)
        in.ids[i] = (id + iter + i) % 10;
      AddOutputs out;
      Status st = runAdd(s, in.named(), out);
      bool ok = !st;
      for (int i = 0; ok && i < 6; ++i)
        ok = out.sum[i] == in.a[i] + in.b[i];
      for (int i = 0; ok && i < 4; ++i)
        ok = out.twice[i] == 2 * in.ids[i];
      if (!ok) {
        errors[id] = st ? st.message() : "wrong result";
        ++failures;
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int id = 0; id < 4; ++id)
    threads.emplace_back(worker, id);
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0)
      << errors[0] << errors[1] << errors[2] << errors[3];
}

//===----------------------------------------------------------------------===//
// parallel_for, through the pfor model
//===----------------------------------------------------------------------===//

struct PforResult {
  std::vector<int32_t> counts = std::vector<int32_t>(1000);
  std::vector<int32_t> inner = std::vector<int32_t>(8000);
  std::vector<uint64_t> tids = std::vector<uint64_t>(1000);
  int32_t info[3] = {};
};

PforResult runPfor(TesseraSession *s, int64_t n, int64_t inner,
                   int64_t sleepUs) {
  static const int64_t one[] = {1};
  std::vector<TesseraInput> in = {
      {"n", &n, TESSERA_DTYPE_INT64, 1, one},
      {"inner", &inner, TESSERA_DTYPE_INT64, 1, one},
      {"sleep_us", &sleepUs, TESSERA_DTYPE_INT64, 1, one}};
  PforResult r;
  std::fill(r.counts.begin(), r.counts.end(), -7);
  std::vector<TesseraOutputBuffer> out = {
      {"counts", r.counts.data(), r.counts.size() * 4},
      {"inner_counts", r.inner.data(), r.inner.size() * 4},
      {"tids", r.tids.data(), r.tids.size() * 8},
      {"info", r.info, sizeof r.info}};
  Status st =
      tessera_session_run(s, in.data(), in.size(), out.data(), out.size());
  EXPECT_FALSE(st) << st.message();
  return r;
}

TEST(RuntimeParallelFor, CoversEveryIndexExactlyOnce) {
  ModelPtr m = loadOrFail(modelPath("pfor_model"));
  ASSERT_TRUE(m);
  for (int32_t threads = 1; threads <= 4; ++threads) {
    SessionPtr s = sessionOrFail(m.get(), threads);
    for (int64_t n : {0, 1, 7, 1000}) {
      // Repeat: a reused pool must behave like a fresh one.
      for (int rep = 0; rep < 3; ++rep) {
        PforResult r = runPfor(s.get(), n, 0, 0);
        EXPECT_EQ(r.info[0], threads);
        EXPECT_EQ(r.info[1], 0) << "a body got an empty or out-of-bounds range";
        EXPECT_LE(r.info[2], std::max<int64_t>(n, 0));
        EXPECT_EQ(r.info[2] > 0, n > 0);
        for (int64_t i = 0; i < 1000; ++i)
          ASSERT_EQ(r.counts[i], i < n ? 1 : 0)
              << "index " << i << ", n = " << n << ", threads = " << threads;
      }
    }
  }
}

TEST(RuntimeParallelFor, NestedCallsRunEveryIndex) {
  ModelPtr m = loadOrFail(modelPath("pfor_model"));
  ASSERT_TRUE(m);
  for (int32_t threads : {1, 3, 4}) {
    SessionPtr s = sessionOrFail(m.get(), threads);
    for (int64_t n : {1, 7, 100}) {
      PforResult r = runPfor(s.get(), n, 8, 0);
      EXPECT_EQ(r.info[1], 0);
      for (int64_t i = 0; i < 1000; ++i) {
        ASSERT_EQ(r.counts[i], i < n ? 1 : 0) << i;
        for (int64_t j = 0; j < 8; ++j)
          ASSERT_EQ(r.inner[i * 8 + j], i < n ? 1 : 0)
              << "outer " << i << " inner " << j;
      }
    }
  }
}

TEST(RuntimeParallelFor, UsesSeveralThreads) {
  ModelPtr m = loadOrFail(modelPath("pfor_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 4);
  // Each of 8 iterations sleeps 20 ms: the idle workers have ample time to
  // wake up and take some.
  PforResult r = runPfor(s.get(), 8, 0, 20000);
  std::set<uint64_t> tids(r.tids.begin(), r.tids.begin() + 8);
  EXPECT_GE(tids.size(), 2u);
  EXPECT_EQ(tids.count(0), 0u);

  SessionPtr serial = sessionOrFail(m.get(), 1);
  PforResult r1 = runPfor(serial.get(), 8, 0, 0);
  std::set<uint64_t> tids1(r1.tids.begin(), r1.tids.begin() + 8);
  EXPECT_EQ(tids1.size(), 1u);
}

TEST(RuntimeParallelFor, ConcurrentSessions) {
  ModelPtr m = loadOrFail(modelPath("pfor_model"));
  ASSERT_TRUE(m);
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      SessionPtr s = sessionOrFail(m.get(), 2 + t % 2);
      for (int rep = 0; rep < 50; ++rep) {
        int64_t n = (rep * 37 + t) % 1000 + 1;
        PforResult r = runPfor(s.get(), n, rep % 3, 0);
        for (int64_t i = 0; i < 1000; ++i)
          if (r.counts[i] != (i < n ? 1 : 0))
            ++bad;
      }
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(bad.load(), 0);
}

//===----------------------------------------------------------------------===//
// The session's allocator (ctx->alloc / ctx->free), through the alloc model
//===----------------------------------------------------------------------===//

struct AllocResult {
  uint64_t addrs[5] = {};
  int32_t info[4] = {-1, -1, -1, -1};
  std::set<uint64_t> addrSet() const { return {addrs, addrs + 5}; }
};

AllocResult runAlloc(TesseraSession *s, int64_t n, int64_t leak = 0) {
  static const int64_t one[] = {1};
  std::vector<TesseraInput> in = {{"n", &n, TESSERA_DTYPE_INT64, 1, one},
                                  {"leak", &leak, TESSERA_DTYPE_INT64, 1, one}};
  AllocResult r;
  std::vector<TesseraOutputBuffer> out = {{"addrs", r.addrs, sizeof r.addrs},
                                          {"info", r.info, sizeof r.info}};
  Status st =
      tessera_session_run(s, in.data(), in.size(), out.data(), out.size());
  EXPECT_FALSE(st) << st.message();
  return r;
}

/// No misaligned, NULL or corrupted block; the bad alignment was rejected.
void expectAllocOk(const AllocResult &r) {
  EXPECT_EQ(r.info[0], 0) << "misaligned blocks";
  EXPECT_EQ(r.info[1], 0) << "NULL blocks";
  EXPECT_EQ(r.info[2], 1) << "alignment 96 was accepted";
  EXPECT_EQ(r.info[3], 0) << "corrupted blocks";
}

TEST(RuntimeAllocator, BlocksAreDistinctAlignedAndReusedAcrossRuns) {
  ModelPtr m = loadOrFail(modelPath("alloc_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 1);
  AllocResult first = runAlloc(s.get(), 0);
  expectAllocOk(first);
  // Five live blocks, the 0-byte one included, are five distinct addresses.
  EXPECT_EQ(first.addrSet().size(), 5u);
  for (uint64_t a : first.addrs)
    EXPECT_EQ(a % 64, 0u);
  EXPECT_EQ(first.addrs[1] % 128, 0u);
  EXPECT_EQ(first.addrs[3] % 4096, 0u);
  // Later runs ask for the same sizes and get the same blocks back.
  for (int rep = 0; rep < 3; ++rep) {
    AllocResult again = runAlloc(s.get(), 0);
    expectAllocOk(again);
    EXPECT_EQ(again.addrSet(), first.addrSet()) << "run " << rep + 2;
    // The 4096/128 and 1 MiB/4096 keys have one block each.
    EXPECT_EQ(again.addrs[1], first.addrs[1]);
    EXPECT_EQ(again.addrs[3], first.addrs[3]);
  }
}

TEST(RuntimeAllocator, LiveBlocksAreNotHandedOutAgain) {
  ModelPtr m = loadOrFail(modelPath("alloc_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 2);
  // Each run keeps its first block; the session frees it when destroyed.
  std::set<uint64_t> leaked;
  for (int rep = 0; rep < 4; ++rep) {
    AllocResult r = runAlloc(s.get(), 16, /*leak=*/1);
    expectAllocOk(r);
    EXPECT_EQ(leaked.count(r.addrs[0]), 0u) << "a live block came back";
    EXPECT_EQ(leaked.count(r.addrs[4]), 0u) << "a live block came back";
    leaked.insert(r.addrs[0]);
  }
}

TEST(RuntimeAllocator, ParallelBodiesAllocateAndOtherThreadsFree) {
  ModelPtr m = loadOrFail(modelPath("alloc_model"));
  ASSERT_TRUE(m);
  for (int32_t threads : {1, 4}) {
    SessionPtr s = sessionOrFail(m.get(), threads);
    AllocResult first = runAlloc(s.get(), 256);
    expectAllocOk(first);
    for (int rep = 0; rep < 20; ++rep) {
      AllocResult r = runAlloc(s.get(), 256);
      expectAllocOk(r);
      EXPECT_EQ(r.addrSet(), first.addrSet());
    }
  }
}

TEST(RuntimeAllocator, SessionsDoNotShareBlocks) {
  ModelPtr m = loadOrFail(modelPath("alloc_model"));
  ASSERT_TRUE(m);
  SessionPtr a = sessionOrFail(m.get(), 1);
  SessionPtr b = sessionOrFail(m.get(), 1);
  AllocResult ra = runAlloc(a.get(), 0);
  AllocResult rb = runAlloc(b.get(), 0);
  expectAllocOk(ra);
  expectAllocOk(rb);
  // a's blocks are cached by a (still allocated), so b has its own.
  for (uint64_t addr : rb.addrs)
    EXPECT_EQ(ra.addrSet().count(addr), 0u);
}

TEST(RuntimeAllocator, ConcurrentSessionsAndConcurrentRunsOnOneSession) {
  ModelPtr m = loadOrFail(modelPath("alloc_model"));
  ASSERT_TRUE(m);
  SessionPtr shared = sessionOrFail(m.get(), 3);
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      // Threads 0 and 1 share a session (its runs take turns); 2 and 3
      // have their own.
      SessionPtr own = t >= 2 ? sessionOrFail(m.get(), 2) : nullptr;
      TesseraSession *s = t >= 2 ? own.get() : shared.get();
      for (int rep = 0; rep < 30; ++rep) {
        AllocResult r = runAlloc(s, (rep * 37 + t) % 257);
        if (r.info[0] || r.info[1] || r.info[2] != 1 || r.info[3])
          ++bad;
      }
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(bad.load(), 0);
}

//===----------------------------------------------------------------------===//
// The C++ wrapper
//===----------------------------------------------------------------------===//

TEST(RuntimeCpp, LoadRunAndErrors) {
  tessera::Model model = tessera::Model::load(modelPath("add_model"));
  ASSERT_EQ(model.numInputs(), 3u);
  tessera::TensorInfo ids = model.input(2);
  EXPECT_EQ(ids.name, "ids");
  EXPECT_STREQ(ids.dtypeName(), "int64");
  EXPECT_EQ(ids.dims, std::vector<int64_t>({4}));
  EXPECT_TRUE(ids.hasIndexRange);
  EXPECT_EQ(ids.indexMax, 9);
  EXPECT_EQ(model.outputs().at(1).name, "ids_twice");
  EXPECT_THROW(model.input(3), tessera::Error);

  tessera::Session session(model, 2);
  EXPECT_EQ(session.numThreads(), 2);
  AddInputs in;
  std::vector<tessera::Input> inputs = {
      tessera::Input::of<float>("b", in.b, {2, 3}),
      tessera::Input::of<float>("a", in.a, {2, 3}),
      tessera::Input::of<int64_t>("ids", in.ids, {4})};
  std::vector<tessera::Tensor> out = session.run(inputs);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name(), "sum");
  EXPECT_EQ(out[0].dims(), std::vector<int64_t>({2, 3}));
  EXPECT_EQ(out[0].as<float>()[4], in.a[4] + in.b[4]);
  EXPECT_EQ(out[1].as<int64_t>()[3], 2 * in.ids[3]);

  inputs[2] = tessera::Input::of<float>("ids", in.a, {4});
  try {
    session.run(inputs);
    FAIL() << "expected an error";
  } catch (const tessera::Error &e) {
    EXPECT_EQ(e.code(), TESSERA_ERROR_INVALID_ARGUMENT);
    EXPECT_STREQ(e.what(), "input 'ids': expected dtype int64, got float32");
  }

  try {
    tessera::Model::load(modelPath("wrong_abi"));
    FAIL() << "expected an error";
  } catch (const tessera::Error &e) {
    EXPECT_EQ(e.code(), TESSERA_ERROR_ABI_VERSION);
  }

  tessera::Model failing = tessera::Model::load(modelPath("fail_model"));
  tessera::Session failSession(failing, 1);
  float x = 7, y = 0;
  try {
    failSession.run({tessera::Input::of<float>("", &x, {1})},
                    {{"", &y, sizeof y}});
    FAIL() << "expected an error";
  } catch (const tessera::Error &e) {
    EXPECT_EQ(e.code(), TESSERA_ERROR_ENTRY);
    EXPECT_EQ(e.entryCode(), 7);
  }
}

//===----------------------------------------------------------------------===//
// Linking: the runtime and tessera-run do not depend on LLVM or MLIR
//===----------------------------------------------------------------------===//

/// Runs a shell command; returns its exit status and stdout.
int shell(const std::string &cmd, std::string *out = nullptr) {
  FILE *p = popen(cmd.c_str(), "r");
  if (!p)
    return -1;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    text.append(buf, n);
  int rc = pclose(p);
  if (out)
    *out = text;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

//===----------------------------------------------------------------------===//
// External weights: weights_model.so (y = x + w) maps weights_model.so.weights
//===----------------------------------------------------------------------===//

constexpr uint64_t kWeightsChecksum = 0x68a12e86f38d22b0ull;

std::vector<float> modelWeights() {
  std::vector<float> w(64);
  for (int i = 0; i < 64; ++i)
    w[i] = 0.5f * i - 3.0f;
  return w;
}

/// A weights file: header (with `checksum`, default: of the data) + data.
std::string weightsFile(const std::vector<float> &w,
                        std::optional<uint64_t> checksum = std::nullopt) {
  TesseraWeightsFileHeader h = {};
  std::memcpy(h.magic, TESSERA_WEIGHTS_MAGIC, TESSERA_WEIGHTS_MAGIC_SIZE);
  h.format_version = TESSERA_WEIGHTS_FORMAT_VERSION;
  h.header_size = TESSERA_WEIGHTS_HEADER_SIZE;
  h.data_offset = TESSERA_WEIGHTS_HEADER_SIZE;
  h.data_size = w.size() * sizeof(float);
  h.checksum =
      checksum ? *checksum : tessera_weights_checksum(w.data(), h.data_size);
  std::string bytes(reinterpret_cast<const char *>(&h), sizeof h);
  bytes.append(reinterpret_cast<const char *>(w.data()), h.data_size);
  return bytes;
}

/// A copy of weights_model.so in a fresh directory (a new library for
/// dlopen, with its own weight pointer), with `weights` beside it unless
/// empty.
struct WeightsModelDir {
  TempDir dir;
  std::string lib;
  explicit WeightsModelDir(const std::string &weights,
                           const std::string &libName = "weights_model.so") {
    lib = dir.file(libName);
    fs::copy_file(modelPath("weights_model"), lib);
    if (!weights.empty())
      writeBytes(dir.file("weights_model.so.weights"), weights);
  }
};

/// Runs y = x + w on a loaded weights model and checks y.
void expectWeightsModelRuns(const TesseraModel *m) {
  SessionPtr s = sessionOrFail(m, 2);
  ASSERT_TRUE(s);
  std::vector<float> x(64), y(64, -1.0f), w = modelWeights();
  for (int i = 0; i < 64; ++i)
    x[i] = float(i);
  int64_t dims[1] = {64};
  TesseraInput in = {"x", x.data(), TESSERA_DTYPE_FLOAT, 1, dims};
  TesseraOutputBuffer out = {"y", y.data(), y.size() * sizeof(float)};
  Status st = tessera_session_run(s.get(), &in, 1, &out, 1);
  ASSERT_FALSE(st) << st.message() << " (entry code "
                   << tessera_status_entry_code(st.s) << ")";
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(y[i], x[i] + w[i]) << i;
}

TEST(RuntimeWeights, TestModelChecksumMatchesTheFormat) {
  std::vector<float> w = modelWeights();
  EXPECT_EQ(tessera_weights_checksum(w.data(), w.size() * sizeof(float)),
            kWeightsChecksum);
  EXPECT_EQ(sizeof(TesseraWeightsFileHeader), 64u);
}

TEST(RuntimeWeights, LoadsAndRunsWithMappedWeights) {
  WeightsModelDir d(weightsFile(modelWeights()));
  ModelPtr m = loadOrFail(d.lib);
  ASSERT_TRUE(m);
  expectWeightsModelRuns(m.get());
}

TEST(RuntimeWeights, LibraryRenamedKeepsItsWeightsFileName) {
  // The library records "weights_model.so.weights"; it is looked for in the
  // library's directory, whatever the library is called now.
  WeightsModelDir d(weightsFile(modelWeights()), "renamed.so");
  ModelPtr m = loadOrFail(d.lib);
  ASSERT_TRUE(m);
  expectWeightsModelRuns(m.get());
}

TEST(RuntimeWeights, SymbolicLinkFindsWeightsBesideItsTarget) {
  WeightsModelDir d(weightsFile(modelWeights()));
  TempDir other;
  fs::create_symlink(d.lib, other.file("link.so"));
  ModelPtr m = loadOrFail(other.file("link.so"));
  ASSERT_TRUE(m);
  expectWeightsModelRuns(m.get());
}

TEST(RuntimeWeights, MissingFile) {
  WeightsModelDir d("");
  expectLoadError(
      d.lib, TESSERA_ERROR_WEIGHTS,
      {"weights_model.so.weights", "cannot be opened", "No such file"});
}

TEST(RuntimeWeights, TruncatedFile) {
  std::string full = weightsFile(modelWeights());
  WeightsModelDir d(full.substr(0, full.size() - 4));
  expectLoadError(
      d.lib, TESSERA_ERROR_WEIGHTS,
      {"weights_model.so.weights", "316 bytes, expected 320", "truncated"});
  WeightsModelDir h(full.substr(0, 10));
  expectLoadError(h.lib, TESSERA_ERROR_WEIGHTS,
                  {"is truncated", "10 bytes", "less than its header"});
  WeightsModelDir e(std::string(""));
  writeBytes(e.dir.file("weights_model.so.weights"), "");
  expectLoadError(e.lib, TESSERA_ERROR_WEIGHTS, {"0 bytes"});
}

TEST(RuntimeWeights, WrongMagicAndVersion) {
  std::string bytes = weightsFile(modelWeights());
  bytes[0] = 'X';
  WeightsModelDir d(bytes);
  expectLoadError(d.lib, TESSERA_ERROR_WEIGHTS,
                  {"not a Tessera weights file", "bad magic"});
  std::string v = weightsFile(modelWeights());
  v[8] = 7; // format_version
  WeightsModelDir dv(v);
  expectLoadError(dv.lib, TESSERA_ERROR_WEIGHTS,
                  {"format version 7", "expects version 1"});
  WeightsModelDir text("this is not a weights file at all, but it is long "
                       "enough to hold a header of sixty-four bytes.....");
  expectLoadError(text.lib, TESSERA_ERROR_WEIGHTS, {"bad magic"});
}

TEST(RuntimeWeights, FileOfAnotherModel) {
  // Other weights of the same size: their header carries their checksum.
  std::vector<float> other = modelWeights();
  other[3] = 42.0f;
  WeightsModelDir d(weightsFile(other));
  expectLoadError(d.lib, TESSERA_ERROR_WEIGHTS,
                  {"belongs to another model", "0x68a12e86f38d22b0"});
  // And of another size.
  WeightsModelDir s(weightsFile(std::vector<float>(16, 1.0f)));
  expectLoadError(s.lib, TESSERA_ERROR_WEIGHTS,
                  {"belongs to another model", "64 bytes", "256 bytes"});
}

TEST(RuntimeWeights, CorruptedData) {
  // The header is right, the data is not.
  std::vector<float> bad = modelWeights();
  bad[63] = 1e9f;
  WeightsModelDir d(weightsFile(bad, kWeightsChecksum));
  expectLoadError(d.lib, TESSERA_ERROR_WEIGHTS, {"is corrupted", "checksum"});
}

TEST(RuntimeWeights, DirectoryInsteadOfFile) {
  WeightsModelDir d("");
  fs::create_directory(d.dir.file("weights_model.so.weights"));
  TesseraModel *m = nullptr;
  Status st = tessera_model_load(d.lib.c_str(), &m);
  ASSERT_TRUE(st);
  EXPECT_EQ(m, nullptr);
  EXPECT_EQ(st.code(), TESSERA_ERROR_WEIGHTS) << st.message();
}

TEST(RuntimeWeights, LoadTwiceSharesOneMapping) {
  WeightsModelDir d(weightsFile(modelWeights()));
  ModelPtr a = loadOrFail(d.lib);
  ASSERT_TRUE(a);
  // The second load gets the same library; the weights stay bound once and
  // survive the first model's unload.
  ModelPtr b = loadOrFail(d.lib);
  ASSERT_TRUE(b);
  void *h = dlopen(d.lib.c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(h, nullptr);
  auto count =
      reinterpret_cast<int (*)()>(dlsym(h, "weights_model_bind_count"));
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(count(), 1);
  a.reset();
  expectWeightsModelRuns(b.get());
  dlclose(h);
}

TEST(RuntimeWeights, FromDescriptorFindsWeightsBesideItsObject) {
  WeightsModelDir d(weightsFile(modelWeights()));
  void *h = dlopen(d.lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(h, nullptr) << dlerror();
  auto *desc =
      static_cast<const TesseraModelDesc *>(dlsym(h, TESSERA_MODEL_SYMBOL));
  ASSERT_NE(desc, nullptr);
  {
    TesseraModel *m = nullptr;
    Status st = tessera_model_from_descriptor(desc, &m);
    ASSERT_FALSE(st) << st.message();
    ModelPtr owned(m);
    expectWeightsModelRuns(m);
  }
  dlclose(h);
}

TEST(RuntimeWeights, FromDescriptorWithExplicitWeightsPath) {
  WeightsModelDir d("");
  std::string elsewhere = d.dir.file("elsewhere.bin");
  writeBytes(elsewhere, weightsFile(modelWeights()));
  void *h = dlopen(d.lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(h, nullptr) << dlerror();
  auto *desc =
      static_cast<const TesseraModelDesc *>(dlsym(h, TESSERA_MODEL_SYMBOL));
  ASSERT_NE(desc, nullptr);
  {
    TesseraModel *m = nullptr;
    Status missing = tessera_model_from_descriptor(desc, &m);
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing.code(), TESSERA_ERROR_WEIGHTS);
    EXPECT_NE(missing.message().find("<embedded model>"), std::string::npos);
    Status st =
        tessera_model_from_descriptor_with_weights(desc, elsewhere.c_str(), &m);
    ASSERT_FALSE(st) << st.message();
    ModelPtr owned(m);
    expectWeightsModelRuns(m);
    // The C++ wrapper passes the path through.
    tessera::Model cpp = tessera::Model::fromDescriptor(desc, elsewhere);
    EXPECT_EQ(cpp.numInputs(), 1u);
  }
  dlclose(h);
}

TEST(RuntimeLinking, NoLlvmOrMlirDependencies) {
  for (const char *binary : {TESSERA_RUNTIME_SHARED_PATH, TESSERA_RUN_PATH}) {
    std::string out;
    if (shell(std::string("readelf -d '") + binary + "' 2>/dev/null", &out) !=
        0)
      GTEST_SKIP() << "readelf is not available";
    EXPECT_NE(out.find("(NEEDED)"), std::string::npos) << binary;
    EXPECT_EQ(out.find("LLVM"), std::string::npos) << binary << "\n" << out;
    EXPECT_EQ(out.find("MLIR"), std::string::npos) << binary << "\n" << out;
  }
}

TEST(RuntimeLinking, SharedLibraryExportsTheCApi) {
  void *h = dlopen(TESSERA_RUNTIME_SHARED_PATH, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(h, nullptr) << dlerror();
  auto version =
      reinterpret_cast<uint32_t (*)()>(dlsym(h, "tessera_runtime_abi_version"));
  auto load = reinterpret_cast<decltype(&tessera_model_load)>(
      dlsym(h, "tessera_model_load"));
  auto numInputs = reinterpret_cast<decltype(&tessera_model_num_inputs)>(
      dlsym(h, "tessera_model_num_inputs"));
  auto unload = reinterpret_cast<decltype(&tessera_model_unload)>(
      dlsym(h, "tessera_model_unload"));
  ASSERT_TRUE(version && load && numInputs && unload);
  EXPECT_EQ(version(), TESSERA_ABI_VERSION);
  // Internals stay hidden.
  EXPECT_EQ(dlsym(h, "_ZN7tessera10ThreadPool11parallelForElPFvPvllES1_"),
            nullptr);
  TesseraModel *m = nullptr;
  TesseraStatus *st = load(modelPath("add_model").c_str(), &m);
  EXPECT_EQ(st, nullptr);
  EXPECT_EQ(numInputs(m), 3u);
  unload(m);
  dlclose(h);
}

//===----------------------------------------------------------------------===//
// tessera-run
//===----------------------------------------------------------------------===//

/// An .npy v1.0 file, written independently of tessera-run's writer.
std::string npy(const std::string &descr, const std::vector<int64_t> &shape,
                const void *data, size_t bytes, bool fortran = false) {
  std::string dims;
  for (int64_t d : shape)
    dims += std::to_string(d) + ",";
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char *>(data), bytes);
  return out;
}

/// Splits an .npy file into its header dict text and its data.
bool splitNpy(const std::string &file, std::string &header, std::string &data) {
  if (file.size() < 10 || file.compare(0, 6, "\x93NUMPY") != 0 ||
      file[6] != 1 || file[7] != 0)
    return false;
  size_t len = static_cast<unsigned char>(file[8]) |
               static_cast<size_t>(static_cast<unsigned char>(file[9])) << 8;
  if ((10 + len) % 64 != 0 || file.size() < 10 + len)
    return false;
  header = file.substr(10, len);
  data = file.substr(10 + len);
  return header.back() == '\n';
}

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

RunResult tesseraRun(const std::string &args, const TempDir &dir) {
  std::string outFile = dir.file("stdout.txt"),
              errFile = dir.file("stderr.txt");
  std::string cmd = std::string("'") + TESSERA_RUN_PATH + "' " + args + " >'" +
                    outFile + "' 2>'" + errFile + "'";
  int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, readBytes(outFile),
          readBytes(errFile)};
}

/// The run failed cleanly: exit 1, one error line mentioning `part`.
void expectRunError(const RunResult &r, const std::string &part) {
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("tessera-run: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(part), std::string::npos)
      << "'" << r.err << "' lacks '" << part << "'";
}

class TesseraRunTest : public ::testing::Test {
protected:
  void SetUp() override {
    writeBytes(dir.file("a.npy"), npy("<f4", {2, 3}, in.a, sizeof in.a));
    writeBytes(dir.file("b.npy"), npy("<f4", {2, 3}, in.b, sizeof in.b));
    writeBytes(dir.file("ids.npy"), npy("<i8", {4}, in.ids, sizeof in.ids));
  }
  std::string model() const { return "'" + modelPath("add_model") + "'"; }
  std::string q(const std::string &name) const {
    return "'" + dir.file(name) + "'";
  }
  std::string allInputs() const {
    return " --input a=" + q("a.npy") + " --input b=" + q("b.npy") +
           " --input ids=" + q("ids.npy");
  }

  TempDir dir;
  AddInputs in;
};

TEST_F(TesseraRunTest, NpyInputsWriteNpyOutputs) {
  RunResult r = tesseraRun(model() + allInputs() + " --output-dir " + q("out") +
                               " --quiet --threads 2",
                           dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");

  std::string header, data;
  ASSERT_TRUE(splitNpy(readBytes(dir.file("out/sum.npy")), header, data));
  EXPECT_EQ(header.find("{'descr': '<f4', 'fortran_order': False, 'shape': "
                        "(2, 3), }"),
            0u)
      << header;
  float expected[6];
  for (int i = 0; i < 6; ++i)
    expected[i] = in.a[i] + in.b[i];
  ASSERT_EQ(data.size(), sizeof expected);
  EXPECT_EQ(std::memcmp(data.data(), expected, sizeof expected), 0);

  ASSERT_TRUE(splitNpy(readBytes(dir.file("out/ids_twice.npy")), header, data));
  EXPECT_EQ(header.find("{'descr': '<i8', 'fortran_order': False, 'shape': "
                        "(4,), }"),
            0u)
      << header;
  int64_t twice[4];
  for (int i = 0; i < 4; ++i)
    twice[i] = 2 * in.ids[i];
  ASSERT_EQ(data.size(), sizeof twice);
  EXPECT_EQ(std::memcmp(data.data(), twice, sizeof twice), 0);
  // No temporary files are left behind.
  EXPECT_FALSE(fs::exists(dir.file("out/sum.npy.tmp")));
}

TEST_F(TesseraRunTest, PositionalInputsAndSummary) {
  in.a[0] = 2.5f;
  SetUp();
  RunResult r = tesseraRun(model() + " --input " + q("a.npy") + " --input " +
                               q("b.npy") + " --input " + q("ids.npy"),
                           dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("sum: float32 [2, 3] = [3, 1, 13, 4.25, 0, 106]"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("ids_twice: int64 [4] = [0, 6, 18, 14]"),
            std::string::npos)
      << r.out;

  // A file name containing '=' whose prefix is no input name is positional.
  fs::copy_file(dir.file("a.npy"), dir.file("x=1.npy"));
  RunResult r2 = tesseraRun(model() + " --input " + q("x=1.npy") + " --input " +
                                q("b.npy") + " --input ids=" + q("ids.npy"),
                            dir);
  ASSERT_EQ(r2.code, 0) << r2.err;
  EXPECT_NE(r2.out.find("sum: float32 [2, 3] = [3, 1, 13, 4.25, 0, 106]"),
            std::string::npos)
      << r2.out;
}

TEST_F(TesseraRunTest, OnnxTensorProtoInputs) {
  // Typed fields (float_data, int64_data) rather than raw_data.
  onnx::TensorProto a;
  a.set_data_type(onnx::TensorProto::FLOAT);
  a.add_dims(2);
  a.add_dims(3);
  for (float v : in.a)
    a.add_float_data(v);
  onnx::TensorProto ids;
  ids.set_data_type(onnx::TensorProto::INT64);
  ids.add_dims(4);
  for (int64_t v : in.ids)
    ids.add_int64_data(v);
  // raw_data for b.
  onnx::TensorProto b;
  b.set_data_type(onnx::TensorProto::FLOAT);
  b.add_dims(2);
  b.add_dims(3);
  b.set_raw_data(
      std::string(reinterpret_cast<const char *>(in.b), sizeof in.b));
  writeBytes(dir.file("a.pb"), a.SerializeAsString());
  writeBytes(dir.file("b.pb"), b.SerializeAsString());
  writeBytes(dir.file("ids.pb"), ids.SerializeAsString());

  RunResult r = tesseraRun(
      model() + " --input=ids=" + q("ids.pb") + " --input a=" + q("a.pb") +
          " --input b=" + q("b.pb") + " --output-dir=" + q("o") + " --quiet",
      dir);
  ASSERT_EQ(r.code, 0) << r.err;
  std::string header, data;
  ASSERT_TRUE(splitNpy(readBytes(dir.file("o/sum.npy")), header, data));
  ASSERT_EQ(data.size(), 24u);
  const float *sum = reinterpret_cast<const float *>(data.data());
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(sum[i], in.a[i] + in.b[i]);
}

TEST_F(TesseraRunTest, OnnxNodeTestData) {
  std::string base =
      std::string(TESSERA_NODE_TESTDATA) + "/test_relu/test_data_set_0/";
  if (!fs::exists(base + "input_0.pb"))
    GTEST_SKIP() << "libonnx-testdata is not installed";
  RunResult r =
      tesseraRun("'" + modelPath("relu_model") + "' --input '" + base +
                     "input_0.pb' --output-dir " + q("out") + " --quiet",
                 dir);
  ASSERT_EQ(r.code, 0) << r.err;
  onnx::TensorProto expected;
  ASSERT_TRUE(expected.ParseFromString(readBytes(base + "output_0.pb")));
  ASSERT_TRUE(expected.has_raw_data());
  std::string header, data;
  ASSERT_TRUE(splitNpy(readBytes(dir.file("out/y.npy")), header, data));
  EXPECT_NE(header.find("'shape': (3, 4, 5)"), std::string::npos) << header;
  EXPECT_EQ(data, expected.raw_data());
}

TEST_F(TesseraRunTest, Bench) {
  RunResult r =
      tesseraRun(model() + allInputs() + " --bench 5 --threads 2 --quiet", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  double median, min, max;
  int runs, threads;
  ASSERT_EQ(std::sscanf(r.out.c_str(),
                        "latency: median %lf ms, min %lf ms, max %lf ms (%d "
                        "runs, %d threads)",
                        &median, &min, &max, &runs, &threads),
            5)
      << r.out;
  EXPECT_EQ(runs, 5);
  EXPECT_EQ(threads, 2);
  EXPECT_LE(min, median);
  EXPECT_LE(median, max);
}

TEST_F(TesseraRunTest, OutputNamesAreSanitized) {
  float x[6] = {1, -2, 3, -4, 5, -6};
  writeBytes(dir.file("x.npy"), npy("<f4", {2, 3}, x, sizeof x));
  RunResult r = tesseraRun("'" + modelPath("odd_output_name") + "' --input " +
                               q("x.npy") + " --output-dir " + q("nested/dir"),
                           dir);
  ASSERT_EQ(r.code, 0) << r.err;
  // The summary keeps the real name; the file name replaces '/' and ':'.
  EXPECT_NE(r.out.find("block/0:out: float32 [2, 3] = [1, -2, 3, -4, 5, -6]"),
            std::string::npos)
      << r.out;
  std::string header, data;
  ASSERT_TRUE(splitNpy(readBytes(dir.file("nested/dir/block_0_out.npy")),
                       header, data));
  ASSERT_EQ(data.size(), sizeof x);
  EXPECT_EQ(std::memcmp(data.data(), x, sizeof x), 0);
}

TEST_F(TesseraRunTest, Generate) {
  // models/kv_model.c: logits [B, S, 2] = (what the query sees, P), so
  // greedy decoding picks token 0 at every step.
  int64_t ids[] = {1, 2, 3, 4, 5, 6};
  writeBytes(dir.file("prompt.npy"), npy("<i8", {2, 3}, ids, sizeof ids));
  for (const char *name : {"kv_model", "kv_model_in_place"}) {
    RunResult r = tesseraRun("'" + modelPath(name) + "' --generate 4 --input " +
                                 "input_ids=" + q("prompt.npy") +
                                 " --output-dir " + q(name),
                             dir);
    ASSERT_EQ(r.code, 0) << r.err;
    // Timed loops run into the logits buffers the first loop sized, and
    // must reproduce its tokens and logits (else tessera-run fails).
    RunResult timed =
        tesseraRun("'" + modelPath(name) + "' --generate 4 --bench 2 --input " +
                       "input_ids=" + q("prompt.npy"),
                   dir);
    ASSERT_EQ(timed.code, 0) << timed.err;
    EXPECT_NE(timed.out.find("prefill: "), std::string::npos) << timed.out;
    EXPECT_NE(timed.out.find("median of 2 runs"), std::string::npos)
        << timed.out;
    EXPECT_NE(r.out.find("tokens[0]: 0 0 0 0\ntokens[1]: 0 0 0 0\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("prefill: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(std::string("ms/token (3 steps, batch 2, ")),
              std::string::npos)
        << r.out;
    bool inPlace = std::string(name) == "kv_model_in_place";
    EXPECT_NE(r.out.find(inPlace ? "cache in place" : "cache in two buffers"),
              std::string::npos)
        << r.out;
    std::string header, data;
    ASSERT_TRUE(splitNpy(readBytes(dir.file(std::string(name) + "/tokens.npy")),
                         header, data));
    EXPECT_NE(header.find("'shape': (2, 4)"), std::string::npos) << header;
    ASSERT_TRUE(splitNpy(readBytes(dir.file(std::string(name) + "/logits.npy")),
                         header, data));
    EXPECT_NE(header.find("'shape': (2, 4, 2)"), std::string::npos) << header;
  }
  expectRunError(tesseraRun("'" + modelPath("dynamic_model") +
                                "' --generate 2 --input x=" + q("a.npy"),
                            dir),
                 "no past/present (KV cache) pairs");
  expectRunError(tesseraRun("'" + modelPath("kv_model_unpaired") +
                                "' --generate 2 --input input_ids=" +
                                q("prompt.npy"),
                            dir),
                 "no output 'present.0.key'");
  expectRunError(
      tesseraRun("'" + modelPath("kv_model_int_logits") +
                     "' --generate 2 --input input_ids=" + q("prompt.npy"),
                 dir),
      "output 'logits' must be float32, float16 or bfloat16 "
      "[batch, sequence, vocab]");
}

TEST_F(TesseraRunTest, Errors) {
  expectRunError(
      tesseraRun("'" + dir.file("missing.so") + "' --input " + q("a.npy"), dir),
      "missing.so");
  expectRunError(tesseraRun(model() + " --input a=" + q("nope.npy") +
                                " --input b=" + q("b.npy") +
                                " --input ids=" + q("ids.npy"),
                            dir),
                 "cannot open '" + dir.file("nope.npy") + "'");
  expectRunError(tesseraRun(model() + allInputs() + " --frobnicate", dir),
                 "unknown option '--frobnicate'");
  expectRunError(tesseraRun(model() + allInputs() + " --threads abc", dir),
                 "option '--threads' expects a whole number");
  expectRunError(tesseraRun(model() + allInputs() + " --threads -1", dir),
                 "option '--threads' expects a whole number");
  expectRunError(tesseraRun(model() + allInputs() + " --bench 0", dir),
                 "option '--bench' expects a whole number from 1");
  expectRunError(tesseraRun(model() + allInputs() + " --bench", dir),
                 "option '--bench' needs a value");
  expectRunError(tesseraRun(model() + allInputs() + " --quiet=yes", dir),
                 "option '--quiet' takes no value");
  expectRunError(tesseraRun(allInputs(), dir), "no model given");
  expectRunError(tesseraRun(model() + " " + model(), dir),
                 "unexpected argument");
  expectRunError(tesseraRun(model() + " --input a=" + q("a.npy"), dir),
                 "expected 3 inputs, got 1");
  expectRunError(
      tesseraRun(model() + allInputs() + " --input foo=" + q("a.npy"), dir),
      "unknown input 'foo' (inputs: a, b, ids)");

  // Wrong dtype: float64 data for a float32 input.
  double a64[6] = {1, 2, 3, 4, 5, 6};
  writeBytes(dir.file("a64.npy"), npy("<f8", {2, 3}, a64, sizeof a64));
  expectRunError(tesseraRun(model() + " --input a=" + q("a64.npy") +
                                " --input b=" + q("b.npy") +
                                " --input ids=" + q("ids.npy"),
                            dir),
                 "input 'a': expected dtype float32, got float64");

  // Out-of-range index.
  int64_t badIds[4] = {0, 1, 2, 30};
  writeBytes(dir.file("bad_ids.npy"), npy("<i8", {4}, badIds, sizeof badIds));
  expectRunError(tesseraRun(model() + " --input a=" + q("a.npy") +
                                " --input b=" + q("b.npy") +
                                " --input ids=" + q("bad_ids.npy"),
                            dir),
                 "input 'ids': value 30 at index [3] is out of range [0, 9]");

  // .npy files tessera-run must refuse.
  writeBytes(dir.file("fortran.npy"),
             npy("<f4", {2, 3}, in.a, sizeof in.a, /*fortran=*/true));
  expectRunError(tesseraRun(model() + " --input a=" + q("fortran.npy") +
                                " --input b=" + q("b.npy") +
                                " --input ids=" + q("ids.npy"),
                            dir),
                 "Fortran-order");
  writeBytes(dir.file("big.npy"), npy(">f4", {2, 3}, in.a, sizeof in.a));
  expectRunError(tesseraRun(model() + " --input a=" + q("big.npy") +
                                " --input b=" + q("b.npy") +
                                " --input ids=" + q("ids.npy"),
                            dir),
                 "big-endian");
  writeBytes(dir.file("short.npy"), npy("<f4", {2, 3}, in.a, 20));
  expectRunError(tesseraRun(model() + " --input a=" + q("short.npy") +
                                " --input b=" + q("b.npy") +
                                " --input ids=" + q("ids.npy"),
                            dir),
                 "truncated");
  writeBytes(dir.file("text.npy"), "hello, I am not a tensor\n");
  expectRunError(tesseraRun(model() + " --input a=" + q("text.npy") +
                                " --input b=" + q("b.npy") +
                                " --input ids=" + q("ids.npy"),
                            dir),
                 "neither a .npy file nor an ONNX TensorProto");

  // A .pb whose typed field does not match its shape.
  onnx::TensorProto shortProto;
  shortProto.set_data_type(onnx::TensorProto::FLOAT);
  shortProto.add_dims(2);
  shortProto.add_dims(3);
  shortProto.add_float_data(1);
  writeBytes(dir.file("short.pb"), shortProto.SerializeAsString());
  expectRunError(tesseraRun(model() + " --input a=" + q("short.pb") +
                                " --input b=" + q("b.npy") +
                                " --input ids=" + q("ids.npy"),
                            dir),
                 "float_data has 1 values, but shape [2, 3] needs 6");

  // Not a model at all.
  writeBytes(dir.file("x.so"), "plain text\n");
  expectRunError(tesseraRun(q("x.so") + allInputs(), dir),
                 "not a loadable shared library");

  // --help succeeds.
  RunResult help = tesseraRun("--help", dir);
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("usage: tessera-run"), std::string::npos);
}

/// Cross-checks the .npy reader and writer with numpy, when the system
/// Python has it.
TEST_F(TesseraRunTest, AgreesWithNumpy) {
  std::string python = TESSERA_SYSTEM_PYTHON;
  if (shell("'" + python + "' -c 'import numpy' 2>/dev/null") != 0)
    GTEST_SKIP() << "numpy is not available to " << python;
  // numpy writes the inputs.
  std::string script = "import numpy as np\n"
                       "np.save('" +
                       dir.file("na.npy") +
                       "', np.arange(6, dtype=np.float32)"
                       ".reshape(2, 3) / 4)\n"
                       "np.save('" +
                       dir.file("nb.npy") +
                       "', np.full((2, 3), -1.5, "
                       "dtype=np.float32))\n"
                       "np.save('" +
                       dir.file("nids.npy") + "', np.array([9, 8, 0, 1]))\n";
  writeBytes(dir.file("make.py"), script);
  ASSERT_EQ(shell("'" + python + "' " + q("make.py")), 0);

  RunResult r = tesseraRun(model() + " --input a=" + q("na.npy") +
                               " --input b=" + q("nb.npy") +
                               " --input ids=" + q("nids.npy") +
                               " --output-dir " + q("nout") + " --quiet",
                           dir);
  ASSERT_EQ(r.code, 0) << r.err;

  // numpy reads the outputs, checks them, and writes the same arrays again:
  // the files must be byte-identical to tessera-run's.
  std::string check =
      "import numpy as np, sys\n"
      "s = np.load('" +
      dir.file("nout/sum.npy") +
      "')\n"
      "t = np.load('" +
      dir.file("nout/ids_twice.npy") +
      "')\n"
      "want = np.arange(6, dtype=np.float32).reshape(2, 3) / 4 - 1.5\n"
      "assert s.dtype == np.float32 and s.shape == (2, 3), (s.dtype, s.shape)\n"
      "assert (s == want).all(), s\n"
      "assert t.dtype == np.int64 and (t == [18, 16, 0, 2]).all(), t\n"
      "np.save('" +
      dir.file("resaved_sum.npy") +
      "', s)\n"
      "np.save('" +
      dir.file("resaved_ids.npy") + "', t)\n";
  writeBytes(dir.file("check.py"), check);
  ASSERT_EQ(shell("'" + python + "' " + q("check.py")), 0);
  EXPECT_EQ(readBytes(dir.file("nout/sum.npy")),
            readBytes(dir.file("resaved_sum.npy")));
  EXPECT_EQ(readBytes(dir.file("nout/ids_twice.npy")),
            readBytes(dir.file("resaved_ids.npy")));
}

//===----------------------------------------------------------------------===//
// Hostile libraries: checked before dlopen maps them (issue #13)
//===----------------------------------------------------------------------===//

/// Every prefix of a model library (cut at many points, half included) is a
/// TESSERA_ERROR_LOAD status, never a SIGBUS inside dlopen.
TEST(RuntimeHostile, TruncatedLibraries) {
  TempDir dir;
  std::string bytes = readBytes(modelPath("add_model"));
  ASSERT_GT(bytes.size(), 4096u);
  std::vector<size_t> cuts = {1, 4, 63, 64, 65, 200, 1000, bytes.size() / 2,
                              bytes.size() - 1};
  for (size_t step = 1; step < 16; ++step)
    cuts.push_back(bytes.size() * step / 16);
  for (size_t cut : cuts) {
    std::string path = dir.file("cut" + std::to_string(cut) + ".so");
    writeBytes(path, bytes.substr(0, cut));
    SCOPED_TRACE(cut);
    expectLoadError(path, TESSERA_ERROR_LOAD, {path});
  }
  // The whole file still loads.
  writeBytes(dir.file("whole.so"), bytes);
  TesseraModel *m = nullptr;
  Status st = tessera_model_load(dir.file("whole.so").c_str(), &m);
  ASSERT_FALSE(st) << st.message();
  tessera_model_unload(m);
}

TEST(RuntimeHostile, TruncatedLibraryMessage) {
  TempDir dir;
  std::string bytes = readBytes(modelPath("add_model"));
  writeBytes(dir.file("half.so"), bytes.substr(0, bytes.size() / 2));
  expectLoadError(dir.file("half.so"), TESSERA_ERROR_LOAD,
                  {"not a loadable shared library", "past the end of the file",
                   "truncated"});
}

/// Headers that point past the end of the file, or at another machine.
TEST(RuntimeHostile, CorruptHeaders) {
  TempDir dir;
  std::string bytes = readBytes(modelPath("add_model"));
  auto patched = [&](size_t offset, const void *value, size_t n) {
    std::string b = bytes;
    std::memcpy(&b[offset], value, n);
    return b;
  };
  uint64_t huge = ~uint64_t(0) / 2;
  uint16_t machine = 40; // EM_ARM
  struct Case {
    const char *name;
    std::string bytes;
    const char *expect;
  } cases[] = {
      {"phoff", patched(32, &huge, 8), "program headers run past"},
      {"shoff", patched(40, &huge, 8), "section headers run past"},
      {"machine", patched(18, &machine, 2), "another machine"},
  };
  for (const Case &c : cases) {
    std::string path = dir.file(std::string(c.name) + ".so");
    writeBytes(path, c.bytes);
    expectLoadError(path, TESSERA_ERROR_LOAD, {c.expect});
  }
}

/// A shared library that is not a model is refused before dlopen runs its
/// constructors.
TEST(RuntimeHostile, ForeignLibraryIsNotOpened) {
  expectLoadError(modelPath("no_symbol"), TESSERA_ERROR_LOAD,
                  {"not a Tessera model", "tessera_model_v1"});
  // dlopen never saw it: RTLD_NOLOAD finds nothing.
  void *h = dlopen(modelPath("no_symbol").c_str(), RTLD_NOW | RTLD_NOLOAD);
  EXPECT_EQ(h, nullptr);
  if (h)
    dlclose(h);
}

TEST(RuntimeHostile, TesseraRunReportsTruncatedLibrary) {
  TempDir dir;
  std::string bytes = readBytes(modelPath("add_model"));
  writeBytes(dir.file("half.so"), bytes.substr(0, bytes.size() / 2));
  RunResult r = tesseraRun("'" + dir.file("half.so") + "'", dir);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not a loadable shared library"), std::string::npos)
      << r.err;
}

} // namespace

//===-- ABI v4: run-time shapes -------------------------------------------===//

namespace {
/// Runs dynamic_model at batch `b` with x filled with `value`.
Status runDynamic(TesseraSession *s, int64_t bx, int64_t bm, float value,
                  std::vector<float> &y) {
  std::vector<float> x(bx * 3, value), m(bm, 0.f);
  const int64_t xDims[] = {bx, 3}, mDims[] = {bm};
  TesseraInput in[] = {{"x", x.data(), TESSERA_DTYPE_FLOAT, 2, xDims},
                       {"m", m.data(), TESSERA_DTYPE_FLOAT, 1, mDims}};
  y.assign(bx * 3, -1.f);
  TesseraOutputBuffer out = {"y", y.data(), y.size() * sizeof(float)};
  return tessera_session_run(s, in, 2, &out, 1);
}
} // namespace

TEST(RuntimeDynamic, DescribesNamedBoundedDims) {
  ModelPtr m = loadOrFail(modelPath("dynamic_model"));
  ASSERT_TRUE(m);
  const char *name = nullptr;
  int64_t lo = -1, hi = -1;
  ASSERT_EQ(tessera_model_dim_info(m.get(), 0, 0, 0, &name, &lo, &hi), 1);
  EXPECT_STREQ(name, "batch");
  EXPECT_EQ(lo, 1);
  EXPECT_EQ(hi, 8);
  ASSERT_EQ(tessera_model_dim_info(m.get(), 1, 0, 1, &name, &lo, &hi), 1);
  EXPECT_STREQ(name, "");
  EXPECT_EQ(lo, 3);
  EXPECT_EQ(hi, 3);
  EXPECT_EQ(tessera_model_dim_info(m.get(), 0, 2, 0, &name, &lo, &hi), 0);
  EXPECT_EQ(tessera_model_dim_info(m.get(), 0, 0, 2, &name, &lo, &hi), 0);
}

TEST(RuntimeDynamic, RunsEverySizeWithinBounds) {
  ModelPtr m = loadOrFail(modelPath("dynamic_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 1);
  for (int64_t b : {1, 2, 5, 8}) {
    std::vector<float> y;
    Status st = runDynamic(s.get(), b, b, 1.5f, y);
    ASSERT_FALSE(st) << st.message();
    for (float v : y)
      EXPECT_EQ(v, 3.f);
  }
}

TEST(RuntimeDynamic, RunAllocSizesOutputsExactly) {
  ModelPtr m = loadOrFail(modelPath("dynamic_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 1);
  std::vector<float> x(4 * 3, 1.f), mask(4, 0.f);
  const int64_t xDims[] = {4, 3}, mDims[] = {4};
  TesseraInput in[] = {{"x", x.data(), TESSERA_DTYPE_FLOAT, 2, xDims},
                       {"m", mask.data(), TESSERA_DTYPE_FLOAT, 1, mDims}};
  TesseraTensor *out = nullptr;
  Status st = tessera_session_run_alloc(s.get(), in, 2, &out);
  ASSERT_FALSE(st) << st.message();
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(tessera_tensor_rank(out), 2);
  EXPECT_EQ(tessera_tensor_dims(out)[0], 4);
  EXPECT_EQ(tessera_tensor_dims(out)[1], 3);
  EXPECT_EQ(tessera_tensor_byte_size(out), 4 * 3 * sizeof(float));
  tessera_tensor_free(out);
}

TEST(RuntimeDynamic, OutputDimsQueryNeedsNoData) {
  ModelPtr m = loadOrFail(modelPath("dynamic_model"));
  ASSERT_TRUE(m);
  const int64_t xDims[] = {6, 3}, mDims[] = {6};
  TesseraInput in[] = {{"x", nullptr, TESSERA_DTYPE_FLOAT, 2, xDims},
                       {"m", nullptr, TESSERA_DTYPE_FLOAT, 1, mDims}};
  int64_t yDims[2] = {-9, -9};
  int64_t *dims[] = {yDims};
  Status st = tessera_model_output_dims(m.get(), in, 2, dims);
  ASSERT_FALSE(st) << st.message();
  EXPECT_EQ(yDims[0], 6);
  EXPECT_EQ(yDims[1], 3);
}

TEST(RuntimeDynamic, NamedDimsMustAgree) {
  ModelPtr m = loadOrFail(modelPath("dynamic_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 1);
  std::vector<float> y;
  Status st = runDynamic(s.get(), 2, 3, 1.f, y);
  ASSERT_TRUE(st);
  EXPECT_EQ(st.code(), TESSERA_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(st.message().find("input 'm' dim 0 (batch) is 3, but input 'x' "
                              "dim 0 (batch) is 2"),
            std::string::npos)
      << st.message();
}

TEST(RuntimeDynamic, OutOfBoundsDimsAreRefused) {
  ModelPtr m = loadOrFail(modelPath("dynamic_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 1);
  for (int64_t b : {0, 9, 600}) {
    std::vector<float> y;
    Status st = runDynamic(s.get(), b, b, 1.f, y);
    ASSERT_TRUE(st);
    EXPECT_EQ(st.code(), TESSERA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(st.message().find("input 'x' dim 0 (batch) is " +
                                std::to_string(b) +
                                "; this model supports 1..8"),
              std::string::npos)
        << st.message();
  }
}

TEST(RuntimeDynamic, ChecksOfTheCompiledCodeAreErrors) {
  ModelPtr m = loadOrFail(modelPath("dynamic_model"));
  ASSERT_TRUE(m);
  SessionPtr s = sessionOrFail(m.get(), 2);
  std::vector<float> y;
  Status dims = runDynamic(s.get(), 7, 7, 1.f, y);
  ASSERT_TRUE(dims);
  EXPECT_EQ(dims.code(), TESSERA_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(dims.message().find("node 'check': batch 7 is refused"),
            std::string::npos)
      << dims.message();
  Status data = runDynamic(s.get(), 2, 2, -1.f, y);
  ASSERT_TRUE(data);
  EXPECT_NE(data.message().find("node 'neg': negative input"),
            std::string::npos)
      << data.message();
  // The error does not stick to the session.
  Status ok = runDynamic(s.get(), 2, 2, 1.f, y);
  EXPECT_FALSE(ok) << ok.message();
}

TEST(RuntimeDynamic, MalformedDimTablesAreRefusedAtLoad) {
  ModelPtr m = loadOrFail(modelPath("dynamic_model"));
  ASSERT_TRUE(m);
  const TesseraModelDesc *good = nullptr;
  {
    void *h = dlopen(modelPath("dynamic_model").c_str(), RTLD_NOW);
    ASSERT_NE(h, nullptr);
    good = static_cast<const TesseraModelDesc *>(
        dlsym(h, TESSERA_MODEL_SYMBOL));
    ASSERT_NE(good, nullptr);
  }
  auto refused = [&](TesseraModelDesc d, const char *what) {
    TesseraModel *model = nullptr;
    Status st = tessera_model_from_descriptor(&d, &model);
    EXPECT_TRUE(st) << what;
    EXPECT_EQ(st.code(), TESSERA_ERROR_LOAD) << what;
    tessera_model_unload(model);
    return st.message();
  };
  TesseraModelDesc d = *good;
  d.run = nullptr;
  EXPECT_NE(refused(d, "no run").find("run or output_dims"),
            std::string::npos);
  d = *good;
  d.input_dim_info = nullptr;
  EXPECT_NE(refused(d, "no table").find("input 'x' has no dimension table"),
            std::string::npos);
  static const TesseraDimInfo badStatic[] = {{"batch", 1, 8}, {NULL, 1, 3}};
  static const TesseraDimInfo *const badTable[] = {badStatic,
                                                   good->input_dim_info[1]};
  d = *good;
  d.input_dim_info = badTable;
  EXPECT_NE(refused(d, "static").find("dimension 1 is static (3)"),
            std::string::npos);
  static const TesseraDimInfo badBounds[] = {{"batch", 5, 2}, {NULL, 3, 3}};
  static const TesseraDimInfo *const badTable2[] = {badBounds,
                                                    good->input_dim_info[1]};
  d = *good;
  d.input_dim_info = badTable2;
  EXPECT_NE(refused(d, "bounds").find("invalid bounds [5, 2]"),
            std::string::npos);
}
