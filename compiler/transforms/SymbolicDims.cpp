//===- SymbolicDims.cpp - dims as linear expressions of unknown dims ------===//

#include "compiler/transforms/SymbolicDims.h"
#include "compiler/transforms/MatchUtils.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace tessera {

DimExpr DimExpr::constant(int64_t c) {
  DimExpr e;
  e.constant_ = c;
  return e;
}

DimExpr DimExpr::dim(Value v, int64_t axis) {
  DimExpr e;
  e.terms[{v.getAsOpaquePointer(), axis}] = 1;
  return e;
}

DimExpr DimExpr::named(StringAttr name) {
  DimExpr e;
  e.terms[{name.getAsOpaquePointer(), -1}] = 1;
  return e;
}

DimExpr DimExpr::operator+(const DimExpr &other) const {
  DimExpr e = *this;
  e.constant_ += other.constant_;
  for (auto [key, coeff] : other.terms)
    if ((e.terms[key] += coeff) == 0)
      e.terms.erase(key);
  return e;
}

DimExpr DimExpr::scaled(int64_t factor) const {
  if (factor == 0)
    return constant(0);
  DimExpr e = *this;
  e.constant_ *= factor;
  for (auto &term : e.terms)
    term.second *= factor;
  return e;
}

DimExpr DimExpr::operator-(const DimExpr &other) const {
  return *this + other.scaled(-1);
}

bool DimExpr::isNonNegative() const {
  return constant_ >= 0 && llvm::all_of(terms, [](const auto &term) {
           return term.second >= 0;
         });
}

std::optional<int64_t> DimExpr::getConstant() const {
  if (!terms.empty())
    return std::nullopt;
  return constant_;
}

void DimExpr::print(llvm::raw_ostream &os) const {
  os << constant_;
  for (auto [key, coeff] : terms) {
    os << (coeff < 0 ? " - " : " + ");
    if (std::abs(coeff) != 1)
      os << std::abs(coeff) << "*";
    if (key.second < 0) {
      os << StringAttr::getFromOpaquePointer(key.first).getValue();
      continue;
    }
    Value v = Value::getFromOpaquePointer(key.first);
    if (auto arg = dyn_cast<BlockArgument>(v))
      os << "arg" << arg.getArgNumber();
    else
      os << v.getDefiningOp()->getName() << "@" << v.getLoc();
    os << "[" << key.second << "]";
  }
}

