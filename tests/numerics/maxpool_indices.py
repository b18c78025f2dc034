#!/usr/bin/python3
"""Numerical check of MaxPool's Indices output against ONNX Runtime: 1-D, 2-D
and 3-D windows with padding, strides, dilations and ceil_mode, in both
storage orders. Values and indices must both match (indices exactly).

Each case is one model with a dynamic batch, compiled once and run at batch 1
and 2 by tests/models/compare.py.

Usage: maxpool_indices.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys

import onnx
from onnx import TensorProto, helper

import cases  # tests/numerics/cases.py

# name: (input dims without batch, attributes)
CASES = {
    "1d_padded": ((3, 11), {"kernel_shape": [3], "pads": [1, 1], "strides": [2]}),
    "2d_dilated": ((2, 9, 8), {"kernel_shape": [3, 2], "dilations": [2, 1],
                               "pads": [1, 0, 2, 1]}),
    "2d_ceil": ((4, 7, 7), {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    "2d_column_major": ((3, 6, 5), {"kernel_shape": [3, 3], "strides": [1, 2],
                                    "pads": [1, 1, 1, 1], "storage_order": 1}),
    "3d": ((2, 4, 5, 6), {"kernel_shape": [2, 3, 2], "strides": [1, 2, 2],
                          "pads": [0, 1, 0, 0, 1, 1]}),
}


def build(name, dims, attrs, path):
    elt = TensorProto.FLOAT
    node = helper.make_node("MaxPool", ["x"], ["y", "indices"], name="pool", **attrs)
    graph = helper.make_graph(
        [node], name, [helper.make_tensor_value_info("x", elt, ["batch"] + list(dims))],
        [helper.make_tensor_value_info("y", elt, None),
         helper.make_tensor_value_info("indices", TensorProto.INT64, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build))
