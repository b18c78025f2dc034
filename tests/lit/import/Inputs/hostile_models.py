"""Writes the hostile models of hostile.test into a directory: each is one
class of malformed input that once crashed tessera-compile (inside libonnx's
shape inference) or was accepted when it must not be.

usage: hostile_models.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def save(name, nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    with open(os.path.join(out, name + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())


def vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


X = vi("X", [2, 3])
S = vi("S", [None], TensorProto.INT64)

# A Shape node downstream of a node whose own inference fails.
save("bad-perm", [helper.make_node("Transpose", ["X"], ["T"], name="T", perm=[-1, 0]),
                  helper.make_node("Shape", ["T"], ["S"], name="shape")], [X], [S])
save("bad-softmax-axis", [helper.make_node("Softmax", ["X"], ["T"], name="sm", axis=5),
                          helper.make_node("Shape", ["T"], ["S"], name="shape")], [X], [S])
save("short-perm", [helper.make_node("Transpose", ["X"], ["T"], name="T", perm=[0]),
                    helper.make_node("Shape", ["T"], ["S"], name="shape")], [X], [S])


def raw_constant(name, dims, raw, dtype=TensorProto.INT64):
    t = TensorProto()
    t.name = name
    t.data_type = dtype
    t.dims.extend(dims)
    t.raw_data = raw
    return helper.make_node("Constant", [], [name], name=name, value=t)


# A scalar INT64 Constant with 4 of its 8 bytes, used as a Reshape shape.
save("short-scalar", [raw_constant("c", [], b"\x01\x00\x00\x00"),
                      helper.make_node("Unsqueeze", ["X", "c"], ["Y"], name="u")],
     [X], [vi("Y", [None] * 3)])
# A split Constant with more raw bytes than its shape needs.
save("long-split", [raw_constant("split", [2], np.array([1, 1, 1], np.int64).tobytes()),
                    helper.make_node("Split", ["X", "split"], ["A", "B"], name="sp", axis=1)],
     [X], [vi("A", [None] * 2), vi("B", [None] * 2)])
# An initializer whose typed field holds too few values.
bad = helper.make_tensor("W", TensorProto.FLOAT, [2], [1.0, 2.0])
bad.dims[0] = 3
save("short-typed", [helper.make_node("Add", ["X", "W"], ["Y"], name="add")],
     [X], [vi("Y", [2, 3])], [bad])
# Out-of-range axes and indices given as constants.
save("unsqueeze-axis", [raw_constant("ax", [1], np.array([7], np.int64).tobytes()),
                        helper.make_node("Unsqueeze", ["X", "ax"], ["Y"], name="u")],
     [X], [vi("Y", [None] * 3)])
save("gather-index", [raw_constant("idx", [1], np.array([3], np.int64).tobytes()),
                      helper.make_node("Gather", ["X", "idx"], ["Y"], name="g", axis=1)],
     [X], [vi("Y", [None] * 2)])

# One output named twice; two nodes defining one value.
save("duplicate-output", [helper.make_node("Relu", ["X"], ["Y"], name="r")],
     [X], [vi("Y", [2, 3]), vi("Y", [2, 3])])
save("redefined", [helper.make_node("Relu", ["X"], ["Y"], name="r1"),
                   helper.make_node("Relu", ["X"], ["Y"], name="r2")],
     [X], [vi("Y", [2, 3])])


# External data: the bytes of W (3 floats) come from a file.
def external(name, **entries):
    t = TensorProto()
    t.name = "W"
    t.data_type = TensorProto.FLOAT
    t.dims.append(3)
    t.data_location = TensorProto.EXTERNAL
    for k, v in entries.items():
        e = t.external_data.add()
        e.key = k
        e.value = v
    save(name, [helper.make_node("Add", ["X", "W"], ["Y"], name="add")],
         [X], [vi("Y", [2, 3])], [t])


with open(os.path.join(out, "w.bin"), "wb") as f:
    f.write(np.arange(3, dtype=np.float32).tobytes())
external("ext-ok", location="w.bin")
external("ext-dotdot", location="../../../../etc/passwd")
external("ext-absolute", location="/etc/passwd")
link = os.path.join(out, "link.bin")
if os.path.lexists(link):
    os.remove(link)
os.symlink("/etc/passwd", link)
external("ext-symlink", location="link.bin")
external("ext-length", location="w.bin", length="twelve")
external("ext-offset", location="w.bin", offset="8")
external("ext-unknown-key", location="w.bin", sha1="00")
