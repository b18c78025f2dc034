//===- WindowGeometry.h - Conv and pooling window attributes ----*- C++ -*-===//
//
// Part of Tessera. Conv, ConvTranspose and the pooling ops share their window
// attributes (kernel_shape, strides, dilations, pads, auto_pad, ceil_mode,
// ConvTranspose's output_padding and output_shape). They are read, checked
// and resolved here once, for the importer's range checks (from the ONNX
// node), the dialect's shape inference and the lowerings (from the op's
// attributes).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_DIALECTS_ONNX_WINDOWGEOMETRY_H
#define TESSERA_DIALECTS_ONNX_WINDOWGEOMETRY_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace tessera::onnx {

/// Reads a window attribute of a node or op by name: the ints of an INTS
/// attribute (`ints`), the string of a STRING one or the value of an INT one
/// (`text`, `integer`); nullopt when absent.
struct WindowAttrReader {
  llvm::function_ref<std::optional<llvm::SmallVector<int64_t>>(llvm::StringRef)>
      ints;
  llvm::function_ref<std::optional<std::string>(llvm::StringRef)> text;
  llvm::function_ref<std::optional<int64_t>(llvm::StringRef)> integer;
};

/// The window of a convolution or pooling over `spatial` dims.
struct WindowGeometry {
  llvm::SmallVector<int64_t> kernel, strides, dilations, padsLo, padsHi;
  /// ConvTranspose only: output_padding and output_shape (empty if absent).
  llvm::SmallVector<int64_t> outputPadding, outputShape;
  std::string autoPad = "NOTSET";
  bool ceilMode = false;
  bool transposed = false;

  /// Reads and checks the attributes: kernel_shape (else `weightKernel`,
  /// the weight's spatial dims), strides and dilations >= 1, pads >= 0 (2 x
  /// spatial entries), auto_pad. Returns why they are invalid, or nothing.
  std::optional<std::string> read(const WindowAttrReader &attrs,
                                  int64_t spatial,
                                  llvm::ArrayRef<int64_t> weightKernel);

  /// Resolves SAME_UPPER/SAME_LOWER/VALID into padsLo/padsHi for the
  /// spatial input sizes `in` (static where auto_pad needs them).
  void resolvePads(llvm::ArrayRef<int64_t> in);

  /// (kernel - 1) * dilation + 1.
  int64_t extent(size_t i) const { return (kernel[i] - 1) * dilations[i] + 1; }

  /// The output size along spatial dim `i` for input size `in` (dynamic if
  /// `in` is), after resolvePads.
  int64_t outputSize(size_t i, int64_t in) const;

  bool padded() const;
};

/// The geometry of `op` (Conv, ConvTranspose, MaxPool, AveragePool, LpPool)
/// for the spatial input sizes `in`, pads resolved; `weightKernel` is the
/// weight's spatial dims (empty for pools). Nothing if its attributes are
/// invalid or a size auto_pad needs is dynamic.
std::optional<WindowGeometry>
windowGeometry(mlir::Operation *op, llvm::ArrayRef<int64_t> in,
               llvm::ArrayRef<int64_t> weightKernel = {});

} // namespace tessera::onnx

#endif // TESSERA_DIALECTS_ONNX_WINDOWGEOMETRY_H
