#!/usr/bin/python3
"""Benchmarks Tessera against ONNX Runtime on the same inputs, in one run.

    bench/bench.py --model M.onnx [--model M2.onnx ...] [--bert-base] [--transformer-base]
                   [--gpt2-base [--gpt2-seq 1024] [--gpt2-runs 5]] [--llama]
                   [--vit-b16] [--whisper-base]
                   [--gpt2-generate [--gen-rounds 3] [--gen-bench 1]]
                   [--batch 1] [--seq 128] [--threads 1] [--runs 20] [--unfused]
                   [--compiler PATH] [--work-dir DIR] [--ort-only] [--plot FILE.png]

For each model and each (batch, seq, threads) combination (--batch, --seq and
--threads take comma-separated lists):
  1. builds inputs exactly as tests/models/compare.py does (seeded token ids,
     padded attention masks, normal pixels; a "tgt" sequence is seq - 2);
  2. compiles with tessera.compile(..., shapes=...) (the Python API; every
     dynamic input pinned) and loads the library with tessera.load;
  3. times `tessera-run --bench N` and `node tools/ort/run.js --bench N`
     (each: one warm-up run, then N timed runs of the whole model with its
     inputs in memory), in --rounds rounds (default 3) that alternate which
     runtime runs first, and which thread count of --threads, so that the
     machine's drifts fall on all alike (a speed-up over 1 thread, printed
     under the table, compares the same rounds); medians, mins and maxes
     are over all of a runtime's runs. Neither
     counts making its outputs: tessera-run runs into its first run's
     buffers, and ORT's session.run, which copies every output into
     JavaScript (206 MB of GPT-2 logits), has that copy taken off each
     time: the median of session.run minus ORT's own profile model_run
     over 3 profiled runs. (Through the Python API, a fresh output array
     costs Tessera the same page faults.) Runs with fewer threads than CPUs
     are pinned (taskset) to the same CPUs for both runtimes (--cpus),
     taking turns over the CPUs from round to round: a VM's vCPUs may
     differ in speed, and a speed-up over 1 thread is then over the CPUs'
     mean speed. The outputs compared come from one
     run through the Python API;
  4. checks that the two runtimes' outputs agree (max abs difference);
  5. with --unfused, also compiles with --fuse=false (no Transformer fusions)
     and times that library too, in the same run;
  6. with --dynamic, also compiles the model ONCE without --shape and times
     that one library at every shape, beside the pinned build ("dyn/pinned"
     is the dynamic build's median over the pinned one's);
  7. with --plot FILE.png, draws the median latency against the sequence
     length, Tessera beside ONNX Runtime (matplotlib), one panel per model,
     batch size and thread count.
The script fails (exit 1) when Tessera's outputs and ORT's disagree by more
than 1e-4 * max(1, max |ORT|), as tests/models/compare.py requires.
Then it prints a markdown table. "ORT/Tessera" is ORT's median latency over
Tessera's: above 1 means Tessera is faster.

--bert-base exports a BERT-base-sized model (12 layers, hidden 768, 12 heads,
FFN 3072, vocab 30522, 512 positions; random weights, seed 0) with the BERT
module of tests/models/generate.py, once, into the work dir (about 440 MB).
--gpt2-base likewise exports a GPT-2-small-sized model (12 layers, hidden 768,
12 heads, FFN 3072, vocab 50257, 1024 positions, tied LM head; about 500 MB)
with generate.py's GPT-2 module; it runs at --gpt2-seq (default 1024) with
--gpt2-runs timed runs (default 5).

--llama exports a LLaMA-style decoder with generate.py's Llama module (12
layers, hidden 768, 12 query / 4 KV heads, RMSNorm, half-split rotary,
SwiGLU FFN 2048, vocab 32000, 512 positions, no biases; about 500 MB).

--vit-b16 exports torchvision's vit_b_16 (weights=None; its zero-initialised
class token, head and LayerNorm parameters randomised as generate.py does,
seed 0) on a 224x224 image [batch, 3, 224, 224]; about 330 MB.
--whisper-base exports a Whisper-base-sized audio encoder with generate.py's
WhisperEncoder (log-mel [batch, 80, 3000], two Conv1d + GELU to 1500
positions, constant sinusoids, 6 pre-LN layers, hidden 512, 8 heads, FFN
2048; about 80 MB). Their inputs are seeded normal floats of a fixed size:
--seq does not apply to them.

--gpt2-generate exports the GPT-2-small-sized KV-cache decoder (Optimum's
naming, generate.py's gpt2_kv) once, compiles it once without --shape, and
times greedy generation with tessera-run and run.js (see bench/generation.py).
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # do not leave __pycache__ in tests/models
sys.path.insert(0, os.path.join(ROOT, "tests", "models"))
import compare  # noqa: E402  (input generation, shared with the model tests)

try:
    import tessera
except ImportError:  # not installed: the build tree's package
    sys.path.insert(0, os.path.join(ROOT, "build", "python"))
    import tessera

DEFAULT_COMPILER = os.path.join(ROOT, "build", "tools", "tessera-compile", "tessera-compile")
DEFAULT_TESSERA_RUN = os.path.join(ROOT, "build", "tools", "tessera-run", "tessera-run")
DEFAULT_ORT_SCRIPT = os.path.join(ROOT, "tools", "ort", "run.js")
LATENCY_RE = re.compile(
    r"latency: median ([0-9.]+) ms, min ([0-9.]+) ms, max ([0-9.]+) ms "
    r"\((\d+) runs, (\d+) threads?\)")

TIMES_RE = re.compile(r"^times: ([0-9. ]+)$", re.M)
COPY_RE = re.compile(r"^output copy: median (-?[0-9.]+) ms", re.M)

TORCHVISION = "torchvision:"  # a PRESETS kind: a torchvision.models builder
GPT2_SMALL = dict(vocab=50257, d=768, heads=12, layers=12, ff=3072)
# name: (generate.py model or TORCHVISION + builder, size, positions, file)
PRESETS = {
    "transformer-base": ("transformer", dict(vocab=32000, d=512, heads=8, layers=6, ff=2048), 512,
                         "transformer_base_op17.onnx"),
    "bert-base": ("bert", dict(vocab=30522, d=768, heads=12, layers=12, ff=3072), 512,
                  "bert_base_op17.onnx"),
    "gpt2-base": ("gpt2", GPT2_SMALL, 1024, "gpt2_base_op17.onnx"),
    "gpt2-kv-base": ("gpt2_kv", GPT2_SMALL, 1024, "gpt2_kv_base_op17.onnx"),
    "llama": ("llama", dict(vocab=32000, d=768, heads=12, kv_heads=4, layers=12, ff=2048), 512,
              "llama_base_op17.onnx"),
    # 1500 positions: 3000 log-mel frames
    "whisper-base": ("whisper_encoder", dict(mels=80, d=512, heads=8, layers=6, ff=2048), 1500,
                     "whisper_base_encoder_op17.onnx"),
    "vit-b16": (TORCHVISION + "vit_b_16", {}, None, "vit_b16_op17.onnx"),
}


class BenchError(Exception):
    pass


def comma_ints(text, minimum, what):
    """Comma-separated integers of at least `minimum`; `what` names them."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("expected comma-separated %s, got %r" % (what, text))
    if not values or any(v < minimum for v in values):
        raise argparse.ArgumentTypeError("expected %s of at least %d, got %r"
                                         % (what, minimum, text))
    return values


