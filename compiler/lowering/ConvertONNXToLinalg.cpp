//===- ConvertONNXToLinalg.cpp - the onnx-to-linalg conversion pass -------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/Passes.h"
#include "compiler/lowering/Reductions.h"
#include "compiler/transforms/Patterns.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tessera {
#define GEN_PASS_DEF_CONVERTONNXTOLINALG
#define GEN_PASS_DEF_COPIESTOLINALG
#include "compiler/lowering/Passes.h.inc"
} // namespace tessera

using namespace mlir;

tessera::ONNXToLinalgTypeConverter::ONNXToLinalgTypeConverter() {
  addConversion([](Type t) { return t; });
  addConversion([](RankedTensorType t) -> Type {
    return RankedTensorType::get(
        t.getShape(), lowering::signlessElementType(t.getElementType()));
  });
  auto cast = [](OpBuilder &b, Type type, ValueRange inputs,
                 Location loc) -> Value {
    return b.create<UnrealizedConversionCastOp>(loc, type, inputs).getResult(0);
  };
  addSourceMaterialization(cast);
  addTargetMaterialization(cast);
  addArgumentMaterialization(cast);
}

namespace tessera {
namespace {

/// Rejects a function input of unknown rank, naming it: every lowering needs
/// ranked tensors (dynamic dims are fine, their sizes are read at run time).
LogicalResult checkRankedInputs(func::FuncOp func) {
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    Type type = func.getArgumentTypes()[i];
    if (!isa<TensorType>(type) || isa<RankedTensorType>(type))
      continue;
    auto name = func.getArgAttrOfType<StringAttr>(i, "onnx.name");
    std::string n = name ? name.getValue().str() : std::to_string(i);
    return func.emitError() << "input '" << n << "' has no known rank ("
                            << type << "); give it one with --shape " << n
                            << "=DIMS (use ? for a dynamic dimension)";
  }
  return success();
}

/// Why a convolution of `input` by `weight` into `result` cannot be lowered,
/// if it cannot.
std::optional<std::string> convolutionProblem(Value input, Value weight,
                                              Value result, int64_t group) {
  auto x = cast<ShapedType>(input.getType());
  auto w = cast<ShapedType>(weight.getType());
  if (!x.hasRank() || x.getRank() < 3 || x.getRank() > 5)
    return std::string("only 1-D, 2-D and 3-D convolutions are supported");
  if (group < 1 || !w.hasRank() || w.getRank() != x.getRank() ||
      (!x.isDynamicDim(1) && !w.isDynamicDim(1) &&
       x.getDimSize(1) != group * w.getDimSize(1)) ||
      (!w.isDynamicDim(0) && w.getDimSize(0) % group != 0))
    return "the input has " + std::to_string(x.getDimSize(1)) +
           " channels, the weight " + std::to_string(w.getDimSize(0)) + "x" +
           std::to_string(w.getDimSize(1)) + ", which group " +
           std::to_string(group) + " does not divide evenly";
  auto y = dyn_cast<RankedTensorType>(result.getType());
  if (llvm::any_of(x.getShape().drop_front(), ShapedType::isDynamic) || !y ||
      llvm::any_of(y.getShape().drop_front(), ShapedType::isDynamic))
    return std::string("only the batch dimension of a convolution may be "
                       "dynamic");
  return std::nullopt;
}

/// Why `op` cannot be lowered yet, if it cannot.
std::optional<std::string> unsupportedReason(Operation *op) {
  SmallVector<int64_t> values;
  if (auto conv = dyn_cast<onnx::ConvOp>(op))
    return convolutionProblem(conv.getX(), conv.getW(), conv.getY(),
                              conv.getGroup());
  if (auto conv = dyn_cast<onnx::ConvIntegerOp>(op))
    return convolutionProblem(conv.getX(), conv.getW(), conv.getY(),
                              conv.getGroup());
  if (auto conv = dyn_cast<onnx::QLinearConvOp>(op))
    return convolutionProblem(conv.getX(), conv.getW(), conv.getY(),
                              conv.getGroup());
  if (auto why = lowering::reductionProblem(op))
    return why;
  if (auto dropout = dyn_cast<onnx::DropoutOp>(op)) {
    // A constant true training_mode is refused unless the ratio is a
    // constant 0; one known only at run time is checked then.
    Value training = dropout.getTrainingMode();
    bool zeroRatio = false;
    if (Value ratio = dropout.getRatio())
      if (auto c = ratio.getDefiningOp<onnx::ConstantOp>())
        if (auto dense = dyn_cast<DenseFPElementsAttr>(c.getValue()))
          zeroRatio =
              dense.isSplat() && dense.getSplatValue<APFloat>().isZero();
    if (training && lowering::getConstIntValues(training, values) &&
        llvm::any_of(values, [](int64_t v) { return v != 0; }) && !zeroRatio)
      return std::string("training-mode Dropout (random) is not supported: "
                         "Tessera compiles models for inference");
  }
  if (isa<onnx::AttentionOp>(op))
    if (std::optional<std::string> why = onnxAttentionProblem(op))
      return "Attention: " + *why;
  if (auto rms = dyn_cast<onnx::RMSNormalizationOp>(op)) {
    auto x = dyn_cast<RankedTensorType>(rms.getX().getType());
    if (x && onnx::normalizeAxis(rms.getAxis(), x.getRank()) != x.getRank() - 1)
      return std::string("RMSNormalization is supported over the last axis "
                         "only");
    if (x && x.isDynamicDim(x.getRank() - 1))
      return std::string("RMSNormalization needs a static last dimension");
  }
  if (auto why = recurrentProblem(op))
    return why;
  if (auto why = dataAndWindowOpProblem(op))
    return why;
  if (auto why = signalOpProblem(op))
    return why;
  if (auto why = selectionOpProblem(op))
    return why;
  if (auto cos = dyn_cast<onnx::ConstantOfShapeOp>(op))
    if (cos.getValueAttr() && !isa<DenseElementsAttr>(cos.getValueAttr()))
      return std::string("value must be a dense constant");
  return std::nullopt;
}

/// An op with a kernel of its own (tessera-lower-fused-kernels), on
/// converted operand and result types.
template <typename OpTy> struct RetypeKernelOp : ConversionPattern {
  RetypeKernelOp(const TypeConverter &converter, MLIRContext *ctx)
      : ConversionPattern(converter, OpTy::getOperationName(), /*benefit=*/1,
                          ctx) {}

  LogicalResult
  matchAndRewrite(Operation *op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<Type> types;
    if (failed(getTypeConverter()->convertTypes(op->getResultTypes(), types)))
      return failure();
    OperationState state(op->getLoc(), op->getName(), operands, types,
                         op->getAttrs());
    rewriter.replaceOp(op, rewriter.create(state)->getResults());
    return success();
  }
};

/// Reports every op the conversion cannot handle, each at its node.
LogicalResult checkLowerable(func::FuncOp func) {
  bool ok = true;
  func.walk([&](Operation *op) {
    if (auto why = unsupportedReason(op)) {
      op->emitOpError(*why);
      ok = false;
    }
  });
  return success(ok);
}

struct ConvertONNXToLinalgPass
    : impl::ConvertONNXToLinalgBase<ConvertONNXToLinalgPass> {
  using ConvertONNXToLinalgBase::ConvertONNXToLinalgBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : module.getOps<func::FuncOp>())
      if (failed(checkRankedInputs(func)) || failed(checkLowerable(func)))
        return signalPassFailure();

