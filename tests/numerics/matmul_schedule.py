#!/usr/bin/python3
"""Numerical check of the matmul schedule (register tiles, peeled
remainders, packed constant weights, batched matmuls, 1 and 2 threads)
against numpy in float64, over shapes that do and do not divide the tiles.

Usage: matmul_schedule.py --compiler C --runner R --work-dir W
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
import onnx.parser
from onnx import numpy_helper

# (batch dims of A, M, K, N, batch dims of B, B is a constant initializer)
CASES = [
    ((), 6, 4, 32, (), True),
    ((), 7, 64, 32, (), True),       # one peeled row, packed panels
    ((), 13, 70, 45, (), False),     # remainders in M and N
    ((), 13, 70, 48, (), True),
    ((), 1, 64, 64, (), True),       # a single row (seq 1)
    ((), 128, 96, 200, (), True),    # N not a multiple of the panel
    ((2, 7), 7, 32, 64, (), True),   # batched A, shared weights
    ((3,), 9, 16, 11, (3,), False),  # batched matmul (attention-like)
    ((2, 4), 7, 16, 7, (2, 4), False),
    ((2, 4), 5, 8, 16, (1, 4), False),  # broadcast batch
]


def run_case(args, i, case):
    a_batch, m, k, n, b_batch, const_b = case
    rng = np.random.default_rng(i)
    a = rng.standard_normal(a_batch + (m, k)).astype(np.float32)
    b = rng.standard_normal(b_batch + (k, n)).astype(np.float32)
    out_shape = np.broadcast_shapes(a_batch, b_batch) + (m, n)
    dims = lambda s: ", ".join(str(d) for d in s)
    inputs = f"float[{dims(a.shape)}] A" + ("" if const_b else f", float[{dims(b.shape)}] B")
    model = onnx.parser.parse_model(f"""<ir_version: 8, opset_import: ["" : 17]>
g ({inputs}) => (float[{dims(out_shape)}] Y) {{
  Y = MatMul (A, B)
}}""")
    if const_b:
        model.graph.initializer.append(numpy_helper.from_array(b, "B"))
    d = os.path.join(args.work_dir, f"case{i}")
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(d, "m.onnx"))
    np.save(os.path.join(d, "A.npy"), a)
    np.save(os.path.join(d, "B.npy"), b)
    subprocess.run([args.compiler, os.path.join(d, "m.onnx"), "-o", os.path.join(d, "m.so")],
                   check=True, capture_output=True)
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    err = 0.0
    # One thread, and two (loops over weight panels and batches run on the
    # runtime's thread pool).
    for threads in ("1", "2"):
        cmd = [args.runner, os.path.join(d, "m.so"), "--input", "A=" + os.path.join(d, "A.npy"),
               "--output-dir", d, "--quiet", "--threads", threads]
        if not const_b:
            cmd += ["--input", "B=" + os.path.join(d, "B.npy")]
        subprocess.run(cmd, check=True, capture_output=True)
        got = np.load(os.path.join(d, "Y.npy"))
        err = max(err, np.abs(got - want).max())
    tol = 2e-6 * k * max(1.0, np.abs(want).max())
    return err <= tol, f"{a.shape} x {b.shape}{' (constant B)' if const_b else ''}: max abs err {err:.3g} (tol {tol:.3g})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compiler", required=True)
    ap.add_argument("--runner", required=True)
    ap.add_argument("--work-dir", required=True)
    args = ap.parse_args()
    passed = failed = 0
    for i, case in enumerate(CASES):
        try:
            ok, msg = run_case(args, i, case)
        except subprocess.CalledProcessError as e:
            ok, msg = False, f"case {case}: {e.stderr.decode(errors='replace').strip()}"
        print(("PASS " if ok else "FAIL ") + msg)
        passed += ok
        failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
