#!/usr/bin/python3
"""Numerical check of Unique and Compress against ONNX Runtime. Their
output sizes depend on the values, so each model makes them independent of
the batch and gives them: Unique runs over the columns of [x, x] (each
column twice; normal inputs make the columns of x distinct), sorted and in
order of first occurrence, with all four outputs; Compress selects along a
middle axis by a constant condition shorter than the axis, and along the
last axis by one computed at run time from a constant (Greater).

Each case is one model with a dynamic batch, compiled once and run at batch 1
and 2 by tests/models/compare.py (integer outputs exactly).

Usage: selection.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import cases  # tests/numerics/cases.py

F, I64 = TensorProto.FLOAT, TensorProto.INT64


def unique(sorted_):
    def make():
        nodes = [
            helper.make_node("Concat", ["x", "x"], ["xx"], name="twice", axis=1),
            helper.make_node("Unique", ["xx"], ["y", "indices", "inverse", "counts"],
                             name="unique", axis=1, sorted=sorted_),
        ]
        outputs = [helper.make_tensor_value_info("y", F, ["batch", 5]),
                   helper.make_tensor_value_info("indices", I64, [5]),
                   helper.make_tensor_value_info("inverse", I64, [10]),
                   helper.make_tensor_value_info("counts", I64, [5])]
        return nodes, ["batch", 5], [], outputs
    return (make,)


def compress():
    def make():
        cond = np.array([True, False, True, True, False, False, True], np.bool_)
        threshold = np.array([0.5, -1.0, 2.0, 0.0], np.float32)
        inits = [numpy_helper.from_array(cond, "cond"),
                 numpy_helper.from_array(threshold, "threshold"),
                 numpy_helper.from_array(np.array(0.25, np.float32), "cut")]
        nodes = [
            helper.make_node("Compress", ["x", "cond"], ["middle"], name="middle", axis=1),
            helper.make_node("Greater", ["threshold", "cut"], ["keep"], name="keep"),
            helper.make_node("Compress", ["x", "keep"], ["last"], name="last", axis=-1),
        ]
        outputs = [helper.make_tensor_value_info("middle", F, ["batch", 4, 6]),
                   helper.make_tensor_value_info("last", F, ["batch", 9, 2])]
        return nodes, ["batch", 9, 6], inits, outputs
    return (make,)


CASES = {
    "unique_sorted_columns": unique(1),
    "unique_unsorted_columns": unique(0),
    "compress": compress(),
}


def build(name, make, path):
    nodes, dims, inits, outputs = make()
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", F, dims)],
                              outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build))
