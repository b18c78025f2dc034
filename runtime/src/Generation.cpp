//===- Generation.cpp - past/present pairs and KV caches -----------------===//
//
// Part of Tessera. Finds the past/present pairs of a KV-cache decoder and
// runs decode steps with the cache bound in place: a step's present outputs
// are written where the next step reads its past inputs, so the runtime
// never copies the cache.
//
//===----------------------------------------------------------------------===//

#include "tessera/runtime.h"

#include "Internal.h"
#include "Status.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace tessera::runtime;

//===----------------------------------------------------------------------===//
// Pairing
//===----------------------------------------------------------------------===//

namespace {
bool startsWith(const std::string &s, const std::string &prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

/// The name of the present output of a past input named `name` ("" when the
/// name is not a cache's): Optimum's past_key_values.X -> present.X, and
/// pastX -> presentX.
std::string presentNameFor(const std::string &name) {
  static const std::string kOptimum = "past_key_values", kPast = "past";
  if (startsWith(name, kOptimum))
    return "present" + name.substr(kOptimum.size());
  if (startsWith(name, kPast))
    return "present" + name.substr(kPast.size());
  return "";
}

/// Optimum's cross-attention cache of a decoder (past_key_values.N.encoder.*)
/// is computed once by the encoder and never grows: an ordinary input.
bool isCrossAttentionCache(const std::string &name) {
  return startsWith(name, "past") &&
         name.find(".encoder.") != std::string::npos;
}

const TesseraTensorDesc &tensorOf(const TesseraModelDesc &d, bool output,
                                  uint32_t i) {
  return output ? d.outputs[i] : d.inputs[i];
}

/// The ONNX name of dim k of a tensor, or nullptr.
const char *dimName(const TesseraModelDesc &d, bool output, uint32_t i,
                    int32_t k) {
  if (d.abi_version < 4)
    return nullptr;
  return (output ? d.output_dim_info : d.input_dim_info)[i][k].name;
}

/// "[batch_size, 4, past_sequence_length, 16]".
std::string describeDims(const TesseraModelDesc &d, bool output, uint32_t i) {
  const TesseraTensorDesc &t = tensorOf(d, output, i);
  std::string s = "[";
  for (int32_t k = 0; k < t.rank; ++k) {
    const char *name = dimName(d, output, i, k);
    s += k ? ", " : "";
    s += t.dims[k] >= 0 ? std::to_string(t.dims[k]) : name ? name : "?";
  }
  return s + "]";
}

std::string describeTensor(const TesseraModelDesc &d, bool output,
                           uint32_t i) {
  return std::string(output ? "output '" : "input '") +
         tensorOf(d, output, i).name + "' " + describeDims(d, output, i);
}

/// The axis along which output `o` is input `i` grown: the only dim where
/// both are dynamic and not of one name, all other dims agreeing. -1 when
/// there is no such single axis.
int32_t growthAxis(const TesseraModelDesc &d, uint32_t i, uint32_t o) {
  const TesseraTensorDesc &in = d.inputs[i], &out = d.outputs[o];
  if (in.dtype != out.dtype || in.rank != out.rank)
    return -1;
  int32_t axis = -1;
  for (int32_t k = 0; k < in.rank; ++k) {
    if (in.dims[k] >= 0 || out.dims[k] >= 0) {
      if (in.dims[k] != out.dims[k])
        return -1;
      continue;
    }
    const char *a = dimName(d, false, i, k), *b = dimName(d, true, o, k);
    if (a && b && std::strcmp(a, b) == 0)
      continue;
    if (axis >= 0)
      return -1;
    axis = k;
  }
  return axis;
}

int32_t findOutput(const TesseraModelDesc &d, const std::string &name) {
  for (uint32_t o = 0; o < d.num_outputs; ++o)
    if (name == d.outputs[o].name)
      return static_cast<int32_t>(o);
  return -1;
}

std::string namesOf(const TesseraModelDesc &d, bool output) {
  std::string s;
  uint32_t n = output ? d.num_outputs : d.num_inputs;
  for (uint32_t i = 0; i < n; ++i)
    s += (i ? ", " : "") + describeTensor(d, output, i);
  return s.empty() ? "none" : s;
}

/// Pairs by Optimum's (and older exports') names; an input named like a
/// cache must have its present output.
std::string pairByName(const TesseraModelDesc &d,
                       std::vector<TesseraCachePair> &pairs,
                       std::vector<bool> &inUsed,
                       std::vector<bool> &outUsed) {
  for (uint32_t i = 0; i < d.num_inputs; ++i) {
    std::string name = d.inputs[i].name;
    std::string present = presentNameFor(name);
    if (inUsed[i] || present.empty() || isCrossAttentionCache(name))
      continue;
    int32_t o = findOutput(d, present);
    if (o >= 0 && outUsed[o])
      continue;
    if (o < 0)
      return "input '" + name +
             "' looks like a KV cache but the model has no output '" +
             present +
             "': a past input 'past_key_values.N.key' needs the present "
             "output 'present.N.key' (Hugging Face Optimum's naming), "
             "'past_N' needs 'present_N'";
    int32_t axis = growthAxis(d, i, static_cast<uint32_t>(o));
    if (axis < 0)
      return describeTensor(d, false, i) + " and " +
             describeTensor(d, true, static_cast<uint32_t>(o)) +
             " are not a past/present pair: expected one dtype, and dims that "
             "agree except along one dynamic axis (past_sequence_length in "
             "the past, past_sequence_length + sequence_length in the "
             "present)";
    pairs.push_back({i, static_cast<uint32_t>(o), axis, 0});
    inUsed[i] = true;
    outUsed[o] = true;
  }
  return "";
}

/// Pairs the remaining inputs and outputs whose dims say they are one cache
/// before and after a step (each the other's only candidate).
void pairByStructure(const TesseraModelDesc &d,
                     std::vector<TesseraCachePair> &pairs,
                     std::vector<bool> &inUsed, std::vector<bool> &outUsed) {
  auto candidates = [&](bool output, uint32_t index, uint32_t &only) {
    int n = 0;
    uint32_t count = output ? d.num_inputs : d.num_outputs;
    for (uint32_t j = 0; j < count; ++j) {
      if ((output ? inUsed : outUsed)[j] ||
          (output && isCrossAttentionCache(d.inputs[j].name)))
        continue;
      if ((output ? growthAxis(d, j, index) : growthAxis(d, index, j)) < 0)
        continue;
      only = j;
      ++n;
    }
    return n;
  };
  for (uint32_t i = 0; i < d.num_inputs; ++i) {
    uint32_t o = 0, back = 0;
    if (inUsed[i] || isCrossAttentionCache(d.inputs[i].name) ||
        candidates(false, i, o) != 1 || candidates(true, o, back) != 1 ||
        back != i)
      continue;
    pairs.push_back({i, o, growthAxis(d, i, o), 0});
    inUsed[i] = true;
    outUsed[o] = true;
  }
}

/// The past/present pairs of a model, in input order; an error or "".
std::string findCachePairs(const TesseraModelDesc &d,
                           std::vector<TesseraCachePair> &pairs) {
  pairs.clear();
  std::vector<bool> inUsed(d.num_inputs), outUsed(d.num_outputs);
  // The library's own pairs (ABI v5), then any others by name or structure
  // (a cache the compiler did not make in place is still a cache).
  if (d.abi_version >= 5)
    for (uint32_t i = 0; i < d.num_cache_pairs; ++i) {
      const TesseraCachePair &p = d.cache_pairs[i];
      pairs.push_back(p);
      inUsed[p.input] = true;
      outUsed[p.output] = true;
    }
  if (std::string e = pairByName(d, pairs, inUsed, outUsed); !e.empty())
    return e;
  pairByStructure(d, pairs, inUsed, outUsed);
  if (!pairs.empty()) {
    std::sort(pairs.begin(), pairs.end(),
              [](const TesseraCachePair &a, const TesseraCachePair &b) {
                return a.input < b.input;
              });
    return "";
  }
  return "the model has no past/present (KV cache) pairs: expected inputs "
         "'past_key_values.N.key' / '.value' [batch_size, heads, "
         "past_sequence_length, head_dim] with outputs 'present.N.key' / "
         "'.value' [batch_size, heads, past_sequence_length + "
         "sequence_length, head_dim] (Hugging Face Optimum's naming; export "
         "with past, e.g. the task text-generation-with-past), or an input "
         "and an output whose dims agree except along one dynamic axis; "
         "inputs: " +
         namesOf(d, false) + "; outputs: " + namesOf(d, true);
}

TesseraStatus *cachePairs(const TesseraModel *model, TesseraCachePair *out,
                          uint32_t capacity, uint32_t *count) {
  if (!model || !count)
    return invalidArgument("tessera_model_cache_pairs: model or count is NULL");
  *count = 0;
  if (capacity && !out)
    return invalidArgument("tessera_model_cache_pairs: pairs is NULL");
  std::vector<TesseraCachePair> pairs;
  if (std::string e = findCachePairs(modelDescriptor(model), pairs);
      !e.empty())
    return invalidArgument(e);
  *count = static_cast<uint32_t>(pairs.size());
  for (uint32_t i = 0; i < pairs.size() && i < capacity; ++i)
    out[i] = pairs[i];
  return nullptr;
}
} // namespace

TesseraStatus *tessera_model_cache_pairs(const TesseraModel *model,
                                         TesseraCachePair *pairs,
                                         uint32_t capacity, uint32_t *count) {
  return guarded([&] { return cachePairs(model, pairs, capacity, count); });
}

//===----------------------------------------------------------------------===//
// KV caches
//===----------------------------------------------------------------------===//

namespace {
/// One pair's buffers: one that grows in place, or two taking turns.
struct PairState {
  TesseraCachePair pair;
  std::vector<int64_t> dims;      // of the cache now (P along the axis)
  std::vector<int64_t> allocDims; // dims with the axis at capacity
  void *buffers[2] = {nullptr, nullptr};
  size_t bytes = 0; // of each buffer
  int current = 0;  // the buffer holding the past (two buffers)