    MLIRContext *ctx = &getContext();
    ONNXToLinalgTypeConverter converter;
    RewritePatternSet patterns(ctx);
    populateONNXElementwiseToLinalgPatterns(converter, patterns);
    populateONNXNNToLinalgPatterns(converter, patterns);
    populateONNXReductionToLinalgPatterns(converter, patterns);
    populateONNXConvToLinalgPatterns(converter, patterns);
    populateONNXTensorToLinalgPatterns(converter, patterns);
    populateONNXRuntimeAxesReduceToLinalgPatterns(converter, patterns);
    populateONNXPoolToLinalgPatterns(converter, patterns);
    populateONNXGatherScatterToLinalgPatterns(converter, patterns);
    populateONNXDataMovementToLinalgPatterns(converter, patterns);
    populateONNXQuantizeToLinalgPatterns(converter, patterns);
    populateONNXResizeToLinalgPatterns(converter, patterns);
    populateONNXRecurrentToLinalgPatterns(converter, patterns);
    populateONNXSignalToLinalgPatterns(converter, patterns);
    populateONNXSelectionToLinalgPatterns(converter, patterns);
    populateONNXDetToLinalgPatterns(converter, patterns);
    populateONNXNonMaxSuppressionToLinalgPatterns(converter, patterns);
    populateONNXRoiAlignToLinalgPatterns(converter, patterns);
    populateONNXAttentionToFusedPatterns(converter, patterns);
    populateFusedQKVProjectionToLinalgPatterns(converter, patterns);
    populateFusedMatMulToLinalgPatterns(converter, patterns);
    patterns.add<RetypeKernelOp<fused::AttentionOp>,
                 RetypeKernelOp<fused::AddLayerNormOp>,
                 RetypeKernelOp<onnx::RMSNormalizationOp>,
                 RetypeKernelOp<onnx::RotaryEmbeddingOp>>(converter, ctx);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateReturnOpTypeConversionPattern(patterns, converter);

    ConversionTarget target(*ctx);
    // scf and bufferization.alloc_tensor: the onnx ops lowered to loops
    // (the recurrent ops' time steps, outputs that CSE must not merge); cf
    // for the run-time shape checks (cf.assert). No vectors: the vector
    // kernels are tessera-lower-fused-kernels'.
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           scf::SCFDialect, bufferization::BufferizationDialect,
                           cf::ControlFlowDialect>();
    target.addIllegalDialect<onnx::ONNXDialect, fused::TesseraDialect>();
    // Left for tessera-lower-fused-kernels, on converted types.
    target.addDynamicallyLegalOp<fused::AttentionOp, fused::AddLayerNormOp,
                                 onnx::RMSNormalizationOp,
                                 onnx::RotaryEmbeddingOp>(
        [&](Operation *op) { return converter.isLegal(op); });
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return converter.isSignatureLegal(op.getFunctionType());
    });
    target.addDynamicallyLegalOp<func::ReturnOp>(
        [&](func::ReturnOp op) { return converter.isLegal(op); });
    target.addLegalOp<ModuleOp>();
    if (failed(applyFullConversion(module, target, std::move(patterns))))
      return signalPassFailure();
  }
};

struct CopiesToLinalgPass : impl::CopiesToLinalgBase<CopiesToLinalgPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp op) { copies.push_back(op); });
    for (memref::CopyOp op : copies) {
      OpBuilder b(op);
      b.create<linalg::CopyOp>(op.getLoc(), op.getSource(), op.getTarget());
      op.erase();
    }
  }
};

} // namespace
} // namespace tessera
