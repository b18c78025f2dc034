#!/usr/bin/python3
"""Numerical check of LRN against ONNX Runtime: windows of 3 to 9 channels,
one wider than the channels, and the attributes away from their defaults.
ONNX Runtime takes only 4-D inputs and odd sizes, so the cases are those (an
even size splits its window as the spec says, one more channel after).

Each case is one model with a dynamic batch, compiled once and run at batch 1
and 2 by tests/models/compare.py (tolerance 1e-4 * max(1, max|ort|)).

Usage: lrn.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys

import onnx
from onnx import TensorProto, helper

import cases  # tests/numerics/cases.py

# name: (input dims without batch, size, attributes)
CASES = {
    "alexnet": ((16, 7, 9), 5, {"alpha": 1e-4, "beta": 0.75, "bias": 2.0}),
    "wide_window": ((12, 5, 4), 9, {"alpha": 0.5, "beta": 0.5, "bias": 1.0}),
    "wider_than_channels": ((3, 6, 5), 7, {"alpha": 2.0, "beta": 1.5, "bias": 3.0}),
    "defaults": ((6, 4, 5), 3, {}),
}

def build(name, dims, size, attrs, path):
    elt = TensorProto.FLOAT
    node = helper.make_node("LRN", ["x"], ["y"], name="lrn", size=size, **attrs)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info("x", elt, ["batch"] + list(dims))],
        [helper.make_tensor_value_info("y", elt, ["batch"] + list(dims))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build))