def cpu_list(text):
    """Comma-separated CPU numbers (0 is one)."""
    return comma_ints(text, 0, "CPU numbers")


def int_list(text):
    return comma_ints(text, 1, "integers")


def parse_args(argv):
    p = argparse.ArgumentParser(description="Benchmark Tessera against ONNX Runtime.")
    p.add_argument("--model", action="append", default=[], help="ONNX model (repeatable)")
    p.add_argument("--bert-base", action="store_true",
                   help="also benchmark a BERT-base-sized export of generate.py's BERT")
    p.add_argument("--transformer-base", action="store_true",
                   help="also benchmark the original encoder-decoder Transformer base "
                        "(generate.py's Transformer; src and tgt both --seq long)")
    p.add_argument("--gpt2-base", action="store_true",
                   help="also benchmark a GPT-2-small-sized export of generate.py's GPT-2")
    p.add_argument("--gpt2-seq", type=int_list, default=[1024],
                   help="sequence length(s) for --gpt2-base (default: 1024)")
    p.add_argument("--gpt2-runs", type=int, default=5,
                   help="timed runs for --gpt2-base (default: 5)")
    p.add_argument("--llama", action="store_true",
                   help="also benchmark a LLaMA-style export of generate.py's Llama (12 layers, "
                        "hidden 768, 12 query / 4 KV heads, SwiGLU FFN 2048, vocab 32000)")
    p.add_argument("--vit-b16", action="store_true",
                   help="also benchmark torchvision's vit_b_16 (random weights) on a 224x224 "
                        "image")
    p.add_argument("--whisper-base", action="store_true",
                   help="also benchmark a Whisper-base-sized encoder (generate.py's "
                        "WhisperEncoder; log-mel [batch, 80, 3000])")
    p.add_argument("--gpt2-generate", action="store_true",
                   help="benchmark KV-cache generation on a GPT-2-small-sized export")
    p.add_argument("--gen-rounds", type=int, default=3,
                   help="--gpt2-generate rounds, alternating the order (default: 3)")
    p.add_argument("--gen-bench", type=int, default=1,
                   help="timed loops per tool per round for --gpt2-generate (default: 1)")
    p.add_argument("--tessera-run", default=DEFAULT_TESSERA_RUN, help="default: %(default)s")
    p.add_argument("--unfused", action="store_true",
                   help="also time Tessera with --fuse=false (fusions off)")
    p.add_argument("--dynamic", action="store_true",
                   help="also compile each model once without --shape and time that library "
                        "at every shape beside the pinned build")
    p.add_argument("--batch", type=int_list, default=[1], help="batch size(s) (default: 1)")
    p.add_argument("--seq", type=int_list, default=[128], help="sequence length(s) (default: 128)")
    p.add_argument("--threads", type=int_list, default=[1], help="thread count(s) (default: 1)")
    p.add_argument("--runs", type=int, default=20, help="timed runs after one warm-up (default: 20)")
    p.add_argument("--cpus", type=cpu_list, default=None,
                   help="CPUs the timed runs may use, the first THREADS of them (default: "
                        "this process's CPUs; 1-thread runs of both runtimes are pinned to "
                        "the first)")
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds the timed runs are split into, alternating which runtime "
                        "runs first and, for runs on fewer CPUs than there are, which CPUs "
                        "(then rounded up to a multiple of twice the CPUs; default: 3)")
    p.add_argument("--compiler", default=None,
                   help="tessera-compile for tessera.compile (default: the package's, "
                        "else %s)" % DEFAULT_COMPILER)
    p.add_argument("--plot", metavar="FILE.png",
                   help="draw latency against sequence length, Tessera and ORT (matplotlib)")
    p.add_argument("--ulps", type=int, default=1,
                   help="outputs must agree with ONNX Runtime to this many ulps of their type "
                        "at their largest magnitude, at least (compare.py --ulps; default: 1)")
    p.add_argument("--float16", action="store_true",
                   help="run the presets (and --gpt2-generate's export) converted to float16 "
                        "as tests/models/check_float16.py converts them (pair with --ulps)")
    p.add_argument("--ort-script", default=DEFAULT_ORT_SCRIPT, help="default: %(default)s")
    p.add_argument("--node", default="node", help="Node.js binary (default: node)")
    p.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "tessera-bench"),
                   help="inputs, outputs, compiled models and the BERT-base export "
                        "(kept between runs; default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="input seed (default: 0)")
    p.add_argument("--ort-only", action="store_true",
                   help="benchmark ONNX Runtime only (no Tessera columns)")
    args = p.parse_args(argv)
    if not (args.model or args.bert_base or args.transformer_base or args.gpt2_base
            or args.llama or args.vit_b16 or args.whisper_base or args.gpt2_generate):
        p.error("give --model M.onnx, --bert-base, --transformer-base, --gpt2-base, --llama, "
                "--vit-b16, --whisper-base and/or --gpt2-generate")
    if args.gpt2_generate and not os.path.isfile(args.tessera_run):
        p.error("--tessera-run %s does not exist" % args.tessera_run)
    if args.runs < 1:
        p.error("--runs must be at least 1")
    if not os.path.isfile(args.ort_script):
        p.error("--ort-script %s does not exist" % args.ort_script)
    if args.compiler:
        if not os.path.isfile(args.compiler):
            p.error("--compiler %s does not exist" % args.compiler)
        os.environ["TESSERA_COMPILE"] = os.path.abspath(args.compiler)
    elif not os.environ.get("TESSERA_COMPILE") and os.path.isfile(DEFAULT_COMPILER):
        try:
            tessera.compiler.find_compiler()
        except tessera.CompileError:
            os.environ["TESSERA_COMPILE"] = DEFAULT_COMPILER
    for m in args.model:
        if not os.path.isfile(m):
            p.error("--model %s does not exist" % m)
    return args


