#!/usr/bin/python3
"""Writes a small ONNX model with three attention blocks and random inputs
(`make DIR DH [S]`), or checks Tessera's outputs against a float64 NumPy
reference (`check DIR OUT_DIR DH [S]`). S (default 20) queries and keys:
20 is one partial 48 x 48 block, 100 is two full blocks and a partial one
(and 17 register tiles of 6 keys or queries, the last partial); DH = 12 and
40 are padded to 16 and 48 columns of O (V reads bounds checked), DH = 64
is the fast path.

Y1: masked_fill(~keep, -inf) after Mul by 0.5; batch element 1 has no key
    kept, so its rows are NaN (softmax of all -inf), as in ONNX Runtime.
Y2: causal Trilu mask filled with finfo(float32).min, Div by 0.5.
Y3: a float additive mask that differs per query, Q pre-scaled by 0.25.
Y4: rank-3 [B*H, S, DH] heads (bmm style, K^T as Transpose(0,2,1)), Mul 0.5.

`make-dynamic DIR DH` writes the same model with S a dynamic dim ("S", the
Reshapes to -1) and without Y2 (a causal Trilu of an S x S constant needs a
static S); `sweep DIR LIB RUNNER DH S0 S1` runs the compiled library once
per S in S0..S1 (every partial and full block, S = 1 included) on fresh
inputs and checks each run like `check`.
"""

import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

B, H, S = 2, 3, 20
DH = 12  # set from the command line


def make(d, dynamic=False):
    f = TensorProto.FLOAT
    s = "S" if dynamic else S
    seq = -1 if dynamic else S
    inputs = [helper.make_tensor_value_info(n, f, [B, H, s, DH]) for n in "QKV"]
    inputs.append(helper.make_tensor_value_info("keep", TensorProto.BOOL, [B, 1, 1, s]))
    inputs.append(helper.make_tensor_value_info("M", f, [B, 1, s, s]))
    names = ("Y1", "Y3") if dynamic else ("Y1", "Y2", "Y3")
    outputs = [helper.make_tensor_value_info(n, f, [B, s, H * DH]) for n in names]
    outputs.append(helper.make_tensor_value_info("Y4", f, [B * H, s, DH]))
    inits = [
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
        numpy_helper.from_array(np.array(0.25, np.float32), "quarter"),
        numpy_helper.from_array(np.array(-np.inf, np.float32), "ninf"),
        numpy_helper.from_array(np.array(np.finfo(np.float32).min, np.float32), "fmin"),
        numpy_helper.from_array(np.array([B, seq, H * DH], np.int64), "shape"),
        numpy_helper.from_array(np.array([B * H, seq, DH], np.int64), "shape3"),
    ]
    if not dynamic:
        inits.append(numpy_helper.from_array(np.ones((S, S), np.bool_), "ones"))
    n = helper.make_node
    nodes = []

    def tail(p, i):
        nodes.extend([
            n("MatMul", [p, "V"], ["o%d" % i]),
            n("Transpose", ["o%d" % i], ["t%d" % i], perm=[0, 2, 1, 3]),
            n("Reshape", ["t%d" % i, "shape"], ["Y%d" % i]),
        ])

    nodes += [
        n("Transpose", ["K"], ["kt1"], perm=[0, 1, 3, 2]),
        n("MatMul", ["Q", "kt1"], ["s1"]),
        n("Mul", ["s1", "half"], ["sd1"]),
        n("Not", ["keep"], ["masked"]),
        n("Where", ["masked", "ninf", "sd1"], ["w1"]),
        n("Softmax", ["w1"], ["p1"], axis=-1),
    ]
    tail("p1", 1)
    if not dynamic:
        nodes += [
            n("Transpose", ["K"], ["kt2"], perm=[0, 1, 3, 2]),
            n("MatMul", ["Q", "kt2"], ["s2"]),
            n("Div", ["s2", "half"], ["sd2"]),
            n("Trilu", ["ones"], ["tril"], upper=0),
            n("Where", ["tril", "sd2", "fmin"], ["w2"]),
            n("Softmax", ["w2"], ["p2"], axis=-1),
        ]
        tail("p2", 2)
    nodes += [
        n("Mul", ["Q", "quarter"], ["q3"]),
        n("Transpose", ["K"], ["kt3"], perm=[0, 1, 3, 2]),
        n("MatMul", ["q3", "kt3"], ["s3"]),
        n("Add", ["s3", "M"], ["w3"]),
        n("Softmax", ["w3"], ["p3"], axis=-1),
    ]
    tail("p3", 3)
    nodes += [
        n("Reshape", ["Q", "shape3"], ["q4"]),
        n("Reshape", ["K", "shape3"], ["k4"]),
        n("Reshape", ["V", "shape3"], ["v4"]),
        n("Transpose", ["k4"], ["kt4"], perm=[0, 2, 1]),
        n("MatMul", ["q4", "kt4"], ["s4"]),
        n("Mul", ["s4", "half"], ["sd4"]),
        n("Softmax", ["sd4"], ["p4"], axis=-1),
        n("MatMul", ["p4", "v4"], ["Y4"]),
    ]
    graph = helper.make_graph(nodes, "attention", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(d, "model.onnx"))
    if not dynamic:
        make_inputs(d)


