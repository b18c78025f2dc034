/* A KV-cache decoder in miniature, the way Hugging Face Optimum names one:
 *   input_ids int64 [batch_size, sequence_length]
 *   past_key_values.0.key float32 [batch_size, 2, past_sequence_length, 3]
 * -> logits float32 [batch_size, sequence_length, 2]
 *    present.0.key float32 [batch_size, 2, past_sequence_length +
 *                           sequence_length, 3] = Concat(past, new, axis 2)
 * where new[b, h, s, d] = 10 * input_ids[b, s] + h + d / 2, logits[b, s, 0]
 * is the sum of present[b, :, 0..P+s, :] (what query s may see) and
 * logits[b, s, 1] = P.
 *
 * TEST_VARIANT selects the descriptor:
 *   0: ABI v4, pairs found by name;
 *   1: ABI v5 with the pair recorded TESSERA_CACHE_IN_PLACE and run_strided
 *      (past and present may share a buffer of capacity rows);
 *   2: ABI v4, names that pair by structure only (cache_in / cache_out);
 *   3: ABI v4, a past input without its present output (new_cache);
 *   4: as 0, but logits declared int32 (which greedy decoding refuses).
 */
#include "tessera/abi.h"

#include <stddef.h>

#ifndef TEST_VARIANT
#define TEST_VARIANT 0
#endif

#if TEST_VARIANT == 2
#define PAST_NAME "cache_in"
#define PRESENT_NAME "cache_out"
#elif TEST_VARIANT == 3
#define PAST_NAME "past_key_values.0.key"
#define PRESENT_NAME "new_cache"
#else
#define PAST_NAME "past_key_values.0.key"
#define PRESENT_NAME "present.0.key"
#endif

#if TEST_VARIANT == 4
#define LOGITS_DTYPE TESSERA_DTYPE_INT32
#else
#define LOGITS_DTYPE TESSERA_DTYPE_FLOAT
#endif

enum { H = 2, D = 3 };

static const int64_t kIdsDims[] = {-1, -1};
static const int64_t kCacheDims[] = {-1, H, -1, D};
static const int64_t kLogitsDims[] = {-1, -1, 2};
static const TesseraTensorDesc kInputs[] = {
    {"input_ids", TESSERA_DTYPE_INT64, 2, kIdsDims, 1, 0, 99},
    {PAST_NAME, TESSERA_DTYPE_FLOAT, 4, kCacheDims, 0, 0, 0}};
static const TesseraTensorDesc kOutputs[] = {
    {"logits", LOGITS_DTYPE, 3, kLogitsDims, 0, 0, 0},
    {PRESENT_NAME, TESSERA_DTYPE_FLOAT, 4, kCacheDims, 0, 0, 0}};

#define BATCH {"batch_size", 1, 8}
static const TesseraDimInfo kIdsInfo[] = {BATCH, {"sequence_length", 1, 64}};
static const TesseraDimInfo kPastInfo[] = {
    BATCH, {NULL, H, H}, {"past_sequence_length", 0, 64}, {NULL, D, D}};
static const TesseraDimInfo kLogitsInfo[] = {
    BATCH, {"sequence_length", 1, 64}, {NULL, 2, 2}};
static const TesseraDimInfo kPresentInfo[] = {
    BATCH,
    {NULL, H, H},
    {"past_sequence_length + sequence_length", 1, 128},
    {NULL, D, D}};
static const TesseraDimInfo *const kInputInfo[] = {kIdsInfo, kPastInfo};
static const TesseraDimInfo *const kOutputInfo[] = {kLogitsInfo, kPresentInfo};

static int32_t outputDims(const int64_t *const *in, int64_t *const *out,
                          const TesseraExecContext *ctx) {
  (void)ctx;
  out[0][0] = in[0][0];
  out[0][1] = in[0][1];
  out[0][2] = 2;
  out[1][0] = in[1][0];
  out[1][1] = H;
  out[1][2] = in[1][2] + in[0][1];
  out[1][3] = D;
  return 0;
}

static int32_t runStrided(void *const *inputs, const int64_t *const *inDims,
                          const int64_t *const *inAlloc, void *const *outputs,
                          const int64_t *const *outDims,
                          const int64_t *const *outAlloc,
                          const TesseraExecContext *ctx) {
  (void)ctx;
  const int64_t *ids = (const int64_t *)inputs[0];
  const float *past = (const float *)inputs[1];
  float *logits = (float *)outputs[0];
  float *present = (float *)outputs[1];
  int64_t b = inDims[0][0], s = inDims[0][1], p = inDims[1][2];
  int64_t pastRows = inAlloc ? inAlloc[1][2] : p;
  int64_t presentRows = outAlloc ? outAlloc[1][2] : p + s;
  if (outDims[1][2] != p + s || pastRows < p || presentRows < p + s)
    return 3;
  for (int64_t i = 0; i < b; ++i)
    for (int64_t h = 0; h < H; ++h) {
      float *dst = present + (i * H + h) * presentRows * D;
      const float *src = past + (i * H + h) * pastRows * D;
      if (dst != src) /* in place: the past rows are already there */
        for (int64_t r = 0; r < p * D; ++r)
          dst[r] = src[r];
      for (int64_t t = 0; t < s; ++t)
        for (int64_t d = 0; d < D; ++d)
          dst[(p + t) * D + d] = 10.0f * ids[i * s + t] + h + d / 2.0f;
    }
  for (int64_t i = 0; i < b; ++i)
    for (int64_t t = 0; t < s; ++t) {
      float sum = 0;
      for (int64_t h = 0; h < H; ++h)
        for (int64_t r = 0; r <= p + t; ++r)
          for (int64_t d = 0; d < D; ++d)
            sum += present[((i * H + h) * presentRows + r) * D + d];
      logits[(i * s + t) * 2] = sum;
      logits[(i * s + t) * 2 + 1] = (float)p;
    }
  return 0;
}

static int32_t run(void *const *inputs, const int64_t *const *inDims,
                   void *const *outputs, const int64_t *const *outDims,
                   const TesseraExecContext *ctx) {
  return runStrided(inputs, inDims, NULL, outputs, outDims, NULL, ctx);
}

#if TEST_VARIANT == 1
static const TesseraCachePair kPairs[] = {{1, 1, 2, TESSERA_CACHE_IN_PLACE}};
#define VERSION 5u
#define PAIRS 1, kPairs, runStrided
#else
#define VERSION 4u
#define PAIRS 0, NULL, NULL
#endif

__attribute__((visibility("default")))
const TesseraModelDesc tessera_model_v1 = {
    VERSION,    2,          1 + 1,    kInputs,    kOutputs, "tessera-test 0",
    "znver4",   "",         NULL,     NULL,       kInputInfo, kOutputInfo,
    run,        outputDims, PAIRS};
