//===- FuseAttention.cpp - fuse scaled-softmax attention
//-------------------===//
//
// Part of Tessera. Anchored on onnx.Softmax: matches
//   MatMul(Q * a, K^T * b) [* or / c] [+ mask | Where(mask, ., fill)]
//   -> Softmax(last axis) -> MatMul(., V) [-> Transpose -> Reshape]
// in the forms torch exports (batch-first [B, H, S, Dh] heads, and
// nn.MultiheadAttention's seq-first [B*H, S, Dh] rank-3 heads) and rewrites it
// into tessera.attention. Q, K and V are left as the canonical head splits of
// their projections (see tessera-fuse-qkv): Transpose(0,2,1,3)(Reshape(proj,
// [B,S,H,Dh])) or Transpose(1,2,0,3)(Reshape(proj, [S,B,H,Dh])).
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/MatchUtils.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Patterns.h"
#include "compiler/transforms/SymbolicDims.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>
#include <optional>

namespace tessera {
#define GEN_PASS_DEF_FUSEATTENTION
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

constexpr StringLiteral kKind = "tessera.attention";
/// Reported with the fused attention: K/V head repeats read in place, and
/// dense additive masks taken as the causal flag.
constexpr StringLiteral kGroupedKind = "attention grouped-query K/V";
constexpr StringLiteral kCausalKind = "attention causal mask";

/// Below this, a fill value is treated like -inf on a causal mask: every
/// causal row keeps its diagonal, so exp(fill - rowmax) underflows to 0.
constexpr double kHugeNegative = -1e30;
/// The same for a mask folded to a constant: shape folding gives torch's
/// finfo.min fill as -2^63 (about -9.2e18; it goes through int64).
/// exp(-9.2e18 + s - rowmax) underflows just the same.
constexpr double kFoldedHugeNegative = -1e18;

/// Whether a fill `x` of a mask of element type `elt` masks like -inf: below
/// `threshold`, or, in a float type narrower than f32, at most half its
/// lowest finite value (an f16 export's finfo.min fill is -65504).
bool isHugeNegative(double x, Type elt, double threshold = kHugeNegative) {
  if (x <= threshold)
    return true;
  auto ft = dyn_cast<FloatType>(elt);
  return ft && ft.getWidth() < 32 &&
         x <= APFloat::getLargest(ft.getFloatSemantics(), /*Negative=*/true)
                      .convertToDouble() /
                  2;
}

/// One use besides onnx.Shape ops (dynamic-shape exports take the shape of
/// the scores; those Shapes die with the fused chain).
bool hasOneDataUse(Operation *op) {
  return dataUsers(op->getResult(0)).size() == 1;
}

RankedTensorType rankedType(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// A constant whose elements are all `true` (i1) or all nonzero, as a
/// Constant splat or a ConstantOfShape.
bool isAllTrue(Value v) {
  if (auto cast = v.getDefiningOp<onnx::CastOp>())
    return isAllTrue(cast.getInput());
  ElementsAttr attr;
  if (auto cst = v.getDefiningOp<onnx::ConstantOp>())
    attr = cst.getValue();
  else if (auto cos = v.getDefiningOp<onnx::ConstantOfShapeOp>()) {
    if (!cos.getValueAttr())
      return false; // the default is 0.0
    attr = *cos.getValue();
  }
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense)
    return false;
  if (auto ints = dyn_cast<DenseIntElementsAttr>(dense))
    return llvm::all_of(ints.getValues<APInt>(),
                        [](const APInt &x) { return !x.isZero(); });
  if (auto fps = dyn_cast<DenseFPElementsAttr>(dense))
    return llvm::all_of(fps.getValues<APFloat>(),
                        [](const APFloat &x) { return !x.isZero(); });
  return false;
}

/// Shape of the triangular pattern a boolean or float mask has over its last
/// two axes (all leading axes must be 1).
enum class Tri { Unknown, Lower, StrictUpper };

Tri flip(Tri t) {
  return t == Tri::Lower         ? Tri::StrictUpper
         : t == Tri::StrictUpper ? Tri::Lower
                                 : Tri::Unknown;
}

/// Only leading unit dimensions differ between `from` and `to`.
bool onlyLeadingUnitDims(Value from, Value to) {
  auto a = rankedType(from), b = rankedType(to);
  if (!a || !b || a.getRank() < 2 || b.getRank() < 2)
    return false;
  auto trailing = [](RankedTensorType t) {
    for (int64_t i = 0; i < t.getRank() - 2; ++i)
      if (t.getDimSize(i) != 1)
        return false;
    return true;
  };
  return trailing(a) && trailing(b) &&
         a.getShape().take_back(2) == b.getShape().take_back(2) &&
         !ShapedType::isDynamicShape(a.getShape().take_back(2));
}

/// Which of the last two axes of a 2-D comparison `v` indexes: Range(0, n, 1)
/// as is or unsqueezed to [1, n] varies along the columns (-1), unsqueezed to
/// [n, 1] along the rows (-2); 0 if neither.
int indexAxis(Value v) {
  if (auto cast = v.getDefiningOp<onnx::CastOp>())
    return indexAxis(cast.getInput());
  auto isRange = [](Value r) {
    auto range = r.getDefiningOp<onnx::RangeOp>();
    SmallVector<int64_t> start, delta;
    return range && onnx::getConstantInts(range.getStart(), start) &&
           onnx::getConstantInts(range.getDelta(), delta) &&
           start.size() == 1 && delta.size() == 1 && start[0] == 0 &&
           delta[0] == 1;
  };
  if (isRange(v))
    return -1;
  auto unsq = v.getDefiningOp<onnx::UnsqueezeOp>();
  SmallVector<int64_t> axes;
  if (!unsq || !isRange(unsq.getData()) ||
      !onnx::getConstantInts(unsq.getAxes(), axes) || axes.size() != 1)
    return 0;
  if (axes[0] == 0 || axes[0] == -2)
    return -1; // [1, n]
  if (axes[0] == 1 || axes[0] == -1)
    return -2; // [n, 1]
  return 0;
}

/// Range comparisons: col <= row keeps j <= i, col > row masks it, and the
/// same with the operands swapped.
Tri classifyCompare(Operation *def) {
  if (!isa<onnx::LessOp, onnx::LessOrEqualOp, onnx::GreaterOp,
           onnx::GreaterOrEqualOp>(def))
    return Tri::Unknown;
  int a = indexAxis(def->getOperand(0)), b = indexAxis(def->getOperand(1));
  bool colRow = a == -1 && b == -2, rowCol = a == -2 && b == -1;
  if (!colRow && !rowCol)
    return Tri::Unknown;
  // Normalise to "j OP i".
  bool le = isa<onnx::LessOrEqualOp>(def), lt = isa<onnx::LessOp>(def),
       ge = isa<onnx::GreaterOrEqualOp>(def), gt = isa<onnx::GreaterOp>(def);
  if (rowCol) {
    std::swap(le, ge);
    std::swap(lt, gt);
  }
  if (le)
    return Tri::Lower; // j <= i
  if (gt)
    return Tri::StrictUpper; // j > i
  return Tri::Unknown;
}

/// Classifies a constant-pattern i1 mask: Lower keeps j <= i, StrictUpper
/// keeps j > i (the usual "masked" form).
Tri classifyBool(Value v, int depth = 0) {
  if (depth > 8)
    return Tri::Unknown;
  Operation *def = v.getDefiningOp();
  if (!def)
    return Tri::Unknown;
  if (auto n = dyn_cast<onnx::NotOp>(def))
    return flip(classifyBool(n.getX(), depth + 1));
  if (Tri t = classifyCompare(def); t != Tri::Unknown)
    return t;
  if (auto c = dyn_cast<onnx::CastOp>(def)) {
    auto in = rankedType(c.getInput());
    if (in && in.getElementType().isInteger(1))
      return classifyBool(c.getInput(), depth + 1);
    return Tri::Unknown;
  }
  if (isa<onnx::UnsqueezeOp, onnx::ReshapeOp>(def))
    return onlyLeadingUnitDims(def->getOperand(0), v)
               ? classifyBool(def->getOperand(0), depth + 1)
               : Tri::Unknown;
  if (auto trilu = dyn_cast<onnx::TriluOp>(def)) {
    if (!isAllTrue(trilu.getInput()))
      return Tri::Unknown;
    SmallVector<int64_t> k = {0};
    if (trilu.getK() &&
        (!onnx::getConstantInts(trilu.getK(), k) || k.size() != 1))
      return Tri::Unknown;
    if (trilu.getUpper() && k[0] == 1)
      return Tri::StrictUpper;
    if (!trilu.getUpper() && k[0] == 0)
      return Tri::Lower;
    return Tri::Unknown;
  }
  if (auto slice = dyn_cast<onnx::SliceOp>(def)) {
    // The top-left block of a triangular pattern keeps its pattern.
    auto in = rankedType(slice.getData());
    SmallVector<int64_t> starts, axes, steps;
    if (!in || !onnx::getConstantInts(slice.getStarts(), starts))
      return Tri::Unknown;
    if (slice.getAxes() && !onnx::getConstantInts(slice.getAxes(), axes))
      return Tri::Unknown;
    if (slice.getSteps() && !onnx::getConstantInts(slice.getSteps(), steps))
      return Tri::Unknown;
    onnx::fillSliceDefaults(starts.size(), axes, steps);
    for (size_t i = 0; i < starts.size(); ++i) {
      int64_t axis = onnx::normalizeAxis(axes[i], in.getRank());
      if (steps[i] != 1 || (axis >= in.getRank() - 2 && starts[i] != 0))
        return Tri::Unknown;
    }
    return classifyBool(slice.getData(), depth + 1);
  }
  if (auto cst = dyn_cast<onnx::ConstantOp>(def)) {
    auto dense = dyn_cast<DenseIntElementsAttr>(cst.getValue());
    auto type = rankedType(v);
    if (!dense || !type || type.getRank() < 2 || !type.hasStaticShape())
      return Tri::Unknown;
    int64_t rows = type.getDimSize(type.getRank() - 2);
    int64_t cols = type.getDimSize(type.getRank() - 1);
    if (dense.getNumElements() != rows * cols)
      return Tri::Unknown;
    bool lower = true, upper = true;
    int64_t idx = 0;
    for (const APInt &x : dense.getValues<APInt>()) {
      int64_t i = idx / cols, j = idx % cols;
      bool set = !x.isZero();
      lower &= set == (j <= i);
      upper &= set == (j > i);
      ++idx;
    }
    return lower ? Tri::Lower : upper ? Tri::StrictUpper : Tri::Unknown;
  }
  return Tri::Unknown;
}

/// A float mask that is 0 on and below the diagonal and -inf (or below
/// kHugeNegative) above it.
bool isCausalFloat(Value v, int depth = 0) {
  if (depth > 8)
    return false;
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  if (isa<onnx::MulOp>(def)) {
    auto c = scalarConstant(def->getOperand(1)); // canonical: constant last
    return c && *c >= 1.0 && def->getOperand(0).getType() == v.getType() &&
           isCausalFloat(def->getOperand(0), depth + 1);
  }
  if (auto c = dyn_cast<onnx::CastOp>(def)) {
    auto in = rankedType(c.getInput());
    return in && isa<FloatType>(in.getElementType()) &&
           isCausalFloat(c.getInput(), depth + 1);
  }
  if (isa<onnx::UnsqueezeOp, onnx::ReshapeOp>(def))
    return onlyLeadingUnitDims(def->getOperand(0), v) &&
           isCausalFloat(def->getOperand(0), depth + 1);
  if (auto where = dyn_cast<onnx::WhereOp>(def)) {
    auto x = floatSplatConstant(where.getX()),
         y = floatSplatConstant(where.getY());
    if (!x || !y || !onlyLeadingUnitDims(where.getCondition(), v))
      return false;
    Tri t = classifyBool(where.getCondition());
    Type elt = getElementTypeOrSelf(v.getType());
    if (t == Tri::StrictUpper)
      return isHugeNegative(*x, elt) && *y == 0.0;
    if (t == Tri::Lower)
      return *x == 0.0 && isHugeNegative(*y, elt);
    return false;
  }
  return false;
}

/// A boolean pattern over the last two axes [rows, cols] of a mask: true
/// exactly where j > i + offset (`above`), or where j <= i + offset.
struct Band {
  bool above = false;
  DimExpr offset = DimExpr::constant(0), rows = DimExpr::constant(0),
          cols = DimExpr::constant(0);
};

/// Positions offset + t, t in [0, length), along the last (cols) or the
/// second-to-last (rows) axis of a comparison.
struct Positions {
  bool rows = false;
  DimExpr offset = DimExpr::constant(0), length = DimExpr::constant(0);
};

std::optional<Positions> positionsOf(Value v, int depth = 0) {
  if (depth > 8 || !v.getDefiningOp())
    return std::nullopt;
  Operation *def = v.getDefiningOp();
  if (isa<onnx::CastOp>(def))
    return positionsOf(def->getOperand(0), depth + 1);
  if (auto range = dyn_cast<onnx::RangeOp>(def)) {
    auto start = valueOf(range.getStart()), limit = valueOf(range.getLimit());
    if (!start || !limit || valueOf(range.getDelta()) != DimExpr::constant(1))
      return std::nullopt;
    return Positions{false, *start, *limit - *start};
  }
  if (isa<onnx::AddOp>(def)) { // positions + a shift
    for (int i = 0; i < 2; ++i) {
      auto shift = valueOf(def->getOperand(1 - i));
      auto p = shift ? positionsOf(def->getOperand(i), depth + 1)
                     : std::nullopt;
      if (p) {
        p->offset = p->offset + *shift;
        return p;
      }
    }
    return std::nullopt;
  }
  if (auto reshape = dyn_cast<onnx::ReshapeOp>(def)) {
    // view(n, 1) or view(1, n) of 1-D positions (torch's mask_cond).
    auto in = rankedType(reshape.getData()), out = rankedType(v);
    if (!in || !out || in.getRank() != 1 || out.getRank() != 2 ||
        (out.getDimSize(0) == 1) == (out.getDimSize(1) == 1))
      return std::nullopt;
    auto p = positionsOf(reshape.getData(), depth + 1);
    if (!p || p->rows)
      return std::nullopt;
    p->rows = out.getDimSize(1) == 1;
    return p;
  }
  auto unsq = dyn_cast<onnx::UnsqueezeOp>(def);
  SmallVector<int64_t> axes;
  auto in = unsq ? rankedType(unsq.getData()) : nullptr;
  if (!in || in.getRank() != 1 || !onnx::getConstantInts(unsq.getAxes(), axes) ||
      axes.size() != 1)
    return std::nullopt;
  auto p = positionsOf(unsq.getData(), depth + 1);
  if (!p || p->rows)
    return std::nullopt;
  p->rows = axes[0] == 1 || axes[0] == -1; // [n, 1]; [1, n] keeps cols
  if (!p->rows && axes[0] != 0 && axes[0] != -2)
    return std::nullopt;
  return p;
}

/// Comparisons of column and row positions: j + c OP i + r.
std::optional<Band> bandOfCompare(Operation *def) {
  if (!isa<onnx::LessOp, onnx::LessOrEqualOp, onnx::GreaterOp,
           onnx::GreaterOrEqualOp>(def))
    return std::nullopt;
  auto a = positionsOf(def->getOperand(0)), b = positionsOf(def->getOperand(1));
  if (!a || !b || a->rows == b->rows)
    return std::nullopt;
  bool lt = isa<onnx::LessOp>(def), le = isa<onnx::LessOrEqualOp>(def),
       gt = isa<onnx::GreaterOp>(def);
  if (a->rows) { // "row OP col": swap to "col OP' row"
    std::swap(a, b);
    bool ge = !lt && !le && !gt;
    lt = gt;
    le = ge;
    gt = isa<onnx::LessOp>(def);
  }
  // j + c OP i + r  <=>  j OP i + (r - c).
  Band band;
  band.offset = b->offset - a->offset;
  band.rows = b->length;
  band.cols = a->length;
  bool ge = !lt && !le && !gt;
  band.above = gt || ge;
  if (lt || ge) // j < i + d: j <= i + d - 1; j >= i + d: j > i + d - 1
    band.offset = band.offset - DimExpr::constant(1);
  return band;
}

std::optional<Band> bandOf(Value v, int depth = 0);

/// A static boolean constant [1, .., 1, R, C] that is a band; its offset is
/// read off its first row (how many leading elements are true, or false).
std::optional<Band> bandOfConstant(onnx::ConstantOp cst) {
  auto dense = dyn_cast<DenseIntElementsAttr>(cst.getValue());
  auto type = rankedType(cst.getResult());
  if (!dense || !type.getElementType().isInteger(1))
    return std::nullopt;
  int64_t rank = type.getRank();
  int64_t rows = type.getDimSize(rank - 2), cols = type.getDimSize(rank - 1);
  if (rows == 0 || cols == 0 || dense.getNumElements() != rows * cols)
    return std::nullopt; // empty, or leading dims other than 1
  SmallVector<bool> bits;
  for (const APInt &x : dense.getValues<APInt>())
    bits.push_back(!x.isZero());
  bool above = !bits[0];
  int64_t lead = 0;
  while (lead < cols && bits[lead] == bits[0])
    ++lead;
  int64_t offset = lead - 1; // j <= offset (or j > offset) in row 0
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      if (bits[i * cols + j] != (above ? j > i + offset : j <= i + offset))
        return std::nullopt;
  return Band{above, DimExpr::constant(offset), DimExpr::constant(rows),
              DimExpr::constant(cols)};
}

/// Slice of a band: starts (r0, c0) shift it by r0 - c0.
std::optional<Band> bandOfSlice(onnx::SliceOp slice, int depth) {
  auto in = rankedType(slice.getData());
  auto band = in ? bandOf(slice.getData(), depth + 1) : std::nullopt;
  SmallVector<int64_t> axes, steps;
  int64_t numAxes = rankedType(slice.getStarts())
                        ? rankedType(slice.getStarts()).getDimSize(0)
                        : -1;
  if (!band || numAxes < 0)
    return std::nullopt;
  if (slice.getAxes() && !onnx::getConstantInts(slice.getAxes(), axes))
    return std::nullopt;
  if (slice.getSteps() && !onnx::getConstantInts(slice.getSteps(), steps))
    return std::nullopt;
  onnx::fillSliceDefaults(numAxes, axes, steps);
  for (int64_t k = 0; k < numAxes; ++k) {
    int64_t axis = onnx::normalizeAxis(axes[k], in.getRank());
    if (axis < in.getRank() - 2)
      continue;
    auto starts = slice.getStarts(), ends = slice.getEnds();
    std::optional<DimExpr> start, end;
    if (numAxes == 1) {
      start = valueOf(starts);
      end = valueOf(ends);
    } else {
      SmallVector<int64_t> s, e;
      if (onnx::getConstantInts(starts, s) && onnx::getConstantInts(ends, e)) {
        start = DimExpr::constant(s[k]);
        end = DimExpr::constant(e[k]);
      }
    }
    // A start past the end would count from the end: require it >= 0. The
    // end is taken as is; one past the data would make the mask smaller
    // than the scores, which the caller's extent check rejects unless the
    // extents are symbolic (the position tables bound them first).
    if (!start || !end || steps[k] != 1 || !start->isNonNegative())
      return std::nullopt;
    bool rows = axis == in.getRank() - 2;
    (rows ? band->rows : band->cols) = *end - *start;
    band->offset = rows ? band->offset + *start : band->offset - *start;
  }
  return band;
}

/// `def` (a Cast, Unsqueeze, Expand or Reshape producing `v`) changes only
/// leading axes: the last two stay its operand's.
bool keepsLastTwoDims(Operation *def, Value v) {
  Value x = def->getOperand(0);
  auto in = rankedType(x), out = rankedType(v);
  if (!in || !out || in.getRank() < 2 || out.getRank() < 2)
    return false;
  int64_t r = in.getRank(), rank = out.getRank();
  auto a = dimOf(x, r - 1), b = dimOf(v, rank - 1);
  auto c = dimOf(x, r - 2), d = dimOf(v, rank - 2);
  return a && b && c && d && *a == *b && *c == *d;
}

/// Where a Trilu keeps its input: upper keeps j - i >= k (j > i + k - 1),
/// lower j - i <= k.
std::optional<Band> bandOfTrilu(onnx::TriluOp trilu) {
  Value v = trilu.getResult();
  int64_t rank = rankedType(v).getRank();
  auto k = trilu.getK() ? valueOf(trilu.getK()) : DimExpr::constant(0);
  auto rows = dimOf(v, rank - 2), cols = dimOf(v, rank - 1);
  if (!k || !rows || !cols)
    return std::nullopt;
  if (trilu.getUpper())
    return Band{true, *k - DimExpr::constant(1), *rows, *cols};
  return Band{false, *k, *rows, *cols};
}

/// The value of a float constant filling a tensor: a splat Constant or a
/// ConstantOfShape (through Casts).
std::optional<double> fillValue(Value v) {
  if (auto cos = v.getDefiningOp<onnx::ConstantOfShapeOp>()) {
    auto dense = cos.getValueAttr()
                     ? dyn_cast<DenseFPElementsAttr>(*cos.getValue())
                     : nullptr;
    if (!cos.getValueAttr())
      return 0.0;
    if (!dense || dense.getNumElements() != 1)
      return std::nullopt;
    return (*dense.getValues<APFloat>().begin()).convertToDouble();
  }
  return floatSplatConstant(v);
}

/// A folded causal mask (pinned shapes): a float constant [..., R, C] whose
/// [R, C] blocks are all the same, 0 where j <= i + offset and
/// huge-negative after (the offset read off its first row).
std::optional<Band> maskedBandOfConstant(Value v) {
  auto type = rankedType(v);
  auto values = readFloatConstant(v);
  int64_t rank = type.getRank();
  int64_t rows = type.getDimSize(rank - 2), cols = type.getDimSize(rank - 1);
  if (!values || rows == 0 || cols == 0 || values->size() % (rows * cols))
    return std::nullopt;
  int64_t lead = 0;
  while (lead < cols && (*values)[lead] == 0.0f)
    ++lead;
  int64_t offset = lead - 1;
  for (size_t idx = 0; idx < values->size(); ++idx) {
    int64_t i = idx / cols % rows, j = idx % cols;
    float x = (*values)[idx];
    bool masked = j > i + offset;
    if (masked ? !isHugeNegative(x, type.getElementType(), kFoldedHugeNegative)
               : x != 0.0f)
      return std::nullopt;
  }
  return Band{true, DimExpr::constant(offset), DimExpr::constant(rows),
              DimExpr::constant(cols)};
}

/// Where an additive float mask is huge-negative (below kHugeNegative, -inf
/// included) as a band, when it is 0 everywhere else: Where(band, 0, fill)
/// (torch's masked_fill of a full(finfo.min)), Trilu(full(fill), k), scaled
/// by a factor >= 1, cast, unsqueezed or expanded in front.
std::optional<Band> maskedBandOf(Value v, int depth = 0) {
  Operation *def = v.getDefiningOp();
  auto type = rankedType(v);
  if (depth > 8 || !def || !type || type.getRank() < 2 ||
      !isa<FloatType>(type.getElementType()))
    return std::nullopt;
  if (isa<onnx::CastOp, onnx::UnsqueezeOp, onnx::ExpandOp, onnx::ReshapeOp>(
          def)) {
    auto in = rankedType(def->getOperand(0));
    if (!in || !isa<FloatType>(in.getElementType()) ||
        !keepsLastTwoDims(def, v))
      return std::nullopt;
    return maskedBandOf(def->getOperand(0), depth + 1);
  }
  if (isa<onnx::MulOp>(def)) {
    auto c = scalarConstant(def->getOperand(1)); // canonical: constant last
    if (!c || *c < 1.0 || def->getOperand(0).getType() != v.getType())
      return std::nullopt;
    return maskedBandOf(def->getOperand(0), depth + 1);
  }
  if (auto where = dyn_cast<onnx::WhereOp>(def)) {
    auto x = fillValue(where.getX()), y = fillValue(where.getY());
    auto band = x && y ? bandOf(where.getCondition()) : std::nullopt;
    if (!band)
      return std::nullopt;
    Type elt = type.getElementType();
    if (*x == 0.0 && isHugeNegative(*y, elt))
      band->above = !band->above; // masked where the condition is false
    else if (!(isHugeNegative(*x, elt) && *y == 0.0))
      return std::nullopt;
    return band;
  }
  if (auto trilu = dyn_cast<onnx::TriluOp>(def)) {
    auto fill = fillValue(trilu.getInput());
    return fill && isHugeNegative(*fill, type.getElementType())
               ? bandOfTrilu(trilu)
               : std::nullopt;
  }
  if (isa<onnx::ConstantOp>(def) && type.hasStaticShape())
    return maskedBandOfConstant(v);
  return std::nullopt;
}

/// The band of a boolean mask built by the exporters' causal-mask patterns:
/// Range comparisons, Trilu of ones, slices of a constant tril buffer,
/// negated, cast or unsqueezed in front.
std::optional<Band> bandOf(Value v, int depth) {
  Operation *def = v.getDefiningOp();
  auto type = rankedType(v);
  if (depth > 8 || !def || !type || type.getRank() < 2)
    return std::nullopt;
  if (auto n = dyn_cast<onnx::NotOp>(def)) {
    auto band = bandOf(n.getX(), depth + 1);
    if (band)
      band->above = !band->above;
    return band;
  }
  if (auto band = bandOfCompare(def))
    return band;
  if (isa<onnx::CastOp, onnx::UnsqueezeOp, onnx::ExpandOp>(def)) {
    if (auto cast = dyn_cast<onnx::CastOp>(def))
      if (!rankedType(cast.getInput()) ||
          !rankedType(cast.getInput()).getElementType().isInteger(1))
        return std::nullopt;
    return keepsLastTwoDims(def, v) ? bandOf(def->getOperand(0), depth + 1)
                                    : std::nullopt;
  }
  if (auto slice = dyn_cast<onnx::SliceOp>(def))
    return bandOfSlice(slice, depth);
  if (auto trilu = dyn_cast<onnx::TriluOp>(def))
    return isAllTrue(trilu.getInput()) ? bandOfTrilu(trilu) : std::nullopt;
  if (isa<onnx::ConstantOp>(def) && type.hasStaticShape())
    return bandOfConstant(cast<onnx::ConstantOp>(def));
  return std::nullopt;
}

/// Peels Div/Mul by one-element constants off `v`, multiplying `scale`. On a
/// Div/Mul that is not such a scaling, fails with a reason if `strict` (the
/// scores), else stops there (Q or K may well be a product of tensors).
Value peelScale(Value v, double &scale, std::string &why, bool strict) {
  for (int guard = 0; guard < 4; ++guard) {
    Operation *def = v.getDefiningOp();
    if (!def || !isa<onnx::MulOp, onnx::DivOp>(def) || !hasOneDataUse(def))
      return v;
    // Canonical order: a Mul's constant factor is its second operand.
    Value a = def->getOperand(0), b = def->getOperand(1);
    std::optional<double> c = scalarConstant(b);
    const char *problem = nullptr;
    if (!c)
      problem = "a scale factor is not a one-element constant";
    else if (a.getType() != def->getResult(0).getType())
      problem = "the scale factor broadcasts the scores";
    else if (*c == 0.0 || !std::isfinite(*c))
      problem = "the scale factor is zero or not finite";
    if (problem) {
      if (!strict)
        return v;
      why = problem;
      return nullptr;
    }
    scale = isa<onnx::DivOp>(def) ? scale / *c : scale * *c;
    v = a;
  }
  return v;
}

/// How one of Q, K, V is (or becomes) a [B, H, S, Dh] tensor.
struct Heads {
  Value value;   // usable as is, if set
  Value split;   // batch-first [B,S,H,Dh]: needs Transpose
  Value seqProj; // seq-first [S,B,E] projection: needs both
  Value flat;    // a [B*H, S, Dh] value: Unsqueeze to [B*H, 1, S, Dh]
  Value flatKT;  // R with K = Transpose(1,0,2)(R), then as `flat`
};

/// K or V repeated from fewer heads: [B, Hkv, S, Dh] -> [B, Hkv * n, S, Dh],
/// head h' from head h' / n (grouped) or h' % Hkv (tiled).
struct KVRepeat {
  Value source;
  Operation *op = nullptr; // the op producing the repeated heads
  int64_t n = 1;
  bool tiled = false;
};

/// Dims `a` of `x` and `b` of `y` are proven equal.
bool sameDim(Value x, int64_t a, Value y, int64_t b) {
  auto dx = dimOf(x, a), dy = dimOf(y, b);
  return dx && dy && *dx == *dy;
}

/// A K/V head repeat producing `v` ([B, H, S, Dh]): Tile(src, [1, n, 1, 1]),
/// Expand of a single head (multi-query), or Reshape of an Expand/Tile of
/// Unsqueeze(src) at axis 1 (tiled) or 2 (grouped, Hugging Face's
/// repeat_kv) merging the new axis into the heads. Null with `why` set when
/// `v` is built like a repeat but is not a head repeat, null with `why`
/// empty when it is not built like one at all.
std::optional<KVRepeat> kvRepeatOf(Value v, std::string &why) {
  why.clear();
  auto type = rankedType(v);
  Operation *def = v.getDefiningOp();
  if (!def || !type || type.getRank() != 4)
    return std::nullopt;
  auto sameOther = [&](Value src, Value out, int64_t skip, bool inserted) {
    // Every axis of `out` but `skip` is the matching axis of `src` (which
    // lacks axis `skip` if `inserted`).
    for (int64_t i = 0; i < rankedType(out).getRank(); ++i)
      if (i != skip && !sameDim(src, inserted && i > skip ? i - 1 : i, out, i))
        return false;
    return true;
  };
  if (isa<onnx::TileOp, onnx::ExpandOp>(def)) {
    Value src = def->getOperand(0);
    auto st = rankedType(src);
    auto n = dimOf(v, 1);
    if (!st || st.getRank() != 4 || !n || !n->getConstant())
      return std::nullopt;
    if (isa<onnx::ExpandOp>(def) && st.getDimSize(1) != 1)
      return std::nullopt; // a plain broadcast, no repeat
    int64_t hkv = st.getDimSize(1);
    if (ShapedType::isDynamic(hkv) || !sameOther(src, v, 1, false)) {
      why = "the K/V repeat is not a head repeat (it repeats other axes)";
      return std::nullopt;
    }
    if (hkv == 0 || *n->getConstant() % hkv)
      return std::nullopt;
    return KVRepeat{src, def, *n->getConstant() / hkv, true};
  }
  auto reshape = dyn_cast<onnx::ReshapeOp>(def);
  if (!reshape)
    return std::nullopt;
  Value r5 = reshape.getData(), x = r5;
  while (x.getDefiningOp<onnx::ExpandOp>() || x.getDefiningOp<onnx::TileOp>())
    x = x.getDefiningOp()->getOperand(0);
  auto unsq = x.getDefiningOp<onnx::UnsqueezeOp>();
  SmallVector<int64_t> axes;
  auto t5 = rankedType(r5);
  if (x == r5 || !unsq || !t5 || t5.getRank() != 5 ||
      !onnx::getConstantInts(unsq.getAxes(), axes) || axes.size() != 1)
    return std::nullopt;
  Value src = unsq.getData();
  int64_t axis = onnx::normalizeAxis(axes[0], 5);
  auto n = dimOf(r5, axis);
  auto st = rankedType(src);
  if (axis != 1 && axis != 2) {
    why = "the K/V repeat is not a head repeat (axis " +
          std::to_string(axis) + " is repeated)";
    return std::nullopt;
  }
  if (!n || !n->getConstant() || !sameOther(src, r5, axis, true)) {
    why = "the K/V repeat's extents are not proven";
    return std::nullopt;
  }
  // The Reshape merges axes 1 and 2: the others are kept.
  if (!st || ShapedType::isDynamic(st.getDimSize(1)) ||
      !sameOther(src, v, 1, false)) {
    why = "the K/V repeat is not merged into the heads";
    return std::nullopt;
  }
  return KVRepeat{src, reshape, *n->getConstant(), axis == 1};
}

struct Match {
  onnx::SoftmaxOp softmax;
  onnx::MatMulOp qk, pv;
  Heads q, k, v;
  double scale = 1.0;
  Value mask;              // float additive or i1 keep, as it is in the graph
  bool negateMask = false; // mask is i1 "masked" (use its Not)
  bool splitMaskHeads = false; // [B*H, ., .] mask: Reshape to [B, H, ., .]
  bool unsqueezeMask = false;  // flat heads: rank-3 mask gets axis 1
  bool causal = false;
  bool causalFromMask = false; // the causal flag is a dense additive mask
  onnx::ExpandOp narrowMask; // the mask's ops go on this Expand's input
  KVRepeat kvRepeat;         // K and V repeated from fewer heads (GQA)
  std::string kvRepeatMiss;  // why a repeat-like K/V is not a head repeat
  Operation *kvRepeatMissAt = nullptr;
  bool seqFirst = false; // rank-3 nn.MultiheadAttention heads
  bool flat = false;     // rank-3 heads kept as [B*H, 1, S, Dh]
  int64_t batch = 0, heads = 0, headDim = 0;
  Operation *root = nullptr; // the op whose result the fused op replaces
  bool merge = false;
};

class Matcher {
public:
  explicit Matcher(onnx::SoftmaxOp sm) { m.softmax = sm; }
  Match m;
  std::string why;

