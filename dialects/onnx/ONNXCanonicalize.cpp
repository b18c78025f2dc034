//===- ONNXCanonicalize.cpp - canonical forms of onnx ops -----------------===//

#include "dialects/onnx/ONNXCanonicalize.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace tessera::onnx {
namespace {

/// Moves the constant operands of commutative `OpTy` after the others,
/// keeping the relative order of each group.
template <typename OpTy> struct ConstantsLast : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Value> values, constants;
    for (Value v : op->getOperands())
      (matchPattern(v, m_Constant()) ? constants : values).push_back(v);
    values.append(constants);
    if (llvm::equal(values, op->getOperands()))
      return failure();
    rewriter.modifyOpInPlace(op, [&] { op->setOperands(values); });
    return success();
  }
};

template <typename... OpTys>
void addConstantsLast(RewritePatternSet &patterns) {
  (patterns.add<ConstantsLast<OpTys>>(patterns.getContext()), ...);
}

} // namespace

void populateONNXOperandOrderPatterns(RewritePatternSet &patterns) {
  addConstantsLast<AddOp, MulOp, MaxOp, MinOp, EqualOp, AndOp, OrOp>(patterns);
}

#define ONNX_CONSTANTS_LAST(Op)                                                \
  void Op::getCanonicalizationPatterns(RewritePatternSet &patterns,            \
                                       MLIRContext *) {                        \
    addConstantsLast<Op>(patterns);                                            \
  }
ONNX_CONSTANTS_LAST(AddOp)
ONNX_CONSTANTS_LAST(MulOp)
ONNX_CONSTANTS_LAST(MaxOp)
ONNX_CONSTANTS_LAST(MinOp)
ONNX_CONSTANTS_LAST(EqualOp)
ONNX_CONSTANTS_LAST(AndOp)
ONNX_CONSTANTS_LAST(OrOp)
#undef ONNX_CONSTANTS_LAST

} // namespace tessera::onnx
