/* run_model: loads a model compiled by tessera-compile, runs it once on
 * inputs of ones (token ids 0) and prints each output's shape and first
 * values. Dynamic dimensions take the size given as NAME=N (default: the
 * smallest size the model accepts, at least 1).
 *
 *   run_model model.so [seq=8 ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/runtime.h>

static int fail(TesseraStatus *status) {
  fprintf(stderr, "run_model: error: %s\n", tessera_status_message(status));
  tessera_status_free(status);
  return 1;
}

/* The size of a dynamic dimension: NAME=N from argv, else its minimum. */
static int64_t dynamicSize(const char *name, int64_t min, int argc,
                           char **argv) {
  size_t len = strlen(name);
  for (int i = 2; i < argc; ++i)
    if (len && !strncmp(argv[i], name, len) && argv[i][len] == '=')
      return atoll(argv[i] + len + 1);
  return min > 1 ? min : 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: run_model MODEL.so [DIM=N ...]\n");
    return 2;
  }
  TesseraModel *model;
  TesseraStatus *status = tessera_model_load(argv[1], &model);
  if (status)
    return fail(status);
  uint32_t numInputs = tessera_model_num_inputs(model);
  uint32_t numOutputs = tessera_model_num_outputs(model);
  TesseraInput *inputs = calloc(numInputs, sizeof *inputs);
  for (uint32_t i = 0; i < numInputs; ++i) {
    const TesseraTensorDesc *d = tessera_model_input(model, i);
    int64_t *dims = calloc(d->rank + 1, sizeof *dims);
    int64_t count = 1;
    for (int32_t k = 0; k < d->rank; ++k) {
      const char *name;
      int64_t min;
      tessera_model_dim_info(model, 0, i, k, &name, &min, NULL);
      dims[k] = d->dims[k] >= 0 ? d->dims[k] : dynamicSize(name, min, argc, argv);
      count *= dims[k];
    }
    size_t size = tessera_dtype_size(d->dtype);
    unsigned char *data = calloc(count ? count : 1, size);
    if (d->dtype == TESSERA_DTYPE_FLOAT)
      for (int64_t e = 0; e < count; ++e)
        ((float *)data)[e] = 1.0f;
    inputs[i] = (TesseraInput){d->name, data, d->dtype, d->rank, dims};
  }

  TesseraSession *session;
  if ((status = tessera_session_create(model, 1, &session)))
    return fail(status);
  TesseraTensor **outputs = calloc(numOutputs, sizeof *outputs);
  if ((status = tessera_session_run_alloc(session, inputs, numInputs, outputs)))
    return fail(status);
  for (uint32_t i = 0; i < numOutputs; ++i) {
    TesseraTensor *t = outputs[i];
    printf("%s: %s [", tessera_tensor_name(t),
           tessera_dtype_name(tessera_tensor_dtype(t)));
    for (int32_t k = 0; k < tessera_tensor_rank(t); ++k)
      printf("%s%lld", k ? ", " : "", (long long)tessera_tensor_dims(t)[k]);
    printf("]");
    if (tessera_tensor_dtype(t) == TESSERA_DTYPE_FLOAT)
      for (int64_t e = 0; e < tessera_tensor_num_elements(t) && e < 4; ++e)
        printf(" %g", ((float *)tessera_tensor_data(t))[e]);
    printf("\n");
    tessera_tensor_free(t);
  }
  for (uint32_t i = 0; i < numInputs; ++i) {
    free((void *)inputs[i].data);
    free((void *)inputs[i].dims);
  }
  free(inputs);
  free(outputs);
  tessera_session_destroy(session);
  tessera_model_unload(model);
  return 0;
}
