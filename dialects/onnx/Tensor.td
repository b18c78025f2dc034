//===- Tensor.td - onnx shape and data-movement ops ---------*- tablegen -*-===//

#ifndef TESSERA_ONNX_TENSOR
#define TESSERA_ONNX_TENSOR

include "dialects/onnx/ONNXBase.td"

class ONNX_ShapeOp<string mnemonic, list<Trait> traits = []>
    : ONNX_Op<mnemonic, !listconcat(traits,
          [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>])> {
  let hasVerifier = 1;
  let hasFolder = 1;
}

def ONNX_ConstantOp : ONNX_Op<"Constant", [ConstantLike]> {
  let summary = "a constant tensor (initializers and Constant nodes)";
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let builders = [OpBuilder<(ins "::mlir::ElementsAttr":$value), [{
    build($_builder, $_state, ::llvm::cast<::mlir::TensorType>(value.getType()), value);
  }]>];
}

def ONNX_ConstantOfShapeOp : ONNX_ShapeOp<"ConstantOfShape"> {
  let summary = "a tensor of the given shape filled with `value`";
  let arguments = (ins TensorOf<[I64]>:$input, OptionalAttr<ElementsAttr>:$value);
  let results = (outs AnyTensor:$output);
}

def ONNX_IdentityOp : ONNX_Op<"Identity",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "returns its input";
  let arguments = (ins AnyTensor:$input);
  let results = (outs AnyTensor:$output);
  let hasFolder = 1;
}

def ONNX_ReshapeOp : ONNX_ShapeOp<"Reshape"> {
  let summary = "reshape with 0 (copy, unless allowzero) and -1 (infer) entries";
  let arguments = (ins AnyTensor:$data, TensorOf<[I64]>:$shape,
                       DefaultValuedAttr<SI64Attr, "0">:$allowzero);
  let results = (outs AnyTensor:$reshaped);
}

def ONNX_TransposeOp : ONNX_ShapeOp<"Transpose"> {
  let summary = "permutes the axes by `perm`";
  let arguments = (ins AnyTensor:$data, I64ArrayAttr:$perm);
  let results = (outs AnyTensor:$transposed);
}

def ONNX_GatherOp : ONNX_ShapeOp<"Gather"> {
  let summary = "gathers slices of `data` along `axis` at `indices`";
  let arguments = (ins AnyTensor:$data, TensorOf<[I32, I64]>:$indices,
                       DefaultValuedAttr<SI64Attr, "0">:$axis);
  let results = (outs AnyTensor:$output);
}

def ONNX_ShapeOfOp : ONNX_ShapeOp<"Shape"> {
  let summary = "the shape of its input as a 1-D int64 tensor (opset 15 start/end)";
  let arguments = (ins AnyTensor:$data, DefaultValuedAttr<SI64Attr, "0">:$start,
                       OptionalAttr<SI64Attr>:$end);
  let results = (outs TensorOf<[I64]>:$shape);
}

def ONNX_SizeOp : ONNX_ShapeOp<"Size"> {
  let summary = "the number of elements of its input as an int64 scalar";
  let arguments = (ins AnyTensor:$data);
  let results = (outs TensorOf<[I64]>:$size);
}

def ONNX_UnsqueezeOp : ONNX_ShapeOp<"Unsqueeze"> {
  let summary = "inserts unit dimensions at `axes`";
  let arguments = (ins AnyTensor:$data, TensorOf<[I64]>:$axes);
  let results = (outs AnyTensor:$expanded);
}

def ONNX_SqueezeOp : ONNX_ShapeOp<"Squeeze"> {
  let summary = "removes unit dimensions at `axes` (all unit dims if absent)";
  let arguments = (ins AnyTensor:$data, Optional<TensorOf<[I64]>>:$axes);
  let results = (outs AnyTensor:$squeezed);
}

def ONNX_FlattenOp : ONNX_ShapeOp<"Flatten"> {
  let summary = "flattens into a 2-D tensor split at `axis`";
  let arguments = (ins AnyTensor:$input, DefaultValuedAttr<SI64Attr, "1">:$axis);
  let results = (outs AnyTensor:$output);
}

