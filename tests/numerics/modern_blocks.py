#!/usr/bin/python3
"""Numerical check of the modern Transformer blocks (issue #10) against ONNX
Runtime: RMSNorm alone, residual + RMSNorm (pre-norm: the sum is an output
too), SwiGLU with separate W1/W3 and with a packed W13, rotary embeddings in
the half-split and interleaved layouts, each a small torch module exported at
opsets 14 and 17; and an opset-23 model built with onnx.helper that uses the
standard RMSNormalization and RotaryEmbedding ops, compared with a numpy
reference and with ONNX Runtime (1.31 implements both); and an opset-23
grouped-query causal Attention in float16 (tessera.attention's kernel,
reading f16 widened to f32), compared with numpy and ONNX Runtime; and the
opset-23 RMSNormalization + RotaryEmbedding model again in float16 (both
kernels compute in f32).

For every exported case, the fusion report (tessera-compile --fusion-report)
must show the fused op (a fusion that silently stops firing fails the test),
and tests/models/compare.py compares the compiled model with ORT at two
batch sizes and two sequence lengths, compiled once with dynamic dims, and
with the unfused build (--check-unfused).

Usage: modern_blocks.py --compiler C --runner R --work-dir W [--only NAME]
Prints one line per case and `N passed, M failed`; exits 1 on any failure.
"""
import argparse
import os
import subprocess
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import compare  # noqa: E402

HIDDEN, HEADS, HEAD_DIM, FFN, MAX_POS = 64, 2, 32, 96, 64


def torch_cases():
    import torch
    from torch import nn

    torch.manual_seed(0)

    class RMSNorm(nn.Module):
        """HF LlamaRMSNorm: f32 statistics, rsqrt, weight after the cast."""

        def __init__(self, d, eps=1e-6):
            super().__init__()
            self.weight = nn.Parameter(1 + 0.1 * torch.randn(d))
            self.eps = eps

        def forward(self, x):
            dtype = x.dtype
            h = x.to(torch.float32)
            h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
            return self.weight * h.to(dtype)

    class PreNorm(nn.Module):
        """Residual + RMSNorm: returns the normalised sum and the sum."""

        def __init__(self, d):
            super().__init__()
            self.proj = nn.Linear(d, d, bias=False)
            self.norm = RMSNorm(d)

        def forward(self, x):
            h = x + self.proj(x)
            return self.norm(h), h

    class SwiGLU(nn.Module):
        def __init__(self, d, f, packed):
            super().__init__()
            self.packed = packed
            if packed:
                self.w13 = nn.Linear(d, 2 * f, bias=False)
            else:
                self.w1 = nn.Linear(d, f, bias=False)
                self.w3 = nn.Linear(d, f, bias=False)
            self.w2 = nn.Linear(f, d, bias=False)

        def forward(self, x):
            if self.packed:
                g, v = self.w13(x).chunk(2, dim=-1)
            else:
                g, v = self.w1(x), self.w3(x)
            return self.w2(nn.functional.silu(g) * v)

    def rotate_half(x):
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    def rotate_every_two(x):
        # (GPT-J's flatten(-2) with dynamic dims is not recognised yet: its
        # Reshape's result has a dynamic last dim; see the report.)
        return torch.stack((-x[..., 1::2], x[..., ::2]), dim=-1).reshape(x.shape)

    class Rotary(nn.Module):
        """q [B, H, S, Dh] from a projection, rotated by position ids."""

        def __init__(self, interleaved):
            super().__init__()
            self.q = nn.Linear(HIDDEN, HIDDEN, bias=False)
            inv = 1.0 / 10000 ** (torch.arange(0, HEAD_DIM, 2).float() / HEAD_DIM)
            f = torch.outer(torch.arange(MAX_POS).float(), inv)
            emb = (torch.repeat_interleave(f, 2, dim=-1) if interleaved
                   else torch.cat((f, f), dim=-1))
            self.register_buffer("cos_t", emb.cos())
            self.register_buffer("sin_t", emb.sin())
            self.rot = rotate_every_two if interleaved else rotate_half

        def forward(self, x, position_ids):
            b, s, _ = x.shape
            q = self.q(x).view(b, s, HEADS, HEAD_DIM).transpose(1, 2)
            cos = self.cos_t[position_ids].unsqueeze(1)
            sin = self.sin_t[position_ids].unsqueeze(1)
            return q * cos + self.rot(q) * sin

    x = torch.randn(2, 7, HIDDEN)
    pos = torch.arange(7).unsqueeze(0).expand(2, 7)
    seq = {0: "batch", 1: "seq"}
    return {
        "rms_norm": (RMSNorm(HIDDEN), (x,), ["x"], ["y"], {"x": seq},
                     ["fused rms_norm recogniser: 1"]),
        "residual_rms_norm": (PreNorm(HIDDEN), (x,), ["x"], ["y", "sum"],
                              {"x": seq},
                              ["fused rms_norm recogniser: 1",
                               "fused tessera.add_rms_norm: 1"]),
        "swiglu": (SwiGLU(HIDDEN, FFN, False), (x,), ["x"], ["y"], {"x": seq},
                   ["fused gated mlp (tessera.matmul): 1"]),
        "swiglu_packed": (SwiGLU(HIDDEN, FFN, True), (x,), ["x"], ["y"],
                          {"x": seq}, ["fused gated mlp (tessera.matmul): 1"]),
        "rotary_half": (Rotary(False), (x, pos), ["x", "position_ids"], ["y"],
                        {"x": seq, "position_ids": seq},
                        ["fused rotary recogniser: 1"]),
        "rotary_interleaved": (Rotary(True), (x, pos),
                               ["x", "position_ids"], ["y"],
                               {"x": seq, "position_ids": seq},
                               ["fused rotary recogniser: 1"]),
    }