  bool fail(const Twine &reason) {
    why = reason.str();
    return false;
  }

  bool run() {
    onnx::SoftmaxOp sm = m.softmax;
    auto type = rankedType(sm.getInput());
    if (!type || (type.getRank() != 3 && type.getRank() != 4))
      return fail("the scores are not of rank 3 or 4");
    if (!isa<FloatType>(type.getElementType()))
      return fail("the scores are not floats");
    if (onnx::normalizeAxis(sm.getAxis(), type.getRank()) != type.getRank() - 1)
      return fail("softmax is not over the last axis");
    auto pv = llvm::find_if(sm->getUsers(), [&](Operation *user) {
      auto mm = dyn_cast<onnx::MatMulOp>(user);
      return mm && mm.getA() == sm.getResult();
    });
    if (pv == sm->getUsers().end()) {
      why.clear(); // a softmax of logits, not an attention: no candidate
      return false;
    }
    if (!sm->hasOneUse())
      return fail("the probabilities have other uses");
    m.pv = cast<onnx::MatMulOp>(*pv);
    m.seqFirst = type.getRank() == 3;

    if (!matchScores(sm.getInput()))
      return false;
    if (!matchQK())
      return false;
    if (!matchV())
      return false;
    if (!checkMask())
      return false;
    matchOutput();
    return true;
  }

private:
  /// The scores: scale and mask around MatMul(Q, K^T).
  bool matchScores(Value s) {
    if (!matchMasked(s, 0))
      return fail(why.empty() ? "the scores are not MatMul(Q, K^T), scaled "
                                "and masked"
                              : why);
    return true;
  }

