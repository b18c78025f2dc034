/* Exercises ctx->alloc and ctx->free (ABI version 3) the way generated code
 * uses them: blocks taken and given back during a run, some from parallel
 * bodies. Inputs (int64[1] each):
 *   n     parallel iterations, in [0, 256]; iteration i allocates a block of
 *         (i % 7 + 1) * 100 bytes aligned to 64 << (i % 3), fills it with
 *         i's pattern, checks it and keeps it; the entry checks every kept
 *         block again after the loop and frees them all (so blocks are freed
 *         by other threads than the ones that allocated them)
 *   leak  1: the entry's first block is not freed (the session must release
 *         it when destroyed)
 * Outputs:
 *   addrs[5]  the addresses of the entry's blocks, in request order:
 *             malloc-like 1000 bytes, 4096 bytes aligned to 128, 0 bytes,
 *             1 MiB aligned to 4096, 1000 bytes again (while the first is
 *             still alive)
 *   info[4]   misaligned blocks, NULL blocks, whether alloc rejected a
 *             non-power-of-two alignment (1) or not (0), corrupted blocks
 */
#include "tessera/abi.h"

#include <stdint.h>
#include <string.h>

static const int64_t kOne[] = {1};
static const int64_t kAddrs[] = {5};
static const int64_t kInfo[] = {4};

static const TesseraTensorDesc kInputs[] = {
    {"n", TESSERA_DTYPE_INT64, 1, kOne, 1, 0, 256},
    {"leak", TESSERA_DTYPE_INT64, 1, kOne, 1, 0, 1},
};
static const TesseraTensorDesc kOutputs[] = {
    {"addrs", TESSERA_DTYPE_UINT64, 1, kAddrs, 0, 0, 0},
    {"info", TESSERA_DTYPE_INT32, 1, kInfo, 0, 0, 0},
};

typedef struct {
  const TesseraExecContext *ctx;
  unsigned char *kept[256];
  int32_t *info;
} Loop;

static uint64_t blockSize(int64_t i) { return (uint64_t)(i % 7 + 1) * 100; }
static uint64_t blockAlignment(int64_t i) { return 64u << (i % 3); }

static void check(int32_t *info, const void *p, uint64_t alignment) {
  if (!p)
    __atomic_fetch_add(&info[1], 1, __ATOMIC_RELAXED);
  else if ((uintptr_t)p % alignment)
    __atomic_fetch_add(&info[0], 1, __ATOMIC_RELAXED);
}

static int intact(const unsigned char *p, int64_t i) {
  for (uint64_t k = 0; k < blockSize(i); ++k)
    if (p[k] != (unsigned char)(i * 31 + k))
      return 0;
  return 1;
}

static void body(void *closure, int64_t begin, int64_t end) {
  Loop *l = (Loop *)closure;
  for (int64_t i = begin; i < end; ++i) {
    /* A short-lived block, then the kept one. */
    void *tmp = l->ctx->alloc(l->ctx, 64, 0);
    check(l->info, tmp, 64);
    unsigned char *p =
        (unsigned char *)l->ctx->alloc(l->ctx, blockSize(i), blockAlignment(i));
    check(l->info, p, blockAlignment(i));
    l->ctx->free(l->ctx, tmp);
    l->kept[i] = p;
    if (!p)
      continue;
    for (uint64_t k = 0; k < blockSize(i); ++k)
      p[k] = (unsigned char)(i * 31 + k);
    if (!intact(p, i))
      __atomic_fetch_add(&l->info[3], 1, __ATOMIC_RELAXED);
  }
}

static int32_t entry(void *const *inputs, void *const *outputs,
                     const TesseraExecContext *ctx) {
  int64_t n = *(const int64_t *)inputs[0];
  int64_t leak = *(const int64_t *)inputs[1];
  uint64_t *addrs = (uint64_t *)outputs[0];
  int32_t *info = (int32_t *)outputs[1];
  if (!ctx || ctx->abi_version != 3u || !ctx->alloc ||
      !ctx->free)
    return 99;
  memset(info, 0, 4 * sizeof(int32_t));

  static const uint64_t kSizes[5] = {1000, 4096, 0, 1u << 20, 1000};
  static const uint64_t kAlign[5] = {0, 128, 0, 4096, 0};
  void *blocks[5];
  for (int b = 0; b < 5; ++b) {
    blocks[b] = ctx->alloc(ctx, kSizes[b], kAlign[b]);
    check(info, blocks[b], kAlign[b] > 64 ? kAlign[b] : 64);
    addrs[b] = (uint64_t)(uintptr_t)blocks[b];
    if (blocks[b])
      memset(blocks[b], 0xab, kSizes[b]);
  }
  info[2] = ctx->alloc(ctx, 100, 96) == NULL;

  Loop l;
  l.ctx = ctx;
  l.info = info;
  memset(l.kept, 0, sizeof l.kept);
  ctx->parallel_for(ctx, n, body, &l);
  for (int64_t i = 0; i < n; ++i) {
    if (l.kept[i] && !intact(l.kept[i], i))
      ++info[3];
    ctx->free(ctx, l.kept[i]);
  }
  ctx->free(ctx, NULL);
  for (int b = leak ? 1 : 0; b < 5; ++b)
    ctx->free(ctx, blocks[b]);
  return 0;
}

__attribute__((visibility("default")))
const TesseraModelDesc tessera_model_v1 = {
    3u /* v3 layout */, 2,  2,  kInputs, kOutputs,
    "tessera-test 0",    "", "", entry,   NULL};
