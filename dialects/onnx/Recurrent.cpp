//===- Recurrent.cpp - RNN, GRU and LSTM: verifiers and result types
//-------===//
//
// The three recurrent ops share their operands up to initial_h, their
// attributes and layouts (NN.td's ONNX_RecurrentOp), so one verifier and one
// shape inference serve them, through describeRecurrentCell.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/ONNXDialect.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace tessera::onnx;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

/// The activations a recurrent cell may name, with whether they read alpha
/// and beta and ONNX Runtime's defaults for them.
struct ActivationInfo {
  const char *name;
  bool hasAlpha, hasBeta;
  float alpha, beta;
};
constexpr ActivationInfo kActivations[] = {
    {"Relu", false, false, 0, 0},
    {"Tanh", false, false, 0, 0},
    {"Sigmoid", false, false, 0, 0},
    {"Softsign", false, false, 0, 0},
    {"Softplus", false, false, 0, 0},
    {"Affine", true, true, 1.0f, 0.0f},
    {"LeakyRelu", true, false, 0.01f, 0},
    {"ThresholdedRelu", true, false, 1.0f, 0},
    {"ScaledTanh", true, true, 1.0f, 1.0f},
    {"HardSigmoid", true, true, 0.2f, 0.5f},
    {"Elu", true, false, 1.0f, 0},
};

/// The gates and functions per direction of the op's cell, or 0.
std::pair<int64_t, int64_t> cellShape(Operation *op) {
  if (isa<RNNOp>(op))
    return {1, 1};
  if (isa<GRUOp>(op))
    return {3, 2};
  if (isa<LSTMOp>(op))
    return {4, 3};
  return {0, 0};
}

/// A static dim of `v` (or kDyn if `v` is absent, unranked or dynamic there).
int64_t dimOf(Value v, int64_t i) {
  auto t = v ? dyn_cast<RankedTensorType>(v.getType()) : RankedTensorType();
  return t && i < t.getRank() ? t.getDimSize(i) : kDyn;
}

bool conflicts(int64_t a, int64_t b) {
  return a != kDyn && b != kDyn && a != b;
}

/// The hidden size: the attribute, else R's last dim.
int64_t hiddenSize(Operation *op) {
  if (auto h = op->getAttrOfType<IntegerAttr>("hidden_size"))
    return h.getInt();
  return dimOf(op->getOperand(2), 2);
}

} // namespace

FailureOr<RecurrentCell>
tessera::onnx::describeRecurrentCell(Operation *op, std::string &why) {
  auto [gates, functions] = cellShape(op);
  if (!gates) {
    why = "is not a recurrent op";
    return failure();
  }
  RecurrentCell cell{gates, 1, false, {}};
  StringRef direction = "forward";
  if (auto d = op->getAttrOfType<StringAttr>("direction"))
    direction = d.getValue();
  if (direction == "bidirectional")
    cell.directions = 2;
  else if (direction == "reverse")
    cell.reverse = true;
  else if (direction != "forward") {
    why = ("direction '" + direction +
           "' is not one of forward, reverse, bidirectional")
              .str();
    return failure();
  }

  SmallVector<StringRef> names;
  if (auto list = op->getAttrOfType<ArrayAttr>("activations")) {
    // Shape inference runs before the ODS checks of the attributes' types,
    // so nothing here may assume them.
    for (Attribute a : list) {
      auto name = dyn_cast<StringAttr>(a);
      if (!name) {
        why = "activations must be strings";
        return failure();
      }
      names.push_back(name.getValue());
    }
    // One list for both directions is taken for each (as ONNX Runtime does).
    if (cell.directions == 2 && int64_t(names.size()) == functions)
      names.append(SmallVector<StringRef>(names));
    if (int64_t(names.size()) != functions * cell.directions) {
      why = "has " + std::to_string(names.size()) + " activations; needs " +
            std::to_string(functions * cell.directions) + " (" +
            std::to_string(functions) + " per direction)";
      return failure();
    }
  } else {
    static const char *defaults[] = {"Sigmoid", "Tanh", "Tanh"};
    for (int64_t d = 0; d < cell.directions; ++d) {
      if (gates == 1)
        names.push_back("Tanh");
      else
        names.append(defaults, defaults + functions);
    }
  }

  // alpha and beta are consumed in order by the functions that read them.
  SmallVector<float> alphas, betas;
  for (auto [attrName, out] :
       {std::pair{"activation_alpha", &alphas}, {"activation_beta", &betas}})
    if (auto list = op->getAttrOfType<ArrayAttr>(attrName))
      for (Attribute a : list) {
        auto value = dyn_cast<FloatAttr>(a);
        if (!value) {
          why = std::string(attrName) + " must be floats";
          return failure();
        }
        out->push_back(value.getValueAsDouble());
      }
  size_t nextAlpha = 0, nextBeta = 0;
  for (StringRef name : names) {
    const ActivationInfo *info = nullptr;
    for (const ActivationInfo &candidate : kActivations)
      if (name.equals_insensitive(candidate.name))
        info = &candidate;
    if (!info) {
      why = ("activation '" + name + "' is not one ONNX defines for " +
             op->getName().stripDialect() + " cells")
                .str();
      return failure();
    }
    RecurrentActivation act{info->name, info->alpha, info->beta};
    if (info->hasAlpha && nextAlpha < alphas.size())
      act.alpha = alphas[nextAlpha++];
    if (info->hasBeta && nextBeta < betas.size())
      act.beta = betas[nextBeta++];
    cell.activations.push_back(act);
  }
  return cell;
}

