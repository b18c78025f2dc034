//===- Patterns.h - the fusions as rewrite patterns -------------*- C++ -*-===//
//
// Part of Tessera. Each fusion pass is a thin driver over these patterns
// (applyToCandidates in FusionReport.h); `report` makes a pattern emit the
// "fused" remark of the fusion report. The patterns expect the canonical
// operand order of the onnx ops (onnx::populateONNXOperandOrderPatterns).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_COMPILER_TRANSFORMS_PATTERNS_H
#define TESSERA_COMPILER_TRANSFORMS_PATTERNS_H

#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <string>

namespace tessera {

/// Decomposed LayerNorm -> onnx.LayerNormalization (anchor: ReduceMean).
void populateRecognizeLayerNormPatterns(mlir::RewritePatternSet &patterns,
                                        bool report = false);
/// Decomposed GELU -> onnx.Gelu (anchors: Erf, Tanh).
void populateRecognizeGeluPatterns(mlir::RewritePatternSet &patterns,
                                   bool report = false);
/// Decomposed RMSNorm -> onnx.RMSNormalization (anchor: the ReduceMean of a
/// square).
void populateRecognizeRMSNormPatterns(mlir::RewritePatternSet &patterns,
                                      bool report = false);
/// Decomposed rotary embeddings -> onnx.RotaryEmbedding (anchor: the Neg of
/// a half).
void populateRecognizeRotaryPatterns(mlir::RewritePatternSet &patterns,
                                     bool report = false);
/// act(x W1) * (x W3) -> gated tessera.matmul (anchor: the Mul).
void populateFuseGatedMLPPatterns(mlir::RewritePatternSet &patterns,
                                  bool report = false);
/// Scaled-softmax attention -> tessera.attention (anchor: Softmax).
void populateFuseAttentionPatterns(mlir::RewritePatternSet &patterns,
                                   bool report = false);
/// Q/K/V (or K/V) projections split into heads -> tessera.qkv_projection
/// (anchor: the projection's MatMul; see FuseQKV.cpp).
/// Why an opset-23 onnx.Attention has no tessera.attention form (e.g. a
/// softcap), or nothing. Builds nothing.
std::optional<std::string> onnxAttentionProblem(mlir::Operation *attention);
/// Replaces an opset-23 onnx.Attention by tessera.attention (3-D inputs
/// split into heads, past keys/values concatenated in front: the present
/// outputs) and returns it; null with `why` (onnxAttentionProblem's, nothing
/// changed) on a form tessera.attention does not express.
mlir::Operation *rewriteONNXAttention(mlir::Operation *attention,
                                      mlir::RewriterBase &rewriter,
                                      std::string &why);

void populateFuseQKVPatterns(mlir::RewritePatternSet &patterns,
                             bool report = false);
/// onnx.RotaryEmbedding of tessera.qkv_projection results -> the
/// projection's rotary results (anchor: the projection).
void populateFuseQKVRotaryPatterns(mlir::RewritePatternSet &patterns,
                                   bool report = false);
/// Residual Add + LayerNormalization or RMSNormalization ->
/// tessera.add_layer_norm.
void populateFuseAddLayerNormPatterns(mlir::RewritePatternSet &patterns,
                                      bool report = false);
/// MatMul/Gemm + bias [+ activation] -> tessera.matmul.
void populateFuseMatMulEpiloguePatterns(mlir::RewritePatternSet &patterns,
                                        bool report = false);

} // namespace tessera

#endif // TESSERA_COMPILER_TRANSFORMS_PATTERNS_H
