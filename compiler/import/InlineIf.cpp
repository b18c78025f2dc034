//===- InlineIf.cpp - Inlining If nodes with constant conditions ----------===//

#include "compiler/import/InlineIf.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"

namespace tessera::importer {
namespace {

using Ints = std::vector<int64_t>;

/// Folds the small integer computations exporters build conditions from.
class ConditionEvaluator {
public:
  ConditionEvaluator(const onnx::GraphProto &graph, int index,
                     const KnownInts &known)
      : known(known) {
    for (int i = 0; i < index; ++i)
      for (const auto &out : graph.node(i).output())
        producers[out] = &graph.node(i);
  }

  std::optional<Ints> value(const std::string &name, int depth = 0) {
    if (auto v = known(name))
      return v;
    auto it = producers.find(name);
    if (it == producers.end() || depth > kMaxDepth)
      return std::nullopt;
    return evaluate(*it->second, depth + 1);
  }

private:
  static constexpr int kMaxDepth = 32;

  std::optional<Ints> evaluate(const onnx::NodeProto &node, int depth) {
    const std::string &op = node.op_type();
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      return std::nullopt;
    if (node.input_size() == 0 || node.output_size() != 1)
      return std::nullopt;
    auto x = value(node.input(0), depth);
    if (!x)
      return std::nullopt;
    // Element-preserving ops: the values do not change.
    if (llvm::is_contained({"Identity", "Squeeze", "Unsqueeze", "Reshape",
                            "Flatten", "Cast"},
                           op))
      return castIfBool(node, *x);
    if (op == "Not")
      return map(*x, [](int64_t a) { return int64_t(a == 0); });
    if (op == "Gather" && node.input_size() == 2) {
      auto indices = value(node.input(1), depth);
      if (!indices || llvm::any_of(node.attribute(), [](const auto &a) {
            return a.name() == "axis" && a.i() != 0;
          }))
        return std::nullopt;
      Ints out;
      int64_t n = static_cast<int64_t>(x->size());
      for (int64_t i : *indices) {
        if (i < -n || i >= n)
          return std::nullopt;
        out.push_back((*x)[i < 0 ? i + n : i]);
      }
      return out;
    }
    if (node.input_size() != 2)
      return std::nullopt;
    auto y = value(node.input(1), depth);
    if (!y)
      return std::nullopt;
    using Fn = int64_t (*)(int64_t, int64_t);
    static const llvm::StringMap<Fn> binary = {
        {"Equal", [](int64_t a, int64_t b) { return int64_t(a == b); }},
        {"Less", [](int64_t a, int64_t b) { return int64_t(a < b); }},
        {"LessOrEqual", [](int64_t a, int64_t b) { return int64_t(a <= b); }},
        {"Greater", [](int64_t a, int64_t b) { return int64_t(a > b); }},
        {"GreaterOrEqual",
         [](int64_t a, int64_t b) { return int64_t(a >= b); }},
        {"And", [](int64_t a, int64_t b) { return int64_t(a && b); }},
        {"Or", [](int64_t a, int64_t b) { return int64_t(a || b); }},
        {"Xor", [](int64_t a, int64_t b) { return int64_t(!a != !b); }},
        {"Add", [](int64_t a, int64_t b) { return a + b; }},
        {"Sub", [](int64_t a, int64_t b) { return a - b; }},
        {"Mul", [](int64_t a, int64_t b) { return a * b; }}};
    auto fn = binary.find(op);
    if (fn == binary.end())
      return std::nullopt;
    return broadcast(*x, *y, fn->second);
  }

  /// A Cast to bool makes every non-zero element 1.
  static Ints castIfBool(const onnx::NodeProto &node, Ints v) {
    bool toBool = node.op_type() == "Cast" &&
                  llvm::any_of(node.attribute(), [](const auto &a) {
                    return a.name() == "to" &&
                           a.i() == onnx::TensorProto::BOOL;
                  });
    return toBool ? map(v, [](int64_t a) { return int64_t(a != 0); }) : v;
  }

  template <typename F> static Ints map(const Ints &v, F f) {
    Ints out;
    for (int64_t a : v)
      out.push_back(f(a));
    return out;
  }

  /// Elementwise on equal sizes or against a single element.
  template <typename F>
  static std::optional<Ints> broadcast(const Ints &x, const Ints &y, F f) {
    if (x.size() != y.size() && x.size() != 1 && y.size() != 1)
      return std::nullopt;
    Ints out;
    for (size_t i = 0, n = std::max(x.size(), y.size()); i < n; ++i)
      out.push_back(f(x[x.size() == 1 ? 0 : i], y[y.size() == 1 ? 0 : i]));
    return out;
  }

  const KnownInts &known;
  llvm::StringMap<const onnx::NodeProto *> producers;
};

} // namespace

bool isIfNode(const onnx::NodeProto &node) {
  return node.op_type() == "If" &&
         (node.domain().empty() || node.domain() == "ai.onnx");
}

std::optional<bool> evaluateIfCondition(const onnx::GraphProto &graph,
                                        int index, const KnownInts &known) {
  const onnx::NodeProto &node = graph.node(index);
  if (node.input_size() != 1)
    return std::nullopt;
  auto v = ConditionEvaluator(graph, index, known).value(node.input(0));
  if (!v || v->size() != 1)
    return std::nullopt;
  return (*v)[0] != 0;
}

void spliceIfBranch(onnx::GraphProto &graph, int index, bool thenBranch) {
  auto &nodes = *graph.mutable_node();
  onnx::NodeProto *ifNode = nodes.Mutable(index);
  onnx::GraphProto branch;
  for (auto &attr : *ifNode->mutable_attribute())
    if (attr.name() == (thenBranch ? "then_branch" : "else_branch"))
      branch.Swap(attr.mutable_g());
  std::string name =
      !ifNode->name().empty() ? ifNode->name() : "If:" + ifNode->output(0);

  std::vector<onnx::NodeProto *> spliced;
  int count = branch.node_size();
  spliced.resize(count);
  branch.mutable_node()->ExtractSubrange(0, count, spliced.data());
  for (int i = 0; i < branch.output_size() && i < ifNode->output_size(); ++i) {
    if (ifNode->output(i).empty())
      continue;
    auto *identity = new onnx::NodeProto();
    identity->set_op_type("Identity");
    identity->set_name(name);
    identity->add_input(branch.output(i).name());
    identity->add_output(ifNode->output(i));
    spliced.push_back(identity);
  }
  for (auto &t : *branch.mutable_initializer())
    graph.add_initializer()->Swap(&t);

  // Rebuild the list around the If; the other nodes keep their objects.
  int total = nodes.size();
  std::vector<onnx::NodeProto *> all(total);
  nodes.ExtractSubrange(0, total, all.data());
  delete all[index];
  for (int i = 0; i < index; ++i)
    nodes.AddAllocated(all[i]);
  for (onnx::NodeProto *n : spliced)
    nodes.AddAllocated(n);
  for (int i = index + 1; i < total; ++i)
    nodes.AddAllocated(all[i]);
}

} // namespace tessera::importer
