//===- WindowGeometry.cpp - Conv and pooling window attributes ------------===//

#include "dialects/onnx/WindowGeometry.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <climits>

using namespace mlir;
using llvm::formatv;

namespace tessera::onnx {

std::optional<std::string>
WindowGeometry::read(const WindowAttrReader &attrs, int64_t spatial,
                     ArrayRef<int64_t> weightKernel) {
  // `name` into `values`: n entries in [lo, INT_MAX], else n copies of dflt.
  auto get = [&](StringRef name, int64_t n, int64_t lo, int64_t dflt,
                 SmallVector<int64_t> &values) -> std::optional<std::string> {
    values.assign(n, dflt);
    auto given = attrs.ints(name);
    if (!given)
      return std::nullopt;
    if (int64_t(given->size()) != n)
      return formatv("{0} has {1} entries; the input has {2} spatial "
                     "dimensions, so it needs {3}",
                     name, given->size(), spatial, n)
          .str();
    for (int64_t v : *given)
      if (v < lo || v > INT_MAX)
        return formatv("{0} value {1} is out of range [{2}, {3}]", name, v,
                       lo, INT_MAX)
            .str();
    values = *given;
    return std::nullopt;
  };
  SmallVector<int64_t> pads;
  if (auto why = get("kernel_shape", spatial, 1, 0, kernel))
    return why;
  // The weight's spatial dims, when all are known and in range (else the
  // kernel stays unknown: zeros).
  if (!attrs.ints("kernel_shape") && int64_t(weightKernel.size()) == spatial &&
      llvm::all_of(weightKernel, [](int64_t k) { return k >= 1 && k <= INT_MAX; }))
    kernel.assign(weightKernel.begin(), weightKernel.end());
  for (auto [name, lo, dflt, out] :
       {std::make_tuple("strides", 1, 1, &strides),
        std::make_tuple("dilations", 1, 1, &dilations),
        std::make_tuple("pads", 0, 0, &pads)})
    if (auto why = get(name, (StringRef(name) == "pads" ? 2 : 1) * spatial, lo,
                       dflt, *out))
      return why;
  padsLo.assign(pads.begin(), pads.begin() + spatial);
  padsHi.assign(pads.begin() + spatial, pads.end());
  if (transposed) {
    if (auto why = get("output_padding", spatial, 0, 0, outputPadding))
      return why;
    if (auto shape = attrs.ints("output_shape")) {
      // Either the spatial sizes or all of them (N, C, spatial...).
      outputShape.assign(shape->end() - std::min<size_t>(shape->size(), spatial),
                         shape->end());
      if (int64_t(outputShape.size()) != spatial)
        return formatv("output_shape has {0} entries for {1} spatial "
                       "dimensions",
                       shape->size(), spatial)
            .str();
      for (int64_t v : outputShape)
        if (v < 0 || v > INT_MAX)
          return formatv("output_shape value {0} is out of range [0, {1}]", v,
                         INT_MAX)
              .str();
    }
  }
  autoPad = attrs.text("auto_pad").value_or("NOTSET");
  if (!llvm::is_contained({"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"},
                          autoPad))
    return "auto_pad '" + autoPad +
           "' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID";
  int64_t ceil = attrs.integer("ceil_mode").value_or(0);
  if (ceil != 0 && ceil != 1)
    return formatv("ceil_mode is {0}; it must be 0 or 1", ceil).str();
  ceilMode = ceil;
  return std::nullopt;
}

void WindowGeometry::resolvePads(ArrayRef<int64_t> in) {
  if (autoPad == "VALID") {
    padsLo.assign(kernel.size(), 0);
    padsHi.assign(kernel.size(), 0);
    return;
  }
  bool upper = autoPad == "SAME_UPPER";
  if (!upper && autoPad != "SAME_LOWER" && outputShape.empty())
    return;
  for (size_t i = 0; i < kernel.size(); ++i) {
    if (ShapedType::isDynamic(in[i]) || in[i] > INT_MAX)
      continue;
    int64_t total;
    if (transposed) {
      // The output is output_shape, else in * stride ("SAME").
      int64_t out = outputShape.empty() ? in[i] * strides[i] : outputShape[i];
      total = std::max<int64_t>(0, strides[i] * (in[i] - 1) +
                                       outputPadding[i] + extent(i) - out);
    } else {
      int64_t out = (in[i] + strides[i] - 1) / strides[i];
      total = std::max<int64_t>(0, (out - 1) * strides[i] + extent(i) - in[i]);
    }
    int64_t small = total / 2, big = total - small;
    padsLo[i] = upper ? small : big;
    padsHi[i] = upper ? big : small;
  }
}

int64_t WindowGeometry::outputSize(size_t i, int64_t in) const {
  // Window attributes are at most INT_MAX; a larger input size (a type can
  // declare any) could overflow the arithmetic below.
  if (ShapedType::isDynamic(in) || in > INT_MAX)
    return ShapedType::kDynamic;
  if (transposed && !outputShape.empty())
    return outputShape[i];
  if (transposed)
    return strides[i] * (in - 1) + outputPadding[i] + extent(i) - padsLo[i] -
           padsHi[i];
  int64_t span = in + padsLo[i] + padsHi[i] - extent(i);
  if (span < 0)
    return 0;
  if (!ceilMode)
    return span / strides[i] + 1;
  int64_t out = (span + strides[i] - 1) / strides[i] + 1;
  // The last window must start inside the input or its leading padding.
  if ((out - 1) * strides[i] >= in + padsLo[i])
    --out;
  return out;
}

bool WindowGeometry::padded() const {
  auto nonZero = [](int64_t p) { return p != 0; };
  return llvm::any_of(padsLo, nonZero) || llvm::any_of(padsHi, nonZero);
}

std::optional<WindowGeometry> windowGeometry(Operation *op,
                                             ArrayRef<int64_t> in,
                                             ArrayRef<int64_t> weightKernel) {
  auto ints = [&](StringRef name) -> std::optional<SmallVector<int64_t>> {
    auto attr = op->getAttrOfType<ArrayAttr>(name);
    if (!attr)
      return std::nullopt;
    SmallVector<int64_t> v;
    for (Attribute a : attr)
      v.push_back(cast<IntegerAttr>(a).getInt());
    return v;
  };
  auto text = [&](StringRef name) -> std::optional<std::string> {
    if (auto attr = op->getAttrOfType<StringAttr>(name))
      return attr.str();
    return std::nullopt;
  };
  auto integer = [&](StringRef name) -> std::optional<int64_t> {
    if (auto attr = op->getAttrOfType<IntegerAttr>(name))
      return attr.getInt();
    return std::nullopt;
  };
  WindowGeometry geom;
  geom.transposed = op->getName().getStringRef() == "onnx.ConvTranspose";
  if (geom.read({ints, text, integer}, in.size(), weightKernel))
    return std::nullopt;
  if (llvm::is_contained(geom.kernel, 0))
    return std::nullopt;
  geom.resolvePads(in);
  return geom;
}

} // namespace tessera::onnx
