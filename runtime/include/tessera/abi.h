/*===- tessera/abi.h - the compiled-model ABI ------------------------*- C
 *-*-===
 *
 * Part of Tessera. The contract between a model library produced by
 * `tessera-compile -o model.so` and the runtime that loads it. The compiler
 * emits these structures as constant data; the runtime reads them. Any change
 * to the layout bumps TESSERA_ABI_VERSION.
 *
 * A model library exports exactly one symbol, TESSERA_MODEL_SYMBOL, a
 * `const TesseraModelDesc`. Everything else is reached through it.
 *
 * Versions: 1 is the original layout. 2 appends `external_weights` to the
 * descriptor (weights in a side file, `tessera-compile --external-weights`).
 * 3 appends `alloc` and `free` to the execution context: generated code takes
 * its intermediate buffers from the runtime instead of malloc. The descriptor
 * keeps the version-2 layout (external_weights is NULL when the weights are
 * inside the library).
 *
 * 4 makes shapes run-time values: the descriptor appends each dimension's
 * name and bounds (TesseraDimInfo), `run` (the entry with input and output
 * dims) and `output_dims` (output dims from input dims), and the context
 * appends `report_error` (a shape check in the generated code failed). In a
 * version-4 descriptor `entry` is NULL when a dimension is dynamic.
 *
 * 5 describes KV-cache decoders: the descriptor appends its past/present
 * pairs (TesseraCachePair) and `run_strided`, an entry that takes each
 * tensor's allocated dims, so that a pair marked TESSERA_CACHE_IN_PLACE can
 * keep its cache in one buffer that grows in place across decode steps.
 *
 * The compiler emits the lowest version the library needs: 5 when it records
 * past/present pairs, else 4 when a
 * dimension is dynamic or its code checks shapes at run time, else 3 when its
 * code allocates through the context, else 2 when it has external weights,
 * else 1.
 * A runtime loads every version in [TESSERA_ABI_MIN_VERSION,
 * TESSERA_ABI_VERSION], reads descriptor fields past `entry` only when the
 * descriptor's version has them, and fills every context field for every
 * model (older libraries never read the fields they do not know). A library
 * is therefore only run by a runtime at least as new as its version, which
 * the version check at load time guarantees: a version-2 runtime rejects a
 * version-3 library, whose code would call the missing `alloc`.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TESSERA_ABI_H
#define TESSERA_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TESSERA_ABI_VERSION 5u
#define TESSERA_ABI_MIN_VERSION 1u
/* The symbol keeps its name across versions; abi_version tells them apart. */
#define TESSERA_MODEL_SYMBOL "tessera_model_v1"

/* Element types use ONNX's TensorProto.DataType numbers. */
enum TesseraDType {
  TESSERA_DTYPE_FLOAT = 1,
  TESSERA_DTYPE_UINT8 = 2,
  TESSERA_DTYPE_INT8 = 3,
  TESSERA_DTYPE_UINT16 = 4,
  TESSERA_DTYPE_INT16 = 5,
  TESSERA_DTYPE_INT32 = 6,
  TESSERA_DTYPE_INT64 = 7,
  TESSERA_DTYPE_BOOL = 9, /* one byte per element, 0 or 1 */
  TESSERA_DTYPE_FLOAT16 = 10,
  TESSERA_DTYPE_DOUBLE = 11,
  TESSERA_DTYPE_UINT32 = 12,
  TESSERA_DTYPE_UINT64 = 13,
  TESSERA_DTYPE_BFLOAT16 = 16
};

/* One input or output: dense, row-major, no padding. */
typedef struct TesseraTensorDesc {
  const char *name;
  int32_t dtype; /* enum TesseraDType */
  int32_t rank;
  const int64_t *dims; /* rank entries; -1 marks a dynamic dimension */
  /* Integer inputs the model uses as Gather indices (token ids): when
     has_index_range is 1, every value must lie in [index_min, index_max], and
     the runtime rejects inputs outside it before running. */
  int32_t has_index_range;
  int64_t index_min;
  int64_t index_max;
} TesseraTensorDesc;

struct TesseraExecContext;

/* Body of a parallel loop: runs iterations [begin, end). */
typedef void (*TesseraParallelBody)(void *closure, int64_t begin, int64_t end);

/* What generated code may ask of the runtime while it runs. */
typedef struct TesseraExecContext {
  uint32_t abi_version; /* the model descriptor's abi_version */
  int32_t num_threads;
  /* Runs body over [0, n) split into chunks across the session's threads and
     returns when all are done. Never NULL. */
  void (*parallel_for)(const struct TesseraExecContext *ctx, int64_t n,
                       TesseraParallelBody body, void *closure);
  void *runtime_private;
  /* --- ABI version 3 and later (filled by v3 runtimes for every model) --- */
  /* Returns a block of at least `size` bytes aligned to at least
     max(alignment, 64) (alignment is 0 or a power of two), or NULL when out
     of memory. Blocks live until passed to `free` on the same context or until
     the session is destroyed, whichever comes first. May be called from any
     thread running the model's code (the entry or a parallel body),
     concurrently. Never NULL. */
  void *(*alloc)(const struct TesseraExecContext *ctx, uint64_t size,
                 uint64_t alignment);
  /* Returns a block from `alloc` on the same context; NULL does nothing.
     Thread-safe like `alloc`. Never NULL. */
  void (*free)(const struct TesseraExecContext *ctx, void *ptr);
  /* --- ABI version 4 and later --- */
  /* A run-time check of the generated code failed (a shape the model does
     not allow, e.g. a Reshape whose element count does not match); `message`
     is a static string of the library naming the node. The code returns
     without finishing the run; the runtime reports the first message of the
     run as an error. Thread-safe. Never NULL. */
  void (*report_error)(const struct TesseraExecContext *ctx,
                       const char *message);
} TesseraExecContext;