# ------------------------------------------------------------------ presets


def preset_module(kind, size, positions):
    """(module, example inputs, input names, output names, dynamic axes) of a
    preset: a generate.py model at a preset size, or a torchvision model."""
    import torch
    import generate  # tests/models/generate.py

    if kind.startswith(TORCHVISION):
        import torchvision

        torch.manual_seed(generate.SEED)
        model = getattr(torchvision.models, kind[len(TORCHVISION):])(weights=None, **size).eval()
        generate.randomize_defaults(model)  # e.g. ViT's class token and head start at 0
        g = torch.Generator().manual_seed(2)
        example = (torch.randn(2, 3, model.image_size, model.image_size, generator=g),)
        batch = {0: "batch"}
        return (model, example, ["pixel_values"], ["logits"],
                {"pixel_values": batch, "logits": batch})
    generate.MAX_POS = positions  # read by the modules' __init__
    if kind.endswith("_kv"):  # its input names and example inputs read these globals
        generate.VOCAB, generate.HEADS = size["vocab"], size["heads"]
        generate.HEAD_DIM, generate.LAYERS = size["d"] // size["heads"], size["layers"]
    spec = generate.define_models()[kind]
    torch.manual_seed(generate.SEED)
    model = spec.build(**size).eval()
    generate.randomize_defaults(model)
    return model, spec.inputs(), spec.input_names, spec.output_names, spec.dynamic_axes


