//===- Generate.cpp - greedy decoding for tessera-run --generate ----------===//
//
// Part of Tessera. Drives a KV-cache decoder through the runtime's KV cache:
// prefill on the prompt, then one token per step, the cache bound in place.
//
//===----------------------------------------------------------------------===//

#include "Generate.h"
#include "Floats.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

using namespace tessera;
using tessera::run::Generation;

namespace {
using Clock = std::chrono::steady_clock;

std::runtime_error failure(const std::string &message) {
  return std::runtime_error("--generate: " + message);
}

/// Integer values of a tensor of the integer (or bool) dtype `dtype`.
std::vector<int64_t> decodeInts(int32_t dtype, const void *data, size_t n,
                                const std::string &what) {
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    switch (dtype) {
    case TESSERA_DTYPE_INT64:
      v[i] = static_cast<const int64_t *>(data)[i];
      break;
    case TESSERA_DTYPE_INT32:
      v[i] = static_cast<const int32_t *>(data)[i];
      break;
    case TESSERA_DTYPE_BOOL:
      v[i] = static_cast<const uint8_t *>(data)[i] != 0;
      break;
    default:
      throw failure(what + " has dtype " + tessera_dtype_name(dtype) +
                    ": expected int64, int32 or bool");
    }
  }
  return v;
}

/// A model input the loop fills each step: values kept as int64, stored in
/// the input's dtype.
struct StepTensor {
  std::string name;
  int32_t dtype = 0;
  std::vector<int64_t> dims;
  std::vector<int64_t> values;
  std::vector<unsigned char> bytes;

  void set(std::vector<int64_t> newValues, std::vector<int64_t> newDims) {
    values = std::move(newValues);
    dims = std::move(newDims);
    size_t size = tessera_dtype_size(dtype);
    bytes.assign(values.size() * size, 0);
    for (size_t i = 0; i < values.size(); ++i) {
      unsigned char *p = bytes.data() + i * size;
      if (dtype == TESSERA_DTYPE_INT64) {
        std::memcpy(p, &values[i], 8);
      } else if (dtype == TESSERA_DTYPE_INT32) {
        int32_t v = static_cast<int32_t>(values[i]);
        std::memcpy(p, &v, 4);
      } else if (dtype == TESSERA_DTYPE_FLOAT) {
        float v = static_cast<float>(values[i]);
        std::memcpy(p, &v, 4);
      } else if (dtype == TESSERA_DTYPE_BOOL) {
        *p = values[i] != 0;
      } else {
        throw failure("input '" + name + "' has dtype " +
                      tessera_dtype_name(dtype) +
                      ": expected int64, int32, float32 or bool");
      }
    }
  }

  Input input() const {
    return Input{name, bytes.empty() ? nullptr : bytes.data(), dtype, dims};
  }
};

/// HF's position ids: the count of unmasked positions before each, 1 for
/// masked ones; the last `s` columns of a [b, total] mask.
std::vector<int64_t> positionsOf(const std::vector<int64_t> &mask, int64_t b,
                                 int64_t total, int64_t s) {
  std::vector<int64_t> pos;
  for (int64_t i = 0; i < b; ++i) {
    int64_t seen = 0;
    for (int64_t j = 0; j < total; ++j) {
      int64_t m = mask[i * total + j];
      seen += m != 0;
      if (j >= total - s)
        pos.push_back(m ? seen - 1 : 1);
    }
  }
  return pos;
}

/// The loop's view of the model: which inputs it fills, which output it
/// reads.
struct Roles {
  StepTensor ids, mask, positions;
  bool hasMask = false, hasPositions = false;
  std::vector<Input> fixed; // passed unchanged every step
};

bool isPast(const std::vector<CachePair> &pairs, uint32_t input) {
  return std::any_of(pairs.begin(), pairs.end(),
                     [&](const CachePair &p) { return p.input == input; });
}

