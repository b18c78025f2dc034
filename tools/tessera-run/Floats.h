//===- Floats.h - 16-bit floats as float32 for tessera-run ------*- C++ -*-===//
//
// Part of Tessera. float16 and bfloat16 bit patterns widened to float32,
// which holds every value of both exactly: for printing, for .npy outputs
// (numpy has no bfloat16) and for the argmax of --generate.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_TOOLS_RUN_FLOATS_H
#define TESSERA_TOOLS_RUN_FLOATS_H

#include "tessera/abi.h"

#include <cstdint>
#include <cstring>

namespace tessera::run {

inline float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {
    // Subnormal: normalise.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while (!(mant & 0x400));
    bits = sign | ((112 - e) << 23) | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline float bf16ToFloat(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// Whether floatAt reads arrays of `dtype`: float32, float16, bfloat16.
inline bool isFloatAtType(int32_t dtype) {
  return dtype == TESSERA_DTYPE_FLOAT || dtype == TESSERA_DTYPE_FLOAT16 ||
         dtype == TESSERA_DTYPE_BFLOAT16;
}

/// Element i of `data`, a float32, float16 or bfloat16 array, as float32.
inline float floatAt(const void *data, TesseraDType dtype, int64_t i) {
  if (dtype == TESSERA_DTYPE_FLOAT) {
    float f;
    std::memcpy(&f, static_cast<const char *>(data) + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, static_cast<const char *>(data) + 2 * i, 2);
  return dtype == TESSERA_DTYPE_FLOAT16 ? halfToFloat(h) : bf16ToFloat(h);
}

} // namespace tessera::run

#endif // TESSERA_TOOLS_RUN_FLOATS_H
