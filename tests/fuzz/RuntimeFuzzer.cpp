//===- RuntimeFuzzer.cpp - libFuzzer target: the runtime's checks ---------===//
//
// Two targets in one, chosen by the first byte:
//  - the ELF checks tessera_model_load runs before dlopen, on the bytes;
//  - a model descriptor (ABI version, inputs and outputs with fuzzed names,
//    dtypes, ranks, dims, index ranges, CPU features) loaded with
//    tessera_model_from_descriptor and, when accepted, run with fuzzed
//    inputs (names or positions, dtypes, ranks, dims, data sizes) and output
//    buffers. The model (fuzz_model.c) reads and writes everything its
//    descriptor promises, so a check that lets a short buffer through is an
//    AddressSanitizer report.
//
//===----------------------------------------------------------------------===//

#include "ElfCheck.h"
#include "tessera/runtime.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

extern "C" {
extern const TesseraModelDesc *fuzz_model_desc;
int32_t fuzz_model_entry(void *const *inputs, void *const *outputs,
                         const TesseraExecContext *ctx);
}

namespace {

const char *pickName(FuzzedDataProvider &fdp) {
  static const char *names[] = {"a", "b", "ids", "a", "", "x/0:y", nullptr};
  return names[fdp.ConsumeIntegralInRange<size_t>(0, 6)];
}

int32_t pickDType(FuzzedDataProvider &fdp) {
  static const int32_t dtypes[] = {1, 7, 9, 10, 2, 3, 11, 16, 0, 8, 14, -1, 99};
  return dtypes[fdp.ConsumeIntegralInRange<size_t>(0, 12)];
}

/// Storage for one fuzzed descriptor and its tensors.
struct Model {
  std::vector<std::vector<int64_t>> dims;
  std::vector<TesseraTensorDesc> inputs, outputs;
  TesseraModelDesc desc{};
};

void makeTensors(FuzzedDataProvider &fdp, Model &m,
                 std::vector<TesseraTensorDesc> &out, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    TesseraTensorDesc t{};
    t.name = pickName(fdp);
    t.dtype = pickDType(fdp);
    t.rank = fdp.ConsumeIntegralInRange<int32_t>(-1, 4);
    auto &dims = m.dims.emplace_back();
    for (int32_t d = 0; d < std::max(t.rank, 0); ++d)
      dims.push_back(fdp.ConsumeIntegralInRange<int64_t>(-2, 5));
    t.dims = fdp.ConsumeIntegralInRange<int>(0, 15) ? dims.data() : nullptr;
    t.has_index_range = fdp.ConsumeBool();
    t.index_min = fdp.ConsumeIntegralInRange<int64_t>(-3, 3);
    t.index_max = fdp.ConsumeIntegralInRange<int64_t>(-3, 9);
    out.push_back(t);
  }
}

void fuzzElf(FuzzedDataProvider &fdp) {
  std::vector<unsigned char> bytes = fdp.ConsumeRemainingBytes<unsigned char>();
  (void)tessera::runtime::checkElfImage(bytes.data(), bytes.size(),
                                        TESSERA_MODEL_SYMBOL);
}

