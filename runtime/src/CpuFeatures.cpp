//===- CpuFeatures.cpp - checking required_cpu_features -------------------===//
//
// Part of Tessera. __builtin_cpu_supports only accepts string literals, so
// every name GCC 12 knows is listed here once, with its own call.
//
//===----------------------------------------------------------------------===//

#include "CpuFeatures.h"

#include <cstring>

using namespace tessera;

namespace {
struct Feature {
  const char *name;
  bool (*supported)();
};

#define TESSERA_FEATURE(NAME)                                                  \
  Feature {                                                                    \
    NAME, [] { return __builtin_cpu_supports(NAME) != 0; }                     \
  }

#if defined(__x86_64__) || defined(__i386__)
// The names GCC 12's __builtin_cpu_supports accepts (checked by compiling
// each one).
const Feature kFeatures[] = {
    TESSERA_FEATURE("cmov"),
    TESSERA_FEATURE("mmx"),
    TESSERA_FEATURE("popcnt"),
    TESSERA_FEATURE("sse"),
    TESSERA_FEATURE("sse2"),
    TESSERA_FEATURE("sse3"),
    TESSERA_FEATURE("ssse3"),
    TESSERA_FEATURE("sse4a"),
    TESSERA_FEATURE("sse4.1"),
    TESSERA_FEATURE("sse4.2"),
    TESSERA_FEATURE("avx"),
    TESSERA_FEATURE("avx2"),
    TESSERA_FEATURE("fma4"),
    TESSERA_FEATURE("xop"),
    TESSERA_FEATURE("fma"),
    TESSERA_FEATURE("avx512f"),
    TESSERA_FEATURE("bmi"),
    TESSERA_FEATURE("bmi2"),
    TESSERA_FEATURE("aes"),
    TESSERA_FEATURE("pclmul"),
    TESSERA_FEATURE("avx512vl"),
    TESSERA_FEATURE("avx512bw"),
    TESSERA_FEATURE("avx512dq"),
    TESSERA_FEATURE("avx512cd"),
    TESSERA_FEATURE("avx512er"),
    TESSERA_FEATURE("avx512pf"),
    TESSERA_FEATURE("avx512vbmi"),
    TESSERA_FEATURE("avx512ifma"),
    TESSERA_FEATURE("avx5124vnniw"),
    TESSERA_FEATURE("avx5124fmaps"),
    TESSERA_FEATURE("avx512vpopcntdq"),
    TESSERA_FEATURE("avx512vbmi2"),
    TESSERA_FEATURE("gfni"),
    TESSERA_FEATURE("vpclmulqdq"),
    TESSERA_FEATURE("avx512vnni"),
    TESSERA_FEATURE("avx512bitalg"),
    TESSERA_FEATURE("avx512bf16"),
    TESSERA_FEATURE("avx512vp2intersect"),
    TESSERA_FEATURE("3dnow"),
    TESSERA_FEATURE("3dnowp"),
    TESSERA_FEATURE("adx"),
    TESSERA_FEATURE("abm"),
    TESSERA_FEATURE("cldemote"),
    TESSERA_FEATURE("clflushopt"),
    TESSERA_FEATURE("clwb"),
    TESSERA_FEATURE("clzero"),
    TESSERA_FEATURE("cmpxchg16b"),
    TESSERA_FEATURE("cmpxchg8b"),
    TESSERA_FEATURE("enqcmd"),
    TESSERA_FEATURE("f16c"),
    TESSERA_FEATURE("fsgsbase"),
    TESSERA_FEATURE("fxsave"),
    TESSERA_FEATURE("hle"),
    TESSERA_FEATURE("ibt"),
    TESSERA_FEATURE("lahf_lm"),
    TESSERA_FEATURE("lm"),
    TESSERA_FEATURE("lwp"),
    TESSERA_FEATURE("lzcnt"),
    TESSERA_FEATURE("movbe"),
    TESSERA_FEATURE("movdir64b"),
    TESSERA_FEATURE("movdiri"),
    TESSERA_FEATURE("mwaitx"),
    TESSERA_FEATURE("osxsave"),
    TESSERA_FEATURE("pconfig"),
    TESSERA_FEATURE("pku"),
    TESSERA_FEATURE("prefetchwt1"),
    TESSERA_FEATURE("prfchw"),
    TESSERA_FEATURE("ptwrite"),
    TESSERA_FEATURE("rdpid"),
    TESSERA_FEATURE("rdrnd"),
    TESSERA_FEATURE("rdseed"),
    TESSERA_FEATURE("rtm"),
    TESSERA_FEATURE("serialize"),
    TESSERA_FEATURE("sgx"),
    TESSERA_FEATURE("sha"),
    TESSERA_FEATURE("shstk"),
    TESSERA_FEATURE("tbm"),
    TESSERA_FEATURE("tsxldtrk"),
    TESSERA_FEATURE("vaes"),
    TESSERA_FEATURE("waitpkg"),
    TESSERA_FEATURE("wbnoinvd"),
    TESSERA_FEATURE("xsave"),
    TESSERA_FEATURE("xsavec"),
    TESSERA_FEATURE("xsaveopt"),
    TESSERA_FEATURE("xsaves"),
    TESSERA_FEATURE("amx-tile"),
    TESSERA_FEATURE("amx-int8"),
    TESSERA_FEATURE("amx-bf16"),
    TESSERA_FEATURE("uintr"),
    TESSERA_FEATURE("hreset"),
    TESSERA_FEATURE("kl"),
    TESSERA_FEATURE("aeskle"),
    TESSERA_FEATURE("widekl"),
    TESSERA_FEATURE("avxvnni"),
    TESSERA_FEATURE("avx512fp16"),
    TESSERA_FEATURE("x86-64"),
    TESSERA_FEATURE("x86-64-v2"),
    TESSERA_FEATURE("x86-64-v3"),
    TESSERA_FEATURE("x86-64-v4"),
};
#else
// Other architectures: every name is unknown, so a model that requires any
// feature is rejected rather than run blind.
const Feature kFeatures[] = {{"", [] { return false; }}};
#endif

#undef TESSERA_FEATURE
} // namespace

CpuFeatureSupport tessera::checkCpuFeature(const std::string &name) {
#if defined(__x86_64__) || defined(__i386__)
  static const bool initialized = [] {
    __builtin_cpu_init();
    return true;
  }();
  (void)initialized;
#endif
  if (name.empty())
    return CpuFeatureSupport::Unknown;
  for (const Feature &f : kFeatures)
    if (name == f.name)
      return f.supported() ? CpuFeatureSupport::Supported
                           : CpuFeatureSupport::Missing;
  return CpuFeatureSupport::Unknown;
}
