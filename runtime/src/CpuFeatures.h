//===- CpuFeatures.h - checking required_cpu_features -----------*- C++ -*-===//
//
// Part of Tessera.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_RUNTIME_CPUFEATURES_H
#define TESSERA_RUNTIME_CPUFEATURES_H

#include <string>

namespace tessera {

enum class CpuFeatureSupport { Supported, Missing, Unknown };

/// Whether this CPU has the feature GCC's __builtin_cpu_supports calls
/// `name` ("avx2", "avx512f", "sse4.1", ...). Unknown for names GCC does not
/// know.
CpuFeatureSupport checkCpuFeature(const std::string &name);

} // namespace tessera

#endif // TESSERA_RUNTIME_CPUFEATURES_H
