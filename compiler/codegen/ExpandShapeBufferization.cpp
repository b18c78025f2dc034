//===- ExpandShapeBufferization.cpp - expand_shape with dynamic groups ----===//
//
// LLVM 19 bufferizes tensor.expand_shape by re-inferring the output shape
// from the source, which cannot work (and, with assertions off, crashes)
// when one reassociation group has several dynamic dims: [B*S, D] ->
// [B, S, D], the everyday reshape of a dynamic-shape Transformer. This model
// replaces upstream's: the memref.expand_shape takes the tensor op's
// output_shape operands. It is registered before upstream's tensor models,
// and a second registration of an interface is ignored.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Passes.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace tessera {
namespace {

struct ExpandShapeModel
    : BufferizableOpInterface::ExternalModel<ExpandShapeModel,
                                             tensor::ExpandShapeOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &,
                              const AnalysisState &) const {
    return false;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &,
                               const AnalysisState &) const {
    return false;
  }
  AliasingValueList getAliasingValues(Operation *op, OpOperand &,
                                      const AnalysisState &) const {
    return {{op->getOpResult(0), BufferRelation::Equivalent}};
  }
  FailureOr<BaseMemRefType>
  getBufferType(Operation *op, Value, const BufferizationOptions &options,
                SmallVector<Value> &invocationStack) const {
    auto expand = cast<tensor::ExpandShapeOp>(op);
    FailureOr<BaseMemRefType> source =
        bufferization::getBufferType(expand.getSrc(), options, invocationStack);
    if (failed(source))
      return failure();
    FailureOr<MemRefType> type = memref::ExpandShapeOp::computeExpandedType(
        cast<MemRefType>(*source), expand.getResultType().getShape(),
        expand.getReassociationIndices());
    if (failed(type))
      return failure();
    return cast<BaseMemRefType>(*type);
  }
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options) const {
    auto expand = cast<tensor::ExpandShapeOp>(op);
    FailureOr<Value> buffer = getBuffer(rewriter, expand.getSrc(), options);
    if (failed(buffer))
      return failure();
    FailureOr<MemRefType> type = memref::ExpandShapeOp::computeExpandedType(
        cast<MemRefType>(buffer->getType()),
        expand.getResultType().getShape(), expand.getReassociationIndices());
    if (failed(type))
      return op->emitError("cannot expand a buffer of type ")
             << buffer->getType();
    SmallVector<OpFoldResult> outputShape = getMixedValues(
        expand.getStaticOutputShape(), expand.getOutputShape(), rewriter);
    replaceOpWithNewBufferizedOp<memref::ExpandShapeOp>(
        rewriter, op, *type, *buffer, expand.getReassociationIndices(),
        outputShape);
    return success();
  }
};

} // namespace

void registerExpandShapeBufferization(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, tensor::TensorDialect *) {
    tensor::ExpandShapeOp::attachInterface<ExpandShapeModel>(*ctx);
  });
}

} // namespace tessera
