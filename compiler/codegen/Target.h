//===- Target.h - the one description of the target CPU ---------*- C++ -*-===//
//
// Part of Tessera. Computed once from --mcpu and read by every schedule
// (vector width, register tile) and by code generation (CPU name and
// features), so the pipeline never derives them twice or differently.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_CODEGEN_TARGET_H
#define TESSERA_COMPILER_CODEGEN_TARGET_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace tessera {

/// Register tile of the matmul schedule: rows x columns of fp32, and the
/// cache block of K (0: K is not blocked).
struct MatmulTile {
  int64_t m = 8, n = 32, k = 0;
  /// The tile of a weight whose K is above narrowAboveK (narrowN = 0:
  /// none), whose n-wide panels would not stay in L2.
  int64_t narrowM = 0, narrowN = 0, narrowAboveK = 0;
};

struct TargetDescription {
  /// The LLVM CPU name (the host's for --mcpu=native), e.g. znver4.
  std::string cpu;
  /// Its LLVM feature string, e.g. "+avx2,+fma,+avx512f,...".
  std::string features;
  /// Widest vector register: 512 with AVX-512, 256 with AVX/AVX2, else 128.
  unsigned vectorBits = 128;
  /// 6x64 with AVX-512 (24 zmm accumulators), 6x16 with AVX2 (12 ymm).
  MatmulTile matmulTile = {4, 8};

  /// fp32 lanes of the elementwise and reduction vectors.
  int64_t f32Lanes() const { return vectorBits / 32; }
  bool hasFeature(llvm::StringRef name) const;
};

/// The description of --mcpu: "native" (or empty) is the host; else an LLVM
/// CPU name, and an unknown one is an error naming it.
llvm::Expected<TargetDescription> describeTarget(llvm::StringRef mcpu);

/// Parses a register tile `MxN` or `MxNxK` (positive sizes, e.g. 4x24 or
/// 8x32x256; K is the cache block of K) that replaces a target's matmulTile
/// (--matmul-tile); the error message quotes `spec`.
llvm::Expected<MatmulTile> parseMatmulTile(llvm::StringRef spec);

} // namespace tessera

#endif // TESSERA_COMPILER_CODEGEN_TARGET_H
