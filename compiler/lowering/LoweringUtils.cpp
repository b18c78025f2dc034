//===- LoweringUtils.cpp - helpers shared by the onnx lowerings -----------===//

#include "compiler/lowering/LoweringUtils.h"
#include "compiler/transforms/MatchUtils.h"
#include "dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

namespace tessera::lowering {

AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> shape,
                       ArrayRef<int64_t> resultShape) {
  SmallVector<AffineExpr> exprs;
  size_t offset = resultShape.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1 && resultShape[i + offset] != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(i + offset, ctx));
  }
  return AffineMap::get(resultShape.size(), 0, exprs, ctx);
}

std::string nodeName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location l : fused.getLocations())
      if (std::string n = nodeName(l); n != "?")
        return n;
  if (auto call = dyn_cast<CallSiteLoc>(loc))
    return nodeName(call.getCallee());
  return "?";
}

void emitCheck(OpBuilder &b, Location loc, Value cond, const Twine &reason) {
  if (std::optional<int64_t> c = getConstantIntValue(cond); c && *c)
    return;
  b.create<cf::AssertOp>(loc, cond,
                         ("node '" + nodeName(loc) + "': " + reason).str());
}

/// A key identifying a size at compile time: the constant, or the tensor and
/// dim a tensor.dim reads, or the Value itself.
static std::tuple<const void *, int64_t, bool> sizeKey(OpFoldResult v) {
  if (std::optional<int64_t> c = getConstantIntValue(v))
    return {nullptr, *c, true};
  Value value = cast<Value>(v);
  if (auto dim = value.getDefiningOp<tensor::DimOp>())
    if (std::optional<int64_t> i = getConstantIntValue(dim.getIndex()))
      return {dim.getSource().getAsOpaquePointer(), *i, false};
  return {value.getAsOpaquePointer(), -1, false};
}

namespace {
/// A product of sizes known at compile time up to dynamic factors.
struct SymbolicProduct {
  int64_t constant = 1;
  SmallVector<std::tuple<const void *, int64_t, bool>> factors; // sorted
  bool valid = true;
  void multiply(OpFoldResult v) {
    if (std::optional<int64_t> c = getConstantIntValue(v)) {
      valid &= *c > 0;
      constant *= *c;
      return;
    }
    Value value = cast<Value>(v);
    if (auto mul = value.getDefiningOp<arith::MulIOp>()) {
      multiply(getAsOpFoldResult(mul.getLhs()));
      multiply(getAsOpFoldResult(mul.getRhs()));
      return;
    }
    // x / c where c divides x's constant factor (a -1 reshape entry).
    if (auto div = value.getDefiningOp<arith::DivSIOp>())
      if (std::optional<int64_t> c = getConstantIntValue(div.getRhs())) {
        SymbolicProduct inner;
        inner.multiply(getAsOpFoldResult(div.getLhs()));
        if (inner.valid && *c > 0 && inner.constant % *c == 0) {
          constant *= inner.constant / *c;
          for (auto &f : inner.factors)
            factors.insert(llvm::upper_bound(factors, f), f);
          return;
        }
      }
    factors.insert(llvm::upper_bound(factors, sizeKey(v)), sizeKey(v));
  }
  bool operator==(const SymbolicProduct &o) const {
    return constant == o.constant && factors == o.factors;
  }
  /// Whether this product is a factor of `o`.
  bool divides(const SymbolicProduct &o) const {
    return o.constant % constant == 0 &&
           std::includes(o.factors.begin(), o.factors.end(), factors.begin(),
                         factors.end());
  }
};
} // namespace

bool sameSize(OpFoldResult x, OpFoldResult y) {
  if (sizeKey(x) == sizeKey(y))
    return true;
  SymbolicProduct px, py;
  px.multiply(x);
  py.multiply(y);
  return px.valid && py.valid && px == py;
}

Value indexValue(OpBuilder &b, Location loc, OpFoldResult v) {
  return getValueOrCreateConstantIndexOp(b, loc, v);
}