  void release() {
    for (void *&b : buffers) {
      std::free(b);
      b = nullptr;
    }
    bytes = 0;
  }
};
} // namespace

struct TesseraKVCache {
  TesseraSession *session = nullptr;
  const TesseraModelDesc *desc = nullptr;
  int64_t capacity = 0;
  bool inPlace = false;
  int64_t length = 0;
  std::vector<PairState> pairs;
  // Per model input/output: its pair, or -1.
  std::vector<int32_t> pairOfInput, pairOfOutput;
  // The inputs and outputs the caller binds, in model order.
  std::vector<uint32_t> openInputs, openOutputs;

  ~TesseraKVCache() {
    for (PairState &p : pairs)
      p.release();
  }
};

namespace {
TesseraStatus *createCache(TesseraSession *session, int64_t capacity,
                           TesseraKVCache **out) {
  if (!out)
    return invalidArgument("tessera_kv_cache_create: out is NULL");
  *out = nullptr;
  if (!session)
    return invalidArgument("tessera_kv_cache_create: session is NULL");
  if (capacity < 1)
    return invalidArgument("KV cache capacity " + std::to_string(capacity) +
                           " is out of range: expected at least 1 position");
  const TesseraModelDesc &d = sessionDescriptor(session);
  std::vector<TesseraCachePair> pairs;
  if (std::string e = findCachePairs(d, pairs); !e.empty())
    return invalidArgument("model '" + sessionModelPath(session) + "': " + e);
  auto cache = std::make_unique<TesseraKVCache>();
  cache->session = session;
  cache->desc = &d;
  cache->capacity = capacity;
  cache->inPlace = d.abi_version >= 5 && d.run_strided;
  cache->pairOfInput.assign(d.num_inputs, -1);
  cache->pairOfOutput.assign(d.num_outputs, -1);
  for (const TesseraCachePair &p : pairs) {
    cache->inPlace &= (p.flags & TESSERA_CACHE_IN_PLACE) != 0;
    cache->pairOfInput[p.input] = static_cast<int32_t>(cache->pairs.size());
    cache->pairOfOutput[p.output] = static_cast<int32_t>(cache->pairs.size());
    PairState state;
    state.pair = p;
    cache->pairs.push_back(std::move(state));
  }
  for (uint32_t i = 0; i < d.num_inputs; ++i)
    if (cache->pairOfInput[i] < 0)
      cache->openInputs.push_back(i);
  for (uint32_t o = 0; o < d.num_outputs; ++o)
    if (cache->pairOfOutput[o] < 0)
      cache->openOutputs.push_back(o);
  *out = cache.release();
  return nullptr;
}

/// Finds the model index of the caller's binding `j` (by name, or by
/// position among the open tensors) and checks it is bound once.
TesseraStatus *bindOpen(const TesseraKVCache &cache, bool output,
                        const char *name, size_t j, std::vector<bool> &bound,
                        uint32_t &index) {
  const TesseraModelDesc &d = *cache.desc;
  const char *kind = output ? "output" : "input";
  const std::vector<uint32_t> &open =
      output ? cache.openOutputs : cache.openInputs;
  const std::vector<int32_t> &pairOf =
      output ? cache.pairOfOutput : cache.pairOfInput;
  if (name) {
    uint32_t n = output ? d.num_outputs : d.num_inputs;
    uint32_t i = 0;
    while (i < n && std::strcmp(tensorOf(d, output, i).name, name) != 0)
      ++i;
    if (i == n)
      return invalidArgument(std::string("unknown ") + kind + " '" + name +
                             "'");
    if (pairOf[i] >= 0)
      return invalidArgument(std::string(kind) + " '" + name +
                             "' is bound by the KV cache (it is the " +
                             (output ? "present" : "past") +
                             " of a cache pair); leave it out");
    index = i;
  } else {
    index = open[j];
  }
  if (bound[index])
    return invalidArgument(std::string(kind) + " '" +
                           tensorOf(d, output, index).name +
                           "' is given more than once");
  bound[index] = true;
  return nullptr;
}

std::string openNames(const TesseraKVCache &cache, bool output) {
  std::string s;
  for (uint32_t i : output ? cache.openOutputs : cache.openInputs)
    s += (s.empty() ? "" : ", ") +
         std::string(tensorOf(*cache.desc, output, i).name);
  return s.empty() ? "none" : s;
}

/// Places the caller's inputs at their model positions in `full`.
TesseraStatus *placeInputs(const TesseraKVCache &cache,
                           const TesseraInput *inputs, size_t numInputs,
                           std::vector<TesseraInput> &full) {
  if (numInputs != cache.openInputs.size())
    return invalidArgument(
        "expected " + std::to_string(cache.openInputs.size()) +
        " inputs (every model input but the past ones the KV cache binds: " +
        openNames(cache, false) + "), got " + std::to_string(numInputs));
  if (numInputs && !inputs)
    return invalidArgument("the input array is NULL");
  full.assign(cache.desc->num_inputs, TesseraInput{});
  std::vector<bool> bound(cache.desc->num_inputs);
  for (size_t j = 0; j < numInputs; ++j) {
    uint32_t index;
    if (TesseraStatus *s =
            bindOpen(cache, false, inputs[j].name, j, bound, index))
      return s;
    full[index] = inputs[j];
    full[index].name = nullptr; // bound by position
  }
  return nullptr;
}

/// The dims of pair p's past at P = 0: static dims, 0 along the axis, and
/// the dynamic ones (the batch) from a caller's input with a dim of that
/// name.
TesseraStatus *initialDims(const TesseraKVCache &cache, const PairState &p,
                           const std::vector<TesseraInput> &full,
                           std::vector<int64_t> &dims) {
  const TesseraModelDesc &d = *cache.desc;
  const TesseraTensorDesc &t = d.inputs[p.pair.input];
  dims.assign(t.dims, t.dims + t.rank);
  for (int32_t k = 0; k < t.rank; ++k) {
    if (k == p.pair.axis) {
      dims[k] = 0;
      continue;
    }
    if (dims[k] >= 0)
      continue;
    const char *name = dimName(d, false, p.pair.input, k);
    for (uint32_t i : cache.openInputs) {
      const TesseraTensorDesc &o = d.inputs[i];
      for (int32_t l = 0; l < o.rank && dims[k] < 0; ++l) {
        const char *other = dimName(d, false, i, l);
        if (name && other && std::strcmp(name, other) == 0 &&
            full[i].rank == o.rank && full[i].dims)
          dims[k] = full[i].dims[l];
      }
    }
    if (dims[k] < 0)
      return invalidArgument(
          "cannot tell dimension " + std::to_string(k) +
          (name ? std::string(" (") + name + ")" : std::string()) +
          " of the past input " + describeTensor(d, false, p.pair.input) +
          " from the other inputs: no input has a dimension of that name");
  }
  return nullptr;
}

/// Checks every present output's dims against its past's and the capacity;
/// sets the new length.
TesseraStatus *checkPresents(const TesseraKVCache &cache,
                             const std::vector<std::vector<int64_t>> &pasts,
                             const std::vector<std::vector<int64_t>> &outDims,
                             int64_t &newLength) {
  const TesseraModelDesc &d = *cache.desc;
  newLength = -1;
  for (size_t i = 0; i < cache.pairs.size(); ++i) {
    const TesseraCachePair &p = cache.pairs[i].pair;
    const std::vector<int64_t> &past = pasts[i], &present = outDims[p.output];
    bool ok = present[p.axis] >= past[p.axis];
    for (size_t k = 0; k < past.size(); ++k)
      ok &= static_cast<int32_t>(k) == p.axis || past[k] == present[k];
    if (!ok || (newLength >= 0 && present[p.axis] != newLength))
      return invalidArgument(
          "output '" + std::string(d.outputs[p.output].name) +
          "' would have dims that are not its past input's grown along "
          "axis " +
          std::to_string(p.axis) + ", or grow unlike the other pairs");
    newLength = present[p.axis];
  }
  if (newLength > cache.capacity)
    return invalidArgument(
        "the KV cache holds at most " + std::to_string(cache.capacity) +
        " positions (its capacity) but this step needs " +
        std::to_string(newLength) + " (" + std::to_string(cache.length) +
        " past + " + std::to_string(newLength - cache.length) +
        " new): create the cache with a larger capacity");
  return nullptr;
}

/// Allocates the buffers of pair p for `past` (the past dims at P = 0).
TesseraStatus *ensureBuffers(const TesseraKVCache &cache, PairState &p,
                             const std::vector<int64_t> &past) {
  const TesseraTensorDesc &t = cache.desc->inputs[p.pair.input];
  std::vector<int64_t> alloc = past;
  alloc[p.pair.axis] = cache.capacity;
  size_t bytes = tessera_dtype_size(t.dtype);
  for (int64_t n : alloc)
    if (__builtin_mul_overflow(bytes, static_cast<size_t>(n), &bytes))
      return invalidArgument("the KV cache of input '" + std::string(t.name) +
                             "' is too large");
  if (p.buffers[0] && alloc == p.allocDims)
    return nullptr;
  p.release();
  size_t rounded = (bytes + 63) / 64 * 64;
  for (int b = 0; b < (cache.inPlace ? 1 : 2); ++b) {
    p.buffers[b] = std::aligned_alloc(64, rounded ? rounded : 64);
    if (!p.buffers[b]) {
      p.release();
      return makeStatus(TESSERA_ERROR_OUT_OF_MEMORY,
                        "out of memory allocating the KV cache of input '" +
                            std::string(t.name) + "' (" +
                            std::to_string(bytes) + " bytes)");
    }
  }
  p.bytes = bytes;
  p.allocDims = std::move(alloc);
  p.current = 0;
  return nullptr;
}

/// Everything a step binds beyond the caller's tensors.
struct Step {
  std::vector<TesseraInput> inputs;               // every model input
  std::vector<std::vector<int64_t>> pasts;        // per pair
  std::vector<std::vector<int64_t>> outDims;      // every model output
  std::vector<TesseraOutputBuffer> outputs;       // every model output
  RunLayout layout;
  int64_t newLength = 0;
};

/// Binds the caller's inputs and the cache's pasts, computes the outputs'
/// dims and binds the presents (the caller's outputs come after).
TesseraStatus *prepareStep(TesseraKVCache &cache, const TesseraInput *inputs,
                           size_t numInputs, Step &step) {
  const TesseraModelDesc &d = *cache.desc;
  if (TesseraStatus *s = placeInputs(cache, inputs, numInputs, step.inputs))
    return s;
  step.pasts.resize(cache.pairs.size());
  for (size_t i = 0; i < cache.pairs.size(); ++i) {
    PairState &p = cache.pairs[i];
    if (cache.length == 0) {
      if (TesseraStatus *s = initialDims(cache, p, step.inputs, step.pasts[i]))
        return s;
    } else {
      step.pasts[i] = p.dims;
    }
    const TesseraTensorDesc &t = d.inputs[p.pair.input];
    step.inputs[p.pair.input] = {nullptr, nullptr, t.dtype, t.rank,
                                 step.pasts[i].data()};
  }
  step.outDims.clear();
  std::vector<int64_t *> ptrs;
  for (uint32_t o = 0; o < d.num_outputs; ++o)
    step.outDims.emplace_back(d.outputs[o].rank);
  for (std::vector<int64_t> &dims : step.outDims)
    ptrs.push_back(dims.data());
  if (TesseraStatus *s = sessionOutputDims(cache.session, step.inputs.data(),
                                           step.inputs.size(), ptrs.data()))
    return s;
  if (TesseraStatus *s =
          checkPresents(cache, step.pasts, step.outDims, step.newLength))
    return s;

  step.outputs.assign(d.num_outputs, TesseraOutputBuffer{});
  if (cache.inPlace) {
    step.layout.inputAllocDims.resize(d.num_inputs);
    step.layout.outputAllocDims.resize(d.num_outputs);
  }
  for (size_t i = 0; i < cache.pairs.size(); ++i) {
    PairState &p = cache.pairs[i];
    if (cache.length == 0)
      if (TesseraStatus *s = ensureBuffers(cache, p, step.pasts[i]))
        return s;
    void *past = p.buffers[cache.inPlace ? 0 : p.current];
    void *present = p.buffers[cache.inPlace ? 0 : 1 - p.current];
    step.inputs[p.pair.input].data = past;
    step.outputs[p.pair.output] = {nullptr, present, p.bytes};
    if (cache.inPlace) {
      step.layout.inputAllocDims[p.pair.input] = p.allocDims;
      step.layout.outputAllocDims[p.pair.output] = p.allocDims;
      step.layout.shared.emplace_back(p.pair.input, p.pair.output);
    }
  }
  return nullptr;
}

/// Runs a prepared step and advances the cache.
TesseraStatus *finishStep(TesseraKVCache &cache, Step &step) {
  if (TesseraStatus *s = runWithLayout(
          cache.session, step.inputs.data(), step.inputs.size(),
          step.outputs.data(), step.outputs.size(),
          cache.inPlace ? &step.layout : nullptr))
    return s;
  for (PairState &p : cache.pairs) {
    p.dims = step.outDims[p.pair.output];
    if (!cache.inPlace)
      p.current = 1 - p.current;
  }
  cache.length = step.newLength;
  return nullptr;
}

TesseraStatus *runStep(TesseraKVCache *cache, const TesseraInput *inputs,
                       size_t numInputs, const TesseraOutputBuffer *outputs,
                       size_t numOutputs) {
  if (!cache)
    return invalidArgument("tessera_kv_cache_run: cache is NULL");
  Step step;
  if (TesseraStatus *s = prepareStep(*cache, inputs, numInputs, step))
    return s;
  if (numOutputs != cache->openOutputs.size())
    return invalidArgument(
        "expected " + std::to_string(cache->openOutputs.size()) +
        " output buffers (every model output but the present ones the KV "
        "cache binds: " +
        openNames(*cache, true) + "), got " + std::to_string(numOutputs));
  if (numOutputs && !outputs)
    return invalidArgument("the output array is NULL");
  std::vector<bool> bound(cache->desc->num_outputs);
  for (size_t j = 0; j < numOutputs; ++j) {
    uint32_t index;
    if (TesseraStatus *s =
            bindOpen(*cache, true, outputs[j].name, j, bound, index))
      return s;
    step.outputs[index] = outputs[j];
    step.outputs[index].name = nullptr;
  }
  return finishStep(*cache, step);
}

TesseraStatus *runStepAlloc(TesseraKVCache *cache, const TesseraInput *inputs,
                            size_t numInputs, TesseraTensor **outTensors) {
  if (!outTensors)
    return invalidArgument("tessera_kv_cache_run_alloc: out_tensors is NULL");
  if (!cache)
    return invalidArgument("tessera_kv_cache_run_alloc: cache is NULL");
  for (size_t j = 0; j < cache->openOutputs.size(); ++j)
    outTensors[j] = nullptr;
  Step step;
  if (TesseraStatus *s = prepareStep(*cache, inputs, numInputs, step))
    return s;
  struct TensorOwner {
    void operator()(TesseraTensor *t) const { tessera_tensor_free(t); }
  };
  std::vector<std::unique_ptr<TesseraTensor, TensorOwner>> tensors;
  for (uint32_t o : cache->openOutputs) {
    TesseraTensor *t;
    if (TesseraStatus *s =
            allocateTensor(cache->desc->outputs[o], step.outDims[o], &t))
      return s;
    tensors.emplace_back(t);
    step.outputs[o] = {nullptr, tessera_tensor_data(t),
                       tessera_tensor_byte_size(t)};
  }
  if (TesseraStatus *s = finishStep(*cache, step))
    return s;
  for (size_t j = 0; j < tensors.size(); ++j)
    outTensors[j] = tensors[j].release();
  return nullptr;
}

TesseraStatus *view(const TesseraKVCache *cache, uint32_t index,
                    const void **data, int32_t *rank, int64_t *dims,
                    int64_t *strides) {
  if (!cache || index >= cache->pairs.size())
    return invalidArgument("tessera_kv_cache_view: no cache or no pair " +
                           std::to_string(index));
  const PairState &p = cache->pairs[index];
  if (data)
    *data = p.buffers[cache->inPlace ? 0 : p.current];
  const TesseraTensorDesc &t = cache->desc->inputs[p.pair.input];
  if (rank)
    *rank = t.rank;
  std::vector<int64_t> current = p.dims;
  if (cache->length == 0 || current.empty()) {
    current.assign(t.dims, t.dims + t.rank);
    for (int64_t &n : current)
      n = std::max<int64_t>(n, 0);
  }
  const std::vector<int64_t> &layout =
      cache->inPlace && !p.allocDims.empty() ? p.allocDims : current;
  int64_t stride = 1;
  for (int32_t k = t.rank - 1; k >= 0; --k) {
    if (dims)
      dims[k] = current[k];
    if (strides)
      strides[k] = stride;
    stride *= layout[k];
  }
  return nullptr;
}
} // namespace

TesseraStatus *tessera_kv_cache_create(TesseraSession *session,
                                       int64_t capacity,
                                       TesseraKVCache **out) {
  return guarded([&] { return createCache(session, capacity, out); });
}

void tessera_kv_cache_destroy(TesseraKVCache *cache) { delete cache; }

void tessera_kv_cache_reset(TesseraKVCache *cache) {
  if (!cache)
    return;
  cache->length = 0;
  for (PairState &p : cache->pairs) {
    p.dims.clear();
    p.current = 0;
  }
}

int64_t tessera_kv_cache_length(const TesseraKVCache *cache) {
  return cache ? cache->length : 0;
}

int64_t tessera_kv_cache_capacity(const TesseraKVCache *cache) {
  return cache ? cache->capacity : 0;
}

int32_t tessera_kv_cache_in_place(const TesseraKVCache *cache) {
  return cache && cache->inPlace ? 1 : 0;
}

uint32_t tessera_kv_cache_num_pairs(const TesseraKVCache *cache) {
  return cache ? static_cast<uint32_t>(cache->pairs.size()) : 0;
}

uint32_t tessera_kv_cache_num_outputs(const TesseraKVCache *cache) {
  return cache ? static_cast<uint32_t>(cache->openOutputs.size()) : 0;
}

const TesseraCachePair *tessera_kv_cache_pair(const TesseraKVCache *cache,
                                              uint32_t index) {
  if (!cache || index >= cache->pairs.size())
    return nullptr;
  return &cache->pairs[index].pair;
}

TesseraStatus *tessera_kv_cache_run(TesseraKVCache *cache,
                                    const TesseraInput *inputs,
                                    size_t num_inputs,
                                    const TesseraOutputBuffer *outputs,
                                    size_t num_outputs) {
  return guarded([&] {
    return runStep(cache, inputs, num_inputs, outputs, num_outputs);
  });
}

TesseraStatus *tessera_kv_cache_run_alloc(TesseraKVCache *cache,
                                          const TesseraInput *inputs,
                                          size_t num_inputs,
                                          TesseraTensor **out_tensors) {
  return guarded(
      [&] { return runStepAlloc(cache, inputs, num_inputs, out_tensors); });
}

TesseraStatus *tessera_kv_cache_view(const TesseraKVCache *cache,
                                     uint32_t index, const void **data,
                                     int32_t *rank, int64_t *dims,
                                     int64_t *strides) {
  return guarded(
      [&] { return view(cache, index, data, rank, dims, strides); });
}
