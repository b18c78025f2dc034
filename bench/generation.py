"""bench.py --gpt2-generate: KV-cache generation, Tessera beside ONNX Runtime.

Two cases on a GPT-2-small-sized KV-cache export (random weights): a 128-token
prompt then 128 decode steps (past 128..255), and a 992-token prompt then 32
decode steps (past 992..1023, near GPT-2's 1024 positions). Each round runs
`tessera-run --generate N --bench B` and `node tools/ort/run.js --generate N
--bench B --profile` (the order alternates between rounds), batch 1, one
thread; the table gives medians over rounds. ORT's in-engine time is its own
profile's model_run events: session.run() in Node also copies every output
(all present K/V, every step) into JavaScript, which is printed beside it.
The bandwidth floor is (weight bytes + cache bytes read per step) divided by
the read bandwidth of a C loop summing 1 GiB (READ_LOOP_C: one stream or two,
the faster, best of 5 passes).
Token ids that differ between the two are an error.
"""

import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper

PREFILL_RE = re.compile(r"^prefill: ([0-9.]+) ms", re.M)
DECODE_RE = re.compile(r"^decode: ([0-9.]+) ms/token", re.M)
ENGINE_RE = re.compile(r"^in-engine \(ORT profile model_run\): prefill ([0-9.]+) ms, "
                       r"decode ([0-9.]+) ms/token", re.M)
# (label, prompt length, tokens generated: the prefill's and one per decode step)
CASES = [("prompt 128, decode past 128..255", 128, 129),
         ("prompt 992, decode past 992..1023", 992, 33)]


class GenerationError(Exception):
    pass


# Sums 1 GiB of uint64 in one stream and in two (halves read side by side);
# prints the best GB/s of 5 passes of each. cc -O3 -march=native vectorises it.
READ_LOOP_C = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}
int main(void) {
  size_t n = (1ul << 30) / 8, h = n / 2;
  uint64_t *a = aligned_alloc(64, n * 8), s = 0;
  for (size_t i = 0; i < n; ++i) a[i] = i;
  for (int streams = 1; streams <= 2; ++streams) {
    double best = 1e9;
    for (int r = 0; r < 5; ++r) {
      double t0 = now();
      uint64_t s0 = 0, s1 = 0;
      if (streams == 1)
        for (size_t i = 0; i < n; ++i) s0 += a[i];
      else
        for (size_t i = 0; i < h; ++i) s0 += a[i], s1 += a[h + i];
      double t = now() - t0;
      best = t < best ? t : best;
      s += s0 + s1;
    }
    printf("%d %.3f\n", streams, n * 8 / best / 1e9);
  }
  return s == 42;
}
"""


def read_bandwidth(work_dir):
    """GB/s of the faster of READ_LOOP_C's one- and two-stream read loops."""
    src, exe = os.path.join(work_dir, "read_loop.c"), os.path.join(work_dir, "read_loop")
    with open(src, "w") as f:
        f.write(READ_LOOP_C)
    subprocess.run(["cc", "-O3", "-march=native", "-o", exe, src], check=True)
    out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    return max(float(line.split()[1]) for line in out.splitlines())


def model_bytes(path):
    """(bytes of the weights a decode step reads, cache bytes per past position,
    vocabulary) of a KV-cache export. Tables only gathered from (embeddings)
    do not count: a step reads one row of them."""
    model = onnx.load(path)
    gathered_only = {t.name for t in model.graph.initializer}
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if node.op_type != "Gather" or i != 0:
                gathered_only.discard(name)
    weights = sum(onnx.numpy_helper.to_array(t).nbytes for t in model.graph.initializer
                  if t.name not in gathered_only)
    per_position = 0
    for v in model.graph.input:
        if v.name.startswith("past_key_values"):
            dims = v.type.tensor_type.shape.dim  # [batch, heads, past, head_dim]
            itemsize = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[v.type.tensor_type.elem_type].itemsize
            per_position += dims[1].dim_value * dims[3].dim_value * itemsize
    logits = next(v for v in model.graph.output if v.name == "logits")
    return int(weights), per_position, logits.type.tensor_type.shape.dim[2].dim_value


def field(regex, text, what, group=1):
    m = regex.search(text)
    if not m:
        raise GenerationError("%s printed no %r line:\n%s" % (what, regex.pattern, text))
    return float(m.group(group))


def run_tessera(args, so, prompt, n, out_dir):
    out = subprocess.run([args.tessera_run, so, "--generate", str(n), "--input",
                          "input_ids=" + prompt, "--threads", "1", "--bench", str(args.gen_bench),
                          "--quiet", "--output-dir", out_dir],
                         capture_output=True, text=True)
    if out.returncode:
        raise GenerationError("tessera-run failed: %s" % out.stderr.strip())
    return {"prefill": field(PREFILL_RE, out.stdout, "tessera-run"),
            "decode": field(DECODE_RE, out.stdout, "tessera-run")}