bool isNonNegativeSize(OpFoldResult v) {
  if (std::optional<int64_t> c = getConstantIntValue(v))
    return *c >= 0;
  Operation *def = cast<Value>(v).getDefiningOp();
  if (isa_and_nonnull<tensor::DimOp>(def))
    return true;
  if (!isa_and_nonnull<arith::AddIOp, arith::MulIOp, arith::DivSIOp,
                       arith::CeilDivSIOp, arith::DivUIOp, arith::MaxSIOp,
                       arith::MinSIOp>(def))
    return false;
  return llvm::all_of(def->getOperands(), [](Value operand) {
    return isNonNegativeSize(getAsOpFoldResult(operand));
  });
}

OpFoldResult SizeMath::add(OpFoldResult x, OpFoldResult y) {
  return bin<arith::AddIOp>(x, y, std::plus<int64_t>());
}
OpFoldResult SizeMath::sub(OpFoldResult x, OpFoldResult y) {
  return bin<arith::SubIOp>(x, y, std::minus<int64_t>());
}
OpFoldResult SizeMath::mul(OpFoldResult x, OpFoldResult y) {
  return bin<arith::MulIOp>(x, y, std::multiplies<int64_t>());
}
OpFoldResult SizeMath::max(OpFoldResult x, OpFoldResult y) {
  // max(size, c <= 0) of a size known to be >= 0.
  auto atMostZero = [](OpFoldResult v) {
    std::optional<int64_t> c = getConstantIntValue(v);
    return c && *c <= 0;
  };
  if (atMostZero(y) && isNonNegativeSize(x))
    return x;
  if (atMostZero(x) && isNonNegativeSize(y))
    return y;
  return bin<arith::MaxSIOp>(
      x, y, [](int64_t p, int64_t q) { return std::max(p, q); });
}
OpFoldResult SizeMath::min(OpFoldResult x, OpFoldResult y) {
  return bin<arith::MinSIOp>(
      x, y, [](int64_t p, int64_t q) { return std::min(p, q); });
}
OpFoldResult SizeMath::div(OpFoldResult x, OpFoldResult y) {
  if (getConstantIntValue(y) == 1)
    return x;
  return bin<arith::DivSIOp>(x, y,
                             [](int64_t p, int64_t q) { return q ? p / q : 0; });
}

/// The predicate that compares y with x as `p` compares x with y.
static arith::CmpIPredicate swapOperands(arith::CmpIPredicate p) {
  using P = arith::CmpIPredicate;
  switch (p) {
  case P::slt: return P::sgt;
  case P::sle: return P::sge;
  case P::sgt: return P::slt;
  case P::sge: return P::sle;
  case P::ult: return P::ugt;
  case P::ule: return P::uge;
  case P::ugt: return P::ult;
  case P::uge: return P::ule;
  default: return p;
  }
}

Value SizeMath::cmp(arith::CmpIPredicate p, OpFoldResult x, OpFoldResult y) {
  using P = arith::CmpIPredicate;
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  auto constant = [&](bool value) {
    return b.create<arith::ConstantIntOp>(loc, value, 1).getResult();
  };
  if (cx && cy)
    return constant(
        arith::applyCmpPredicate(p, APInt(64, *cx), APInt(64, *cy)));
  // A size >= 0 against a negative constant, or against 0 for >= and <.
  auto versusConstant = [&](P pred, OpFoldResult size,
                            std::optional<int64_t> other) -> Value {
    if (!other || *other > 0 || !isNonNegativeSize(size))
      return {};
    if (pred == P::sge || pred == P::slt)
      return constant(pred == P::sge);
    if (*other == 0)
      return {};
    if (pred == P::eq || pred == P::sle)
      return constant(false);
    if (pred == P::ne || pred == P::sgt)
      return constant(true);
    return {};
  };
  if (Value r = versusConstant(p, x, cy))
    return r;
  if (Value r = versusConstant(swapOperands(p), y, cx))
    return r;
  return b.createOrFold<arith::CmpIOp>(loc, p, v(x), v(y));
}

OpFoldResult SizeMath::select(Value cond, OpFoldResult x, OpFoldResult y) {
  if (std::optional<int64_t> c = getConstantIntValue(cond))
    return *c ? x : y;
  if (x == y)
    return x;
  return fold(b.createOrFold<arith::SelectOp>(loc, cond, v(x), v(y)));
}

