#!/usr/bin/python3
"""A chain of float16 elementwise ops rounds once, at its end.

The lowering computes each op on 16-bit floats in f32 and rounds its
result; code generation fuses the chain and skips the roundings between its
ops (tessera.widened_rounding, tessera-fuse-elementwise). So the chain's
result is its exact value (in double precision, on the float16 inputs and
constants) rounded once: within half a float16 ulp of it, plus the f32
arithmetic's own error. Rounding after every op, as before, was up to 4.5
ulps off on this chain. ONNX Runtime, which runs float16 chains in f32
between merged casts on the CPU, gives the same result.

Model: y = Tanh(((((x * a + b) * c - d) / e + f) * g - h)) on a [64, 4095]
float16 input (the last columns take the vector remainder), a second output
z = Sqrt(Abs(x) * a) + x, its ops on both sides of a branch, and a third,
Softmax(x * 4) over the last axis and ReduceSumSquare(x) over it (reductions
too compute in f32 and round once).

Usage: float16_chain.py --compiler C --runner R --work-dir W
Exits 1 if an output is further than half an ulp (+ 1e-6 + 1e-5 relative
for the f32 arithmetic) from the double-precision value, naming the worst
element.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import cases

SHAPE = (64, 4095)
CHAIN = [("Mul", 0.731), ("Add", 1.377), ("Mul", 1.913), ("Sub", 0.119),
         ("Div", 2.61), ("Add", -0.443), ("Mul", 3.07), ("Sub", 1.5)]


def build(path):
    inits, nodes, cur = [], [], "x"
    for i, (op, c) in enumerate(CHAIN):
        inits.append(numpy_helper.from_array(np.array(c, np.float16), "c%d" % i))
        nodes.append(helper.make_node(op, [cur, "c%d" % i], ["t%d" % i]))
        cur = "t%d" % i
    nodes += [helper.make_node("Tanh", [cur], ["y"]),
              helper.make_node("Abs", ["x"], ["ax"]),
              helper.make_node("Mul", ["ax", "c0"], ["s"]),
              helper.make_node("Sqrt", ["s"], ["r"]),
              helper.make_node("Add", ["r", "x"], ["z"]),
              helper.make_node("Mul", ["x", "four"], ["x4"]),
              helper.make_node("Softmax", ["x4"], ["p"], axis=-1),
              helper.make_node("ReduceSumSquare", ["x"], ["q"], axes=[-1])]
    inits.append(numpy_helper.from_array(np.array(4.0, np.float16), "four"))
    io = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT16, SHAPE)
    oq = helper.make_tensor_value_info("q", TensorProto.FLOAT16, (SHAPE[0], 1))
    model = helper.make_model(
        helper.make_graph(nodes, "float16_chain", [io("x")], [io("y"), io("z"), io("p"), oq],
                          inits),
        opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def exact(x):
    v = x.astype(np.float64)
    for op, c in CHAIN:
        c = float(np.float16(c))
        v = {"Mul": v * c, "Add": v + c, "Sub": v - c, "Div": v / c}[op]
    a = float(np.float16(CHAIN[0][1]))
    x4 = x.astype(np.float64) * 4
    e = np.exp(x4 - x4.max(axis=-1, keepdims=True))
    return {"y": np.tanh(v), "z": np.sqrt(np.abs(x.astype(np.float64)) * a) + x,
            "p": e / e.sum(axis=-1, keepdims=True),
            "q": (x.astype(np.float64) ** 2).sum(axis=-1, keepdims=True)}


def main():
    args = cases.parse_args(__doc__)
    os.makedirs(args.work_dir, exist_ok=True)
    model, lib = (os.path.join(args.work_dir, n) for n in ("chain.onnx", "chain.so"))
    build(model)
    x = np.random.RandomState(0).standard_normal(SHAPE).astype(np.float16)
    np.save(os.path.join(args.work_dir, "x.npy"), x)
    out = os.path.join(args.work_dir, "out")
    for cmd in ([args.compiler, model, "-o", lib],
                [args.runner, lib, "--input", os.path.join(args.work_dir, "x.npy"),
                 "--output-dir", out, "--quiet"]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            sys.exit("FAIL: %s exited %d:\n%s" % (cmd[0], r.returncode, r.stderr))
    ok = True
    for name, want in exact(x).items():
        got = np.load(os.path.join(out, name + ".npy")).astype(np.float64)
        # Half a float16 ulp at each value, plus the f32 arithmetic's error:
        # 1e-6 absolute (intermediate values of order 1-10 cancelling near
        # 0) and 1e-5 relative (a sum of 4095 terms); the rounding to f16
        # may then go either way at a boundary.
        half_ulp = np.spacing(np.abs(want).astype(np.float16)).astype(np.float64) / 2
        err = np.abs(got - want) - half_ulp - 1e-6 - 1e-5 * np.abs(want)
        worst = np.unravel_index(int(np.argmax(err)), err.shape)
        good = err[worst] <= 0
        ok &= good
        print("%s %s: worst at %s: got %.6g, exact %.6g (half an ulp %.3g)" % (
            "PASS" if good else "FAIL", name, list(worst), got[worst], want[worst],
            half_ulp[worst]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
