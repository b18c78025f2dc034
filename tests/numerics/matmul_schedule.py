#!/usr/bin/python3
"""Numerical check of the matmul schedule (register tiles, peeled
remainders, packed constant weights, long K (and K above 2048, whose
weights get narrow tiles on AVX-512), batched matmuls,
bias + activation epilogues fused by tessera-fuse-matmul-epilogue, 1 and 2
threads) against numpy in float64, over shapes that do and do not divide the
tiles and the K block. Some cases again in float16, whose products
accumulate in f32 (the weights widened at compile time) and round once:
within one float16 ulp of the result's largest magnitude. And some float32
cases whose constant weights float16 or bfloat16 holds exactly, which are
stored as such (tessera-pack-matmul-weights) and widened as they are read:
as precise as float32 weights.

Usage: matmul_schedule.py --compiler C --runner R --work-dir W
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import argparse
import math
import os
import subprocess
import sys

import numpy as np
import onnx
import onnx.parser
from onnx import numpy_helper

# (batch dims of A, M, K, N, batch dims of B, B is a constant initializer
# [, epilogue: "bias" or an activation after Add(bias): relu, gelu_erf,
# gelu_tanh])
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
    ((), 13, 600, 48, (), True),     # long K (a partial block if K is blocked)
    ((), 7, 512, 32, (), False),     # long K, B not constant
    ((), 13, 64, 48, (), True, "bias"),
    ((2,), 7, 32, 64, (), True, "relu"),
    ((), 13, 600, 48, (), True, "gelu_erf"),
    ((), 1, 512, 32, (), True, "gelu_tanh"),
    ((), 9, 40, 45, (), True, "gelu_erf"),    # not packed: separate epilogue
    # K above 2048: narrow panels and tiles (8x32) on AVX-512.
    ((), 13, 2100, 96, (), True),
    ((), 13, 2100, 64, (), True, "gelu_erf"),
]


# Cases run again in float16.
F16_CASES = [
    ((), 13, 70, 48, (), True),      # constant weights, widened and packed
    ((), 13, 70, 45, (), False),     # B widened at run time
    ((3,), 9, 16, 11, (3,), False),  # batched
    ((), 13, 600, 48, (), True),     # long K
    ((), 13, 64, 48, (), True, "bias"),
    ((2,), 7, 32, 64, (), True, "gelu_erf"),
]


# float32 cases whose constant weights are exact in a 16-bit float.
NARROW_CASES = [
    (((), 13, 70, 48, (), True), "float16"),   # packed panels, a 1-row tile
    (((), 13, 70, 20, (), True), "float16"),   # unpacked (no whole panel)
    (((), 13, 600, 48, (), True, "gelu_erf"), "bfloat16"),
    (((2,), 7, 32, 64, (), True), "bfloat16"),
    (((), 13, 2100, 64, (), True), "bfloat16"),  # narrow panels
]


def exact_in(b, narrow):
    """b rounded to values `narrow` holds exactly, with one value only it
    holds (so that it is not stored in the other type)."""
    if narrow == "float16":
        b = b.astype(np.float16).astype(np.float32)
        b.flat[0] = 2.0 ** -20  # an f16 subnormal: bfloat16 holds it too
        b.flat[1] = 1.0 + 2.0 ** -10  # not bfloat16
        return b
    b = (b.view(np.uint32) & np.uint32(0xFFFF0000)).view(np.float32)
    b.flat[0] = 2.0 ** -30  # below float16's range
    return b


def erf(x):
    return np.vectorize(math.erf)(x)


def epilogue_ref(y, bias, kind):
    y = y + bias
    if kind == "relu":
        return np.maximum(y, 0)
    if kind == "gelu_erf":
        return 0.5 * y * (1 + erf(y / np.sqrt(2)))
    if kind == "gelu_tanh":
        return 0.5 * y * (1 + np.tanh(np.sqrt(2 / np.pi) * (y + 0.044715 * y**3)))
    return y


def run_case(args, i, case, dtype=np.float32, narrow=None):
    a_batch, m, k, n, b_batch, const_b = case[:6]
    epilogue = case[6] if len(case) > 6 else None
    f16 = dtype == np.float16
    rng = np.random.default_rng(i)
    a = rng.standard_normal(a_batch + (m, k)).astype(dtype)
    b = rng.standard_normal(b_batch + (k, n)).astype(dtype)
    if narrow:
        b = exact_in(b, narrow)
    bias = rng.standard_normal((n,)).astype(dtype)
    out_shape = np.broadcast_shapes(a_batch, b_batch) + (m, n)
    dims = lambda s: ", ".join(str(d) for d in s)
    elem = "float16" if f16 else "float"
    inputs = f"{elem}[{dims(a.shape)}] A" + ("" if const_b else f", {elem}[{dims(b.shape)}] B")
    body = "Y = MatMul (A, B)"
    if epilogue:
        act = {"bias": None, "relu": "Relu", "gelu_erf": "Gelu",
               "gelu_tanh": 'Gelu <approximate = "tanh">'}[epilogue]
        body = "P = MatMul (A, B)\n  " + (
            "Y = Add (P, bias)" if act is None else f"Q = Add (bias, P)\n  Y = {act} (Q)")
    opset = 20 if epilogue and epilogue.startswith("gelu") else 17
    model = onnx.parser.parse_model(f"""<ir_version: 9, opset_import: ["" : {opset}]>
