//===- InlineIf.h - Inlining If nodes with constant conditions -*- C++ -*-===//
//
// Part of Tessera. Exporters guard shape-dependent steps with `If` nodes
// whose condition is constant once shapes are known (torch's squeeze guard:
// If(Equal(Gather(Shape(x), 1), 1)) then Squeeze else Identity). Shape
// inference evaluates such a condition when it reaches the If and splices the
// taken branch into the graph in its place, so the untaken branch is never
// checked, imported or counted as unsupported.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_IMPORT_INLINEIF_H
#define TESSERA_COMPILER_IMPORT_INLINEIF_H

#include "onnx/onnx_pb.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tessera::importer {

bool isIfNode(const onnx::NodeProto &node);

/// The integer (or boolean) elements of a value when they are known at
/// compile time: constant data, or a shape carried as data, or nothing.
using KnownInts =
    std::function<std::optional<std::vector<int64_t>>(const std::string &)>;

/// Evaluates the condition of the If node `graph.node(index)` from the nodes
/// before it (comparisons, logic, casts, gathers and reshapes of known
/// integers); nothing if it is not a compile-time constant.
std::optional<bool> evaluateIfCondition(const onnx::GraphProto &graph,
                                        int index, const KnownInts &known);

/// Replaces the If node `graph.node(index)` with the nodes of its
/// `then_branch` (or `else_branch`) followed by one Identity per output,
/// named after the If node. Other nodes keep their addresses.
void spliceIfBranch(onnx::GraphProto &graph, int index, bool thenBranch);

} // namespace tessera::importer

#endif // TESSERA_COMPILER_IMPORT_INLINEIF_H