def export_preset(work_dir, name):
    """Exports a preset model once into work_dir; returns the path."""
    kind, size, positions, filename = PRESETS[name]
    path = os.path.join(work_dir, filename)
    if os.path.isfile(path):
        return path
    import types
    import warnings
    import torch
    import generate  # tests/models/generate.py

    warnings.filterwarnings("ignore")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model, example, input_names, output_names, dynamic_axes = preset_module(kind, size,
                                                                            positions)
    os.makedirs(work_dir, exist_ok=True)
    tmp = path + ".tmp"
    print("exporting %s to %s ..." % (name, path), file=sys.stderr, flush=True)
    t0 = time.time()
    with torch.enable_grad():  # same reason as in generate.py: no fused fast path
        torch.onnx.export(
            model, example, tmp,
            input_names=input_names, output_names=output_names,
            dynamic_axes=dynamic_axes, opset_version=17,
            do_constant_folding=True, export_params=True,
            training=torch.onnx.TrainingMode.EVAL,
            operator_export_type=torch.onnx.OperatorExportTypes.ONNX)
    with torch.no_grad():  # e.g. Whisper's 1500 positions, left symbolic by the exporter
        out = generate.as_tuple(model(*example))
    generate.pin_static_output_dims(tmp, out, types.SimpleNamespace(dynamic_axes=dynamic_axes))
    onnx.checker.check_model(tmp)
    os.replace(tmp, path)
    print("exported in %.1f s (%d MB)" % (time.time() - t0, os.path.getsize(path) >> 20),
          file=sys.stderr, flush=True)
    return path


def float16_copy(path):
    """The float16 conversion of the model at `path` (made once, beside it)."""
    import check_float16  # tests/models/check_float16.py

    out = path[:-len(".onnx")] + "_f16.onnx"
    if not os.path.isfile(out):
        tmp = out + ".tmp"
        onnx.save(check_float16.convert(onnx.load(path)), tmp)
        os.replace(tmp, out)
    return out


def preset(args, name):
    """The preset's export, converted to float16 with --float16."""
    path = export_preset(args.work_dir, name)
    return float16_copy(path) if args.float16 else path


# ------------------------------------------------------------------ running


def run(cmd, what, timeout=3600):
    """Runs a tool (compare.run: errors raise compare.CompareError)."""
    return compare.run(cmd, timeout, what)


