//===- Status.h - statuses of the runtime C API -----------------*- C++ -*-===//
//
// Part of Tessera. TesseraStatus and the helpers every source file of the
// runtime uses to make one; nothing escapes the C API as an exception.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_RUNTIME_STATUS_H
#define TESSERA_RUNTIME_STATUS_H

#include "tessera/runtime.h"

#include <exception>
#include <new>
#include <string>
#include <utility>

struct TesseraStatus {
  TesseraStatusCode code;
  int32_t entryCode;
  std::string message;
};

namespace tessera::runtime {
/// Returned when even the status cannot be allocated; never freed.
inline TesseraStatus gOutOfMemory{TESSERA_ERROR_OUT_OF_MEMORY, 0,
                                  "out of memory"};

inline TesseraStatus *makeStatus(TesseraStatusCode code, std::string message,
                                 int32_t entryCode = 0) noexcept {
  try {
    return new TesseraStatus{code, entryCode, std::move(message)};
  } catch (...) {
    return &gOutOfMemory;
  }
}

inline TesseraStatus *invalidArgument(std::string message) {
  return makeStatus(TESSERA_ERROR_INVALID_ARGUMENT, std::move(message));
}

/// Runs f, turning any escaping exception into a status.
template <typename F> TesseraStatus *guarded(F &&f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc &) {
    return &gOutOfMemory;
  } catch (const std::exception &e) {
    return makeStatus(TESSERA_ERROR_INTERNAL,
                      std::string("internal error: ") + e.what());
  } catch (...) {
    return makeStatus(TESSERA_ERROR_INTERNAL, "internal error");
  }
}
} // namespace tessera::runtime

#endif // TESSERA_RUNTIME_STATUS_H