  /// Without changing anything: `v` is a (scaled, Where-masked) MatMul.
  static bool reachesMatMul(Value v, int depth = 0) {
    if (depth > 6 || !v.getDefiningOp())
      return false;
    Operation *def = v.getDefiningOp();
    if (isa<onnx::MatMulOp>(def))
      return true;
    if (isa<onnx::MulOp, onnx::DivOp>(def))
      return scalarConstant(def->getOperand(1)) &&
             reachesMatMul(def->getOperand(0), depth + 1);
    if (auto where = dyn_cast<onnx::WhereOp>(def)) {
      if (floatSplatConstant(where.getY()))
        return reachesMatMul(where.getX(), depth + 1);
      if (floatSplatConstant(where.getX()))
        return reachesMatMul(where.getY(), depth + 1);
    }
    if (isa<onnx::AddOp>(def))
      return reachesMatMul(def->getOperand(0), depth + 1) ||
             reachesMatMul(def->getOperand(1), depth + 1);
    return false;
  }

  /// Scale, then at most one provably causal Where and one other mask (an
  /// additive tensor or a -inf keep/masked Where), around MatMul(Q, K^T).
  bool matchMasked(Value s, int depth) {
    Operation *def = s.getDefiningOp();
    if (!def)
      return fail("the scores are a function argument");
    if (depth > 3)
      return fail("too many masks");
    if (!hasOneDataUse(def))
      return fail("the scores have other uses");
    if (isa<onnx::AddOp>(def)) {
      int chain = -1;
      for (int i = 0; i < 2; ++i)
        if (reachesMatMul(def->getOperand(i)) &&
            !reachesMatMul(def->getOperand(1 - i)))
          chain = i;
      if (chain < 0)
        return fail("cannot tell the scores from the mask in the Add");
      Value inner = def->getOperand(chain);
      if (inner.getType() != s.getType())
        return fail("the mask broadcasts the scores to a larger shape");
      Value mask = takeCausal(def->getOperand(1 - chain));
      if (mask && m.mask)
        return fail("more than one mask");
      if (mask)
        m.mask = mask;
      return matchMasked(inner, depth + 1);
    }
    if (auto where = dyn_cast<onnx::WhereOp>(def)) {
      int chain = floatSplatConstant(where.getY())   ? 0
                  : floatSplatConstant(where.getX()) ? 1
                                                     : -1;
      if (chain < 0)
        return fail("the Where has no constant fill value");
      Value inner = chain == 0 ? where.getX() : where.getY();
      double fill =
          *floatSplatConstant(chain == 0 ? where.getY() : where.getX());
      if (inner.getType() != s.getType())
        return fail("the mask broadcasts the scores to a larger shape");
      Value cond = where.getCondition();
      bool negate = chain == 1;
      if (!negate && isAllTrue(cond))
        return matchMasked(inner, depth + 1); // masks nothing
      Tri t = classifyBool(cond);
      if (negate)
        t = flip(t);
      bool huge = isHugeNegative(fill, getElementTypeOrSelf(s.getType()));
      if (huge && !m.causal &&
          (provenOffsetCausal(cond, negate) ||
           (t == Tri::Lower && provenCausalShape(cond)))) {
        m.causal = true;
        return matchMasked(inner, depth + 1);
      }
      // A finite fill is the op's -inf where no row is fully masked: a
      // lower-triangular pattern (here of unproven extent) keeps key 0 in
      // every row, however it broadcasts.
      bool keepsKey0 = t == Tri::Lower && huge;
      if ((!std::isinf(fill) || fill > 0) && !keepsKey0)
        return fail("the masked fill is not -inf and the mask is not a "
                    "provably causal pattern");
      if (m.mask)
        return fail("more than one mask");
      m.mask = cond;
      m.negateMask = negate;
      // Look through the exporter's Expand to the scores' shape.
      if (auto expand = m.mask.getDefiningOp<onnx::ExpandOp>())
        if (broadcasts(expand.getInput()))
          m.mask = expand.getInput();
      if (m.negateMask)
        if (auto n = m.mask.getDefiningOp<onnx::NotOp>()) {
          m.mask = n.getX();
          m.negateMask = false;
        }
      return matchMasked(inner, depth + 1);
    }
    double scale = 1.0;
    std::string reason;
    Value mm = peelScale(s, scale, reason, /*strict=*/true);
    if (!mm)
      return fail(reason);
    auto qk = mm.getDefiningOp<onnx::MatMulOp>();
    if (!qk)
      return fail("the scores are not MatMul(Q, K^T), scaled and masked");
    if (!hasOneDataUse(qk))
      return fail("Q K^T has other uses");
    m.qk = qk;
    m.scale *= scale;
    return true;
  }