def export(module, args, inputs, outputs, axes, opset, path):
    import torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), args, path, opset_version=opset,
                          input_names=inputs, output_names=outputs,
                          dynamic_axes=axes)


def fusion_report(compiler, path):
    out = subprocess.run([compiler, path, "--fusion-report"],
                         capture_output=True, text=True)
    return out.returncode, out.stdout + out.stderr


def check_exported(args, name, case, opset):
    module, inputs, in_names, out_names, axes, wanted = case
    work = os.path.join(args.work_dir, f"{name}_op{opset}")
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "model.onnx")
    export(module, inputs, in_names, out_names, axes, opset, path)
    code, report = fusion_report(args.compiler, path)
    missing = [w for w in wanted if w not in report]
    if code != 0 or missing:
        print(f"{name} opset {opset}: fusion report lacks {missing}:\n{report}")
        return False
    return compare.main(["--model", path, "--compiler", args.compiler,
                         "--runner", args.runner, "--batches", "1,2",
                         "--seqs", "1,7", "--dynamic", "--check-unfused",
                         "--vocab", str(MAX_POS), "--work-dir", work]) == 0


def reference_opset23(x, scale, cos, sin, pos, eps):
    """numpy: RMSNormalization over the last axis, then RotaryEmbedding of
    [B, S, H * Dh] (num_heads = H, half-split)."""
    n = x / np.sqrt(np.mean(x.astype(np.float64) ** 2, -1, keepdims=True) + eps)
    n = (n * scale).astype(np.float32)
    b, s, _ = x.shape
    h = n.reshape(b, s, HEADS, HEAD_DIM)
    c, si = cos[pos][:, :, None, :], sin[pos][:, :, None, :]
    x1, x2 = h[..., :HEAD_DIM // 2], h[..., HEAD_DIM // 2:]
    out = np.concatenate([x1 * c - x2 * si, x2 * c + x1 * si], -1)
    return out.reshape(b, s, HIDDEN).astype(np.float32)


def check_opset23(args, f16=False):
    """The standard ops, built with onnx.helper (libonnx 1.12 has no schema
    for them: no checker), compiled and run on two shapes. In float16
    (`f16`: statistics and rotation in f32 inside the kernels), compared
    with numpy and ONNX Runtime within one f16 ulp."""
    name = "opset23_f16" if f16 else "opset23"
    dtype = np.float16 if f16 else np.float32
    elem = TensorProto.FLOAT16 if f16 else TensorProto.FLOAT
    rng = np.random.default_rng(23)
    scale = (1 + 0.1 * rng.normal(size=HIDDEN)).astype(dtype)
    f = np.outer(np.arange(MAX_POS), 1.0 / 10000 ** (np.arange(0, HEAD_DIM, 2) / HEAD_DIM))
    cos, sin = np.cos(f).astype(dtype), np.sin(f).astype(dtype)
    eps = 1e-6
    nodes = [
        helper.make_node("RMSNormalization", ["x", "scale"], ["n"], name="norm",
                         axis=-1, epsilon=eps),
        helper.make_node("RotaryEmbedding", ["n", "cos", "sin", "position_ids"],
                         ["y"], name="rotary", num_heads=HEADS),
    ]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", elem, ["batch", "seq", HIDDEN]),
         helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("y", elem, ["batch", "seq", HIDDEN])],
        [numpy_helper.from_array(scale, "scale"), numpy_helper.from_array(cos, "cos"),
         numpy_helper.from_array(sin, "sin")])
    work = os.path.join(args.work_dir, name)
    path, lib = compile_opset23(args, graph, work)
    if not lib:
        return False
    ok = True
    for b, s in ((1, 5), (2, 9)):
        x = rng.normal(size=(b, s, HIDDEN)).astype(dtype)
        pos = rng.integers(0, MAX_POS, size=(b, s)).astype(np.int64)
        want = reference_opset23(*(a.astype(np.float32) for a in (x, scale, cos, sin)),
                                 pos, eps)
        if f16:
            outputs = run_both(args, f"{name} {b}x{s}", path, lib,
                               {"x": x, "position_ids": pos}, work)
            if outputs is None:
                return False
            ok &= within_f16_ulp(f"{name} {b}x{s}", *outputs, want)
            continue
        np.save(os.path.join(work, "x.npy"), x)
        np.save(os.path.join(work, "pos.npy"), pos)
        run = subprocess.run(
            [args.runner, lib, "--input", "x=" + os.path.join(work, "x.npy"),
             "--input", "position_ids=" + os.path.join(work, "pos.npy"),
             "--output-dir", work, "--quiet"], capture_output=True, text=True)
        if run.returncode != 0:
            print(f"{name} {b}x{s}: run failed:\n{run.stderr}")
            return False
        got = np.load(os.path.join(work, "y.npy"))
        err = float(np.max(np.abs(got - want)))
        good = got.shape == want.shape and err <= 1e-4 * max(1.0, float(np.max(np.abs(want))))
        print(f"{name} {b}x{s}: max error {err:.2e} vs numpy")
        ok &= good
    if f16:
        return ok
    return ok and compare.main(
        ["--model", path, "--compiler", args.compiler, "--runner", args.runner,
         "--batches", "1,2", "--seqs", "1,7", "--dynamic", "--vocab",
         str(MAX_POS), "--work-dir", os.path.join(work, "ort")]) == 0


