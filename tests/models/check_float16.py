#!/usr/bin/python3
"""A generated Transformer model in float16: fused like its float32 export,
and within a few float16 ulps of ONNX Runtime.

    check_float16.py --model M.onnx --compiler tessera-compile
                     --runner tessera-run --work-dir DIR [--ulps 2]

Users export half-precision models (model.half(), or a float32 export
converted afterwards). The model is converted here as such a converter does
(onnxconverter-common's convert_float_to_float16, which is not packaged for
Debian): every float32 initializer, Constant and ConstantOfShape value,
Cast-to-float and graph input/output becomes float16, finite values clipped
to float16's finite range (an attention mask's finfo(float32).min fill
becomes -65504; -inf stays -inf).

Then:
- its fusion report must list as many of each fusion (attention, Q/K/V
  projections with their rotary, GEMM epilogues, gated MLPs, GELUs, norms)
  as the float32 model's, and no unfused candidate;
- its weights, written beside the library (--external-weights), must take
  at most WEIGHT_RATIO of the float32 model's bytes: the weights stay in
  float16 in the library (the GEMM panels widen them as they are read; a
  few small tensors, such as a convolution's, are kept in float32);
- compare.py runs it against ONNX Runtime at two batches and two lengths,
  compiled for each shape and once with dynamic shapes, asking for --ulps
  float16 ulps at the outputs' largest magnitude.
  ONNX Runtime has no float16 kernels for most CPU ops and runs them in
  float32 between casts it merges, so it rounds to float16 less often than
  the ONNX graph says; Tessera rounds every op's result that is not inside
  a fused op, which measured up to 1.4 ulps at that scale on the seeds' BERT.
"""

import argparse
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
FLOAT16_MAX = float(np.finfo(np.float16).max)
# float16 weights against float32's: 0.50 for the seeds' BERT, GPT-2 and
# LLaMA, 0.57 for ViT (its patch embedding's convolution keeps f32 weights).
WEIGHT_RATIO = 0.6
# The report lines compared between the float32 and float16 builds.
KINDS = ("tessera.attention", "attention causal mask", "attention grouped-query K/V",
         "tessera.qkv_projection", "rotary in tessera.qkv_projection", "tessera.matmul",
         "gated mlp (tessera.matmul)", "gelu recogniser", "rotary recogniser",
         "tessera.add_layer_norm", "tessera.add_rms_norm", "rms_norm recogniser")


def to_float16(tensor):
    if tensor.data_type != TensorProto.FLOAT:
        return
    a = numpy_helper.to_array(tensor)
    a = np.where(np.isinf(a), a, np.clip(a, -FLOAT16_MAX, FLOAT16_MAX))
    tensor.CopyFrom(numpy_helper.from_array(a.astype(np.float16), tensor.name))


def convert(model):
    g = model.graph
    for t in g.initializer:
        to_float16(t)
    for vi in list(g.input) + list(g.output):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            vi.type.tensor_type.elem_type = TensorProto.FLOAT16
    for node in g.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                to_float16(a.t)
            if node.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = TensorProto.FLOAT16
    # Inferred again by the importer; the float32 ones would contradict.
    del g.value_info[:]
    onnx.checker.check_model(model)
    return model


def fusion_counts(compiler, path):
    r = subprocess.run([compiler, path, "--emit=fused", "-o", os.devnull, "--fusion-report"],
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit("FAIL: %s does not compile:\n%s" % (path, r.stderr))
    counts = {}
    for line in (r.stdout + r.stderr).splitlines():
        m = re.match(r"fused (.*): (\d+)$", line)
        if m and m.group(1) in KINDS:
            counts[m.group(1)] = int(m.group(2))
        if " not fused: " in line:
            counts["unfused"] = counts.get("unfused", 0) + 1
    return counts


def weight_bytes(compiler, path, work_dir):
    lib = os.path.join(work_dir, os.path.basename(path) + ".so")
    r = subprocess.run([compiler, path, "--external-weights", "-o", lib],
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit("FAIL: %s does not compile:\n%s" % (path, r.stderr))
    return os.path.getsize(lib + ".weights")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--compiler", required=True)
    p.add_argument("--runner", required=True)
    p.add_argument("--work-dir", required=True)
    p.add_argument("--ulps", type=int, default=2)
    args = p.parse_args()

    os.makedirs(args.work_dir, exist_ok=True)
    name = os.path.splitext(os.path.basename(args.model))[0] + "_f16"
    path = os.path.join(args.work_dir, name + ".onnx")
    onnx.save(convert(onnx.load(args.model)), path)

    want, got = fusion_counts(args.compiler, args.model), fusion_counts(args.compiler, path)
    if not want.get("tessera.attention"):
        sys.exit("FAIL: the float32 model fuses no attention: nothing to compare")
    ok = not got.get("unfused")
    if not ok:
        print("FAIL unfused candidates in float16")
    for kind in KINDS:
        line = "%s: float32 %d, float16 %d" % (kind, want.get(kind, 0), got.get(kind, 0))
        print(("ok   " if want.get(kind, 0) == got.get(kind, 0) else "FAIL ") + line)
        ok &= want.get(kind, 0) == got.get(kind, 0)

    # Pinned at each shape, then one dynamic library for every shape.
    narrow = weight_bytes(args.compiler, path, args.work_dir)
    wide = weight_bytes(args.compiler, args.model, args.work_dir)
    line = "weights: float32 %d bytes, float16 %d (%.2f, at most %.2f)" % (
        wide, narrow, narrow / wide, WEIGHT_RATIO)
    print(("ok   " if narrow <= WEIGHT_RATIO * wide else "FAIL ") + line)
    ok &= narrow <= WEIGHT_RATIO * wide

    for tag, flags in (("compare", []), ("compare_dynamic", ["--dynamic"])):
        r = subprocess.run([sys.executable, os.path.join(HERE, "compare.py"), "--model", path,
                            "--compiler", args.compiler, "--runner", args.runner,
                            "--work-dir", os.path.join(args.work_dir, tag),
                            "--batches", "1,2", "--seqs", "7,128", "--ulps", str(args.ulps)]
                           + flags)
        ok &= r.returncode == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
