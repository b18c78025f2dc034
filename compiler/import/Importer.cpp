//===- Importer.cpp - ONNX ModelProto to the onnx dialect -----------------===//
//
// Steps, each of which can stop the import with one clear error:
//   1. parse (binary protobuf or ONNX text syntax, both with libonnx);
//   2. model-level checks (graph present, IR version, ai.onnx opset 1..23);
//      a model older than opset 13 is lifted to opset 13 with libonnx's
//      version converter, its nodes keeping the user's names;
//   3. every node Tessera cannot handle, listed together in one error;
//   4. every value that is used but never produced;
//   5. ::onnx::checker and ONNX shape inference (with data propagation and the
//      `--shape` pins). libonnx 1.12 knows opsets up to 17: newer models are
//      checked through a reversible "shim" that rewrites the few newer
//      operator forms into their opset-17 equivalents;
//   6. building the function, refining each result type with the dialect's
//      own inference, and verifying the module.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Importer.h"
#include "dialects/tessera/TesseraDialect.h"
#include "compiler/import/InlineIf.h"
#include "compiler/import/ShapeInference.h"
#include "compiler/import/TensorImport.h"
#include "compiler/import/VersionConversion.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/checker.h"
#include "onnx/defs/parser.h"
#include "onnx/defs/schema.h"
#include "onnx/defs/shape_inference.h"
#include "onnx/onnx_pb.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <climits>
#include <mutex>
#include <map>
#include <set>

using namespace mlir;
using llvm::formatv;
namespace imp = tessera::importer;
namespace dialect = tessera::onnx;