Value SizeMath::all(ArrayRef<Value> conds) {
  Value r = b.create<arith::ConstantIntOp>(loc, 1, 1);
  for (Value c : conds)
    r = b.createOrFold<arith::AndIOp>(loc, r, c);
  return r;
}

void checkSameSize(OpBuilder &b, Location loc, OpFoldResult x, OpFoldResult y,
                   const Twine &reason) {
  if (sameSize(x, y))
    return;
  Value eq = b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                           indexValue(b, loc, x),
                                           indexValue(b, loc, y));
  emitCheck(b, loc, eq, reason);
}

OpFoldResult sizeProduct(OpBuilder &b, Location loc,
                         ArrayRef<OpFoldResult> sizes) {
  int64_t c = 1;
  Value dyn;
  for (OpFoldResult s : sizes) {
    if (std::optional<int64_t> v = getConstantIntValue(s)) {
      c *= *v;
      continue;
    }
    dyn = dyn ? b.create<arith::MulIOp>(loc, dyn, cast<Value>(s))
              : cast<Value>(s);
  }
  if (!dyn)
    return b.getIndexAttr(c);
  if (c != 1)
    dyn = b.create<arith::MulIOp>(loc, dyn,
                                  b.create<arith::ConstantIndexOp>(loc, c));
  return dyn;
}

RankedTensorType refineType(RankedTensorType type,
                            ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> shape(type.getShape());
  for (auto [d, s] : llvm::enumerate(sizes))
    if (std::optional<int64_t> c = getConstantIntValue(s))
      shape[d] = *c;
  return type.clone(shape);
}

Value buildEmpty(OpBuilder &b, Location loc, RankedTensorType type,
                 ArrayRef<OpFoldResult> sizes) {
  SmallVector<Value> dynamic;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamic.push_back(indexValue(b, loc, sizes[d]));
  return b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType(),
                                   dynamic);
}

SmallVector<OpFoldResult>
broadcastSizes(OpBuilder &b, Location loc, ArrayRef<int64_t> resultShape,
               ArrayRef<SmallVector<OpFoldResult>> inputs) {
  int64_t rank = resultShape.size();
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < rank; ++d) {
    // The input dims that must equal the result's (all but static 1s).
    SmallVector<std::tuple<size_t, int64_t, OpFoldResult>> dims;
    for (auto [k, in] : llvm::enumerate(inputs)) {
      int64_t id = d - (rank - int64_t(in.size()));
      if (id >= 0 && getConstantIntValue(in[id]) != 1)
        dims.push_back({k, id, in[id]});
    }
    OpFoldResult size = b.getIndexAttr(1);
    auto isStatic = [](auto &t) {
      return getConstantIntValue(std::get<2>(t)).has_value();
    };
    if (!ShapedType::isDynamic(resultShape[d]))
      size = b.getIndexAttr(resultShape[d]);
    else if (auto it = llvm::find_if(dims, isStatic); it != dims.end())
      size = std::get<2>(*it);
    else if (!dims.empty())
      size = std::get<2>(dims.front());
    for (auto &[k, id, dim] : dims)
      checkSameSize(b, loc, dim, size,
                    "operand " + Twine(k) + " does not broadcast: its dim " +
                        Twine(id) + " differs from the other operands'");
    sizes.push_back(size);
  }
  return sizes;
}

SmallVector<OpFoldResult> broadcastSizes(OpBuilder &b, Location loc,
                                         RankedTensorType resultType,
                                         ValueRange inputs) {
  SmallVector<SmallVector<OpFoldResult>> sizes;
  for (Value in : inputs)
    sizes.push_back(tensor::getMixedSizes(b, loc, in));
  return broadcastSizes(b, loc, resultType.getShape(), sizes);
}

Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ArrayRef<OpFoldResult> sizes, ValueRange inputs,
                       ScalarFn body) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = resultType.getShape();
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(
        ctx, cast<RankedTensorType>(in.getType()).getShape(), shape));
  maps.push_back(b.getMultiDimIdentityMap(shape.size()));
  Value init = buildEmpty(b, loc, resultType, sizes);
  SmallVector<utils::IteratorType> iters(shape.size(),
                                         utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value r = body(nb, nloc, args.drop_back());
        nb.create<linalg::YieldOp>(nloc, r);
      });
  return generic.getResult(0);
}

Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ValueRange inputs, ScalarFn body) {
  return buildElementwise(b, loc, resultType,
                          broadcastSizes(b, loc, resultType, inputs), inputs,
                          body);
}

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return b.create<arith::ConstantIndexOp>(loc, v);
}

