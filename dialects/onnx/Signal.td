//===- Signal.td - onnx signal-processing ops --------------*- tablegen -*-===//
//
// Windows, Fourier transforms and mel filter banks. Their output shapes
// depend on input values (a window's size, STFT's frame length), so they
// are compiled when the model gives those shapes; the lowering checks the
// values against them at run time.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_ONNX_SIGNAL
#define TESSERA_ONNX_SIGNAL

include "dialects/onnx/ONNXBase.td"

// y[n] = sum_j a_j cos(2 pi j n / N), N = size when periodic, else size - 1.
class ONNX_WindowOp<string mnemonic> : ONNX_Op<mnemonic> {
  let arguments = (ins AnyTensor:$size,
                       DefaultValuedAttr<SI64Attr, "1">:$output_datatype,
                       DefaultValuedAttr<SI64Attr, "1">:$periodic);
  let results = (outs AnyTensor:$output);
}

def ONNX_HannWindowOp : ONNX_WindowOp<"HannWindow"> {
  let summary = "0.5 - 0.5 cos(2 pi n / N)";
}

def ONNX_HammingWindowOp : ONNX_WindowOp<"HammingWindow"> {
  let summary = "25/46 - 21/46 cos(2 pi n / N)";
}

def ONNX_BlackmanWindowOp : ONNX_WindowOp<"BlackmanWindow"> {
  let summary = "0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)";
}

def ONNX_DFTOp : ONNX_Op<"DFT", [AttrSizedOperandSegments]> {
  let summary = "discrete Fourier transform along `axis`";
  let description = [{
    input is [batch, signal..., 1 (real) or 2 (complex)]; the output has 2
    (complex) last. dft_length zero-pads or truncates the signal; onesided
    keeps the first floor(length / 2) + 1 bins; inverse uses e^(+i) and
    divides by the length. From opset 20 `axis_input` replaces the
    attribute (it must then be a constant).
  }];
  let arguments = (ins AnyTensor:$input, Optional<AnyTensor>:$dft_length,
                       Optional<AnyTensor>:$axis_input,
                       DefaultValuedAttr<SI64Attr, "1">:$axis,
                       DefaultValuedAttr<SI64Attr, "0">:$inverse,
                       DefaultValuedAttr<SI64Attr, "0">:$onesided);
  let results = (outs AnyTensor:$output);
  let hasVerifier = 1;
}

def ONNX_STFTOp : ONNX_Op<"STFT", [AttrSizedOperandSegments]> {
  let summary = "short-time Fourier transform of [batch, length, 1 or 2]";
  let description = [{
    Frame f starts at f * frame_step and has frame_length samples (the
    window's length when a window is given), multiplied by the window; the
    output [batch, frames, bins, 2] holds each frame's DFT (bins =
    frame_length / 2 + 1 when onesided).
  }];
  let arguments = (ins AnyTensor:$signal, AnyTensor:$frame_step,
                       Optional<AnyTensor>:$window,
                       Optional<AnyTensor>:$frame_length,
                       DefaultValuedAttr<SI64Attr, "1">:$onesided);
  let results = (outs AnyTensor:$output);
  let hasVerifier = 1;
}

def ONNX_MelWeightMatrixOp : ONNX_Op<"MelWeightMatrix"> {
  let summary = "triangular mel filter bank [dft_length / 2 + 1, num_mel_bins]";
  let arguments = (ins AnyTensor:$num_mel_bins, AnyTensor:$dft_length,
                       AnyTensor:$sample_rate, AnyTensor:$lower_edge_hertz,
                       AnyTensor:$upper_edge_hertz,
                       DefaultValuedAttr<SI64Attr, "1">:$output_datatype);
  let results = (outs AnyTensor:$output);
}

#endif // TESSERA_ONNX_SIGNAL
