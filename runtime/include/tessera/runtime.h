/*===- tessera/runtime.h - the Tessera runtime C API ------------------*- C
 *-*-===
 *
 * Part of Tessera. Loads a model library produced by `tessera-compile -o
 * model.so`, checks inputs against its descriptor and runs it on a small
 * thread pool. The runtime links only libc, libstdc++, libdl and pthreads.
 *
 * Conventions:
 *  - Handles are opaque. Every function that can fail returns a
 *    `TesseraStatus *`: NULL means success, anything else is an error the
 *    caller must release with tessera_status_free(). Nothing throws across
 *    this boundary and nothing aborts on bad input.
 *  - On failure, out-parameters are set to NULL (or left untouched when
 *    they were NULL).
 *  - A loaded model is immutable: any number of threads may query it and
 *    create sessions from it at once. A session owns a thread pool; runs on
 *    one session are serialised, runs on different sessions proceed
 *    concurrently. Sessions and runtime-allocated tensors keep what they need
 *    alive, so unloading a model while sessions exist is safe (the library
 *    is closed when the last session goes away).
 *
 *===----------------------------------------------------------------------===*/

#ifndef TESSERA_RUNTIME_H
#define TESSERA_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "tessera/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TESSERA_API __attribute__((visibility("default")))
#else
#define TESSERA_API
#endif

/*===-- Status ------------------------------------------------------------===*/

typedef enum TesseraStatusCode {
  TESSERA_OK = 0,
  /* A bad argument: wrong inputs, shapes, dtypes, sizes, NULL pointers. */
  TESSERA_ERROR_INVALID_ARGUMENT = 1,
  /* The file is missing, unreadable, not a shared library, or not a
     Tessera model (no descriptor symbol, malformed descriptor). */
  TESSERA_ERROR_LOAD = 2,
  /* The model was built for another ABI version. */
  TESSERA_ERROR_ABI_VERSION = 3,
  /* The model needs a CPU feature this machine lacks, or names one the
     runtime does not know. */
  TESSERA_ERROR_CPU_FEATURE = 4,
  /* The model's entry function returned a nonzero code
     (see tessera_status_entry_code). */
  TESSERA_ERROR_ENTRY = 5,
  TESSERA_ERROR_OUT_OF_MEMORY = 6,
  TESSERA_ERROR_INTERNAL = 7,
  /* The model's external weights file (tessera-compile --external-weights)
     is missing, unreadable, truncated, corrupted, not a weights file, or
     belongs to another model. */
  TESSERA_ERROR_WEIGHTS = 8
} TesseraStatusCode;

typedef struct TesseraStatus TesseraStatus;

/* The category of an error; TESSERA_OK for NULL. */
TESSERA_API TesseraStatusCode tessera_status_code(const TesseraStatus *status);
/* A human-readable, single-line message; "" for NULL. Valid until the status
   is freed. */
TESSERA_API const char *tessera_status_message(const TesseraStatus *status);
/* For TESSERA_ERROR_ENTRY, the value the entry function returned; else 0. */
TESSERA_API int32_t tessera_status_entry_code(const TesseraStatus *status);
/* Releases a status. NULL is fine. */
TESSERA_API void tessera_status_free(TesseraStatus *status);

/*===-- Element types ----------------------------------------------------===*/

/* "float32", "int64", "bool", ... for ONNX TensorProto.DataType numbers,
   "unknown" otherwise. Never NULL; the string is static. */
TESSERA_API const char *tessera_dtype_name(int32_t dtype);
/* Bytes per element of the types in enum TesseraDType; 0 for any other
   number (the runtime does not support it). */
TESSERA_API size_t tessera_dtype_size(int32_t dtype);

/* The newest ABI version this runtime loads (TESSERA_ABI_VERSION); it also
   loads every version down to TESSERA_ABI_MIN_VERSION. */
TESSERA_API uint32_t tessera_runtime_abi_version(void);

/*===-- Models -----------------------------------------------------------===*/

typedef struct TesseraModel TesseraModel;