Roles findRoles(const Model &model, const std::vector<CachePair> &pairs,
                const std::vector<Input> &inputs) {
  Roles roles;
  const Input *prompt = nullptr, *mask = nullptr;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Input in = inputs[i];
    if (in.name.empty() && i < model.numInputs())
      in.name = model.input(static_cast<uint32_t>(i)).name;
    int32_t index = model.findInput(in.name);
    if (index >= 0 && isPast(pairs, static_cast<uint32_t>(index)))
      throw failure("input '" + in.name +
                    "' is a KV cache: the loop binds it (give the prompt "
                    "only)");
    if (in.name == "input_ids")
      prompt = &inputs[i];
    else if (in.name == "attention_mask")
      mask = &inputs[i];
    else if (in.name != "position_ids")
      roles.fixed.push_back(in);
  }
  int32_t idsIndex = model.findInput("input_ids");
  if (idsIndex < 0)
    throw failure("the model has no input 'input_ids' [batch_size, "
                  "sequence_length] to feed generated tokens to");
  if (!prompt)
    throw failure("no prompt: give --input input_ids=PROMPT.npy ([batch, "
                  "length] token ids)");
  if (prompt->dims.size() != 2 || prompt->dims[0] < 1 || prompt->dims[1] < 1)
    throw failure("the prompt input_ids must be [batch, length] with both at "
                  "least 1");
  int64_t b = prompt->dims[0], s = prompt->dims[1];
  roles.ids.name = "input_ids";
  roles.ids.dtype = model.input(idsIndex).dtype;
  roles.ids.set(decodeInts(prompt->dtype, prompt->data, b * s, "input_ids"),
                {b, s});

  if (int32_t m = model.findInput("attention_mask"); m >= 0) {
    roles.hasMask = true;
    roles.mask.name = "attention_mask";
    roles.mask.dtype = model.input(m).dtype;
    if (mask && mask->dims != std::vector<int64_t>{b, s})
      throw failure("attention_mask must have the prompt's shape [" +
                    std::to_string(b) + ", " + std::to_string(s) + "]");
    roles.mask.set(mask ? decodeInts(mask->dtype, mask->data, b * s,
                                     "attention_mask")
                        : std::vector<int64_t>(b * s, 1),
                   {b, s});
  } else if (mask) {
    throw failure("the model has no input 'attention_mask'");
  }
  if (int32_t p = model.findInput("position_ids"); p >= 0) {
    roles.hasPositions = true;
    roles.positions.name = "position_ids";
    roles.positions.dtype = model.input(p).dtype;
    std::vector<int64_t> ones(b * s, 1);
    roles.positions.set(
        positionsOf(roles.hasMask ? roles.mask.values : ones, b, s, s), {b, s});
  }
  return roles;
}

/// Models compiled with the default bounds take no empty past; the prompt
/// step needs one.
void checkEmptyPast(const Model &model, const std::vector<CachePair> &pairs) {
  for (const CachePair &p : pairs) {
    TensorInfo past = model.input(p.input);
    const DimInfo &dim = past.dimInfo[p.axis];
    if (dim.min > 0)
      throw failure(
          "input '" + past.name + "' takes at least " +
          std::to_string(dim.min) + " past positions, but the prompt step "
          "runs with none: compile the model with --dim " +
          (dim.name.empty() ? std::string("NAME") : dim.name) + "=0..N");
  }
}

/// argmax over the last position's logits of each row of `logits`
/// [batch, s, vocab] (float32, float16 or bfloat16), kept as float32.
void appendArgmax(const void *logits, TesseraDType dtype, int64_t s,
                  Generation &g) {
  for (int64_t i = 0; i < g.batch; ++i) {
    int64_t start = (i * s + s - 1) * g.vocab;
    size_t first = g.logits.size();
    for (int64_t v = 0; v < g.vocab; ++v)
      g.logits.push_back(run::floatAt(logits, dtype, start + v));
    const float *row = g.logits.data() + first;
    g.ids.push_back(std::max_element(row, row + g.vocab) - row);
  }
}

/// Reorders [tokens, batch, ...] into [batch, tokens, ...].
template <typename T>
std::vector<T> batchMajor(const std::vector<T> &v, int64_t tokens,
                          int64_t batch, int64_t inner) {
  std::vector<T> out(v.size());
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t b = 0; b < batch; ++b)
      std::copy_n(v.begin() + (t * batch + b) * inner, inner,
                  out.begin() + (b * tokens + t) * inner);
  return out;
}
} // namespace