def make_inputs(d):
    rng = np.random.default_rng(0)
    for name in "QKV":
        np.save(os.path.join(d, name + ".npy"), rng.normal(size=(B, H, S, DH)).astype(np.float32))
    keep = rng.random((B, 1, 1, S)) < 0.7
    if S:
        keep[0, 0, 0, 0] = True
    keep[1] = False
    np.save(os.path.join(d, "keep.npy"), keep)
    np.save(os.path.join(d, "M.npy"), rng.normal(size=(B, 1, S, S)).astype(np.float32) * 3)


def reference(d):
    q, k, v = (np.load(os.path.join(d, n + ".npy")).astype(np.float64) for n in "QKV")
    keep = np.load(os.path.join(d, "keep.npy"))
    m = np.load(os.path.join(d, "M.npy")).astype(np.float64)

    def attn(s):
        with np.errstate(invalid="ignore"):
            e = np.exp(s - s.max(-1, keepdims=True, initial=-np.inf))
            p = e / e.sum(-1, keepdims=True)
        o = p @ v
        return o.transpose(0, 2, 1, 3).reshape(B, S, H * DH)

    s = q @ k.transpose(0, 1, 3, 2)
    y1 = attn(np.where(keep, s * 0.5, -np.inf))
    tril = np.tril(np.ones((S, S), bool))
    y2 = attn(np.where(tril, s / 0.5, np.finfo(np.float32).min))
    y3 = attn((q * 0.25) @ k.transpose(0, 1, 3, 2) + m)
    y4 = attn(s * 0.5).reshape(B, S, H, DH).transpose(0, 2, 1, 3).reshape(B * H, S, DH)
    return {"Y1": y1, "Y2": y2, "Y3": y3, "Y4": y4}


def check(d, out, names=("Y1", "Y2", "Y3", "Y4"), verbose=True):
    ok = True
    for name, want in reference(d).items():
        if name not in names:
            continue
        got = np.load(os.path.join(out, name + ".npy"))
        same_nan = (np.isnan(got) == np.isnan(want)).all()
        fin = ~np.isnan(want)
        err = np.abs(got[fin] - want[fin]).max(initial=0.0)
        good = (got.shape == want.shape and same_nan and
                err <= 1e-5 * max(1.0, np.abs(want[fin]).max(initial=0.0)))
        ok &= good
        if verbose or not good:
            print("%s %s nan_rows=%d max_err=%.2e" % (name, "ok" if good else "BAD",
                                                      int(np.isnan(want).all(-1).sum()), err))
    return ok


def sweep(d, lib, runner, s0, s1):
    """Runs `lib` (compiled with a dynamic S) at every S in s0..s1."""
    global S
    bad = []
    for S in range(s0, s1 + 1):
        make_inputs(d)
        out = os.path.join(d, "out%d" % S)
        cmd = [runner, lib] + ["--input=%s=%s" % (n, os.path.join(d, n + ".npy"))
                               for n in ("Q", "K", "V", "keep", "M")]
        subprocess.run(cmd + ["--output-dir", out, "--threads", os.environ.get("THREADS", "2"), "--quiet"], check=True)
        if not check(d, out, ("Y1", "Y3", "Y4"), verbose=False):
            bad.append(S)
    print("sweep S=%d..%d: %s" % (s0, s1, "all ok" if not bad else "BAD at S=%s" % bad))
    return not bad


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "sweep":
        DH = int(sys.argv[5])
        sys.exit(0 if sweep(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[6]),
                            int(sys.argv[7])) else 1)
    n = 5 if cmd == "check" else 4
    DH = int(sys.argv[n - 1])
    if len(sys.argv) > n:
        S = int(sys.argv[n])
    if cmd == "make":
        make(sys.argv[2])
    elif cmd == "make-dynamic":
        make(sys.argv[2], dynamic=True)
    else:
        sys.exit(0 if check(sys.argv[2], sys.argv[3]) else 1)
