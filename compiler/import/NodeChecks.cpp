//===- NodeChecks.cpp - Attribute and constant ranges before inference ----===//
//
// Range checks that ONNX's inference functions (and Tessera's own) rely on,
// done before any of them runs: axes within the rank, permutations that are
// permutations, gather indices and split sizes within their dimension.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/ShapeInference.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FormatVariadic.h"

using llvm::formatv;
using llvm::StringRef;

namespace tessera::importer {
namespace {

const onnx::AttributeProto *findAttr(const onnx::NodeProto &node,
                                     StringRef name) {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

std::string input(const onnx::NodeProto &node, int i) {
  return i < node.input_size() ? node.input(i) : std::string();
}

/// Checks that every axis is in [-rank, rank - 1] and that no axis is named
/// twice (after normalization).
std::optional<std::string> checkAxes(llvm::ArrayRef<int64_t> axes, int64_t rank,
                                     StringRef what) {
  llvm::SmallVector<bool> seen(rank, false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank)
      return formatv("{0} {1} is out of range for rank {2}", what, a, rank)
          .str();
    int64_t n = a < 0 ? a + rank : a;
    if (seen[n])
      return formatv("{0} {1} is given twice", what, a).str();
    seen[n] = true;
  }
  return std::nullopt;
}

/// Ops whose `axis` attribute indexes input 0's dimensions; Flatten's may
/// also equal the rank.
std::optional<int64_t> axisLimit(StringRef op, int64_t rank) {
  if (op == "Flatten")
    return rank + 1;
  if (llvm::is_contained({"Softmax", "LogSoftmax", "Gather", "Split", "Concat",
                          "LayerNormalization", "Trilu"},
                         op))
    return rank;
  return std::nullopt;
}

std::optional<std::string> checkTranspose(const onnx::NodeProto &node,
                                          const OperandInfo &operands) {
  const onnx::AttributeProto *perm = findAttr(node, "perm");
  if (!perm)
    return std::nullopt;
  int64_t n = perm->ints_size();
  if (auto r = operands.rank(input(node, 0)); r && *r != n)
    return formatv("perm has {0} entries but the input has rank {1}", n, *r)
        .str();
  llvm::SmallVector<bool> seen(n, false);
  for (int64_t p : perm->ints()) {
    if (p < 0 || p >= n || seen[p])
      return formatv("perm is not a permutation of 0..{0}", n - 1).str();
    seen[p] = true;
  }
  return std::nullopt;
}

/// Constant axes given as an input (Squeeze, Unsqueeze, ReduceX from opset
/// 18, ReduceSum from 13, Slice's fourth input).
std::optional<std::string> checkAxesInput(const onnx::NodeProto &node,
                                          int64_t opset,
                                          const OperandInfo &operands) {
  StringRef op = node.op_type();
  int index = op == "Slice" ? 3 : 1;
  bool reduceInput =
      op.starts_with("Reduce") && (op == "ReduceSum" || opset >= 18);
  if (!(op == "Squeeze" || op == "Unsqueeze" || op == "Slice" || reduceInput))
    return std::nullopt;
  auto axes = operands.constantInts(input(node, index));
  auto rank = operands.rank(input(node, 0));
  if (!axes || !rank)
    return std::nullopt;
  int64_t r = *rank + (op == "Unsqueeze" ? int64_t(axes->size()) : 0);
  return checkAxes(*axes, r, "axis");
}

std::optional<std::string> checkGather(const onnx::NodeProto &node,
                                       const OperandInfo &operands) {
  auto rank = operands.rank(input(node, 0));
  auto indices = operands.constantInts(input(node, 1));
  if (!rank || !indices || *rank == 0)
    return std::nullopt;
  const onnx::AttributeProto *axisAttr = findAttr(node, "axis");
  int64_t axis = axisAttr ? axisAttr->i() : 0;
  axis = axis < 0 ? axis + *rank : axis;
  auto d = operands.dim(input(node, 0), axis);
  if (!d)
    return std::nullopt;
  for (int64_t i : *indices)
    if (i < -*d || i >= *d)
      return formatv("index {0} is out of range for dimension {1} of size {2}",
                     i, axis, *d)
          .str();
  return std::nullopt;
}

std::optional<std::string> checkSplit(const onnx::NodeProto &node,
                                      const OperandInfo &operands) {
  auto split = operands.constantInts(input(node, 1));
  if (!split)
    return std::nullopt;
  if (static_cast<int64_t>(split->size()) != node.output_size())
    return formatv("split has {0} entries for {1} outputs", split->size(),
                   node.output_size())
        .str();
  int64_t sum = 0;
  for (int64_t s : *split) {
    if (s < 0)
      return formatv("split size {0} is negative", s).str();
    sum += s;
  }
  auto rank = operands.rank(input(node, 0));
  if (!rank || *rank == 0)
    return std::nullopt;
  const onnx::AttributeProto *axisAttr = findAttr(node, "axis");
  int64_t axis = axisAttr ? axisAttr->i() : 0;
  axis = axis < 0 ? axis + *rank : axis;
  if (auto d = operands.dim(input(node, 0), axis); d && *d != sum)
    return formatv("split sizes add up to {0}, but dimension {1} is {2}", sum,
                   axis, *d)
        .str();
  return std::nullopt;
}

std::optional<std::string> checkSlice(const onnx::NodeProto &node,
                                      const OperandInfo &operands) {
  if (auto steps = operands.constantInts(input(node, 4)))
    if (llvm::is_contained(*steps, 0))
      return std::string("a slice step is 0");
  return std::nullopt;
}

} // namespace

std::optional<std::string> nodeRangeProblem(const onnx::NodeProto &node,
                                            int64_t opset,
                                            const OperandInfo &operands) {
  StringRef op = node.op_type();
  auto rank = operands.rank(input(node, 0));
  if (const onnx::AttributeProto *axis = findAttr(node, "axis"); axis && rank)
    if (auto limit = axisLimit(op, *rank))
      if (axis->i() < -*rank || axis->i() >= *limit)
        return formatv("axis {0} is out of range for rank {1}", axis->i(),
                       *rank)
            .str();
  if (const onnx::AttributeProto *axes = findAttr(node, "axes"); axes && rank)
    if (auto why = checkAxes(llvm::SmallVector<int64_t>(axes->ints().begin(),
                                                        axes->ints().end()),
                             *rank, "axis"))
      return why;
  if (op == "Transpose")
    return checkTranspose(node, operands);
  if (op == "Gather")
    return checkGather(node, operands);
  if (op == "Split")
    return checkSplit(node, operands);
  if (auto why = checkAxesInput(node, opset, operands))
    return why;
  if (op == "Slice")
    return checkSlice(node, operands);
  return std::nullopt;
}

} // namespace tessera::importer
