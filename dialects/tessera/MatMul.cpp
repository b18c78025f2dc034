//===- MatMul.cpp - tessera.matmul verifier -------------------------------===//

#include "dialects/tessera/TesseraDialect.h"

using namespace mlir;
using namespace tessera::fused;

LogicalResult MatMulOp::verify() {
  auto a = cast<RankedTensorType>(getA().getType());
  auto b = cast<RankedTensorType>(getB().getType());
  auto y = cast<RankedTensorType>(getY().getType());
  if (a.getRank() < 2)
    return emitOpError("A must have rank 2 or more, got ") << a;
  if (b.getRank() != 2)
    return emitOpError("B must have rank 2, got ") << b;
  int64_t k = a.getDimSize(a.getRank() - 1), n = b.getDimSize(1);
  // Gated: B holds the gate's and the value's weights side by side.
  int64_t yn = isGated() ? n / 2 : n;
  if (isGated() && n % 2)
    return emitOpError("a gated activation needs an even N, got ") << n;
  if (!compatibleDim(k, b.getDimSize(0)))
    return emitOpError("contraction sizes differ: A has K = ")
           << k << ", B has K = " << b.getDimSize(0);
  if (failed(verifyVector(*this, getBias(), n, "bias")))
    return failure();
  if (y.getRank() != a.getRank())
    return emitOpError("result must have the rank of A");
  for (int64_t i = 0; i + 1 < a.getRank(); ++i)
    if (!compatibleDim(a.getDimSize(i), y.getDimSize(i)))
      return emitOpError("result dimension ") << i << " differs from A's";
  if (!compatibleDim(y.getDimSize(y.getRank() - 1), yn))
    return emitOpError("result's last dimension must be ") << yn;
  if (a.getElementType() != b.getElementType() ||
      a.getElementType() != y.getElementType())
    return emitOpError("operands and result must have one element type");
  StringRef act = getActivation();
  if (act != "none" && act != "relu" && act != "gelu_erf" &&
      act != "gelu_tanh" && !isGated())
    return emitOpError("unknown activation '")
           << act << "' (expected none, relu, gelu_erf, gelu_tanh, swiglu, "
           << "geglu_erf or geglu_tanh)";
  return success();
}

bool MatMulOp::isGated() {
  StringRef act = getActivation();
  return act == "swiglu" || act == "geglu_erf" || act == "geglu_tanh";
}