/* Loads a model library (dlopen with RTLD_NOW | RTLD_LOCAL) and checks its
   descriptor: ABI version, well-formed inputs/outputs, and that this CPU has
   every feature in required_cpu_features. A model compiled with
   --external-weights maps its weights file read-only from the directory of
   `path` (of the file it links to, when it is a symbolic link), under the
   name the library records (e.g. model.so.weights), after
   checking its magic, format version, size and checksum; any mismatch is a
   TESSERA_ERROR_WEIGHTS status. */
TESSERA_API TesseraStatus *tessera_model_load(const char *path,
                                              TesseraModel **out_model);

/* A model linked into the program itself (tessera-compile --emit=exe): the
   same checks as tessera_model_load (ABI version, descriptor, CPU features),
   without loading a library. The descriptor must outlive the model.
   External weights are looked for in the directory of the object that holds
   the descriptor (the executable itself for --emit=exe). */
TESSERA_API TesseraStatus *
tessera_model_from_descriptor(const TesseraModelDesc *desc,
                              TesseraModel **out_model);
/* The same, with the external weights file at weights_path (NULL: as
   tessera_model_from_descriptor). Ignored for models without external
   weights. */
TESSERA_API TesseraStatus *
tessera_model_from_descriptor_with_weights(const TesseraModelDesc *desc,
                                           const char *weights_path,
                                           TesseraModel **out_model);
/* Drops the caller's reference. NULL is fine. */
TESSERA_API void tessera_model_unload(TesseraModel *model);

TESSERA_API uint32_t tessera_model_num_inputs(const TesseraModel *model);
TESSERA_API uint32_t tessera_model_num_outputs(const TesseraModel *model);
/* The descriptor of input/output `index` (name, dtype, rank, dims with -1
   for dynamic, index range), or NULL when index is out of range. Valid while
   the model is loaded. */
TESSERA_API const TesseraTensorDesc *
tessera_model_input(const TesseraModel *model, uint32_t index);
TESSERA_API const TesseraTensorDesc *
tessera_model_output(const TesseraModel *model, uint32_t index);
/* Position of the input/output with this name, or -1. */
TESSERA_API int32_t tessera_model_find_input(const TesseraModel *model,
                                             const char *name);
TESSERA_API int32_t tessera_model_find_output(const TesseraModel *model,
                                              const char *name);
/* Name and supported sizes of dimension `dim` of input (is_output 0) or
   output (is_output 1) `index`: *name is the ONNX dim_param ("batch", "seq")
   or "", and [*min, *max] the sizes the model accepts (min == max == the
   size for a static dimension; max INT64_MAX when unbounded). Any of the
   out-pointers may be NULL. Returns 0 (and sets nothing) when index or dim
   is out of range, else 1. */
TESSERA_API int32_t tessera_model_dim_info(const TesseraModel *model,
                                           int32_t is_output, uint32_t index,
                                           int32_t dim, const char **name,
                                           int64_t *min, int64_t *max);

/* Descriptor strings; "" when the model left them NULL. */
TESSERA_API const char *tessera_model_compiler_version(const TesseraModel *m);
TESSERA_API const char *tessera_model_target_cpu(const TesseraModel *m);
TESSERA_API const char *
tessera_model_required_cpu_features(const TesseraModel *m);

/*===-- Sessions ---------------------------------------------------------===*/

typedef struct TesseraSession TesseraSession;

/* num_threads: 0 means std::thread::hardware_concurrency(); the calling
   thread counts as one of them. Must be in [0, 1024]. */
TESSERA_API TesseraStatus *tessera_session_create(const TesseraModel *model,
                                                  int32_t num_threads,
                                                  TesseraSession **out);
TESSERA_API void tessera_session_destroy(TesseraSession *session);
TESSERA_API int32_t tessera_session_num_threads(const TesseraSession *s);

/*===-- Running ----------------------------------------------------------===*/

/* One input. name == NULL binds by position: the entry's index in the array
   given to run is the model input index. Otherwise it binds by name. dims
   has rank entries (may be NULL when rank is 0). data may be NULL only when
   the tensor has no elements. */
typedef struct TesseraInput {
  const char *name;
  const void *data;
  int32_t dtype;
  int32_t rank;
  const int64_t *dims;
} TesseraInput;

