//===- Target.cpp - the one description of the target CPU -----------------===//

#include "compiler/codegen/Target.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <memory>

namespace tessera {

bool TargetDescription::hasFeature(llvm::StringRef name) const {
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(features).split(parts, ',');
  return llvm::is_contained(parts, ("+" + name).str());
}

llvm::Expected<TargetDescription> describeTarget(llvm::StringRef mcpu) {
  TargetDescription target;
  if (mcpu == "native" || mcpu.empty()) {
    target.cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures sf;
    for (auto &f : llvm::sys::getHostCPUFeatures())
      sf.AddFeature(f.first(), f.second);
    target.features = sf.getString();
  } else {
    llvm::InitializeNativeTarget();
    std::string err, triple = llvm::sys::getDefaultTargetTriple();
    const llvm::Target *llvmTarget =
        llvm::TargetRegistry::lookupTarget(triple, err);
    if (!llvmTarget)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "no LLVM target for " + triple + ": " +
                                         err);
    // Ask a generic subtarget first: one made for an unknown CPU complains
    // on stderr.
    std::unique_ptr<llvm::MCSubtargetInfo> generic(
        llvmTarget->createMCSubtargetInfo(triple, "", ""));
    std::unique_ptr<llvm::MCSubtargetInfo> sti;
    if (generic && generic->isCPUStringValid(mcpu))
      sti.reset(llvmTarget->createMCSubtargetInfo(triple, mcpu, ""));
    if (!sti)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "unknown CPU '" + mcpu +
              "' for --mcpu (try native, x86-64-v3, skylake-avx512 or "
              "znver4)");
    target.cpu = mcpu.str();
    for (const llvm::SubtargetFeatureKV &kv : sti->getAllProcessorFeatures())
      if (sti->checkFeatures(std::string("+") + kv.Key))
        target.features +=
            std::string(target.features.empty() ? "" : ",") + "+" + kv.Key;
  }
  if (target.hasFeature("avx512f")) {
    target.vectorBits = 512;
    // 6 rows x 4 zmm: 24 accumulators, 4 loads and 6 broadcasts per 24
    // FMAs. Against 8x32 (16 accumulators) on Zen 5, in-model GEMM time
    // fell by 7-15% (Whisper-base, perf samples against its unchanged
    // attention kernel) and BERT-base by about 3%; only a K = 3072 GEMM
    // alone ran about 3% slower (its 64-wide panel is 768 KB): above
    // K = 2048 (a 512 KB panel, half of L2), weights get 8x32 tiles (ViT's
    // 197x3072x768 3.4% faster, its 197x768x3072 1.8% slower with them).
    target.matmulTile = {6, 64, 0, 8, 32, 2048};
  } else if (target.hasFeature("avx2") || target.hasFeature("avx")) {
    target.vectorBits = 256;
    target.matmulTile = {6, 16};
  }
  return target;
}

llvm::Expected<MatmulTile> parseMatmulTile(llvm::StringRef spec) {
  MatmulTile tile;
  llvm::SmallVector<llvm::StringRef, 3> parts;
  spec.split(parts, 'x');
  auto positive = [](llvm::StringRef text, int64_t &size) {
    return !text.getAsInteger(10, size) && size > 0;
  };
  if ((parts.size() != 2 && parts.size() != 3) || !positive(parts[0], tile.m) ||
      !positive(parts[1], tile.n) ||
      (parts.size() == 3 && !positive(parts[2], tile.k)))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "'" + spec + "': expected MxN or MxNxK, e.g. 4x24 or 8x32x256");
  return tile;
}

} // namespace tessera