/* The compiled graph. inputs[i] and outputs[i] point to dense row-major
   buffers of the shapes in the descriptor; the caller owns them. Returns 0 on
   success, otherwise a nonzero error code. */
typedef int32_t (*TesseraEntryFn)(void *const *inputs, void *const *outputs,
                                  const TesseraExecContext *ctx);

/* ABI v2: weights stored in a side file the runtime maps read-only at load
   time (the file format is in tessera/weights_file.h). Generated code reaches
   them through a base pointer that the runtime sets with `bind` before any
   run; `bind` may be called again (with the same contents) when the same
   library is loaded twice. */
typedef struct TesseraExternalWeights {
  /* File name relative to the directory of the library (or executable) that
     holds the descriptor, e.g. "model.so.weights". Never contains '/'. */
  const char *file_name;
  uint32_t format_version; /* TESSERA_WEIGHTS_FORMAT_VERSION */
  uint32_t num_weights;    /* informational */
  uint64_t file_size;      /* exact size of the file in bytes */
  uint64_t data_size;      /* bytes of weight data after the header */
  /* tessera_weights_checksum() of the data; also in the file's header, so it
     identifies the weights the code was compiled against. */
  uint64_t checksum;
  /* Sets the base address of the weight data (64-byte aligned). */
  void (*bind)(const void *data);
} TesseraExternalWeights;

/* ABI v4: one dimension of an input or output. For a static dimension
   min == max == its size. For a dynamic one (-1 in the tensor's dims), the
   sizes the model supports are [min, max] (max INT64_MAX: unbounded); name is
   the ONNX dim_param ("batch", "seq") or NULL. Inputs whose dimensions share a
   name must agree at run time. */
typedef struct TesseraDimInfo {
  const char *name;
  int64_t min;
  int64_t max;
} TesseraDimInfo;

/* ABI v4 entry: like TesseraEntryFn, with every tensor's dims (rank entries
   each; the output dims are those output_dims computed for these inputs). */
typedef int32_t (*TesseraRunFn)(void *const *inputs,
                                const int64_t *const *input_dims,
                                void *const *outputs,
                                const int64_t *const *output_dims,
                                const TesseraExecContext *ctx);

/* ABI v4: computes every output's dims from the input dims (output_dims[i]
   has room for output i's rank). Reads no tensor data. A shape the model
   does not allow is reported through ctx->report_error. Returns 0. */
typedef int32_t (*TesseraOutputDimsFn)(const int64_t *const *input_dims,
                                       int64_t *const *output_dims,
                                       const TesseraExecContext *ctx);

/* ABI v5: a past/present pair of a KV-cache decoder. The present output has
   the past input's dtype and dims except along `axis`, where it is the past
   length P plus the number of new positions S (present = Concat(past, new)).
   Inputs named like a dim of the past input (batch) must agree with it. */
typedef struct TesseraCachePair {
  uint32_t input;  /* index of the past input */
  uint32_t output; /* index of the present output */
  int32_t axis;    /* the axis that grows */
  uint32_t flags;  /* TESSERA_CACHE_* */
} TesseraCachePair;

/* The pair may share one buffer: run_strided may be called with the past
   input and the present output at the same data pointer and the same
   alloc_dims (alloc_dims[axis] >= P + S). Rows [0, P) along `axis` then
   already hold the past, and the code writes rows [P, P + S) only. With two
   distinct buffers it must behave as `run` does (copy the past). */
#define TESSERA_CACHE_IN_PLACE 1u

/* ABI v5 entry: like TesseraRunFn, with each tensor's allocated dims: tensor
   i occupies the start of a dense row-major buffer of dims alloc_dims[i]
   (rank entries, each at least the tensor's dim), so its strides follow from
   alloc_dims while its sizes are dims. The runtime passes alloc_dims equal
   to dims for every tensor but those of TESSERA_CACHE_IN_PLACE pairs. */
typedef int32_t (*TesseraRunStridedFn)(void *const *inputs,
                                       const int64_t *const *input_dims,
                                       const int64_t *const *input_alloc_dims,
                                       void *const *outputs,
                                       const int64_t *const *output_dims,
                                       const int64_t *const *output_alloc_dims,
                                       const TesseraExecContext *ctx);

typedef struct TesseraModelDesc {
  uint32_t abi_version; /* TESSERA_ABI_VERSION */
  uint32_t num_inputs;
  uint32_t num_outputs;
  const TesseraTensorDesc *inputs;
  const TesseraTensorDesc *outputs;
  const char *compiler_version;
  const char *target_cpu; /* e.g. "znver4" */
  /* Comma-separated CPU features the code needs, named as GCC's
     __builtin_cpu_supports names them: "avx2,fma,avx512f,avx512bw". */
  const char *required_cpu_features;
  TesseraEntryFn entry; /* v4: NULL when a dimension is dynamic (use run) */
  /* --- ABI version 2 and later --- */
  /* NULL when the weights are inside the library. */
  const TesseraExternalWeights *external_weights;
  /* --- ABI version 4 and later --- */
  /* input_dim_info[i] has inputs[i].rank entries; likewise for outputs. */
  const TesseraDimInfo *const *input_dim_info;
  const TesseraDimInfo *const *output_dim_info;
  TesseraRunFn run;
  TesseraOutputDimsFn output_dims;
  /* --- ABI version 5 and later --- */
  uint32_t num_cache_pairs;
  const TesseraCachePair *cache_pairs;
  /* NULL unless a pair is TESSERA_CACHE_IN_PLACE. */
  TesseraRunStridedFn run_strided;
} TesseraModelDesc;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TESSERA_ABI_H */
