//===- RecognizeRotary.cpp - decomposed rotary embeddings -> onnx op ------===//
//
// Part of Tessera. Rotary position embeddings as torch exports them,
//
//   y = Add(Mul(x, cos), Mul(rot(x), sin))      (any operand orders)
//   half-split (rotate_half, LLaMA/GPT-NeoX):
//     rot(x) = Concat(Neg(x[..., h:]), x[..., :h], axis -1)   (Slice or Split)
//   interleaved (rotate_every_two, GPT-J):
//     rot(x) = Reshape(Concat(Unsqueeze(Neg(x[..., 1::2]), -1),
//                             Unsqueeze(x[..., 0::2], -1), axis -1), x.shape)
//
// or, written out pair by pair (the stacked form of Meta's and many
// hand-written interleaved ropes, anchored on the Sub),
//
//   y1 = x1 * cos - x2 * sin,  y2 = x1 * sin + x2 * cos
//   y = Reshape(Concat(Unsqueeze(y1, -1), Unsqueeze(y2, -1)), x.shape)
//       (x1, x2 the even and odd features), or Concat(y1, y2) (the halves)
//
// with cos and sin tables gathered by position ids (Gather(table, ids) then
// Unsqueeze of the head axis) or constant [S, Dh] slices ([S, Dh / 2] in the
// stacked form), become one onnx.RotaryEmbedding (opset-23 semantics). x is [B, H, S, Dh] (or [B, S,
// Dh], one head). The tables of the decomposition repeat each frequency over
// the pair it rotates (Concat(f, f), or each repeated twice); the op takes
// the [P, Dh / 2] tables of the frequencies, so the pass checks the
// repetition and keeps one copy. Candidates: every Neg of a last-axis slice;
// each is rewritten or reported with the reason (halves swapped, tables not
// repeated, heads in another layout).
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/MatchUtils.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Patterns.h"
#include "compiler/transforms/RewriteUtils.h"

#include "mlir/IR/Matchers.h"

namespace tessera {
#define GEN_PASS_DEF_RECOGNIZEROTARY
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

constexpr StringLiteral kKind = "rotary recogniser";

/// A part of x along its last axis: elements start, start + step, ...
/// before end.
struct Part {
  Value x;
  int64_t start = 0, end = 0, step = 1;
  Operation *op = nullptr;
};

/// `v` as a Slice (constant, last axis only) or Split (in two along the last
/// axis) output of a value with a static last dim.
std::optional<Part> partOf(Value v) {
  Part p;
  p.op = v.getDefiningOp();
  if (auto slice = dyn_cast_or_null<onnx::SliceOp>(p.op)) {
    p.x = slice.getData();
    auto type = dyn_cast<RankedTensorType>(p.x.getType());
    SmallVector<int64_t> starts, ends, axes, steps;
    if (!type || type.isDynamicDim(type.getRank() - 1) ||
        !onnx::getConstantInts(slice.getStarts(), starts) ||
        !onnx::getConstantInts(slice.getEnds(), ends) || starts.size() != 1 ||
        ends.size() != 1 ||
        (slice.getAxes() &&
         !onnx::getConstantInts(slice.getAxes(), axes)) ||
        (slice.getSteps() && !onnx::getConstantInts(slice.getSteps(), steps)))
      return std::nullopt;
    onnx::fillSliceDefaults(1, axes, steps);
    int64_t rank = type.getRank(), dim = type.getDimSize(rank - 1);
    if (onnx::normalizeAxis(axes[0], rank) != rank - 1 || steps[0] < 1)
      return std::nullopt;
    p.step = steps[0];
    p.start = onnx::sliceIndex(starts[0], dim, p.step);
    p.end = onnx::sliceIndex(ends[0], dim, p.step);
    return p;
  }
  auto split = dyn_cast_or_null<onnx::SplitOp>(p.op);
  if (!split || split.getNumResults() != 2)
    return std::nullopt;
  p.x = split.getInput();
  auto type = dyn_cast<RankedTensorType>(p.x.getType());
  if (!type || onnx::normalizeAxis(split.getAxis(), type.getRank()) !=
                   type.getRank() - 1)
    return std::nullopt;
  auto t0 = dyn_cast<RankedTensorType>(split.getResult(0).getType());
  auto t1 = dyn_cast<RankedTensorType>(split.getResult(1).getType());
  if (!t0 || !t1 || t0.isDynamicDim(t0.getRank() - 1) ||
      t1.isDynamicDim(t1.getRank() - 1))
    return std::nullopt;
  int64_t first = t0.getDimSize(t0.getRank() - 1);
  bool second = v == split.getResult(1);
  p.start = second ? first : 0;
  p.end = second ? first + t1.getDimSize(t1.getRank() - 1) : first;
  return p;
}

/// Where a table comes from: a constant [P, Dh] table gathered by position
/// ids, or a constant [S, Dh] one (all leading dims 1) used as is.
struct Table {
  std::vector<float> values; // [rows, Dh]
  int64_t rows = 0;
  Value ids; // null for a constant used as is
  SmallVector<Operation *> ops;
};

/// Looks through Unsqueeze and Reshape ops that only insert unit dims.
Value throughUnitDims(Value v, SmallVectorImpl<Operation *> &ops) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<onnx::UnsqueezeOp, onnx::ReshapeOp>(def))
      break;
    auto in = dyn_cast<RankedTensorType>(def->getOperand(0).getType());
    auto out = dyn_cast<RankedTensorType>(def->getResult(0).getType());
    if (!in || !out)
      break;
    SmallVector<int64_t> a, b;
    for (int64_t d : in.getShape())
      if (d != 1)
        a.push_back(d);
    for (int64_t d : out.getShape())
      if (d != 1)
        b.push_back(d);
    // An Unsqueeze only inserts unit dims; a Reshape does if its dims are
    // known.
    if (a != b ||
        (isa<onnx::ReshapeOp>(def) && llvm::any_of(a, ShapedType::isDynamic)))
      break;
    ops.push_back(def);
    v = def->getOperand(0);
  }
  return v;
}