Value indexToF32(OpBuilder &b, Location loc, Value i) {
  Value i64 = b.create<arith::IndexCastOp>(loc, b.getI64Type(), i);
  return b.create<arith::SIToFPOp>(loc, b.getF32Type(), i64);
}

void checkGivenSize(OpBuilder &b, Location loc, Value actual, int64_t expected,
                    const Twine &what, bool showExpected) {
  Value same = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, actual,
                                       indexConst(b, loc, expected));
  std::string shown = showExpected ? " (" + std::to_string(expected) + ")" : "";
  emitCheck(b, loc, same,
            what + " does not match the output shape the model gives" + shown);
}

Value firstElement(OpBuilder &b, Location loc, Value t) {
  auto type = cast<RankedTensorType>(t.getType());
  SmallVector<Value> zeros(type.getRank(),
                           b.create<arith::ConstantIndexOp>(loc, 0));
  return b.create<tensor::ExtractOp>(loc, t, zeros);
}

Value toIndex(OpBuilder &b, Location loc, Value v) {
  if (isa<FloatType>(v.getType()))
    v = b.create<arith::FPToSIOp>(loc, b.getI64Type(), v);
  return b.create<arith::IndexCastOp>(loc, b.getIndexType(), v);
}

Value buildFilled(OpBuilder &b, Location loc, RankedTensorType type,
                  ArrayRef<OpFoldResult> sizes, TypedAttr value) {
  Value init = buildEmpty(b, loc, type, sizes);
  Value scalar = b.create<arith::ConstantOp>(loc, value);
  return b.create<linalg::FillOp>(loc, scalar, init).getResult(0);
}

Value buildFilled(OpBuilder &b, Location loc, RankedTensorType type,
                  TypedAttr value) {
  return buildFilled(b, loc, type, {}, value);
}

Value buildTranspose(OpBuilder &b, Location loc, Value source,
                     ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, source);
  SmallVector<OpFoldResult> outSizes;
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    outSizes.push_back(sizes[p]);
    shape.push_back(type.getDimSize(p));
  }
  Value init = buildEmpty(
      b, loc, RankedTensorType::get(shape, type.getElementType()), outSizes);
  return b.create<linalg::TransposeOp>(loc, source, init, perm).getResult()[0];
}

/// Groups consecutive dims of `in` and `out` whose products are provably
/// equal, or nothing if they can't be grouped so.
static std::optional<std::pair<SmallVector<ReassociationIndices>,
                               SmallVector<ReassociationIndices>>>
groupDims(ArrayRef<OpFoldResult> in, ArrayRef<OpFoldResult> out) {
  SmallVector<ReassociationIndices> inGroups, outGroups;
  size_t i = 0, j = 0;
  while (i < in.size() || j < out.size()) {
    ReassociationIndices gi, go;
    SymbolicProduct p, q;
    while (true) {
      if (gi.empty() && i < in.size()) {
        p.multiply(in[i]);
        gi.push_back(i++);
      } else if (go.empty() && j < out.size()) {
        q.multiply(out[j]);
        go.push_back(j++);
      } else if (p == q) {
        break;
      } else if (i < in.size() && p.divides(q)) {
        p.multiply(in[i]);
        gi.push_back(i++);
      } else if (j < out.size() && q.divides(p)) {
        q.multiply(out[j]);
        go.push_back(j++);
      } else {
        return std::nullopt;
      }
      if (!p.valid || !q.valid)
        return std::nullopt;
    }
    if (gi.empty() || go.empty()) {
      // Trailing unit dims of one side join the previous group.
      if (inGroups.empty())
        return std::nullopt;
      inGroups.back().append(gi);
      outGroups.back().append(go);
      continue;
    }
    inGroups.push_back(gi);
    outGroups.push_back(go);
  }
  return std::make_pair(inGroups, outGroups);
}

