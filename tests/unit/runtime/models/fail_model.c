/* y[1] = x[1]; the entry returns (int)x[0], so a nonzero x fails the run
   with that code. */
#include "tessera/abi.h"

static const int64_t kDims[] = {1};
static const TesseraTensorDesc kInputs[] = {
    {"x", TESSERA_DTYPE_FLOAT, 1, kDims, 0, 0, 0}};
static const TesseraTensorDesc kOutputs[] = {
    {"y", TESSERA_DTYPE_FLOAT, 1, kDims, 0, 0, 0}};

static int32_t entry(void *const *inputs, void *const *outputs,
                     const TesseraExecContext *ctx) {
  (void)ctx;
  float x = *(const float *)inputs[0];
  *(float *)outputs[0] = x;
  return (int32_t)x;
}

__attribute__((visibility("default")))
const TesseraModelDesc tessera_model_v1 = {
    3u /* v3 layout */, 1,  1,  kInputs, kOutputs,
    "tessera-test 0",    "", "", entry};