/* A caller-provided output buffer, bound like inputs (name or position).
   byte_size is the buffer's capacity: it must be at least the output's size
   (elements * element size); the runtime writes exactly that many bytes. */
typedef struct TesseraOutputBuffer {
  const char *name;
  void *data;
  size_t byte_size;
} TesseraOutputBuffer;

/* Runs the model once with caller-provided outputs. Every input and every
   output must be given exactly once. Before calling the model the runtime
   checks the count, names, dtypes, ranks, dimensions, data pointers
   (non-NULL, aligned to the element size), output sizes, and index ranges.

   A dynamic (-1) dimension of the descriptor takes any size within its
   bounds (tessera_model_dim_info); inputs whose dimensions share a name must
   agree. The outputs' dims follow from the inputs' (see
   tessera_model_output_dims). A shape the model cannot take (checked by the
   compiled code, e.g. a Reshape whose element count does not match) is a
   TESSERA_ERROR_INVALID_ARGUMENT naming the node; the outputs are then
   unspecified.

   Libraries of ABI versions 1 to 3 pass no shapes to the compiled code, so
   such a model with a dynamic dimension cannot be run: run reports an error
   naming the tensor (compile it with --shape to pin the dimension). */
TESSERA_API TesseraStatus *
tessera_session_run(TesseraSession *session, const TesseraInput *inputs,
                    size_t num_inputs, const TesseraOutputBuffer *outputs,
                    size_t num_outputs);

/* The dims of every output for inputs of these dims (the data pointers of
   `inputs` are not read and may be NULL), with the same checks of names,
   dtypes, ranks, dims and bounds as a run, and the model's own shape checks
   that depend only on dims. output_dims[i] must have room for output i's
   rank. Lets callers of tessera_session_run size their buffers. */
TESSERA_API TesseraStatus *
tessera_model_output_dims(const TesseraModel *model, const TesseraInput *inputs,
                          size_t num_inputs, int64_t *const *output_dims);

/*===-- Runtime-allocated outputs ----------------------------------------===*/

/* A tensor the runtime allocated (64-byte aligned); owned by the caller,
   released with tessera_tensor_free. Independent of its model and session. */
typedef struct TesseraTensor TesseraTensor;

/* Runs the model once and allocates every output, exactly sized for these
   inputs. out_tensors must have room
   for tessera_model_num_outputs() pointers; on success out_tensors[i] is
   output i, on failure every slot is NULL. */
TESSERA_API TesseraStatus *
tessera_session_run_alloc(TesseraSession *session, const TesseraInput *inputs,
                          size_t num_inputs, TesseraTensor **out_tensors);

TESSERA_API void tessera_tensor_free(TesseraTensor *tensor);
TESSERA_API const char *tessera_tensor_name(const TesseraTensor *tensor);
TESSERA_API int32_t tessera_tensor_dtype(const TesseraTensor *tensor);
TESSERA_API int32_t tessera_tensor_rank(const TesseraTensor *tensor);
TESSERA_API const int64_t *tessera_tensor_dims(const TesseraTensor *tensor);
TESSERA_API int64_t tessera_tensor_num_elements(const TesseraTensor *tensor);
TESSERA_API size_t tessera_tensor_byte_size(const TesseraTensor *tensor);
TESSERA_API void *tessera_tensor_data(TesseraTensor *tensor);

/*===-- Generation: past/present pairs and KV caches ----------------------===*/

/* The past/present pairs of a KV-cache decoder: each past input (the cache
   of the steps so far, P positions along `axis`) with the present output
   that the step returns (the past followed by the S new positions). Found,
   in order, from:
    - the pairs the library records (ABI v5);
    - names: `past_key_values.X` with `present.X` (Hugging Face Optimum:
      past_key_values.0.key / present.0.key), `pastX` with `presentX`
      (past_0 / present_0); Optimum's cross-attention inputs
      (past_key_values.X.encoder.*, computed once by the encoder) are
      ordinary inputs, not pairs;
    - structure: an input and an output of one dtype and rank whose dims
      agree (static sizes, dynamic dim names) except along one axis, where
      both are dynamic with different names (past_sequence_length vs
      past_sequence_length + sequence_length).
   Sets *count to the number of pairs and writes the first min(count,
   capacity) of them (in input order) to `pairs` (which may be NULL when
   capacity is 0). An input named like a cache without a present output, or
   a model without pairs, is a TESSERA_ERROR_INVALID_ARGUMENT saying what was
   expected. */
