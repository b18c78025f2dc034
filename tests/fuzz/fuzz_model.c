/* A hand-written model for the runtime fuzzer. Its descriptor is built per
 * input by RuntimeFuzzer.cpp; the entry reads every input and writes every
 * output in full, as the descriptor (fuzz_model_desc) sizes them, so a
 * buffer the runtime let through too small is an AddressSanitizer report. */
#include "tessera/abi.h"
#include "tessera/runtime.h"

#include <stddef.h>
#include <string.h>

const TesseraModelDesc *fuzz_model_desc;

static size_t byteSize(const TesseraTensorDesc *t) {
  size_t n = tessera_dtype_size(t->dtype); /* the fuzzer links the runtime */
  for (int32_t d = 0; d < t->rank; ++d)
    n *= (size_t)t->dims[d];
  return n;
}

static void body(void *closure, int64_t begin, int64_t end) {
  (void)closure;
  (void)begin;
  (void)end;
}

int32_t fuzz_model_entry(void *const *inputs, void *const *outputs,
                         const TesseraExecContext *ctx) {
  const TesseraModelDesc *d = fuzz_model_desc;
  unsigned char sum = 0;
  for (uint32_t i = 0; i < d->num_inputs; ++i) {
    const unsigned char *p = (const unsigned char *)inputs[i];
    size_t n = byteSize(&d->inputs[i]);
    for (size_t b = 0; b < n; ++b)
      sum ^= p[b];
  }
  for (uint32_t i = 0; i < d->num_outputs; ++i)
    memset(outputs[i], sum, byteSize(&d->outputs[i]));
  ctx->parallel_for(ctx, 3, body, NULL);
  if (ctx->abi_version >= 3) {
    void *block = ctx->alloc(ctx, 100, 64);
    ctx->free(ctx, block);
  }
  return sum == 0x5a ? 7 : 0; /* sometimes fail, as a model may */
}
