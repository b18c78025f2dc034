//===- Driver.cpp - the dialects and the model interface ------------------===//

#include "compiler/driver/Driver.h"
#include "compiler/codegen/Passes.h"
#include "compiler/lowering/Passes.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Affine/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Transforms/AllInterfaces.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/TensorTilingInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/SubsetInsertionOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/SubsetOpInterfaceImpl.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

#include <map>

using namespace mlir;

namespace tessera {

static int onnxDType(Type elt, bool isUnsigned) {
  if (elt.isF32())
    return 1;
  if (elt.isF64())
    return 11;
  if (elt.isF16())
    return 10;
  if (elt.isBF16())
    return 16;
  if (elt.isInteger(1))
    return 9;
  switch (elt.getIntOrFloatBitWidth()) {
  case 8:
    return isUnsigned ? 2 : 3;
  case 16:
    return isUnsigned ? 4 : 5;
  case 32:
    return isUnsigned ? 12 : 6;
  case 64:
    return isUnsigned ? 13 : 7;
  }
  return 0;
}

/// An input or output of `type`; `attrs` may name its dims
/// (`onnx.dim_params`, from the model's dim_param strings).
static TensorInfo describe(Type type, DictionaryAttr attrs, StringRef name) {
  TensorInfo info;
  info.name = name.str();
  auto shaped = cast<ShapedType>(type);
  Type elt = shaped.getElementType();
  info.dtype = onnxDType(elt, elt.isUnsignedInteger());
  if (!shaped.hasRank())
    return info;
  auto params = attrs ? attrs.getAs<ArrayAttr>("onnx.dim_params") : nullptr;
  for (auto [d, size] : llvm::enumerate(shaped.getShape())) {
    info.dims.push_back(ShapedType::isDynamic(size) ? -1 : size);
    DimInfo dim;
    if (params && d < params.size() && ShapedType::isDynamic(size))
      if (auto param = dyn_cast<StringAttr>(params[d]))
        dim.name = param.str();
    // A dynamic dim is at least 1 unless --dim says otherwise: empty
    // batches and sequences are refused with a clear error rather than
    // trusted to every kernel.
    dim.min = ShapedType::isDynamic(size) ? 1 : size;
    if (!ShapedType::isDynamic(size))
      dim.max = size;
    info.dimInfo.push_back(std::move(dim));
  }
  return info;
}

/// A dynamic dim along which `arg` is Concat'ed with other tensors may be 0
/// (instead of the default minimum 1): the Concat's other operands give the
/// result its extent, as a key/value cache's past length P is 0 at the first
/// step of generation (Concat(past, new) along the sequence axis).
/// Opset-23 Attention concatenates past_key/past_value with the new keys
/// and values along dim 2 itself.
static void allowEmptyConcatDims(BlockArgument arg, TensorInfo &info) {
  for (Operation *user : arg.getUsers()) {
    if (auto attention = dyn_cast<onnx::AttentionOp>(user)) {
      if ((arg == attention.getPastKey() || arg == attention.getPastValue()) &&
          info.dims.size() == 4 && info.dims[2] < 0)
        info.dimInfo[2].min = 0;
      continue;
    }
    auto concat = dyn_cast<onnx::ConcatOp>(user);
    if (!concat || concat.getInputs().size() < 2)
      continue;
    int64_t axis = onnx::normalizeAxis(concat.getAxis(), info.dims.size());
    if (axis >= 0 && axis < int64_t(info.dims.size()) && info.dims[axis] < 0)
      info.dimInfo[axis].min = 0;
  }
}

/// The (input, dim) whose size `v` is, looking through the exporters'
/// shape arithmetic: Gather(Shape(input), k), under Cast, Squeeze,
/// Unsqueeze, Reshape and Identity of one element.
static std::optional<std::pair<unsigned, int64_t>> inputDimOf(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (isa<onnx::CastOp, onnx::SqueezeOp, onnx::UnsqueezeOp, onnx::ReshapeOp,
            onnx::IdentityOp>(def)) {
      v = def->getOperand(0);
      continue;
    }
    auto gather = dyn_cast<onnx::GatherOp>(def);
    auto shape = gather ? gather.getData().getDefiningOp<onnx::ShapeOfOp>()
                        : nullptr;
    SmallVector<int64_t> index;
    auto arg = shape ? dyn_cast<BlockArgument>(shape.getData()) : nullptr;
    if (!arg || shape.getStart() != 0 ||
        !onnx::getConstantInts(gather.getIndices(), index) ||
        index.size() != 1 || index[0] < 0)
      return std::nullopt;
    return std::make_pair(arg.getArgNumber(), index[0]);
  }
  return std::nullopt;
}