void fuzzRun(FuzzedDataProvider &fdp, TesseraModel *model) {
  TesseraSession *session = nullptr;
  if (TesseraStatus *st = tessera_session_create(model, 1, &session)) {
    tessera_status_free(st);
    return;
  }
  uint32_t nIn = tessera_model_num_inputs(model);
  uint32_t nOut = tessera_model_num_outputs(model);
  size_t given = nIn + fdp.ConsumeIntegralInRange<int>(-1, 1);
  std::vector<TesseraInput> inputs(given > 8 ? 0 : given);
  std::vector<std::vector<int64_t>> dims(inputs.size());
  std::vector<std::unique_ptr<uint64_t[]>> data(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TesseraTensorDesc *want =
        tessera_model_input(model, static_cast<uint32_t>(i % (nIn ? nIn : 1)));
    bool exact = want && fdp.ConsumeIntegralInRange<int>(0, 7) != 0;
    TesseraInput &in = inputs[i];
    in.name = fdp.ConsumeBool() ? nullptr
              : exact && want   ? want->name
                                : pickName(fdp);
    in.dtype = exact ? want->dtype : pickDType(fdp);
    in.rank = exact ? want->rank : fdp.ConsumeIntegralInRange<int32_t>(-1, 4);
    for (int32_t d = 0; d < std::max(in.rank, 0); ++d)
      dims[i].push_back(exact ? want->dims[d]
                              : fdp.ConsumeIntegralInRange<int64_t>(-1, 5));
    in.dims = dims[i].data();
    // Data sized for the claimed dims (8 bytes per element covers any
    // dtype), with values for index ranges.
    size_t n = 1;
    for (int64_t d : dims[i])
      n *= d > 0 ? static_cast<size_t>(d) : 0;
    data[i].reset(new uint64_t[n + 1]);
    for (size_t e = 0; e <= n; ++e)
      data[i][e] = fdp.ConsumeIntegralInRange<uint64_t>(0, 12);
    in.data = fdp.ConsumeIntegralInRange<int>(0, 15) ? data[i].get() : nullptr;
  }
  if (fdp.ConsumeBool()) {
    std::vector<TesseraTensor *> tensors(nOut);
    if (TesseraStatus *st = tessera_session_run_alloc(
            session, inputs.data(), inputs.size(), tensors.data()))
      tessera_status_free(st);
    for (TesseraTensor *t : tensors)
      tessera_tensor_free(t);
  } else {
    std::vector<TesseraOutputBuffer> outputs(nOut);
    std::vector<std::unique_ptr<uint64_t[]>> buffers(nOut);
    for (uint32_t i = 0; i < nOut; ++i) {
      size_t bytes = fdp.ConsumeIntegralInRange<size_t>(0, 1024);
      buffers[i].reset(new uint64_t[(bytes + 7) / 8 + 1]);
      outputs[i] = {fdp.ConsumeBool() ? nullptr
                                      : tessera_model_output(model, i)->name,
                    buffers[i].get(), bytes};
    }
    if (TesseraStatus *st = tessera_session_run(
            session, inputs.data(), inputs.size(), outputs.data(), nOut))
      tessera_status_free(st);
  }
  tessera_session_destroy(session);
}

void fuzzDescriptor(FuzzedDataProvider &fdp) {
  Model m;
  m.dims.reserve(16);
  uint32_t nIn = fdp.ConsumeIntegralInRange<uint32_t>(0, 4);
  uint32_t nOut = fdp.ConsumeIntegralInRange<uint32_t>(0, 3);
  makeTensors(fdp, m, m.inputs, nIn);
  makeTensors(fdp, m, m.outputs, nOut);
  TesseraModelDesc &d = m.desc;
  d.abi_version = fdp.ConsumeIntegralInRange<uint32_t>(0, 5);
  d.num_inputs = nIn;
  d.num_outputs = nOut;
  d.inputs = fdp.ConsumeIntegralInRange<int>(0, 15) ? m.inputs.data() : nullptr;
  d.outputs =
      fdp.ConsumeIntegralInRange<int>(0, 15) ? m.outputs.data() : nullptr;
  static const char *features[] = {"sse2", "", "sse2,,avx", "no-such-feature",
                                   nullptr};
  d.required_cpu_features = features[fdp.ConsumeIntegralInRange<int>(0, 4)];
  d.compiler_version = fdp.ConsumeBool() ? "fuzz" : nullptr;
  d.target_cpu = fdp.ConsumeBool() ? "x86-64" : nullptr;
  d.entry = fdp.ConsumeIntegralInRange<int>(0, 15) ? fuzz_model_entry : nullptr;
  d.external_weights = nullptr;
  fuzz_model_desc = &d;
  TesseraModel *model = nullptr;
  if (TesseraStatus *st = tessera_model_from_descriptor(&d, &model)) {
    tessera_status_free(st);
    return;
  }
  fuzzRun(fdp, model);
  tessera_model_unload(model);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  if (fdp.ConsumeIntegralInRange<int>(0, 3) == 0)
    fuzzElf(fdp);
  else
    fuzzDescriptor(fdp);
  return 0;
}
