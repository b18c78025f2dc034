//===- VersionConversion.cpp - Lifting old opsets -------------------------===//
//
// libonnx's ConvertVersion copies the model into its IR and back. To keep
// weights out of that copy, initializers larger than kConverterBytes are
// handed to it as typed graph inputs (the converter's adapters only read
// small constants: shapes, axes, scales) and put back afterwards.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/VersionConversion.h"
#include "compiler/import/ShapeInference.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include "onnx/version_converter/convert.h"

#include <iostream>
#include <regex>
#include <sstream>

using llvm::formatv;

namespace tessera::importer {
namespace {

constexpr size_t kConverterBytes = 4096;

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The name the importer gives a node's location: its own, else
/// "OpType:first output".
std::string nodeLabel(const onnx::NodeProto &node) {
  if (!node.name().empty())
    return node.name();
  return node.op_type() + (node.output_size() ? ":" + node.output(0) : "");
}

bool isLarge(const onnx::TensorProto &t) {
  return t.data_location() == onnx::TensorProto::EXTERNAL ||
         t.ByteSizeLong() > kConverterBytes;
}

/// Names each node the converter created after the user's node it stands
/// for: the node that produced the same value, else the node it feeds.
void nameConvertedNodes(
    google::protobuf::RepeatedPtrField<onnx::NodeProto> &nodes,
    const llvm::StringMap<std::string> &labelOfOutput) {
  for (auto &node : nodes) {
    if (!node.name().empty())
      continue;
    for (const auto &out : node.output()) {
      auto it = labelOfOutput.find(out);
      if (it != labelOfOutput.end()) {
        node.set_name(it->second);
        break;
      }
    }
  }
  // Constants and reshapes feeding a node: walk back from the consumers.
  llvm::StringMap<std::string> consumerOf;
  for (auto &node : llvm::reverse(nodes)) {
    if (node.name().empty())
      for (const auto &out : node.output())
        if (auto it = consumerOf.find(out); it != consumerOf.end()) {
          node.set_name(it->second);
          break;
        }
    if (!node.name().empty())
      for (const auto &in : node.input())
        consumerOf.try_emplace(in, node.name());
  }
}

/// The converter's failure, one line, naming the first node whose operator
/// the message mentions.
llvm::Error conversionError(
    const std::string &what, const onnx::GraphProto &graph, int64_t from,
    int64_t target,
    const std::function<std::string(const onnx::NodeProto &)> &describe) {
  std::string line = what.substr(0, what.find('\n'));
  // Drop libonnx's "[ONNX version converter] ..." style prefixes.
  line = std::regex_replace(line, std::regex("^\\[[^\\]]*\\]\\s*"), "");
  for (const auto &node : graph.node()) {
    std::regex word("\\b" + node.op_type() + "\\b");
    if (std::regex_search(line, word))
      return error(formatv("cannot convert node {0} from opset {1} to opset "
                           "{2}: {3}",
                           describe(node), from, target, line));
  }
  return error(formatv("cannot convert the model from opset {0} to opset {1} "
                       "(libonnx's version converter): {2}",
                       from, target, line));
}

/// libonnx's converter run on `model` with its large initializers given as
/// typed graph inputs; `model` is unchanged afterwards.
llvm::Expected<onnx::ModelProto> convertWithoutWeights(
    onnx::ModelProto &model, int64_t from, int64_t target,
    const std::function<std::string(const onnx::NodeProto &)> &describe) {
  onnx::GraphProto &graph = *model.mutable_graph();
  google::protobuf::RepeatedPtrField<onnx::TensorProto> initializers;
  initializers.Swap(graph.mutable_initializer());
  int inputCount = graph.input_size();
  int valueInfoCount = graph.value_info_size();
  auto restore = llvm::make_scope_exit([&] {
    graph.mutable_value_info()->DeleteSubrange(
        valueInfoCount, graph.value_info_size() - valueInfoCount);
    graph.mutable_initializer()->Swap(&initializers);
    graph.mutable_input()->DeleteSubrange(inputCount,
                                          graph.input_size() - inputCount);
  });
  llvm::StringSet<> inputNames;
  for (const auto &in : graph.input())
    inputNames.insert(in.name());
  for (const auto &t : initializers) {
    if (!isLarge(t)) {
      *graph.add_initializer() = t;
      continue;
    }
    if (inputNames.contains(t.name()))
      continue;
    onnx::ValueInfoProto &input = *graph.add_input();
    input.set_name(t.name());
    auto *tensor = input.mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(t.data_type());
    auto *shape = tensor->mutable_shape();
    for (int64_t d : t.dims())
      shape->add_dim()->set_dim_value(d);
  }
  // Adapters that need a shape (Softmax-13 over a middle axis needs the
  // input's rank) read it from value_info: infer what can be inferred at the
  // model's own opset. Best effort: a failure here is reported, if it
  // matters, by the inference after conversion.
  llvm::consumeError(inferShapes(model, describe,
                                 /*checkTypeConstraints=*/false));

  // The converter prints warnings on std::cerr: keep them off the user's
  // terminal (a failure is reported below).
  std::ostringstream warnings;
  std::streambuf *stderrBuffer = std::cerr.rdbuf(warnings.rdbuf());
  auto restoreStderr =
      llvm::make_scope_exit([&] { std::cerr.rdbuf(stderrBuffer); });
  try {
    return onnx::version_conversion::ConvertVersion(model, target);
  } catch (const std::exception &e) {
    return conversionError(e.what(), graph, from, target, describe);
  }
}

/// Nodes libonnx's converter cannot take: nodes that do not match their
/// schema (arity, attribute types), operators its registry does not
/// know at the model's opset (the converter loops forever on experimental
/// ones such as ConstantFill, which the registry does not return), and
/// operators of other domains (it fails on a map lookup), in `graph` and in
/// its subgraphs.
llvm::Error checkConvertible(
    const onnx::GraphProto &graph, int64_t from,
    const std::function<std::string(const onnx::NodeProto &)> &describe) {
  for (const auto &node : graph.node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      return error(formatv("node {0}: unknown domain '{1}' (and libonnx's "
                           "version converter cannot convert models with "
                           "operators outside the default domain)",
                           describe(node), node.domain()));
    const onnx::OpSchema *schema =
        onnx::OpSchemaRegistry::Schema(node.op_type(), from, "");
    if (!schema)
      return error(formatv("node {0}: opset {1} has no operator {2}",
                           describe(node), from, node.op_type()));
    // The adapters trust the node's arity and attribute types (Scatter's
    // reads a third input that may not be there).
    try {
      schema->Verify(node);
    } catch (const std::exception &e) {
      std::string what = e.what();
      while (!what.empty() && (what.back() == '\n' || what.back() == ' '))
        what.pop_back();
      return error(formatv("node {0}: {1}", describe(node), what));
    }
    for (const auto &attr : node.attribute()) {
      if (attr.has_g())
        if (llvm::Error err = checkConvertible(attr.g(), from, describe))
          return err;
      for (const auto &g : attr.graphs())
        if (llvm::Error err = checkConvertible(g, from, describe))
          return err;
    }
  }
  return llvm::Error::success();
}

} // namespace

llvm::Error upgradeOpset(
    onnx::ModelProto &model, int opsetIndex, int64_t target,
    const std::function<std::string(const onnx::NodeProto &)> &describe) {
  int64_t from = model.opset_import(opsetIndex).version();
  if (llvm::Error err = checkConvertible(model.graph(), from, describe))
    return err;
  auto converted = convertWithoutWeights(model, from, target, describe);
  if (!converted)
    return converted.takeError();

  onnx::GraphProto &graph = *model.mutable_graph();
  llvm::StringMap<std::string> labelOfOutput;
  for (const auto &node : graph.node())
    for (const auto &out : node.output())
      if (!out.empty())
        labelOfOutput[out] = nodeLabel(node);
  auto &nodes = *converted->mutable_graph()->mutable_node();
  nameConvertedNodes(nodes, labelOfOutput);
  graph.mutable_node()->Swap(&nodes);
  // Constants the adapters made initializers (attributes become inputs).
  llvm::StringSet<> initializerNames;
  for (const auto &t : graph.initializer())
    initializerNames.insert(t.name());
  for (auto &t : *converted->mutable_graph()->mutable_initializer())
    if (!initializerNames.contains(t.name()))
      graph.add_initializer()->Swap(&t);
  model.mutable_opset_import(opsetIndex)->set_version(target);
  return llvm::Error::success();
}

} // namespace tessera::importer
