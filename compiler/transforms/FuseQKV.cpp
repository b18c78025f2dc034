//===- FuseQKV.cpp - see Passes.td ----------------------------------------===//
//
// Part of Tessera. Fuses the Q/K/V (or K/V) projections of an attention
// into one tessera.qkv_projection: a packed GEMM whose results are already
// split into heads.
//
// A projection is onnx.MatMul(X, W) with X [d0, d1, E] and W a compile-time
// constant [E, N] (an onnx.Constant, possibly through Transpose/Slice of
// one), optionally followed by an onnx.Add of a constant bias [N]. Its
// result is either one projection or, split on the feature axis by one
// onnx.Split or by onnx.Slices, the packed projections of GPT-2's c_attn and
// nn.MultiheadAttention's in_proj. Each projection must be head-split:
// only Reshaped to [d0, d1, H, Dh], and that Reshape Transposed with perm
// [0, 2, 1, 3] (batch-first, X is [B, S, E]) or [1, 2, 0, 3] (seq-first,
// X is [S, B, E]); the K^T forms [0, 2, 3, 1] / [1, 2, 3, 0] count too. As
// nn.MultiheadAttention exports it, the seq-first split may also be flat:
// Reshaped to [S, B * H, Dh] and Transposed [1, 0, 2] (K^T: [1, 2, 0]).
// A seq-first X that is the Transpose [1, 0, 2] of a batch-first tensor is
// read through it.
//
// E, W and the bias are static; the batch and sequence dims may be dynamic
// (4-D split only): the Reshape's shape vector must then be provably
// [d0, d1, H, Dh] of the projection (Shape/Gather/Unsqueeze/Concat of values
// with the same rows, or 0 copies; H and Dh constant), and Shape uses of the
// projections are rebuilt from X.
//
// Fused: two or three projections sharing X (Q/K/V, or K/V of a cross
// attention), and one packed MatMul split into two or three. Every other
// use of a Reshape (or a Transpose with another perm) becomes a Transpose
// (and Reshape) of the fused result, so it keeps its value; other uses of
// the projection itself, of the MatMul or of the packed result leave it
// unfused, and so does a sibling projection of the same X that does not fit.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/FusionReport.h"
#include "compiler/transforms/MatchUtils.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Patterns.h"
#include "compiler/transforms/RewriteUtils.h"
#include "dialects/onnx/ONNXDialect.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <optional>
#include <string>

namespace tessera {
#define GEN_PASS_DEF_FUSEQKV
#include "compiler/transforms/Passes.h.inc"
} // namespace tessera

using namespace mlir;
namespace onnx = tessera::onnx;
namespace fused = tessera::fused;

