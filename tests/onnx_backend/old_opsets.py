#!/usr/bin/python3
"""Models at opsets 7 to 12 (lifted to opset 13 by tessera-compile) against
ONNX Runtime, which runs them at their own opset.

Each model exercises an operator whose form or meaning changed by opset 13:
Softmax over a middle axis (a 2-D coercion before 13), Unsqueeze/Squeeze and
ReduceSum axes and Split sizes (attributes before 13), Clip bounds
(attributes before 11), Upsample (Resize from 10), Dropout's ratio. Inputs
are random normal; outputs must have ORT's shapes and dtypes and agree to
1e-5 * max(1, max |ort|). Models with an operator Tessera does not have yet
are skipped with a note (they still have to import to that point).

    old_opsets.py --compiler tessera-compile --runner tessera-run
                  [--ort-script tools/ort/run.js] [--work-dir DIR]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ORT_SCRIPT = os.path.normpath(os.path.join(HERE, "..", "..", "tools", "ort", "run.js"))


def model(name, opset, nodes, inputs, outputs, initializers=()):
    graph = h.make_graph(nodes, name, [h.make_tensor_value_info(n, T.FLOAT, s) for n, s in inputs],
                         [h.make_tensor_value_info(n, T.FLOAT, s) for n, s in outputs],
                         list(initializers))
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)], producer_name="old_opsets")
    m.ir_version = 3 if opset < 8 else 4 if opset < 10 else 6
    onnx.checker.check_model(m)
    return m


def models():
    x = [("x", [2, 3, 4])]
    yield model("softmax_axis1_op11", 11, [
        h.make_node("Softmax", ["x"], ["y"], name="sm", axis=1),
        h.make_node("LogSoftmax", ["x"], ["z"], name="lsm", axis=1)],
        x, [("y", [2, 3, 4]), ("z", [2, 3, 4])])
    yield model("axes_attributes_op11", 11, [
        h.make_node("Unsqueeze", ["x"], ["u"], name="uq", axes=[0, 3]),
        h.make_node("Squeeze", ["u"], ["s"], name="sq", axes=[0]),
        h.make_node("ReduceSum", ["s"], ["r"], name="rs", axes=[1], keepdims=0),
        h.make_node("Split", ["x"], ["a", "b"], name="sp", axis=1, split=[1, 2])],
        x, [("r", [2, 1, 4]), ("a", [2, 1, 4]), ("b", [2, 2, 4])])
    yield model("clip_dropout_op7", 7, [
        h.make_node("Clip", ["x"], ["c"], name="clip", min=-0.5, max=0.25),
        h.make_node("Dropout", ["c"], ["d"], name="drop", ratio=0.3),
        h.make_node("Softmax", ["d"], ["y"], name="sm")],
        x, [("y", [2, 3, 4])])
    yield model("squeeze_reduce_op12", 12, [
        h.make_node("Unsqueeze", ["x"], ["u"], name="uq", axes=[1]),
        h.make_node("ReduceMean", ["u"], ["m"], name="mean", axes=[-1], keepdims=1),
        h.make_node("Squeeze", ["m"], ["y"], name="sq", axes=[1, 3])],
        x, [("y", [2, 3])])
    yield model("upsample_op9", 9, [
        h.make_node("Upsample", ["x4", "scales"], ["y"], name="up", mode="nearest")],
        [("x4", [1, 2, 2, 3])], [("y", [1, 2, 4, 6])],
        [h.make_tensor("scales", T.FLOAT, [4], [1, 1, 2, 2])])


def run(cmd, what):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (what, proc.stderr.decode("utf-8", "replace").strip()))


def check(args, m, work):
    path = os.path.join(work, m.graph.name + ".onnx")
    onnx.save(m, path)
    rng = np.random.default_rng(0)
    inits = {i.name for i in m.graph.initializer}
    files = []
    for value in m.graph.input:
        if value.name in inits:
            continue
        shape = [d.dim_value for d in value.type.tensor_type.shape.dim]
        f = os.path.join(work, "%s_%s.npy" % (m.graph.name, value.name))
        np.save(f, rng.standard_normal(shape).astype(np.float32))
        files += ["--input", "%s=%s" % (value.name, f)]
    lib = os.path.join(work, m.graph.name + ".so")
    try:
        run([args.compiler, path, "-o", lib, "--quiet"], "tessera-compile")
    except RuntimeError as e:
        if "unsupported operator" in str(e):
            return "SKIP", str(e).splitlines()[-1].strip()
        raise
    tdir, odir = os.path.join(work, m.graph.name + "_t"), os.path.join(work, m.graph.name + "_o")
    run([args.runner, lib] + files + ["--output-dir", tdir, "--threads", "1", "--quiet"], "tessera-run")
    run(["node", args.ort_script, path] + files + ["--output-dir", odir, "--quiet"], "onnxruntime")
    worst = 0.0
    for out in m.graph.output:
        got = np.load(os.path.join(tdir, out.name + ".npy"))
        ref = np.load(os.path.join(odir, out.name + ".npy"))
        if got.shape != ref.shape or got.dtype != ref.dtype:
            return "FAIL", "output %s: %s %s, ORT %s %s" % (out.name, got.dtype, got.shape,
                                                             ref.dtype, ref.shape)
        err = float(np.max(np.abs(got - ref))) if ref.size else 0.0
        if not err <= 1e-5 * max(1.0, float(np.max(np.abs(ref)))):
            return "FAIL", "output %s: max abs error %.3g" % (out.name, err)
        worst = max(worst, err)
    return "PASS", "max abs error %.3g" % worst


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--compiler", required=True)
    p.add_argument("--runner", required=True)
    p.add_argument("--ort-script", default=DEFAULT_ORT_SCRIPT)
    p.add_argument("--work-dir")
    args = p.parse_args()
    work = args.work_dir or tempfile.mkdtemp(prefix="tessera-old-opsets-")
    os.makedirs(work, exist_ok=True)
    failed = 0
    try:
        for m in models():
            try:
                status, why = check(args, m, work)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                status, why = "FAIL", str(e)
            failed += status == "FAIL"
            print("%-4s %s (opset %d): %s" % (status, m.graph.name, m.opset_import[0].version, why))
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