  /// `cond` keeps (where true, or where false if `negated`) exactly the
  /// keys j <= i + (Sk - Sq) of query i: its band spans [Sq, Sk] of the
  /// scores, and its offset is Sk - Sq >= 0, as dims of the graph prove
  /// (e.g. a key/value cache: K = Concat(past, new) with new as long as Q).
  bool provenOffsetCausal(Value cond, bool negated) {
    return isCausalBand(bandOf(cond), negated);
  }

  /// `band` (j > i + offset if `above`, else j <= i + offset) spans [Sq, Sk]
  /// of the scores and has offset Sk - Sq >= 0.
  bool isCausalBand(std::optional<Band> band, bool above) {
    Value scores = m.softmax.getInput();
    int64_t rank = rankedType(scores).getRank();
    auto sq = dimOf(scores, rank - 2), sk = dimOf(scores, rank - 1);
    if (!band || !sq || !sk || band->above != above)
      return false;
    DimExpr past = *sk - *sq;
    return band->rows == *sq && band->cols == *sk && band->offset == past &&
           past.isNonNegative();
  }

  /// An additive mask that is -inf (or below kHugeNegative) exactly on the
  /// keys after each query's position, offset by Sk - Sq, and 0 elsewhere.
  bool isCausalFloatMask(Value mask) {
    return isCausalBand(maskedBandOf(mask), /*above=*/true) ||
           (provenCausalShape(mask) && isCausalFloat(mask));
  }

