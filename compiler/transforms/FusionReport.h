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

/// Matches every candidate in turn (`match(candidate, why)` returns a match,
/// or nothing and says why), rewrites each match with `rewrite(candidate,
/// match)`, and with `report` reports every miss at its candidate.
template <typename Candidate, typename MatchFn, typename RewriteFn>
void fuseCandidates(llvm::ArrayRef<Candidate> candidates, llvm::StringRef kind,
                    bool report, MatchFn match, RewriteFn rewrite) {
  for (Candidate candidate : candidates) {
    std::string why;
    auto m = match(candidate, why);
    if (!m) {
      if (report)
        reportNotFused(candidate, kind, why);
      continue;
    }
    rewrite(candidate, *m);
  }
}

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
