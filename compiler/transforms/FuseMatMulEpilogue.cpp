//===- FuseMatMulEpilogue.cpp - MatMul + bias + activation ----------------===//
//
// Part of Tessera. Folds a GEMM with a constant 2-D weight, its bias and an
// optional activation into one tessera.matmul:
//
//   MatMul(A, W) -> Add(bias [N]) (either operand order) -> [Relu | Gelu]
//   Gemm(A, W, bias [N]) (transB folded into the constant) -> [Relu | Gelu]
//
// A value in the chain that has other uses ends the chain there: a MatMul
// with other uses is left alone, an Add whose result is used elsewhere keeps
// its activation separate. The bias must broadcast along the last axis only.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

namespace tessera {
#define GEN_PASS_DEF_FUSEMATMULEPILOGUE
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

constexpr StringLiteral kKind = "tessera.matmul";

/// A static rank-2 tensor produced by a constant.
bool isConstantWeight(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getRank() == 2 && type.hasStaticShape() &&
         matchPattern(v, m_Constant());
}

/// The fp32 values of a constant (dense or resource-backed), if readable.
std::optional<std::vector<float>> constantFloats(Value v) {
  ElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.getElementType().isF32())
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    auto values = dense.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    if (int64_t(data.size()) != attr.getNumElements() * int64_t(sizeof(float)))
      return std::nullopt;
    const float *p = reinterpret_cast<const float *>(data.data());
    return std::vector<float>(p, p + attr.getNumElements());
  }
  return std::nullopt;
}