  /// The additive mask of the scores' Add, with its proven causal part
  /// taken into the causal flag: a causal mask alone, or Add(padding,
  /// causal) as Hugging Face's decoders build it. A mask of zeros masks
  /// nothing. Null when nothing is left.
  Value takeCausal(Value mask) {
    if (isZeroFill(mask))
      return nullptr;
    if (m.causal || !rankedType(mask) ||
        !isa<FloatType>(rankedType(mask).getElementType()))
      return mask;
    if (isCausalFloatMask(mask)) {
      m.causal = m.causalFromMask = true;
      return nullptr;
    }
    if (auto add = mask.getDefiningOp<onnx::AddOp>())
      for (int i = 0; i < 2; ++i)
        if (isCausalFloatMask(add->getOperand(i)) &&
            broadcasts(add->getOperand(1 - i))) {
          m.causal = m.causalFromMask = true;
          return add->getOperand(1 - i);
        }
    return mask;
  }

  /// A float splat of 0 (or a ConstantOfShape of it): masks nothing.
  static bool isZeroFill(Value mask) {
    auto fill = fillValue(mask);
    return fill && *fill == 0.0;
  }

  /// The mask's last two dimensions are exactly [Sq, Sk] (static, Sq = Sk),
  /// so a triangular pattern on them is the causal one.
  bool provenCausalShape(Value mask) {
    auto mt = rankedType(mask);
    auto st = rankedType(m.softmax.getInput());
    if (!mt || mt.getRank() < 2 || mt.getRank() > st.getRank())
      return false;
    ArrayRef<int64_t> a = mt.getShape().take_back(2);
    ArrayRef<int64_t> b = st.getShape().take_back(2);
    return !ShapedType::isDynamicShape(a) && a == b && a[0] == a[1];
  }

  /// `mask` broadcasts to the scores without enlarging them, as far as the
  /// types tell (a dynamic dimension must be 1 or the scores' at run time;
  /// once shapes are pinned the op's verifier checks it again).
  bool broadcasts(Value mask) {
    auto mt = rankedType(mask);
    auto st = rankedType(m.softmax.getInput());
    if (!mt || mt.getRank() > st.getRank())
      return false;
    int64_t off = st.getRank() - mt.getRank();
    for (int64_t i = 0; i < mt.getRank(); ++i) {
      int64_t d = mt.getDimSize(i), f = st.getDimSize(off + i);
      if (ShapedType::isDynamic(d) || ShapedType::isDynamic(f))
        continue;
      if (d != 1 && d != f)
        return false;
    }
    return true;
  }

  /// `mask` broadcasts to the scores as the kernel reads its type: every
  /// dim is a static 1 or proven equal to the scores' (a dynamic dim is
  /// taken as the full extent).
  bool broadcastsAsTyped(Value mask) {
    auto mt = rankedType(mask);
    Value scores = m.softmax.getInput();
    auto st = rankedType(scores);
    if (!mt || mt.getRank() > st.getRank())
      return false;
    int64_t off = st.getRank() - mt.getRank();
    for (int64_t i = 0; i < mt.getRank(); ++i) {
      if (mt.getDimSize(i) == 1)
        continue;
      auto a = dimOf(mask, i), b = dimOf(scores, off + i);
      if (!a || !b || *a != *b)
        return false;
    }
    return true;
  }

  /// A dim of `mask` is dynamic in its type but proven to be 1 where the
  /// scores' is not.
  bool dynamicOnes(Value mask) {
    auto mt = rankedType(mask);
    Value scores = m.softmax.getInput();
    int64_t off = rankedType(scores).getRank() - mt.getRank();
    for (int64_t i = 0; i < mt.getRank(); ++i) {
      if (!mt.isDynamicDim(i))
        continue;
      auto d = dimOf(mask, i), s = dimOf(scores, off + i);
      if (d && d->getConstant() == 1 && (!s || s->getConstant() != 1))
        return true;
    }
    return false;
  }

  /// The Expand under the mask's elementwise ops (Cast, Not, Where, and
  /// arithmetic with one-element constants), when its input broadcasts to
  /// the scores as typed: the same ops on that input give a narrower mask.
  onnx::ExpandOp narrowableExpand(Value v, int depth = 0) {
    Operation *def = v.getDefiningOp();
    if (!def || depth > 8)
      return nullptr;
    if (auto expand = dyn_cast<onnx::ExpandOp>(def))
      return broadcastsAsTyped(expand.getInput()) ? expand : nullptr;
    if (!isa<onnx::CastOp, onnx::NotOp, onnx::WhereOp, onnx::AddOp,
             onnx::SubOp, onnx::MulOp, onnx::DivOp>(def))
      return nullptr;
    onnx::ExpandOp found;
    for (Value operand : def->getOperands()) {
      if (scalarConstant(operand))
        continue;
      onnx::ExpandOp e = narrowableExpand(operand, depth + 1);
      if (!e || (found && e != found))
        return nullptr;
      found = e;
    }
    return found;
  }