namespace tessera {
namespace {

constexpr llvm::StringLiteral kKind = "tessera.qkv_projection";

bool getInts(Value v, SmallVectorImpl<int64_t> &out);

/// The value of `v` if it is a float constant, or a Transpose or Slice of
/// one whose parameters getInts evaluates.
std::optional<ConstTensor> evalConst(Value v) {
  return evaluateFloatConstant(v, getInts);
}

//===----------------------------------------------------------------------===//
// Matching
//===----------------------------------------------------------------------===//

/// One projection: columns [offset, offset + width) of a MatMul's result,
/// with its head-split Reshapes.
struct Piece {
  Value value;
  int64_t offset = 0, width = 0;
  int64_t heads = 0; // its head count (matchPieces)
  SmallVector<onnx::ReshapeOp> reshapes;
};

/// A MatMul (+ bias) and the projections it feeds.
struct Projection {
  onnx::MatMulOp matmul;
  onnx::AddOp biasAdd;
  Value bias;
  Value out;           // the MatMul or bias Add result
  Operation *splitter; // the Split, or null (Slices are pieces' owners)
  bool packed = false;
  SmallVector<Piece> pieces;
  int64_t heads = 0, headDim = 0;
  bool seqFirst = false;
  ConstTensor weight;
  std::optional<ConstTensor> biasValue;
};

/// A rank-3 tensor whose last (feature) dim is static; the batch and
/// sequence dims may be dynamic.
bool hasStaticFeatures(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getRank() == 3 && !ShapedType::isDynamic(t.getDimSize(2));
}

/// One element of a shape vector computed in the graph: a constant, or
/// dimension `dim` of `of`.
struct SymDim {
  int64_t constant = 0;
  Value of;
  int64_t dim = -1;
  int64_t scale = 1; // with `of`: that dim times `scale`
};

/// The feature width of a MatMul (+ bias Add) result whose weight is a
/// compile-time constant, when its type does not say it; else dynamic.
int64_t projectionWidth(Value v) {
  if (auto add = v.getDefiningOp<onnx::AddOp>())
    v = add.getA().getDefiningOp<onnx::MatMulOp>() ? add.getA() : add.getB();
  auto mm = v.getDefiningOp<onnx::MatMulOp>();
  if (!mm)
    return ShapedType::kDynamic;
  auto weight = evalConst(mm.getB());
  if (!weight || weight->shape.size() != 2)
    return ShapedType::kDynamic;
  return weight->shape[1];
}

/// Evaluates the 1-D i64 shape vector (or scalar) `v` as exporters build it
/// from Shape, Gather, Unsqueeze, Squeeze, Concat, Cast, constants,
/// Add/Sub/Div/Mul of constants and a dim times a constant.
LogicalResult evalShape(Value v, SmallVectorImpl<SymDim> &out, int depth = 0) {
  if (depth > 12)
    return failure();
  Operation *def = v.getDefiningOp();
  if (!def)
    return failure();
  SmallVector<int64_t> ints;
  if (isa<onnx::ConstantOp>(def) && onnx::getConstantInts(v, ints)) {
    for (int64_t i : ints)
      out.push_back(SymDim{i, Value(), -1});
    return success();
  }
  if (auto shape = dyn_cast<onnx::ShapeOfOp>(def)) {
    auto t = dyn_cast<RankedTensorType>(shape.getData().getType());
    if (!t)
      return failure();
    auto [start, end] = onnx::shapeRange(shape, t.getRank());
    for (int64_t i = start; i < end; ++i) {
      int64_t known = t.getDimSize(i);
      if (ShapedType::isDynamic(known) && i == t.getRank() - 1)
        known = projectionWidth(shape.getData());
      if (ShapedType::isDynamic(known))
        out.push_back(SymDim{0, shape.getData(), i});
      else
        out.push_back(SymDim{known, Value(), -1});
    }
    return success();
  }
  if (auto gather = dyn_cast<onnx::GatherOp>(def)) {
    SmallVector<SymDim> data;
    SmallVector<int64_t> idx;
    if (gather.getAxis() != 0 ||
        failed(evalShape(gather.getData(), data, depth + 1)) ||
        !onnx::getConstantInts(gather.getIndices(), idx))
      return failure();
    for (int64_t i : idx) {
      if (i < 0)
        i += data.size();
      if (i < 0 || i >= int64_t(data.size()))
        return failure();
      out.push_back(data[i]);
    }
    return success();
  }
  if (auto slice = dyn_cast<onnx::SliceOp>(def)) {
    SmallVector<SymDim> data;
    SmallVector<int64_t> starts, ends, axes, steps;
    if (failed(evalShape(slice.getData(), data, depth + 1)) ||
        !getInts(slice.getStarts(), starts) ||
        !getInts(slice.getEnds(), ends) || starts.size() != 1 ||
        ends.size() != 1 ||
        (slice.getAxes() && !getInts(slice.getAxes(), axes)) ||
        (slice.getSteps() && !getInts(slice.getSteps(), steps)))
      return failure();
    onnx::fillSliceDefaults(1, axes, steps);
    if (axes.size() != 1 || onnx::normalizeAxis(axes[0], 1) != 0 ||
        steps.size() != 1 || steps[0] != 1)
      return failure();
    int64_t size = data.size();
    for (int64_t i = onnx::sliceIndex(starts[0], size, 1),
                 e = onnx::sliceIndex(ends[0], size, 1);
         i < e; ++i)
      out.push_back(data[i]);
    return success();
  }
  if (isa<onnx::UnsqueezeOp, onnx::SqueezeOp, onnx::CastOp>(def))
    return evalShape(def->getOperand(0), out, depth + 1);
  if (auto concat = dyn_cast<onnx::ConcatOp>(def)) {
    for (Value in : concat.getInputs())
      if (failed(evalShape(in, out, depth + 1)))
        return failure();
    return success();
  }
  if (isa<onnx::AddOp, onnx::SubOp, onnx::DivOp, onnx::MulOp>(def)) {
    SmallVector<SymDim> a, b;
    if (failed(evalShape(def->getOperand(0), a, depth + 1)) ||
        failed(evalShape(def->getOperand(1), b, depth + 1)) || a.size() != 1 ||
        b.size() != 1)
      return failure();
    if (isa<onnx::MulOp>(def) && (a[0].of || b[0].of)) {
      if (a[0].of && b[0].of)
        return failure();
      SymDim d = a[0].of ? a[0] : b[0];
      d.scale *= a[0].of ? b[0].constant : a[0].constant;
      out.push_back(d);
      return success();
    }
    if (a[0].of || b[0].of)
      return failure();
    int64_t x = a[0].constant, y = b[0].constant, r;
    if (isa<onnx::AddOp>(def))
      r = x + y;
    else if (isa<onnx::SubOp>(def))
      r = x - y;
    else if (isa<onnx::MulOp>(def))
      r = x * y;
    else if (x < 0 || y <= 0) // ONNX integer Div truncates
      return failure();
    else
      r = x / y;
    out.push_back(SymDim{r, Value(), -1});
    return success();
  }
  return failure();
}

/// The values of `v` if they are all constants (static or evaluated).
bool getInts(Value v, SmallVectorImpl<int64_t> &out) {
  if (onnx::getConstantInts(v, out))
    return true;
  SmallVector<SymDim> dims;
  if (failed(evalShape(v, dims)))
    return false;
  for (const SymDim &d : dims) {
    if (d.of)
      return false;
    out.push_back(d.constant);
  }
  return true;
}

/// The values whose first two dims are those of `piece`: itself, and up
/// through Split/Slice on the feature axis, the bias Add and the MatMul to
/// its input (the last one: values with the same last one have the same
/// first two dims).
SmallVector<Value> sameRows(Value piece) {
  SmallVector<Value> values = {piece};
  Value v = piece;
  for (int step = 0; step < 4; ++step) {
    Operation *def = v.getDefiningOp();
    if (isa_and_nonnull<onnx::SplitOp, onnx::SliceOp>(def))
      v = def->getOperand(0);
    else if (auto add = dyn_cast_or_null<onnx::AddOp>(def))
      v = add.getA().getType() == add.getType() ? add.getA() : add.getB();
    else if (auto mm = dyn_cast_or_null<onnx::MatMulOp>(def))
      v = mm.getA();
    else
      break;
    values.push_back(v);
  }
  return values;
}

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// The perm taking the fused [B, H, S, Dh] result to the Reshape's layout
/// ([B, S, H, Dh] batch-first, [S, B, H, Dh] seq-first).
SmallVector<int64_t> reshapeFromFused(bool seqFirst) {
  if (seqFirst)
    return {2, 0, 1, 3};
  return {0, 2, 1, 3};
}

/// Whether a user Transpose of a Reshape with this layout reads the head
/// split: the fused result itself, or its K^T form.
bool isHeadSplit(ArrayRef<int64_t> perm, bool seqFirst) {
  if (perm.size() != 4)
    return false;
  SmallVector<int64_t> c = composePerms(reshapeFromFused(seqFirst), perm);
  return isIdentityPerm(c) ||
         ArrayRef<int64_t>(c) == ArrayRef<int64_t>{0, 1, 3, 2};
}

/// Whether `r` splits the rank-3 `v` into heads: [d0, d1, H, Dh], or
/// [d0, d1 * H, Dh] (nn.MultiheadAttention's seq-first [S, B * H, Dh]).
bool isHeadReshape(onnx::ReshapeOp r, Value v, int64_t width, int64_t &heads,
                   int64_t &headDim) {
  auto vt = dyn_cast<RankedTensorType>(v.getType());
  auto rt = dyn_cast<RankedTensorType>(r.getType());
  if (!vt || !rt || vt.getRank() != 3 || width <= 0 ||
      !fused::compatibleDim(vt.getDimSize(2), width))
    return false;
  if (!vt.hasStaticShape() || !rt.hasStaticShape()) {
    // Dynamic rows: the shape vector must be [d0, d1, H, Dh] (or flat
    // [d0, d1 * H, Dh]) with d0, d1 the rows' own dims (or 0: copy), H and
    // Dh constants (Dh may be -1 in the 4-D form).
    SmallVector<SymDim> dims;
    if (failed(evalShape(r.getShape(), dims)) ||
        int64_t(dims.size()) != rt.getRank() ||
        (rt.getRank() != 4 && rt.getRank() != 3))
      return false;
    Value root = sameRows(v).back();
    auto isRow = [&](const SymDim &d, int64_t i, int64_t scale) {
      bool copy =
          scale == 1 && !d.of && d.constant == 0 && r.getAllowzero() == 0;
      bool same = d.of && d.dim == i && d.scale == scale &&
                  sameRows(d.of).back() == root;
      bool equal = !d.of && !ShapedType::isDynamic(vt.getDimSize(i)) &&
                   d.constant == vt.getDimSize(i) * scale && d.constant > 0;
      return copy || same || equal;
    };
    if (rt.getRank() == 3) {
      if (dims[2].of || dims[2].constant <= 0 || width % dims[2].constant)
        return false;
      headDim = dims[2].constant;
      heads = width / headDim;
      int64_t d1 = vt.getDimSize(1);
      // torch takes B of B * H from the query, not from this (key/value)
      // input: any dim times H will do, as the element count then forces
      // it to be d1 * H.
      bool timesHeads = dims[1].of && dims[1].scale == heads;
      return isRow(dims[0], 0, 1) && (isRow(dims[1], 1, heads) || timesHeads) &&
             compatibleShape(rt, {vt.getDimSize(0),
                                  ShapedType::isDynamic(d1) ? d1 : d1 * heads,
                                  headDim});
    }
    if (!isRow(dims[0], 0, 1) || !isRow(dims[1], 1, 1))
      return false;
    if (dims[2].of || dims[3].of || dims[2].constant <= 0)
      return false;
    heads = dims[2].constant;
    headDim = dims[3].constant == -1 ? width / heads : dims[3].constant;
    return headDim > 0 && heads * headDim == width &&
           compatibleShape(
               rt, {vt.getDimSize(0), vt.getDimSize(1), heads, headDim});
  }
  std::optional<HeadSplit> split =
      staticHeadSplit(vt.getShape(), rt.getShape());
  if (!split)
    return false;
  heads = split->heads;
  headDim = split->headDim;
  return true;
}

/// Whether `v` has a user Reshape that looks like a head split (to rank 4,
/// or a flat one): the MatMul is then a candidate, matched or reported.
bool hasHeadReshape(Value v) {
  return llvm::any_of(v.getUsers(), [&](Operation *user) {
    auto r = dyn_cast<onnx::ReshapeOp>(user);
    if (!r)
      return false;
    auto rt = dyn_cast<RankedTensorType>(r.getType());
    auto vt = dyn_cast<RankedTensorType>(v.getType());
    return rt && vt && vt.getRank() == 3 &&
           (rt.getRank() == 4 || rt.getRank() == 3);
  });
}

/// Checks `piece` is only head-split; fills its Reshapes and H/Dh, and the
/// layouts it is consistent with.
LogicalResult matchHeadSplit(Piece &piece, int64_t &heads, int64_t &headDim,
                             bool &batchFirstOk, bool &seqFirstOk,
                             std::string &reason) {
  RankedTensorType type;
  for (Operation *user : piece.value.getUsers()) {
    if (isa<onnx::ShapeOfOp>(user))
      continue; // rebuilt from X
    auto r = dyn_cast<onnx::ReshapeOp>(user);
    if (!r) {
      reason = "a projection has a use other than its head-split Reshape";
      return failure();
    }
    auto rt = cast<RankedTensorType>(r.getType());
    int64_t h, dh;
    if (!isHeadReshape(r, piece.value, piece.width, h, dh)) {
      reason = "a projection is reshaped to something other than "
               "[d0, d1, H, Dh] or [d0, d1 * H, Dh]";
      return failure();
    }
    heads = h;
    headDim = dh;
    if (type && type != rt) {
      reason = "a projection is reshaped with two head counts";
      return failure();
    }
    type = rt;
    piece.reshapes.push_back(r);
  }
  if (!type) {
    reason = "a projection is not used";
    return failure();
  }
  batchFirstOk = seqFirstOk = false;
  for (onnx::ReshapeOp r : piece.reshapes)
    for (Operation *user : r->getUsers())
      if (auto tr = dyn_cast<onnx::TransposeOp>(user)) {
        SmallVector<int64_t> perm = permOf(tr);
        if (type.getRank() == 3) {
          // [S, B * H, Dh] -> [B * H, S, Dh], or K^T [B * H, Dh, S].
          seqFirstOk |= perm == SmallVector<int64_t>{1, 0, 2} ||
                        perm == SmallVector<int64_t>{1, 2, 0};
          continue;
        }
        batchFirstOk |= isHeadSplit(perm, false);
        seqFirstOk |= isHeadSplit(perm, true);
      }
  if (!batchFirstOk && !seqFirstOk) {
    reason = "a projection's Reshape is not Transposed into heads "
             "(perm [0, 2, 1, 3] or [1, 2, 0, 3], or [1, 0, 2] for "
             "[S, B * H, Dh])";
    return failure();
  }
  return success();
}

/// Whether the MatMul's result reaches a rank-4 Reshape directly or through
/// a bias Add and a Split/Slice: the MatMul is then a candidate to report.
bool looksLikeProjection(onnx::MatMulOp mm) {
  auto at = dyn_cast<RankedTensorType>(mm.getA().getType());
  if (!at || at.getRank() != 3)
    return false;
  SmallVector<Value> frontier = {mm.getY()};
  for (int step = 0; step < 3; ++step) {
    SmallVector<Value> next;
    for (Value v : frontier) {
      if (hasHeadReshape(v))
        return true;
      for (Operation *user : v.getUsers())
        if (isa<onnx::AddOp, onnx::SplitOp, onnx::SliceOp>(user))
          next.append(user->result_begin(), user->result_end());
    }
    frontier = std::move(next);
  }
  return false;
}

/// Matches the MatMul, bias and splitting of `mm` (see the file comment).
/// Fails with `reason` for a candidate that does not fit.
LogicalResult matchProjection(onnx::MatMulOp mm, Projection &p,
                              std::string &reason) {
  p.matmul = mm;
  Value x = mm.getA();
  auto wt = dyn_cast<RankedTensorType>(mm.getB().getType());
  auto yt = dyn_cast<RankedTensorType>(mm.getY().getType());
  if (!hasStaticFeatures(x) || !wt || wt.getRank() != 2 || !yt ||
      yt.getRank() != 3) {
    reason = "needs a [d0, d1, E] input with static E and a 2-D weight";
    return failure();
  }
  auto xt = cast<RankedTensorType>(x.getType());
  Type elt = xt.getElementType();
  if (!isKernelFloat(elt)) {
    reason = "needs an f32, f16 or bf16 input";
    return failure();
  }
  auto weight = evalConst(mm.getB());
  if (!weight || weight->elementType != elt) {
    reason = "the weight is not a compile-time constant of the input's type";
    return failure();
  }
  p.weight = std::move(*weight);
  if (p.weight.shape.size() != 2 || p.weight.shape[0] != xt.getDimSize(2) ||
      !fused::compatibleDim(yt.getDimSize(2), p.weight.shape[1])) {
    reason = "the weight does not match the input";
    return failure();
  }
  int64_t n = p.weight.shape[1];
  p.out = mm.getY();
  SmallVector<Operation *> mmUsers = dataUsers(p.out);
  if (mmUsers.size() == 1)
    if (auto add = dyn_cast<onnx::AddOp>(mmUsers[0])) {
      Value other = add.getA() == p.out ? add.getB() : add.getA();
      auto bias = evalConst(other);
      if (!bias || bias->elementType != elt ||
          bias->shape != SmallVector<int64_t>{n} ||
          add.getType() != p.out.getType()) {
        reason = "the Add after the MatMul is not a constant bias of " +
                 std::to_string(n) + " elements";
        return failure();
      }
      p.biasAdd = add;
      p.bias = other;
      p.biasValue = std::move(*bias);
      p.out = add.getC();
    }

  // One projection, or a packed one split on the feature axis.
  SmallVector<Operation *> users = dataUsers(p.out);
  if (users.empty()) {
    reason = "the projection is not used";
    return failure();
  }
  if (llvm::all_of(users,
                   [](Operation *u) { return isa<onnx::ReshapeOp>(u); })) {
    p.pieces.push_back(Piece{p.out, 0, n, {}});
    return success();
  }
  p.packed = true;
  if (users.size() == 1 && isa<onnx::SplitOp>(users[0])) {
    auto split = cast<onnx::SplitOp>(users[0]);
    if (onnx::normalizeAxis(split.getAxis(), 3) != 2) {
      reason = "the packed projection is not split on its last axis";
      return failure();
    }
    p.splitter = split;
    int64_t offset = 0;
    for (Value piece : split.getOutputs()) {
      if (!hasStaticFeatures(piece)) {
        reason = "needs static feature dims";
        return failure();
      }
      int64_t width = shapeOf(piece)[2];
      p.pieces.push_back(Piece{piece, offset, width, {}});
      offset += width;
    }
    return success();
  }
  if (llvm::all_of(users, [](Operation *u) { return isa<onnx::SliceOp>(u); })) {
    for (Operation *u : users) {
      auto slice = cast<onnx::SliceOp>(u);
      SmallVector<int64_t> starts, ends, axes, steps;
      if (!getInts(slice.getStarts(), starts) ||
          !getInts(slice.getEnds(), ends) ||
          (slice.getAxes() && !getInts(slice.getAxes(), axes)) ||
          (slice.getSteps() && !getInts(slice.getSteps(), steps)) ||
          starts.size() != 1 || ends.size() != 1) {
        reason = "a Slice of the packed projection is not one constant range";
        return failure();
      }
      onnx::fillSliceDefaults(1, axes, steps);
      auto st = dyn_cast<RankedTensorType>(slice.getOutput().getType());
      if (axes.size() != 1 || onnx::normalizeAxis(axes[0], 3) != 2 ||
          steps.size() != 1 || steps[0] != 1 || !st || st.getRank() != 3) {
        reason = "a Slice of the packed projection is not a unit-step range "
                 "of its last axis";
        return failure();
      }
      int64_t start = onnx::sliceIndex(starts[0], n, 1);
      int64_t width = onnx::sliceIndex(ends[0], n, 1) - start;
      if (width <= 0 || !fused::compatibleDim(st.getDimSize(2), width)) {
        reason = "a Slice of the packed projection is empty or mistyped";
        return failure();
      }
      p.pieces.push_back(Piece{slice.getOutput(), start, width, {}});
    }
    llvm::sort(p.pieces, [](const Piece &a, const Piece &b) {
      return a.offset < b.offset;
    });
    return success();
  }
  reason = "the projection has a use other than its head split";
  return failure();
}

/// Grouped-query attention: of three independent projections with one head
/// size, one (Q) has H heads and the other two (K, V) Hkv heads each, Hkv
/// dividing H. Returns Q's index, or -1.
int gqaQuery(ArrayRef<Piece> pieces) {
  if (pieces.size() != 3)
    return -1;
  for (int q = 0; q < 3; ++q) {
    int64_t h = pieces[q].heads, kv = pieces[(q + 1) % 3].heads;
    if (pieces[(q + 2) % 3].heads == kv && h > kv && h % kv == 0)
      return q;
  }
  return -1;
}

/// Checks the pieces of a projection group: n = 2 or 3 head splits with the
/// same Dh and a common layout, and the same H (or, for three independent
/// projections, grouped-query Q, K, V heads: see gqaQuery); `cover` is the
/// packed width they must tile exactly in equal parts (0: independent
/// projections). `heads` is the largest head count.
LogicalResult matchPieces(MutableArrayRef<Piece> pieces, int64_t cover,
                          int64_t &heads, int64_t &headDim, bool &seqFirst,
                          std::string &reason) {
  if (pieces.size() != 2 && pieces.size() != 3) {
    reason = std::to_string(pieces.size()) +
             " projections (needs 2 for K/V or 3 for Q/K/V)";
    return failure();
  }
  bool batchOk = true, seqOk = true;
  heads = headDim = 0;
  int64_t offset = 0;
  for (Piece &piece : pieces) {
    if (cover) {
      if (piece.offset != offset || piece.width != pieces[0].width) {
        reason = "the packed projection is not split into equal contiguous "
                 "parts";
        return failure();
      }
      offset += piece.width;
    }
    int64_t h = 0, dh = 0;
    bool b, s;
    if (failed(matchHeadSplit(piece, h, dh, b, s, reason)))
      return failure();
    if (headDim && dh != headDim) {
      reason = "mismatched head counts (" + std::to_string(pieces[0].heads) +
               " x " + std::to_string(headDim) + " vs " + std::to_string(h) +
               " x " + std::to_string(dh) + ")";
      return failure();
    }
    piece.heads = h;
    heads = std::max(heads, h);
    headDim = dh;
    batchOk &= b;
    seqOk &= s;
  }
  if (llvm::any_of(pieces, [&](const Piece &p) { return p.heads != heads; }) &&
      (cover || gqaQuery(pieces) < 0)) {
    reason = "mismatched head counts (";
    for (const Piece &p : pieces)
      reason += (&p == pieces.begin() ? "" : " vs ") + std::to_string(p.heads) +
                " x " + std::to_string(headDim);
    reason += "), not Q, K and V of grouped-query attention";
    return failure();
  }
  if (cover && offset != cover) {
    reason = "the packed projection is not split into equal contiguous parts";
    return failure();
  }
  if (!batchOk && !seqOk) {
    reason = "the projections are head-split in different layouts";
    return failure();
  }
  seqFirst = !batchOk;
  return success();
}

//===----------------------------------------------------------------------===//
// Rewriting
//===----------------------------------------------------------------------===//

IntegerAttr si64(OpBuilder &b, int64_t v) {
  return b.getIntegerAttr(b.getIntegerType(64, /*isSigned=*/true), v);
}

/// Replaces `shape` (of a rank-3 [d0, d1, width] value) by the same dims
/// taken from `rows` (same d0, d1) and the constant width.
void replaceShape(RewriterBase &rewriter, onnx::ShapeOfOp shape, Value rows,
                  int64_t width) {
  auto [start, end] = onnx::shapeRange(shape, 3);
  Location loc = shape.getLoc();
  rewriter.setInsertionPoint(shape);
  auto i64 = rewriter.getI64Type();
  SmallVector<Value> parts;
  if (start < 2)
    parts.push_back(rewriter.create<onnx::ShapeOfOp>(
        loc, RankedTensorType::get({std::min<int64_t>(end, 2) - start}, i64),
        rows, si64(rewriter, start),
        si64(rewriter, std::min<int64_t>(end, 2))));
  if (end > 2)
    parts.push_back(rewriter.create<onnx::ConstantOp>(
        loc, DenseElementsAttr::get(RankedTensorType::get({1}, i64),
                                    ArrayRef<int64_t>{width})));
  Value result;
  if (parts.size() == 1)
    result = parts[0];
  else if (parts.size() == 2)
    result = rewriter.create<onnx::ConcatOp>(loc, shape.getType(), parts,
                                             si64(rewriter, 0));
  else
    result = rewriter.create<onnx::ConstantOp>(
        loc, DenseElementsAttr::get(RankedTensorType::get({0}, i64),
                                    ArrayRef<int64_t>{}));
  if (result.getType() != shape.getType())
    return; // keep the original (and the chain) alive
  rewriter.replaceOp(shape, result);
}

/// `value` ([B, H, S, Dh]) transposed by `perm` and, if `type` is rank 3,
/// with dims `collapse` and `collapse` + 1 merged.
Value buildView(RewriterBase &rewriter, Location loc, Value value,
                ArrayRef<int64_t> perm, RankedTensorType type,
                int64_t collapse) {
  if (!isIdentityPerm(perm)) {
    auto vt = cast<RankedTensorType>(value.getType());
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(vt.getDimSize(p));
    value = rewriter.create<onnx::TransposeOp>(
        loc, RankedTensorType::get(shape, vt.getElementType()), value,
        rewriter.getI64ArrayAttr(perm));
  }
  if (value.getType() == type)
    return value;
  auto i64 = rewriter.getI64Type();
  auto shapeType = RankedTensorType::get({type.getRank()}, i64);
  Value shape;
  if (type.hasStaticShape()) {
    shape = rewriter.create<onnx::ConstantOp>(
        loc, DenseElementsAttr::get(shapeType, type.getShape()));
  } else {
    // Dynamic rows: the shape vector from the value's own dims.
    auto dims = [&](int64_t a, int64_t b) -> Value {
      return rewriter.create<onnx::ShapeOfOp>(
          loc, RankedTensorType::get({b - a}, i64), value, si64(rewriter, a),
          si64(rewriter, b));
    };
    SmallVector<Value> parts;
    if (collapse > 0)
      parts.push_back(dims(0, collapse));
    // One statement per op built: argument evaluation order is unspecified.
    Value outer = dims(collapse, collapse + 1);
    Value inner = dims(collapse + 1, collapse + 2);
    parts.push_back(rewriter.create<onnx::MulOp>(
        loc, RankedTensorType::get({1}, i64), outer, inner));
    if (collapse + 2 < 4)
      parts.push_back(dims(collapse + 2, 4));
    shape = rewriter.create<onnx::ConcatOp>(loc, shapeType, parts,
                                            si64(rewriter, 0));
  }
  return rewriter.create<onnx::ReshapeOp>(loc, type, value, shape);
}

/// Replaces the users of the seq-first flat head split `r` ([S, B * H, Dh])
/// by views of the fused `result` ([B, H, S, Dh]).
void replaceFlatHeads(RewriterBase &rewriter, onnx::ReshapeOp r, Value result) {
  for (Operation *user : llvm::make_early_inc_range(r->getUsers())) {
    auto tr = dyn_cast<onnx::TransposeOp>(user);
    if (!tr)
      continue;
    SmallVector<int64_t> perm = permOf(tr);
    SmallVector<int64_t> pre;
    if (perm == SmallVector<int64_t>{1, 0, 2})
      pre = {0, 1, 2, 3}; // [B * H, S, Dh]
    else if (perm == SmallVector<int64_t>{1, 2, 0})
      pre = {0, 1, 3, 2}; // K^T: [B * H, Dh, S]
    else
      continue;
    rewriter.setInsertionPoint(tr);
    rewriter.replaceOp(tr, buildView(rewriter, tr.getLoc(), result, pre,
                                     cast<RankedTensorType>(tr.getType()),
                                     /*collapse=*/0));
  }
  if (!r->use_empty()) {
    rewriter.setInsertionPointAfterValue(result);
    rewriter.replaceAllUsesWith(
        r.getResult(), buildView(rewriter, r.getLoc(), result, {2, 0, 1, 3},
                                 cast<RankedTensorType>(r.getType()),
                                 /*collapse=*/1));
  }
}

/// Replaces the projections `members` (pieces in result order) by one
/// tessera.qkv_projection of `x`, which it returns.
Operation *rewriteGroup(RewriterBase &rewriter, Value x,
                        ArrayRef<Projection *> members,
                        ArrayRef<Piece *> pieces, int64_t heads,
                        int64_t headDim, bool seqFirst) {
  // The packed weight [E, sum of widths] and bias, in piece order (Q first
  // when K and V have fewer heads).
  int64_t total = 0;
  for (Piece *piece : pieces)
    total += piece->heads * headDim;
  int64_t e = shapeOf(x)[2];
  ConstTensor w, bias;
  w.elementType = bias.elementType = getElementTypeOrSelf(x);
  w.shape = {e, total};
  w.data.assign(e * total, 0.0f);
  bias.shape = {total};
  bias.data.assign(total, 0.0f);
  bool hasBias = false;
  int64_t first = 0; // the piece's first packed column
  for (auto [i, piece] : llvm::enumerate(pieces)) {
    Projection *proj = members.size() == 1 ? members[0] : members[i];
    const ConstTensor &src = proj->weight;
    int64_t cols = src.shape[1], width = piece->heads * headDim;
    w.resource |= src.resource;
    for (int64_t r = 0; r < e; ++r)
      for (int64_t c = 0; c < width; ++c)
        w.data[r * total + first + c] = src.data[r * cols + piece->offset + c];
    if (proj->biasValue) {
      hasBias = true;
      bias.resource |= proj->biasValue->resource;
      for (int64_t c = 0; c < width; ++c)
        bias.data[first + c] = proj->biasValue->data[piece->offset + c];
    }
    first += width;
  }

  // Insert before the first MatMul: X dominates it, and every use of the
  // projections follows their own MatMul.
  Operation *firstMatMul = members[0]->matmul;
  for (Projection *m : members)
    if (m->matmul->isBeforeInBlock(firstMatMul))
      firstMatMul = m->matmul;
  Location loc = firstMatMul->getLoc();
  rewriter.setInsertionPoint(firstMatMul);

  // The Reshapes keep the layout of the projections they split.
  SmallVector<int64_t> fromFused = reshapeFromFused(seqFirst);
  SmallVector<Operation *> dead;
  // Seq-first X that is a Transpose of a batch-first tensor: read that.
  if (seqFirst)
    if (auto tr = x.getDefiningOp<onnx::TransposeOp>())
      if (isPerm(tr, {1, 0, 2})) {
        x = tr.getData();
        seqFirst = false;
      }

  // Shape users of the replaced chain (dynamic rows) read X's rows instead.
  SmallVector<std::pair<Value, int64_t>> chain;
  for (Piece *piece : pieces)
    chain.push_back({piece->value, piece->width});
  for (Projection *m : members) {
    chain.push_back({m->matmul.getY(), m->weight.shape[1]});
    chain.push_back({m->out, m->weight.shape[1]});
  }
  Value rowsOf = members[0]->matmul.getA();
  for (auto [v, cols] : chain)
    for (Operation *user : llvm::make_early_inc_range(v.getUsers()))
      if (auto shape = dyn_cast<onnx::ShapeOfOp>(user))
        replaceShape(rewriter, shape, rowsOf, cols);
  rewriter.setInsertionPoint(firstMatMul);

  Value wv = buildConstant(rewriter, loc, w, "qkv_weight");
  Value bv = hasBias ? buildConstant(rewriter, loc, bias, "qkv_bias") : Value();
  ArrayRef<int64_t> xs = shapeOf(x);
  int64_t batch = xs[seqFirst ? 1 : 0], seq = xs[seqFirst ? 0 : 1];
  // Each result takes the type of the head split it replaces (with dynamic
  // rows, the exporter's type may be less refined).
  SmallVector<Type> resultTypes;
  for (Piece *piece : pieces)
    resultTypes.push_back(RankedTensorType::get(
        {batch, piece->heads, seq, headDim}, getElementTypeOrSelf(x)));
  for (auto [i, piece] : llvm::enumerate(pieces))
    for (onnx::ReshapeOp r : piece->reshapes)
      for (Operation *user : r->getUsers())
        if (auto tr = dyn_cast<onnx::TransposeOp>(user))
          if (cast<RankedTensorType>(r.getType()).getRank() == 4 &&
              isIdentityPerm(composePerms(fromFused, permOf(tr))))
            resultTypes[i] = tr.getType();
  IntegerAttr kvHeads;
  if (pieces.back()->heads != heads)
    kvHeads = rewriter.getI64IntegerAttr(pieces.back()->heads);
  auto op = rewriter.create<fused::QKVProjectionOp>(
      loc, resultTypes, x, wv, bv, /*cos_cache=*/Value(), /*sin_cache=*/Value(),
      /*position_ids=*/Value(), rewriter.getI64IntegerAttr(heads), kvHeads,
      rewriter.getBoolAttr(seqFirst), /*rotary_results=*/DenseI64ArrayAttr(),
      /*rotary_interleaved=*/rewriter.getBoolAttr(false),
      /*rotary_dim=*/rewriter.getI64IntegerAttr(0));

  // Every user of a head-split Reshape becomes a Transpose of the result
  // (none when it is the head split itself).
  for (auto [i, piece] : llvm::enumerate(pieces)) {
    Value result = op.getOutputs()[i];
    for (onnx::ReshapeOp r : piece->reshapes) {
      if (cast<RankedTensorType>(r.getType()).getRank() == 3) {
        replaceFlatHeads(rewriter, r, result);
        dead.push_back(r);
        continue;
      }
      for (Operation *user : llvm::make_early_inc_range(r->getUsers())) {
        auto tr = dyn_cast<onnx::TransposeOp>(user);
        if (!tr || tr.getPerm().size() != 4)
          continue;
        SmallVector<int64_t> perm = composePerms(fromFused, permOf(tr));
        if (isIdentityPerm(perm)) {
          rewriter.replaceOp(tr, result);
          continue;
        }
        rewriter.setInsertionPoint(tr);
        rewriter.replaceOpWithNewOp<onnx::TransposeOp>(
            tr, tr.getType(), result, rewriter.getI64ArrayAttr(perm));
      }
      if (!r->use_empty()) {
        rewriter.setInsertionPointAfter(op);
        Value back = rewriter.create<onnx::TransposeOp>(
            r.getLoc(), r.getType(), result,
            rewriter.getI64ArrayAttr(fromFused));
        rewriter.replaceAllUsesWith(r.getResult(), back);
      }
      dead.push_back(r);
    }
  }
  for (Piece *piece : pieces)
    dead.push_back(piece->value.getDefiningOp());
  eraseDeadONNXOps(rewriter, dead);
  return op;
}

/// The projections one tessera.qkv_projection replaces: one packed
/// projection split into two or three, or two or three projections of the
/// same input.
struct Group {
  SmallVector<std::unique_ptr<Projection>> storage;
  SmallVector<Projection *> members;
  SmallVector<Piece> pieces; // in result order
  Value x;
  int64_t heads = 0, headDim = 0;
  bool seqFirst = false;
};

/// The fusion, anchored on a projection's MatMul: a packed projection is
/// fused on its own; projections of one input are fused by the first of them
/// (in program order) that matches, which rejects the others' group with
/// them. Group rejections are reported at every member, in program order.
struct FuseQKV : FusionPattern<onnx::MatMulOp, FuseQKV> {
  FuseQKV(MLIRContext *ctx, bool report)
      : FusionPattern(ctx, kKind, report), report(report) {}