/// The one user of `v`, if it has exactly one use.
Operation *singleUser(Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

/// The activation name of `op` if it is one the epilogue supports.
std::optional<StringRef> activationOf(Operation *op) {
  if (isa_and_nonnull<onnx::ReluOp>(op))
    return StringRef("relu");
  if (auto gelu = dyn_cast_or_null<onnx::GeluOp>(op)) {
    if (gelu.getApproximate() == "none")
      return StringRef("gelu_erf");
    if (gelu.getApproximate() == "tanh")
      return StringRef("gelu_tanh");
  }
  return std::nullopt;
}

struct FuseMatMulEpiloguePass
    : impl::FuseMatMulEpilogueBase<FuseMatMulEpiloguePass> {
  using FuseMatMulEpilogueBase::FuseMatMulEpilogueBase;

  void notFused(Operation *anchor, const Twine &reason) {
    if (report)
      reportNotFused(anchor, kKind, reason);
  }

  /// Checks the bias: a rank-1 tensor of N elements with the result's element
  /// type. Returns the reason it does not fit, or empty.
  static std::string checkBias(Value bias, int64_t n, Type elt) {
    auto type = dyn_cast<RankedTensorType>(bias.getType());
    if (!type || type.getRank() != 1 || type.getDimSize(0) != n)
      return "the bias is not a [" + std::to_string(n) +
             "] vector broadcast along the last axis";
    if (type.getElementType() != elt)
      return "the bias has another element type";
    return "";
  }

  /// The activation after `value` if `value` feeds only it and its result
  /// is ranked like `value`.
  static Operation *activationAfter(Value value, StringRef &act) {
    act = "none";
    Operation *user = singleUser(value);
    std::optional<StringRef> name = activationOf(user);
    if (!name)
      return nullptr;
    auto in = cast<RankedTensorType>(value.getType());
    auto out = dyn_cast<RankedTensorType>(user->getResult(0).getType());
    if (!out || out.getRank() != in.getRank() ||
        out.getElementType() != in.getElementType())
      return nullptr;
    act = *name;
    return user;
  }

  /// Replaces the chain ending at `last` by tessera.matmul(a, w, bias, act);
  /// `chain` lists the replaced ops, last first.
  void replace(Location loc, Value a, Value w, Value bias, StringRef act,
               ArrayRef<Operation *> chain) {
    Operation *last = chain.front();
    OpBuilder b(last);
    auto fused = b.create<fused::MatMulOp>(loc, last->getResult(0).getType(), a,
                                           w, bias, b.getStringAttr(act));
    last->getResult(0).replaceAllUsesWith(fused.getResult());
    for (Operation *op : chain)
      op->erase();
    if (report)
      reportFused(fused, kKind);
  }

  /// Common checks on A, the weight and the result.
  /// `k` is the weight's contraction size, `elt` its element type.
  static std::string checkOperands(Value a, int64_t k, Type elt, Value y) {
    auto at = dyn_cast<RankedTensorType>(a.getType());
    auto yt = dyn_cast<RankedTensorType>(y.getType());
    if (!at || !yt)
      return "A or the result is unranked";
    if (at.getRank() < 2)
      return "A has rank " + std::to_string(at.getRank()) + ", not 2 or more";
    if (yt.getRank() != at.getRank())
      return "the result does not have A's rank";
    if (!isa<FloatType>(elt) || at.getElementType() != elt ||
        yt.getElementType() != elt)
      return "operands are not of one floating-point type";
    int64_t ak = at.getDimSize(at.getRank() - 1);
    if (!ShapedType::isDynamic(ak) && ak != k)
      return "contraction sizes differ";
    return "";
  }

  void fuseMatMul(onnx::MatMulOp mm) {
    if (!isConstantWeight(mm.getB()))
      return;
    Value y = mm.getY();
    auto isAdd = [](Operation *user) { return isa<onnx::AddOp>(user); };
    if (!llvm::any_of(y.getUsers(), isAdd))
      return; // not a candidate: no bias
    if (!y.hasOneUse())
      return notFused(mm, "the MatMul result has other uses");
    auto add = cast<onnx::AddOp>(*y.getUsers().begin());
    if (add->getOperand(0) == add->getOperand(1))
      return notFused(mm, "the Add adds the MatMul result to itself");
    auto wt = cast<RankedTensorType>(mm.getB().getType());
    std::string why =
        checkOperands(mm.getA(), wt.getDimSize(0), wt.getElementType(), y);
    if (!why.empty())
      return notFused(mm, why);
    Value bias =
        add->getOperand(0) == y ? add->getOperand(1) : add->getOperand(0);
    why = checkBias(bias, wt.getDimSize(1), wt.getElementType());
    if (!why.empty())
      return notFused(mm, why);
    auto addType = dyn_cast<RankedTensorType>(add->getResult(0).getType());
    auto yType = cast<RankedTensorType>(y.getType());
    if (!addType || addType.getRank() != yType.getRank() ||
        addType.getElementType() != yType.getElementType())
      return notFused(mm, "the Add changes the rank or element type");
    StringRef act;
    SmallVector<Operation *> chain;
    if (Operation *activation = activationAfter(add->getResult(0), act))
      chain.push_back(activation);
    chain.append({add, mm});
    replace(mm.getLoc(), mm.getA(), mm.getB(), bias, act, chain);
  }

  void fuseGemm(onnx::GemmOp gemm) {
    if (!isConstantWeight(gemm.getB()) || !gemm.getC())
      return;
    if (gemm.getTransA())
      return notFused(gemm, "transA is set");
    if (gemm.getAlpha().convertToDouble() != 1.0 ||
        gemm.getBeta().convertToDouble() != 1.0)
      return notFused(gemm, "alpha or beta is not 1");
    auto wt = cast<RankedTensorType>(gemm.getB().getType());
    bool transB = gemm.getTransB();
    int64_t k = wt.getDimSize(transB ? 1 : 0);
    int64_t n = wt.getDimSize(transB ? 0 : 1);
    std::string why =
        checkOperands(gemm.getA(), k, wt.getElementType(), gemm.getY());
    if (!why.empty())
      return notFused(gemm, why);
    why = checkBias(gemm.getC(), n, wt.getElementType());
    if (!why.empty())
      return notFused(gemm, why);
    Value w = gemm.getB();
    if (transB) {
      // Transposed once here, so the weight is [K, N] like MatMul's.
      std::optional<std::vector<float>> values = constantFloats(w);
      if (!values)
        return notFused(gemm, "the transposed weight is not a readable f32 "
                              "constant");
      int64_t rows = wt.getDimSize(0), cols = wt.getDimSize(1);
      std::vector<float> t(values->size());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          t[c * rows + r] = (*values)[r * cols + c];
      auto type = RankedTensorType::get({cols, rows}, wt.getElementType());
      OpBuilder b(gemm);
      w = b.create<onnx::ConstantOp>(
          w.getLoc(), DenseElementsAttr::get(type, ArrayRef<float>(t)));
    }
    StringRef act;
    SmallVector<Operation *> chain;
    if (Operation *activation = activationAfter(gemm.getY(), act))
      chain.push_back(activation);
    chain.push_back(gemm);
    replace(gemm.getLoc(), gemm.getA(), w, gemm.getC(), act, chain);
  }

  void runOnOperation() override {
    SmallVector<Operation *> anchors;
    getOperation().walk([&](Operation *op) {
      if (isa<onnx::MatMulOp, onnx::GemmOp>(op))
        anchors.push_back(op);
    });
    for (Operation *op : anchors) {
      if (auto mm = dyn_cast<onnx::MatMulOp>(op))
        fuseMatMul(mm);
      else
        fuseGemm(cast<onnx::GemmOp>(op));
    }
  }
};

} // namespace
} // namespace tessera
