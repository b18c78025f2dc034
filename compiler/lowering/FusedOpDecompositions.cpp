//===- FusedOpDecompositions.cpp - fused ops as linalg, by interface ------===//
//
// Part of Tessera. The decompositions of fused ops into linalg on tensors,
// attached to them as external models of linalg's AggregatedOpInterface, so
// that a pass asks any op for its decomposition without knowing the op:
//   - tessera.add_layer_norm: the sum x (+ bias) + residual (numpy
//     broadcast), its statistics over the last axis as linalg reductions
//     (mean and variance, or the mean square for RMSNorm), and
//     y = norm * gamma (+ beta): the ops its unfused form lowers to.
// tessera-lower-fused-kernels decomposes an op whose hand-tuned kernel
// cannot take it (or, with micro-kernels=false, every op that has one).
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/Reductions.h"
#include "dialects/tessera/TesseraDialect.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace tessera::lowering;

namespace tessera {
namespace {

struct AddLayerNormDecomposition
    : linalg::AggregatedOpInterface::ExternalModel<AddLayerNormDecomposition,
                                                   fused::AddLayerNormOp> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *op,
                                                   OpBuilder &b) const {
    auto ln = cast<fused::AddLayerNormOp>(op);
    auto yType = cast<RankedTensorType>(ln.getY().getType());
    auto sumType = cast<RankedTensorType>(ln.getSum().getType());
    auto elt = dyn_cast<FloatType>(yType.getElementType());
    if (!elt || sumType.getElementType() != elt || yType.getRank() == 0)
      return failure();
    Location loc = op->getLoc();
    // Statistics in f32 at least, as the kernel keeps them.
    Type acc = elt.getWidth() < 32 ? b.getF32Type() : Type(elt);
    auto to = [](Type t) {
      return [t](OpBuilder &nb, Location l, Value v) {
        return convertScalar(nb, l, v, t, false, false);
      };
    };
    auto toAcc = to(acc), toElt = to(elt);
    // The sum in the statistics' type, in the kernel's order:
    // (x + bias) + residual.
    SmallVector<Value> summands = {ln.getX()};
    if (ln.getBias())
      summands.push_back(ln.getBias());
    summands.push_back(ln.getResidual());
    Value s = buildElementwise(
        b, loc, RankedTensorType::get(sumType.getShape(), acc), summands,
        [&](OpBuilder &nb, Location l, ValueRange a) {
          Value r = toAcc(nb, l, a[0]);
          for (Value v : a.drop_front())
            r = nb.create<arith::AddFOp>(l, r, toAcc(nb, l, v));
          return r;
        });
    Value sum = s;
    if (acc != elt)
      sum = buildElementwise(b, loc, sumType, {s},
                             [&](OpBuilder &nb, Location l, ValueRange a) {
                               return toElt(nb, l, a[0]);
                             });
    SmallVector<int64_t> dims = {yType.getRank() - 1};
    auto count = elementCount(b, loc, s, dims, acc);
    double eps = ln.getEpsilon().convertToDouble();
    Value normed;
    if (ln.getNorm() == "rms") {
      auto add = [](OpBuilder &nb, Location l, Value x, Value y) -> Value {
        return nb.create<arith::AddFOp>(l, x, y);
      };
      Value squares =
          mapWithReduced(b, loc, s, {}, dims, acc,
                         [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                           return nb.create<arith::MulFOp>(l, a[0], a[0]);
                         });
      Value total = buildReduce(b, loc, squares, dims, b.getZeroAttr(acc), add);
      Value invRms = buildElementwise(
          b, loc, cast<RankedTensorType>(total.getType()), {total},
          [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
            Value mean = nb.create<arith::DivFOp>(l, a[0], count(nb, l));
            Value e =
                nb.create<arith::ConstantOp>(l, nb.getFloatAttr(acc, eps));
            return nb.create<math::RsqrtOp>(
                l, nb.create<arith::AddFOp>(l, mean, e));
          });
      normed =
          mapWithReduced(b, loc, s, {invRms}, dims, acc,
                         [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                           return nb.create<arith::MulFOp>(l, a[0], a[1]);
                         });
    } else {
      normed = normalizeOver(b, loc, s, dims, eps, count).normed;
    }
    SmallVector<Value> inputs = {normed, ln.getGamma()};
    if (ln.getBeta())
      inputs.push_back(ln.getBeta());
    Value y = buildElementwise(
        b, loc, yType, inputs, [&](OpBuilder &nb, Location l, ValueRange a) {
          Value r = nb.create<arith::MulFOp>(l, a[0], toAcc(nb, l, a[1]));
          if (a.size() > 2)
            r = nb.create<arith::AddFOp>(l, r, toAcc(nb, l, a[2]));
          return toElt(nb, l, r);
        });
    return SmallVector<Value>{y, sum};
  }
};

} // namespace

void registerFusedOpDecompositions(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, fused::TesseraDialect *) {
    fused::AddLayerNormOp::attachInterface<AddLayerNormDecomposition>(*ctx);
  });
}

} // namespace tessera