def latency(output, what):
    m = LATENCY_RE.search(output)
    if not m:
        raise BenchError("%s printed no 'latency: ...' line:\n%s" % (what, output.strip()))
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


def make_inputs(model, batch, seq, seed, full_tgt):
    """compare.make_inputs; with full_tgt, "tgt" sequences are seq long too."""
    arrays = compare.make_inputs(model, batch, seq, seed, None)
    if not full_tgt:
        return arrays
    rng = np.random.default_rng([seed, batch, seq, 1])
    for value in compare.model_inputs(model):
        dims = value.type.tensor_type.shape.dim
        if any("tgt" in d.dim_param for d in dims):
            shape = [seq if "tgt" in d.dim_param else n
                     for d, n in zip(dims, arrays[value.name].shape)]
            vocab = compare.embedding_vocab(model, value.name) or 100
            arrays[value.name] = rng.integers(0, vocab, size=shape).astype(
                arrays[value.name].dtype)
    return arrays


def bench_one(args, model_path, model, batch, seq, threads_list, runs):
    """Returns a dict for each table row: one per thread count, measured in
    the same rounds."""
    stem = os.path.splitext(os.path.basename(model_path))[0]
    work = os.path.join(args.work_dir, stem, "b%d_s%s" % (batch, seq or "-"))
    os.makedirs(work, exist_ok=True)
    full_tgt = os.path.basename(model_path) == PRESETS["transformer-base"][3]
    arrays = make_inputs(model, batch, seq or 1, args.seed, full_tgt)
    inputs = []
    for name, a in arrays.items():
        path = os.path.join(work, compare.sanitize(name) + ".npy")
        np.save(path, a)
        inputs += ["--input", "%s=%s" % (name, path)]
    rows = [{"model": stem, "threads": threads, "batch": batch, "seq": seq,
             "shape": shape_label(model, arrays, batch, seq),
             "ort_out": os.path.join(work, "ort_t%d" % threads)}
            for threads in threads_list]

    # ORT gets the same pins as Tessera's build: every named dynamic dim of
    # the inputs at this run's size (freeDimensionOverrides).
    pins = {}
    for v in compare.model_inputs(model):
        for axis, d in enumerate(v.type.tensor_type.shape.dim):
            if not d.HasField("dim_value") and d.dim_param:
                pins[d.dim_param] = arrays[v.name].shape[axis]
    free_dims = []
    for name, size in sorted(pins.items()):
        free_dims += ["--free-dim", "%s=%d" % (name, size)]

    def ort_cmd(row, turn=0):
        return cpu_pin(args.cpus, row["threads"], turn) + [
            args.node, args.ort_script, model_path] + inputs + free_dims + [
            "--threads", str(row["threads"])]

    def tessera_cmd(row, library, turn=0):
        return cpu_pin(args.cpus, row["threads"], turn) + [
            args.tessera_run, library] + inputs + [
            "--threads", str(row["threads"]), "--quiet"]

    if args.ort_only:
        for row in rows:
            row["ort"] = summary(bench_times(ort_cmd(row) + ["--output-dir", row["ort_out"]],
                                             runs, "tools/ort/run.js"))
        return rows

    shapes = {v.name: arrays[v.name].shape for v in compare.model_inputs(model)
              if compare.is_dynamic(v)}
    t0 = time.time()
    library = tessera.compile(model_path, os.path.join(work, "model.so"), shapes=shapes)
    compile_s = time.time() - t0
    pinned = tessera.load(library)
    for row in rows:
        row["compile_s"] = compile_s
        row["results"] = [("pinned", run_session(pinned, arrays, row["threads"]))]
    # Rounds alternate which runtime goes first, and which thread count, so
    # that drifts of the machine's speed fall on all alike (a speed-up over
    # one thread compares runs of the same rounds); runs on fewer CPUs than
    # there are take turns over them (cpu_pin), a pair of rounds (either
    # runtime first) on each. Each round is a process of
    # each runtime and thread count that runs once to warm up, then times
    # its runs; neither allocates outputs in the timed runs (tessera-run
    # reuses its first run's buffers; ORT's copy of its outputs is taken off
    # below).
    plan = rounds(args, threads_list, runs)
    for row in rows:
        row["ort_t"], row["tessera_t"] = [], []
        row["rounds"] = len(plan)
    for r, (n, turn) in enumerate(plan):
        steps = []
        for row in rows:
            ort = ort_cmd(row, turn) + (["--output-dir", row["ort_out"]] if r == 0 else [])
            ours = tessera_cmd(row, library, turn)
            steps += [lambda row=row, cmd=ort: row["ort_t"].extend(
                          bench_times(cmd, n, "tools/ort/run.js")),
                      lambda row=row, cmd=ours: row["tessera_t"].extend(
                          bench_times(cmd, n, "tessera-run"))]
        for step in (steps if r % 2 == 0 else steps[::-1]):
            step()
    for row in rows:
        # session.run of ORT's Node binding copies every output into
        # JavaScript (206 MB of GPT-2 logits): that copy, measured against
        # ORT's own profile, is taken off each of its times. It is measured
        # over as many runs as a round times: it is slower while V8's heap
        # grows (a new output buffer each run) than once it reuses freed ones.
        row["ort_copy"] = ort_copy(ort_cmd(row), runs=max(n for n, _ in plan))
        row["ort"] = summary([t - row["ort_copy"] for t in row["ort_t"]])
        row["tessera"] = summary(row["tessera_t"])
    if args.unfused:
        path = tessera.compile(model_path, os.path.join(work, "model-unfused.so"),
                               shapes=shapes, fuse=False)
        for row in rows:
            row["unfused"] = summary(bench_times(tessera_cmd(row, path), runs, "tessera-run"))
    if args.dynamic:
        path = dynamic_library(model_path)
        dynamic = tessera.load(path)
        for row in rows:
            row["results"].append(("dynamic", run_session(dynamic, arrays, row["threads"])))
            row["dynamic"] = summary(bench_times(tessera_cmd(row, path), runs, "tessera-run"))

    for row in rows:
        ref = compare.read_outputs(model, row["ort_out"], "onnxruntime")
        diffs = []
        for tag, got in row["results"]:
            for name in ref:
                ok, desc = compare.check(name, ref[name], got[name], False, ulps=args.ulps)
                diffs.append("%s %s" % (tag, desc))
                if not ok:
                    raise BenchError("Tessera (%s build, %d threads) disagrees with ONNX "
                                     "Runtime: %s" % (tag, row["threads"], desc))
        row["diff"] = "; ".join(diffs)
    return rows


