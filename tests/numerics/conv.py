#!/usr/bin/python3
"""Numerical check of Conv (lowered as an unfold plus register-tiled matmuls)
against ONNX Runtime, over every attribute: strides, asymmetric pads,
dilations, groups (depthwise too), auto_pad SAME_UPPER / SAME_LOWER / VALID,
1-D, 2-D and 3-D, with and without bias, at realistic channel counts,
including the real-size front ends: a ViT-B/16 patch embedding (3 -> 768,
kernel 16, stride 16, 224x224) and a Whisper-style conv stem (80 -> 384 and
384 -> 384 stride 2, kernel 3, 3000 frames).

Each case is one Conv model with a dynamic batch, compiled once and run at
batch 1 and 2 by tests/models/compare.py (tolerance 1e-4 * max(1, max|ort|),
one ulp for float16). The float16 cases are convolved in f32 and rounded
once, as ONNX Runtime does.

Usage: conv.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import cases  # tests/numerics/cases.py

# name: (input dims without batch, filters, kernel, attributes, bias)
CASES = {
    "vit_b16_patch": ((3, 224, 224), 768, (16, 16), {"strides": [16, 16]}, True),
    "whisper_stem1": ((80, 3000), 384, (3,), {"pads": [1, 1]}, True),
    "whisper_stem2": ((384, 3000), 384, (3,), {"pads": [1, 1], "strides": [2]}, True),
    "grouped": ((8, 13, 11), 12, (3, 3), {"pads": [1, 1, 1, 1], "group": 4}, True),
    "depthwise_asym": ((16, 15, 17), 16, (3, 3),
                       {"pads": [0, 1, 1, 0], "strides": [2, 2], "group": 16}, False),
    "dilated": ((5, 20, 19), 7, (3, 3), {"pads": [2, 2, 2, 2], "dilations": [2, 2]}, True),
    "same_upper": ((6, 14, 9), 10, (4, 3), {"auto_pad": "SAME_UPPER", "strides": [2, 2]}, True),
    "same_lower": ((6, 14, 9), 10, (4, 3), {"auto_pad": "SAME_LOWER", "strides": [3, 2]}, False),
    "valid": ((4, 9, 10), 8, (2, 5), {"auto_pad": "VALID"}, True),
    "conv1d_grouped_dilated": ((12, 50), 18, (5,),
                               {"pads": [3, 1], "dilations": [3], "group": 3, "strides": [2]}, True),
    "conv3d": ((3, 6, 7, 5), 4, (2, 3, 2), {"pads": [1, 0, 1, 0, 1, 1], "strides": [1, 2, 1]}, True),
    "pointwise": ((64, 7, 7), 96, (1, 1), {}, True),
    # float16: the patch embedding, a 1-D stem and a grouped conv.
    "vit_b16_patch_f16": ((3, 224, 224), 768, (16, 16), {"strides": [16, 16]}, True,
                          np.float16),
    "whisper_stem1_f16": ((80, 3000), 384, (3,), {"pads": [1, 1]}, True, np.float16),
    "grouped_f16": ((8, 13, 11), 12, (3, 3), {"pads": [1, 1, 1, 1], "group": 4}, True,
                    np.float16),
}


def build(name, dims, filters, kernel, attrs, bias, *rest):
    *dtype, path = rest
    dtype = dtype[0] if dtype else np.float32
    elem = TensorProto.FLOAT16 if dtype == np.float16 else TensorProto.FLOAT
    # crc32, not hash(): str hashes change from run to run (PYTHONHASHSEED).
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    group = attrs.get("group", 1)
    channels = dims[0]
    fan_in = channels // group * int(np.prod(kernel))
    w = rng.normal(0, 1 / np.sqrt(fan_in), (filters, channels // group) + tuple(kernel))
    inits = [numpy_helper.from_array(w.astype(dtype), "w")]
    inputs = ["x", "w"]
    if bias:
        inits.append(numpy_helper.from_array(
            rng.normal(0, 1, filters).astype(dtype), "b"))
        inputs.append("b")
    node = helper.make_node("Conv", inputs, ["y"], name="conv", **attrs)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info("x", elem, ["batch"] + list(dims))],
        [helper.make_tensor_value_info("y", elem, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    sys.exit(cases.run(__doc__, CASES, build))
