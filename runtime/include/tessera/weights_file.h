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

/* A 64-bit checksum (not cryptographic): catches truncation, corruption and
   a file that belongs to other weights. Eight bytes at a time. */
static inline uint64_t tessera_weights_checksum(const void *data,
                                                uint64_t size) {
  const unsigned char *p = (const unsigned char *)data;
  const uint64_t prime = 0x100000001b3ull;
  uint64_t h = 0xcbf29ce484222325ull ^ size;
  uint64_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = (h ^ w) * prime;
    h = (h << 31) | (h >> 33);
  }
  for (; i < size; ++i)
    h = (h ^ p[i]) * prime;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TESSERA_WEIGHTS_FILE_H */