/// The static reshape: one collapse or expand if possible, else via 1-D.
static Value buildStaticReshape(OpBuilder &b, Location loc, Value value,
                                RankedTensorType type) {
  auto from = cast<RankedTensorType>(value.getType());
  if (from.getShape() == type.getShape())
    return value;
  // Try a single collapse or expand first, then go through 1-D.
  if (auto reassoc = getReassociationIndicesForReshape(from, type)) {
    if (from.getRank() > type.getRank())
      return b.create<tensor::CollapseShapeOp>(loc, type, value, *reassoc);
    return b.create<tensor::ExpandShapeOp>(loc, type, value, *reassoc);
  }
  auto flatType =
      RankedTensorType::get({from.getNumElements()}, from.getElementType());
  Value flat = value;
  if (from.getRank() != 1) {
    SmallVector<ReassociationIndices> all(1);
    for (int64_t i = 0; i < from.getRank(); ++i)
      all[0].push_back(i);
    if (from.getRank() == 0)
      all.clear();
    flat = b.create<tensor::CollapseShapeOp>(loc, flatType, value, all);
  }
  if (type.getRank() == 1)
    return flat;
  SmallVector<ReassociationIndices> all(1);
  for (int64_t i = 0; i < type.getRank(); ++i)
    all[0].push_back(i);
  if (type.getRank() == 0)
    all.clear();
  return b.create<tensor::ExpandShapeOp>(loc, type, flat, all);
}

/// Reassociation putting all `rank` dims into one group (none for rank 0).
static SmallVector<ReassociationIndices> allInOne(int64_t rank) {
  SmallVector<ReassociationIndices> all;
  if (rank > 0)
    all.emplace_back(llvm::to_vector(llvm::seq<int64_t>(0, rank)));
  return all;
}

bool hasAmbiguousGroup(RankedTensorType type,
                       ArrayRef<ReassociationIndices> groups) {
  return llvm::any_of(groups, [&](const ReassociationIndices &g) {
    return llvm::count_if(g, [&](int64_t d) { return type.isDynamicDim(d); }) >
           1;
  });
}

Value buildExpandShape(OpBuilder &b, Location loc, RankedTensorType type,
                       Value source, ArrayRef<ReassociationIndices> groups,
                       ArrayRef<OpFoldResult> sizes) {
  if (!hasAmbiguousGroup(type, groups))
    return b.create<tensor::ExpandShapeOp>(loc, type, source, groups, sizes);
  SmallVector<Value> dims;
  for (OpFoldResult size : sizes)
    dims.push_back(indexValue(b, loc, size));
  Value shape = b.create<tensor::FromElementsOp>(loc, dims);
  return b.create<tensor::ReshapeOp>(loc, type, source, shape);
}

