#!/usr/bin/env python3
"""Greedy generation with a KV-cache decoder: Tessera against ONNX Runtime.

    check_generation.py --compiler tessera-compile --runner tessera-run
                        --model gpt2_kv_op17.onnx --work-dir DIR [--tokens 32]
                        [--encoder transformer_kv_encoder_op17.onnx]

The model is compiled once without --shape or --dim (the past length may
be 0: the prompt step runs with empty pasts). For batch 1 and batch 3 (rows of different prompt lengths,
left-padded and masked by attention_mask when the model has one, else
equal-length prompts), `tessera-run --generate N` and `node tools/ort/run.js
--generate N` run the same greedy loop (prefill, then one token per step, the
presents fed back as pasts). Pass iff
  - the token ids are equal;
  - the logits each token came from agree: max |tessera - ort| <=
    1e-4 * max(1, max |ort|);
  - running the whole sequence (prompt + generated tokens but the last) in
    one step without cache gives, at each generated position, the same
    logits (same tolerance) and the same argmax.
With --float16, the model (and encoder) is first converted to float16 as
check_float16.py converts it (float16 weights, pasts, presents and logits),
and the logits may differ by --ulps float16 ulps at their largest magnitude
instead of 1e-4 relative: ONNX Runtime computes many float16 ops in float32
between casts, Tessera rounds where the graph says (check_float16.py). Then
a row's token ids may part from ONNX Runtime's at a step whose two best
logits (ONNX Runtime's) are within twice that bound, a near tie that either
rounding may break either way; the row's later steps, which continue from
different tokens, are not compared.

With --encoder (the encoder-decoder Transformer), the encoder runs first on
random source ids (with ONNX Runtime) and its present.N.encoder.* outputs are
the decoder's past_key_values.N.encoder.* inputs at every step.

Prints one line per check and "N passed, M failed"; exits 0 iff all pass.
"""

import argparse
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_float16  # noqa: E402
ORT_SCRIPT = os.path.normpath(os.path.join(HERE, "..", "..", "tools", "ort", "run.js"))
REL_TOL = 1e-4
TIMEOUT = 900


def run(cmd, what):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError("%s failed (%s):\n%s%s" % (what, " ".join(cmd), proc.stdout, proc.stderr))
    return proc.stdout


def dims_of(value_info):
    return [d.dim_param if d.dim_param else d.dim_value for d in value_info.type.tensor_type.shape.dim]


def is_past(name):
    return name.startswith("past") and ".encoder." not in name