  bool checkMask() {
    if (!m.mask)
      return true;
    auto mt = rankedType(m.mask);
    if (!mt)
      return fail("the mask is unranked");
    Type elt = mt.getElementType();
    if (!elt.isInteger(1) && !isa<FloatType>(elt))
      return fail("the mask is neither i1 nor a float");
    if (!broadcasts(m.mask))
      return fail("the mask does not broadcast to the scores");
    // The padding part of a mask the exporter expanded to [B, 1, Sq, Sk]:
    // its elementwise ops on the Expand's input instead (one row of keys
    // per batch for the kernel, and no dynamic dims of unproven extent).
    m.narrowMask = narrowableExpand(m.mask);
    // The kernel takes a dynamic mask dim for the full extent (and checks
    // it at run time): one that the graph proves is 1 would fail there.
    if (!m.narrowMask && dynamicOnes(m.mask))
      return fail("the mask has dynamic dims that are 1 (it broadcasts "
                  "where its type does not say so)");
    if (m.flat && mt.getRank() == 3) {
      m.unsqueezeMask = true; // [B*H|1, ., .] -> [B*H|1, 1, ., .]
      return true;
    }
    if (m.seqFirst && mt.getRank() == 3 && mt.getDimSize(0) != 1) {
      // [B*H, Sq|1, Sk|1] (a merged key padding mask): row b*H+h is
      // [b, h] of a [B, H, ., .] Reshape.
      if (!mt.hasStaticShape() || mt.getDimSize(0) != m.batch * m.heads)
        return fail("the mask varies over batch * heads but is not a static "
                    "[B*H, ., .] tensor");
      m.splitMaskHeads = true;
    }
    return true;
  }

  /// Q and K^T of the rank-4 or rank-3 scores MatMul.
  bool matchQK() {
    std::string reason;
    Value qv = peelScale(m.qk.getA(), m.scale, reason, /*strict=*/false);
    if (!qv)
      return fail("Q: " + reason);
    Value kt = peelScale(m.qk.getB(), m.scale, reason, /*strict=*/false);
    if (!kt)
      return fail("K: " + reason);
    auto tr = kt.getDefiningOp<onnx::TransposeOp>();
    if (!tr)
      return fail("K^T is not a Transpose");
    if (!m.seqFirst) {
      if (isPerm(tr, {0, 2, 3, 1})) {
        // K = Transpose(0,2,1,3) of the same tensor (the head split).
        m.k.split = tr.getData();
      } else if (isPerm(tr, {0, 1, 3, 2})) {
        Value k = peelScale(tr.getData(), m.scale, reason, /*strict=*/false);
        if (!k)
          return fail("K: " + reason);
        m.k = headsOf(k);
      } else {
        return fail("K^T is not a transpose of the last two axes");
      }
      m.q = headsOf(qv);
      if (!fourD(m.q) || !fourD(m.k))
        return fail("Q or K is not [B, H, S, Dh]");
      return true;
    }
    // Rank 3: Transpose(1,0,2)(Reshape([S,B,E] -> [S,B*H,Dh])) for Q and V,
    // Transpose(1,2,0) of the same kind of Reshape for K^T: canonical head
    // splits when the shapes prove it. Otherwise (dynamic shapes) attention
    // is still exact on the [B*H, S, Dh] tensors as [B*H, 1, S, Dh] (one
    // "head" per batch * head), with no projection to fold.
    bool kt120 = isPerm(tr, {1, 2, 0});
    if (!kt120 && !isPerm(tr, {0, 2, 1}))
      return fail("rank-3 K^T is not a transpose of a [B*H, S, Dh] K");
    auto qtr = qv.getDefiningOp<onnx::TransposeOp>();
    auto vtr = m.pv.getB().getDefiningOp<onnx::TransposeOp>();
    if (kt120 && qtr && isPerm(qtr, {1, 0, 2}) && vtr &&
        isPerm(vtr, {1, 0, 2}) && seqFirstSplit(qtr.getData(), m.q) &&
        seqFirstSplit(tr.getData(), m.k) && seqFirstSplit(vtr.getData(), m.v))
      return true;
    why.clear();
    m.q = Heads();
    m.k = Heads();
    m.v = Heads();
    m.batch = m.heads = m.headDim = 0;
    m.flat = true;
    m.q.flat = qv;
    if (kt120)
      m.k.flatKT = tr.getData();
    else
      m.k.flat = tr.getData();
    m.v.flat = m.pv.getB();
    for (Value x : {qv, Value(tr.getData()), Value(m.pv.getB())}) {
      auto t = rankedType(x);
      if (!t || t.getRank() != 3)
        return fail("rank-3 Q, K or V is unranked");
    }
    return true;
  }

  bool matchV() {
    Value v = m.pv.getB();
    if (!m.seqFirst) {
      m.v = headsOf(v);
      if (!fourD(m.v))
        return fail("V is not [B, H, S, Dh]");
      if (!checkShapes())
        return false;
      dropKVRepeat();
      return true;
    }
    return checkShapes(); // rank 3: V was matched with Q and K
  }

  /// Grouped-query attention: K and V repeated the same way from fewer
  /// heads are read in place (each query head maps to its K/V head).
  void dropKVRepeat() {
    if (!m.k.value || !m.v.value)
      return;
    std::string whyK, whyV;
    auto rk = kvRepeatOf(m.k.value, whyK), rv = kvRepeatOf(m.v.value, whyV);
    if (rk && rv && rk->n == rv->n && rk->tiled == rv->tiled &&
        rankedType(rk->source).getDimSize(1) ==
            rankedType(rv->source).getDimSize(1)) {
      m.kvRepeat = *rk;
      m.k.value = rk->source;
      m.v.value = rv->source;
      return;
    }
    // A repeat-like K or V that is not dropped: the near miss to report.
    bool atK = !whyK.empty() || (whyV.empty() && rk);
    m.kvRepeatMiss = !whyK.empty() ? whyK
                     : !whyV.empty() ? whyV
                     : rk || rv      ? "K and V are not the same head repeat"
                                     : "";
    m.kvRepeatMissAt = (atK ? m.k.value : m.v.value).getDefiningOp();
    if (!m.kvRepeatMissAt)
      m.kvRepeatMiss.clear();
  }

  /// Dim i of the [B, H, S, Dh] tensor `h` stands for, as the graph proves
  /// it.
  static std::optional<DimExpr> headsDim(const Heads &h, int64_t i) {
    static const int64_t fromSplit[] = {0, 2, 1, 3};
    if (h.value)
      return dimOf(h.value, i);
    if (h.split)
      return dimOf(h.split, fromSplit[i]);
    return std::nullopt;
  }

  /// Dim i of `a` and dim j of `b` are equal: as typed (both dynamic
  /// included, as the kernels check them), or proven from the graph.
  bool sameHeadsDim(const Heads &a, int64_t i, const Heads &b, int64_t j) {
    if (headsType(a).getDimSize(i) == headsType(b).getDimSize(j))
      return true;
    auto x = headsDim(a, i), y = headsDim(b, j);
    return x && y && *x == *y;
  }

  /// The [B, H, S, Dh] type `h` stands for.
  RankedTensorType headsType(Heads h) {
    if (h.value)
      return rankedType(h.value);
    if (h.split) {
      auto in = cast<RankedTensorType>(h.split.getType());
      return RankedTensorType::get({in.getDimSize(0), in.getDimSize(2),
                                    in.getDimSize(1), in.getDimSize(3)},
                                   in.getElementType());
    }
    if (h.flat || h.flatKT) {
      auto t = cast<RankedTensorType>((h.flat ? h.flat : h.flatKT).getType());
      int64_t a = t.getDimSize(0), b = t.getDimSize(1);
      if (h.flatKT)
        std::swap(a, b);
      return RankedTensorType::get({a, 1, b, t.getDimSize(2)},
                                   t.getElementType());
    }
    auto p = cast<RankedTensorType>(h.seqProj.getType());
    return RankedTensorType::get(
        {p.getDimSize(1), m.heads, p.getDimSize(0), m.headDim},
        p.getElementType());
  }

  /// Q, K and V agree exactly (no MatMul broadcasting) on B, H, S and Dh.
  bool checkShapes() {
    auto q = headsType(m.q), k = headsType(m.k), v = headsType(m.v);
    for (int i = 0; i < 2; ++i)
      if (!sameHeadsDim(m.q, i, m.k, i) || !sameHeadsDim(m.k, i, m.v, i))
        return fail("Q, K and V do not have the same batch and heads");
    if (!sameHeadsDim(m.k, 2, m.v, 2) || !sameHeadsDim(m.q, 3, m.k, 3))
      return fail("K and V keys or Q and K head sizes differ");
    Type elt = rankedType(m.softmax.getInput()).getElementType();
    if (q.getElementType() != elt || k.getElementType() != elt ||
        v.getElementType() != elt)
      return fail("Q, K and V are not of the scores' type");
    return true;
  }

  static bool fourD(Heads h) {
    Value v = h.value ? h.value : h.split;
    auto t = rankedType(v);
    return t && t.getRank() == 4;
  }

  /// A [B, H, S, Dh] value; the canonical split when it is one.
  static Heads headsOf(Value v) {
    Heads h;
    h.value = v;
    return h;
  }

  /// `v` = Reshape(proj [S, B, E] -> [S, B*H, Dh]), all static.
  bool seqFirstSplit(Value v, Heads &h) {
    auto r = v.getDefiningOp<onnx::ReshapeOp>();
    if (!r)
      return fail("rank-3 heads are not a Reshape of a projection");
    auto in = rankedType(r.getData()), out = rankedType(r.getResult());
    if (!in || !out || in.getRank() != 3 || out.getRank() != 3 ||
        !in.hasStaticShape() || !out.hasStaticShape())
      return fail("rank-3 heads need a static [S, B, E] -> [S, B*H, Dh] "
                  "Reshape");
    std::optional<HeadSplit> split =
        staticHeadSplit(in.getShape(), out.getShape());
    if (!split || !split->flat)
      return fail("rank-3 heads: the Reshape is not [S, B, E] -> "
                  "[S, B*H, Dh]");
    int64_t b = in.getDimSize(1);
    if ((m.batch && m.batch != b) || (m.heads && m.heads != split->heads) ||
        (m.headDim && m.headDim != split->headDim))
      return fail("rank-3 heads: Q, K and V disagree on B, H or Dh");
    m.batch = b;
    m.heads = split->heads;
    m.headDim = split->headDim;
    h.seqProj = r.getData();
    return true;
  }