def ONNX_ConcatOp : ONNX_ShapeOp<"Concat"> {
  let summary = "concatenates its inputs along `axis`";
  let arguments = (ins Variadic<AnyTensor>:$inputs, SI64Attr:$axis);
  let results = (outs AnyTensor:$concat_result);
}

def ONNX_SliceOp : ONNX_ShapeOp<"Slice", [AttrSizedOperandSegments]> {
  let summary = "numpy-style slicing by starts/ends/axes/steps inputs";
  let arguments = (ins AnyTensor:$data, TensorOf<[I32, I64]>:$starts,
                       TensorOf<[I32, I64]>:$ends,
                       Optional<TensorOf<[I32, I64]>>:$axes,
                       Optional<TensorOf<[I32, I64]>>:$steps);
  let results = (outs AnyTensor:$output);
}

def ONNX_SplitOp : ONNX_Op<"Split",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "splits along `axis` by `split` sizes or into equal parts";
  let arguments = (ins AnyTensor:$input, Optional<TensorOf<[I64]>>:$split,
                       DefaultValuedAttr<SI64Attr, "0">:$axis,
                       OptionalAttr<SI64Attr>:$num_outputs);
  let results = (outs Variadic<AnyTensor>:$outputs);
  let hasVerifier = 1;
}

def ONNX_ExpandOp : ONNX_ShapeOp<"Expand"> {
  let summary = "broadcasts its input to `shape`";
  let arguments = (ins AnyTensor:$input, TensorOf<[I64]>:$shape);
  let results = (outs AnyTensor:$output);
}

def ONNX_TileOp : ONNX_ShapeOp<"Tile"> {
  let summary = "repeats its input `repeats` times along each axis";
  let arguments = (ins AnyTensor:$input, TensorOf<[I64]>:$repeats);
  let results = (outs AnyTensor:$output);
}

def ONNX_RangeOp : ONNX_ShapeOp<"Range"> {
  let summary = "1-D sequence from start to limit (exclusive) by delta";
  let arguments = (ins AnyTensor:$start, AnyTensor:$limit, AnyTensor:$delta);
  let results = (outs AnyTensor:$output);
}