namespace {
/// The logits buffers of the prompt step ([B, S, V]) and of the decode steps
/// ([B, 1, V]), sized by the first run that allocates them and reused by
/// every later step and run, as a caller of the runtime would, so that no
/// timed step allocates (or faults in) its output. Empty while unknown, and
/// for models with other outputs than the logits (they keep allocating).
struct LogitsBuffers {
  std::vector<char> prompt, step;
  TesseraDType dtype = TESSERA_DTYPE_FLOAT;
  int64_t vocab = 0;
};

/// Runs one step into `buffer` when it is sized, else with runtime-allocated
/// outputs (sizing `buffer` for the next time), and appends each row's
/// argmax over its last position to `g`; returns the step's time in ms.
double runStep(KVCache &cache, const std::vector<Input> &step,
               std::vector<char> &buffer, LogitsBuffers &buffers,
               Generation &g) {
  auto start = Clock::now();
  std::vector<Tensor> outputs;
  if (buffer.empty())
    outputs = cache.run(step);
  else
    cache.run(step, {{"logits", buffer.data(), buffer.size()}});
  double ms =
      std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (!outputs.empty()) {
    auto logits =
        std::find_if(outputs.begin(), outputs.end(),
                     [](const Tensor &o) { return o.name() == "logits"; });
    if (!run::isFloatAtType(logits->dtype()) || logits->dims().size() != 3)
      throw failure("output 'logits' must be float32, float16 or bfloat16 "
                    "[batch, sequence, vocab]");
    buffers.vocab = logits->dims()[2];
    buffers.dtype = static_cast<TesseraDType>(logits->dtype());
    if (outputs.size() == 1)
      buffer.resize(logits->byteSize());
    g.vocab = buffers.vocab;
    appendArgmax(logits->data(), buffers.dtype, logits->dims()[1], g);
    return ms;
  }
  // The positions the buffer holds, as the run that sized it returned them
  // (a model may return the prompt step's last position only).
  g.vocab = buffers.vocab;
  int64_t positions = static_cast<int64_t>(buffer.size()) /
                      (g.batch * g.vocab * tessera_dtype_size(buffers.dtype));
  appendArgmax(buffer.data(), buffers.dtype, positions, g);
  return ms;
}

/// One greedy decode from the prompt in `roles` (left unchanged); the cache
/// starts empty.
Generation decodeOnce(KVCache &cache, Roles roles, int64_t tokens,
                      LogitsBuffers &buffers) {
  Generation g;
  g.batch = roles.ids.dims[0];
  g.promptLength = roles.ids.dims[1];
  g.tokens = tokens;
  g.inPlace = cache.inPlace();
  cache.reset();
  for (int64_t t = 0; t < tokens; ++t) {
    std::vector<Input> step = roles.fixed;
    step.push_back(roles.ids.input());
    if (roles.hasMask)
      step.push_back(roles.mask.input());
    if (roles.hasPositions)
      step.push_back(roles.positions.input());
    if (t == 0)
      g.prefillMs = runStep(cache, step, buffers.prompt, buffers, g);
    else
      g.decodeMs += runStep(cache, step, buffers.step, buffers, g);

    // The next step: the chosen tokens, one more mask column.
    std::vector<int64_t> next(g.ids.end() - g.batch, g.ids.end());
    roles.ids.set(next, {g.batch, 1});
    if (roles.hasMask) {
      int64_t total = roles.mask.dims[1];
      std::vector<int64_t> mask;
      for (int64_t i = 0; i < g.batch; ++i) {
        mask.insert(mask.end(), roles.mask.values.begin() + i * total,
                    roles.mask.values.begin() + (i + 1) * total);
        mask.push_back(1);
      }
      roles.mask.set(mask, {g.batch, total + 1});
    }
    if (roles.hasPositions) {
      int64_t total = roles.hasMask ? roles.mask.dims[1] : cache.length() + 1;
      std::vector<int64_t> ones(g.batch * total, 1);
      roles.positions.set(positionsOf(roles.hasMask ? roles.mask.values : ones,
                                      g.batch, total, 1),
                          {g.batch, 1});
    }
  }
  g.ids = batchMajor(g.ids, tokens, g.batch, 1);
  g.logits = batchMajor(g.logits, tokens, g.batch, g.vocab);
  if (tokens > 1)
    g.decodeMs /= double(tokens - 1);
  return g;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
} // namespace

Generation tessera::run::generate(const Model &model, Session &session,
                                  const std::vector<Input> &inputs,
                                  int64_t tokens, int64_t repeats) {
  std::vector<CachePair> pairs = model.cachePairs();
  checkEmptyPast(model, pairs);
  if (model.findOutput("logits") < 0)
    throw failure("the model has no output 'logits' [batch_size, "
                  "sequence_length, vocab] to pick tokens from");
  Roles roles = findRoles(model, pairs, inputs);
  // The last token is not fed back: the cache holds prompt + tokens - 1.
  KVCache cache(session, roles.ids.dims[1] + tokens - 1);
  LogitsBuffers buffers;
  Generation g = decodeOnce(cache, roles, tokens, buffers);
  if (repeats == 0)
    return g;
  std::vector<double> prefill, decode;
  for (int64_t r = 0; r < repeats; ++r) {
    Generation timed = decodeOnce(cache, roles, tokens, buffers);
    // The timed loops run into the buffers the first one sized: they must
    // choose what it chose, from the same logits.
    if (timed.ids != g.ids || timed.logits != g.logits)
      throw failure("timed loop " + std::to_string(r + 1) +
                    " chose other tokens or logits than the first loop");
    prefill.push_back(timed.prefillMs);
    decode.push_back(timed.decodeMs);
  }
  g.prefillMs = median(prefill);
  g.decodeMs = median(decode);
  return g;
}