  /// MatMul(P, V) -> Transpose -> Reshape merging the heads.
  void matchOutput() {
    m.root = m.pv;
    Operation *out = m.pv;
    if (!out->hasOneUse())
      return;
    auto tr = dyn_cast<onnx::TransposeOp>(*out->user_begin());
    if (!tr || !tr->hasOneUse())
      return;
    auto r = dyn_cast<onnx::ReshapeOp>(*tr->user_begin());
    if (!r)
      return;
    auto pt = rankedType(m.pv.getResult());
    auto rt = rankedType(r.getResult());
    if (!pt || !rt)
      return;
    if (!m.seqFirst) {
      if (!pt.hasStaticShape() || !rt.hasStaticShape())
        return;
      if (!isPerm(tr, {0, 2, 1, 3}))
        return;
      SmallVector<int64_t> want = {pt.getDimSize(0), pt.getDimSize(2),
                                   pt.getDimSize(1) * pt.getDimSize(3)};
      if (rt.getShape() != ArrayRef<int64_t>(want))
        return;
    } else if (!isPerm(tr, {1, 0, 2})) {
      return;
    }
    // Seq-first: [Sq, B*H, Dh] has the layout of [Sq, B, H*Dh]; any Reshape
    // of it is the same Reshape of the fused op's seq-first result.
    m.root = r;
    m.merge = true;
  }
};

class Rewriter {
public:
  Rewriter(Match &m, RewriterBase &b) : m(m), b(b) {}

  Value constI64(Location loc, ArrayRef<int64_t> values) {
    auto type = RankedTensorType::get({int64_t(values.size())}, b.getI64Type());
    return b.create<onnx::ConstantOp>(loc, type,
                                      DenseIntElementsAttr::get(type, values));
  }

  /// [a, b, ...] -> [a, 1, b, ...].
  Value unsqueeze1(Value x, Location loc) {
    auto t = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> shape(t.getShape());
    shape.insert(shape.begin() + 1, 1);
    return b.create<onnx::UnsqueezeOp>(
        loc, RankedTensorType::get(shape, t.getElementType()), x,
        constI64(loc, {1}));
  }

  Value build(Heads &h, Location loc) {
    if (h.value)
      return h.value;
    if (h.split) {
      auto in = cast<RankedTensorType>(h.split.getType());
      auto t = RankedTensorType::get({in.getDimSize(0), in.getDimSize(2),
                                      in.getDimSize(1), in.getDimSize(3)},
                                     in.getElementType());
      return b.create<onnx::TransposeOp>(loc, t, h.split,
                                         b.getI64ArrayAttr({0, 2, 1, 3}));
    }
    if (h.flat || h.flatKT) {
      Value x = h.flat;
      if (h.flatKT) {
        auto t = cast<RankedTensorType>(h.flatKT.getType());
        auto tt = RankedTensorType::get(
            {t.getDimSize(1), t.getDimSize(0), t.getDimSize(2)},
            t.getElementType());
        x = b.create<onnx::TransposeOp>(loc, tt, h.flatKT,
                                        b.getI64ArrayAttr({1, 0, 2}));
      }
      return unsqueeze1(x, loc);
    }
    auto p = cast<RankedTensorType>(h.seqProj.getType());
    int64_t s = p.getDimSize(0), bs = p.getDimSize(1);
    auto rt =
        RankedTensorType::get({s, bs, m.heads, m.headDim}, p.getElementType());
    Value r = b.create<onnx::ReshapeOp>(
        loc, rt, h.seqProj, constI64(loc, {s, bs, m.heads, m.headDim}));
    auto tt =
        RankedTensorType::get({bs, m.heads, s, m.headDim}, p.getElementType());
    return b.create<onnx::TransposeOp>(loc, tt, r,
                                       b.getI64ArrayAttr({1, 2, 0, 3}));
  }

  /// The mask's elementwise ops on the input of the Expand under them
  /// (m.narrowMask), with that input's shape.
  Value narrow(Value v, IRMapping &map) {
    if (v == m.narrowMask.getResult())
      return m.narrowMask.getInput();
    if (Value done = map.lookupOrNull(v))
      return done;
    if (scalarConstant(v))
      return v;
    Operation *def = v.getDefiningOp();
    for (Value operand : def->getOperands())
      map.map(operand, narrow(operand, map));
    Operation *clone = b.clone(*def, map);
    auto in = cast<RankedTensorType>(m.narrowMask.getInput().getType());
    clone->getResult(0).setType(RankedTensorType::get(
        in.getShape(), cast<RankedTensorType>(v.getType()).getElementType()));
    map.map(v, clone->getResult(0));
    return clone->getResult(0);
  }

  Operation *run() {
    Location loc = m.softmax.getLoc();
    b.setInsertionPoint(m.root);
    Value q = build(m.q, loc), k = build(m.k, loc), v = build(m.v, loc);
    Value mask = m.mask;
    if (mask && m.narrowMask) {
      IRMapping map;
      mask = narrow(mask, map);
    }
    if (mask && m.negateMask)
      mask = b.create<onnx::NotOp>(loc, mask.getType(), mask);
    if (mask && m.unsqueezeMask)
      mask = unsqueeze1(mask, loc);
    if (mask && m.splitMaskHeads) {
      auto mt = cast<RankedTensorType>(mask.getType());
      SmallVector<int64_t> shape = {m.batch, m.heads, mt.getDimSize(1),
                                    mt.getDimSize(2)};
      mask = b.create<onnx::ReshapeOp>(
          loc, RankedTensorType::get(shape, mt.getElementType()), mask,
          constI64(loc, shape));
    }
    auto qt = cast<RankedTensorType>(q.getType());
    auto vt = cast<RankedTensorType>(v.getType());
    Type resultType = m.root->getResult(0).getType();
    if (m.merge && m.seqFirst) {
      resultType = RankedTensorType::get({qt.getDimSize(2), qt.getDimSize(0),
                                          vt.getDimSize(1) * vt.getDimSize(3)},
                                         qt.getElementType());
    } else if (m.seqFirst) {
      resultType = RankedTensorType::get({qt.getDimSize(0), qt.getDimSize(1),
                                          qt.getDimSize(2), vt.getDimSize(3)},
                                         qt.getElementType());
    }
    auto attn = b.create<fused::AttentionOp>(
        loc, resultType, q, k, v, mask, b.getF32FloatAttr(float(m.scale)),
        b.getBoolAttr(m.causal), b.getBoolAttr(false), b.getBoolAttr(m.merge),
        b.getBoolAttr(m.merge && m.seqFirst),
        b.getBoolAttr(m.kvRepeat.source && m.kvRepeat.tiled));
    Value result = attn.getResult();
    if (m.seqFirst) {
      // Back to the graph's rank-3 value.
      auto r = dyn_cast_or_null<onnx::ReshapeOp>(m.merge ? m.root : nullptr);
      if (r) {
        result =
            b.create<onnx::ReshapeOp>(loc, r.getType(), result, r.getShape());
      } else if (m.flat) {
        result = b.create<onnx::SqueezeOp>(loc, m.pv.getType(), result,
                                           constI64(loc, {1}));
      } else {
        auto pt = cast<RankedTensorType>(m.pv.getType());
        result = b.create<onnx::ReshapeOp>(
            loc, pt, result,
            constI64(loc,
                     {pt.getDimSize(0), pt.getDimSize(1), pt.getDimSize(2)}));
      }
    }
    Operation *old = m.root;
    b.replaceAllUsesWith(old->getResult(0), result);
    eraseDeadONNXOps(b, old);
    return attn;
  }

private:
  Match &m;
  RewriterBase &b;
};

struct FuseAttention : FusionPattern<onnx::SoftmaxOp, FuseAttention> {
  FuseAttention(MLIRContext *ctx, bool report)
      : FusionPattern(ctx, kKind, report), report(report) {}
  bool report;

