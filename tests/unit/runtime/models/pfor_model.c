/* Exercises ctx->parallel_for. Inputs (int64[1] each):
 *   n         iterations of the outer loop, in [0, 1000]
 *   inner     iterations of a nested parallel_for run by each outer
 *             iteration, in [0, 8]
 *   sleep_us  how long each outer iteration sleeps, in [0, 100000]
 * Outputs:
 *   counts[1000]        how often each outer index ran
 *   inner_counts[8000]  how often inner index j of outer index i ran, at
 *                       i * 8 + j
 *   tids[1000]          the thread that ran each outer index
 *   info[3]             ctx->num_threads, number of body calls with a bad
 *                       range, number of body calls
 */
#include "tessera/abi.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

static const int64_t kOne[] = {1};
static const int64_t kCounts[] = {1000};
static const int64_t kInner[] = {8000};
static const int64_t kInfo[] = {3};

static const TesseraTensorDesc kInputs[] = {
    {"n", TESSERA_DTYPE_INT64, 1, kOne, 1, 0, 1000},
    {"inner", TESSERA_DTYPE_INT64, 1, kOne, 1, 0, 8},
    {"sleep_us", TESSERA_DTYPE_INT64, 1, kOne, 1, 0, 100000},
};
static const TesseraTensorDesc kOutputs[] = {
    {"counts", TESSERA_DTYPE_INT32, 1, kCounts, 0, 0, 0},
    {"inner_counts", TESSERA_DTYPE_INT32, 1, kInner, 0, 0, 0},
    {"tids", TESSERA_DTYPE_UINT64, 1, kCounts, 0, 0, 0},
    {"info", TESSERA_DTYPE_INT32, 1, kInfo, 0, 0, 0},
};

typedef struct {
  const TesseraExecContext *ctx;
  int64_t n, inner, sleepUs;
  int32_t *counts, *innerCounts, *info;
  uint64_t *tids;
} Outer;

typedef struct {
  Outer *outer;
  int64_t i;
} InnerClosure;

static void innerBody(void *closure, int64_t begin, int64_t end) {
  InnerClosure *c = (InnerClosure *)closure;
  if (begin < 0 || end > c->outer->inner || begin >= end)
    __atomic_fetch_add(&c->outer->info[1], 1, __ATOMIC_RELAXED);
  for (int64_t j = begin; j < end; ++j)
    __atomic_fetch_add(&c->outer->innerCounts[c->i * 8 + j], 1,
                       __ATOMIC_RELAXED);
}

static void outerBody(void *closure, int64_t begin, int64_t end) {
  Outer *o = (Outer *)closure;
  __atomic_fetch_add(&o->info[2], 1, __ATOMIC_RELAXED);
  if (begin < 0 || end > o->n || begin >= end)
    __atomic_fetch_add(&o->info[1], 1, __ATOMIC_RELAXED);
  for (int64_t i = begin; i < end; ++i) {
    __atomic_fetch_add(&o->counts[i], 1, __ATOMIC_RELAXED);
    o->tids[i] = (uint64_t)pthread_self();
    if (o->sleepUs > 0) {
      struct timespec ts = {0, (long)(o->sleepUs * 1000)};
      nanosleep(&ts, NULL);
    }
    if (o->inner > 0) {
      InnerClosure c = {o, i};
      o->ctx->parallel_for(o->ctx, o->inner, innerBody, &c);
    }
  }
}

static int32_t entry(void *const *inputs, void *const *outputs,
                     const TesseraExecContext *ctx) {
  Outer o;
  o.ctx = ctx;
  o.n = *(const int64_t *)inputs[0];
  o.inner = *(const int64_t *)inputs[1];
  o.sleepUs = *(const int64_t *)inputs[2];
  o.counts = (int32_t *)outputs[0];
  o.innerCounts = (int32_t *)outputs[1];
  o.tids = (uint64_t *)outputs[2];
  o.info = (int32_t *)outputs[3];
  memset(o.counts, 0, 1000 * sizeof(int32_t));
  memset(o.innerCounts, 0, 8000 * sizeof(int32_t));
  memset(o.tids, 0, 1000 * sizeof(uint64_t));
  o.info[0] = ctx->num_threads;
  o.info[1] = 0;
  o.info[2] = 0;
  ctx->parallel_for(ctx, o.n, outerBody, &o);
  return 0;
}

__attribute__((visibility("default")))
const TesseraModelDesc tessera_model_v1 = {
    3u /* v3 layout */, 3,  4,  kInputs, kOutputs,
    "tessera-test 0",    "", "", entry};
