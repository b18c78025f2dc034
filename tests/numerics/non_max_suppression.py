#!/usr/bin/python3
"""Numerical check of NonMaxSuppression against ONNX Runtime on random
scores. Its row count depends on the values, so the boxes are constant
clusters: the boxes of a cluster overlap each other well above the IOU
threshold and clusters do not touch, so greedy suppression keeps exactly one
box per cluster and class (which one depends on the scores: the check is
that Tessera keeps the same ones, in the same order). Corner boxes (some
with flipped corners) and centre-size boxes, with and without a
max_output_boxes_per_class below the number of clusters.

Each model has static shapes (2 batches, 3 classes, 60 boxes) and is run
once by tests/models/compare.py; indices are compared exactly.

Usage: non_max_suppression.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import cases  # tests/numerics/cases.py

BATCHES, CLASSES, CLUSTERS, PER_CLUSTER = 2, 3, 12, 5

# name: (center_point_box, max_output_boxes_per_class)
CASES = {
    "corners": (0, 100),
    "corners_limited": (0, 4),
    "center_size": (1, 100),
}


def cluster_boxes(center_point, rng):
    """[BATCHES, CLUSTERS * PER_CLUSTER, 4]: clusters on a grid 10 apart,
    boxes about 4 wide jittered by at most 0.2 (IOU > 0.75 within one)."""
    boxes = []
    for b in range(BATCHES):
        rows = []
        for k in range(CLUSTERS):
            y0, x0 = 10.0 * (k // 4), 10.0 * (k % 4)
            for _ in range(PER_CLUSTER):
                y1, x1 = y0 + rng.uniform(-0.2, 0.2), x0 + rng.uniform(-0.2, 0.2)
                h, w = 4 + rng.uniform(-0.2, 0.2), 4 + rng.uniform(-0.2, 0.2)
                if center_point:
                    rows.append([x1 + w / 2, y1 + h / 2, w, h])
                elif rng.random() < 0.5:
                    rows.append([y1 + h, x1 + w, y1, x1])  # flipped corners
                else:
                    rows.append([y1, x1, y1 + h, x1 + w])
        order = rng.permutation(len(rows))  # clusters interleaved
        boxes.append(np.array(rows, np.float32)[order])
    return np.stack(boxes)


def build(name, center_point, max_out, path):
    rng = np.random.default_rng(len(name))
    boxes = cluster_boxes(center_point, rng)
    inits = [numpy_helper.from_array(boxes, "boxes"),
             numpy_helper.from_array(np.array([max_out], np.int64), "max_out"),
             numpy_helper.from_array(np.array([0.5], np.float32), "iou")]
    node = helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_out", "iou"],
                            ["selected"], name="nms", center_point_box=center_point)
    rows = BATCHES * CLASSES * min(CLUSTERS, max_out)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT,
                                       [BATCHES, CLASSES, CLUSTERS * PER_CLUSTER])],
        [helper.make_tensor_value_info("selected", TensorProto.INT64, [rows, 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build, batches=str(BATCHES), dynamic=False))
