/* A hand-written model library for the runtime tests.
 *   sum[2,3]    = a[2,3] + b[2,3]          (float32)
 *   ids_twice[4] = ids[4] * 2              (int64, ids in [0, 9])
 */
#include "tessera/abi.h"

static const int64_t kMatrixDims[] = {2, 3};
static const int64_t kIdsDims[] = {4};

static const TesseraTensorDesc kInputs[] = {
    {"a", TESSERA_DTYPE_FLOAT, 2, kMatrixDims, 0, 0, 0},
    {"b", TESSERA_DTYPE_FLOAT, 2, kMatrixDims, 0, 0, 0},
    {"ids", TESSERA_DTYPE_INT64, 1, kIdsDims, 1, 0, 9},
};

static const TesseraTensorDesc kOutputs[] = {
    {"sum", TESSERA_DTYPE_FLOAT, 2, kMatrixDims, 0, 0, 0},
    {"ids_twice", TESSERA_DTYPE_INT64, 1, kIdsDims, 0, 0, 0},
};

static int32_t entry(void *const *inputs, void *const *outputs,
                     const TesseraExecContext *ctx) {
  const float *a = (const float *)inputs[0];
  const float *b = (const float *)inputs[1];
  const int64_t *ids = (const int64_t *)inputs[2];
  float *sum = (float *)outputs[0];
  int64_t *twice = (int64_t *)outputs[1];
  if (!ctx || ctx->abi_version != 3u || !ctx->parallel_for)
    return 99;
  for (int i = 0; i < 6; ++i)
    sum[i] = a[i] + b[i];
  for (int i = 0; i < 4; ++i)
    twice[i] = ids[i] * 2;
  return 0;
}

__attribute__((visibility("default")))
const TesseraModelDesc tessera_model_v1 = {
    3u /* v3 layout */, 3,        2,           kInputs, kOutputs,
    "tessera-test 0",    "x86-64", "sse2, sse", entry};