/// Shapes of W, R, B, P and the initial states against X, the direction
/// count and hidden_size.
template <typename OpTy> static LogicalResult verifyRecurrent(OpTy op) {
  std::string why;
  auto cell = describeRecurrentCell(op, why);
  if (failed(cell))
    return op->emitOpError() << why;
  int64_t layout = op.getLayout();
  if (layout != 0 && layout != 1)
    return op->emitOpError() << "layout " << layout << " is not 0 or 1";
  int64_t maxResults = isa<LSTMOp>(op) ? 3 : 2;
  if (int64_t(op->getNumResults()) > maxResults)
    return op->emitOpError() << "has " << op->getNumResults()
                             << " results; at most " << maxResults;
  int64_t hidden = hiddenSize(op);
  if (hidden != kDyn && hidden < 1)
    return op->emitOpError() << "hidden_size " << hidden << " is not positive";
  int64_t nd = cell->directions,
          gh = hidden == kDyn ? kDyn : hidden * cell->gates;
  Value x = op->getOperand(0);
  int64_t batch = dimOf(x, layout == 0 ? 1 : 0), input = dimOf(x, 2);
  auto rankIs = [&](Value v, int64_t rank) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    return !t || t.getRank() == rank;
  };
  // Each operand: its expected dims (kDyn where anything goes).
  struct Expect {
    const char *name;
    Value value;
    SmallVector<int64_t> dims;
  };
  SmallVector<Expect> expects = {
      {"X", op.getX(), {kDyn, kDyn, kDyn}},
      {"W", op.getW(), {nd, gh, input}},
      {"R", op.getR(), {nd, gh, hidden}},
      {"B", op.getB(), {nd, gh == kDyn ? kDyn : 2 * gh}},
      {"sequence_lens", op.getSequenceLens(), {batch}},
      {"initial_h", op.getInitialH(),
       layout == 0 ? SmallVector<int64_t>{nd, batch, hidden}
                   : SmallVector<int64_t>{batch, nd, hidden}}};
  if constexpr (std::is_same_v<OpTy, LSTMOp>) {
    expects.push_back({"initial_c", op.getInitialC(), expects.back().dims});
    expects.push_back(
        {"P", op.getP(), {nd, hidden == kDyn ? kDyn : 3 * hidden}});
  }
  for (const Expect &e : expects) {
    if (!e.value)
      continue;
    if (!rankIs(e.value, e.dims.size()))
      return op->emitOpError() << e.name << " must have rank " << e.dims.size();
    for (auto [i, want] : llvm::enumerate(e.dims))
      if (conflicts(dimOf(e.value, i), want))
        return op->emitOpError()
               << e.name << " has " << dimOf(e.value, i) << " at dim " << i
               << " where " << want << " is expected";
  }
  if (Value lens = op.getSequenceLens()) {
    auto t = cast<ShapedType>(lens.getType());
    if (!t.getElementType().isInteger(32))
      return op->emitOpError() << "sequence_lens must be int32";
  }
  return success();
}

/// Y [seq, dirs, batch, hidden] (layout 1: [batch, seq, dirs, hidden]); Y_h
/// and Y_c [dirs, batch, hidden] (layout 1: [batch, dirs, hidden]).
static LogicalResult inferRecurrent(Operation *op,
                                    SmallVectorImpl<Type> &types) {
  Value x = op->getOperand(0);
  Type elt = cast<ShapedType>(x.getType()).getElementType();
  std::string why;
  auto cell = describeRecurrentCell(op, why);
  auto xt = dyn_cast<RankedTensorType>(x.getType());
  auto layoutAttr = op->getAttrOfType<IntegerAttr>("layout");
  int64_t layout = layoutAttr ? layoutAttr.getInt() : 0;
  for (unsigned i = 0; i < op->getNumResults(); ++i) {
    if (failed(cell) || !xt || xt.getRank() != 3) {
      types.push_back(UnrankedTensorType::get(elt));
      continue;
    }
    int64_t seq = xt.getDimSize(layout == 0 ? 0 : 1);
    int64_t batch = xt.getDimSize(layout == 0 ? 1 : 0);
    int64_t nd = cell->directions, hidden = hiddenSize(op);
    SmallVector<int64_t> shape;
    if (i == 0)
      shape = layout == 0 ? SmallVector<int64_t>{seq, nd, batch, hidden}
                          : SmallVector<int64_t>{batch, seq, nd, hidden};
    else
      shape = layout == 0 ? SmallVector<int64_t>{nd, batch, hidden}
                          : SmallVector<int64_t>{batch, nd, hidden};
    types.push_back(RankedTensorType::get(shape, elt));
  }
  return success();
}

LogicalResult RNNOp::verify() { return verifyRecurrent(*this); }
LogicalResult GRUOp::verify() { return verifyRecurrent(*this); }
LogicalResult LSTMOp::verify() { return verifyRecurrent(*this); }
LogicalResult RNNOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferRecurrent(*this, types);
}
LogicalResult GRUOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferRecurrent(*this, types);
}
LogicalResult LSTMOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferRecurrent(*this, types);
}