def reference_attention(q, k, v, heads, kv_heads):
    """numpy (f64): causal grouped-query attention of [B, S, H * Dh] inputs."""
    b, s, _ = q.shape
    dh = q.shape[-1] // heads

    def split(x, n):
        return x.astype(np.float64).reshape(b, s, n, dh).transpose(0, 2, 1, 3)

    qh = split(q, heads)
    kh = np.repeat(split(k, kv_heads), heads // kv_heads, axis=1)
    vh = np.repeat(split(v, kv_heads), heads // kv_heads, axis=1)
    scores = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(dh)
    scores = scores + np.triu(np.full((s, s), -np.inf), 1)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    out = (p / p.sum(-1, keepdims=True)) @ vh
    return out.transpose(0, 2, 1, 3).reshape(b, s, heads * dh)


def compile_opset23(args, graph, work):
    """Saves `graph` as an opset-23 model in `work` and compiles it; returns
    (model path, library), the library None after printing why not."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])
    model.ir_version = 10
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "model.onnx")
    onnx.save(model, path)
    lib = os.path.join(work, "model.so")
    out = subprocess.run([args.compiler, path, "-o", lib, "--quiet"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print(f"{graph.name}: compile failed:\n" + out.stderr)
        return path, None
    return path, lib


def run_both(args, name, path, lib, arrays, work):
    """Runs the library and ONNX Runtime on `arrays` (name -> array), each
    saved under `work`; returns their outputs {name: array} as (tessera,
    ort), or None after printing why."""
    files = []
    for input_name, array in arrays.items():
        np.save(os.path.join(work, input_name + ".npy"), array)
        files += ["--input", input_name + "=" + os.path.join(work, input_name + ".npy")]
    dirs = os.path.join(work, "tessera"), os.path.join(work, "ort")
    runs = [[args.runner, lib] + files + ["--output-dir", dirs[0], "--quiet"],
            ["node", compare.DEFAULT_ORT_SCRIPT, path] + files +
            ["--output-dir", dirs[1], "--quiet"]]
    for cmd in runs:
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            print(f"{name}: {cmd[0]} failed:\n{run.stderr}")
            return None
    return tuple(np.load(os.path.join(d, "y.npy")).astype(np.float64) for d in dirs)


def within_f16_ulp(name, got, ort, want):
    """Whether `got` is within one float16 ulp of the largest magnitude of
    `want` from both the numpy reference and ONNX Runtime; prints both."""
    tol = float(np.finfo(np.float16).eps) * max(1.0, float(np.max(np.abs(want))))
    err, err_ort = float(np.max(np.abs(got - want))), float(np.max(np.abs(got - ort)))
    print(f"{name}: max error {err:.2e} vs numpy, {err_ort:.2e} vs ORT (tol {tol:.2e})")
    return got.shape == want.shape and err <= tol and err_ort <= tol


def check_attention_f16(args):
    """Attention (opset 23) on float16 3-D inputs, 4 query and 2 K/V heads,
    causal, dynamic batch and sequence: against numpy and ONNX Runtime
    within one float16 ulp of the output's largest magnitude (ORT itself is
    half of that from numpy)."""
    heads, kv_heads, dh = 4, 2, 8
    f16 = TensorProto.FLOAT16
    graph = helper.make_graph(
        [helper.make_node("Attention", ["q", "k", "v"], ["y"], name="attention",
                          q_num_heads=heads, kv_num_heads=kv_heads, is_causal=1)],
        "attention_f16",
        [helper.make_tensor_value_info("q", f16, ["batch", "seq", heads * dh]),
         helper.make_tensor_value_info("k", f16, ["batch", "seq", kv_heads * dh]),
         helper.make_tensor_value_info("v", f16, ["batch", "seq", kv_heads * dh])],
        [helper.make_tensor_value_info("y", f16, ["batch", "seq", heads * dh])])
    work = os.path.join(args.work_dir, "attention_f16")
    path, lib = compile_opset23(args, graph, work)
    if not lib:
        return False
    rng = np.random.default_rng(16)
    ok = True
    for b, s in ((1, 5), (2, 9)):
        arrays = {name: rng.normal(size=(b, s, width)).astype(np.float16)
                  for name, width in (("q", heads * dh), ("k", kv_heads * dh),
                                      ("v", kv_heads * dh))}
        outputs = run_both(args, f"attention_f16 {b}x{s}", path, lib, arrays, work)
        if outputs is None:
            return False
        want = reference_attention(arrays["q"], arrays["k"], arrays["v"], heads,
                                   kv_heads)
        ok &= within_f16_ulp(f"attention_f16 {b}x{s}", *outputs, want)
    return ok


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--compiler", required=True)
    p.add_argument("--runner", required=True)
    p.add_argument("--work-dir", required=True)
    p.add_argument("--only", action="append", default=[])
    args = p.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    results = []
    for name, case in torch_cases().items():
        for opset in (14, 17):
            if args.only and name not in args.only:
                continue
            results.append((f"{name} opset {opset}",
                            check_exported(args, name, case, opset)))
            print(f"{results[-1][0]}: {'ok' if results[-1][1] else 'FAILED'}",
                  flush=True)
    if not args.only or "opset23" in args.only:
        results.append(("opset23", check_opset23(args)))
        print(f"opset23: {'ok' if results[-1][1] else 'FAILED'}", flush=True)
    if not args.only or "opset23_f16" in args.only:
        results.append(("opset23_f16", check_opset23(args, f16=True)))
        print(f"opset23_f16: {'ok' if results[-1][1] else 'FAILED'}", flush=True)
    if not args.only or "attention_f16" in args.only:
        results.append(("attention_f16", check_attention_f16(args)))
        print(f"attention_f16: {'ok' if results[-1][1] else 'FAILED'}", flush=True)
    passed = sum(ok for _, ok in results)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