namespace tessera {
namespace {

/// The oldest opset Tessera handles natively; older ones, from
/// kMinConvertibleOpset, are lifted to it with libonnx's version converter.
constexpr int64_t kMinOpset = 13;
constexpr int64_t kMinConvertibleOpset = 1;
constexpr int64_t kMaxOpset = 23;

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool isDefaultDomain(const std::string &domain) {
  return domain.empty() || domain == "ai.onnx";
}

/// The operators Tessera imports, with the first opset in which the `onnx`
/// dialect's op describes them (13 means "all supported opsets").
const llvm::StringMap<int64_t> &supportedOps() {
  static const llvm::StringMap<int64_t> ops = [] {
    llvm::StringMap<int64_t> m;
    for (const char *name :
         {"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "Neg", "Abs",
          "Exp", "Log", "Erf", "Tanh", "Sigmoid", "Relu", "Softmax",
          "LogSoftmax", "MatMul", "Gemm", "ReduceMean", "ReduceSum",
          "ReduceMax", "ReduceMin", "Reshape", "Transpose", "Gather", "Shape",
          "Size", "Unsqueeze", "Squeeze", "Flatten", "Concat", "Slice", "Split",
          "Expand", "Tile", "Cast", "Constant", "ConstantOfShape", "Range",
          "Where", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
          "Not", "And", "Or", "Max", "Min", "Clip", "Identity", "Dropout",
          "Conv", "Einsum",
          // Data movement and NN (Tensor.td, NN.td).
          "GatherElements", "GatherND", "ScatterElements", "ScatterND",
          "OneHot", "Pad", "DepthToSpace", "SpaceToDepth", "TopK", "Resize",
          "EyeLike", "BatchNormalization", "InstanceNormalization", "LRN",
          "MaxPool", "AveragePool", "LpPool", "GlobalMaxPool",
          "GlobalAveragePool", "GlobalLpPool", "ConvTranspose",
          "NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss",
          "QuantizeLinear", "DequantizeLinear", "MatMulInteger",
          "DynamicQuantizeLinear", "MaxUnpool", "QLinearMatMul",
          "ReverseSequence", "RNN", "GRU", "LSTM", "ConvInteger", "QLinearConv",
          "Det", "NonZero", "Compress", "Unique", "NonMaxSuppression",
          "RoiAlign"})
      m[name] = kMinOpset;
    // Elementwise math, activations and logic (Math.td, Logic.td).
    for (const char *name :
         {"Floor",     "Ceil",     "Round",       "Sign",     "Sin",
          "Cos",       "Tan",      "Asin",        "Acos",     "Atan",
          "Sinh",      "Cosh",     "Asinh",       "Acosh",    "Atanh",
          "IsNaN",     "IsInf",    "Mod",         "BitShift", "Sum",
          "Mean",      "Softplus", "Softsign",    "Elu",      "Selu",
          "LeakyRelu", "PRelu",    "HardSigmoid", "Celu",     "ThresholdedRelu",
          "Xor",       "Shrink"})
      m[name] = kMinOpset;
    m["HardSwish"] = 14;
    for (const char *name :
         {"Mish", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot"})
      m[name] = 18;
    // Reductions, scans and axis ops (Reduce.td).
    for (const char *name :
         {"ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
          "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin", "CumSum",
          "Hardmax", "LpNormalization", "MeanVarianceNormalization"})
      m[name] = kMinOpset;
    m["Trilu"] = 14;
    m["CastLike"] = 15;
    m["GridSample"] = 16;
    m["LayerNormalization"] = 17;
    // Signal processing (Signal.td).
    for (const char *name : {"HannWindow", "HammingWindow", "BlackmanWindow",
                             "DFT", "STFT", "MelWeightMatrix"})
      m[name] = 17;
    m["GroupNormalization"] = 18;
    m["Gelu"] = 20;
    m["RMSNormalization"] = 23;
    m["RotaryEmbedding"] = 23;
    m["Attention"] = 23;
    return m;
  }();
  return ops;
}

/// Why Tessera does not import the default-domain operators it does not,
/// where there is a reason beyond "not implemented yet".
const llvm::StringMap<StringRef> &unsupportedReasons() {
  static const llvm::StringMap<StringRef> reasons = [] {
    llvm::StringMap<StringRef> m;
    for (const char *op :
         {"Bernoulli", "Multinomial", "RandomNormal", "RandomNormalLike",
          "RandomUniform", "RandomUniformLike"})
      m[op] = "random: Tessera compiles deterministic inference graphs";
    for (const char *op :
         {"SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase",
          "SequenceInsert", "SequenceLength", "SequenceMap", "SplitToSequence",
          "ConcatFromSequence"})
      m[op] = "sequence values (Tessera's values are tensors)";
    for (const char *op :
         {"Optional", "OptionalGetElement", "OptionalHasElement"})
      m[op] = "optional values (Tessera's values are tensors)";
    for (const char *op : {"StringNormalizer", "RegexFullMatch", "StringConcat",
                           "StringSplit", "TfIdfVectorizer"})
      m[op] = "string tensors";
    for (const char *op : {"If", "Loop", "Scan"})
      m[op] = "control flow (subgraphs)";
    for (const char *op : {"Momentum", "Adagrad", "Adam", "Gradient"})
      m[op] = "training only";
    return m;
  }();
  return reasons;
}

/// The reductions whose `axes` became an input in opset 18 (ReduceSum's did
/// in 13).
bool axesBecameInputIn18(StringRef op) {
  return op.starts_with("Reduce") && op != "ReduceSum";
}

/// Reductions that took `axes` as an attribute before opset 18.
bool axesWasAttribute(StringRef op, int64_t opset) {
  return opset < 18 && axesBecameInputIn18(op);
}

//===----------------------------------------------------------------------===//
// Attention (opset 23)
//===----------------------------------------------------------------------===//

/// Why an opset-23 Attention node cannot be imported: the parts of the op
/// the fused kernel does not implement.
std::optional<std::string> attentionProblem(const ::onnx::NodeProto &node) {
  if (node.input_size() > 6)
    return std::string("Attention's nonpad_kv_seqlen is not supported");
  if (node.output_size() > 3 && !node.output(3).empty())
    return std::string("Attention's qk_matmul_output is not supported");
  for (const auto &attr : node.attribute()) {
    if (attr.name() == "softcap" && attr.f() != 0.0f)
      return std::string("Attention's softcap is not supported");
    if (attr.name() == "qk_matmul_output_mode" && attr.i() != 0)
      return std::string("Attention's qk_matmul_output_mode is not supported");
  }
  return std::nullopt;
}

/// Output shapes of Attention for libonnx's shape inference: Y is Q's shape
/// with V's head size, present_key/present_value [B, Hkv, P + S, Dh].
void inferAttentionShapes(::onnx::InferenceContext &ctx) {
  using Dim = ::onnx::TensorShapeProto_Dimension;
  ::onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  for (size_t out = 1; out < 3 && out < ctx.getNumOutputs(); ++out)
    ::onnx::propagateElemTypeFromInputToOutput(ctx, out, out);
  auto heads = [&](const char *name) -> int64_t {
    const auto *attr = ctx.getAttribute(name);
    return attr ? attr->i() : 0;
  };
  int64_t qHeads = heads("q_num_heads"), kvHeads = heads("kv_num_heads");
  // Dim `i` of input `in`, divided by `div` when it is a known value.
  auto dim = [&](size_t in, int i, int64_t div = 1) -> Dim {
    Dim d;
    if (in >= ctx.getNumInputs() || !::onnx::hasInputShape(ctx, in))
      return d;
    const auto &shape = ::onnx::getInputShape(ctx, in);
    if (i >= shape.dim_size())
      return d;
    d = shape.dim(i);
    if (d.has_dim_value() && div > 1)
      d.set_dim_value(d.dim_value() / div);
    else if (div > 1)
      d.Clear();
    return d;
  };
  if (!::onnx::hasInputShape(ctx, 0))
    return;
  int rank = ::onnx::getInputShape(ctx, 0).dim_size();
  auto *y = ctx.getOutputType(0)->mutable_tensor_type()->mutable_shape();
  if (rank == 4) {
    for (int i = 0; i < 3; ++i)
      *y->add_dim() = dim(0, i);
    *y->add_dim() = dim(2, 3);
  } else if (rank == 3 && qHeads > 0 && kvHeads > 0) {
    *y->add_dim() = dim(0, 0);
    *y->add_dim() = dim(0, 1);
    Dim dv = dim(2, 2, kvHeads);
    if (dv.has_dim_value())
      dv.set_dim_value(dv.dim_value() * qHeads);
    *y->add_dim() = dv;
  } else {
    return;
  }
  // present = past ++ new along the keys, 4-D.
  for (size_t out = 1; out < 3 && out < ctx.getNumOutputs(); ++out) {
    if (!ctx.getOutputType(out))
      continue;
    size_t in = out; // K or V
    auto *p = ctx.getOutputType(out)->mutable_tensor_type()->mutable_shape();
    *p->add_dim() = dim(in, 0);
    Dim h = rank == 4 ? dim(in, 1) : Dim();
    if (rank == 3)
      h.set_dim_value(kvHeads);
    *p->add_dim() = h;
    Dim s = dim(in, rank == 4 ? 2 : 1), past = dim(in + 3, 2);
    Dim total;
    if (ctx.getNumInputs() <= in + 3 || !ctx.getInputType(in + 3))
      total = s;
    else if (s.has_dim_value() && past.has_dim_value())
      total.set_dim_value(s.dim_value() + past.dim_value());
    *p->add_dim() = total;
    *p->add_dim() = rank == 4 ? dim(in, 3) : dim(in, 2, kvHeads);
  }
}

/// libonnx 1.12 has no Attention schema: one with opset-23 Attention's
/// inputs, outputs and attributes, registered at the newest opset it knows
/// (the shim checks newer models at that opset), so the checker and shape
/// inference take the node as it is.
void registerAttentionSchema() {
  static std::once_flag once;
  std::call_once(once, [] {
    using OS = ::onnx::OpSchema;
    using AP = ::onnx::AttributeProto;
    int64_t known = ::onnx::OpSchemaRegistry::DomainToVersionRange::Instance()
                        .Map()
                        .at(::onnx::ONNX_DOMAIN)
                        .second;
    if (::onnx::OpSchemaRegistry::Schema("Attention", int(known)))
      return;
    std::vector<std::string> floats = {"tensor(float)", "tensor(float16)",
                                       "tensor(bfloat16)", "tensor(double)"};
    std::vector<std::string> masks = floats;
    masks.push_back("tensor(bool)");
    OS schema("Attention", __FILE__, __LINE__);
    schema.SinceVersion(int(known))
        .Input(0, "Q", "", "T1")
        .Input(1, "K", "", "T1")
        .Input(2, "V", "", "T2")
        .Input(3, "attn_mask", "", "U", OS::Optional)
        .Input(4, "past_key", "", "T1", OS::Optional)
        .Input(5, "past_value", "", "T2", OS::Optional)
        .Output(0, "Y", "", "T1")
        .Output(1, "present_key", "", "T1", OS::Optional)
        .Output(2, "present_value", "", "T2", OS::Optional)
        .Output(3, "qk_matmul_output", "", "T1", OS::Optional)
        .Attr("is_causal", "", AP::INT, int64_t(0))
        .Attr("q_num_heads", "", AP::INT, false)
        .Attr("kv_num_heads", "", AP::INT, false)
        .Attr("scale", "", AP::FLOAT, false)
        .Attr("softcap", "", AP::FLOAT, 0.0f)
        .Attr("qk_matmul_output_mode", "", AP::INT, int64_t(0))
        .Attr("softmax_precision", "", AP::INT, false)
        .TypeConstraint("T1", floats, "")
        .TypeConstraint("T2", floats, "")
        .TypeConstraint("U", masks, "")
        .TypeAndShapeInferenceFunction(inferAttentionShapes);
    ::onnx::OpSchemaRegistry::OpSchemaRegisterOnce registered(schema);
  });
}

/// "'name' (OpType, domain 'd', opset N)" for diagnostics; unnamed nodes are
/// named by their first output.
std::string describeNode(const ::onnx::NodeProto &node,
                         const ::onnx::ModelProto &model) {
  std::string domain = node.domain().empty() ? "ai.onnx" : node.domain();
  int64_t version = 0;
  for (const auto &o : model.opset_import())
    if ((o.domain().empty() ? "ai.onnx" : o.domain()) == domain)
      version = o.version();
  std::string name = !node.name().empty() ? "'" + node.name() + "'"
                     : node.output_size()
                         ? "unnamed node producing '" + node.output(0) + "'"
                         : "unnamed node";
  return formatv("{0} ({1}, domain '{2}', opset {3})", name, node.op_type(),
                 domain, version)
      .str();
}

//===----------------------------------------------------------------------===//
// The model and what is known about its values
//===----------------------------------------------------------------------===//

class ModelImporter {
public:
  ModelImporter(::onnx::ModelProto &model, StringRef modelDir, MLIRContext &ctx,
                const ImportOptions &options)
      : model(model), graph(*model.mutable_graph()), modelDir(modelDir),
        ctx(ctx), options(options), builder(&ctx) {}

  llvm::Expected<OwningOpRef<ModuleOp>> run();

private:
  llvm::Error checkModel();
  void collectConstants();
  llvm::Error liftOldOpset();
  llvm::Error checkMergedDecoder();
  llvm::Error checkNodes();
  llvm::Error checkDataflow();
  llvm::Error checkGraphNames();
  llvm::Error checkTensors();
  llvm::Error checkTensors(const ::onnx::GraphProto &g);
  llvm::Error pinInputShapes();
  llvm::Error checkAndInferShapes();
  llvm::Expected<OwningOpRef<ModuleOp>> build();

  std::optional<std::string> nodeProblem(const ::onnx::NodeProto &node);
  bool constantInts(const std::string &name, std::vector<int64_t> &values);
  llvm::Error buildNode(const ::onnx::NodeProto &node);
  llvm::Expected<Attribute> convertAttribute(const ::onnx::NodeProto &node,
                                             ::onnx::AttributeProto &attr);
  Type typeOf(const std::string &name);
  Location locOf(const ::onnx::NodeProto &node);

  ::onnx::ModelProto &model;
  ::onnx::GraphProto &graph;
  std::string modelDir;
  MLIRContext &ctx;
  const ImportOptions &options;
  OpBuilder builder;
  int64_t opset = 0;
  int opsetIndex = -1;
  /// The model's own opset when it was lifted to kMinOpset.
  std::optional<int64_t> convertedFrom;

  /// Initializers and Constant-node outputs by name (for constant axes).
  llvm::StringMap<const ::onnx::TensorProto *> constants;
  /// Types after ONNX shape inference, by value name.
  llvm::StringMap<const ::onnx::TypeProto *> inferredTypes;
  /// Values built so far.
  llvm::StringMap<Value> values;
};

llvm::Error ModelImporter::checkModel() {
  if (model.ir_version() < 3)
    return error(formatv("the model has IR version {0}; Tessera needs IR "
                         "version 3 or newer (is this an ONNX model?)",
                         model.ir_version()));
  for (int i = 0; i < model.opset_import_size(); ++i)
    if (isDefaultDomain(model.opset_import(i).domain())) {
      opset = model.opset_import(i).version();
      opsetIndex = i;
    }
  if (opsetIndex < 0)
    return error("the model does not import the default ONNX opset (ai.onnx)");
  if (opset < kMinConvertibleOpset || opset > kMaxOpset)
    return error(formatv("the model uses ai.onnx opset {0}; Tessera supports "
                         "opsets {1} to {2}",
                         opset, kMinConvertibleOpset, kMaxOpset));
  collectConstants();
  return llvm::Error::success();
}

void ModelImporter::collectConstants() {
  constants.clear();
  for (const auto &t : graph.initializer())
    constants[t.name()] = &t;
  for (const auto &node : graph.node())
    if (node.op_type() == "Constant" && isDefaultDomain(node.domain()) &&
        node.output_size() == 1)
      for (const auto &attr : node.attribute())
        if (attr.name() == "value" && attr.has_t())
          constants[node.output(0)] = &attr.t();
}

/// Lifts a model older than kMinOpset to it. The converter reads the whole
/// model, so the checks that protect libonnx from hostile models run first
/// (and again, cheaply, on the converted model).
llvm::Error ModelImporter::liftOldOpset() {
  if (llvm::Error err = checkGraphNames())
    return err;
  if (llvm::Error err = checkDataflow())
    return err;
  if (llvm::Error err = checkTensors())
    return err;
  if (llvm::Error err = imp::upgradeOpset(
          model, opsetIndex, kMinOpset, [this](const ::onnx::NodeProto &node) {
            return describeNode(node, model);
          }))
    return err;
  convertedFrom = opset;
  opset = kMinOpset;
  collectConstants();
  return llvm::Error::success();
}

bool ModelImporter::constantInts(const std::string &name,
                                 std::vector<int64_t> &out) {
  auto it = constants.find(name);
  if (it == constants.end())
    return false;
  const ::onnx::TensorProto &t = *it->second;
  out.clear();
  if (t.data_type() != ::onnx::TensorProto::INT64)
    return false;
  if (t.has_raw_data()) {
    const std::string &raw = t.raw_data();
    for (size_t i = 0; i + 8 <= raw.size(); i += 8) {
      int64_t v;
      std::memcpy(&v, raw.data() + i, 8);
      out.push_back(v);
    }
  } else {
    out.assign(t.int64_data().begin(), t.int64_data().end());
  }
  return true;
}

/// Why Tessera cannot import `node`, or nothing if it can.
std::optional<std::string>
ModelImporter::nodeProblem(const ::onnx::NodeProto &node) {
  const std::string &op = node.op_type();
  if (!isDefaultDomain(node.domain()))
    return "unknown domain '" + node.domain() + "'";
  // Shape inference inlines the taken branch, or fails naming the node.
  if (imp::isIfNode(node))
    return std::nullopt;
  auto it = supportedOps().find(op);
  if (it == supportedOps().end())
    return std::string("unsupported operator");
  if (opset < it->second)
    return formatv("{0} needs opset {1} or newer", op, it->second).str();
  auto opName = RegisteredOperationName::lookup("onnx." + op, &ctx);
  if (!opName)
    return std::string("unsupported operator");
  for (const auto &attr : node.attribute()) {
    bool known = llvm::any_of(opName->getAttributeNames(), [&](StringAttr a) {
      return a.getValue() == attr.name();
    });
    if (op == "Constant" && StringRef(attr.name()).starts_with("value")) {
      if (attr.name() == "value_string" || attr.name() == "value_strings")
        return std::string("string constants are not supported");
      known = true;
    }
    if (op == "Constant" && attr.name() == "sparse_value")
      return std::string("sparse constants are not supported");
    if (axesWasAttribute(op, opset) && attr.name() == "axes")
      known = true;
    if (!known)
      return "attribute '" + attr.name() + "' is not supported";
  }
  for (const auto &attr : node.attribute())
    if ((op == "Cast" && attr.name() == "to") ||
        (op == "ConstantOfShape" && attr.name() == "value")) {
      int dt = attr.name() == "to" ? attr.i() : attr.t().data_type();
      if (!imp::elementType(dt, ctx))
        return "data type " + imp::dataTypeName(dt) + " is not supported";
    }
  if (op == "Constant" && node.attribute_size() != 1)
    return std::string("a Constant needs exactly one value attribute");
  if (op == "Attention")
    if (auto why = attentionProblem(node))
      return why;
  if (opset >= 18 && axesBecameInputIn18(op) && node.input_size() > 1 && !node.input(1).empty()) {
    std::vector<int64_t> axes;
    if (!constantInts(node.input(1), axes))
      return std::string("axes must be a constant");
  }
  return std::nullopt;
}

/// Hugging Face Optimum's merged decoder: one If on a graph input
/// (use_cache_branch) chooses between the decoder with past and without.
/// The decoder with past alone does both (an empty past for the prompt).
llvm::Error ModelImporter::checkMergedDecoder() {
  for (const auto &node : graph.node()) {
    if (node.op_type() != "If" || node.input_size() < 1 ||
        !isDefaultDomain(node.domain()))
      continue;
    const std::string &cond = node.input(0);
    if (llvm::none_of(graph.input(), [&](const ::onnx::ValueInfoProto &in) {
          return in.name() == cond;
        }))
      continue;
    return error(formatv(
        "{0} chooses between two graphs on the input '{1}': this is a "
        "merged decoder (Hugging Face Optimum's, with and without past "
        "behind one If), which Tessera does not compile; export the decoder "
        "without merging (optimum-cli export onnx --no-post-process, or "
        "use_merged=False) and compile decoder_with_past_model.onnx, which "
        "also runs the prompt (with an empty past)",
        describeNode(node, model), cond));
  }
  return llvm::Error::success();
}

llvm::Error ModelImporter::checkNodes() {
  std::vector<std::string> problems;
  for (const auto &node : graph.node())
    if (auto why = nodeProblem(node))
      problems.push_back(describeNode(node, model) + ": " + *why);
  if (problems.empty())
    return llvm::Error::success();
  std::string msg =
      formatv("the model has {0} unsupported node{1}{2}:", problems.size(),
              problems.size() == 1 ? "" : "s",
              convertedFrom ? formatv(" (after converting it from opset {0} "
                                      "to {1})",
                                      *convertedFrom, opset)
                                  .str()
                            : "");
  for (const auto &p : problems)
    msg += "\n  " + p;
  return error(msg);
}

llvm::Error ModelImporter::checkDataflow() {
  llvm::StringSet<> produced;
  for (const auto &in : graph.input())
    produced.insert(in.name());
  for (const auto &t : graph.initializer())
    produced.insert(t.name());
  for (const auto &node : graph.node()) {
    for (const auto &in : node.input())
      if (!in.empty() && !produced.contains(in))
        return error(
            formatv("node {0} uses '{1}', which no earlier node, graph "
                    "input or initializer produces",
                    describeNode(node, model), in));
    for (const auto &out : node.output())
      if (!out.empty())
        produced.insert(out);
  }
  for (const auto &out : graph.output())
    if (!produced.contains(out.name()))
      return error(formatv("graph output '{0}' is not produced by any node",
                           out.name()));
  return llvm::Error::success();
}

/// Names the compiled library's descriptor and the dataflow rely on: graph
/// inputs, outputs and initializers are named, inputs and outputs once each,
/// and every value is defined once (SSA).
llvm::Error ModelImporter::checkGraphNames() {
  if (graph.output_size() == 0)
    return error("the graph has no outputs");
  llvm::StringSet<> inputs, outputs, defined;
  for (const auto &in : graph.input()) {
    if (in.name().empty())
      return error("a graph input has no name");
    if (!inputs.insert(in.name()).second)
      return error(formatv("graph input '{0}' is declared twice", in.name()));
  }
  for (const auto &out : graph.output()) {
    if (out.name().empty())
      return error("a graph output has no name");
    if (!outputs.insert(out.name()).second)
      return error(formatv("graph output '{0}' is declared twice; each output "
                           "needs its own name",
                           out.name()));
  }
  if (graph.sparse_initializer_size())
    return error("sparse initializers are not supported");
  for (const auto &t : graph.initializer()) {
    if (t.name().empty())
      return error("an initializer has no name");
    if (!defined.insert(t.name()).second)
      return error(formatv("initializer '{0}' is defined twice", t.name()));
  }
  for (const auto &in : graph.input())
    defined.insert(in.name());
  for (const auto &node : graph.node())
    for (const auto &out : node.output())
      if (!out.empty() && !defined.insert(out).second)
        return error(formatv("node {0} defines '{1}', which is already "
                             "defined (a graph input, an initializer or an "
                             "earlier node's output)",
                             describeNode(node, model), out));
  return llvm::Error::success();
}

/// Every tensor in the model (initializers and tensor attributes) has as many
/// bytes as its shape and data type need, before anything reads it.
llvm::Error ModelImporter::checkTensors() { return checkTensors(graph); }

/// The tensors of `g`, and of the branches of its If nodes (which shape
/// inference may inline).
llvm::Error ModelImporter::checkTensors(const ::onnx::GraphProto &g) {
  auto check = [&](const ::onnx::TensorProto &t,
                   const std::string &where) -> llvm::Error {
    auto layout = imp::checkTensor(t, modelDir, ctx);
    if (!layout)
      return error(where + llvm::toString(layout.takeError()));
    return llvm::Error::success();
  };
  for (const auto &t : g.initializer())
    if (llvm::Error err = check(t, ""))
      return err;
  for (const auto &node : g.node())
    for (const auto &attr : node.attribute()) {
      if (attr.has_t())
        if (llvm::Error err =
                check(attr.t(), "node " + describeNode(node, model) + ": "))
          return err;
      if (attr.has_g() && imp::isIfNode(node))
        if (llvm::Error err = checkTensors(attr.g()))
          return err;
      if (attr.tensors_size() || attr.has_sparse_tensor() ||
          attr.sparse_tensors_size() ||
          (attr.has_g() && !imp::isIfNode(node)) || attr.graphs_size())
        return error(formatv("node {0}: attribute '{1}' holds tensors or "
                             "graphs, which are not supported",
                             describeNode(node, model), attr.name()));
    }
  return llvm::Error::success();
}

llvm::Error ModelImporter::pinInputShapes() {
  for (const auto &[name, value] : options.dimValues) {
    bool used = false;
    std::set<std::string> named;
    for (auto &in : *graph.mutable_input()) {
      if (constants.count(in.name()))
        continue;
      auto *shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
      for (auto &dim : *shape->mutable_dim()) {
        if (!dim.has_dim_param() || dim.has_dim_value())
          continue;
        named.insert(dim.dim_param());
        if (dim.dim_param() == name) {
          dim.set_dim_value(value);
          used = true;
        }
      }
    }
    if (!used) {
      std::string names;
      for (const std::string &n : named)
        names += (names.empty() ? "" : ", ") + n;
      return error(formatv("--dim names '{0}', which no input dimension of "
                           "the model is named (named dimensions: {1})",
                           name, names.empty() ? "none" : names));
    }
  }
  for (const auto &[name, dims] : options.inputShapes) {
    ::onnx::ValueInfoProto *input = nullptr;
    for (auto &in : *graph.mutable_input())
      if (in.name() == name)
        input = &in;
    if (!input || constants.count(name)) {
      std::string names;
      for (const auto &in : graph.input())
        if (!constants.count(in.name()))
          names += (names.empty() ? "" : ", ") + in.name();
      return error(formatv("--shape names '{0}', which is not an input of the "
                           "model (inputs: {1})",
                           name, names));
    }
    auto *shape = input->mutable_type()->mutable_tensor_type()->mutable_shape();
    if (shape->dim_size() != static_cast<int>(dims.size()))
      return error(formatv("--shape {0}: {1} dimensions given but the input "
                           "has rank {2}",
                           name, dims.size(), shape->dim_size()));
    for (size_t i = 0; i < dims.size(); ++i) {
      auto *dim = shape->mutable_dim(i);
      if (dims[i] < 0)
        continue;
      if (dim->has_dim_value() && dim->dim_value() != dims[i])
        return error(
            formatv("--shape {0}: dimension {1} is fixed to {2} by the "
                    "model, not {3}",
                    name, i, dim->dim_value(), dims[i]));
      dim->set_dim_value(dims[i]);
    }
  }
  return llvm::Error::success();
}

/// Rewrites the few operator forms newer than libonnx's schemas into
/// equivalent opset-17 forms for the checker and shape inference, and restores
/// the model afterwards. Only small nodes are copied.
class SchemaShim {
public:
  SchemaShim(::onnx::ModelProto &model, int opsetIndex,
             const std::function<bool(const std::string &,
                                      std::vector<int64_t> &)> &constantInts)
      : model(model), opsetIndex(opsetIndex) {
    int64_t known = ::onnx::OpSchemaRegistry::DomainToVersionRange::Instance()
                        .Map()
                        .at(::onnx::ONNX_DOMAIN)
                        .second;
    auto *opsetProto = model.mutable_opset_import(opsetIndex);
    savedOpset = opsetProto->version();
    if (savedOpset <= known)
      return;
    opsetProto->set_version(known);
    auto *nodes = model.mutable_graph()->mutable_node();
    for (int i = 0; i < nodes->size(); ++i) {
      ::onnx::NodeProto &node = *nodes->Mutable(i);
      if (!isDefaultDomain(node.domain()))
        continue;
      const std::string &op = node.op_type();
      if (op == "Gelu" || op == "RMSNormalization" ||
          op == "RotaryEmbedding" || op == "GroupNormalization") {
        // Y has X's shape and type: an Identity of X for the checker.
        saved.emplace_back(i, node);
        node.set_op_type("Identity");
        node.clear_attribute();
        if (node.input_size() > 1)
          node.mutable_input()->DeleteSubrange(1, node.input_size() - 1);
      } else if (axesBecameInputIn18(op)) {
        saved.emplace_back(i, node);
        std::vector<int64_t> axes;
        if (node.input_size() > 1 && constantInts(node.input(1), axes)) {
          auto *attr = node.add_attribute();
          attr->set_name("axes");
          attr->set_type(::onnx::AttributeProto::INTS);
          for (int64_t a : axes)
            attr->add_ints(a);
        }
        if (node.input_size() > 1)
          node.mutable_input()->DeleteSubrange(1, node.input_size() - 1);
      } else if (const auto *schema =
                     ::onnx::OpSchemaRegistry::Schema(op, known)) {
        dropNewAttributes(i, node, *schema);
      }
    }
  }
  ~SchemaShim() {
    model.mutable_opset_import(opsetIndex)->set_version(savedOpset);
    auto *nodes = model.mutable_graph()->mutable_node();
    for (auto &[index, node] : saved)
      nodes->Mutable(index)->Swap(&node);
  }
  /// Whether the model is checked against older schemas than its opset's.
  bool active() const { return savedOpset != model.opset_import(opsetIndex).version(); }

private:
  /// Attributes added after opset 17 whose default keeps the opset-17
  /// meaning as far as types and shapes go (Cast's `saturate`, Split's
  /// `num_outputs`, ...): the opset-17 schema does not know them.
  void dropNewAttributes(int index, ::onnx::NodeProto &node,
                         const ::onnx::OpSchema &schema) {
    auto *attrs = node.mutable_attribute();
    auto isNew = [&](const ::onnx::AttributeProto &a) {
      return !schema.attributes().count(a.name());
    };
    if (llvm::none_of(*attrs, isNew))
      return;
    saved.emplace_back(index, node);
    for (int a = attrs->size() - 1; a >= 0; --a)
      if (isNew(attrs->Get(a)))
        attrs->DeleteSubrange(a, 1);
  }

  ::onnx::ModelProto &model;
  int opsetIndex;
  int64_t savedOpset;
  std::vector<std::pair<int, ::onnx::NodeProto>> saved;
};

llvm::Error ModelImporter::checkAndInferShapes() {
  registerAttentionSchema();
  SchemaShim shim(model, opsetIndex,
                  [this](const std::string &n, std::vector<int64_t> &v) {
                    return constantInts(n, v);
                  });
  try {
    ::onnx::checker::CheckerContext checkCtx;
    checkCtx.set_ir_version(static_cast<int>(model.ir_version()));
    std::unordered_map<std::string, int> opsets;
    for (const auto &o : model.opset_import())
      opsets[o.domain()] = static_cast<int>(o.version());
    checkCtx.set_opset_imports(opsets);
    checkCtx.set_model_dir(modelDir);
    ::onnx::checker::LexicalScopeContext lex;
    ::onnx::checker::check_graph(graph, checkCtx, lex);
  } catch (const std::exception &e) {
    std::string what = e.what();
    // The checker appends the offending node's proto text: keep line one.
    return error("the model is invalid: " + what.substr(0, what.find('\n')));
  }
  // Opsets 18 to 23 widened many type constraints (bfloat16 in opset 22):
  // the opset-17 schemas' constraints would refuse those, so the dialect's
  // verifiers check the types instead.
  if (llvm::Error err = imp::inferShapes(
          model,
          [this](const ::onnx::NodeProto &node) {
            return describeNode(node, model);
          },
          /*checkTypeConstraints=*/!shim.active()))
    return err;
  for (const auto &v : graph.input())
    inferredTypes[v.name()] = &v.type();
  for (const auto &v : graph.value_info())
    inferredTypes[v.name()] = &v.type();
  for (const auto &v : graph.output())
    if (v.type().has_tensor_type())
      inferredTypes[v.name()] = &v.type();
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Building the function
//===----------------------------------------------------------------------===//

Type ModelImporter::typeOf(const std::string &name) {
  auto it = inferredTypes.find(name);
  if (it == inferredTypes.end())
    return {};
  return imp::tensorType(*it->second, ctx);
}

Location ModelImporter::locOf(const ::onnx::NodeProto &node) {
  std::string name = node.name();
  if (name.empty())
    name = node.op_type() + (node.output_size() ? ":" + node.output(0) : "");
  return NameLoc::get(StringAttr::get(&ctx, name));
}

llvm::Expected<Attribute>
ModelImporter::convertAttribute(const ::onnx::NodeProto &node,
                                ::onnx::AttributeProto &attr) {
  using AP = ::onnx::AttributeProto;
  const std::string &op = node.op_type();
  if (op == "Cast" && attr.name() == "to")
    return Attribute(TypeAttr::get(imp::elementType(attr.i(), ctx)));
  auto si64 = IntegerType::get(&ctx, 64, IntegerType::Signed);
  switch (attr.type()) {
  case AP::INT:
    return Attribute(IntegerAttr::get(si64, attr.i()));
  case AP::FLOAT:
    return Attribute(builder.getF32FloatAttr(attr.f()));
  case AP::STRING:
    return Attribute(builder.getStringAttr(attr.s()));
  case AP::INTS: {
    SmallVector<int64_t> v(attr.ints().begin(), attr.ints().end());
    return Attribute(builder.getI64ArrayAttr(v));
  }
  case AP::FLOATS: {
    SmallVector<float> v(attr.floats().begin(), attr.floats().end());
    return Attribute(builder.getF32ArrayAttr(v));
  }
  case AP::STRINGS: {
    SmallVector<StringRef> v(attr.strings().begin(), attr.strings().end());
    return Attribute(builder.getStrArrayAttr(v));
  }
  case AP::TENSOR: {
    auto value = imp::importTensor(*attr.mutable_t(), modelDir, ctx);
    if (!value)
      return value.takeError();
    return Attribute(*value);
  }
  default:
    return error(formatv("node {0}: attribute '{1}' has an unsupported type",
                         describeNode(node, model), attr.name()));
  }
}

/// The `value` of a Constant node, from whichever value_* attribute it has.
static llvm::Expected<ElementsAttr>
constantValue(::onnx::NodeProto &node, StringRef modelDir, MLIRContext &ctx) {
  for (auto &attr : *node.mutable_attribute()) {
    const std::string &n = attr.name();
    auto f32 = Float32Type::get(&ctx);
    auto i64 = IntegerType::get(&ctx, 64);
    if (n == "value")
      return imp::importTensor(*attr.mutable_t(), modelDir, ctx);
    if (n == "value_float")
      return cast<ElementsAttr>(DenseElementsAttr::get(
          RankedTensorType::get({}, f32), llvm::ArrayRef<float>(attr.f())));
    if (n == "value_int")
      return cast<ElementsAttr>(DenseElementsAttr::get(
          RankedTensorType::get({}, i64), llvm::ArrayRef<int64_t>(attr.i())));
    if (n == "value_floats") {
      SmallVector<float> v(attr.floats().begin(), attr.floats().end());
      return cast<ElementsAttr>(DenseElementsAttr::get(
          RankedTensorType::get({int64_t(v.size())}, f32), llvm::ArrayRef(v)));
    }
    if (n == "value_ints") {
      SmallVector<int64_t> v(attr.ints().begin(), attr.ints().end());
      return cast<ElementsAttr>(DenseElementsAttr::get(
          RankedTensorType::get({int64_t(v.size())}, i64), llvm::ArrayRef(v)));
    }
  }
  return error(formatv("Constant node '{0}' has no supported value attribute",
                       node.name()));
}

llvm::Error ModelImporter::buildNode(const ::onnx::NodeProto &constNode) {
  auto &node = const_cast<::onnx::NodeProto &>(constNode);
  const std::string &op = node.op_type();
  Location loc = locOf(node);

  if (op == "Constant") {
    auto value = constantValue(node, modelDir, ctx);
    if (!value)
      return value.takeError();
    values[node.output(0)] = builder.create<dialect::ConstantOp>(loc, *value);
    return llvm::Error::success();
  }

  OperationState state(loc, "onnx." + op);
  // Operands: ONNX marks an absent optional input with an empty name.
  SmallVector<int32_t> segments;
  for (const auto &in : node.input()) {
    if (in.empty()) {
      segments.push_back(0);
      continue;
    }
    state.operands.push_back(values.lookup(in));
    segments.push_back(1);
  }
  if (axesWasAttribute(op, opset)) {
    for (const auto &attr : node.attribute())
      if (attr.name() == "axes") {
        SmallVector<int64_t> axes(attr.ints().begin(), attr.ints().end());
        auto type =
            RankedTensorType::get({int64_t(axes.size())}, builder.getI64Type());
        state.operands.push_back(builder.create<dialect::ConstantOp>(
            loc, cast<ElementsAttr>(
                     DenseElementsAttr::get(type, llvm::ArrayRef(axes)))));
      }
  }
  static const llvm::StringMap<size_t> segmentedOps = {
      {"Clip", 3},        {"Slice", 5},
      {"Dropout", 3},     {"Pad", 4},
      {"Resize", 4},      {"MatMulInteger", 4},
      {"Attention", 6},   {"RNN", 6},
      {"GRU", 6},         {"LSTM", 8},
      {"DFT", 3},         {"STFT", 4},
      {"ConvInteger", 4}, {"NonMaxSuppression", 5}};
  if (auto it = segmentedOps.find(op); it != segmentedOps.end()) {
    size_t total = it->second;
    segments.resize(total, 0);
    state.addAttribute("operandSegmentSizes",
                       builder.getDenseI32ArrayAttr(segments));
  }

  // Attributes.
  for (auto &attr : *node.mutable_attribute()) {
    if (axesWasAttribute(op, opset) && attr.name() == "axes")
      continue;
    auto converted = convertAttribute(node, attr);
    if (!converted)
      return converted.takeError();
    state.addAttribute(attr.name(), *converted);
  }
  // From opset 20 DFT's axis is an input whose default is -2 (the
  // attribute's default was 1).
  // RoiAlign before opset 16 had no coordinate_transformation_mode and
  // behaved as output_half_pixel (16's default is half_pixel).
  if (op == "RoiAlign" && opset < 16 &&
      !state.attributes.get("coordinate_transformation_mode"))
    state.addAttribute("coordinate_transformation_mode",
                       builder.getStringAttr("output_half_pixel"));
  if (op == "DFT" && opset >= 20)
    state.addAttribute("axis", builder.getI64IntegerAttr(-2));
  if (op == "Transpose" && !state.attributes.get("perm")) {
    auto type = dyn_cast<RankedTensorType>(state.operands[0].getType());
    if (!type)
      return error(
          formatv("node {0}: Transpose without perm needs a ranked input",
                  describeNode(node, model)));
    SmallVector<int64_t> perm;
    for (int64_t i = type.getRank() - 1; i >= 0; --i)
      perm.push_back(i);
    state.addAttribute("perm", builder.getI64ArrayAttr(perm));
  }

  // Results: ONNX's inferred types where it has them. Optional outputs that
  // are absent (empty names) get no result.
  SmallVector<std::string> outputs;
  for (const auto &out : node.output())
    outputs.push_back(out);
  // Trailing absent outputs get no result; LayerNormalization's InvStdDev
  // without Mean still gets a (unused) Mean result before it.
  while (!outputs.empty() && outputs.back().empty())
    outputs.pop_back();
  SmallVector<bool> known;
  for (const auto &out : outputs) {
    Type t = typeOf(out);
    known.push_back(bool(t));
    state.types.push_back(t ? t
                            : UnrankedTensorType::get(builder.getF32Type()));
  }
  Operation *created = builder.create(state);
  if (llvm::is_contained(known, false))
    if (auto iface = dyn_cast<dialect::ShapeInferenceOpInterface>(created)) {
      SmallVector<Type> types;
      if (succeeded(iface.inferResultTypes(types)) &&
          types.size() == created->getNumResults())
        for (unsigned i = 0; i < types.size(); ++i)
          if (!known[i])
            created->getResult(i).setType(types[i]);
    }
  bool changed;
  if (failed(dialect::refineResultTypes(created, changed)))
    return error("type inference failed");
  for (auto [out, result] : llvm::zip(outputs, created->getResults()))
    if (!out.empty())
      values[out] = result;
  return llvm::Error::success();
}

llvm::Expected<OwningOpRef<ModuleOp>> ModelImporter::build() {
  Location fileLoc = builder.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  module->getOperation()->setAttr("onnx.opset",
                                  builder.getI64IntegerAttr(opset));
  module->getOperation()->setAttr(
      "onnx.ir_version", builder.getI64IntegerAttr(model.ir_version()));
  if (!model.producer_name().empty())
    module->getOperation()->setAttr(
        "onnx.producer",
        builder.getStringAttr(model.producer_name() +
                              (model.producer_version().empty()
                                   ? ""
                                   : " " + model.producer_version())));

  // Signature: graph inputs that are not initializers.
  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  std::vector<std::string> argNames;
  for (const auto &in : graph.input()) {
    if (constants.count(in.name()))
      continue;
    Type t = imp::tensorType(in.type(), ctx);
    if (!t)
      return error(formatv(
          "graph input '{0}' is not a tensor of a supported "
          "element type ({1})",
          in.name(), imp::dataTypeName(in.type().tensor_type().elem_type())));
    argTypes.push_back(t);
    argNames.push_back(in.name());
    SmallVector<NamedAttribute> attrs = {
        builder.getNamedAttr("onnx.name", builder.getStringAttr(in.name()))};
    SmallVector<Attribute> dimParams;
    bool anyParam = false;
    for (const auto &d : in.type().tensor_type().shape().dim()) {
      dimParams.push_back(builder.getStringAttr(d.dim_param()));
      anyParam |= !d.dim_param().empty() && !d.has_dim_value();
    }
    if (anyParam)
      attrs.push_back(builder.getNamedAttr("onnx.dim_params",
                                           builder.getArrayAttr(dimParams)));
    argAttrs.push_back(builder.getDictionaryAttr(attrs));
  }

  // Later stages find the graph by its `tessera.entry` mark, not its name.
  auto func = func::FuncOp::create(fileLoc, "main_graph",
                                   builder.getFunctionType(argTypes, {}));
  fused::markEntryFunction(func);
  module->push_back(func);
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  for (auto [name, arg] : llvm::zip(argNames, entry->getArguments()))
    values[name] = arg;
  for (unsigned i = 0; i < argAttrs.size(); ++i)
    func.setArgAttrs(i, argAttrs[i]);

  for (auto &t : *graph.mutable_initializer()) {
    if (values.count(t.name()))
      continue;
    auto value = imp::importTensor(t, modelDir, ctx);
    if (!value)
      return value.takeError();
    values[t.name()] = builder.create<dialect::ConstantOp>(
        NameLoc::get(builder.getStringAttr(t.name())), *value);
  }
  for (const auto &node : graph.node())
    if (llvm::Error err = buildNode(node))
      return std::move(err);

  SmallVector<Value> results;
  for (const auto &out : graph.output())
    results.push_back(values.lookup(out.name()));
  builder.create<func::ReturnOp>(fileLoc, results);
  SmallVector<Type> resultTypes;
  for (Value v : results)
    resultTypes.push_back(v.getType());
  func.setFunctionType(builder.getFunctionType(argTypes, resultTypes));
  for (auto [i, out] : llvm::enumerate(graph.output())) {
    func.setResultAttr(i, "onnx.name", builder.getStringAttr(out.name()));
    SmallVector<Attribute> dimParams;
    bool anyParam = false;
    for (const auto &d : out.type().tensor_type().shape().dim()) {
      dimParams.push_back(builder.getStringAttr(d.dim_param()));
      anyParam |= !d.dim_param().empty() && !d.has_dim_value();
    }
    if (anyParam)
      func.setResultAttr(i, "onnx.dim_params",
                         builder.getArrayAttr(dimParams));
  }

  if (failed(verify(*module)))
    return error("the imported module does not verify");
  return std::move(module);
}

llvm::Expected<OwningOpRef<ModuleOp>> ModelImporter::run() {
  if (llvm::Error err = checkModel())
    return std::move(err);
  if (opset < kMinOpset)
    if (llvm::Error err = liftOldOpset())
      return std::move(err);
  if (llvm::Error err = checkMergedDecoder())
    return std::move(err);
  if (llvm::Error err = checkNodes())
    return std::move(err);
  if (llvm::Error err = checkGraphNames())
    return std::move(err);
  if (llvm::Error err = checkDataflow())
    return std::move(err);
  if (llvm::Error err = checkTensors())
    return std::move(err);
  if (llvm::Error err = pinInputShapes())
    return std::move(err);
  bool hasIf = llvm::any_of(graph.node(), imp::isIfNode);
  if (llvm::Error err = checkAndInferShapes())
    return std::move(err);
  // The taken branches of If nodes are part of the graph now.
  if (hasIf) {
    if (llvm::Error err = checkNodes())
      return std::move(err);
    if (llvm::Error err = checkGraphNames())
      return std::move(err);
  }
  return build();
}

} // namespace

std::vector<OperatorSupport> operatorSupport() {
  std::map<std::string, OperatorSupport> ops;
  for (const ::onnx::OpSchema &schema :
       ::onnx::OpSchemaRegistry::get_all_schemas())
    if (isDefaultDomain(schema.domain()) && !schema.Deprecated())
      ops[schema.Name()].name = schema.Name();
  for (const auto &[name, since] : supportedOps())
    ops[name.str()] = {name.str(), since, ""};
  std::vector<OperatorSupport> result;
  for (auto &[name, op] : ops) {
    if (!op.sinceOpset)
      op.reason = unsupportedReasons().lookup(name).str();
    if (!op.sinceOpset && op.reason.empty())
      op.reason = "not implemented yet";
    result.push_back(op);
  }
  return result;
}

namespace {

bool looksLikeText(StringRef bytes) {
  StringRef trimmed = bytes.ltrim();
  while (trimmed.starts_with("#")) // comment lines (lit RUN lines)
    trimmed = trimmed.drop_until([](char c) { return c == '\n'; }).ltrim();
  return trimmed.starts_with("<");
}

} // namespace

llvm::Error parseShapeOption(StringRef spec, ImportOptions &options) {
  auto [name, dims] = spec.rsplit('=');
  if (name.empty() || dims.empty() || name == spec)
    return error(formatv(
        "--shape '{0}': expected NAME=DIMS, e.g. input_ids=1x128", spec));
  std::vector<int64_t> shape;
  SmallVector<StringRef> parts;
  dims.split(parts, 'x');
  for (StringRef p : parts) {
    int64_t d;
    if (p == "?") {
      shape.push_back(-1);
    } else if (p.getAsInteger(10, d) || d < 0) {
      return error(formatv("--shape '{0}': '{1}' is not a dimension (use a "
                           "non-negative integer or ?)",
                           spec, p));
    } else {
      shape.push_back(d);
    }
  }
  options.inputShapes.emplace_back(name.str(), std::move(shape));
  return llvm::Error::success();
}

llvm::Expected<OwningOpRef<ModuleOp>>
importONNXBuffer(StringRef bytes, StringRef modelDir, MLIRContext &context,
                 const ImportOptions &options) {
  context.loadDialect<dialect::ONNXDialect, func::FuncDialect>();
  if (bytes.empty())
    return error("the file is empty, not an ONNX model");

  ::onnx::ModelProto model;
  bool text = options.textFormat.value_or(looksLikeText(bytes));
  if (text) {
    std::string source = bytes.str();
    // libonnx's parser converts literals with std::stof/stol, which throw
    // (e.g. on "-inf" or an out-of-range number) instead of returning a status.
    try {
      ::onnx::OnnxParser parser(source.c_str());
      auto status = parser.Parse(model);
      if (!status.IsOK())
        return error("cannot parse the ONNX text: " + status.ErrorMessage());
    } catch (const std::exception &e) {
      return error(std::string("cannot parse the ONNX text: bad literal (") +
                   e.what() + ")");
    }
  } else {
    google::protobuf::io::ArrayInputStream raw(bytes.data(),
                                               static_cast<int>(bytes.size()));
    google::protobuf::io::CodedInputStream coded(&raw);
    coded.SetTotalBytesLimit(INT_MAX);
    if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
      return error("not a valid ONNX model: the protobuf is malformed or "
                   "truncated");
  }

  // Diagnostics from building and verifying name the node they come from.
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() != DiagnosticSeverity::Error)
      return success();
    std::string where;
    if (auto name = dyn_cast<NameLoc>(diag.getLocation()))
      where = "node '" + name.getName().str() + "': ";
    diagnostics += (diagnostics.empty() ? "" : "\n") + where + diag.str();
    return success();
  });
  if (!model.has_graph())
    return error("the model has no graph (is this an ONNX model?)");
  ModelImporter importer(model, modelDir, context, options);
  auto module = importer.run();
  if (!module && !diagnostics.empty()) {
    llvm::consumeError(module.takeError());
    return error(diagnostics);
  }
  return module;
}

llvm::Expected<OwningOpRef<ModuleOp>>
importONNXFile(StringRef path, MLIRContext &context,
               const ImportOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return error(
        formatv("cannot open '{0}': {1}", path, buffer.getError().message()));
  ImportOptions opts = options;
  if (!opts.textFormat && path.ends_with(".onnxtxt"))
    opts.textFormat = true;
  StringRef dir = llvm::sys::path::parent_path(path);
  auto module = importONNXBuffer((*buffer)->getBuffer(),
                                 dir.empty() ? "." : dir, context, opts);
  if (!module)
    return error(formatv("{0}: {1}", path, llvm::toString(module.takeError())));
  return module;
}

} // namespace tessera
