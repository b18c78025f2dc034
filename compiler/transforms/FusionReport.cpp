//===- FusionReport.cpp - fusion remarks and their collection -------------===//

#include "compiler/transforms/FusionReport.h"

#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/PatternApplicator.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;

namespace tessera {

ArrayRef<StringLiteral> fusionKinds() {
  static const StringLiteral kinds[] = {
      "layer_norm recogniser",  "rms_norm recogniser",
      "rotary recogniser",      "gated mlp (tessera.matmul)",
      "gelu recogniser",        "tessera.attention",
      "tessera.qkv_projection", "rotary in tessera.qkv_projection",
      "tessera.add_layer_norm",
      "tessera.add_rms_norm",   "tessera.matmul"};
  return kinds;
}

void reportFused(Operation *op, StringRef kind) {
  op->emitRemark() << "fused " << kind;
}

void reportNotFused(Operation *anchor, StringRef kind, const Twine &reason) {
  anchor->emitRemark() << "not fused " << kind << ": " << reason;
}

namespace {

/// Remembers the erased ops and the last reason a pattern gave for a failed
/// match.
struct CandidateListener : RewriterBase::Listener {
  llvm::DenseSet<Operation *> erased;
  std::string reason;

  void notifyOperationErased(Operation *op) override { erased.insert(op); }
  void notifyMatchFailure(Location loc,
                          function_ref<void(Diagnostic &)> fill) override {
    Diagnostic diag(loc, DiagnosticSeverity::Remark);
    fill(diag);
    reason = diag.str();
  }
};

class CandidateRewriter : public PatternRewriter {
public:
  explicit CandidateRewriter(MLIRContext *ctx, Listener *listener)
      : PatternRewriter(ctx) {
    setListener(listener);
  }
};

} // namespace

void applyToCandidates(const FrozenRewritePatternSet &patterns,
                       ArrayRef<Operation *> candidates, StringRef kind,
                       bool report) {
  if (candidates.empty())
    return;
  PatternApplicator applicator(patterns);
  applicator.applyDefaultCostModel();
  CandidateListener listener;
  CandidateRewriter rewriter(candidates.front()->getContext(), &listener);
  for (Operation *op : candidates) {
    if (listener.erased.contains(op))
      continue;
    listener.reason.clear();
    rewriter.setInsertionPoint(op);
    if (succeeded(applicator.matchAndRewrite(op, rewriter)))
      continue;
    if (report && !listener.reason.empty())
      reportNotFused(op, kind, listener.reason);
  }
}

void applyToCandidates(void (*populate)(RewritePatternSet &, bool),
                       ArrayRef<Operation *> candidates, StringRef kind,
                       bool report) {
  if (candidates.empty())
    return;
  RewritePatternSet patterns(candidates.front()->getContext());
  populate(patterns, report);
  applyToCandidates(FrozenRewritePatternSet(std::move(patterns)), candidates,
                    kind, report);
}

std::string nodeName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations()) {
      std::string n = nodeName(inner);
      if (n != "?")
        return n;
    }
  if (auto callsite = dyn_cast<CallSiteLoc>(loc))
    return nodeName(callsite.getCallee());
  return "?";
}

FusionReport::FusionReport(MLIRContext *ctx) : ctx(ctx) {
  handler = ctx->getDiagEngine().registerHandler([this](Diagnostic &diag) {
    if (diag.getSeverity() != DiagnosticSeverity::Remark)
      return failure();
    std::string text = diag.str();
    StringRef msg(text);
    if (msg.consume_front("fused ")) {
      ++fused[msg.str()];
      return success();
    }
    if (msg.consume_front("not fused ")) {
      auto [kind, reason] = msg.split(": ");
      kind.consume_front("tessera.");
      missed.push_back((kind + " at " + nodeName(diag.getLocation()) +
                        " not fused: " + reason)
                           .str());
      return success();
    }
    return failure();
  });
}

FusionReport::~FusionReport() { ctx->getDiagEngine().eraseHandler(handler); }

void FusionReport::print(raw_ostream &os) const {
  for (StringRef kind : fusionKinds()) {
    auto it = fused.find(kind.str());
    os << "fused " << kind << ": " << (it == fused.end() ? 0 : it->second)
       << "\n";
  }
  for (const auto &[kind, n] : fused)
    if (!llvm::is_contained(fusionKinds(), kind))
      os << "fused " << kind << ": " << n << "\n";
  for (const std::string &line : missed)
    os << line << "\n";
  if (missed.empty())
    os << "unfused candidates: none\n";
}

} // namespace tessera