namespace {

constexpr int kMaxDepth = 64;

std::optional<DimExpr> dimAt(Value v, int64_t axis, int depth);
std::optional<DimExpr> valueAt(Value v, int depth);

/// Entries [start, end) of Shape(x), or of a Slice (step 1) of it: the
/// Shape op and where its entry 0 is in x's dims.
std::optional<std::pair<onnx::ShapeOfOp, int64_t>> shapeSlice(Value v) {
  int64_t offset = 0;
  if (auto slice = v.getDefiningOp<onnx::SliceOp>()) {
    SmallVector<int64_t> starts, steps;
    if (!onnx::getConstantInts(slice.getStarts(), starts) ||
        starts.size() != 1 || starts[0] < 0 ||
        (slice.getSteps() &&
         (!onnx::getConstantInts(slice.getSteps(), steps) || steps[0] != 1)))
      return std::nullopt;
    offset = starts[0];
    v = slice.getData();
  }
  auto shape = v.getDefiningOp<onnx::ShapeOfOp>();
  auto in = shape ? dyn_cast<RankedTensorType>(shape.getData().getType())
                  : nullptr;
  if (!in)
    return std::nullopt;
  return std::make_pair(shape,
                        onnx::shapeRange(shape, in.getRank()).first + offset);
}

/// Entry `k` of a 1-D shape operand: a constant, a Concat of pieces, a
/// (slice of a) Shape, or torch's Where(Equal(s, c), ones, s) that maps
/// c (-1) entries to 1 (a dim is never negative, so only constants can be c).
std::optional<DimExpr> shapeEntry(Value shape, int64_t k, int depth) {
  SmallVector<int64_t> values;
  if (onnx::getConstantInts(shape, values))
    return k < int64_t(values.size()) ? std::optional(DimExpr::constant(values[k]))
                                      : std::nullopt;
  if (depth > kMaxDepth)
    return std::nullopt;
  if (auto piece = shapeSlice(shape))
    return dimAt(piece->first.getData(), piece->second + k, depth + 1);
  if (auto where = shape.getDefiningOp<onnx::WhereOp>()) {
    auto eq = where.getCondition().getDefiningOp<onnx::EqualOp>();
    SmallVector<int64_t> c, ones;
    if (!eq || eq.getA() != where.getY() ||
        !onnx::getConstantInts(eq.getB(), c) ||
        !onnx::getConstantInts(where.getX(), ones))
      return std::nullopt;
    auto entry = shapeEntry(where.getY(), k, depth + 1);
    if (!entry)
      return std::nullopt;
    if ((c.size() != 1 && k >= int64_t(c.size())) ||
        (ones.size() != 1 && k >= int64_t(ones.size())))
      return std::nullopt;
    int64_t ck = c.size() == 1 ? c[0] : c[k];
    std::optional<int64_t> value = entry->getConstant();
    if (!value) // a dim, never negative
      return ck < 0 ? entry : std::nullopt;
    if (*value != ck)
      return entry;
    return DimExpr::constant(ones.size() == 1 ? ones[0] : ones[k]);
  }
  auto concat = shape.getDefiningOp<onnx::ConcatOp>();
  if (!concat)
    return std::nullopt;
  for (Value piece : concat.getInputs()) {
    auto t = dyn_cast<RankedTensorType>(piece.getType());
    if (!t || t.getRank() != 1 || t.isDynamicDim(0))
      return std::nullopt;
    if (k < t.getDimSize(0))
      return t.getDimSize(0) == 1 ? valueAt(piece, depth + 1)
                                  : shapeEntry(piece, k, depth + 1);
    k -= t.getDimSize(0);
  }
  return std::nullopt;
}

/// Ops whose result has the shape of an operand of the same shape (no
/// broadcasting to a larger shape through it).
bool passesShape(Operation *op) {
  return isa<onnx::AddOp, onnx::SubOp, onnx::MulOp, onnx::DivOp, onnx::PowOp,
             onnx::SqrtOp, onnx::ReluOp, onnx::TanhOp, onnx::ErfOp,
             onnx::SigmoidOp, onnx::CastOp, onnx::IdentityOp, onnx::WhereOp,
             onnx::TriluOp, onnx::NotOp, onnx::AbsOp, onnx::LogOp,
             onnx::SoftmaxOp, onnx::LayerNormalizationOp,
             onnx::RMSNormalizationOp, onnx::RotaryEmbeddingOp, onnx::NegOp,
             fused::MatMulOp, fused::AddLayerNormOp>(op);
}

/// The -1 entry `axis` of a Reshape: the data's dims over the other
/// entries, when they cancel but for constants.
std::optional<DimExpr> inferredEntry(onnx::ReshapeOp reshape, int64_t axis,
                                     int depth) {
  auto in = dyn_cast<RankedTensorType>(reshape.getData().getType());
  auto out = dyn_cast<RankedTensorType>(reshape.getType());
  if (!in || !out)
    return std::nullopt;
  SmallVector<DimExpr> num;
  int64_t c = 1;
  for (int64_t i = 0; i < in.getRank(); ++i) {
    auto d = dimAt(reshape.getData(), i, depth + 1);
    if (!d)
      return std::nullopt;
    if (auto k = d->getConstant())
      c *= *k;
    else
      num.push_back(*d);
  }
  int64_t q = 1;
  for (int64_t i = 0; i < out.getRank(); ++i) {
    if (i == axis)
      continue;
    auto e = shapeEntry(reshape.getShape(), i, depth + 1);
    if (e && e->getConstant() == 0 && !reshape.getAllowzero())
      e = dimAt(reshape.getData(), i, depth + 1);
    if (!e || (e->getConstant() && *e->getConstant() <= 0))
      return std::nullopt;
    if (auto k = e->getConstant()) {
      q *= *k;
      continue;
    }
    auto it = llvm::find(num, *e);
    if (it == num.end())
      return std::nullopt;
    num.erase(it);
  }
  if (!num.empty() || q == 0 || c % q)
    return std::nullopt;
  return DimExpr::constant(c / q);
}

/// Ops whose result always has the shape of their first operand (whatever
/// the types say: an exporter's type may know less than the operand's).
bool shapeOfFirstOperand(Operation *op) {
  return isa<onnx::SqrtOp, onnx::ReluOp, onnx::TanhOp, onnx::ErfOp,
             onnx::SigmoidOp, onnx::CastOp, onnx::IdentityOp, onnx::TriluOp,
             onnx::NotOp, onnx::AbsOp, onnx::LogOp, onnx::SoftmaxOp,
             onnx::LayerNormalizationOp, onnx::RMSNormalizationOp,
             onnx::RotaryEmbeddingOp, onnx::NegOp>(op);
}

/// Elementwise ops that broadcast their operands (numpy style): a dim
/// is that of an operand whose dim there is not a static 1 (the same trust
/// as passesShape: a dynamic dim does not broadcast from 1).
bool broadcasts(Operation *op) {
  return isa<onnx::AddOp, onnx::SubOp, onnx::MulOp, onnx::DivOp, onnx::PowOp,
             onnx::WhereOp, onnx::LessOp, onnx::LessOrEqualOp,
             onnx::GreaterOp, onnx::GreaterOrEqualOp, onnx::EqualOp,
             onnx::AndOp, onnx::OrOp>(op);
}

std::optional<DimExpr> dimAt(Value v, int64_t axis, int depth) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || axis < 0 || axis >= type.getRank())
    return std::nullopt;
  if (!type.isDynamicDim(axis))
    return DimExpr::constant(type.getDimSize(axis));
  DimExpr self = DimExpr::dim(v, axis);
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    // Inputs naming one dim (ONNX dim_param) agree: the runtime checks it.
    auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
    auto params = func ? func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(),
                                                          "onnx.dim_params")
                       : nullptr;
    auto name = params && axis < int64_t(params.size())
                    ? dyn_cast<StringAttr>(params[axis])
                    : nullptr;
    if (name && !name.getValue().empty())
      return DimExpr::named(name);
    return self;
  }
  Operation *def = v.getDefiningOp();
  if (!def || depth > kMaxDepth)
    return self;
  int64_t rank = type.getRank();
  auto through = [&](Value operand, int64_t a) {
    auto r = dimAt(operand, a, depth + 1);
    return r ? *r : self;
  };
  if (auto tr = dyn_cast<onnx::TransposeOp>(def))
    return through(tr.getData(), permOf(tr)[axis]);
  if (auto concat = dyn_cast<onnx::ConcatOp>(def)) {
    if (onnx::normalizeAxis(concat.getAxis(), rank) != axis)
      return through(concat.getInputs().front(), axis);
    DimExpr sum = DimExpr::constant(0);
    for (Value in : concat.getInputs()) {
      auto d = dimAt(in, axis, depth + 1);
      if (!d)
        return self;
      sum = sum + *d;
    }
    return sum;
  }
  if (auto split = dyn_cast<onnx::SplitOp>(def))
    return onnx::normalizeAxis(split.getAxis(), rank) == axis
               ? self
               : through(split.getInput(), axis);
  if (auto mm = dyn_cast<onnx::MatMulOp>(def)) {
    auto a = dyn_cast<RankedTensorType>(mm.getA().getType());
    auto b = dyn_cast<RankedTensorType>(mm.getB().getType());
    if (!a || !b || a.getRank() < 2 || b.getRank() < 2)
      return self;
    if (axis == rank - 1)
      return through(mm.getB(), b.getRank() - 1);
    if (axis == rank - 2)
      return through(mm.getA(), a.getRank() - 2);
    // Batch axes: A's, when A has them all (B is a weight, or a batch of
    // the same extent).
    return a.getRank() == rank ? through(mm.getA(), axis) : self;
  }
  if (auto gather = dyn_cast<onnx::GatherOp>(def)) {
    auto data = dyn_cast<RankedTensorType>(gather.getData().getType());
    auto idx = dyn_cast<RankedTensorType>(gather.getIndices().getType());
    if (!data || !idx)
      return self;
    int64_t a = onnx::normalizeAxis(gather.getAxis(), data.getRank());
    if (axis < a)
      return through(gather.getData(), axis);
    if (axis < a + idx.getRank())
      return through(gather.getIndices(), axis - a);
    return through(gather.getData(), axis - idx.getRank() + 1);
  }
  if (auto reshape = dyn_cast<onnx::ReshapeOp>(def)) {
    auto entry = shapeEntry(reshape.getShape(), axis, depth);
    if (!entry)
      return self;
    if (entry->getConstant() == 0 && !reshape.getAllowzero())
      return through(reshape.getData(), axis);
    if (entry->getConstant() == -1) {
      auto inferred = inferredEntry(reshape, axis, depth);
      return inferred ? *inferred : self;
    }
    if (entry->getConstant() && *entry->getConstant() < 0)
      return self;
    return *entry;
  }
  if (auto slice = dyn_cast<onnx::SliceOp>(def)) {
    // An axis the Slice does not cut keeps the data's dim.
    SmallVector<int64_t> axes;
    auto starts = dyn_cast<RankedTensorType>(slice.getStarts().getType());
    if (!starts || starts.isDynamicDim(0))
      return self;
    if (slice.getAxes()) {
      if (!onnx::getConstantInts(slice.getAxes(), axes))
        return self;
    } else {
      for (int64_t i = 0; i < starts.getDimSize(0); ++i)
        axes.push_back(i);
    }
    for (int64_t a : axes)
      if (onnx::normalizeAxis(a, rank) == axis)
        return self;
    return through(slice.getData(), axis);
  }
  if (auto cos = dyn_cast<onnx::ConstantOfShapeOp>(def)) {
    auto entry = shapeEntry(cos.getInput(), axis, depth);
    return entry ? *entry : self;
  }
  if (auto unsq = dyn_cast<onnx::UnsqueezeOp>(def)) {
    SmallVector<int64_t> axes;
    if (!onnx::getConstantInts(unsq.getAxes(), axes))
      return self;
    for (int64_t &a : axes)
      a = onnx::normalizeAxis(a, rank);
    if (llvm::is_contained(axes, axis))
      return DimExpr::constant(1);
    int64_t in = axis - llvm::count_if(axes, [&](int64_t a) { return a < axis; });
    return through(unsq.getData(), in);
  }
  if (auto expand = dyn_cast<onnx::ExpandOp>(def)) {
    // Broadcast of the input (aligned at the end) and the shape entry.
    auto in = dyn_cast<RankedTensorType>(expand.getInput().getType());
    auto shapeType = dyn_cast<RankedTensorType>(expand.getShape().getType());
    if (!in || !shapeType || shapeType.isDynamicDim(0))
      return self;
    int64_t inAxis = axis - (rank - in.getRank());
    int64_t k = axis - (rank - shapeType.getDimSize(0));
    auto a = inAxis >= 0 ? dimAt(expand.getInput(), inAxis, depth + 1)
                         : std::optional(DimExpr::constant(1));
    auto e = k >= 0 ? shapeEntry(expand.getShape(), k, depth + 1)
                    : std::optional(DimExpr::constant(1));
    if (!a || !e)
      return self;
    if (a->getConstant() == 1 || *a == *e)
      return *e;
    return e->getConstant() == 1 ? *a : self;
  }
  if (auto tile = dyn_cast<onnx::TileOp>(def)) {
    SmallVector<int64_t> repeats;
    if (!onnx::getConstantInts(tile.getRepeats(), repeats) ||
        int64_t(repeats.size()) != rank)
      return self;
    auto d = dimAt(tile.getInput(), axis, depth + 1);
    return d ? d->scaled(repeats[axis]) : self;
  }
  if (auto attn = dyn_cast<fused::AttentionOp>(def)) {
    if (!attn.getMergeHeads())
      return axis < 3 ? through(attn.getQ(), axis) : self;
    if (attn.getSeqFirst())
      return axis == 0 ? through(attn.getQ(), 2)
                       : axis == 1 ? through(attn.getQ(), 0) : self;
    return axis == 0 ? through(attn.getQ(), 0)
                     : axis == 1 ? through(attn.getQ(), 2) : self;
  }
  if (auto range = dyn_cast<onnx::RangeOp>(def)) {
    auto start = valueAt(range.getStart(), depth + 1);
    auto limit = valueAt(range.getLimit(), depth + 1);
    auto delta = valueAt(range.getDelta(), depth + 1);
    if (start && limit && delta && delta->getConstant() == 1)
      return *limit - *start; // (a limit below the start is not seen)
    return self;
  }
  if (shapeOfFirstOperand(def))
    return through(def->getOperand(0), axis);
  if (passesShape(def))
    for (Value operand : def->getOperands()) {
      auto t = dyn_cast<RankedTensorType>(operand.getType());
      if (t && t.getShape() == type.getShape())
        return through(operand, axis);
    }
  if (broadcasts(def))
    // The operand (aligned at the end) whose dim is not a static 1.
    for (Value operand : def->getOperands()) {
      auto t = dyn_cast<RankedTensorType>(operand.getType());
      int64_t a = t ? axis - (rank - t.getRank()) : -1;
      if (a >= 0 && t.getDimSize(a) != 1)
        return through(operand, a);
    }
  return self;
}