  std::optional<Group> matchCandidate(onnx::MatMulOp mm,
                                      std::string &why) const;
  Operation *rewriteMatch(onnx::MatMulOp mm, Group &group,
                          PatternRewriter &rewriter) const {
    SmallVector<Piece *> pieces;
    for (Piece &piece : group.pieces)
      pieces.push_back(&piece);
    return rewriteGroup(rewriter, group.x, group.members, pieces, group.heads,
                        group.headDim, group.seqFirst);
  }

private:
  std::optional<Group> matchSiblings(onnx::MatMulOp mm,
                                     std::unique_ptr<Projection> own) const;
  bool report;
};

std::optional<Group> FuseQKV::matchCandidate(onnx::MatMulOp mm,
                                             std::string &why) const {
  if (!looksLikeProjection(mm))
    return std::nullopt;
  auto p = std::make_unique<Projection>();
  if (failed(matchProjection(mm, *p, why)))
    return std::nullopt;
  if (!p->packed)
    return matchSiblings(mm, std::move(p));
  Group group;
  if (failed(matchPieces(p->pieces, p->weight.shape[1], group.heads,
                         group.headDim, group.seqFirst, why)))
    return std::nullopt;
  group.x = mm.getA();
  group.pieces = p->pieces;
  group.members.push_back(p.get());
  group.storage.push_back(std::move(p));
  return group;
}

std::optional<Group>
FuseQKV::matchSiblings(onnx::MatMulOp mm,
                       std::unique_ptr<Projection> own) const {
  // The projections of X, in program order; packed ones fuse on their own.
  Value x = mm.getA();
  Group group;
  group.x = x;
  bool anyFailed = false;
  Operation *scope = mm->getParentWithTrait<OpTrait::IsIsolatedFromAbove>();
  scope->walk([&](onnx::MatMulOp other) {
    if (other.getA() != x || !looksLikeProjection(other))
      return;
    std::unique_ptr<Projection> q;
    if (other == mm) {
      q = std::move(own);
    } else {
      q = std::make_unique<Projection>();
      std::string reason;
      if (failed(matchProjection(other, *q, reason))) {
        anyFailed = true;
        return;
      }
    }
    if (q->packed)
      return;
    group.members.push_back(q.get());
    group.storage.push_back(std::move(q));
  });
  // The first projection of X decides for all of them.
  if (group.members.empty() || group.members[0]->matmul != mm)
    return std::nullopt;
  auto reject = [&](StringRef reason) -> std::optional<Group> {
    if (report)
      for (Projection *m : group.members)
        reportNotFused(m->matmul, kKind, reason);
    return std::nullopt;
  };
  // Which projections of X belong together is unclear when one of them
  // does not fit: leave them all.
  if (anyFailed)
    return reject("another head-split projection of this input cannot be "
                  "fused");
  // A lone head-split projection (the Q of a cross-attention) is not a
  // candidate.
  if (group.members.size() < 2)
    return std::nullopt;
  Block *block = mm->getBlock();
  if (llvm::any_of(group.members, [&](Projection *m) {
        return m->matmul->getBlock() != block;
      }))
    return reject("the projections are in different blocks");
  // (Different widths are grouped-query Q, K, V: matchPieces checks.)
  if (llvm::any_of(group.members, [&](Projection *m) {
        return m->weight.shape[0] != group.members[0]->weight.shape[0];
      }))
    return reject("the projection weights have different input sizes");
  for (Projection *m : group.members)
    group.pieces.push_back(m->pieces[0]);
  std::string reason;
  if (failed(matchPieces(group.pieces, 0, group.heads, group.headDim,
                         group.seqFirst, reason)))
    return reject(reason);
  // Grouped-query: Q (the most heads) first, as the fused op lays them out.
  if (int q = gqaQuery(group.pieces); q > 0) {
    std::rotate(group.pieces.begin(), group.pieces.begin() + q,
                group.pieces.begin() + q + 1);
    std::rotate(group.members.begin(), group.members.begin() + q,
                group.members.begin() + q + 1);
  }
  return group;
}

struct FuseQKVPass : impl::FuseQKVBase<FuseQKVPass> {
  using FuseQKVBase::FuseQKVBase;

  void runOnOperation() override {
    // The candidates in the order the fusions are decided: projections that
    // do not match are reported first (in program order), then the packed
    // projections are fused, then the projections of each input (by the
    // first of them).
    SmallVector<Operation *> packed, firsts;
    llvm::DenseSet<Value> inputs;
    getOperation().walk([&](onnx::MatMulOp mm) {
      if (!looksLikeProjection(mm))
        return;
      Projection p;
      std::string reason;
      if (failed(matchProjection(mm, p, reason))) {
        if (report)
          reportNotFused(mm, kKind, reason);
        return;
      }
      if (p.packed)
        packed.push_back(mm);
      else if (inputs.insert(mm.getA()).second)
        firsts.push_back(mm);
    });
    SmallVector<Operation *> candidates(packed);
    candidates.append(firsts);
    applyToCandidates(populateFuseQKVPatterns, candidates, kKind, report);
  }
};

} // namespace

void populateFuseQKVPatterns(RewritePatternSet &patterns, bool report) {
  patterns.add<FuseQKV>(patterns.getContext(), report);
}

} // namespace tessera
