"""Writes bfloat16 and float16 inputs the ways tessera-run must read them, or
checks its outputs against numpy.

    half_types.py write DIR     x_bits.pb (bfloat16 as ONNX's test data stores
                                it: a UINT16 TensorProto), x.npy (float32),
                                h.pb (FLOAT16 TensorProto), h.npy (<f2)
    half_types.py check DIR OUT  every OUT/*.npy equals what numpy computes
"""
import os
import sys

import numpy as np
from onnx import TensorProto, numpy_helper

VALUES = np.array([1.0, -2.5, 3.14159, 65504.0, 1e-3, -0.0, 100.25, 7.0], np.float32)


def bf16_bits(a):
    """float32 -> bfloat16 bits, rounding to nearest even."""
    u = a.view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def write(d):
    t = numpy_helper.from_array(bf16_bits(VALUES), "X")  # UINT16
    assert t.data_type == TensorProto.UINT16
    open(os.path.join(d, "x_bits.pb"), "wb").write(t.SerializeToString())
    np.save(os.path.join(d, "x.npy"), VALUES)
    h = VALUES.astype(np.float16)
    open(os.path.join(d, "h.pb"), "wb").write(numpy_helper.from_array(h, "H").SerializeToString())
    np.save(os.path.join(d, "h.npy"), h)


def check(out):
    bf = (bf16_bits(VALUES).astype(np.uint32) << 16).view(np.float32)
    expected = {"Y": bf, "B": bf, "G": VALUES.astype(np.float16).astype(np.float32) * 2}
    for name, want in expected.items():
        got = np.load(os.path.join(out, name + ".npy"))
        assert got.dtype == np.float32, (name, got.dtype)
        assert np.array_equal(got, want), (name, got, want)
    print("ok")


if __name__ == "__main__":
    write(sys.argv[2]) if sys.argv[1] == "write" else check(sys.argv[2])
