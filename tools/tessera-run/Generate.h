//===- Generate.h - greedy decoding for tessera-run --generate --*- C++ -*-===//
//
// Part of Tessera.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_TOOLS_RUN_GENERATE_H
#define TESSERA_TOOLS_RUN_GENERATE_H

#include "tessera/runtime.hpp"

#include <cstdint>
#include <vector>

namespace tessera::run {

/// What a greedy decode produced, and how long it took.
struct Generation {
  int64_t batch = 0, promptLength = 0, tokens = 0, vocab = 0;
  std::vector<int64_t> ids;   // [batch, tokens]: the generated token ids
  std::vector<float> logits;  // [batch, tokens, vocab]: the logits each came from
  double prefillMs = 0;       // the first step (the whole prompt)
  double decodeMs = 0;        // a later step, on average
  bool inPlace = false;       // the cache grew in place (else two buffers)
};

/// Greedy decoding of `tokens` tokens with a KV-cache decoder: one step on
/// the prompt (input_ids [B, S] from `inputs`, with past length 0), then one
/// step per token on the previous step's argmax. `repeats` > 0 first runs
/// the whole loop once untimed (a warm-up) and then `repeats` times,
/// reporting the median prefill time and the median of the repeats' mean
/// step times; the cache's buffers and the logits' are reused across
/// repeats, and each repeat must reproduce the first loop's tokens and
/// logits exactly. attention_mask (when the model has it) is the caller's
/// for the prompt, else all ones, and gains a column of ones per step;
/// position_ids (when the model has it) count the unmasked positions. Every
/// other input is passed unchanged to every step.
/// Throws std::runtime_error when the model cannot be driven this way.
Generation generate(const Model &model, Session &session,
                    const std::vector<Input> &inputs, int64_t tokens,
                    int64_t repeats = 0);

} // namespace tessera::run

#endif // TESSERA_TOOLS_RUN_GENERATE_H