std::optional<Table> tableOf(Value v, int64_t dh) {
  Table t;
  Value base = throughUnitDims(v, t.ops);
  if (auto gather = base.getDefiningOp<onnx::GatherOp>()) {
    auto data = dyn_cast<RankedTensorType>(gather.getData().getType());
    auto ids = dyn_cast<RankedTensorType>(gather.getIndices().getType());
    std::optional<std::vector<float>> values =
        readFloatConstant(gather.getData());
    if (!data || data.getRank() != 2 || data.getDimSize(1) != dh || !ids ||
        ids.getRank() != 2 || gather.getAxis() != 0 || !values)
      return std::nullopt;
    t.values = std::move(*values);
    t.rows = data.getDimSize(0);
    t.ids = gather.getIndices();
    t.ops.push_back(gather);
    return t;
  }
  auto type = dyn_cast<RankedTensorType>(base.getType());
  std::optional<std::vector<float>> values = readFloatConstant(base);
  if (!type || !type.hasStaticShape() || type.getRank() < 2 || !values ||
      type.getDimSize(type.getRank() - 1) != dh ||
      type.getNumElements() != type.getDimSize(type.getRank() - 2) * dh)
    return std::nullopt;
  t.values = std::move(*values);
  t.rows = type.getDimSize(type.getRank() - 2);
  return t;
}

/// The [rows, Dh / 2] frequencies of a table that repeats each over its
/// pair, if it does.
std::optional<std::vector<float>> halveTable(const Table &t, int64_t dh,
                                             bool interleaved) {
  int64_t h = dh / 2;
  std::vector<float> half(t.rows * h);
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t i = 0; i < h; ++i) {
      float a = t.values[r * dh + (interleaved ? 2 * i : i)];
      float b = t.values[r * dh + (interleaved ? 2 * i + 1 : i + h)];
      if (a != b)
        return std::nullopt;
      half[r * h + i] = a;
    }
  return half;
}

