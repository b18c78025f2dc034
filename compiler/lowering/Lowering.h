//===- Lowering.h - onnx dialect to linalg on tensors -----------*- C++ -*-===//
//
// Part of Tessera. Patterns that lower every `onnx` op to linalg (named ops
// where they exist), tensor, arith and math on tensors. Dynamic dims are
// sized from the operands (tensor.dim) and checked with cf.assert where only
// the run time knows; unsigned integer tensors become signless with the
// signedness kept in the ops.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_LOWERING_LOWERING_H
#define TESSERA_COMPILER_LOWERING_LOWERING_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

#include <optional>
#include <string>

namespace tessera {

/// Maps tensors of unsigned integers to signless ones; everything else stays.
class ONNXToLinalgTypeConverter : public mlir::TypeConverter {
public:
  ONNXToLinalgTypeConverter();
};

void populateONNXElementwiseToLinalgPatterns(mlir::TypeConverter &converter,
                                             mlir::RewritePatternSet &patterns);
void populateONNXNNToLinalgPatterns(mlir::TypeConverter &converter,
                                    mlir::RewritePatternSet &patterns);
/// Reduce*, ArgMax/ArgMin, Hardmax, CumSum and the normalisations over axes
/// (Reductions.cpp).
void populateONNXReductionToLinalgPatterns(mlir::TypeConverter &converter,
                                           mlir::RewritePatternSet &patterns);
/// onnx.Conv as an unfold (im2col) plus register-tiled matmuls (Conv.cpp).
void populateONNXConvToLinalgPatterns(mlir::TypeConverter &converter,
                                      mlir::RewritePatternSet &patterns);
void populateONNXTensorToLinalgPatterns(mlir::TypeConverter &converter,
                                        mlir::RewritePatternSet &patterns);
/// ReduceSum over run-time axes, as a loop nest (RuntimeAxesReduce.cpp).
void populateONNXRuntimeAxesReduceToLinalgPatterns(
    mlir::TypeConverter &converter, mlir::RewritePatternSet &patterns);
/// Pooling (Pool.cpp); GatherElements/GatherND/Scatter* (GatherScatter.cpp);
/// DepthToSpace, Pad, OneHot, TopK, ... (DataMovement.cpp); Quantize*,
/// MatMulInteger (Quantize.cpp); Resize (Resize.cpp).
void populateONNXPoolToLinalgPatterns(mlir::TypeConverter &converter,
                                      mlir::RewritePatternSet &patterns);
void populateONNXGatherScatterToLinalgPatterns(
    mlir::TypeConverter &converter, mlir::RewritePatternSet &patterns);
void populateONNXDataMovementToLinalgPatterns(
    mlir::TypeConverter &converter, mlir::RewritePatternSet &patterns);
void populateONNXQuantizeToLinalgPatterns(mlir::TypeConverter &converter,
                                          mlir::RewritePatternSet &patterns);
void populateONNXResizeToLinalgPatterns(mlir::TypeConverter &converter,
                                        mlir::RewritePatternSet &patterns);
/// RNN, GRU and LSTM as scf.for recurrences (Recurrent.cpp), and why one
/// cannot be lowered, if it cannot.
void populateONNXRecurrentToLinalgPatterns(mlir::TypeConverter &converter,
                                           mlir::RewritePatternSet &patterns);
std::optional<std::string> recurrentProblem(mlir::Operation *op);
/// Why one of the ops above cannot be lowered (a dynamic dim it needs
/// static, an attribute value it does not handle), if it cannot.
std::optional<std::string> dataAndWindowOpProblem(mlir::Operation *op);

/// Windows, DFT, STFT and MelWeightMatrix (Signal.cpp); NonZero, Compress and
/// Unique (Selection.cpp); Det (Det.cpp). signalOpProblem and
/// selectionOpProblem say why one cannot be lowered (an output shape the model
/// does not give).
void populateONNXSignalToLinalgPatterns(mlir::TypeConverter &converter,
                                        mlir::RewritePatternSet &patterns);
void populateONNXSelectionToLinalgPatterns(mlir::TypeConverter &converter,
                                           mlir::RewritePatternSet &patterns);
void populateONNXDetToLinalgPatterns(mlir::TypeConverter &converter,
                                     mlir::RewritePatternSet &patterns);
/// NonMaxSuppression (NonMaxSuppression.cpp; its refusals are in
/// selectionOpProblem).
void populateONNXNonMaxSuppressionToLinalgPatterns(
    mlir::TypeConverter &converter, mlir::RewritePatternSet &patterns);
/// RoiAlign (RoiAlign.cpp).
void populateONNXRoiAlignToLinalgPatterns(mlir::TypeConverter &converter,
                                          mlir::RewritePatternSet &patterns);
std::optional<std::string> signalOpProblem(mlir::Operation *op);
std::optional<std::string> selectionOpProblem(mlir::Operation *op);

/// onnx.Attention (opset 23) as tessera.attention on its heads.
void populateONNXAttentionToFusedPatterns(mlir::TypeConverter &converter,
                                          mlir::RewritePatternSet &patterns);

/// The fused `tessera` ops that decompose into linalg (one file each):
/// their conversion patterns.
void populateFusedQKVProjectionToLinalgPatterns(
    mlir::TypeConverter &converter, mlir::RewritePatternSet &patterns);
void populateFusedMatMulToLinalgPatterns(mlir::TypeConverter &converter,
                                         mlir::RewritePatternSet &patterns);

/// The ops lowered to hand-tuned kernels (loops of vector ops on tensors) by
/// tessera-lower-fused-kernels, after the conversion: the fused `tessera`
/// ops and, from opset 23, RMSNormalization and RotaryEmbedding
/// (Transformer.cpp). `vectorBits`: the target's widest vector register
/// (sizes the kernels).
void populateFusedAttentionKernelPatterns(mlir::RewritePatternSet &patterns,
                                          unsigned vectorBits);
void populateFusedAddLayerNormKernelPatterns(mlir::RewritePatternSet &patterns,
                                             unsigned vectorBits);
void populateONNXTransformerKernelPatterns(mlir::RewritePatternSet &patterns,
                                           unsigned vectorBits);

} // namespace tessera

#endif // TESSERA_COMPILER_LOWERING_LOWERING_H
