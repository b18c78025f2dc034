//===- ShapeInference.cpp - Guarded ONNX shape inference ------------------===//
//
// The node-by-node driver described in ShapeInference.h. It uses libonnx's
// own InferenceContextImpl and DataPropagationContextImpl, so each node's
// inference is exactly libonnx's; only the traversal (stop at the first
// failure, never pass an untyped input) and the range checks are Tessera's.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/ShapeInference.h"
#include "compiler/import/InlineIf.h"
#include "compiler/import/TensorImport.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"

#include <cstring>
#include <deque>

using llvm::formatv;

namespace tessera::importer {
namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool isTypedTensor(const onnx::TypeProto *t) {
  return t && t->has_tensor_type() &&
         t->tensor_type().elem_type() != onnx::TensorProto::UNDEFINED;
}

/// Why a tensor type cannot describe a Tessera value: a negative dimension
/// (when `negativeOk` is false), or static dimensions whose product exceeds
/// kMaxElements.
std::optional<std::string> shapeProblem(const onnx::TypeProto &t,
                                        bool negativeOk) {
  if (!isTypedTensor(&t) || !t.tensor_type().has_shape())
    return std::nullopt;
  int64_t count = 1;
  for (const auto &[i, d] : llvm::enumerate(t.tensor_type().shape().dim())) {
    if (!d.has_dim_value() || (negativeOk && d.dim_value() < 0))
      continue;
    int64_t v = d.dim_value();
    if (v < 0)
      return formatv("has dimension {0} of size {1}", i, v).str();
    if (v > 0 && count > kMaxElements / v)
      return std::string("has more than 2^40 elements");
    count *= v;
  }
  return std::nullopt;
}

class Driver final : public OperandInfo {
public:
  Driver(onnx::ModelProto &model,
         const std::function<std::string(const onnx::NodeProto &)> &describe,
         bool checkTypeConstraints)
      : model(model), graph(*model.mutable_graph()), describe(describe),
        checkTypeConstraints(checkTypeConstraints) {}

  llvm::Error run();

  std::optional<int64_t> rank(const std::string &name) const override {
    auto it = types.find(name);
    if (it == types.end() || !isTypedTensor(it->second) ||
        !it->second->tensor_type().has_shape())
      return std::nullopt;
    return it->second->tensor_type().shape().dim_size();
  }

  std::optional<int64_t> dim(const std::string &name,
                             int64_t d) const override {
    auto r = rank(name);
    if (!r || d < 0 || d >= *r)
      return std::nullopt;
    const auto &dim = types.at(name)->tensor_type().shape().dim(d);
    if (!dim.has_dim_value() || dim.dim_value() < 0)
      return std::nullopt;
    return dim.dim_value();
  }

  std::optional<std::vector<int64_t>>
  constantInts(const std::string &name) const override {
    const onnx::TensorProto *t = constant(name);
    if (t && t->data_type() == onnx::TensorProto::INT64)
      return values<int64_t, int64_t>(*t, t->int64_data());
    if (t && t->data_type() == onnx::TensorProto::INT32)
      return values<int64_t, int32_t>(*t, t->int32_data());
    return std::nullopt;
  }
  /// Integers known at compile time: constants (booleans too) and shapes
  /// carried as data whose dimensions are all static.
  std::optional<std::vector<int64_t>> knownInts(const std::string &name) const {
    if (auto v = constantInts(name))
      return v;
    const onnx::TensorProto *t = constant(name);
    if (t && t->data_type() == onnx::TensorProto::BOOL)
      return values<int64_t, uint8_t>(*t, t->int32_data());
    auto it = shapeData.find(name);
    if (it == shapeData.end())
      return std::nullopt;
    std::vector<int64_t> dims;
    for (const auto &d : it->second.dim()) {
      if (!d.has_dim_value())
        return std::nullopt;
      dims.push_back(d.dim_value());
    }
    return dims;
  }

  std::optional<std::vector<double>>
  constantFloats(const std::string &name) const override {
    const onnx::TensorProto *t = constant(name);
    if (t && t->data_type() == onnx::TensorProto::FLOAT)
      return values<double, float>(*t, t->float_data());
    if (t && t->data_type() == onnx::TensorProto::DOUBLE)
      return values<double, double>(*t, t->double_data());
    return std::nullopt;
  }

private:
  /// The constant (initializer or Constant value) named `name`, if its data
  /// is in the model.
  const onnx::TensorProto *constant(const std::string &name) const {
    auto it = data.find(name);
    if (name.empty() || it == data.end() ||
        it->second->data_location() == onnx::TensorProto::EXTERNAL)
      return nullptr;
    return it->second;
  }