/// Whether `a` and `b` are ranked tensors of one element type whose shapes
/// agree where both are known.
bool compatibleTypes(Type a, Type b) {
  auto ta = dyn_cast<RankedTensorType>(a), tb = dyn_cast<RankedTensorType>(b);
  if (!ta || !tb || ta.getElementType() != tb.getElementType() ||
      ta.getRank() != tb.getRank())
    return false;
  for (auto [da, db] : llvm::zip(ta.getShape(), tb.getShape()))
    if (!ShapedType::isDynamic(da) && !ShapedType::isDynamic(db) && da != db)
      return false;
  return true;
}

/// Whether `shape` (a Reshape's shape operand) flattens the last two dims
/// of `stacked`: Concat(Shape(stacked)[0 : rank - 2], [-1]) as torch's
/// flatten(-2) exports it.
bool flattensLastTwo(Value shape, Value stacked) {
  auto cat = shape.getDefiningOp<onnx::ConcatOp>();
  if (!cat || cat.getInputs().size() != 2)
    return false;
  SmallVector<int64_t> last, starts, ends;
  auto slice = cat.getInputs()[0].getDefiningOp<onnx::SliceOp>();
  auto dims = slice ? slice.getData().getDefiningOp<onnx::ShapeOfOp>()
                    : onnx::ShapeOfOp();
  int64_t rank = cast<RankedTensorType>(stacked.getType()).getRank();
  if (!dims || dims.getData() != stacked ||
      !onnx::getConstantInts(cat.getInputs()[1], last) || last.size() != 1 ||
      last[0] != -1 || !onnx::getConstantInts(slice.getStarts(), starts) ||
      !onnx::getConstantInts(slice.getEnds(), ends) || starts != SmallVector<int64_t>{0} ||
      ends.size() != 1 || onnx::sliceIndex(ends[0], rank, 1) != rank - 2)
    return false;
  auto [begin, end] = onnx::shapeRange(dims, rank);
  return begin == 0 && end == rank;
}

struct Match {
  Value x;
  bool interleaved = false;
  Value ids; // position ids, or null: positions 0..S-1
  std::vector<float> cosHalf, sinHalf;
  int64_t rows = 0;
  Value result;
  SmallVector<Operation *> ops;
};

/// Whether two parts take the same elements (an end past the last one
/// counts as the last one).
bool samePart(const Part &a, const Part &b) {
  int64_t na = (a.end - a.start + a.step - 1) / a.step;
  int64_t nb = (b.end - b.start + b.step - 1) / b.step;
  return a.start == b.start && a.step == b.step && na == nb;
}

/// The flatten(-2) of stacked pairs `stacked` ([..., Dh / 2, 2]) back into
/// x's type, if its one data user is that; null otherwise.
onnx::ReshapeOp flattenOfPairs(Value stacked, RankedTensorType xType) {
  int64_t dh = xType.getDimSize(xType.getRank() - 1);
  auto type = cast<RankedTensorType>(stacked.getType());
  SmallVector<Operation *> users = dataUsers(stacked);
  auto reshape = users.size() == 1 ? dyn_cast<onnx::ReshapeOp>(users.front())
                                   : onnx::ReshapeOp();
  auto rType = reshape ? dyn_cast<RankedTensorType>(
                             reshape.getReshaped().getType())
                       : RankedTensorType();
  bool flat = rType && compatibleTypes(rType, xType) &&
              (rType.getDimSize(rType.getRank() - 1) == dh ||
               flattensLastTwo(reshape.getShape(), stacked));
  if (!flat || type.getDimSize(type.getRank() - 1) != 2 ||
      type.getDimSize(type.getRank() - 2) != dh / 2)
    return {};
  return reshape;
}