def vocab_of(model, ids_input):
    """Rows of the table the token ids index (a Gather of the input)."""
    inits = {i.name: i for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Gather" and n.input[1] == ids_input and n.input[0] in inits:
            return inits[n.input[0]].dims[0]
    raise RuntimeError("no Gather of a table by '%s' in the model" % ids_input)


def save(path, array):
    np.save(path, array)
    return path


class Checker:
    def __init__(self, ulps=0):
        self.passed = self.failed = 0
        self.ulps = ulps  # float16 ulps (0: float32, REL_TOL)

    def bound(self, want):
        scale = float(np.max(np.abs(want))) if want.size else 1.0
        if not self.ulps:
            return REL_TOL * max(1.0, scale)
        return self.ulps * 2.0 ** (np.floor(np.log2(max(scale, 2.0 ** -14))) - 10)

    def check(self, label, ok, detail=""):
        print("%s %s%s" % ("PASS" if ok else "FAIL", label, (": " + detail) if detail else ""))
        if ok:
            self.passed += 1
        else:
            self.failed += 1

    def close(self, label, got, want):
        err = float(np.max(np.abs(got.astype(np.float64) - want))) if got.size else 0.0
        bound = self.bound(want)
        self.check(label, got.shape == want.shape and err <= bound,
                   "shape %s vs %s, max |diff| %.3g (bound %.3g)" % (got.shape, want.shape, err, bound))


def prompts(batch, length, vocab, masked, seed):
    """Token ids [batch, length] and a mask: row i has length - 2i real tokens
    at the end (left padding) when masked, else all rows are full."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, size=(batch, length), dtype=np.int64)
    mask = np.ones((batch, length), dtype=np.int64)
    if masked:
        for i in range(batch):
            pad = min(2 * i, length - 1)
            mask[i, :pad] = 0
            ids[i, :pad] = 0
    return ids, mask


def encoder_inputs(args, encoder, batch, seed, work):
    """Runs the encoder with ORT; returns {decoder input name: file}."""
    model = onnx.load(encoder)
    (src,) = [i.name for i in model.graph.input]
    vocab = vocab_of(model, src)
    rng = np.random.default_rng(seed)
    src_file = save(os.path.join(work, "src_ids.npy"),
                    rng.integers(0, vocab, size=(batch, 7), dtype=np.int64))
    out = os.path.join(work, "encoder")
    run([args.node, args.ort_script, encoder, "--input", "%s=%s" % (src, src_file),
         "--output-dir", out, "--quiet"], "the encoder (onnxruntime)")
    files = {}
    for o in model.graph.output:
        if o.name.startswith("present"):
            files["past_key_values" + o.name[len("present"):]] = os.path.join(out, o.name + ".npy")
    return files


def full_sequence(args, lib, model, ids, mask, tokens, extra, work):
    """Logits of the whole sequence in one step with empty pasts."""
    seq = np.concatenate([ids, tokens[:, :-1]], axis=1)
    files = {"input_ids": save(os.path.join(work, "full_ids.npy"), seq)}
    names = {i.name: i for i in model.graph.input}
    if "attention_mask" in names:
        full_mask = np.concatenate([mask, np.ones_like(tokens[:, :-1])], axis=1)
        files["attention_mask"] = save(os.path.join(work, "full_mask.npy"), full_mask)
    for name, vi in names.items():
        if is_past(name):
            shape = [ids.shape[0] if isinstance(d, str) and k == 0 else (0 if isinstance(d, str) else d)
                     for k, d in enumerate(dims_of(vi))]
            dtype = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[vi.type.tensor_type.elem_type]
            files[name] = save(os.path.join(work, "empty_%s.npy" % name), np.zeros(shape, dtype))
    files.update(extra)
    out = os.path.join(work, "full")
    cmd = [args.runner, lib, "--quiet", "--output-dir", out]
    for name, path in files.items():
        cmd += ["--input", "%s=%s" % (name, path)]
    run(cmd, "tessera-run (whole sequence)")
    return np.load(os.path.join(out, "logits.npy"))


def same_history(checker, ts_tokens, ort_tokens, ort_logits):
    """For each row, the steps after which its tokens may differ from ONNX
    Runtime's (all of them in float32; in float16, up to the first step they
    differ at, if ONNX Runtime's two best logits there are a near tie), or
    None when they differ otherwise."""
    steps = []
    for row in range(ts_tokens.shape[0]):
        differ = np.nonzero(ts_tokens[row] != ort_tokens[row])[0]
        if not differ.size:
            steps.append(ts_tokens.shape[1])
            continue
        t = int(differ[0])
        best2 = np.sort(ort_logits[row, t])[-2:]
        if not checker.ulps or best2[1] - best2[0] > 2 * checker.bound(ort_logits[row, t]):
            return None
        steps.append(t)
    return steps


def check_batch(args, checker, lib, model, batch, seed):
    names = {i.name for i in model.graph.input}
    masked = "attention_mask" in names and batch > 1
    label = "%s batch %d%s" % (os.path.basename(args.model), batch, " left-padded" if masked else "")
    work = os.path.join(args.work_dir, "b%d" % batch)
    os.makedirs(work, exist_ok=True)
    ids, mask = prompts(batch, 7, vocab_of(model, "input_ids"), masked, seed)
    files = {"input_ids": save(os.path.join(work, "ids.npy"), ids)}
    if "attention_mask" in names:
        files["attention_mask"] = save(os.path.join(work, "mask.npy"), mask)
    extra = encoder_inputs(args, args.encoder, batch, seed, work) if args.encoder else {}
    inputs = []
    for name, path in list(files.items()) + list(extra.items()):
        inputs += ["--input", "%s=%s" % (name, path)]
    n = str(args.tokens)
    ts_out, ort_out = os.path.join(work, "tessera"), os.path.join(work, "ort")
    # --bench 1: a second, timed loop runs into the logits buffers the first
    # one sized, and tessera-run fails unless it reproduces the first loop.
    report = run([args.runner, lib, "--generate", n, "--bench", "1", "--threads", "1",
                  "--output-dir", ts_out] + inputs, "tessera-run --generate")
    run([args.node, args.ort_script, args.model, "--generate", n, "--output-dir", ort_out] + inputs,
        "onnxruntime --generate")
    print("  " + " | ".join(l for l in report.splitlines() if not l.startswith("tokens")))
    ts_tokens, ort_tokens = (np.load(os.path.join(d, "tokens.npy")) for d in (ts_out, ort_out))
    ts_logits, ort_logits = (np.load(os.path.join(d, "logits.npy")) for d in (ts_out, ort_out))
    steps = same_history(checker, ts_tokens, ort_tokens, ort_logits)
    checker.check(label + ": token ids equal ONNX Runtime's", steps is not None,
                  "tessera %s, ort %s" % (ts_tokens.tolist(), ort_tokens.tolist()))
    for row, n in enumerate(steps if steps is not None else [0] * batch):
        if n < ts_tokens.shape[1]:
            print("  row %d: a near tie at step %d; compared up to it" % (row, n))
        checker.close(label + ": row %d step logits vs ONNX Runtime" % row,
                      ts_logits[row, :n + 1], ort_logits[row, :n + 1])
    full = full_sequence(args, lib, model, ids, mask, ts_tokens, extra, work)
    at = full[:, ids.shape[1] - 1:, :]
    checker.close(label + ": step logits vs the whole sequence without cache", ts_logits, at)
    checker.check(label + ": tokens are the whole sequence's argmax",
                  np.array_equal(np.argmax(at, axis=-1), ts_tokens))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--compiler", required=True)
    p.add_argument("--runner", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--encoder", help="the encoder of an encoder-decoder model (its K/V feed the decoder)")
    p.add_argument("--work-dir", required=True)
    p.add_argument("--tokens", type=int, default=32)
    p.add_argument("--node", default="node")
    p.add_argument("--ort-script", default=ORT_SCRIPT)
    p.add_argument("--float16", action="store_true", help="convert the model(s) to float16 first")
    p.add_argument("--ulps", type=int, default=2, help="float16 ulps the logits may differ by")
    args = p.parse_args()
    shutil.rmtree(args.work_dir, ignore_errors=True)
    os.makedirs(args.work_dir)
    if args.float16:
        for attr in ("model", "encoder"):
            path = getattr(args, attr)
            if path:
                f16 = os.path.join(args.work_dir, os.path.basename(path).replace(".onnx", "_f16.onnx"))
                onnx.save(check_float16.convert(onnx.load(path)), f16)
                setattr(args, attr, f16)
    model = onnx.load(args.model)
    lib = os.path.join(args.work_dir, "model.so")
    cmd = [args.compiler, args.model, "-o", lib, "--quiet"]
    checker = Checker(args.ulps if args.float16 else 0)
    try:
        run(cmd, "tessera-compile")
        for seed, batch in enumerate((1, 3)):
            check_batch(args, checker, lib, model, batch, seed)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        checker.check(os.path.basename(args.model), False, str(e))
    print("%d passed, %d failed" % (checker.passed, checker.failed))
    return 0 if checker.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