  /// `t`'s values (raw little-endian `Stored`s or the typed `field`).
  template <typename To, typename Stored, typename Field>
  static std::vector<To> values(const onnx::TensorProto &t,
                                const Field &field) {
    if (!t.has_raw_data())
      return std::vector<To>(field.begin(), field.end());
    std::vector<To> out;
    const std::string &raw = t.raw_data();
    for (size_t i = 0; i + sizeof(Stored) <= raw.size(); i += sizeof(Stored)) {
      Stored v;
      std::memcpy(&v, raw.data() + i, sizeof(Stored));
      out.push_back(v);
    }
    return out;
  }

  llvm::Error inferNode(onnx::NodeProto &node);
  /// Fixes the outputs of inference functions known to be wrong in the
  /// libonnx Tessera builds against.
  void
  correctKnownInferenceBugs(const onnx::NodeProto &node,
                            onnx::shape_inference::InferenceContextImpl &ctx);
  llvm::Error inlineIf(int index);
  void recordOutput(const std::string &name, const onnx::TypeProto &inferred);

  onnx::ModelProto &model;
  onnx::GraphProto &graph;
  const std::function<std::string(const onnx::NodeProto &)> &describe;
  bool checkTypeConstraints;
  std::unordered_map<std::string, int> opsets;
  /// Known types by value name (for the inference contexts).
  std::unordered_map<std::string, onnx::TypeProto *> types;
  /// Declared types of graph outputs and value_info entries.
  std::unordered_map<std::string, onnx::TypeProto *> declared;
  /// Constant data (initializers, Constant values) by name.
  std::unordered_map<std::string, const onnx::TensorProto *> data;
  /// Shapes carried as data (data propagation), by value name.
  std::unordered_map<std::string, onnx::TensorShapeProto> shapeData;
  /// Types of initializers that are not graph inputs.
  std::deque<onnx::TypeProto> ownedTypes;
};

void Driver::recordOutput(const std::string &name,
                          const onnx::TypeProto &inferred) {
  auto it = declared.find(name);
  if (it == declared.end()) {
    auto *info = graph.add_value_info();
    info->set_name(name);
    *info->mutable_type() = inferred;
    types[name] = info->mutable_type();
    return;
  }
  onnx::TypeProto *existing = it->second;
  if (isTypedTensor(existing)) {
    onnx::shape_inference::checkShapesAndTypes(inferred, *existing);
    onnx::shape_inference::mergeShapesAndTypes(inferred, existing);
  } else {
    *existing = inferred;
  }
  types[name] = existing;
}

void Driver::correctKnownInferenceBugs(
    const onnx::NodeProto &node,
    onnx::shape_inference::InferenceContextImpl &ctx) {
  // libonnx 1.12's STFT inference copies the signal's batch dim_value, so a
  // symbolic batch (no dim_value) becomes 0: copy the dim itself.
  if (node.op_type() == "STFT" && node.input_size() > 0 &&
      node.output_size() > 0) {
    const onnx::TypeProto *signal = types[node.input(0)];
    onnx::TypeProto *out = ctx.getOutputType(0);
    if (signal && out && signal->tensor_type().has_shape() &&
        signal->tensor_type().shape().dim_size() > 0 &&
        out->tensor_type().has_shape() &&
        out->tensor_type().shape().dim_size() > 0)
      *out->mutable_tensor_type()->mutable_shape()->mutable_dim(0) =
          signal->tensor_type().shape().dim(0);
  }
}

llvm::Error Driver::inferNode(onnx::NodeProto &node) {
  auto fail = [&](const llvm::Twine &why) {
    return error("shape inference failed: node " + describe(node) + ": " + why);
  };
  for (const auto &in : node.input())
    if (!in.empty() && !isTypedTensor(types.count(in) ? types[in] : nullptr))
      return fail("the type of input '" + in + "' is unknown");
  std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
  auto opset = opsets.find(domain);
  const onnx::OpSchema *schema =
      opset == opsets.end() ? nullptr
                            : onnx::OpSchemaRegistry::Schema(
                                  node.op_type(), opset->second, domain);
  if (!schema)
    return fail("no operator schema");
  if (auto why = nodeRangeProblem(node, opset->second, *this))
    return fail(*why);
  if (!schema->has_type_and_shape_inference_function())
    return llvm::Error::success(); // the dialect's inference takes over
  try {
    onnx::shape_inference::InferenceContextImpl ctx(node, types, data, {},
                                                    &shapeData);
    schema->GetTypeAndShapeInferenceFunction()(ctx);
    if (checkTypeConstraints)
      schema->CheckInputOutputType(ctx);
    correctKnownInferenceBugs(node, ctx);
    for (int i = 0; i < node.output_size(); ++i) {
      const onnx::TypeProto &t = *ctx.getOutputType(i);
      const std::string &name = node.output(i);
      if (name.empty())
        continue;
      if (auto why = shapeProblem(t, /*negativeOk=*/false))
        return fail("output '" + name + "' " + *why);
      if (t.value_case() != onnx::TypeProto::VALUE_NOT_SET)
        recordOutput(name, t);
      else if (declared.count(name))
        types[name] = declared[name];
    }
    if (schema->has_data_propagation_function()) {
      onnx::shape_inference::DataPropagationContextImpl propagation(
          node, types, data, shapeData);
      schema->GetDataPropagationFunction()(propagation);
    }
  } catch (const std::exception &e) {
    std::string what = e.what();
    return fail(what.substr(0, what.find('\n')));
  }
  if (node.op_type() == "Constant" && node.output_size() == 1)
    for (const auto &attr : node.attribute())
      if (attr.name() == "value" && attr.has_t())
        data[node.output(0)] = &attr.t();
  return llvm::Error::success();
}

llvm::Error Driver::run() {
  for (const auto &o : model.opset_import())
    opsets[o.domain() == "ai.onnx" ? "" : o.domain()] =
        static_cast<int>(o.version());
  for (auto &in : *graph.mutable_input()) {
    if (auto why = shapeProblem(in.type(), /*negativeOk=*/true))
      return error("graph input '" + in.name() + "' " + *why);
    types[in.name()] = in.mutable_type();
  }
  for (const auto &t : graph.initializer()) {
    data[t.name()] = &t;
    if (types.count(t.name()))
      continue;
    onnx::TypeProto &type = ownedTypes.emplace_back();
    auto *tensor = type.mutable_tensor_type();
    tensor->set_elem_type(t.data_type());
    auto *shape = tensor->mutable_shape();
    for (int64_t d : t.dims())
      shape->add_dim()->set_dim_value(d);
    types[t.name()] = &type;
  }
  for (auto &info : *graph.mutable_value_info())
    declared[info.name()] = info.mutable_type();
  for (auto &out : *graph.mutable_output())
    declared[out.name()] = out.mutable_type();
  auto &nodes = *graph.mutable_node();
  for (int i = 0; i < nodes.size(); ++i) {
    while (i < nodes.size() && isIfNode(nodes.Get(i)))
      if (llvm::Error err = inlineIf(i))
        return err;
    if (i < nodes.size())
      if (llvm::Error err = inferNode(*nodes.Mutable(i)))
        return err;
  }
  return llvm::Error::success();
}

/// Replaces the If at `index` with its taken branch, or fails naming it.
llvm::Error Driver::inlineIf(int index) {
  auto cond = evaluateIfCondition(
      graph, index, [this](const std::string &name) { return knownInts(name); });
  if (!cond) {
    const onnx::NodeProto &node = graph.node(index);
    return error(formatv(
        "node {0}: the condition '{1}' is not a compile-time constant; "
        "Tessera compiles an If only when its condition folds once shapes "
        "are known (pin the dynamic dimensions it depends on with --shape "
        "or --dim)",
        describe(node), node.input_size() ? node.input(0) : ""));
  }
  spliceIfBranch(graph, index, *cond);
  return llvm::Error::success();
}

} // namespace

llvm::Error inferShapes(
    onnx::ModelProto &model,
    const std::function<std::string(const onnx::NodeProto &)> &describe,
    bool checkTypeConstraints) {
  Driver driver(model, describe, checkTypeConstraints);
  return driver.run();
}

} // namespace tessera::importer
