#!/usr/bin/python3
"""Numerical check of the signal operators against ONNX Runtime: DFT (real
and complex input, forward and inverse, along a middle axis, onesided, a
dft_length that zero-pads or truncates), STFT (a Hann window made by
HannWindow, a frame_length without a window, complex and two-sided), the
Hamming and Blackman windows (periodic and symmetric) and MelWeightMatrix at
Whisper's size (80 mel bins of a 400-point DFT at 16 kHz) applied by MatMul.
The window sizes and the mel matrix's dims are input values: the models
give their shapes (value_info), as exporters do.

Each case is one model with a dynamic batch, compiled once and run at batch 1
and 2 by tests/models/compare.py (tolerance 1e-4 * max(1, max|ort|)).

Usage: signal.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import cases  # tests/numerics/cases.py

F = TensorProto.FLOAT


def int_const(name, value):
    return numpy_helper.from_array(np.array(value, dtype=np.int64), name)


def dft(dims, axis, inverse=0, onesided=0, length=None):
    """A DFT of x [batch, dims...] along `axis`."""
    def make():
        inits, inputs = [], ["x", ""]
        if length is not None:
            inits.append(int_const("n", length))
            inputs[1] = "n"
        node = helper.make_node("DFT", inputs if length is not None else ["x"], ["y"],
                                name="dft", axis=axis, inverse=inverse,
                                onesided=onesided)
        out = ["batch"] + list(dims)
        n = length or dims[axis - 1]
        out[axis], out[-1] = (n // 2 + 1 if onesided else n), 2
        return [node], ["batch"] + list(dims), inits, [], [("y", out)]
    return (make,)


def stft(samples, complex_, step, window=None, frame_length=None, onesided=1):
    def make():
        inits = [int_const("step", step)]
        nodes = []
        inputs = ["x", "step", "", ""]
        value_info = []
        if window:
            inits.append(int_const("wsize", window))
            nodes.append(helper.make_node("HannWindow", ["wsize"], ["window"], name="hann"))
            value_info.append(helper.make_tensor_value_info("window", F, [window]))
            inputs[2] = "window"
        if frame_length:
            inits.append(int_const("flen", frame_length))
            inputs[3] = "flen"
        while inputs[-1] == "":
            inputs.pop()
        length = window or frame_length
        frames = (samples - length) // step + 1
        bins = length // 2 + 1 if onesided else length
        nodes.append(helper.make_node("STFT", inputs, ["y"], name="stft", onesided=onesided))
        return (nodes, ["batch", samples, 2 if complex_ else 1], inits, value_info,
                [("y", ["batch", frames, bins, 2])])
    return (make,)


def windows_and_mel():
    """Hamming/Blackman windows scaling x, and a mel filter bank over a
    [batch, 201] power spectrum."""
    def make():
        inits = [int_const("n16", 16), int_const("mels", 80), int_const("dft", 400),
                 int_const("rate", 16000),
                 numpy_helper.from_array(np.array(0.0, np.float32), "lo"),
                 numpy_helper.from_array(np.array(8000.0, np.float32), "hi")]
        nodes = [
            helper.make_node("HammingWindow", ["n16"], ["hamming"], name="hamming"),
            helper.make_node("BlackmanWindow", ["n16"], ["blackman"], name="blackman",
                             periodic=0),
            helper.make_node("Slice", ["x", "start", "end", "axis"], ["head"], name="head"),
            helper.make_node("Mul", ["head", "hamming"], ["a"], name="mul_a"),
            helper.make_node("Mul", ["head", "blackman"], ["b"], name="mul_b"),
            helper.make_node("MelWeightMatrix", ["mels", "dft", "rate", "lo", "hi"],
                             ["mel"], name="mel"),
            helper.make_node("MatMul", ["x", "mel"], ["m"], name="apply_mel"),
        ]
        inits += [int_const("start", [0]), int_const("end", [16]), int_const("axis", [1])]
        value_info = [helper.make_tensor_value_info("hamming", F, [16]),
                      helper.make_tensor_value_info("blackman", F, [16]),
                      helper.make_tensor_value_info("mel", F, [201, 80])]
        return (nodes, ["batch", 201], inits, value_info,
                [("a", ["batch", 16]), ("b", ["batch", 16]), ("m", ["batch", 80])])
    return (make,)


CASES = {
    "dft_real": dft((64, 1), 1),
    "dft_complex_inverse_axis2": dft((6, 40, 2), 2, inverse=1),
    "dft_onesided_padded": dft((50, 1), 1, onesided=1, length=64),
    "dft_truncated": dft((3, 50, 2), 2, length=32),
    "stft_hann": stft(512, False, 64, window=128),
    "stft_complex_two_sided": stft(300, True, 50, frame_length=64, onesided=0),
    "windows_and_mel": windows_and_mel(),
}


def build(name, make, path):
    nodes, in_dims, inits, value_info, outputs = make()
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", F, in_dims)],
        [helper.make_tensor_value_info(o, F, dims) for o, dims in outputs], inits,
        value_info=value_info)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    # Shapes given, not inferred: onnx 1.12's STFT inference turns a
    # symbolic batch into 0 (Tessera's importer corrects that).
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build))
