//===- Passes.h - Tessera passes on the onnx dialect ------------*- C++ -*-===//

#ifndef TESSERA_COMPILER_TRANSFORMS_PASSES_H
#define TESSERA_COMPILER_TRANSFORMS_PASSES_H

#include "dialects/onnx/ONNXDialect.h"
#include "dialects/tessera/TesseraDialect.h"
#include "mlir/Pass/Pass.h"

namespace tessera {

#define GEN_PASS_DECL
#include "compiler/transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/transforms/Passes.h.inc"

} // namespace tessera

#endif // TESSERA_COMPILER_TRANSFORMS_PASSES_H
