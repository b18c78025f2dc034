#!/usr/bin/python3
"""Numerical check of QLinearMatMul against ONNX Runtime: uint8 and int8
operands with zero points away from 0, a batched A against a constant B,
and scales that make many products round at or near half an output step.
Compared exactly (integer outputs): ONNX Runtime requantizes in f32 with
round half to even, as Tessera does.

Each case is one model with a dynamic batch, compiled once and run at batch 1
and 2 by tests/models/compare.py; A's entries come from its integer filler
(0..99).

Usage: qlinear_matmul.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import cases  # tests/numerics/cases.py

# name: (element type, a zero point, b zero point, y zero point, scales)
CASES = {
    "uint8": (TensorProto.UINT8, 12, 131, 100, (0.02, 0.0035, 0.5)),
    "int8": (TensorProto.INT8, -7, 3, -20, (0.05, 0.01, 0.25)),
    "uint8_centered": (TensorProto.UINT8, 0, 128, 128, (0.004, 0.002, 0.004)),
}


def build(name, elt, azp, bzp, yzp, scales, path):
    rng = np.random.default_rng(len(name))
    dtype = np.uint8 if elt == TensorProto.UINT8 else np.int8
    info = np.iinfo(dtype)
    b = rng.integers(info.min, info.max + 1, size=(32, 24)).astype(dtype)
    inits = [numpy_helper.from_array(b, "b")]
    for n, v, t in (("a_scale", scales[0], np.float32), ("b_scale", scales[1], np.float32),
                    ("y_scale", scales[2], np.float32), ("a_zp", azp, dtype),
                    ("b_zp", bzp, dtype), ("y_zp", yzp, dtype)):
        inits.append(numpy_helper.from_array(np.array(v, dtype=t), n))
    node = helper.make_node(
        "QLinearMatMul", ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "y_scale", "y_zp"],
        ["y"], name="qmm")
    graph = helper.make_graph(
        [node], name, [helper.make_tensor_value_info("a", elt, ["batch", 16, 32])],
        [helper.make_tensor_value_info("y", elt, ["batch", 16, 24])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build))
