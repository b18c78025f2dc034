//===- NodeChecks.cpp - Attribute and constant ranges before inference ----===//
//
// Range checks that ONNX's inference functions (and Tessera's own, and the
// lowering to linalg) rely on, done before any of them runs: axes within the
// rank, permutations that are permutations, gather indices and split sizes
// within their dimension, flags that are 0 or 1, convolution windows that
// fit their input, well-formed Einsum equations, non-negative sizes.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/ShapeInference.h"
#include "compiler/import/TensorImport.h"
#include "dialects/onnx/WindowGeometry.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FormatVariadic.h"

#include <climits>
#include <cmath>
#include <map>

using llvm::formatv;
using llvm::StringRef;

namespace tessera::importer {
namespace {

const ::onnx::AttributeProto *findAttr(const ::onnx::NodeProto &node,
                                     StringRef name) {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

std::string input(const ::onnx::NodeProto &node, int i) {
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
                          "LayerNormalization", "RMSNormalization", "Trilu",
                          "GatherElements", "ScatterElements", "TopK",
                          "QuantizeLinear", "DequantizeLinear", "Hardmax",
                          "ArgMax", "ArgMin", "LpNormalization"},
                         op))
    return rank;
  return std::nullopt;
}

std::optional<std::string> checkTranspose(const ::onnx::NodeProto &node,
                                          const OperandInfo &operands) {
  const ::onnx::AttributeProto *perm = findAttr(node, "perm");
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
std::optional<std::string> checkAxesInput(const ::onnx::NodeProto &node,
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

std::optional<std::string> checkGather(const ::onnx::NodeProto &node,
                                       const OperandInfo &operands) {
  auto rank = operands.rank(input(node, 0));
  auto indices = operands.constantInts(input(node, 1));
  if (!rank || !indices || *rank == 0)
    return std::nullopt;
  const ::onnx::AttributeProto *axisAttr = findAttr(node, "axis");
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

std::optional<std::string> checkSplit(const ::onnx::NodeProto &node,
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
  const ::onnx::AttributeProto *axisAttr = findAttr(node, "axis");
  int64_t axis = axisAttr ? axisAttr->i() : 0;
  axis = axis < 0 ? axis + *rank : axis;
  if (auto d = operands.dim(input(node, 0), axis); d && *d != sum)
    return formatv("split sizes add up to {0}, but dimension {1} is {2}", sum,
                   axis, *d)
        .str();
  return std::nullopt;
}

std::optional<std::string> checkSlice(const ::onnx::NodeProto &node,
                                      const OperandInfo &operands) {
  if (auto steps = operands.constantInts(input(node, 4)))
    for (int64_t step : *steps) {
      if (step == 0)
        return std::string("a slice step is 0");
      // Larger steps take one element anyway; these keep the size
      // arithmetic ((end - start + step - 1) / step) from overflowing.
      if (step < -kMaxElements || step > kMaxElements)
        return formatv("slice step {0} is out of range [-2^40, 2^40]", step)
            .str();
    }
  return std::nullopt;
}

/// Integer attributes that are flags (0 or 1) wherever ONNX uses them.
std::optional<std::string> checkFlags(const ::onnx::NodeProto &node) {
  for (const auto &a : node.attribute())
    if (llvm::is_contained({"transA", "transB", "keepdims",
                            "noop_with_empty_axes", "allowzero", "upper",
                            "count_include_pad", "largest", "sorted",
                            "select_last_index", "exclusive", "reverse", "fmod",
                            "detect_negative", "detect_positive"},
                           a.name()) &&
        a.i() != 0 && a.i() != 1)
      return formatv("{0} is {1}; it must be 0 or 1", a.name(), a.i()).str();
  return std::nullopt;
}

/// Attributes of the math ops that take one of a few values: BitShift's
/// direction, LpNormalization's p, and CumSum's axis (a constant scalar in
/// range when it is constant).
std::optional<std::string> checkMathAttributes(const ::onnx::NodeProto &node,
                                               const OperandInfo &operands) {
  StringRef op = node.op_type();
  const ::onnx::AttributeProto *direction = findAttr(node, "direction");
  if (op == "BitShift" && direction && direction->s() != "LEFT" &&
      direction->s() != "RIGHT")
    return ("direction '" + direction->s() + "' is not LEFT or RIGHT");
  const ::onnx::AttributeProto *p = findAttr(node, "p");
  if (op == "LpNormalization" && p && p->i() != 1 && p->i() != 2)
    return formatv("p is {0}; it must be 1 or 2", p->i()).str();
  if (op != "CumSum")
    return std::nullopt;
  auto axis = operands.constantInts(input(node, 1));
  auto rank = operands.rank(input(node, 0));
  if (axis && axis->size() != 1)
    return std::string("axis must be a scalar");
  if (axis && rank)
    return checkAxes(*axis, *rank, "axis");
  return std::nullopt;
}

/// Conv's and ConvTranspose's group against the channels of the input
/// and the weight ([M, C / group, k...], ConvTranspose's [C, M / group, k...]).
/// The weight of a convolution: input 3 of QLinearConv, else input 1.
std::string convWeight(const ::onnx::NodeProto &node) {
  return input(node, node.op_type() == "QLinearConv" ? 3 : 1);
}

std::optional<std::string> checkGroups(const ::onnx::NodeProto &node,
                                       const OperandInfo &operands) {
  const std::string &x = input(node, 0), w = convWeight(node);
  const ::onnx::AttributeProto *groupAttr = findAttr(node, "group");
  int64_t group = groupAttr ? groupAttr->i() : 1;
  if (group < 1 || group > INT_MAX)
    return formatv("group {0} is out of range [1, {1}]", group, INT_MAX).str();
  auto c = operands.dim(x, 1), w0 = operands.dim(w, 0), w1 = operands.dim(w, 1);
  if (node.op_type() == "ConvTranspose") {
    if (c && w0 && (*c != *w0 || *c % group))
      return formatv("the input has {0} channels but the weight has {1} "
                     "(for group {2})",
                     *c, *w0, group)
          .str();
    return std::nullopt;
  }
  if (c && w1 && (*c % group || *c / group != *w1))
    return formatv("the input has {0} channels but the weight expects {1} x "
                   "group {2}",
                   *c, *w1, group)
        .str();
  if (w0 && *w0 % group)
    return formatv("{0} output channels are not divisible by group {1}", *w0,
                   group)
        .str();
  return std::nullopt;
}

/// The window attributes of `node` (Conv, ConvTranspose, the pools) as
/// the shared reader sees them.
std::optional<std::string> readWindow(const ::onnx::NodeProto &node,
                                      int64_t spatial,
                                      llvm::ArrayRef<int64_t> weightKernel,
                                      tessera::onnx::WindowGeometry &geom) {
  auto ints = [&](StringRef name)
      -> std::optional<llvm::SmallVector<int64_t>> {
    const ::onnx::AttributeProto *a = findAttr(node, name);
    if (!a)
      return std::nullopt;
    return llvm::SmallVector<int64_t>(a->ints().begin(), a->ints().end());
  };
  auto text = [&](StringRef name) -> std::optional<std::string> {
    const ::onnx::AttributeProto *a = findAttr(node, name);
    return a ? std::optional<std::string>(a->s()) : std::nullopt;
  };
  auto integer = [&](StringRef name) -> std::optional<int64_t> {
    const ::onnx::AttributeProto *a = findAttr(node, name);
    return a ? std::optional<int64_t>(a->i()) : std::nullopt;
  };
  geom.transposed = node.op_type() == "ConvTranspose";
  return geom.read({ints, text, integer}, spatial, weightKernel);
}

/// Conv, ConvTranspose and the pools: windows (kernel, strides, dilations,
/// pads, group, auto_pad, ceil_mode) that the output-size arithmetic and the
/// lowerings can trust: every window of a Conv or pool fits the padded
/// input.
std::optional<std::string> checkWindow(const ::onnx::NodeProto &node,
                                       const OperandInfo &operands) {
  // QLinearConv and ConvInteger are not supported, but libonnx's shape
  // inference reads their windows like Conv's (and trusts them) first.
  bool conv = llvm::is_contained(
      {"Conv", "ConvTranspose", "QLinearConv", "ConvInteger"}, node.op_type());
  const std::string &x = input(node, 0), w = convWeight(node);
  auto rank = operands.rank(x);
  if (!rank)
    return std::nullopt;
  if (*rank < 3)
    return formatv("the input has rank {0}; a {1} needs rank 3 or more",
                   *rank, conv ? "convolution" : "pooling")
        .str();
  int64_t spatial = *rank - 2;
  llvm::SmallVector<int64_t> weightKernel;
  if (conv) {
    if (auto wRank = operands.rank(w); wRank && *wRank != *rank)
      return formatv("the weight has rank {0} but the input has rank {1}",
                     *wRank, *rank)
          .str();
    for (int64_t i = 0; i < spatial; ++i)
      weightKernel.push_back(operands.dim(w, i + 2).value_or(0));
  }
  tessera::onnx::WindowGeometry geom;
  if (auto why = readWindow(node, spatial, weightKernel, geom))
    return why;
  if (!conv && !findAttr(node, "kernel_shape"))
    return std::string("kernel_shape is required");
  if (conv)
    if (auto why = checkGroups(node, operands))
      return why;
  for (int64_t i = 0; i < spatial; ++i) {
    auto k = conv ? operands.dim(w, i + 2) : std::nullopt;
    if (k && findAttr(node, "kernel_shape") && *k != geom.kernel[i])
      return formatv("kernel_shape {0} does not match the weight's spatial "
                     "dimension {1} of size {2}",
                     geom.kernel[i], i, *k)
          .str();
    int64_t size = geom.kernel[i];
    auto in = operands.dim(x, i + 2);
    if (node.op_type() == "MaxUnpool") {
      // X is the pooled side: its window is the unpooled size, which must
      // hold an element.
      if (in && *in <= INT_MAX &&
          (*in - 1) * geom.strides[i] + size - geom.padsLo[i] - geom.padsHi[i] <
              1)
        return formatv("the unpooled size of spatial dimension {0} would "
                       "be {1}",
                       i,
                       (*in - 1) * geom.strides[i] + size - geom.padsLo[i] -
                           geom.padsHi[i])
            .str();
      continue;
    }
    if (geom.transposed || !size || !in || *in > INT_MAX ||
        llvm::StringRef(geom.autoPad).starts_with("SAME"))
      continue;
    int64_t padded = *in + (geom.autoPad == "VALID"
                                ? 0
                                : geom.padsLo[i] + geom.padsHi[i]);
    // The dilated window, (size - 1) * dilation + 1, fits the padded input
    // (written so that it cannot overflow).
    if (padded < 1 || size - 1 > (padded - 1) / geom.dilations[i])
      return formatv("the kernel (size {0}, dilation {1}) spans more than the "
                     "{2} elements of the padded input in spatial dimension "
                     "{3}",
                     size, geom.dilations[i], padded, i)
          .str();
  }
  return std::nullopt;
}

/// One operand (or the output) term of an Einsum equation: its letters, and
/// where "..." stood (or -1).
struct EinsumTerm {
  std::string letters;
  int64_t ellipsis = -1;
};

std::optional<std::string> parseEinsumTerm(StringRef text, EinsumTerm &term) {
  term.letters = text.str();
  if (size_t dots = text.find("..."); dots != StringRef::npos) {
    term.ellipsis = dots;
    term.letters.erase(dots, 3);
  }
  for (char ch : term.letters) {
    if (ch == '.')
      return ("term '" + text + "' has a '.' outside a single '...'").str();
    if (!llvm::isAlpha(ch))
      return formatv("'{0}' in the equation is not an index letter", ch).str();
  }
  return std::nullopt;
}

/// Einsum: an equation the lowering can trust: letters, at most one "..."
/// per term, one term per input with as many indices as its rank, output
/// indices that occur in the inputs once each, and one size per index.
std::optional<std::string> checkEinsum(const ::onnx::NodeProto &node,
                                       const OperandInfo &operands) {
  const ::onnx::AttributeProto *attr = findAttr(node, "equation");
  if (!attr)
    return std::nullopt;
  std::string eq;
  for (char ch : attr->s())
    if (ch != ' ')
      eq.push_back(ch);
  auto [lhs, rhs] = StringRef(eq).split("->");
  bool explicitOutput = lhs.size() != eq.size();
  llvm::SmallVector<StringRef> texts;
  lhs.split(texts, ',');
  if (static_cast<int>(texts.size()) != node.input_size())
    return formatv("the equation has {0} operand terms for {1} inputs",
                   texts.size(), node.input_size())
        .str();
  bool anyEllipsis = false, anyUpper = false;
  std::map<char, int64_t> sizes;
  for (auto [i, text] : llvm::enumerate(texts)) {
    EinsumTerm term;
    if (auto why = parseEinsumTerm(text, term))
      return why;
    anyEllipsis |= term.ellipsis >= 0;
    anyUpper |= llvm::any_of(term.letters, llvm::isUpper);
    auto rank = operands.rank(input(node, i));
    if (!rank)
      continue;
    int64_t n = term.letters.size();
    if (term.ellipsis < 0 ? n != *rank : n > *rank)
      return formatv("term '{0}' has {1} indices but input {2} has rank {3}",
                     text, n, i, *rank)
          .str();
    for (int64_t j = 0; j < n; ++j) {
      int64_t d = term.ellipsis < 0 || j < term.ellipsis ? j : *rank - n + j;
      auto size = operands.dim(input(node, i), d);
      if (!size)
        continue;
      auto [it, inserted] = sizes.try_emplace(term.letters[j], *size);
      if (!inserted && it->second != *size)
        return formatv("index '{0}' has size {1} in one operand and {2} in "
                       "another",
                       term.letters[j], it->second, *size)
            .str();
    }
  }
  if (anyEllipsis && anyUpper)
    return std::string("upper-case indices together with '...' are not "
                       "supported");
  if (!explicitOutput)
    return std::nullopt;
  EinsumTerm out;
  if (auto why = parseEinsumTerm(rhs, out))
    return why;
  if (out.ellipsis >= 0 && !anyEllipsis)
    return std::string("the output has '...' but no operand does");
  std::string seen;
  for (char ch : out.letters) {
    if (llvm::is_contained(seen, ch))
      return formatv("output index '{0}' appears twice", ch).str();
    seen.push_back(ch);
    if (!llvm::any_of(texts, [&](StringRef t) { return t.contains(ch); }))
      return formatv("output index '{0}' is not an index of any operand", ch)
          .str();
  }
  return std::nullopt;
}

/// Range: finite constants, a step that is not 0, and at most kMaxElements
/// elements (libonnx computes the count without checking any of these).
std::optional<std::string> checkRange(const ::onnx::NodeProto &node,
                                      const OperandInfo &operands) {
  auto scalar = [&](int i) -> std::optional<double> {
    if (auto v = operands.constantInts(input(node, i)); v && v->size() == 1)
      return double(v->front());
    if (auto v = operands.constantFloats(input(node, i)); v && v->size() == 1)
      return v->front();
    return std::nullopt;
  };
  auto start = scalar(0), limit = scalar(1), delta = scalar(2);
  for (auto v : {start, limit, delta})
    if (v && !std::isfinite(*v))
      return std::string("start, limit and delta must be finite");
  if (delta && *delta == 0)
    return std::string("delta is 0");
  if (start && limit && delta &&
      std::ceil((*limit - *start) / *delta) > double(kMaxElements))
    return std::string("the range has more than 2^40 elements");
  return std::nullopt;
}

/// Constant sizes that must not be negative: Tile's repeats and
/// ConstantOfShape's shape.
std::optional<std::string> checkSizes(const ::onnx::NodeProto &node,
                                      const OperandInfo &operands) {
  StringRef op = node.op_type();
  if (op != "Tile" && op != "ConstantOfShape")
    return std::nullopt;
  if (auto values = operands.constantInts(input(node, op == "Tile" ? 1 : 0)))
    for (int64_t v : *values)
      if (v < 0)
        return formatv("{0} value {1} is negative",
                       op == "Tile" ? "a repeats" : "a shape", v)
            .str();
  return std::nullopt;
}

/// DepthToSpace and SpaceToDepth: a block size >= 1 that divides the
/// channels (DepthToSpace) or the spatial dims (SpaceToDepth).
std::optional<std::string> checkBlocks(const ::onnx::NodeProto &node,
                                       const OperandInfo &operands) {
  const ::onnx::AttributeProto *attr = findAttr(node, "blocksize");
  int64_t b = attr ? attr->i() : 0;
  if (b < 1 || b > INT_MAX)
    return formatv("blocksize {0} is out of range [1, {1}]", b, INT_MAX).str();
  const std::string &x = input(node, 0);
  if (auto rank = operands.rank(x); rank && *rank != 4)
    return formatv("the input has rank {0}; it needs rank 4", *rank).str();
  bool toSpace = node.op_type() == "DepthToSpace";
  llvm::SmallVector<int64_t, 2> dims;
  if (toSpace)
    dims = {1};
  else
    dims = {2, 3};
  for (int64_t d : dims)
    if (auto size = operands.dim(x, d); size && *size % (toSpace ? b * b : b))
      return formatv("dimension {0} of size {1} is not a multiple of {2}", d,
                     *size, toSpace ? b * b : b)
          .str();
  return std::nullopt;
}

} // namespace

std::optional<std::string> nodeRangeProblem(const ::onnx::NodeProto &node,
                                            int64_t opset,
                                            const OperandInfo &operands) {
  StringRef op = node.op_type();
  auto rank = operands.rank(input(node, 0));
  if (const ::onnx::AttributeProto *axis = findAttr(node, "axis"); axis && rank)
    if (auto limit = axisLimit(op, *rank))
      if (axis->i() < -*rank || axis->i() >= *limit)
        return formatv("axis {0} is out of range for rank {1}", axis->i(),
                       *rank)
            .str();
  if (const ::onnx::AttributeProto *axes = findAttr(node, "axes"); axes && rank)
    if (auto why = checkAxes(llvm::SmallVector<int64_t>(axes->ints().begin(),
                                                        axes->ints().end()),
                             *rank, "axis"))
      return why;
  if (auto why = checkFlags(node))
    return why;
  if (auto why = checkMathAttributes(node, operands))
    return why;
  if (op == "Transpose")
    return checkTranspose(node, operands);
  if (llvm::is_contained({"Conv", "ConvTranspose", "QLinearConv", "ConvInteger",
                          "MaxPool", "AveragePool", "LpPool", "MaxUnpool"},
                         op))
    return checkWindow(node, operands);
  if (op == "Einsum")
    return checkEinsum(node, operands);
  if (op == "DepthToSpace" || op == "SpaceToDepth")
    return checkBlocks(node, operands);
  if (op == "Range")
    return checkRange(node, operands);
  if (auto why = checkSizes(node, operands))
    return why;
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
