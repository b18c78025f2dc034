#!/usr/bin/python3
"""Writes small fuzzing seeds from real models: each initializer with more
than 16 elements becomes a ConstantOfShape node of the same shape and data
type, so the graph (every node, attribute and shape) stays as exported while
the file shrinks from megabytes of weights to a few kilobytes, under
libFuzzer's -max_len.

usage: skeleton_models.py OUTDIR MODEL.onnx...
"""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def skeleton(model):
    graph = model.graph
    kept, nodes = [], []
    for init in graph.initializer:
        if int(np.prod(init.dims)) <= 16:
            kept.append(init)
            continue
        shape = numpy_helper.from_array(np.array(init.dims, np.int64),
                                        init.name + "__shape")
        value = helper.make_tensor(init.name + "__value", init.data_type, [1],
                                   [1] if init.data_type != onnx.TensorProto.FLOAT
                                   else [0.01])
        kept.append(shape)
        nodes.append(helper.make_node("ConstantOfShape", [shape.name],
                                      [init.name], value=value))
    inputs = [i for i in graph.input
              if not any(n.output[0] == i.name for n in nodes)]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    del graph.input[:]
    graph.input.extend(inputs)
    old = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + old)
    return model


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for path in sys.argv[2:]:
        model = skeleton(onnx.load(path))
        name = os.path.splitext(os.path.basename(path))[0] + ".skeleton.onnx"
        onnx.save(model, os.path.join(out, name))


if __name__ == "__main__":
    main()
