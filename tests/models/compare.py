#!/usr/bin/python3
"""Compiles one generated Transformer model with Tessera and compares it with
ONNX Runtime on random inputs, at several batch sizes and sequence lengths.

    compare.py --model M.onnx --compiler tessera-compile --runner tessera-run
               [--batches 1,3] [--seqs 1,7,128] [--work-dir DIR] [--threads 1]
               [--vocab V] [--seed 0] [--ort-script tools/ort/run.js]
    compare.py --model M.onnx --ort-only      # pipeline self-check: ORT vs ORT

For each (batch, seq) configuration:
- inputs, from a seed derived from (--seed, batch, seq):
  * integer inputs whose name contains "mask": attention masks of ones; for
    batch > 1 every row but the first has 1..seq-1 padded (zero) positions at
    its end, so no row is all padding (models that mask with -inf give NaN
    for such a row);
  * other integer inputs: token ids uniform in [0, vocab), with vocab read
    from the shape of the embedding Gather initializer that the input indexes
    (else --vocab, default 100);
  * float inputs (ViT's pixel_values): normal(0, 1).
  Dynamic dimensions are sized by their ONNX dim_param: "batch" (or any
  dynamic axis 0) is the batch size; a name containing "tgt" (the
  encoder-decoder Transformer's tgt_seq) is max(1, seq - 2), so source and
  target lengths differ and cross-attention is not square; any other dynamic
  dimension is seq. A KV-cache model (a dim named like Optimum's
  "past_sequence_length") is run at every past length of --pasts too: that
  dim is the past length P, and "past_sequence_length + sequence_length"
  (the attention mask's and the present outputs') is P + seq. A model whose
  only dynamic dimension is the batch (ViT) is run once per batch size,
  whatever --seqs says.
- ONNX Runtime: node tools/ort/run.js (threads as --threads).
- Tessera: tessera-compile with --shape pinning every dynamic input, then
  tessera-run --threads N --quiet. With --dynamic, the model is compiled
  once without --shape and that one library runs every configuration; the
  configurations listed in --pinned are also compiled pinned, and the two
  builds must agree to 1e-5 * max(1, max |pinned|).
- Pass iff every output has ORT's shape and dtype, is finite where ORT's is,
  and max |tessera - ort| <= 1e-4 * max(1, max |ort|), never less than
  --ulps (default 1) ulps of the outputs' type at that scale.
- With --check-unfused, the model is also compiled with --fuse=false (the
  graph as exported, no Transformer fusions) and run on the same inputs; the
  fused outputs must then also agree with those to
  1e-5 * max(1, max |unfused|).
  With --ort-only, the Tessera side is a second, independent ORT run and the
  outputs must be bitwise equal.

Prints one line per configuration, then exactly "N passed, M failed"; exits 0
iff nothing failed.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ORT_SCRIPT = os.path.normpath(os.path.join(HERE, "..", "..", "tools", "ort", "run.js"))
REL_TOL = 1e-4
UNFUSED_REL_TOL = 1e-5
# The dynamic build against a build pinned to the same shapes: the same
# tiles and the same reduction order, so only rounding of remainder paths.
PINNED_REL_TOL = 1e-5
COMPILE_TIMEOUT = 600
RUN_TIMEOUT = 300

NP_TYPES = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.FLOAT16: np.float16,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32,
    onnx.TensorProto.INT8: np.int8,
    onnx.TensorProto.UINT8: np.uint8,
    onnx.TensorProto.BOOL: np.bool_,
}


class CompareError(Exception):
    pass


def int_list(text, what, least=1):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("%s: expected comma-separated integers, got %r" % (what, text))
    if not values or any(v < least for v in values):
        raise argparse.ArgumentTypeError("%s: expected integers >= %d, got %r"
                                         % (what, least, text))
    return values


def pair_list(text):
    pairs = set()
    for item in (t for t in text.split(",") if t.strip()):
        b, _, rest = item.partition("x")
        q, _, past = rest.partition("x")
        try:
            pairs.add((int(b), int(q) if q else None, int(past) if past else None))
        except ValueError:
            raise argparse.ArgumentTypeError("--pinned: expected BATCHxSEQ[xPAST],..., got %r"
                                             % text)
    return pairs


def parse_args(argv):
    p = argparse.ArgumentParser(description="Compare Tessera with ONNX Runtime on one model.")
    p.add_argument("--model", required=True, help="a model from tests/models/generate.py")
    p.add_argument("--compiler", help="tessera-compile binary")
    p.add_argument("--runner", help="tessera-run binary")
    p.add_argument("--work-dir", help="scratch directory (default: temporary, removed)")
    p.add_argument("--batches", default="1,3", type=lambda s: int_list(s, "--batches"),
                   help="comma-separated batch sizes (default: 1,3)")
    p.add_argument("--seqs", default="1,7,128", type=lambda s: int_list(s, "--seqs"),
                   help="comma-separated sequence lengths (default: 1,7,128)")
    p.add_argument("--pasts", default="0,5", type=lambda s: int_list(s, "--pasts", 0),
                   help="comma-separated past lengths for KV-cache models (default: 0,5)")
    p.add_argument("--vocab", type=int,
                   help="token id range when the model has no embedding Gather initializer "
                        "(default: read from the model, else 100)")
    p.add_argument("--threads", type=int, default=1, help="threads for both runtimes (default: 1)")
    p.add_argument("--seed", type=int, default=0, help="input seed (default: 0)")
    p.add_argument("--ort-script", default=DEFAULT_ORT_SCRIPT,
                   help="ONNX Runtime runner (default: %(default)s)")
    p.add_argument("--node", default="node", help="Node.js binary (default: node)")
    p.add_argument("--check-unfused", action="store_true",
                   help="also compile with --fuse=false and require the fused and unfused "
                        "outputs to agree to 1e-5 relative")
    p.add_argument("--compile-flag", action="append", default=[],
                   help="extra tessera-compile flag (repeatable), e.g. --compile-flag=--fuse=false")
    p.add_argument("--dynamic", action="store_true",
                   help="compile once without --shape (and once with --fuse=false for "
                        "--check-unfused) and run every configuration from that library")
    p.add_argument("--pinned", default="", type=pair_list,
                   help="with --dynamic: configurations BATCHxSEQ[xPAST],... also compiled "
                        "pinned; "
                        "the dynamic build must agree with the pinned one to 1e-5 relative")
    p.add_argument("--ulps", type=int, default=1,
                   help="never ask for less than this many ulps of the outputs' type, at their "
                        "largest magnitude (default: 1)")
    p.add_argument("--ort-only", action="store_true",
                   help="self-check the pipeline: compare ORT with a second ORT run (bitwise)")
    args = p.parse_args(argv)
    if not args.ort_only:
        for opt in ("compiler", "runner"):
            if not getattr(args, opt):
                p.error("--%s is required (unless --ort-only)" % opt)
    if args.threads < 1:
        p.error("--threads must be at least 1")
    if args.vocab is not None and args.vocab < 1:
        p.error("--vocab must be positive")
    return args


# ------------------------------------------------------------------ inputs


def model_inputs(model):
    inits = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def embedding_vocab(model, input_name):
    """Rows of the initializer that a Gather indexes with `input_name`."""
    inits = {i.name: i for i in model.graph.initializer}
    identity = {n.output[0]: n.input[0] for n in model.graph.node if n.op_type == "Identity"}
    sizes = []
    for node in model.graph.node:
        if node.op_type != "Gather" or len(node.input) < 2 or node.input[1] != input_name:
            continue
        axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
        data = node.input[0]
        while data not in inits and data in identity:
            data = identity[data]
        if data in inits and axis == 0 and len(inits[data].dims) >= 1:
            sizes.append(int(inits[data].dims[0]))
    return min(sizes) if sizes else None


def named_size(name, seq, past):
    """The size of a dynamic non-batch dim named `name`."""
    if "+" in name:
        return sum(named_size(part.strip(), seq, past) for part in name.split("+"))
    if "past" in name:
        return past or 0
    if "tgt" in name:
        return max(1, seq - 2)
    return seq


def is_past_dim(name):
    return "past" in name


def dim_sizes(value, batch, seq, past=None):
    dims = []
    for axis, d in enumerate(value.type.tensor_type.shape.dim):
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif d.dim_param in ("batch", "batch_size") or axis == 0:
            dims.append(batch)
        else:
            dims.append(named_size(d.dim_param, seq, past))
    return dims


def is_dynamic(value):
    return any(not d.HasField("dim_value") for d in value.type.tensor_type.shape.dim)


def has_seq_axis(value):
    return any(not d.HasField("dim_value") and axis != 0 and d.dim_param != "batch"
               for axis, d in enumerate(value.type.tensor_type.shape.dim))


def make_inputs(model, batch, seq, seed, vocab_override, past=None):
    rng = np.random.default_rng([seed, batch, seq] + ([] if past is None else [past]))
    arrays = {}
    for value in model_inputs(model):
        et = value.type.tensor_type.elem_type
        if et not in NP_TYPES:
            raise CompareError("input %s has element type %s, which this script cannot fill"
                               % (value.name, onnx.TensorProto.DataType.Name(et)))
        dtype = NP_TYPES[et]
        shape = dim_sizes(value, batch, seq, past)
        if np.issubdtype(dtype, np.floating):
            arrays[value.name] = rng.standard_normal(shape).astype(dtype)
        elif "mask" in value.name.lower():
            mask = np.ones(shape, dtype=dtype)
            if len(shape) != 2:
                raise CompareError("mask input %s has rank %d, expected [batch, seq]"
                                   % (value.name, len(shape)))
            b, s = shape
            for row in range(1, b):
                if s > 1:
                    pad = int(rng.integers(1, s))  # 1..s-1 padded, >= 1 kept
                    mask[row, s - pad:] = 0
            arrays[value.name] = mask
        else:
            vocab = vocab_override or embedding_vocab(model, value.name) or 100
            arrays[value.name] = rng.integers(0, vocab, size=shape).astype(dtype)
    return arrays


# ------------------------------------------------------------------- tools


def run(cmd, timeout, what):
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CompareError("%s timed out after %d s" % (what, timeout))
    except OSError as e:
        raise CompareError("%s could not start: %s" % (what, e))
    if proc.returncode != 0:
        err = " | ".join(l.strip() for l in proc.stderr.decode("utf-8", "replace").splitlines()
                         if l.strip()) or "(no message)"
        if len(err) > 400:
            err = err[:397] + "..."
        how = "exit %d" % proc.returncode if proc.returncode > 0 else "signal %d" % -proc.returncode
        raise CompareError("%s failed (%s): %s" % (what, how, err))
    return proc.stdout.decode("utf-8", "replace")


def sanitize(name):
    return name.replace("/", "_").replace(":", "_")


def read_outputs(model, out_dir, who):
    outs = {}
    for value in model.graph.output:
        path = os.path.join(out_dir, sanitize(value.name) + ".npy")
        if not os.path.isfile(path):
            raise CompareError("%s wrote no output %s (%s)" % (who, value.name, path))
        outs[value.name] = np.load(path, allow_pickle=False)
    return outs


def run_ort(args, model_path, files, out_dir):
    cmd = [args.node, args.ort_script, model_path]
    for name, path in files.items():
        cmd += ["--input", "%s=%s" % (name, path)]
    cmd += ["--output-dir", out_dir, "--threads", str(args.threads), "--quiet"]
    run(cmd, RUN_TIMEOUT, "onnxruntime")


def compile_tessera(args, model, model_path, lib, flags=(), arrays=None):
    """Compiles to `lib`; with `arrays`, every dynamic input pinned to its shape."""
    cmd = [args.compiler, model_path, "-o", lib] + list(args.compile_flag) + list(flags)
    for value in model_inputs(model) if arrays is not None else ():
        if is_dynamic(value):
            cmd += ["--shape", "%s=%s" % (value.name, "x".join(str(d) for d in arrays[value.name].shape))]
    run(cmd, COMPILE_TIMEOUT, "tessera-compile")
    return lib


def run_library(args, lib, files, out_dir):
    cmd = [args.runner, lib]
    for name, path in files.items():
        cmd += ["--input", "%s=%s" % (name, path)]
    cmd += ["--output-dir", out_dir, "--threads", str(args.threads), "--quiet"]
    run(cmd, RUN_TIMEOUT, "tessera-run")
    return out_dir


def run_tessera(args, model, model_path, files, arrays, work, flags=(), tag="tessera"):
    """Compiles for these inputs' shapes (or uses args.libraries[tag], the
    library compiled once without --shape) and runs it."""
    lib = args.libraries.get(tag) if args.dynamic else None
    if lib is None:
        lib = compile_tessera(args, model, model_path, os.path.join(work, tag + ".so"), flags,
                              arrays)
    return run_library(args, lib, files, os.path.join(work, tag))


def check(name, ref, got, exact, tol=REL_TOL, who="ORT", ulps=1):
    """(ok, description)."""
    if got.shape != ref.shape:
        return False, "%s: shape %s, %s %s" % (name, list(got.shape), who, list(ref.shape))
    if got.dtype != ref.dtype:
        return False, "%s: dtype %s, %s %s" % (name, got.dtype, who, ref.dtype)
    if ref.size == 0:
        return True, "%s: empty" % name
    if exact:
        same = ref.tobytes() == got.tobytes()
        return same, "%s: %s" % (name, "bitwise equal" if same else "not bitwise equal")
    if ref.dtype.kind not in "fc":
        diff = int(np.count_nonzero(ref != got))
        return diff == 0, "%s: %d elements differ" % (name, diff)
    r = ref.astype(np.float64)
    g = got.astype(np.float64)
    if not np.isfinite(r).all():
        return False, "%s: %s output has %d non-finite values" % (name, who, int((~np.isfinite(r)).sum()))
    if not np.isfinite(g).all():
        bad = np.argwhere(~np.isfinite(g))[0]
        return False, "%s: %d non-finite values, first at %s" % (
            name, int((~np.isfinite(g)).sum()), bad.tolist())
    err = np.abs(g - r)
    scale = max(1.0, float(np.abs(r).max()))
    # Never tighter than `ulps` ulps of the outputs' type (float16's is 1e-3).
    tol = max(tol, ulps * float(np.finfo(ref.dtype).eps)) * scale
    worst = np.unravel_index(int(np.argmax(err)), err.shape)
    max_err = float(err[worst])
    desc = "%s: max abs err %.3g (tol %.3g)" % (name, max_err, tol)
    if max_err > tol:
        desc += " at %s (tessera %.6g, %s %.6g)" % (list(int(i) for i in worst), g[worst], who,
                                                   r[worst])
    return max_err <= tol, desc


def has_past_axis(model):
    return any(not d.HasField("dim_value") and is_past_dim(d.dim_param)
               for v in model_inputs(model) for d in v.type.tensor_type.shape.dim)


def configurations(model, batches, seqs, pasts):
    if has_past_axis(model):
        return [(b, s, p) for b in batches for s in seqs for p in pasts]
    if any(has_seq_axis(v) for v in model_inputs(model)):
        return [(b, s, None) for b in batches for s in seqs]
    return [(b, None, None) for b in batches]


def compare_one(args, model, batch, seq, past, work):
    os.makedirs(work, exist_ok=True)
    arrays = make_inputs(model, batch, seq or 1, args.seed, args.vocab, past)
    files = {}
    in_dir = os.path.join(work, "inputs")
    os.makedirs(in_dir, exist_ok=True)
    for name, a in arrays.items():
        files[name] = os.path.join(in_dir, sanitize(name) + ".npy")
        np.save(files[name], a)
    ort_dir = os.path.join(work, "ort")
    run_ort(args, args.model, files, ort_dir)
    ref = read_outputs(model, ort_dir, "onnxruntime")
    if args.ort_only:
        other = os.path.join(work, "ort2")
        run_ort(args, args.model, files, other)
        got = read_outputs(model, other, "onnxruntime (second run)")
    else:
        got = read_outputs(model, run_tessera(args, model, args.model, files, arrays, work), "tessera-run")
    ok = True
    descs = []
    for value in model.graph.output:
        good, desc = check(value.name, ref[value.name], got[value.name], args.ort_only,
                           ulps=args.ulps)
        ok &= good
        descs.append(desc)
    def agree_with(tag, flags, tol, label):
        """Runs another Tessera build on the same inputs; its outputs and
        the main build's must agree to `tol`."""
        other = read_outputs(model, run_tessera(args, model, args.model, files, arrays, work,
                                                flags, tag),
                             "tessera-run (%s)" % label)
        good_all = True
        for value in model.graph.output:
            good, desc = check(value.name, other[value.name], got[value.name], False, tol, tag)
            good_all &= good
            descs.append("vs %s %s" % (label, desc))
        return good_all

    if args.dynamic and (batch, seq, past) in args.pinned and not args.ort_only:
        ok &= agree_with("pinned", [], PINNED_REL_TOL, "pinned build")
    if args.check_unfused and not args.ort_only:
        ok &= agree_with("unfused", ["--fuse=false"], UNFUSED_REL_TOL, "--fuse=false")
    shapes = ", ".join("%s %s" % (n, "x".join(str(d) for d in a.shape)) for n, a in arrays.items())
    return ok, "%s; %s" % (shapes, "; ".join(descs))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    for path, what in ((args.model, "--model"), (args.ort_script, "--ort-script")):
        if not os.path.isfile(path):
            print("compare.py: error: %s %s does not exist" % (what, path), file=sys.stderr)
            return 2
    try:
        model = onnx.load(args.model, load_external_data=False)
    except Exception as e:
        print("compare.py: error: cannot read %s: %s" % (args.model, e), file=sys.stderr)
        return 2
    args.model = os.path.abspath(args.model)
    stem = os.path.splitext(os.path.basename(args.model))[0]
    temp = None
    if not args.work_dir:
        temp = args.work_dir = tempfile.mkdtemp(prefix="tessera-compare-")
    root = os.path.join(os.path.abspath(args.work_dir), stem)

    passed = failed = 0
    args.libraries = {}
    try:
        if args.dynamic and not args.ort_only:
            os.makedirs(root, exist_ok=True)
            try:
                args.libraries["tessera"] = compile_tessera(
                    args, model, args.model, os.path.join(root, "dynamic.so"))
                if args.check_unfused:
                    args.libraries["unfused"] = compile_tessera(
                        args, model, args.model, os.path.join(root, "dynamic-unfused.so"),
                        ["--fuse=false"])
            except CompareError as e:
                print("FAIL %s: compiling once without --shape: %s" % (stem, e))
                print("0 passed, 1 failed")
                return 1
        for batch, seq, past in configurations(model, args.batches, args.seqs, args.pasts):
            label = "%s batch=%d%s%s" % (stem, batch, "" if seq is None else " seq=%d" % seq,
                                         "" if past is None else " past=%d" % past)
            work = os.path.join(root, "b%d" % batch + ("" if seq is None else "_s%d" % seq)
                                + ("" if past is None else "_p%d" % past))
            shutil.rmtree(work, ignore_errors=True)
            try:
                ok, desc = compare_one(args, model, batch, seq, past, work)
            except CompareError as e:
                ok, desc = False, str(e)
            if ok:
                passed += 1
            else:
                failed += 1
            print("%s %s: %s" % ("PASS" if ok else "FAIL", label, desc), flush=True)
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
