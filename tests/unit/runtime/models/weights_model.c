/* A hand-written model with external weights (ABI v2), for the runtime tests:
 *   y[64] = x[64] + w[64]   (float32)
 * w lives in weights_model.so.weights: the 64-byte header of
 * tessera/weights_file.h, then w[i] = 0.5 * i - 3 (256 bytes). The runtime
 * maps the file and calls bind() with the data's address before any run.
 */
#include "tessera/abi.h"

#include <stdint.h>

/* tessera_weights_checksum() of the data; RuntimeTest checks it. */
#define WEIGHTS_CHECKSUM 0x68a12e86f38d22b0ull

static const int64_t kDims[] = {64};
static const TesseraTensorDesc kInputs[] = {
    {"x", TESSERA_DTYPE_FLOAT, 1, kDims, 0, 0, 0}};
static const TesseraTensorDesc kOutputs[] = {
    {"y", TESSERA_DTYPE_FLOAT, 1, kDims, 0, 0, 0}};

static const float *weights;
static int bindCount;

static void bind(const void *data) {
  weights = (const float *)data;
  ++bindCount;
}

static int32_t entry(void *const *inputs, void *const *outputs,
                     const TesseraExecContext *ctx) {
  (void)ctx;
  if (!weights)
    return 1;
  if ((uintptr_t)weights % 64 != 0)
    return 2;
  const float *x = (const float *)inputs[0];
  float *y = (float *)outputs[0];
  for (int i = 0; i < 64; ++i)
    y[i] = x[i] + weights[i];
  return 0;
}

/* How often the runtime bound the weights (the tests look it up). */
__attribute__((visibility("default"))) int weights_model_bind_count(void) {
  return bindCount;
}

static const TesseraExternalWeights kWeights = {
    "weights_model.so.weights", 1, 1, 64 + 256, 256, WEIGHTS_CHECKSUM, bind};

__attribute__((visibility("default")))
const TesseraModelDesc tessera_model_v1 = {
    2,        1,  1,     kInputs,  kOutputs, "tessera-test 0",
    "x86-64", "", entry, &kWeights};
