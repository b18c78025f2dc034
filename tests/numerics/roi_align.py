#!/usr/bin/python3
"""Numerical check of RoiAlign against ONNX Runtime: avg and max, half_pixel
and output_half_pixel, fixed and adaptive sampling grids, a spatial_scale.
The regions come from the normal inputs, scaled to span about [-4, 12] on
a 12x12 image, so many lie partly outside it; with a fixed grid some are
also inverted (ONNX Runtime overflows on those with an adaptive grid, so
that case orders their corners). Every region reads image 0 (its index is
computed in the graph).

Each case is one model with a dynamic batch (the image count and the number
of regions), compiled once and run at batch 1 and 2 by
tests/models/compare.py (tolerance 1e-4 * max(1, max|ort|)).

Usage: roi_align.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import cases  # tests/numerics/cases.py

# name: (attributes, whether x2 >= x1 and y2 >= y1)
CASES = {
    "avg_half_pixel_adaptive": ({"output_height": 3, "output_width": 4}, True),
    "max_output_half_pixel": ({"mode": "max", "coordinate_transformation_mode":
                               "output_half_pixel", "output_height": 5,
                               "output_width": 5, "sampling_ratio": 2}, False),
    "avg_scaled": ({"output_height": 7, "output_width": 7, "sampling_ratio": 3,
                    "spatial_scale": 0.5}, False),
}


def build(name, attrs, ordered, path):
    scale = attrs.get("spatial_scale", 1.0)
    # Ordered regions stay mostly inside: corners about 5 +- 2.
    spread, shift = (2.0, 5.0) if ordered else (4.0, 4.0)
    inits = [numpy_helper.from_array(np.array(spread / scale, np.float32), "spread"),
             numpy_helper.from_array(np.array(shift / scale, np.float32), "shift"),
             numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
             numpy_helper.from_array(np.array([1], np.int64), "one_axis")]
    nodes = []
    r = "r"
    if ordered:
        # [x1, y1, x1 + |w|, y1 + |h|].
        inits += [numpy_helper.from_array(np.array(v, np.int64), n)
                  for n, v in (("s0", [0]), ("s2", [2]), ("s4", [4]))]
        nodes += [
            helper.make_node("Slice", ["r", "s0", "s2", "one_axis"], ["corner"], name="corner"),
            helper.make_node("Slice", ["r", "s2", "s4", "one_axis"], ["size"], name="size"),
            helper.make_node("Abs", ["size"], ["extent"], name="extent"),
            helper.make_node("Add", ["corner", "extent"], ["far"], name="far"),
            helper.make_node("Concat", ["corner", "far"], ["ordered"], name="ordered", axis=1),
        ]
        r = "ordered"
    nodes += [
        helper.make_node("Mul", [r, "spread"], ["scaled"], name="spread"),
        helper.make_node("Add", ["scaled", "shift"], ["rois"], name="shift"),
        helper.make_node("Mul", ["r", "zero"], ["zeros"], name="zeros"),
        helper.make_node("ReduceSum", ["zeros", "one_axis"], ["zero_col"], name="sum",
                         keepdims=0),
        helper.make_node("Cast", ["zero_col"], ["image"], name="image", to=TensorProto.INT64),
        helper.make_node("RoiAlign", ["x", "rois", "image"], ["y"], name="roi_align", **attrs),
    ]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 12, 12]),
         helper.make_tensor_value_info("r", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build))
