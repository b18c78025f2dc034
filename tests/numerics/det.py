#!/usr/bin/python3
"""Numerical check of Det (Gaussian elimination with partial pivoting)
against ONNX Runtime: 1x1 to 8x8 matrices with extra batch dims, and
matrices that need row swaps or are singular (a row that is the sum of two
others), computed in the graph from the normal inputs.

Each case is one model with a dynamic batch, compiled once and run at batch 1
and 2 by tests/models/compare.py (tolerance 1e-4 * max(1, max|ort|)).

Usage: det.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import cases  # tests/numerics/cases.py

# name: (matrix size, extra batch dims, how the matrices are made)
CASES = {
    "det_1x1": (1, (3,), "plain"),
    "det_2x2": (2, (4,), "plain"),
    "det_3x3": (3, (2, 3), "plain"),
    "det_5x5": (5, (6,), "plain"),
    "det_8x8": (8, (), "plain"),
    # Zeros on the diagonal: every column needs a row swap.
    "det_pivoting": (4, (5,), "zero_diagonal"),
    # Row 2 = row 0 + row 1: the last pivots are rounding noise.
    "det_singular": (4, (3,), "singular"),
}


def build(name, n, batch_dims, kind, path):
    dims = ["batch"] + list(batch_dims) + [n, n]
    nodes, inits = [], []
    x = "x"
    if kind == "zero_diagonal":
        mask = 1 - np.eye(n, dtype=np.float32)
        inits.append(numpy_helper.from_array(mask, "mask"))
        nodes.append(helper.make_node("Mul", ["x", "mask"], ["m"], name="zero_diag"))
        x = "m"
    elif kind == "singular":
        # mix @ x: row 2 becomes row 0 + row 1.
        mix = np.eye(n, dtype=np.float32)
        mix[2] = mix[0] + mix[1]
        inits.append(numpy_helper.from_array(mix, "mix"))
        nodes.append(helper.make_node("MatMul", ["mix", "x"], ["m"], name="dependent_rows"))
        x = "m"
    nodes.append(helper.make_node("Det", [x], ["y"], name="det"))
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims[:-2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build))
