//===- FusionReport.h - fusion remarks and the report -----------*- C++ -*-===//
//
// Part of Tessera. Fusion passes with their `report` option on emit one MLIR
// remark per fusion and per candidate left unfused; tessera-compile
// --fusion-report collects them into counts and reasons.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_TRANSFORMS_FUSIONREPORT_H
#define TESSERA_COMPILER_TRANSFORMS_FUSIONREPORT_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"

#include <map>
#include <string>
#include <vector>

namespace tessera {

/// The kinds the report counts, in the order it prints them.
llvm::ArrayRef<llvm::StringLiteral> fusionKinds();

/// Remark "fused KIND" at `op` (the fused op, at the anchor's location).
void reportFused(mlir::Operation *op, llvm::StringRef kind);

/// Remark "not fused KIND: REASON" at `anchor`, the candidate's key node.
void reportNotFused(mlir::Operation *anchor, llvm::StringRef kind,
                    const llvm::Twine &reason);

/// The fusion driver: applies `patterns` once to each op of `candidates`, in
/// order, skipping the ones an earlier rewrite erased. No folding and no
/// revisiting, so each candidate is matched exactly once. With `report`,
/// every candidate the patterns reject with a reason (notifyMatchFailure) is
/// reported as not fused with that reason; a plain failure() means "not a
/// candidate after all" and is not reported. The patterns report their
/// fusions themselves (reportFused).
void applyToCandidates(const mlir::FrozenRewritePatternSet &patterns,
                       llvm::ArrayRef<mlir::Operation *> candidates,
                       llvm::StringRef kind, bool report);

/// The same with the patterns `populate(patterns, report)` adds: the body of
/// every fusion pass once it has collected its candidates.
void applyToCandidates(void (*populate)(mlir::RewritePatternSet &, bool),
                       llvm::ArrayRef<mlir::Operation *> candidates,
                       llvm::StringRef kind, bool report);

/// A fusion as a pattern on its candidate ops `OpTy`. `Derived` provides
///   std::optional<M> matchCandidate(OpTy op, std::string &why) const;
///   mlir::Operation *rewriteMatch(OpTy op, M &match,
///                                 mlir::PatternRewriter &rewriter) const;
/// matchCandidate returns the match, or nothing with the reason the candidate
/// is not fused (empty: not a candidate after all); rewriteMatch returns the
/// fused op, reported as `kind` with `report`.
template <typename OpTy, typename Derived>
struct FusionPattern : mlir::OpRewritePattern<OpTy> {
  FusionPattern(mlir::MLIRContext *ctx, llvm::StringRef kind, bool report)
      : mlir::OpRewritePattern<OpTy>(ctx), kind(kind), report(report) {}

  mlir::LogicalResult
  matchAndRewrite(OpTy op, mlir::PatternRewriter &rewriter) const final {
    std::string why;
    auto m = static_cast<const Derived *>(this)->matchCandidate(op, why);
    if (!m)
      return why.empty() ? mlir::failure()
                         : rewriter.notifyMatchFailure(op, why);
    mlir::Operation *fusedOp =
        static_cast<const Derived *>(this)->rewriteMatch(op, *m, rewriter);
    if (report)
      reportFused(fusedOp, kind);
    return mlir::success();
  }

private:
  llvm::StringRef kind;
  bool report;
};

/// The ONNX node name a location carries ("?" if none).
std::string nodeName(mlir::Location loc);

/// Collects the remarks above while alive (other diagnostics pass through).
class FusionReport {
public:
  explicit FusionReport(mlir::MLIRContext *ctx);
  ~FusionReport();
  /// `fused KIND: N` for every kind, then one line per missed candidate.
  void print(llvm::raw_ostream &os) const;

private:
  mlir::MLIRContext *ctx;
  mlir::DiagnosticEngine::HandlerID handler;
  std::map<std::string, int> fused;
  std::vector<std::string> missed;
};

} // namespace tessera

#endif // TESSERA_COMPILER_TRANSFORMS_FUSIONREPORT_H