/// The cos/sin tables of a match (tables `cos` and `sin` of rows of `width`
/// values, halved by `halve` if it is set) and the checks they share: sets
/// m.ids, m.rows, m.cosHalf, m.sinHalf and adds the table ops; returns the
/// reason they do not fit, or empty.
std::string matchTables(Match &m, Value cos, Value sin, int64_t width,
                        bool halve) {
  auto xType = cast<RankedTensorType>(m.x.getType());
  int64_t rank = xType.getRank(), dh = xType.getDimSize(rank - 1);
  if (rank != 3 && rank != 4)
    return "x is not [B, H, S, Dh] or [B, S, Dh]";
  // cos and sin vary along S only (and the batch, with position ids): the
  // head axis of a 4-D x must be broadcast.
  for (Value t : {cos, sin}) {
    auto type = dyn_cast<RankedTensorType>(t.getType());
    if (!type || type.getRank() > rank)
      return "cos or sin is unranked or of a higher rank than x";
    int64_t offset = rank - type.getRank();
    if (rank == 4 && offset <= 1 && type.getDimSize(1 - offset) != 1)
      return "cos and sin vary along axis 1: the heads are not laid out "
             "[B, H, S, Dh]";
  }
  std::optional<Table> cosTable = tableOf(cos, width);
  std::optional<Table> sinTable = tableOf(sin, width);
  if (!cosTable || !sinTable)
    return "cos and sin are not constant tables, gathered by position ids or "
           "used as they are";
  if (cosTable->ids != sinTable->ids || cosTable->rows != sinTable->rows)
    return "cos and sin are gathered by different position ids";
  std::optional<std::vector<float>> cosHalf = cosTable->values;
  std::optional<std::vector<float>> sinHalf = sinTable->values;
  if (halve) {
    cosHalf = halveTable(*cosTable, dh, m.interleaved);
    sinHalf = halveTable(*sinTable, dh, m.interleaved);
  }
  if (!cosHalf || !sinHalf)
    return "the cos/sin tables do not repeat each frequency over the pair it "
           "rotates";
  int64_t seq = xType.getDimSize(rank - 2);
  if (!cosTable->ids && seq != cosTable->rows)
    return "constant cos/sin tables do not have one row per position";
  m.ids = cosTable->ids;
  m.rows = cosTable->rows;
  m.cosHalf = std::move(*cosHalf);
  m.sinHalf = std::move(*sinHalf);
  m.ops.append(cosTable->ops);
  m.ops.append(sinTable->ops);
  return "";
}

/// Replaces the match by onnx.RotaryEmbedding and returns it.
Operation *buildRotary(Match &m, PatternRewriter &b);

struct RecognizeRotary : FusionPattern<onnx::NegOp, RecognizeRotary> {
  RecognizeRotary(MLIRContext *ctx, bool report)
      : FusionPattern(ctx, kKind, report) {}

  std::optional<Match> matchCandidate(onnx::NegOp neg, std::string &why) const;
  Operation *rewriteMatch(onnx::NegOp neg, Match &m,
                          PatternRewriter &rewriter) const;
};

