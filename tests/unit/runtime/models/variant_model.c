/* Broken or unusual model libraries, one per TEST_VARIANT:
 *   1  ABI version 99
 *   2  requires "avx512fp16" (absent on Zen 4)
 *   3  requires a CPU feature nobody knows
 *   4  malformed: an index range on a float input
 *   5  a dynamic dimension: x is float32[-1, 3]
 *   6  malformed: two inputs with the same name
 *   7  the output is named "block/0:out" (tessera-run must sanitise it)
 *   8  ABI version 1 (the layout before external weights): loads
 * Each is otherwise the model y = x on float32[2, 3].
 */
#include "tessera/abi.h"

#include <string.h>

#ifndef TEST_VARIANT
#error "define TEST_VARIANT"
#endif

static const int64_t kDims[] = {2, 3};
#if TEST_VARIANT == 5
static const int64_t kDynamicDims[] = {-1, 3};
#endif

static const TesseraTensorDesc kInputs[] = {
#if TEST_VARIANT == 4
    {"x", TESSERA_DTYPE_FLOAT, 2, kDims, 1, 0, 10},
#elif TEST_VARIANT == 5
    {"x", TESSERA_DTYPE_FLOAT, 2, kDynamicDims, 0, 0, 0},
#else
    {"x", TESSERA_DTYPE_FLOAT, 2, kDims, 0, 0, 0},
#endif
    {"x", TESSERA_DTYPE_FLOAT, 2, kDims, 0, 0, 0},
};
#if TEST_VARIANT == 7
#define OUTPUT_NAME "block/0:out"
#else
#define OUTPUT_NAME "y"
#endif
static const TesseraTensorDesc kOutputs[] = {
    {OUTPUT_NAME, TESSERA_DTYPE_FLOAT, 2, kDims, 0, 0, 0}};

static int32_t entry(void *const *inputs, void *const *outputs,
                     const TesseraExecContext *ctx) {
  (void)ctx;
  memcpy(outputs[0], inputs[0], 6 * sizeof(float));
  return 0;
}

#if TEST_VARIANT == 1
#define ABI_VERSION 99u
#elif TEST_VARIANT == 8
#define ABI_VERSION 1u /* the original layout still loads */
#else
#define ABI_VERSION 3u /* the layout this file fills */
#endif

#if TEST_VARIANT == 2
#define FEATURES "sse2,avx512fp16"
#elif TEST_VARIANT == 3
#define FEATURES "sse2,not_a_cpu_feature"
#else
#define FEATURES ""
#endif

#if TEST_VARIANT == 6
#define NUM_INPUTS 2
#else
#define NUM_INPUTS 1
#endif

__attribute__((visibility("default")))
const TesseraModelDesc tessera_model_v1 = {
    ABI_VERSION,      NUM_INPUTS, 1,        kInputs, kOutputs,
    "tessera-test 0", "znver4",   FEATURES, entry};