def run_ort(args, onnx_path, prompt, n, out_dir):
    out = subprocess.run([args.node, args.ort_script, onnx_path, "--generate", str(n), "--input",
                          "input_ids=" + prompt, "--threads", "1", "--bench", str(args.gen_bench),
                          "--profile", "--quiet", "--output-dir", out_dir],
                         capture_output=True, text=True)
    if out.returncode:
        raise GenerationError("run.js failed: %s" % out.stderr.strip())
    return {"prefill_run": field(PREFILL_RE, out.stdout, "run.js"),
            "decode_run": field(DECODE_RE, out.stdout, "run.js"),
            "prefill": field(ENGINE_RE, out.stdout, "run.js"),
            "decode": field(ENGINE_RE, out.stdout, "run.js", 2)}


def bench_case(args, so, onnx_path, prompt_len, n, vocab):
    """Medians over rounds of each runtime's figures; fails on differing tokens."""
    work = os.path.join(args.work_dir, "generate_p%d" % prompt_len)
    os.makedirs(work, exist_ok=True)
    prompt = os.path.join(work, "input_ids.npy")
    rng = np.random.default_rng(args.seed)
    np.save(prompt, rng.integers(0, vocab, size=(1, prompt_len), dtype=np.int64))
    runners = [("tessera", lambda d: run_tessera(args, so, prompt, n, d)),
               ("ort", lambda d: run_ort(args, onnx_path, prompt, n, d))]
    results = {"tessera": [], "ort": []}
    for r in range(args.gen_rounds):
        for name, runner in (runners if r % 2 == 0 else runners[::-1]):
            results[name].append(runner(os.path.join(work, name)))
            print("  round %d %s: %s" % (r + 1, name, results[name][-1]), file=sys.stderr,
                  flush=True)
        tokens = [np.load(os.path.join(work, name, "tokens.npy")) for name in ("tessera", "ort")]
        if not np.array_equal(*tokens):
            raise GenerationError("token ids differ (prompt %d): Tessera %s, ORT %s" % (
                prompt_len, tokens[0].tolist(), tokens[1].tolist()))
    return {name: {k: statistics.median(x[k] for x in rows) for k in rows[0]}
            for name, rows in results.items()}


def run(args, onnx_path):
    """Prints the generation table; raises GenerationError."""
    import tessera
    t0 = time.time()
    so = tessera.compile(onnx_path)  # once per model and compiler (the package's cache)
    print("compiled %s without --shape in %.0f s (or found it in the cache)" % (
        os.path.basename(onnx_path), time.time() - t0), file=sys.stderr, flush=True)
    weights, per_position, vocab = model_bytes(onnx_path)
    bandwidth = read_bandwidth(args.work_dir)
    rows = []
    for label, prompt_len, n in CASES:
        print("generating: %s ..." % label, file=sys.stderr, flush=True)
        res = bench_case(args, so, onnx_path, prompt_len, n, vocab)
        mean_past = prompt_len + (n - 2) / 2  # decode steps at past prompt_len .. prompt_len+n-2
        floor = (weights + per_position * mean_past) / bandwidth / 1e6
        rows.append((label, res, floor))
    print()
    print("| case | Tessera prefill ms | ORT prefill ms (in-engine / run()) | Tessera ms/token "
          "| ORT ms/token in-engine | ORT run() ms/token | floor ms/token | Tessera/ORT "
          "| Tessera/floor |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, res, floor in rows:
        t, o = res["tessera"], res["ort"]
        print("| %s | %.1f | %.1f / %.1f | %.2f | %.2f | %.2f | %.2f | %.2fx | %.2fx |" % (
            label, t["prefill"], o["prefill"], o["prefill_run"], t["decode"], o["decode"],
            o["decode_run"], floor, t["decode"] / o["decode"], t["decode"] / floor))
    print()
    print("Batch 1, 1 thread; medians of %d rounds (alternating order) of --bench %d each. "
          "Read bandwidth (C loop summing 1 GiB, best of 1 and 2 streams): %.1f GB/s; weights %.0f MB, "
          "cache %.1f KB per past position. ORT in-engine = its profile's model_run events. "
          "Token ids equal. Load average: %s." % (
              args.gen_rounds, args.gen_bench, bandwidth, weights / 1e6, per_position / 1e3,
              " ".join("%.2f" % x for x in os.getloadavg())))