g ({inputs}) => ({elem}[{dims(out_shape)}] Y) {{
  {body}
}}""")
    if const_b:
        model.graph.initializer.append(numpy_helper.from_array(b, "B"))
    if epilogue:
        model.graph.initializer.append(numpy_helper.from_array(bias, "bias"))
    d = os.path.join(args.work_dir, f"case{i}" + ("_f16" if f16 else "") + (f"_{narrow}" if narrow else ""))
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(d, "m.onnx"))
    np.save(os.path.join(d, "A.npy"), a)
    np.save(os.path.join(d, "B.npy"), b)
    subprocess.run([args.compiler, os.path.join(d, "m.onnx"), "-o", os.path.join(d, "m.so")],
                   check=True, capture_output=True)
    if epilogue:
        # The epilogue must have been fused (and so run through the schedule).
        report = subprocess.run([args.compiler, os.path.join(d, "m.onnx"), "--fusion-report"],
                                check=True, capture_output=True, text=True).stdout
        if "fused tessera.matmul: 1" not in report:
            return False, f"case {case}: not fused: {report.strip()}"
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    if epilogue:
        want = epilogue_ref(want, bias.astype(np.float64), epilogue)
    err = 0.0
    # One thread, and two (loops over weight panels and batches run on the
    # runtime's thread pool).
    for threads in ("1", "2"):
        cmd = [args.runner, os.path.join(d, "m.so"), "--input", "A=" + os.path.join(d, "A.npy"),
               "--output-dir", d, "--quiet", "--threads", threads]
        if not const_b:
            cmd += ["--input", "B=" + os.path.join(d, "B.npy")]
        subprocess.run(cmd, check=True, capture_output=True)
        got = np.load(os.path.join(d, "Y.npy")).astype(np.float64)
        err = max(err, np.abs(got - want).max())
    tol = 2e-6 * k * max(1.0, np.abs(want).max())
    if f16:
        tol = max(tol, float(np.finfo(np.float16).eps) * max(1.0, np.abs(want).max()))
    weights = f" (constant B, exact in {narrow})" if narrow else " (constant B)" if const_b else ""
    return err <= tol, f"{a.shape} x {b.shape}{' float16' if f16 else ''}{weights}{' + ' + epilogue if epilogue else ''}: max abs err {err:.3g} (tol {tol:.3g})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compiler", required=True)
    ap.add_argument("--runner", required=True)
    ap.add_argument("--work-dir", required=True)
    args = ap.parse_args()
    passed = failed = 0
    runs = [(i, case, np.float32, None) for i, case in enumerate(CASES)]
    runs += [(i, case, np.float16, None) for i, case in enumerate(F16_CASES)]
    runs += [(i, case, np.float32, narrow) for i, (case, narrow) in enumerate(NARROW_CASES)]
    for i, case, dtype, narrow in runs:
        try:
            ok, msg = run_case(args, i, case, dtype, narrow)
        except subprocess.CalledProcessError as e:
            ok, msg = False, f"case {case}: {e.stderr.decode(errors='replace').strip()}"
        print(("PASS " if ok else "FAIL ") + msg)
        passed += ok
        failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
