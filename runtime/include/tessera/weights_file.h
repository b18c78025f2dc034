/*===- tessera/weights_file.h - external weights file format ----------*- C
 *-*-===
 *
 * Part of Tessera. `tessera-compile --external-weights -o model.so` writes the
 * model's large constants to `model.so.weights` beside the library; the
 * descriptor (TesseraExternalWeights in tessera/abi.h) names the file and
 * records its size and checksum. Layout, little-endian:
 *
 *   offset 0   TesseraWeightsFileHeader (64 bytes)
 *   offset 64  the weight data: every weight at a 64-byte aligned offset,
 *              zero padding between them; data_size bytes in all.
 *
 * The checksum is tessera_weights_checksum() of the data bytes. The compiler
 * and the runtime share this header; it needs only the C library.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TESSERA_WEIGHTS_FILE_H
#define TESSERA_WEIGHTS_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TESSERA_WEIGHTS_MAGIC "TSRWGHT\0"
#define TESSERA_WEIGHTS_MAGIC_SIZE 8
#define TESSERA_WEIGHTS_FORMAT_VERSION 1u
#define TESSERA_WEIGHTS_HEADER_SIZE 64u
#define TESSERA_WEIGHTS_ALIGNMENT 64u
/* Suffix appended to the library's file name: model.so -> model.so.weights. */
#define TESSERA_WEIGHTS_SUFFIX ".weights"

typedef struct TesseraWeightsFileHeader {
  char magic[TESSERA_WEIGHTS_MAGIC_SIZE]; /* TESSERA_WEIGHTS_MAGIC */
  uint32_t format_version;                /* TESSERA_WEIGHTS_FORMAT_VERSION */
  uint32_t header_size;                   /* TESSERA_WEIGHTS_HEADER_SIZE */
  uint64_t data_offset;                   /* TESSERA_WEIGHTS_HEADER_SIZE */
  uint64_t data_size;
  uint64_t checksum; /* tessera_weights_checksum() of the data */
  uint8_t reserved[24];
} TesseraWeightsFileHeader;

static inline uint64_t tessera_weights_mix_(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0x100000001b3ull;
  return (h << 31) | (h >> 33);
}

/* A 64-bit checksum (not cryptographic): catches truncation, corruption and
   a file that belongs to other weights. Four independent lanes of eight
   bytes, so it runs at several GB/s. */
static inline uint64_t tessera_weights_checksum(const void *data,
                                                uint64_t size) {
  const unsigned char *p = (const unsigned char *)data;
  uint64_t h[4] = {0xcbf29ce484222325ull ^ size, 0x9e3779b97f4a7c15ull,
                   0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull};
  uint64_t i = 0;
  for (; i + 32 <= size; i += 32)
    for (int k = 0; k < 4; ++k) {
      uint64_t w;
      memcpy(&w, p + i + 8 * k, 8);
      h[k] = tessera_weights_mix_(h[k], w);
    }
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h[0] = tessera_weights_mix_(h[0], w);
  }
  for (; i < size; ++i)
    h[0] = tessera_weights_mix_(h[0], p[i]);
  uint64_t r = h[0];
  for (int k = 1; k < 4; ++k)
    r = tessera_weights_mix_(r, h[k]);
  r ^= r >> 29;
  r *= 0xbf58476d1ce4e5b9ull;
  r ^= r >> 32;
  return r;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TESSERA_WEIGHTS_FILE_H */