/// The rotated value rot(x) built around `neg`: checks the halves and sets
/// `m.x`, `m.interleaved`, and `m.ops`; returns rot(x) or null with `why`.
Value matchRotation(onnx::NegOp neg, Match &m, std::string &why) {
  auto fail = [&](const Twine &reason) {
    why = reason.str();
    return Value();
  };
  std::optional<Part> negated = partOf(neg.getX());
  if (!negated)
    return Value();
  Value x = negated->x;
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t dh = xType.getDimSize(xType.getRank() - 1), h = dh / 2;
  if (dh % 2)
    return fail("the head size is odd");
  Operation *user = singleUser(neg.getY());
  m.interleaved = isa_and_nonnull<onnx::UnsqueezeOp>(user);
  Value negatedPart = neg.getY();
  if (m.interleaved) {
    m.ops.push_back(user);
    negatedPart = user->getResult(0);
    user = singleUser(negatedPart);
  }
  auto concat = dyn_cast_or_null<onnx::ConcatOp>(user);
  if (!concat || concat.getInputs().size() != 2)
    return fail("the negated half is not (only) concatenated with another");
  auto outType = dyn_cast<RankedTensorType>(concat.getResult().getType());
  if (!outType ||
      onnx::normalizeAxis(concat.getAxis(), outType.getRank()) !=
          outType.getRank() - 1)
    return fail("the halves are not concatenated along the last axis");
  Value other = concat.getInputs()[0] == negatedPart ? concat.getInputs()[1]
                                                      : concat.getInputs()[0];
  bool negFirst = concat.getInputs()[0] == negatedPart;
  Value otherPart = other;
  Operation *otherUnsqueeze = nullptr;
  if (m.interleaved) {
    otherUnsqueeze = other.getDefiningOp<onnx::UnsqueezeOp>();
    if (!otherUnsqueeze)
      return fail("the pairs are not stacked (Unsqueeze + Concat)");
    otherPart = otherUnsqueeze->getOperand(0);
  }
  std::optional<Part> kept = partOf(otherPart);
  if (!kept || kept->x != x)
    return fail("the halves are not two parts of one value");
  // The expected parts: x2 negated, x1 kept, -x2 first.
  Part x1{x, 0, h, 1}, x2{x, h, dh, 1};
  if (m.interleaved) {
    x1 = {x, 0, dh, 2};
    x2 = {x, 1, dh, 2};
  }
  if (!samePart(*negated, x2) || !samePart(*kept, x1) || !negFirst)
    return fail("the halves are swapped or misplaced (rot(x) must be "
                "(-x2, x1), x1 the first half or the even features)");
  m.x = x;
  m.ops.append({negated->op, neg, kept->op, concat});
  if (otherUnsqueeze)
    m.ops.push_back(otherUnsqueeze);
  Value rot = concat.getResult();
  if (m.interleaved) {
    // (flatten(-2) reads the stacked value's Shape too.)
    onnx::ReshapeOp reshape = flattenOfPairs(rot, xType);
    if (!reshape)
      return fail("the stacked pairs are not flattened back to x's shape");
    m.ops.push_back(reshape);
    rot = reshape.getReshaped();
  }
  if (!compatibleTypes(rot.getType(), x.getType()))
    return fail("the rotated value has another type than x");
  return rot;
}

std::optional<Match> RecognizeRotary::matchCandidate(onnx::NegOp neg,
                                                     std::string &why) const {
  auto fail = [&](const Twine &reason) -> std::optional<Match> {
    why = reason.str();
    return std::nullopt;
  };
  Match m;
  Value rot = matchRotation(neg, m, why);
  if (!rot)
    return std::nullopt;
  auto xType = cast<RankedTensorType>(m.x.getType());
  int64_t rank = xType.getRank(), dh = xType.getDimSize(rank - 1);
  if (!isKernelFloat(xType.getElementType()))
    return fail("x is not f32, f16 or bf16");
  // rot(x) * sin + x * cos.
  Operation *mulSin = singleUser(rot);
  Value sin = isa_and_nonnull<onnx::MulOp>(mulSin) ? otherOperand(mulSin, rot)
                                                   : Value();
  Operation *add = sin ? singleUser(mulSin->getResult(0)) : nullptr;
  Value xCos = isa_and_nonnull<onnx::AddOp>(add)
                   ? otherOperand(add, mulSin->getResult(0))
                   : Value();
  Operation *mulCos = xCos ? xCos.getDefiningOp() : nullptr;
  Value cos = isa_and_nonnull<onnx::MulOp>(mulCos) && xCos.hasOneUse()
                  ? otherOperand(mulCos, m.x)
                  : Value();
  if (!cos)
    return fail("the result is not x * cos + rot(x) * sin");
  if (!compatibleTypes(add->getResult(0).getType(), m.x.getType()))
    return fail("cos or sin broadcasts x to another shape");
  std::string tables = matchTables(m, cos, sin, dh, /*halve=*/true);
  if (!tables.empty())
    return fail(tables);
  m.ops.append({mulSin, mulCos, add});
  m.result = add->getResult(0);
  return m;
}

Operation *RecognizeRotary::rewriteMatch(onnx::NegOp, Match &m,
                                         PatternRewriter &b) const {
  return buildRotary(m, b);
}