/// Bounds the model implies: a table Gathered at positions 0..L-1, where L
/// is an input dim, made by Range(0, L) or by Slice(positions, 0, L) of a
/// constant, holds at least L rows (or positions), so L is at most that
/// many. This is the position-embedding table of BERT- and GPT-style
/// exports, which bounds the sequence length.
static void boundDimsByTables(func::FuncOp func, ModelInterface &iface) {
  auto bound = [&](std::optional<std::pair<unsigned, int64_t>> dim,
                   int64_t max) {
    if (!dim || dim->first >= iface.inputs.size())
      return;
    TensorInfo &t = iface.inputs[dim->first];
    if (dim->second >= int64_t(t.dims.size()) || t.dims[dim->second] >= 0)
      return;
    DimInfo &info = t.dimInfo[dim->second];
    info.max = std::min(info.max, max);
  };
  func.walk([&](onnx::GatherOp gather) {
    auto table = dyn_cast<RankedTensorType>(gather.getData().getType());
    int64_t axis = table ? onnx::normalizeAxis(gather.getAxis(),
                                               table.getRank())
                         : -1;
    if (axis < 0 || table.isDynamicDim(axis))
      return;
    Operation *positions = gather.getIndices().getDefiningOp();
    SmallVector<int64_t> start, step, axes;
    if (auto range = dyn_cast_or_null<onnx::RangeOp>(positions)) {
      if (onnx::getConstantInts(range.getStart(), start) &&
          onnx::getConstantInts(range.getDelta(), step) && start == ArrayRef<int64_t>{0} &&
          step == ArrayRef<int64_t>{1})
        bound(inputDimOf(range.getLimit()), table.getDimSize(axis));
      return;
    }
    auto slice = dyn_cast_or_null<onnx::SliceOp>(positions);
    auto data = slice ? dyn_cast<RankedTensorType>(slice.getData().getType())
                      : nullptr;
    if (!data || !slice.getData().getDefiningOp<onnx::ConstantOp>() ||
        !onnx::getConstantInts(slice.getStarts(), start) ||
        !onnx::getConstantInts(slice.getAxes(), axes) || start.size() != 1 ||
        start[0] != 0 || axes.size() != 1)
      return;
    if (slice.getSteps() && (!onnx::getConstantInts(slice.getSteps(), step) ||
                             step != ArrayRef<int64_t>{1}))
      return;
    int64_t sliced = onnx::normalizeAxis(axes[0], data.getRank());
    if (sliced < 0 || data.isDynamicDim(sliced))
      return;
    // The positions themselves must index the table: their count bounds L.
    bound(inputDimOf(slice.getEnds()),
          std::min(data.getDimSize(sliced), table.getDimSize(axis)));
  });
}

llvm::Expected<ModelInterface> describeModel(ModuleOp module) {
  auto func = fused::getEntryFunctionAs<func::FuncOp>(module);
  if (!func)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "the module has no entry function (marked tessera.entry)");
  ModelInterface iface;
  auto nameOf = [](DictionaryAttr attrs, unsigned i, const char *prefix) {
    auto n = attrs ? attrs.getAs<StringAttr>("onnx.name") : nullptr;
    return n ? n.getValue().str() : prefix + std::to_string(i);
  };
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    TensorInfo info =
        describe(func.getArgumentTypes()[i], func.getArgAttrDict(i),
                 nameOf(func.getArgAttrDict(i), i, "input_"));
    // Integer inputs used as Gather indices must stay inside the gathered
    // axis; the runtime checks them before running.
    for (OpOperand &use : func.getArgument(i).getUses()) {
      auto gather = dyn_cast<onnx::GatherOp>(use.getOwner());
      if (!gather || use.getOperandNumber() != 1)
        continue;
      auto data = dyn_cast<RankedTensorType>(gather.getData().getType());
      if (!data)
        continue;
      int64_t axis = onnx::normalizeAxis(gather.getAxis(), data.getRank());
      if (axis < 0 || data.isDynamicDim(axis))
        continue;
      int64_t dim = data.getDimSize(axis);
      std::pair<int64_t, int64_t> range = {-dim, dim - 1};
      if (info.indexRange)
        range = {std::max(range.first, info.indexRange->first),
                 std::min(range.second, info.indexRange->second)};
      info.indexRange = range;
    }
    allowEmptyConcatDims(func.getArgument(i), info);
    iface.inputs.push_back(std::move(info));
  }
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    iface.outputs.push_back(
        describe(func.getResultTypes()[i], func.getResultAttrDict(i),
                 nameOf(func.getResultAttrDict(i), i, "output_")));
  boundDimsByTables(func, iface);
  // A bound on a named dim holds for every tensor that uses the name.
  std::map<std::string, std::pair<int64_t, int64_t>> named;
  for (auto *list : {&iface.inputs, &iface.outputs})
    for (TensorInfo &t : *list)
      for (DimInfo &d : t.dimInfo)
        if (!d.name.empty()) {
          auto [it, fresh] = named.try_emplace(d.name, d.min, d.max);
          it->second = {std::max(it->second.first, d.min),
                        std::min(it->second.second, d.max)};
        }
  for (auto *list : {&iface.inputs, &iface.outputs})
    for (TensorInfo &t : *list)
      for (auto [d, info] : llvm::enumerate(t.dimInfo))
        if (!info.name.empty() && t.dims[d] < 0)
          std::tie(info.min, info.max) = named[info.name];
  return iface;
}

void registerDialects(DialectRegistry &registry) {
  registry.insert<onnx::ONNXDialect, fused::TesseraDialect, func::FuncDialect,
                  linalg::LinalgDialect, tensor::TensorDialect,
                  arith::ArithDialect, math::MathDialect, scf::SCFDialect,
                  memref::MemRefDialect, vector::VectorDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  LLVM::LLVMDialect, affine::AffineDialect>();
  // First: it must win over upstream's model of tensor.expand_shape.
  registerExpandShapeBufferization(registry);
  registerFusedOpDecompositions(registry);
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  // Bufferization, tiling, subset (hoisting) and value-bounds models.
  linalg::registerAllDialectInterfaceImplementations(registry);
  tensor::registerTilingInterfaceExternalModels(registry);
  tensor::registerSubsetOpInterfaceExternalModels(registry);
  tensor::registerValueBoundsOpInterfaceExternalModels(registry);
  vector::registerSubsetOpInterfaceExternalModels(registry);
  arith::registerValueBoundsOpInterfaceExternalModels(registry);
  affine::registerValueBoundsOpInterfaceExternalModels(registry);
  scf::registerValueBoundsOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  vector::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

} // namespace tessera
