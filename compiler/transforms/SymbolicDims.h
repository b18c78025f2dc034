//===- SymbolicDims.h - dims as linear expressions of unknown dims -*- C++ -*-===//
//
// Part of Tessera. Proves relations between dynamic dimensions from the
// graph: a dim of a tensor, or the value of an exporter's shape arithmetic
// (Gather(Shape(x), k), Sub, Add, ...), as c + sum(k_i * d_i) over dims d_i
// that nothing simpler is known about (a function argument's dynamic dim,
// the dim of an op these rules do not see through). Two values with equal
// expressions are equal at run time; the fusions use this to prove that a
// mask built from shapes is the causal mask of the scores it masks, offset
// by the length of a key/value cache.
//
// What is taken on trust: inputs naming one dim_param agree (the runtime
// checks it); an elementwise op's dim is that of an operand of the same
// static shape (an exporter never relies on a dynamic dim broadcasting
// from 1); a Slice's end does not run past its data (a shorter mask would
// not broadcast to the scores in the model either; for the exports here
// the position tables bound the same lengths first).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_TRANSFORMS_SYMBOLICDIMS_H
#define TESSERA_COMPILER_TRANSFORMS_SYMBOLICDIMS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Value.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <optional>
#include <utility>

namespace tessera {

class DimExpr {
public:
  static DimExpr constant(int64_t c);
  /// Dim `axis` of `v`, as an unknown.
  static DimExpr dim(mlir::Value v, int64_t axis);
  /// A dim named by the model (ONNX dim_param): one unknown for every input
  /// that names it.
  static DimExpr named(mlir::StringAttr name);

  DimExpr operator+(const DimExpr &other) const;
  DimExpr operator-(const DimExpr &other) const;
  DimExpr scaled(int64_t factor) const;
  bool operator==(const DimExpr &other) const {
    return constant_ == other.constant_ && terms == other.terms;
  }
  bool operator!=(const DimExpr &other) const { return !(*this == other); }

  /// Provably >= 0: a nonnegative constant plus dims (each >= 0) with
  /// nonnegative coefficients.
  bool isNonNegative() const;
  std::optional<int64_t> getConstant() const;
  void print(llvm::raw_ostream &os) const;

private:
  int64_t constant_ = 0;
  std::map<std::pair<const void *, int64_t>, int64_t> terms; // no zeros
};

/// Dim `axis` of ranked tensor `v`, seen through the ops that pass dims on
/// (Transpose, Concat, Split, MatMul, Gather, Reshape by exporter shapes,
/// same-shape elementwise ops, tessera.attention); otherwise the dim itself
/// as an unknown. Null if `v` is unranked or `axis` out of range.
std::optional<DimExpr> dimOf(mlir::Value v, int64_t axis);

/// The value of a one-element integer tensor computed from constants and
/// dims (Gather/Slice of Shape, Squeeze, Unsqueeze, Cast, Add, Sub, Mul by a
/// constant), or null.
std::optional<DimExpr> valueOf(mlir::Value v);

} // namespace tessera

#endif // TESSERA_COMPILER_TRANSFORMS_SYMBOLICDIMS_H