def shape_label(model, arrays, batch, seq):
    """The shape column: batch and seq; without a sequence axis, batch and the
    last two dims of a float input of rank 3 or more ("batch 1, 224x224")."""
    label = "batch %d" % batch
    if seq is not None:
        return label + ", seq %d" % seq
    for value in compare.model_inputs(model):
        a = arrays[value.name]
        if a.ndim >= 3 and a.dtype.kind == "f":
            return label + ", %dx%d" % a.shape[-2:]
    return label


def run_session(model, feeds, threads):
    """The outputs of one run of `model` through the Python API."""
    try:
        return model.session(threads).run(feeds)
    except tessera.Error as e:
        raise BenchError("%s: %s" % (type(e).__name__, e))


def summary(times):
    """(median, min, max) of latencies."""
    return statistics.median(times), min(times), max(times)


def split_runs(runs, rounds):
    """`runs` split into at most `rounds` near-equal parts."""
    rounds = max(1, min(rounds, runs))
    return [runs // rounds + (1 if r < runs % rounds else 0) for r in range(rounds)]


def cpu_pin(cpus, threads, turn=0):
    """The taskset prefix that runs a benchmark on `threads` CPUs of `cpus`
    (default: this process's CPUs) in round `turn`, the same for both
    runtimes: from the turn-th CPU on, so that runs on fewer CPUs than there
    are take turns over them. The vCPUs of a VM may differ in speed (this
    project's machine: one runs up to 8-12% slower than the other, and not
    always the same one), so a 1-thread run pinned to either measures the
    CPU as much as the runtime, and a speed-up of 2 threads over 1 thread
    on the faster CPU alone could not reach 2x however well the work is
    shared (nor be held under it on the slower). Empty when every CPU is
    used."""
    allowed = sorted(os.sched_getaffinity(0))
    pool = cpus or allowed
    if threads >= len(pool) and not cpus:
        return []
    chosen = [pool[(turn + i) % len(pool)] for i in range(min(threads, len(pool)))]
    return ["taskset", "-c", ",".join(str(c) for c in chosen)]


def rounds(args, threads_list, runs):
    """The rounds the timed runs are split into, each (runs, CPU turn for
    cpu_pin): --rounds, made a multiple of twice the CPUs when runs on fewer
    CPUs take turns over them, so that each CPU gets as many rounds, a pair
    (either runtime first) at a time; with fewer runs than that, a round
    per turn."""
    cpus = len(args.cpus or os.sched_getaffinity(0))
    count = args.rounds
    if cpus > 1 and min(threads_list) < cpus:
        count = -(-count // (2 * cpus)) * 2 * cpus
    parts = split_runs(runs, count)
    pair = 2 if len(parts) >= 2 * cpus else 1
    return [(n, r // pair) for r, n in enumerate(parts)]


def bench_times(cmd, runs, what):
    """The latencies (ms) of `runs` timed runs of `cmd --bench runs` (tessera-run
    or tools/ort/run.js: a 'times: ...' line after the 'latency: ...' one)."""
    out = run(cmd + ["--bench", str(runs)], what)
    latency(out, what)  # checks the summary line is there
    m = TIMES_RE.search(out)
    if not m:
        raise BenchError("%s printed no 'times: ...' line:\n%s" % (what, out.strip()))
    return [float(t) for t in m.group(1).split()]


def ort_copy(cmd, runs):
    """The median time (ms) ORT's session.run spends outside its own
    model_run (the Node binding's copy of the outputs), from `runs` runs of
    a profiled session."""
    out = run(cmd + ["--bench", str(runs), "--profile"], "onnxruntime --profile")
    m = COPY_RE.search(out)
    if not m:
        raise BenchError("tools/ort/run.js --profile printed no 'output copy: ...' line:\n%s"
                         % out.strip())
    return max(0.0, float(m.group(1)))


_dynamic_libraries = {}


def dynamic_library(model_path):
    """The library of the model compiled once without --shape (tessera.compile's
    cache)."""
    if model_path not in _dynamic_libraries:
        t0 = time.time()
        _dynamic_libraries[model_path] = tessera.compile(model_path)
        print("compiled %s once without --shape in %.1f s (or found it in the cache)"
              % (os.path.basename(model_path), time.time() - t0), file=sys.stderr, flush=True)
    return _dynamic_libraries[model_path]


def plot(rows, path, args):
    """Median latency against sequence length: one panel per model, batch and
    thread count; Tessera (pinned, and dynamic/unfused when measured) and ORT."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = {}
    for r in rows:
        if r.get("seq") is not None:
            panels.setdefault((r["model"], r["batch"], r["threads"]), []).append(r)
    if not panels:
        raise BenchError("--plot needs models with a sequence axis")
    series = [("tessera", "Tessera", "o-"), ("dynamic", "Tessera (compiled once, dynamic)", "s--"),
              ("unfused", "Tessera --fuse=false", "^:"), ("ort", "ONNX Runtime", "x-")]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.2), squeeze=False)
    for ax, ((model, batch, threads), panel) in zip(axes[0], sorted(panels.items())):
        panel.sort(key=lambda r: r["seq"])
        seqs = [r["seq"] for r in panel]
        for key, label, style in series:
            if all(key in r for r in panel):
                ax.plot(seqs, [r[key][0] for r in panel], style, label=label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(seqs)
        ax.set_xticklabels([str(q) for q in seqs])
        ax.set_xlabel("sequence length")
        ax.set_ylabel("median latency (ms)")
        ax.set_title("%s, batch %d, %d thread%s" % (model, batch, threads,
                                                    "" if threads == 1 else "s"))
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle("Tessera vs ONNX Runtime on %s" % cpu_name(), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print("wrote %s" % path, file=sys.stderr)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "this CPU"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.makedirs(args.work_dir, exist_ok=True)
    # (path, sequence lengths, timed runs)
    models = [(os.path.abspath(m), args.seq, args.runs) for m in args.model]
    for name, wanted, seqs, runs in (("bert-base", args.bert_base, args.seq, args.runs),
                                     ("transformer-base", args.transformer_base, args.seq,
                                      args.runs),
                                     ("gpt2-base", args.gpt2_base, args.gpt2_seq, args.gpt2_runs),
                                     ("llama", args.llama, args.seq, args.runs),
                                     ("vit-b16", args.vit_b16, args.seq, args.runs),
                                     ("whisper-base", args.whisper_base, args.seq, args.runs)):
        if not wanted:
            continue
        try:
            models.append((preset(args, name), seqs, runs))
        except Exception as e:
            print("bench.py: error: %s export failed: %s" % (name, e), file=sys.stderr)
            return 1

    rows, errors = [], []
    if args.gpt2_generate:
        import generation  # bench/generation.py
        try:
            generation.run(args, preset(args, "gpt2-kv-base"))
        except Exception as e:
            errors.append("--gpt2-generate: %s" % e)
    for path, model_seqs, runs in models:
        model = onnx.load(path, load_external_data=False)
        has_seq = any(compare.has_seq_axis(v) for v in compare.model_inputs(model))
        for batch in args.batch:
            for seq in (model_seqs if has_seq else [None]):
                label = "%s batch=%d%s threads=%s" % (
                    os.path.basename(path), batch, "" if seq is None else " seq=%d" % seq,
                    ",".join(str(t) for t in args.threads))
                print("running %s ..." % label, file=sys.stderr, flush=True)
                try:
                    rows += bench_one(args, path, model, batch, seq, args.threads, runs)
                except (BenchError, compare.CompareError) as e:
                    errors.append("%s: %s" % (label, e))
                    print("bench.py: error: %s: %s" % (label, e), file=sys.stderr, flush=True)

    if rows:
        print()
        if args.ort_only:
            print("| model | shape | threads | ORT median ms | ORT min ms |")
            print("|---|---|---:|---:|---:|")
            for r in rows:
                print("| %s | %s | %d | %.3f | %.3f |" % (
                    r["model"], r["shape"], r["threads"], r["ort"][0], r["ort"][1]))
        else:
            head, rule = "", ""
            if args.unfused:
                head, rule = head + "| Tessera --fuse=false median ms ", rule + "---:|"
            if args.dynamic:
                head += "| Tessera dynamic median ms | dyn/pinned | ORT/dynamic "
                rule += "---:|---:|---:|"
            print("| model | shape | threads | Tessera median ms | Tessera min ms "
                  "%s| ORT median ms | ORT min ms | ORT/Tessera |" % head)
            print("|---|---|---:|---:|---:|%s---:|---:|---:|" % rule)
            for r in rows:
                extra = "%.3f | " % r["unfused"][0] if args.unfused else ""
                if args.dynamic:
                    extra += "%.3f | %.3f | %.2fx | " % (
                        r["dynamic"][0], r["dynamic"][0] / r["tessera"][0],
                        r["ort"][0] / r["dynamic"][0])
                print("| %s | %s | %d | %.3f | %.3f | %s%.3f | %.3f | %.2fx |" % (
                    r["model"], r["shape"], r["threads"], r["tessera"][0], r["tessera"][1],
                    extra, r["ort"][0], r["ort"][1], r["ort"][0] / r["tessera"][0]))
            print()
            print("Timed runs after one warm-up each (%d; %d for GPT-2-base), in %d "
                  "alternating rounds; ORT's times less its output copy. "
                  "Tessera vs ORT outputs:" % (args.runs, args.gpt2_runs,
                                               max(r["rounds"] for r in rows)))
            for r in rows:
                print("- %s (%s, %d threads): %s; ORT's output copy %.1f ms; "
                      "compiled in %.1f s" % (r["model"], r["shape"], r["threads"], r["diff"],
                                              r["ort_copy"], r["compile_s"]))
            for r in rows:
                one = next((o for o in rows if o["threads"] == 1 and o["model"] == r["model"]
                            and o["shape"] == r["shape"]), None)
                if one is not None and r["threads"] > 1:
                    print("- %s (%s): %d threads over 1, medians of the same rounds: "
                          "Tessera %.2fx, ORT %.2fx" % (
                              r["model"], r["shape"], r["threads"],
                              one["tessera"][0] / r["tessera"][0], one["ort"][0] / r["ort"][0]))
    if args.plot and rows and not args.ort_only:
        try:
            plot(rows, args.plot, args)
        except BenchError as e:
            errors.append(str(e))
    for e in errors:
        print("error: %s" % e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