/// The stacked form (see the file comment), anchored on the Sub of
/// y1 = x1 * cos - x2 * sin.
struct RecognizeStackedRotary
    : FusionPattern<onnx::SubOp, RecognizeStackedRotary> {
  RecognizeStackedRotary(MLIRContext *ctx, bool report)
      : FusionPattern(ctx, kKind, report) {}

  std::optional<Match> matchCandidate(onnx::SubOp sub, std::string &why) const;
  Operation *rewriteMatch(onnx::SubOp, Match &m, PatternRewriter &b) const {
    return buildRotary(m, b);
  }
};

/// A Mul of a part of some x and another value.
struct PartTimes {
  Part part;
  Value partValue, other;
};

std::optional<PartTimes> partTimes(Value v) {
  auto mul = v.getDefiningOp<onnx::MulOp>();
  for (int i = 0; mul && i < 2; ++i)
    if (std::optional<Part> p = partOf(mul->getOperand(i)))
      return PartTimes{*p, mul->getOperand(i), mul->getOperand(1 - i)};
  return std::nullopt;
}

std::optional<Match>
RecognizeStackedRotary::matchCandidate(onnx::SubOp sub,
                                       std::string &why) const {
  auto fail = [&](const Twine &reason) -> std::optional<Match> {
    why = reason.str();
    return std::nullopt;
  };
  auto first = partTimes(sub.getA()), second = partTimes(sub.getB());
  if (!first || !second || first->part.x != second->part.x ||
      first->other == second->other)
    return std::nullopt; // not x1 * cos - x2 * sin
  Match m;
  m.x = first->part.x;
  auto xType = cast<RankedTensorType>(m.x.getType());
  int64_t rank = xType.getRank(), dh = xType.getDimSize(rank - 1), h = dh / 2;
  if (dh % 2 || !isKernelFloat(xType.getElementType()))
    return fail("x is not f32, f16 or bf16 with an even head size");
  const Part &x1 = first->part, &x2 = second->part;
  Value cos = first->other, sin = second->other;
  m.interleaved = samePart(x1, {m.x, 0, dh, 2}) && samePart(x2, {m.x, 1, dh, 2});
  if (!m.interleaved &&
      !(samePart(x1, {m.x, 0, h, 1}) && samePart(x2, {m.x, h, dh, 1})))
    return fail("the pairs are not the even and odd features or the halves "
                "(x1 * cos - x2 * sin, x1 first)");
  // y2 = x1 * sin + x2 * cos: an Add of the other products of x1 and x2.
  onnx::AddOp add;
  Operation *x1Sin = nullptr, *x2Cos = nullptr;
  for (Operation *user : first->partValue.getUsers()) {
    auto mul = dyn_cast<onnx::MulOp>(user);
    if (!mul || otherOperand(mul, first->partValue) != sin ||
        !mul->hasOneUse())
      continue;
    add = dyn_cast<onnx::AddOp>(*mul->getUsers().begin());
    x1Sin = mul;
  }
  Value y2Other = add ? otherOperand(add, x1Sin->getResult(0)) : Value();
  auto cosPart = y2Other ? partTimes(y2Other) : std::nullopt;
  if (!add || !cosPart || cosPart->other != cos ||
      cosPart->partValue != second->partValue)
    return fail("the second of each pair is not x1 * sin + x2 * cos");
  x2Cos = y2Other.getDefiningOp();
  // The pairs back in x's layout.
  Value y1 = sub.getC(), y2 = add.getC();
  Operation *u1 = singleUser(y1), *u2 = singleUser(y2);
  m.ops = {x1.op, x2.op, sub.getA().getDefiningOp(),
           sub.getB().getDefiningOp(), sub, x1Sin, x2Cos, add};
  Value result;
  if (m.interleaved) {
    auto s1 = dyn_cast_or_null<onnx::UnsqueezeOp>(u1);
    auto s2 = dyn_cast_or_null<onnx::UnsqueezeOp>(u2);
    auto concat = s1 ? dyn_cast_or_null<onnx::ConcatOp>(singleUser(s1.getExpanded()))
                     : onnx::ConcatOp();
    if (!s2 || !concat || concat.getInputs().size() != 2 ||
        concat.getInputs()[0] != s1.getExpanded() ||
        concat.getInputs()[1] != s2.getExpanded())
      return fail("the rotated pairs are not stacked (Unsqueeze + Concat)");
    onnx::ReshapeOp reshape = flattenOfPairs(concat.getResult(), xType);
    if (!reshape)
      return fail("the stacked pairs are not flattened back to x's shape");
    m.ops.append({s1, s2, concat, reshape});
    result = reshape.getReshaped();
  } else {
    auto concat = dyn_cast_or_null<onnx::ConcatOp>(u1);
    if (!concat || u2 != u1 || concat.getInputs().size() != 2 ||
        concat.getInputs()[0] != y1 || concat.getInputs()[1] != y2 ||
        onnx::normalizeAxis(concat.getAxis(), rank) != rank - 1)
      return fail("the rotated halves are not concatenated (y1, y2) along "
                  "the last axis");
    m.ops.push_back(concat);
    result = concat.getResult();
  }
  if (!compatibleTypes(result.getType(), m.x.getType()))
    return fail("cos or sin broadcasts x to another shape");
  std::string tables = matchTables(m, cos, sin, h, /*halve=*/false);
  if (!tables.empty())
    return fail(tables);
  m.result = result;
  return m;
}

