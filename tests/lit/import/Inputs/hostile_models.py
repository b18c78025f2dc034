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
# A Reshape shape of 2^29 entries, made by ConstantOfShape in a few bytes.
save("huge-shape", [raw_constant("n", [1], np.array([1 << 29], np.int64).tobytes()),
                    helper.make_node("ConstantOfShape", ["n"], ["s"], name="ones",
                                     value=helper.make_tensor("v", TensorProto.INT64, [1], [1])),
                    helper.make_node("Reshape", ["X", "s"], ["Y"], name="r")],
     [X], [vi("Y", [None, None])])
# A ConvTranspose whose weight's kernel dim is not known.
save("dynamic-kernel", [helper.make_node("ConvTranspose", ["X4", "W4"], ["Y"], name="ct",
                                         strides=[2, 2])],
     [vi("X4", [1, 1, 3, 3]), vi("W4", [1, 2, "k", 3])], [vi("Y", [None] * 4)])
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


# Attribute values and constant operands that libonnx's inference, the
# dialect's inference or the lowering to linalg would trust (hostile-attributes.test).
def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def dims(name, rank, dtype=TensorProto.FLOAT):
    return vi(name, ["d%d" % i for i in range(rank)], dtype)


def conv(name, wshape=(4, 3, 3, 3), **attrs):
    weight = numpy_helper.from_array(np.ones(wshape, np.float32), "W")
    save(name, [helper.make_node("Conv", ["X", "W"], ["Y"], name="c", **attrs)],
         [vi("X", [1, 3, 8, 8])], [dims("Y", 4)], [weight])


conv("conv-stride0", strides=[0, 1])
conv("conv-dilation0", dilations=[1, 0])
conv("conv-pad-negative", pads=[-5, 0, 0, 0])
conv("conv-pad-huge", pads=[1 << 40, 0, 0, 0])
conv("conv-pads-count", pads=[1, 1])
conv("conv-kernel-shape", kernel_shape=[5, 5])
conv("conv-group", group=2)
conv("conv-group0", group=0)
conv("conv-auto-pad", auto_pad="BOGUS")
conv("conv-window", wshape=(4, 3, 10, 10))
conv("conv-window-dilated", dilations=[100, 1])
# MaxUnpool's window unpools X [1, 1, 1, 1] to (1 - 1) * 1 + 2 - 4 = -2.
save("unpool-empty", [helper.make_node("MaxUnpool", ["X", "I"], ["Y"], name="u",
                                       kernel_shape=[2, 2], pads=[2, 2, 2, 2])],
     [vi("X", [1, 1, 1, 1]), vi("I", [1, 1, 1, 1], TensorProto.INT64)], [dims("Y", 4)],
     opset=11)


def einsum(name, equation, a=(2, 3), b=(3, 4)):
    save(name, [helper.make_node("Einsum", ["A", "B"], ["Y"], name="e", equation=equation)],
         [vi("A", list(a)), vi("B", list(b))], [dims("Y", 2)])


einsum("einsum-output-letter", "ij,jk->il")
einsum("einsum-output-twice", "ij,jk->ii")
einsum("einsum-digit", "i1,jk->ik")
einsum("einsum-two-ellipses", "...i...,jk->ik")
einsum("einsum-term-rank", "ijk,jk->ik")
einsum("einsum-sizes", "ij,ik->jk")
einsum("einsum-output-ellipsis", "ij,jk->...k")
einsum("einsum-upper-ellipsis", "...j,jK->...K")

X2 = vi("X", [2, 3])
save("tile-negative", [helper.make_node("Tile", ["X", "r"], ["Y"], name="t")],
     [X2], [dims("Y", 2)], [ints("r", [-1, 2])])
save("tile-huge", [helper.make_node("Tile", ["X", "r"], ["Y"], name="t")],
     [X2], [dims("Y", 2)], [ints("r", [1 << 40, 1 << 40])])
save("constantofshape-negative", [helper.make_node("ConstantOfShape", ["s"], ["Y"], name="k")],
     [], [dims("Y", 2)], [ints("s", [-2, 3])])
save("gemm-trans", [helper.make_node("Gemm", ["X", "B"], ["Y"], name="g", transA=5)],
     [X2, vi("B", [3, 4])], [dims("Y", 2)])
save("reduce-keepdims", [helper.make_node("ReduceSum", ["X", "ax"], ["Y"], name="r", keepdims=7)],
     [X2], [dims("Y", 2)], [ints("ax", [1])])


def arange(name, start, limit, delta, dtype=np.int64):
    values = [numpy_helper.from_array(np.array(v, dtype), n)
              for n, v in zip("sld", (start, limit, delta))]
    elem = TensorProto.INT64 if dtype == np.int64 else TensorProto.FLOAT
    save(name, [helper.make_node("Range", ["s", "l", "d"], ["Y"], name="r")],
         [], [dims("Y", 1, elem)], values)


arange("range-delta0", 0, 10, 0)
arange("range-overflow", -(1 << 62), 1 << 62, 1)
arange("range-infinite", 0, np.inf, 1, np.float32)
save("slice-step", [helper.make_node("Slice", ["X", "b", "e", "a", "s"], ["Y"], name="sl")],
     [X2], [dims("Y", 2)], [ints("b", [0]), ints("e", [3]), ints("a", [1]), ints("s", [(1 << 63) - 1])])
