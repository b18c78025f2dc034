/* An ABI v4 model with run-time shapes: y = 2 * x for x float32[batch, 3]
 * and a second input m float32[batch] (the same named dim), batch bounded to
 * 1..8, and two checks of the kind generated code makes:
 *   - output_dims refuses batch 7 (a dims-only check);
 *   - run refuses a negative x[0][0] (a data check).
 */
#include "tessera/abi.h"

#include <stddef.h>

static const int64_t kXDims[] = {-1, 3};
static const int64_t kMDims[] = {-1};
static const TesseraTensorDesc kInputs[] = {
    {"x", TESSERA_DTYPE_FLOAT, 2, kXDims, 0, 0, 0},
    {"m", TESSERA_DTYPE_FLOAT, 1, kMDims, 0, 0, 0}};
static const TesseraTensorDesc kOutputs[] = {
    {"y", TESSERA_DTYPE_FLOAT, 2, kXDims, 0, 0, 0}};

static const TesseraDimInfo kXInfo[] = {{"batch", 1, 8}, {NULL, 3, 3}};
static const TesseraDimInfo kMInfo[] = {{"batch", 1, 8}};
static const TesseraDimInfo *const kInputInfo[] = {kXInfo, kMInfo};
static const TesseraDimInfo *const kOutputInfo[] = {kXInfo};

static int32_t outputDims(const int64_t *const *inputDims,
                          int64_t *const *outDims,
                          const TesseraExecContext *ctx) {
  if (inputDims[0][0] == 7) {
    ctx->report_error(ctx, "node 'check': batch 7 is refused");
    return 0;
  }
  outDims[0][0] = inputDims[0][0];
  outDims[0][1] = 3;
  return 0;
}

static int32_t run(void *const *inputs, const int64_t *const *inputDims,
                   void *const *outputs, const int64_t *const *outDims,
                   const TesseraExecContext *ctx) {
  const float *x = (const float *)inputs[0];
  float *y = (float *)outputs[0];
  if (outDims[0][0] != inputDims[0][0])
    return 3;
  if (inputDims[0][0] > 0 && x[0] < 0) {
    ctx->report_error(ctx, "node 'neg': negative input");
    return 0;
  }
  for (int64_t i = 0; i < inputDims[0][0] * 3; ++i)
    y[i] = 2 * x[i];
  return 0;
}

__attribute__((visibility("default")))
const TesseraModelDesc tessera_model_v1 = {
    4u,          2,       1,  kInputs, kOutputs, "tessera-test 0", "znver4",
    "",          NULL,    NULL, kInputInfo, kOutputInfo, run, outputDims};