  std::optional<Match> matchCandidate(onnx::SoftmaxOp sm,
                                      std::string &why) const {
    Matcher matcher(sm);
    if (matcher.run())
      return matcher.m;
    why = matcher.why;
    return std::nullopt;
  }
  Operation *rewriteMatch(onnx::SoftmaxOp, Match &m,
                          PatternRewriter &rewriter) const {
    if (report && !m.kvRepeatMiss.empty())
      reportNotFused(m.kvRepeatMissAt, kGroupedKind, m.kvRepeatMiss);
    bool causalFromMask = m.causalFromMask;
    bool grouped = bool(m.kvRepeat.source);
    Operation *fused = Rewriter(m, rewriter).run();
    if (report && grouped)
      reportFused(fused, kGroupedKind);
    if (report && causalFromMask)
      reportFused(fused, kCausalKind);
    return fused;
  }
};

/// The standard (opset 23) Attention op becomes tessera.attention too.
struct FuseONNXAttention : OpRewritePattern<onnx::AttentionOp> {
  FuseONNXAttention(MLIRContext *ctx, bool report)
      : OpRewritePattern(ctx), report(report) {}
  LogicalResult matchAndRewrite(onnx::AttentionOp op,
                                PatternRewriter &rewriter) const override {
    std::string why;
    Operation *fused = rewriteONNXAttention(op, rewriter, why);
    if (!fused)
      return rewriter.notifyMatchFailure(op, why);
    if (report)
      reportFused(fused, kKind);
    return success();
  }
  bool report;
};

struct FuseAttentionPass : impl::FuseAttentionBase<FuseAttentionPass> {
  using FuseAttentionBase::FuseAttentionBase;
  void runOnOperation() override {
    SmallVector<Operation *> candidates;
    getOperation().walk([&](Operation *op) {
      if (isa<onnx::SoftmaxOp, onnx::AttentionOp>(op))
        candidates.push_back(op);
    });
    applyToCandidates(populateFuseAttentionPatterns, candidates, kKind,
                      report);
  }
};

/// [B, S, H * Dh] -> [B, H, S, Dh] (Reshape with 0 copies + Transpose).
Value splitHeads(RewriterBase &b, Location loc, Value x, int64_t heads) {
  auto t = cast<RankedTensorType>(x.getType());
  int64_t dh = t.getDimSize(2) / heads;
  auto shapeType = RankedTensorType::get({4}, b.getI64Type());
  Value shape = b.create<onnx::ConstantOp>(
      loc, shapeType,
      DenseIntElementsAttr::get(shapeType, ArrayRef<int64_t>{0, 0, heads, dh}));
  auto split = RankedTensorType::get(
      {t.getDimSize(0), t.getDimSize(1), heads, dh}, t.getElementType());
  Value r = b.create<onnx::ReshapeOp>(loc, split, x, shape);
  auto heads4 = RankedTensorType::get(
      {t.getDimSize(0), heads, t.getDimSize(1), dh}, t.getElementType());
  return b.create<onnx::TransposeOp>(loc, heads4, r,
                                     b.getI64ArrayAttr({0, 2, 1, 3}));
}

/// Concat(past, x) along the keys of [B, H, S, Dh], of type `type` (the
/// present output's) if given.
Value appendKeys(RewriterBase &b, Location loc, Value past, Value x,
                 Type type) {
  auto p = cast<RankedTensorType>(past.getType());
  auto t = cast<RankedTensorType>(x.getType());
  int64_t s = p.isDynamicDim(2) || t.isDynamicDim(2)
                  ? ShapedType::kDynamic
                  : p.getDimSize(2) + t.getDimSize(2);
  SmallVector<int64_t> shape(t.getShape());
  shape[2] = s;
  if (!type)
    type = RankedTensorType::get(shape, t.getElementType());
  return b.create<onnx::ConcatOp>(
      loc, type, ValueRange{past, x},
      b.getIntegerAttr(b.getIntegerType(64, true), 2));
}

/// The mask onnx.Attention `op` applies: its attn_mask, or the input of an
/// Expand of it over the queries (the kernel broadcasts [B, 1, 1, Sk]
/// itself; ONNX Runtime wants the mask expanded).
Value attentionMask(onnx::AttentionOp op) {
  Value mask = op.getAttnMask();
  if (auto expand = mask ? mask.getDefiningOp<onnx::ExpandOp>() : nullptr) {
    auto in = rankedType(expand.getInput());
    if (in && in.getRank() == rankedType(mask).getRank() &&
        llvm::all_of(llvm::seq<int64_t>(0, in.getRank()), [&](int64_t i) {
          return in.getDimSize(i) == 1 || sameDim(expand.getInput(), i, mask, i);
        }))
      mask = expand.getInput();
  }
  return mask;
}

/// The head counts and size of onnx.Attention `op` (3-D inputs `split`
/// into heads); dynamic where unknown.
struct AttentionHeads {
  bool split;
  int64_t qHeads, kvHeads, headSize;
};

AttentionHeads attentionHeads(onnx::AttentionOp op) {
  auto qt = rankedType(op.getQ()), kt = rankedType(op.getK());
  bool split = qt.getRank() == 3;
  int64_t qHeads = split ? *op.getQNumHeads() : qt.getDimSize(1);
  int64_t kvHeads = split ? *op.getKvNumHeads() : kt.getDimSize(1);
  int64_t dh = split ? (ShapedType::isDynamic(qt.getDimSize(2)) || !qHeads
                            ? ShapedType::kDynamic
                            : qt.getDimSize(2) / qHeads)
                     : qt.getDimSize(3);
  return {split, qHeads, kvHeads, dh};
}

} // namespace

std::optional<std::string> onnxAttentionProblem(Operation *attention) {
  auto op = cast<onnx::AttentionOp>(attention);
  auto qt = rankedType(op.getQ()), kt = rankedType(op.getK()),
       vt = rankedType(op.getV());
  if (!qt || !kt || !vt)
    return std::string("Q, K or V is unranked");
  if (!isa<FloatType>(qt.getElementType()) ||
      kt.getElementType() != qt.getElementType() ||
      vt.getElementType() != qt.getElementType())
    return std::string("Q, K and V are not floats of one type");
  if (op.getSoftcap().convertToFloat() != 0.0f || op.getQkMatmulOutputMode())
    return std::string("softcap and qk_matmul_output_mode are not supported");
  if (qt.getRank() != kt.getRank() || qt.getRank() != vt.getRank() ||
      (qt.getRank() != 3 && qt.getRank() != 4))
    return std::string("Q, K and V are neither all 3-D nor all 4-D");
  if (qt.getRank() == 3 && (!op.getQNumHeads() || !op.getKvNumHeads()))
    return std::string("3-D inputs without q_num_heads and kv_num_heads");
  AttentionHeads heads = attentionHeads(op);
  for (auto [t, h] : {std::pair(qt, heads.qHeads), std::pair(kt, heads.kvHeads),
                      std::pair(vt, heads.kvHeads)})
    if (heads.split && (t.isDynamicDim(2) || !h || t.getDimSize(2) % h))
      return std::string("a 3-D input's last dim is not a static multiple of "
                         "its heads");
  if (ShapedType::isDynamic(heads.qHeads) ||
      ShapedType::isDynamic(heads.kvHeads) || heads.kvHeads == 0 ||
      heads.qHeads % heads.kvHeads)
    return std::string("the K/V heads do not divide the query heads");
  if (ShapedType::isDynamic(heads.headSize))
    return std::string("the head size is dynamic");
  // Upper-left causal alignment (query i sees keys j <= i) is the kernel's
  // (aligned at the end) when there are as many keys as queries.
  int64_t seqDim = heads.split ? 1 : 2;
  if (op.getIsCausal() &&
      (op.getPastKey() || !sameDim(op.getQ(), seqDim, op.getK(), seqDim)))
    return std::string("is_causal with keys not proven as many as the "
                       "queries (upper-left alignment)");
  if (Value mask = attentionMask(op)) {
    auto mt = rankedType(mask);
    if (!mt || mt.getRank() > 4 ||
        (!mt.getElementType().isInteger(1) &&
         !isa<FloatType>(mt.getElementType())))
      return std::string("the mask is not a bool or float tensor of rank <= "
                         "4");
  }
  for (Value result : op->getResults())
    if (!isa<RankedTensorType>(result.getType()))
      return std::string("a result is unranked");
  if (!op.getPresent().empty() && !op.getPastKey())
    return std::string("present outputs without past_key/past_value");
  return std::nullopt;
}

Operation *rewriteONNXAttention(Operation *attention, RewriterBase &b,
                                std::string &why) {
  if (std::optional<std::string> problem = onnxAttentionProblem(attention)) {
    why = *problem;
    return nullptr;
  }
  auto op = cast<onnx::AttentionOp>(attention);
  auto [split, qHeads, kvHeads, dh] = attentionHeads(op);
  bool causal = op.getIsCausal() != 0;
  Value mask = attentionMask(op);
  Location loc = op.getLoc();
  b.setInsertionPoint(op);
  Value q = op.getQ(), k = op.getK(), v = op.getV();
  if (split) {
    q = splitHeads(b, loc, q, qHeads);
    k = splitHeads(b, loc, k, kvHeads);
    v = splitHeads(b, loc, v, kvHeads);
  }
  if (op.getPastKey()) {
    bool present = !op.getPresent().empty();
    k = appendKeys(b, loc, op.getPastKey(), k,
                   present ? op.getPresent()[0].getType() : Type());
    v = appendKeys(b, loc, op.getPastValue(), v,
                   present ? op.getPresent()[1].getType() : Type());
  }
  float scale = op.getScale() ? op.getScale()->convertToFloat()
                              : 1.0f / std::sqrt(float(dh));
  auto attn = b.create<fused::AttentionOp>(
      loc, op.getY().getType(), q, k, v, mask, b.getF32FloatAttr(scale),
      b.getBoolAttr(causal), b.getBoolAttr(false), b.getBoolAttr(split),
      b.getBoolAttr(false), b.getBoolAttr(false));
  SmallVector<Value> results = {attn.getResult()};
  if (!op.getPresent().empty()) {
    results.push_back(k);
    results.push_back(v);
  }
  b.replaceOp(op, results);
  return attn;
}

void populateFuseAttentionPatterns(RewritePatternSet &patterns, bool report) {
  patterns.add<FuseAttention, FuseONNXAttention>(patterns.getContext(),
                                                 report);
}

} // namespace tessera
