#!/usr/bin/python3
"""Numerical check of GroupNormalization against ONNX Runtime: opset 21
(scale and bias per channel) and opsets 18 to 20 (per group), groups of one
channel (InstanceNormalization's case), of all channels, and in between,
1-D, 2-D and 3-D spatial dims.

Each case is one model with a dynamic batch, compiled once and run at batch 1
and 2 by tests/models/compare.py (tolerance 1e-4 * max(1, max|ort|)).

Usage: group_norm.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import cases  # tests/numerics/cases.py

# name: (input dims without batch, num_groups, opset, epsilon)
CASES = {
    "op21_2d": ((8, 5, 6), 4, 21, 1e-5),
    "op21_one_group": ((6, 9), 1, 21, 1e-3),
    "op21_instance": ((5, 4, 3), 5, 21, 1e-5),
    "op21_3d": ((12, 3, 4, 5), 3, 21, 1e-5),
    "op18_per_group": ((6, 7), 3, 18, 1e-5),
    "op18_per_group_2d": ((32, 8, 8), 8, 18, 1e-6),
}


def build(name, dims, groups, opset, eps, path):
    rng = np.random.default_rng(sum(map(ord, name)))
    channels = dims[0]
    params = channels if opset >= 21 else groups
    elt = TensorProto.FLOAT
    inits = [numpy_helper.from_array(rng.normal(1, 0.5, params).astype(np.float32), "scale"),
             numpy_helper.from_array(rng.normal(0, 0.5, params).astype(np.float32), "bias")]
    node = helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"],
                            name="gn", num_groups=groups, epsilon=eps)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info("x", elt, ["batch"] + list(dims))],
        [helper.make_tensor_value_info("y", elt, ["batch"] + list(dims))], inits)
    # libonnx 1.12 (python3-onnx) has no GroupNormalization schema: no checker.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              ir_version=10 if opset >= 21 else 8)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build))
