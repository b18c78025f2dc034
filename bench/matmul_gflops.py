#!/usr/bin/python3
"""GFLOPS of generated GEMMs on single-MatMul models (constant weight, like a
Transformer projection; or two inputs, like attention), one thread.

Usage: matmul_gflops.py [--compiler C] [--runner R] [--work-dir W]
                        [--shapes 128x768x768,...] [--runs N] [--repeat R]
                        [--flags "--matmul-tile=4x32"] [--epilogue gelu_erf]
A shape is MxKxN (constant B [K, N]) or BxMxKxN (batched, both inputs, like
attention's QK^T and PV). Each model is timed R times (tessera-run --bench N);
the best and the median of the R medians are printed, as GFLOPS. On a shared
machine, wall-clock times include the time other processes hold the core:
--cpu-time instead divides the CPU time of N runs (the user+system time of
`tessera-run --bench N` minus that of `--bench 1`) by N. With
--epilogue, the MatMul is followed by Add(bias) and the activation (relu,
gelu_erf, gelu_tanh or none), which tessera-fuse-matmul-epilogue fuses.
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys

import numpy as np
import onnx
import onnx.parser
from onnx import numpy_helper


def build_model(dims, epilogue):
    if len(dims) == 3:
        m, k, n = dims
        body = "Y = MatMul (A, B)"
        outs = f"float[{m}, {n}] Y"
        ins = f"float[{m}, {k}] A"
        if epilogue:
            act = {"none": "", "relu": "Relu", "gelu_erf": "Gelu",
                   "gelu_tanh": "Gelu <approximate = \"tanh\">"}[epilogue]
            body = "P = MatMul (A, B)\n  " + ("Y = Add (P, bias)" if not act else
                                               f"Q = Add (P, bias)\n  Y = {act} (Q)")
        opset = 20 if epilogue and epilogue.startswith("gelu") else 17
        model = onnx.parser.parse_model(f"""<ir_version: 9, opset_import: ["" : {opset}]>
g ({ins}) => ({outs}) {{
  {body}
}}""")
        rng = np.random.default_rng(0)
        model.graph.initializer.append(
            numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "B"))
        if epilogue:
            model.graph.initializer.append(
                numpy_helper.from_array(rng.standard_normal((n,)).astype(np.float32), "bias"))
        return model, {"A": (m, k)}, 2 * m * k * n
    b, m, k, n = dims
    model = onnx.parser.parse_model(f"""<ir_version: 8, opset_import: ["" : 17]>
g (float[{b}, {m}, {k}] A, float[{b}, {k}, {n}] B) => (float[{b}, {m}, {n}] Y) {{
  Y = MatMul (A, B)
}}""")
    return model, {"A": (b, m, k), "B": (b, k, n)}, 2 * b * m * k * n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compiler", default="build/tools/tessera-compile/tessera-compile")
    ap.add_argument("--runner", default="build/tools/tessera-run/tessera-run")
    ap.add_argument("--work-dir", default="/tmp/tessera-gflops")
    ap.add_argument("--shapes", default="128x768x768,128x768x3072,128x3072x768,12x128x64x128,12x128x128x64")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--flags", default="")
    ap.add_argument("--epilogue", default="")
    ap.add_argument("--cpu-time", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    for shape in args.shapes.split(","):
        dims = tuple(int(d) for d in shape.split("x"))
        model, inputs, flops = build_model(dims, args.epilogue)
        d = os.path.join(args.work_dir, shape + (("_" + args.epilogue) if args.epilogue else ""))
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(d, "m.onnx"))
        cmd = [args.runner, os.path.join(d, "m.so"), "--threads", "1", "--quiet",
               "--bench", str(args.runs)]
        rng = np.random.default_rng(1)
        for name, s in inputs.items():
            np.save(os.path.join(d, name + ".npy"), rng.standard_normal(s).astype(np.float32))
            cmd += ["--input", f"{name}={os.path.join(d, name + '.npy')}"]
        subprocess.run([args.compiler, os.path.join(d, "m.onnx"), "-o", os.path.join(d, "m.so")]
                       + args.flags.split(), check=True)
        def cpu_ms(c):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(c, check=True, capture_output=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            return 1e3 * ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        medians = []
        for _ in range(args.repeat):
            if args.cpu_time:
                one = [("1" if prev == "--bench" else a) for prev, a in zip([""] + cmd, cmd)]
                medians.append((cpu_ms(cmd) - cpu_ms(one)) / (args.runs - 1))
                continue
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            medians.append(float(re.search(r"median ([0-9.]+) ms", out).group(1)))
        gf = [flops / (ms * 1e6) for ms in medians]
        print(f"{shape:>16} {args.flags or '(default)'} {args.epilogue}: best {max(gf):6.1f}  "
              f"median {statistics.median(gf):6.1f} GFLOPS  ({min(medians):.3f} ms)")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
