#!/usr/bin/python3
"""Checks that Tessera's fusion passes fuse every Transformer block of a model.

    check_fusion.py --compiler tessera-compile --model M.onnx [--work-dir DIR]
                    [--causal N]

Runs `tessera-compile --emit=fused --fusion-report` twice: with every dynamic
input pinned (batch 2, sequence 7; a "tgt" sequence is 5) and with the
dynamic dimensions left dynamic. Each time it requires:
  - the report to list no candidate left unfused (--unfused N: N);
  - one tessera.attention and one tessera.qkv_projection per Softmax node of
    the ONNX graph (every attention block, self- and cross-attention; with
    --qkv N, N projections);
  - in the fused IR: no onnx.Softmax, onnx.Erf, onnx.Tanh or onnx.ReduceMean
    left (attention, GELU and decomposed LayerNorm all recognised), and no
    onnx.LayerNormalization whose input is an onnx.Add of two operands of one
    type (every residual LayerNorm fused; an Add that broadcasts, such as
    token + position embeddings [B,S,D] + [1,S,D], is not a residual).
  - with --causal N: exactly N of the tessera.attention ops are causal (the
    models' causal masks proven, with dynamic dims and a key/value cache
    too, so that the kernels skip the masked tiles);
  - with --gqa N: exactly N of them read grouped-query K/V heads in place
    (fewer K/V heads than query heads: the exporter's repeat dropped);
  - the blocks EXPECTED lists for the model's family (the file name without
    "_opNN") fused. Those in PENDING (not written yet) run and print PENDING
    instead of failing, and the report lines they explain (a residual Add
    reported as a GEMM bias) are not counted as unfused candidates.
Prints the report and one line per check, then "N passed, M failed".
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import onnx

sys.dont_write_bytecode = True
import compare  # noqa: E402  (dimension sizing shared with the model tests)

# Fusions beyond attention and Q/K/V projections that a model family must
# show. Each kind: (ops that must not be left in the fused IR, report lines
# of unfused candidates that its fusion removes).
KINDS = {
    "rms_norm": (("onnx.ReduceMean", "onnx.Pow", "onnx.Sqrt", "onnx.Reciprocal"), None),
    # Every rotation recognised (no rotate_half Neg left) and applied in the
    # Q/K projection's epilogue (no RotaryEmbedding left); the count of
    # projections with rotary results is checked below.
    "rotary": (("onnx.Neg", "onnx.RotaryEmbedding"), None),
    "swiglu": (("onnx.Sigmoid",), None),
    # A residual Add after a bias-free projection is not a GEMM bias.
    "residual_add": ((), re.compile(r"^matmul at .* not fused: the bias is not")),
}
EXPECTED = {
    "llama": ["rms_norm", "rotary", "swiglu", "residual_add"],
    "llama_interleaved": ["rms_norm", "rotary", "swiglu", "residual_add"],
    "t5_encoder": ["rms_norm", "residual_add"],
    "attention23": ["residual_add"],
}
# Fusions not written yet: they run and print PENDING instead of failing.
PENDING = set()

DEF_RE = re.compile(r"^\s*(%[\w#:]+)\s*=\s*\"?([\w.]+)\"?[ (]?(.*)$")
COUNT_RE = re.compile(r"^fused (.+): (\d+)$")


def ops_in(text):
    """[(result, op name, first operand, operand types)] of the printed IR."""
    ops = []
    for line in text.splitlines():
        m = DEF_RE.match(line)
        if m:
            operand = re.match(r"\s*(%[\w#]+)", m.group(3))
            types = re.search(r": \((.*)\) ->", m.group(3))
            ops.append((m.group(1).split(":")[0], m.group(2), operand.group(1) if operand else None,
                        re.findall(r"tensor<[^>]*>", types.group(1)) if types else []))
    return ops


def check_once(args, model, label, pins, work):
    out = os.path.join(work, label + ".mlir")
    cmd = [args.compiler, args.model, "--emit=fused", "--fusion-report", "-o", out] + pins
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    report = proc.stdout.decode()
    print("--- %s: %s" % (label, " ".join(os.path.basename(c) for c in cmd)))
    print(report.rstrip())
    if proc.returncode != 0:
        return [(False, "%s: tessera-compile failed: %s" % (label, proc.stderr.decode().strip()))]
    counts = {}
    missed = []
    pending_lines = []
    expected = expected_kinds(args.model)
    for line in report.splitlines():
        m = COUNT_RE.match(line)
        if m:
            counts[m.group(1)] = int(m.group(2))
        elif " not fused: " in line:
            explained = [k for k in expected if k in PENDING and KINDS[k][1]
                         and KINDS[k][1].match(line)]
            (pending_lines if explained else missed).append(line)
    softmaxes = attention_count(model)
    results = [(len(missed) == args.unfused,
                "%s: %d candidates left unfused, want %d" % (label, len(missed), args.unfused))]
    for kind, want in (("tessera.attention", softmaxes),
                       ("tessera.qkv_projection", args.qkv or softmaxes)):
        got = counts.get(kind)
        results.append((got == want, "%s: fused %s %s, want %d (one per %s)"
                        % (label, kind, got, want,
                           "projected attention" if args.qkv else "Softmax node")))
    if "rotary" in expected and "rotary" not in PENDING:
        # One rotated projection per attention: the stacked form leaves no
        # Neg to miss, so the fused count is what shows it recognised.
        got = counts.get("rotary in tessera.qkv_projection")
        results.append((got == softmaxes, "%s: fused rotary in tessera.qkv_projection %s, "
                        "want %d (one per Softmax node)" % (label, got, softmaxes)))
    with open(out) as f:
        ops = ops_in(f.read())
    residual_adds = {result for result, op, _, types in ops
                     if op == "onnx.Add" and len(types) == 2 and types[0] == types[1]}
    pending_ops = set()
    for kind in expected:
        if kind in PENDING:
            pending_ops.update(KINDS[kind][0])
    for op in ("onnx.Softmax", "onnx.Erf", "onnx.Tanh", "onnx.ReduceMean"):
        if op in pending_ops:
            continue
        n = sum(1 for _, o, _, _ in ops if o == op)
        results.append((n == 0, "%s: %d %s left after fusion" % (label, n, op)))
    for kind in expected:
        left = ["%d %s" % (n, op) for op in KINDS[kind][0]
                for n in [sum(1 for _, o, _, _ in ops if o == op)] if n]
        lines = [line for line in pending_lines if KINDS[kind][1] and KINDS[kind][1].match(line)]
        ok = not left and not lines
        status = None if kind not in PENDING else "PENDING"
        results.append((ok if status is None else status,
                        "%s: %s fused (%s)" % (label, kind, ", ".join(left) or
                                               "%d report lines" % len(lines)
                                               if not ok else "nothing left")))
    if args.gqa is not None:
        with open(out) as f:
            gqa = sum(1 for line in f if "tessera.attention" in line and grouped(line))
        results.append((gqa == args.gqa, "%s: %d grouped-query tessera.attention, want %d"
                        % (label, gqa, args.gqa)))
    if args.causal is not None:
        with open(out) as f:
            causal = sum(1 for line in f if "tessera.attention" in line and "causal = true" in line)
        results.append((causal == args.causal, "%s: %d causal tessera.attention, want %d"
                        % (label, causal, args.causal)))
    residual = sum(1 for _, o, first, _ in ops
                   if o == "onnx.LayerNormalization" and first in residual_adds)
    results.append((residual == 0, "%s: %d LayerNormalization of an Add left unfused"
                    % (label, residual)))
    return results


def expected_kinds(path):
    family = re.sub(r"_op\d+$", "", os.path.splitext(os.path.basename(path))[0])
    return EXPECTED.get(family, [])


def attention_count(model):
    """Softmax nodes and opset-23 Attention nodes: one fused attention each."""
    return sum(1 for n in model.graph.node if n.op_type in ("Softmax", "Attention"))


TYPE_RE = re.compile(r"tensor<([^>]*)>")


def grouped(line):
    """A printed tessera.attention whose K has fewer heads than its Q."""
    types = TYPE_RE.findall(line.split(" : (", 1)[-1])
    if len(types) < 2:
        return False
    q, k = (t.split("x") for t in types[:2])
    return len(q) > 2 and len(k) > 2 and q[1] != k[1]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--compiler", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--work-dir")
    p.add_argument("--causal", type=int, help="how many attention blocks are causal")
    p.add_argument("--gqa", type=int,
                   help="how many attention blocks read grouped-query K/V heads")
    p.add_argument("--unfused", type=int, default=0,
                   help="how many candidates the report lists as not fused (default: 0)")
    p.add_argument("--qkv", type=int,
                   help="how many attention blocks project their Q/K/V (default: all; a "
                        "decoder step's cross-attention K/V are inputs)")
    args = p.parse_args()
    model = onnx.load(args.model, load_external_data=False)
    work = args.work_dir or tempfile.mkdtemp(prefix="tessera-fusion-")
    os.makedirs(work, exist_ok=True)
    pins = []
    for value in compare.model_inputs(model):
        if compare.is_dynamic(value):
            dims = compare.dim_sizes(value, 2, 7, 5)
            pins += ["--shape", "%s=%s" % (value.name, "x".join(map(str, dims)))]
    results = check_once(args, model, "pinned", pins, work)
    if pins:
        results += check_once(args, model, "dynamic", [], work)
    passed = sum(1 for ok, _ in results if ok is True)
    pending = sum(1 for ok, _ in results if ok == "PENDING")
    for ok, desc in results:
        print("%s %s" % ("PENDING" if ok == "PENDING" else "PASS" if ok else "FAIL", desc))
    failed = len(results) - passed - pending
    print("%d passed, %d failed, %d pending" % (passed, failed, pending))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