Value buildReshape(OpBuilder &b, Location loc, Value value,
                   RankedTensorType type, ArrayRef<OpFoldResult> sizes,
                   ArrayRef<OpFoldResult> valueSizes) {
  auto from = cast<RankedTensorType>(value.getType());
  if (from.hasStaticShape() && type.hasStaticShape())
    return buildStaticReshape(b, loc, value, type);
  SmallVector<OpFoldResult> in(valueSizes);
  if (in.empty())
    in = tensor::getMixedSizes(b, loc, value);
  SmallVector<OpFoldResult> out;
  if (sizes.empty()) {
    // Without sizes only a reshape that keeps the shape is known.
    if (from.getShape() == type.getShape())
      return value;
    assert(from.getRank() == type.getRank() && "reshape needs sizes");
    out = in;
  } else {
    out.assign(sizes.begin(), sizes.end());
  }
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (!type.isDynamicDim(d))
      out[d] = b.getIndexAttr(type.getDimSize(d));
    else if (auto v = dyn_cast<Value>(out[d]))
      out[d] = getAsOpFoldResult(v);
  RankedTensorType outType = refineType(type, out);
  auto finish = [&](Value v) -> Value {
    if (v.getType() != type)
      v = b.create<tensor::CastOp>(loc, type, v);
    return v;
  };
  auto expand = [&](Value v, ArrayRef<ReassociationIndices> groups) {
    return buildExpandShape(b, loc, outType, v, groups, out);
  };
  // A tensor this function expanded from 1-D is reshaped from that 1-D
  // source again: canonicalizing a collapse of such an expand builds an
  // invalid expand_shape in MLIR 19 (no output_shape for several dynamic
  // dims in one group).
  auto fromFlat = value.getDefiningOp<tensor::ExpandShapeOp>();
  if (fromFlat && fromFlat.getSrcType().getRank() == 1) {
    in = getMixedValues(fromFlat.getStaticOutputShape(),
                        fromFlat.getOutputShape(), b);
    value = fromFlat.getSrc();
    from = cast<RankedTensorType>(value.getType());
  } else if (auto groups = groupDims(in, out)) {
    auto &[inGroups, outGroups] = *groups;
    Value v = value;
    if (inGroups.size() != in.size())
      v = b.create<tensor::CollapseShapeOp>(loc, v, inGroups);
    if (outGroups.size() != out.size())
      v = expand(v, outGroups);
    if (outGroups.size() == out.size() && v.getType() != outType)
      v = b.create<tensor::CastOp>(loc, outType, v);
    return finish(v);
  }
  // Through 1-D, once the element counts are checked to agree.
  OpFoldResult count = sizeProduct(b, loc, in);
  checkSameSize(b, loc, count, sizeProduct(b, loc, out),
                "the new shape does not have the input's number of elements");
  Value flat = value;
  auto flatType = RankedTensorType::get(
      {type.hasStaticShape() ? type.getNumElements() : ShapedType::kDynamic},
      from.getElementType());
  if (from.getRank() == 0)
    flat = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({1}, from.getElementType()), value,
        allInOne(0), ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  else if (from.getRank() > 1)
    flat = b.create<tensor::CollapseShapeOp>(loc, value,
                                             allInOne(from.getRank()));
  if (flat.getType() != flatType)
    flat = b.create<tensor::CastOp>(loc, flatType, flat);
  if (type.getRank() == 0)
    return b.create<tensor::CollapseShapeOp>(loc, type, flat, allInOne(0));
  if (type.getRank() == 1)
    return finish(flat);
  return finish(expand(flat, allInOne(type.getRank())));
}

bool isUnsignedInt(Type type) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    type = shaped.getElementType();
  auto it = dyn_cast<IntegerType>(type);
  return it && it.isUnsigned();
}

Type signlessElementType(Type type) {
  if (auto it = dyn_cast<IntegerType>(type))
    if (!it.isSignless())
      return IntegerType::get(type.getContext(), it.getWidth());
  return type;
}

Value convertScalar(OpBuilder &b, Location loc, Value v, Type to,
                    bool fromUnsigned, bool toUnsigned) {
  Type from = v.getType();
  if (from == to)
    return v;
  auto fromF = dyn_cast<FloatType>(from), toF = dyn_cast<FloatType>(to);
  auto fromI = dyn_cast<IntegerType>(from), toI = dyn_cast<IntegerType>(to);
  if (toI && toI.getWidth() == 1) {
    // x != 0
    if (fromF) {
      Value zero = b.create<arith::ConstantOp>(loc, b.getFloatAttr(from, 0.0));
      return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, v, zero);
    }
    Value zero = b.create<arith::ConstantOp>(loc, b.getIntegerAttr(from, 0));
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, v, zero);
  }
  if (fromI && fromI.getWidth() == 1)
    fromUnsigned = true;
  if (fromF && toF) {
    if (fromF.getWidth() < toF.getWidth())
      return b.create<arith::ExtFOp>(loc, to, v);
    if (fromF.getWidth() > toF.getWidth())
      return b.create<arith::TruncFOp>(loc, to, v);
    // bf16 <-> f16: through f32.
    Value wide = b.create<arith::ExtFOp>(loc, b.getF32Type(), v);
    return b.create<arith::TruncFOp>(loc, to, wide);
  }
  if (fromF && toI) {
    if (toUnsigned)
      return b.create<arith::FPToUIOp>(loc, to, v);
    return b.create<arith::FPToSIOp>(loc, to, v);
  }
  if (fromI && toF) {
    if (fromUnsigned)
      return b.create<arith::UIToFPOp>(loc, to, v);
    return b.create<arith::SIToFPOp>(loc, to, v);
  }
  if (fromI && toI) {
    if (fromI.getWidth() < toI.getWidth()) {
      if (fromUnsigned)
        return b.create<arith::ExtUIOp>(loc, to, v);
      return b.create<arith::ExtSIOp>(loc, to, v);
    }
    return b.create<arith::TruncIOp>(loc, to, v);
  }
  return v;
}

