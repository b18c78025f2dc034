#!/usr/bin/python3
"""Numerical check of GridSample against ONNX Runtime: every mode (bilinear,
nearest, bicubic) with every padding (zeros, border, reflection), with and
without align_corners. The grid is a graph input, filled from a standard
normal, so about a third of its points fall outside [-1, 1] and reflection
folds some of them more than once.

Each case is one model with a dynamic batch, compiled once and run at batch 1
and 2 by tests/models/compare.py (tolerance 1e-4 * max(1, max|ort|)).

Usage: grid_sample.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys

import onnx
from onnx import TensorProto, helper

import cases  # tests/numerics/cases.py

# name: (mode, padding_mode, align_corners)
CASES = {
    "%s_%s%s" % (mode, padding, "_aligned" if align else ""): (mode, padding, align)
    for mode in ("bilinear", "nearest", "bicubic")
    for padding in ("zeros", "border", "reflection")
    for align in (0, 1)
}


def build(name, mode, padding, align, path):
    elt = TensorProto.FLOAT
    node = helper.make_node("GridSample", ["x", "grid"], ["y"], name="sample",
                            mode=mode, padding_mode=padding, align_corners=align)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info("x", elt, ["batch", 3, 5, 7]),
         helper.make_tensor_value_info("grid", elt, ["batch", 4, 6, 2])],
        [helper.make_tensor_value_info("y", elt, ["batch", 3, 4, 6])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build))
