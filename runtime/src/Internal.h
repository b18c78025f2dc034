//===- Internal.h - what the runtime's sources share ------------*- C++ -*-===//
//
// Part of Tessera. The hooks Generation.cpp (KV caches) needs into the runs
// of Runtime.cpp: runs with buffers larger than their tensors, and with a
// past input and its present output in one buffer.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_RUNTIME_INTERNAL_H
#define TESSERA_RUNTIME_INTERNAL_H

#include "tessera/runtime.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tessera::runtime {

/// How a run lays out tensors beyond the C API's dense buffers.
struct RunLayout {
  /// Per input/output: the dims of the dense buffer the tensor occupies the
  /// start of (ABI v5 alloc_dims), or empty for a dense tensor.
  std::vector<std::vector<int64_t>> inputAllocDims, outputAllocDims;
  /// (input, output) pairs bound to one buffer (TESSERA_CACHE_IN_PLACE).
  std::vector<std::pair<uint32_t, uint32_t>> shared;
};

/// tessera_session_run with a layout (nullptr: dense, as the C API).
TesseraStatus *runWithLayout(TesseraSession *session,
                             const TesseraInput *inputs, size_t numInputs,
                             const TesseraOutputBuffer *outputs,
                             size_t numOutputs, const RunLayout *layout);

/// tessera_model_output_dims for the session's model.
TesseraStatus *sessionOutputDims(const TesseraSession *session,
                                 const TesseraInput *inputs, size_t numInputs,
                                 int64_t *const *outputDims);

const TesseraModelDesc &sessionDescriptor(const TesseraSession *session);
const TesseraModelDesc &modelDescriptor(const TesseraModel *model);
/// The path the model was loaded from, for messages.
const std::string &sessionModelPath(const TesseraSession *session);

/// A zero-filled runtime-allocated tensor of output `d` with these dims.
TesseraStatus *allocateTensor(const TesseraTensorDesc &d,
                              const std::vector<int64_t> &dims,
                              TesseraTensor **out);

} // namespace tessera::runtime

#endif // TESSERA_RUNTIME_INTERNAL_H