std::optional<DimExpr> valueAt(Value v, int depth) {
  SmallVector<int64_t> values;
  if (onnx::getConstantInts(v, values))
    return values.size() == 1 ? std::optional(DimExpr::constant(values[0]))
                              : std::nullopt;
  Operation *def = v.getDefiningOp();
  if (!def || depth > kMaxDepth)
    return std::nullopt;
  auto shapeDim = [&](Value shapeValue,
                      int64_t index) -> std::optional<DimExpr> {
    auto shape = shapeValue.getDefiningOp<onnx::ShapeOfOp>();
    auto in = shape ? dyn_cast<RankedTensorType>(shape.getData().getType())
                    : nullptr;
    if (!in)
      return std::nullopt;
    auto [start, end] = onnx::shapeRange(shape, in.getRank());
    int64_t k = index < 0 ? index + (end - start) : index;
    if (k < 0 || k >= end - start)
      return std::nullopt;
    return dimAt(shape.getData(), start + k, depth + 1);
  };
  if (auto gather = dyn_cast<onnx::GatherOp>(def)) {
    if (!onnx::getConstantInts(gather.getIndices(), values) ||
        values.size() != 1)
      return std::nullopt;
    return shapeDim(gather.getData(), values[0]);
  }
  if (auto slice = dyn_cast<onnx::SliceOp>(def)) {
    // One entry of a Shape: Slice(Shape(x), [k], [k + 1]).
    SmallVector<int64_t> starts, ends;
    if (!onnx::getConstantInts(slice.getStarts(), starts) ||
        !onnx::getConstantInts(slice.getEnds(), ends) || starts.size() != 1 ||
        (ends[0] != starts[0] + 1 && !(starts[0] == -1 && ends[0] > 0)))
      return std::nullopt;
    if (slice.getSteps() &&
        (!onnx::getConstantInts(slice.getSteps(), values) || values[0] != 1))
      return std::nullopt;
    return shapeDim(slice.getData(), starts[0]);
  }
  if (isa<onnx::SqueezeOp, onnx::UnsqueezeOp, onnx::CastOp, onnx::IdentityOp,
          onnx::ReshapeOp>(def))
    return valueAt(def->getOperand(0), depth + 1);
  if (auto concat = dyn_cast<onnx::ConcatOp>(def))
    return concat.getInputs().size() == 1
               ? valueAt(concat.getInputs().front(), depth + 1)
               : std::nullopt;
  if (isa<onnx::AddOp, onnx::SubOp, onnx::MulOp>(def)) {
    auto a = valueAt(def->getOperand(0), depth + 1);
    auto b = valueAt(def->getOperand(1), depth + 1);
    if (!a || !b)
      return std::nullopt;
    if (isa<onnx::AddOp>(def))
      return *a + *b;
    if (isa<onnx::SubOp>(def))
      return *a - *b;
    if (auto c = b->getConstant())
      return a->scaled(*c);
    if (auto c = a->getConstant())
      return b->scaled(*c);
  }
  return std::nullopt;
}

} // namespace

std::optional<DimExpr> dimOf(Value v, int64_t axis) {
  return dimAt(v, axis, 0);
}

std::optional<DimExpr> valueOf(Value v) { return valueAt(v, 0); }

} // namespace tessera
