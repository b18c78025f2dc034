/* y = Relu(x) on float32[3,4,5]: the shape of ONNX's test_relu node test. */
#include "tessera/abi.h"

#include <stddef.h>

static const int64_t kDims[] = {3, 4, 5};
static const TesseraTensorDesc kInputs[] = {
    {"x", TESSERA_DTYPE_FLOAT, 3, kDims, 0, 0, 0}};
static const TesseraTensorDesc kOutputs[] = {
    {"y", TESSERA_DTYPE_FLOAT, 3, kDims, 0, 0, 0}};

static int32_t entry(void *const *inputs, void *const *outputs,
                     const TesseraExecContext *ctx) {
  (void)ctx;
  const float *x = (const float *)inputs[0];
  float *y = (float *)outputs[0];
  for (int i = 0; i < 60; ++i)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
  return 0;
}

__attribute__((visibility("default")))
const TesseraModelDesc tessera_model_v1 = {
    3u /* v3 layout */, 1,    1,    kInputs, kOutputs,
    "tessera-test 0",    NULL, NULL, entry};