TESSERA_API TesseraStatus *tessera_model_cache_pairs(const TesseraModel *model,
                                                     TesseraCachePair *pairs,
                                                     uint32_t capacity,
                                                     uint32_t *count);

/* The KV cache of a decode loop on one session: it binds its own buffers as
   every pair's past input and present output, so a step's present becomes
   the next step's past without a copy by the runtime. Buffers are allocated
   at the first step for `capacity` positions (the most P + S ever reaches)
   and the batch size of that step. When every pair of the model is
   TESSERA_CACHE_IN_PLACE (ABI v5), each pair has one buffer that grows in
   place; otherwise two per pair take turns (the model's Concat copies the
   past rows from one to the other). The session must outlive the cache; a
   cache is used by one thread at a time. */
typedef struct TesseraKVCache TesseraKVCache;

TESSERA_API TesseraStatus *tessera_kv_cache_create(TesseraSession *session,
                                                   int64_t capacity,
                                                   TesseraKVCache **out);
TESSERA_API void tessera_kv_cache_destroy(TesseraKVCache *cache);
/* Forgets the past (P = 0), keeping the buffers; the next step may change
   the batch size. */
TESSERA_API void tessera_kv_cache_reset(TesseraKVCache *cache);
/* P: the positions the cache holds. */
TESSERA_API int64_t tessera_kv_cache_length(const TesseraKVCache *cache);
TESSERA_API int64_t tessera_kv_cache_capacity(const TesseraKVCache *cache);
/* 1 when each pair's cache grows in place in one buffer, 0 when two buffers
   take turns. */
TESSERA_API int32_t tessera_kv_cache_in_place(const TesseraKVCache *cache);
TESSERA_API uint32_t tessera_kv_cache_num_pairs(const TesseraKVCache *cache);
/* The outputs a step returns: the model's outputs but the present ones. */
TESSERA_API uint32_t tessera_kv_cache_num_outputs(const TesseraKVCache *cache);
/* Pair `index` (NULL when out of range). */
TESSERA_API const TesseraCachePair *
tessera_kv_cache_pair(const TesseraKVCache *cache, uint32_t index);

/* Runs one step (prefill: P = 0 and S the prompt; decode: S = 1). `inputs`
   are every model input except the past ones, bound by name, or by position
   among them (model order with the past inputs left out); `outputs` likewise
   every output except the present ones. Inputs that share a dim name with a
   pair's past input (the batch) must agree with the cache from the second
   step on. On success the cache holds P + S positions; on failure it holds
   what it held before. A step that would exceed the capacity is refused. */
TESSERA_API TesseraStatus *tessera_kv_cache_run(
    TesseraKVCache *cache, const TesseraInput *inputs, size_t num_inputs,
    const TesseraOutputBuffer *outputs, size_t num_outputs);
/* The same with runtime-allocated outputs: out_tensors has room for
   num_outputs - num_pairs tensors, the non-present outputs in model order. */
TESSERA_API TesseraStatus *tessera_kv_cache_run_alloc(
    TesseraKVCache *cache, const TesseraInput *inputs, size_t num_inputs,
    TesseraTensor **out_tensors);
/* The cache of pair `index` after the last step (what the next step reads
   as its past): *data, *rank (the past input's), and, when not NULL, its
   dims (P along the pair's axis) and strides in elements (not dense when
   the cache grows in place), rank entries each. Valid until the next step,
   reset or destroy. Any out-pointer may be NULL. */
TESSERA_API TesseraStatus *
tessera_kv_cache_view(const TesseraKVCache *cache, uint32_t index,
                      const void **data, int32_t *rank, int64_t *dims,
                      int64_t *strides);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TESSERA_RUNTIME_H */