def ONNX_TriluOp : ONNX_Op<"Trilu",
    [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>]> {
  let summary = "upper or lower triangular part of the last two axes";
  let arguments = (ins AnyTensor:$input, Optional<TensorOf<[I64]>>:$k,
                       DefaultValuedAttr<SI64Attr, "1">:$upper);
  let results = (outs AnyTensor:$output);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Gathers, scatters and other data movement
//===----------------------------------------------------------------------===//

class ONNX_DataOp<string mnemonic, list<Trait> traits = []>
    : ONNX_Op<mnemonic, !listconcat(traits,
          [DeclareOpInterfaceMethods<ONNX_ShapeInferenceInterface>])>;

def ONNX_GatherElementsOp : ONNX_DataOp<"GatherElements"> {
  let summary = "out[i][j] = data[indices[i][j]][j] along `axis` (any rank)";
  let arguments = (ins AnyTensor:$data, TensorOf<[I32, I64]>:$indices,
                       DefaultValuedAttr<SI64Attr, "0">:$axis);
  let results = (outs AnyTensor:$output);
}

def ONNX_GatherNDOp : ONNX_Op<"GatherND"> {
  let summary = "gathers slices of `data` at the index tuples of `indices`";
  let arguments = (ins AnyTensor:$data, TensorOf<[I64]>:$indices,
                       DefaultValuedAttr<SI64Attr, "0">:$batch_dims);
  let results = (outs AnyTensor:$output);
}

def ONNX_ScatterElementsOp : ONNX_DataOp<"ScatterElements"> {
  let summary = "data with `updates` written (or combined by `reduction`) "
                "at `indices` along `axis`";
  let arguments = (ins AnyTensor:$data, TensorOf<[I32, I64]>:$indices,
                       AnyTensor:$updates,
                       DefaultValuedAttr<SI64Attr, "0">:$axis,
                       DefaultValuedStrAttr<StrAttr, "none">:$reduction);
  let results = (outs AnyTensor:$output);
}

def ONNX_ScatterNDOp : ONNX_DataOp<"ScatterND"> {
  let summary = "data with `updates` written (or combined by `reduction`) "
                "at the index tuples of `indices`";
  let arguments = (ins AnyTensor:$data, TensorOf<[I64]>:$indices,
                       AnyTensor:$updates,
                       DefaultValuedStrAttr<StrAttr, "none">:$reduction);
  let results = (outs AnyTensor:$output);
}

def ONNX_DepthToSpaceOp : ONNX_Op<"DepthToSpace"> {
  let summary = "moves channel blocks into spatial blocks (DCR or CRD order)";
  let arguments = (ins AnyTensor:$input, SI64Attr:$blocksize,
                       DefaultValuedStrAttr<StrAttr, "DCR">:$mode);
  let results = (outs AnyTensor:$output);
}

def ONNX_SpaceToDepthOp : ONNX_Op<"SpaceToDepth"> {
  let summary = "moves spatial blocks into channels";
  let arguments = (ins AnyTensor:$input, SI64Attr:$blocksize);
  let results = (outs AnyTensor:$output);
}

def ONNX_EyeLikeOp : ONNX_DataOp<"EyeLike"> {
  let summary = "ones on the `k`-th diagonal of a 2-D tensor of input's shape";
  let arguments = (ins AnyTensor:$input, OptionalAttr<SI64Attr>:$dtype,
                       DefaultValuedAttr<SI64Attr, "0">:$k);
  let results = (outs AnyTensor:$output);
}

def ONNX_OneHotOp : ONNX_Op<"OneHot"> {
  let summary = "values[1] where an index matches, values[0] elsewhere";
  let arguments = (ins AnyTensor:$indices, AnyTensor:$depth, AnyTensor:$values,
                       DefaultValuedAttr<SI64Attr, "-1">:$axis);
  let results = (outs AnyTensor:$output);
}

def ONNX_PadOp : ONNX_Op<"Pad", [AttrSizedOperandSegments]> {
  let summary = "pads with a constant, or by reflecting, repeating the edge "
                "or wrapping around";
  let arguments = (ins AnyTensor:$data, TensorOf<[I64]>:$pads,
                       Optional<AnyTensor>:$constant_value,
                       Optional<TensorOf<[I32, I64]>>:$axes,
                       DefaultValuedStrAttr<StrAttr, "constant">:$mode);
  let results = (outs AnyTensor:$output);
}

def ONNX_TopKOp : ONNX_Op<"TopK"> {
  let summary = "the k largest (or smallest) elements along `axis` and their "
                "indices";
  let arguments = (ins AnyTensor:$X, TensorOf<[I64]>:$K,
                       DefaultValuedAttr<SI64Attr, "-1">:$axis,
                       DefaultValuedAttr<SI64Attr, "1">:$largest,
                       DefaultValuedAttr<SI64Attr, "1">:$sorted);
  let results = (outs AnyTensor:$Values, TensorOf<[I64]>:$Indices);
}

def ONNX_ResizeOp : ONNX_Op<"Resize", [AttrSizedOperandSegments]> {
  let summary = "resamples by `scales` or to `sizes` (nearest, linear, cubic)";
  let arguments = (ins AnyTensor:$X, Optional<AnyTensor>:$roi,
                       Optional<TensorOf<[F32]>>:$scales,
                       Optional<TensorOf<[I64]>>:$sizes,
                       DefaultValuedAttr<SI64Attr, "0">:$antialias,
                       OptionalAttr<I64ArrayAttr>:$axes,
                       DefaultValuedStrAttr<StrAttr, "half_pixel">:$coordinate_transformation_mode,
                       DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                       DefaultValuedAttr<SI64Attr, "0">:$exclude_outside,
                       DefaultValuedAttr<F32Attr, "0.0">:$extrapolation_value,
                       DefaultValuedStrAttr<StrAttr, "stretch">:$keep_aspect_ratio_policy,
                       DefaultValuedStrAttr<StrAttr, "nearest">:$mode,
                       DefaultValuedStrAttr<StrAttr, "round_prefer_floor">:$nearest_mode);
  let results = (outs AnyTensor:$Y);
}

def ONNX_ReverseSequenceOp : ONNX_Op<"ReverseSequence"> {
  let summary = "reverses the first sequence_lens[b] steps of each batch entry";
  let description = [{
    Y[t, b] = X[len_b - 1 - t, b] for t < len_b, else X[t, b] (with the time
    and batch axes 0 and 1 in either order).
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$sequence_lens,
                       DefaultValuedAttr<SI64Attr, "1">:$batch_axis,
                       DefaultValuedAttr<SI64Attr, "0">:$time_axis);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def ONNX_GridSampleOp : ONNX_Op<"GridSample"> {
  let summary = "samples X [N, C, H, W] at the normalised (x, y) points of "
                "grid [N, H_out, W_out, 2]";
  let description = [{
    mode: bilinear, nearest or bicubic (opset 20's linear and cubic are the
    same); padding_mode: zeros, border or reflection; align_corners: whether
    -1 and 1 are the centres of the corner pixels (else their outer edges).
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$grid,
                       DefaultValuedAttr<SI64Attr, "0">:$align_corners,
                       DefaultValuedStrAttr<StrAttr, "bilinear">:$mode,
                       DefaultValuedStrAttr<StrAttr, "zeros">:$padding_mode);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def ONNX_NonZeroOp : ONNX_Op<"NonZero"> {
  let summary = "indices [rank, count] of the non-zero elements, row-major";
  let description = [{
    The count depends on the values: Tessera compiles it when the model
    gives it (a static output shape) and checks it at run time.
  }];
  let arguments = (ins AnyTensor:$X);
  let results = (outs AnyTensor:$Y);
}

def ONNX_CompressOp : ONNX_Op<"Compress"> {
  let summary = "the slices along `axis` (of the flattened input without it) "
                "where condition is true";
  let description = [{
    Slices past the condition's length are dropped. The count depends on the
    values: compiled when the model gives it, checked at run time.
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$condition,
                       OptionalAttr<SI64Attr>:$axis);
  let results = (outs AnyTensor:$output);
  let hasVerifier = 1;
}

def ONNX_UniqueOp : ONNX_Op<"Unique"> {
  let summary = "the distinct slices along `axis` (elements of the flattened "
                "input without one), sorted or in order of first occurrence";
  let description = [{
    Results: Y, then as many of indices (first occurrences), inverse_indices
    (each slice's index in Y) and counts as the node has. How many slices
    are distinct depends on the values: compiled when the model gives Y's
    size along the axis, checked at run time.
  }];
  let arguments = (ins AnyTensor:$X, OptionalAttr<SI64Attr>:$axis,
                       DefaultValuedAttr<SI64Attr, "1">:$sorted);
  let results = (outs AnyTensor:$Y, Variadic<AnyTensor>:$extra);
  let hasVerifier = 1;
}

def ONNX_NonMaxSuppressionOp : ONNX_Op<"NonMaxSuppression",
    [AttrSizedOperandSegments]> {
  let summary = "per batch and class, the boxes kept by greedy non-maximum "
                "suppression, as [batch, class, box] rows";
  let description = [{
    boxes [batches, boxes, 4] (corners, or centre and size with
    center_point_box), scores [batches, classes, boxes]. Per class, the
    highest-scoring remaining box (above score_threshold) is kept unless its
    IOU with a kept box exceeds iou_threshold, up to
    max_output_boxes_per_class (default 0: none). The number of rows depends
    on the values: compiled when the model gives it, checked at run time.
  }];
  let arguments = (ins AnyTensor:$boxes, AnyTensor:$scores,
                       Optional<AnyTensor>:$max_output_boxes_per_class,
                       Optional<AnyTensor>:$iou_threshold,
                       Optional<AnyTensor>:$score_threshold,
                       DefaultValuedAttr<SI64Attr, "0">:$center_point_box);
  let results = (outs AnyTensor:$selected_indices);
  let hasVerifier = 1;
}

#endif // TESSERA_ONNX_TENSOR
