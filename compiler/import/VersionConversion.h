//===- VersionConversion.h - Lifting old opsets --------------*- C++ -*-===//
//
// Part of Tessera. Models older than the oldest opset Tessera handles
// natively are lifted to it with libonnx's version converter before anything
// else looks at their nodes. The converter replaces or surrounds some nodes
// (Upsample becomes Resize, a Softmax over a middle axis gains a Flatten and a
// Reshape, attributes become Constant inputs); each new node takes the name of
// the user's node it came from, so every later diagnostic still names it.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_IMPORT_VERSIONCONVERSION_H
#define TESSERA_COMPILER_IMPORT_VERSIONCONVERSION_H

#include "llvm/Support/Error.h"

#include "onnx/onnx_pb.h"

#include <functional>
#include <string>

namespace tessera::importer {

/// Converts `model`, whose default-domain opset (at `opsetIndex` in its
/// opset imports) is older than `target`, to opset `target` in place. Its
/// tensors must have been checked with checkTensor first; large initializers
/// are not copied. A node the converter cannot lift is an error naming it
/// (`describe` names a node of the original model).
llvm::Error upgradeOpset(
    onnx::ModelProto &model, int opsetIndex, int64_t target,
    const std::function<std::string(const onnx::NodeProto &)> &describe);

} // namespace tessera::importer

#endif // TESSERA_COMPILER_IMPORT_VERSIONCONVERSION_H