RankedTensorType rankedType(const TypeConverter *converter, Value v) {
  return dyn_cast_or_null<RankedTensorType>(converter->convertType(v.getType()));
}

RankedTensorType staticType(const TypeConverter *converter, Value v) {
  auto t =
      dyn_cast_or_null<RankedTensorType>(converter->convertType(v.getType()));
  return t && t.hasStaticShape() ? t : RankedTensorType();
}

bool getConstIntValues(Value v, SmallVectorImpl<int64_t> &out) {
  // During conversion, operands may already be arith.constant (or a cast of
  // one); otherwise they are still onnx.Constant.
  if (auto cast = v.getDefiningOp<UnrealizedConversionCastOp>())
    return cast->getNumOperands() == 1 &&
           getConstIntValues(cast->getOperand(0), out);
  if (auto c = v.getDefiningOp<arith::ConstantOp>())
    return onnx::getConstantInts(c.getValue(), out);
  return onnx::getConstantInts(v, out);
}

TypedAttr lowestValue(Type elt) {
  OpBuilder b(elt.getContext());
  if (auto ft = dyn_cast<FloatType>(elt))
    return b.getFloatAttr(elt, APFloat::getInf(ft.getFloatSemantics(), true));
  auto it = cast<IntegerType>(elt);
  return b.getIntegerAttr(signlessElementType(elt),
                          it.isUnsigned() || it.getWidth() == 1
                              ? APInt::getMinValue(it.getWidth())
                              : APInt::getSignedMinValue(it.getWidth()));
}

TypedAttr highestValue(Type elt) {
  OpBuilder b(elt.getContext());
  if (auto ft = dyn_cast<FloatType>(elt))
    return b.getFloatAttr(elt, APFloat::getInf(ft.getFloatSemantics(), false));
  auto it = cast<IntegerType>(elt);
  return b.getIntegerAttr(signlessElementType(elt),
                          it.isUnsigned() || it.getWidth() == 1
                              ? APInt::getMaxValue(it.getWidth())
                              : APInt::getSignedMaxValue(it.getWidth()));
}

Type accumulatorType(Type elt) {
  auto f = dyn_cast<FloatType>(elt);
  return f && f.getWidth() < 32 ? Float32Type::get(elt.getContext()) : elt;
}

Value convertElements(OpBuilder &b, Location loc, RankedTensorType type,
                      Value v) {
  return buildElementwise(
      b, loc, type, tensor::getMixedSizes(b, loc, v), {v},
      [&](OpBuilder &nb, Location l, ValueRange x) {
        return convertScalar(nb, l, x[0], type.getElementType(), false, false);
      });
}

Value widenToF32(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getElementType().isF32())
    return v;
  auto f32Type = type.clone(b.getF32Type());
  // A constant (f16 or bf16: widened exactly) into a resource.
  std::optional<std::vector<float>> values;
  if (type.hasStaticShape() && type.getElementTypeBitWidth() == 16)
    values = readFloatConstant(v);
  if (values) {
    auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign<float>(*values);
    return b.create<arith::ConstantOp>(
        loc, DenseResourceElementsAttr::get(f32Type, "widened_weights",
                                            std::move(blob)));
  }
  return buildElementwise(b, loc, f32Type, tensor::getMixedSizes(b, loc, v),
                          {v}, [](OpBuilder &nb, Location l, ValueRange x) {
                            return nb.create<arith::ExtFOp>(l, nb.getF32Type(),
                                                            x[0]);
                          });
}

} // namespace tessera::lowering