Operation *buildRotary(Match &m, PatternRewriter &b) {
  b.setInsertionPoint(m.result.getDefiningOp());
  Location loc = fusedLocOf(b, m.ops);
  auto xType = cast<RankedTensorType>(m.x.getType());
  int64_t dh = xType.getDimSize(xType.getRank() - 1);
  // The tables in x's type (RotaryEmbedding's T): the values were read from
  // the model's tables of that type, so they convert back exactly.
  auto table = [&](ArrayRef<float> values) -> Value {
    ConstTensor t;
    t.shape = {m.rows, dh / 2};
    t.data.assign(values.begin(), values.end());
    t.elementType = xType.getElementType();
    return buildConstant(b, loc, t, "rotary_table");
  };
  Value cos = table(m.cosHalf);
  Value sin = table(m.sinHalf);
  Value ids = m.ids;
  if (!ids) {
    // A constant table of the S positions: ids 0..S-1.
    SmallVector<int64_t> iota(m.rows);
    for (int64_t i = 0; i < m.rows; ++i)
      iota[i] = i;
    auto idsType = RankedTensorType::get({1, m.rows}, b.getI64Type());
    ids = b.create<onnx::ConstantOp>(
        loc, DenseElementsAttr::get(idsType, ArrayRef<int64_t>(iota)));
  }
  auto si64 = b.getIntegerType(64, true);
  auto rotary = b.create<onnx::RotaryEmbeddingOp>(
      loc, m.result.getType(), m.x, cos, sin, ids,
      b.getIntegerAttr(si64, m.interleaved ? 1 : 0),
      b.getIntegerAttr(si64, xType.getRank() == 3 ? 1 : 0),
      b.getIntegerAttr(si64, 0));
  b.replaceAllUsesWith(m.result, rotary.getY());
  eraseDeadONNXOps(b, m.ops);
  return rotary;
}

struct RecognizeRotaryPass : impl::RecognizeRotaryBase<RecognizeRotaryPass> {
  using RecognizeRotaryBase::RecognizeRotaryBase;
  void runOnOperation() override {
    SmallVector<Operation *> candidates;
    getOperation().walk([&](Operation *op) {
      if (auto neg = dyn_cast<onnx::NegOp>(op); neg && partOf(neg.getX()))
        candidates.push_back(neg);
      if (auto sub = dyn_cast<onnx::SubOp>(op);
          sub && partTimes(sub.getA()) && partTimes(sub.getB()))
        candidates.push_back(sub);
    });
    applyToCandidates(populateRecognizeRotaryPatterns, candidates, kKind,
                      report);
  }
};

} // namespace

void populateRecognizeRotaryPatterns(RewritePatternSet &patterns,
                                     bool report) {
  patterns.add<RecognizeRotary, RecognizeStackedRotary>(patterns.getContext(),
                                                        report);
}

} // namespace tessera
