#!/usr/bin/python3
"""Imports one generated model with tessera-compile and checks the result.

1. As exported (dynamic batch and sequence): the import succeeds, the module
   verifies when read back by tessera-opt, and the dynamic axes stay dynamic.
2. With every dynamic input dimension pinned by --shape: all exporter shape
   arithmetic folds away (no Shape, Size, ConstantOfShape or Range is left)
   and every type in the function is static.
"""
import argparse
import os
import re
import subprocess
import sys

import onnx

sys.dont_write_bytecode = True
import compare  # noqa: E402  (dimension sizing shared with the model tests)


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"FAILED (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return proc.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compiler", required=True)
    ap.add_argument("--opt", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--seq", type=int, default=7)
    ap.add_argument("--past", type=int, default=5, help="past length of KV-cache models")
    args = ap.parse_args()

    model = onnx.load(args.model, load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    base = os.path.splitext(args.model)[0]

    # 1. Dynamic import, then read back and verify with tessera-opt.
    dynamic = base + ".dynamic.mlir"
    run([args.compiler, args.model, "--emit=onnx", "--print-weights", "-o", dynamic])
    run([args.opt, dynamic, "-o", os.devnull])
    text = open(dynamic).read()
    signature = re.search(r"func\.func @main_graph\((.*?)\) ->", text).group(1)
    for inp in inputs:
        dims = inp.type.tensor_type.shape.dim
        if any(d.dim_param for d in dims) and "?" not in signature:
            sys.exit(f"FAILED: dynamic input {inp.name} lost its dynamic dims: {signature}")

    # 2. Pinned shapes: everything static, shape arithmetic gone.
    pins = []
    for inp in inputs:
        dims = compare.dim_sizes(inp, args.batch, args.seq, args.past)
        pins += ["--shape", f"{inp.name}={'x'.join(map(str, dims))}"]
    pinned = base + ".pinned.mlir"
    run([args.compiler, args.model, "--emit=onnx", "--print-weights", "-o", pinned] + pins)
    run([args.opt, pinned, "-o", os.devnull])
    text = open(pinned).read()
    body = text[text.index("func.func"):]
    leftovers = sorted(set(re.findall(r"onnx\.(Shape|Size|ConstantOfShape|Range)\b", body)))
    if leftovers:
        sys.exit(f"FAILED: shape arithmetic left after pinning {pins}: {leftovers}")
    dynamic_types = re.findall(r"tensor<[^>]*\?[^>]*>", body)
    if dynamic_types:
        sys.exit(f"FAILED: dynamic types left after pinning {pins}: {dynamic_types[:5]}")
    ops = len(re.findall(r"= onnx\.", body))
    print(f"OK {os.path.basename(args.model)}: imports with dynamic axes; "
          f"{ops} ops, all static, once pinned ({' '.join(pins[1::2])})")


if __name__ == "__main__":
    main()
