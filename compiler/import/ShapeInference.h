//===- ShapeInference.h - Guarded ONNX shape inference ----------*- C++ -*-===//
//
// Part of Tessera. libonnx 1.12's InferShapes keeps going after a node's
// inference fails and hands the next nodes inputs without types (a Shape node
// then dereferences null), and its inference functions trust attribute values
// and constant data they read. This driver runs the same per-node schema
// inference and data propagation, but one node at a time: every input must
// have a known type, the node's attribute values and constant operands are
// range-checked first (NodeChecks), and the first failure stops everything
// with an error naming the node.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_IMPORT_SHAPEINFERENCE_H
#define TESSERA_COMPILER_IMPORT_SHAPEINFERENCE_H

#include "llvm/Support/Error.h"

#include "onnx/onnx_pb.h"

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tessera::importer {

/// What the range checks may ask about a node's operands.
class OperandInfo {
public:
  virtual ~OperandInfo() = default;
  /// The rank of a value, if known.
  virtual std::optional<int64_t> rank(const std::string &name) const = 0;
  /// Dimension `d` (in range) of a value, if static.
  virtual std::optional<int64_t> dim(const std::string &name,
                                     int64_t d) const = 0;
  /// The values of an INT64 or INT32 constant (initializer or Constant).
  virtual std::optional<std::vector<int64_t>>
  constantInts(const std::string &name) const = 0;
  /// The values of a FLOAT or DOUBLE constant.
  virtual std::optional<std::vector<double>>
  constantFloats(const std::string &name) const = 0;
};

/// Why the attribute values or constant operands of `node` are out of range
/// for its operands' ranks and dimensions (an axis past the rank, a perm that
/// is not a permutation, an index past a dimension, ...), or nothing.
std::optional<std::string> nodeRangeProblem(const onnx::NodeProto &node,
                                            int64_t opset,
                                            const OperandInfo &operands);

/// Runs type and shape inference (with data propagation) over `model`'s
/// graph in node order, recording results in the graph's value_info and
/// outputs like onnx::shape_inference::InferShapes. Every tensor in the model
/// must have been checked with checkTensor first. `describe` names a node in
/// errors. Without `checkTypeConstraints`, input and output element types are
/// not checked against the schemas' type constraints.
llvm::Error inferShapes(
    onnx::ModelProto &model,
    const std::function<std::string(const onnx::NodeProto &)> &describe,
    bool checkTypeConstraints = true);

} // namespace tessera::importer

#endif // TESSERA_COMPILER_IMPORT_SHAPEINFERENCE_H
