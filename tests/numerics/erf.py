#!/usr/bin/python3
"""Accuracy of f32 Erf and exact Gelu (0.5 x (1 + erf(x / sqrt 2))) against
math.erf in double precision, not against ONNX Runtime: the generated code
evaluates erf as Tessera's own rational approximation
(compiler/lowering/ApproximateMath.cpp), whose error bound is what this
checks.

Inputs: a dense grid over [-6, 6], tiny and huge magnitudes, the clamp point
+-3.925, signed zeros, infinities and NaN, as one dynamic-length vector
(vectorised main part and scalar remainder both run). Checked:
- |erf(x) - erf64(x)| <= 4e-7 everywhere (the fit's bound is 3.4e-7);
- relative error <= 4e-7 for 0 < |x| < 0.5, where erf is small;
- erf(-x) == -erf(x) bit for bit, |erf| <= 1, erf(+-inf) = +-1, NaN -> NaN;
- Gelu within 4e-7 * max(1, |x|) of the double-precision definition.

Usage: erf.py --compiler C --runner R --work-dir W
Exits 1 on any failure, naming the check and the worst input.
"""
import argparse
import math
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ABS_TOL = 4e-7
REL_TOL = 4e-7


def build(path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["n"])
            for n in ("erf", "gelu")]
    # Gelu as PyTorch exports it before opset 20 (recognised as one op).
    consts = [numpy_helper.from_array(np.array(v, np.float32), n)
              for n, v in (("sqrt2", math.sqrt(2)), ("one", 1.0),
                           ("half", 0.5))]
    nodes = [helper.make_node("Erf", ["x"], ["erf"], name="erf"),
             helper.make_node("Div", ["x", "sqrt2"], ["scaled"], name="div"),
             helper.make_node("Erf", ["scaled"], ["e"], name="gelu_erf"),
             helper.make_node("Add", ["e", "one"], ["e1"], name="add"),
             helper.make_node("Mul", ["x", "e1"], ["xe"], name="mul"),
             helper.make_node("Mul", ["xe", "half"], ["gelu"], name="half")]
    model = helper.make_model(
        helper.make_graph(nodes, "erf", [x], outs, consts),
        opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def inputs():
    grid = np.linspace(-6, 6, 240001)
    special = [0.0, -0.0, 1e-38, -1e-38, 1e-30, 1e-7, -1e-7, 3.925, -3.925,
               3.9249999, 4.0, 100.0, -100.0, 3e38, -3e38, np.inf, -np.inf,
               np.nan]
    # An odd length: the last elements take the scalar remainder path.
    return np.concatenate([grid, special, [0.25]]).astype(np.float32)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--compiler", required=True)
    p.add_argument("--runner", required=True)
    p.add_argument("--work-dir", required=True)
    args = p.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    model, lib = (os.path.join(args.work_dir, n) for n in ("erf.onnx", "erf.so"))
    build(model)
    subprocess.run([args.compiler, model, "-o", lib, "--quiet"], check=True)
    x = inputs()
    np.save(os.path.join(args.work_dir, "x.npy"), x)
    subprocess.run([args.runner, lib, "--input",
                    "x=" + os.path.join(args.work_dir, "x.npy"), "--output-dir",
                    args.work_dir, "--quiet", "--threads", "1"], check=True)
    erf = np.load(os.path.join(args.work_dir, "erf.npy"))
    gelu = np.load(os.path.join(args.work_dir, "gelu.npy"))

    x64 = x.astype(np.float64)
    finite = np.isfinite(x64)
    ref = np.array([math.erf(v) if math.isfinite(v) else
                    (math.copysign(1.0, v) if math.isinf(v) else math.nan)
                    for v in x64])
    failures = []

    def check(name, bad, err):
        if bad.any():
            i = int(np.argmax(np.where(bad, err, -np.inf)))
            failures.append(f"{name}: x={x[i]!r} got erf={erf[i]!r} "
                            f"gelu={gelu[i]!r} (error {err[i]:.3g})")

    err = np.abs(erf - ref)
    check("erf absolute error", finite & (err > ABS_TOL), err)
    small = finite & (np.abs(x64) > 0) & (np.abs(x64) < 0.5)
    rel = np.where(small, err / np.maximum(np.abs(ref), 1e-300), 0)
    check("erf relative error", rel > REL_TOL, rel)
    check("erf beyond [-1, 1]", np.abs(erf) > 1, np.abs(erf))
    check("erf of an infinity", np.isinf(x64) & (erf != ref), err)
    check("erf of NaN is not NaN", np.isnan(x64) & ~np.isnan(erf),
          np.ones_like(err))
    # Odd symmetry, bit for bit: the grid holds x and -x.
    grid = x[:240001]
    sym = np.abs(erf[:240001] + erf[:240001][::-1])
    check("erf(-x) != -erf(x)", sym > 0, np.pad(sym, (0, len(x) - 240001)))

    gref = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2)))
                     for v in x64[finite]])
    gerr = np.zeros_like(err)
    gerr[finite] = np.abs(gelu[finite] - gref) / np.maximum(1, np.abs(x64[finite]))
    check("gelu error", gerr > ABS_TOL, gerr)
    check("gelu of NaN is not NaN", np.isnan(x64) & ~np.isnan(gelu),
          np.ones_like(err))

    print(f"erf: max abs error {err[finite].max():.3g}, "
          f"max rel error below 0.5 {rel.max():.3g}; "
          f"gelu: max error {gerr.max():.3g} (x {len(x)} values, "
          f"grid {len(grid)})")
    for f in failures:
        print("FAILED " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
