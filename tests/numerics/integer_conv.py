#!/usr/bin/python3
"""Numerical check of ConvInteger and QLinearConv against ONNX Runtime:
Conv's im2col + GEMM schedule run in int32 on operands widened minus their
zero points. The channel counts make the sums pass 2^24, where f32 would
round (ConvInteger's sums here are all of one sign, up to about 2.4e7);
grouped, depthwise, strided, dilated, asymmetrically padded and 1-D
cases, zero points per tensor and (QLinearConv's weights) per output
channel, and an int32 bias. Compared exactly (integer outputs); QLinearConv
requantizes in f32 with round half to even, as ONNX Runtime does.

Each case is one model with a dynamic batch, compiled once and run at batch 1
and 2 by tests/models/compare.py; x comes from its integer filler (0..99).

Usage: integer_conv.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import cases  # tests/numerics/cases.py

U8, I8 = TensorProto.UINT8, TensorProto.INT8

# name: (op, input dims without batch, filters, kernel, attributes,
#        x type, w type, per-channel weight parameters, bias)
CASES = {
    "convinteger_wide": ("ConvInteger", (256, 9, 9), 32, (3, 3), {"pads": [1, 1, 1, 1]},
                         U8, U8, False, False),
    "convinteger_grouped": ("ConvInteger", (12, 13, 11), 8, (3, 3),
                            {"pads": [0, 1, 2, 1], "strides": [2, 1], "dilations": [2, 2],
                             "group": 4}, U8, U8, False, False),
    "convinteger_1d": ("ConvInteger", (16, 40), 24, (5,), {"pads": [2, 2], "strides": [2]},
                       U8, U8, False, False),
    "qlinearconv_per_channel": ("QLinearConv", (64, 10, 10), 48, (3, 3),
                                {"pads": [1, 1, 1, 1]}, U8, I8, True, True),
    "qlinearconv_depthwise": ("QLinearConv", (16, 12, 12), 16, (3, 3),
                              {"pads": [1, 1, 1, 1], "strides": [2, 2], "group": 16},
                              U8, U8, False, True),
    "qlinearconv_int8": ("QLinearConv", (32, 8, 8), 16, (1, 1), {}, I8, I8, True, False),
}

NP = {U8: np.uint8, I8: np.int8}


def build(name, op, dims, filters, kernel, attrs, xt, wt, per_channel, bias, path):
    rng = np.random.default_rng(len(name) * 7919)
    group = attrs.get("group", 1)
    wdtype = NP[wt]
    info = np.iinfo(wdtype)
    wshape = (filters, dims[0] // group) + tuple(kernel)
    w = rng.integers(info.min, info.max + 1, size=wshape).astype(wdtype)
    inits = [numpy_helper.from_array(w, "w")]

    def scalar(n, v, dtype):
        inits.append(numpy_helper.from_array(np.array(v, dtype=dtype), n))

    if op == "ConvInteger":
        # x - x_zp in [-131, -32] against w in [0, 255]: sums of one sign,
        # past 2^24 in the wide case.
        x_zp, w_zp = 131, 0
        scalar("x_zp", x_zp, NP[xt])
        scalar("w_zp", w_zp, wdtype)
        inputs = ["x", "w", "x_zp", "w_zp"]
        out_type = TensorProto.INT32
    else:
        # x centred on its filler's mean; ONNX Runtime takes int8 weights
        # symmetric (zero point 0).
        x_zp, w_zp = 50, 0 if wt == I8 else 117
        fan_in = int(np.prod(wshape[1:]))
        scalar("x_scale", 0.02, np.float32)
        scalar("x_zp", x_zp, NP[xt])
        if per_channel:
            inits.append(numpy_helper.from_array(
                rng.uniform(0.001, 0.004, filters).astype(np.float32), "w_scale"))
            inits.append(numpy_helper.from_array(np.full(filters, w_zp, wdtype), "w_zp"))
        else:
            scalar("w_scale", 0.003, np.float32)
            scalar("w_zp", w_zp, wdtype)
        # Sums spread about 29 * 74 * sqrt(fan_in) (the operands' standard
        # deviations): an output step of a 40th of that.
        ws = 0.0025 if per_channel else 0.003
        scalar("y_scale", 0.02 * ws * 29 * 74 * np.sqrt(fan_in) / 40, np.float32)
        scalar("y_zp", 5 if xt == I8 else 128, NP[xt])
        inputs = ["x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp"]
        if bias:
            inits.append(numpy_helper.from_array(
                rng.integers(-20000, 20000, filters).astype(np.int32), "b"))
            inputs.append("b")
        out_type = xt
    node = helper.make_node(op, inputs, ["y"], name="conv", **attrs)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info("x", xt, ["batch"] + list(dims))],
        [helper.make_tensor_value_info("y", out_type, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build))
