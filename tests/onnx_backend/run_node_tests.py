#!/usr/bin/python3
"""Runs ONNX's backend node tests (libonnx-testdata) through Tessera.

For every test directory (model.onnx + test_data_set_*/input_N.pb,
output_N.pb) under --data-dir:

1. Applicability. A test is "not applicable" (not a failure) when it is
   outside what Tessera claims to support: a node (also inside subgraphs and
   model-local functions) whose op is not in Tessera's operator list or whose
   domain is not the default one, a default-domain opset newer than 21, or a
   graph input/output that is not a tensor of an element type Tessera has
   (f16 bf16 f32 f64, 8-64 bit ints, bool; not string or complex, nor a
   sequence/optional/map value). A model older than opset 13 whose ops are all
   supported is converted to opset 13 with onnx.version_converter into the
   work dir (else Conv and Einsum, whose node tests are opset 11/12, would
   have none); --no-convert makes those "not applicable" instead.
2. Compile: tessera-compile model.onnx -o model.so, with --shape NAME=DIMS for
   every graph input that has a dynamic (or unknown) dimension, taken from
   test_data_set_0's input shapes. Timeout 60 s.
3. Run, for each data set: tessera-run model.so --input NAME=input_N.pb ...
   --output-dir DIR --threads 1 --quiet. input_N.pb is bound to the input
   named by its TensorProto name when that is a graph input, else to the N-th
   graph input that is not an initializer. Timeout 30 s.
4. Compare each output_N.pb with DIR/NAME.npy (NAME = the N-th graph output,
   '/' and ':' replaced by '_'): same shape, same dtype, and values equal
   (bool/int) or numpy.allclose(rtol=1e-3, atol=1e-5, equal_nan=True).

Results: PASS, FAIL (one-line reason), XFAIL (failed, listed in the
allowlist), XPASS (passed but listed: counts as a failure so the list stays
honest), N/A. The last line is exactly "N passed, M failed" (M counts FAIL
and XPASS); exit status 0 iff M == 0.

Allowlist: one test per line, "test_name  # reason"; blank lines and
full-line comments are allowed. An entry without a reason is an error.

    run_node_tests.py --compiler tessera-compile --runner tessera-run \\
        --allowlist allowlist.txt [--work-dir DIR] [-j N] [--filter REGEX]
    run_node_tests.py --list-applicable [--filter REGEX]
"""

import argparse
import collections
import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

DEFAULT_DATA_DIR = "/usr/share/libonnx-testdata/data/node"

# Tessera's operators (README "Supported ONNX"), default domain only.
SUPPORTED_OPS = frozenset(
    """
    Add Sub Mul Div Pow Sqrt Reciprocal Neg Abs Exp Log Erf Tanh Sigmoid Relu
    Gelu Softmax LogSoftmax MatMul Gemm LayerNormalization ReduceMean ReduceSum
    ReduceMax ReduceMin Reshape Transpose Gather Shape Size Unsqueeze Squeeze
    Flatten Concat Slice Split Expand Tile Cast CastLike Constant
    ConstantOfShape Range Where Equal Less Greater LessOrEqual GreaterOrEqual
    Not And Or Max Min Clip Trilu Identity Dropout Conv Einsum
    """.split()
)
MIN_OPSET, MAX_OPSET = 13, 21

T = onnx.TensorProto
SUPPORTED_ELEM_TYPES = frozenset(
    [T.FLOAT, T.DOUBLE, T.FLOAT16, T.BFLOAT16, T.INT8, T.INT16, T.INT32,
     T.INT64, T.UINT8, T.UINT16, T.UINT32, T.UINT64, T.BOOL]
)

COMPILE_TIMEOUT = 60
RUN_TIMEOUT = 30
RTOL, ATOL = 1e-3, 1e-5


class UsageError(Exception):
    pass


def sanitize(name):
    return name.replace("/", "_").replace(":", "_")


def is_default_domain(domain):
    return domain in ("", "ai.onnx")


def elem_type_name(t):
    try:
        return T.DataType.Name(t)
    except ValueError:
        return str(t)


# ------------------------------------------------------------ applicability


def walk_nodes(graph):
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.HasField("g"):
                yield from walk_nodes(attr.g)
            for g in attr.graphs:
                yield from walk_nodes(g)


def all_nodes(model):
    yield from walk_nodes(model.graph)
    for func in model.functions:  # a FunctionProto has .node like a graph
        yield from walk_nodes(func)


def value_type_problem(value):
    """Why a graph input/output is outside Tessera's types, or None."""
    kind = value.type.WhichOneof("value")
    if kind != "tensor_type":
        return "%s '%s' is a %s, not a tensor" % (
            "value", value.name, (kind or "untyped").replace("_type", ""))
    et = value.type.tensor_type.elem_type
    if et not in SUPPORTED_ELEM_TYPES:
        return "'%s' has element type %s" % (value.name, elem_type_name(et))
    return None


def applicability(model, convert=True):
    """(reason, ops, convert_from): reason is None if Tessera should handle the
    model; convert_from is the model's opset when it is older than 13 and must
    be converted to opset 13 first (only with convert=True)."""
    ops = sorted({n.op_type for n in all_nodes(model)})
    for node in all_nodes(model):
        if not is_default_domain(node.domain):
            return "domain '%s' (op %s) outside Tessera's op list" % (
                node.domain, node.op_type), ops, None
    for node in all_nodes(model):
        if node.op_type not in SUPPORTED_OPS:
            return "op %s outside Tessera's op list" % node.op_type, ops, None
    opsets = [o.version for o in model.opset_import if is_default_domain(o.domain)]
    if not opsets:
        return "no default-domain opset", ops, None
    convert_from = None
    if opsets[0] < MIN_OPSET and convert:
        convert_from = opsets[0]
    elif not MIN_OPSET <= opsets[0] <= MAX_OPSET:
        return "opset %d outside %d-%d" % (opsets[0], MIN_OPSET, MAX_OPSET), ops, None
    for value in list(model.graph.input) + list(model.graph.output):
        problem = value_type_problem(value)
        if problem:
            return "type outside Tessera's: %s" % problem, ops, None
    for node in all_nodes(model):
        for attr in node.attribute:
            if node.op_type in ("Cast",) and attr.name == "to" and \
                    attr.i not in SUPPORTED_ELEM_TYPES:
                return "type outside Tessera's: Cast to %s" % elem_type_name(attr.i), ops, None
            if attr.HasField("t") and attr.t.data_type not in SUPPORTED_ELEM_TYPES:
                return "type outside Tessera's: %s attribute of type %s" % (
                    node.op_type, elem_type_name(attr.t.data_type)), ops, None
    return None, ops, convert_from


def convert_to_min_opset(model, path):
    """Writes `model` converted to opset 13 (onnx.version_converter) to path."""
    import onnx.version_converter
    converted = onnx.version_converter.convert_version(model, MIN_OPSET)
    onnx.checker.check_model(converted, full_check=True)
    onnx.save(converted, path)


# ------------------------------------------------------------------- tests


Test = collections.namedtuple("Test", "name dir")
Result = collections.namedtuple("Result", "name status reason")


def discover(data_dir, pattern):
    if not os.path.isdir(data_dir):
        raise UsageError("--data-dir %s is not a directory" % data_dir)
    tests = []
    for name in sorted(os.listdir(data_dir)):
        d = os.path.join(data_dir, name)
        if not os.path.isfile(os.path.join(d, "model.onnx")):
            continue
        if pattern and not re.search(pattern, name):
            continue
        tests.append(Test(name, d))
    return tests


def data_sets(test_dir):
    sets = [d for d in os.listdir(test_dir) if d.startswith("test_data_set_")]
    sets.sort(key=lambda s: int(s.rsplit("_", 1)[1]) if s.rsplit("_", 1)[1].isdigit() else 1 << 30)
    return [os.path.join(test_dir, s) for s in sets]


def numbered(dir_, prefix):
    """[dir/prefix_0.pb, dir/prefix_1.pb, ...] in numeric order."""
    files = []
    for f in os.listdir(dir_):
        m = re.fullmatch(re.escape(prefix) + r"_(\d+)\.pb", f)
        if m:
            files.append((int(m.group(1)), os.path.join(dir_, f)))
    return [f for _, f in sorted(files)]


def load_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


def graph_inputs(model):
    inits = {i.name for i in model.graph.initializer}
    inits |= {i.values.name for i in model.graph.sparse_initializer}
    return [i for i in model.graph.input if i.name not in inits]


def bind_inputs(model, set_dir):
    """[(graph input name, path to input_N.pb, TensorProto)] for one data set."""
    inputs = graph_inputs(model)
    names = [i.name for i in inputs]
    bound = []
    for n, path in enumerate(numbered(set_dir, "input")):
        t = load_tensor(path)
        if t.name and t.name in names:
            name = t.name
        elif n < len(names):
            name = names[n]
        else:
            raise RuntimeError("%s: more input files than the model's %d inputs"
                               % (os.path.relpath(path, os.path.dirname(set_dir)), len(names)))
        bound.append((name, path, t))
    return bound


def shape_pins(model, bound):
    """--shape arguments for inputs with a dynamic or unknown dimension."""
    by_name = {name: t for name, _, t in bound}
    pins = []
    for value in graph_inputs(model):
        tt = value.type.tensor_type
        if value.name not in by_name:
            continue
        dims = list(by_name[value.name].dims)
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            continue  # fully static
        if not dims:
            continue  # a scalar: nothing to pin, and DIMS cannot be empty
        pins += ["--shape", "%s=%s" % (value.name, "x".join(str(d) for d in dims))]
    return pins


def one_line(text, limit=300):
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    if not lines:
        return "(no message)"
    msg = " | ".join(lines)
    # Drop the tool prefix to keep the line short.
    msg = re.sub(r"^(tessera-compile|tessera-run): error: ", "", msg)
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


def run_tool(cmd, timeout, what):
    """None on success, else a one-line reason."""
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "%s timed out after %d s" % (what, timeout)
    except OSError as e:
        return "%s could not start: %s" % (what, e)
    if proc.returncode == 0:
        return None
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode < 0:
        try:
            sig = signal.Signals(-proc.returncode).name
        except ValueError:
            sig = str(-proc.returncode)
        return "%s crashed (%s): %s" % (what, sig, one_line(err, 200))
    if not err.strip():
        return "%s failed with exit status %d and no message" % (what, proc.returncode)
    return "%s error: %s" % (what, one_line(err))


def bf16_bits_to_f32(a):
    return (a.astype(np.uint32) << 16).view(np.float32)


def compare(name, expected, got):
    """None if equal, else a one-line reason."""
    if tuple(got.shape) != tuple(expected.shape):
        return "output %s: shape %s, expected %s" % (name, list(got.shape), list(expected.shape))
    if got.dtype != expected.dtype:
        return "output %s: dtype %s, expected %s" % (name, got.dtype, expected.dtype)
    if expected.size == 0:
        return None
    if expected.dtype.kind in "biu" or expected.dtype == np.bool_:
        diff = got != expected
        if not diff.any():
            return None
        idx = tuple(int(i) for i in np.argwhere(diff)[0])
        return "output %s: %d of %d elements differ, first at %s: got %s, expected %s" % (
            name, int(diff.sum()), expected.size, list(idx), got[idx], expected[idx])
    g = got.astype(np.float64)
    e = expected.astype(np.float64)
    if np.allclose(g, e, rtol=RTOL, atol=ATOL, equal_nan=True):
        return None
    both_nan = np.isnan(g) & np.isnan(e)
    with np.errstate(invalid="ignore"):
        err = np.where(both_nan, 0.0, np.abs(g - e))
    err = np.where(np.isnan(err), np.inf, err)  # NaN on one side only
    bad = ~np.isclose(g, e, rtol=RTOL, atol=ATOL, equal_nan=True)
    flat = int(np.argmax(err))
    idx = tuple(int(i) for i in np.unravel_index(flat, err.shape))
    return "output %s: max abs error %.3g at %s (got %.6g, expected %.6g), %d of %d elements off" % (
        name, err[idx], list(idx), g[idx], e[idx], int(bad.sum()), e.size)


def expected_array(model, out_value, proto):
    """The expected numpy array; bf16 is compared as float32."""
    arr = numpy_helper.to_array(proto)
    if out_value.type.tensor_type.elem_type == T.BFLOAT16 and arr.dtype == np.uint16:
        return bf16_bits_to_f32(arr), True
    return arr, False


def run_test(test, args):
    """(status, reason) with status PASS / FAIL / NA."""
    try:
        model = onnx.load(os.path.join(test.dir, "model.onnx"), load_external_data=False)
    except Exception as e:  # a broken model file in the data set
        return "FAIL", "cannot read model.onnx with onnx: %s" % one_line(str(e))
    reason, _, convert_from = applicability(model, not args.no_convert)
    if reason:
        return "NA", reason
    sets = data_sets(test.dir)
    if not sets:
        return "FAIL", "no test_data_set_* directory"
    try:
        bound0 = bind_inputs(model, sets[0])
    except Exception as e:
        return "FAIL", "bad test data: %s" % one_line(str(e))

    work = os.path.join(args.work_dir, test.name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    lib = os.path.join(work, "model.so")
    model_path = os.path.join(test.dir, "model.onnx")
    if convert_from is not None:
        model_path = os.path.join(work, "model.opset%d.onnx" % MIN_OPSET)
        try:
            convert_to_min_opset(model, model_path)
        except Exception as e:
            return "NA", "opset %d outside %d-%d, and onnx's version converter failed: %s" % (
                convert_from, MIN_OPSET, MAX_OPSET, one_line(str(e), 150))
    cmd = [args.compiler, model_path, "-o", lib] + shape_pins(model, bound0)
    err = run_tool(cmd, COMPILE_TIMEOUT, "compile")
    if err:
        return "FAIL", err.replace(model_path + ": ", "")
    if not os.path.isfile(lib):
        return "FAIL", "compile succeeded but wrote no %s" % os.path.basename(lib)

    outputs = list(model.graph.output)
    for k, set_dir in enumerate(sets):
        label = "" if len(sets) == 1 else "data set %d: " % k
        try:
            bound = bound0 if k == 0 else bind_inputs(model, set_dir)
        except Exception as e:
            return "FAIL", "%sbad test data: %s" % (label, one_line(str(e)))
        out_dir = os.path.join(work, "out_%d" % k)
        os.makedirs(out_dir)
        cmd = [args.runner, lib]
        declared = {i.name: i.type.tensor_type.elem_type for i in graph_inputs(model)}
        for name, path, tensor in bound:
            # ONNX's test data stores bfloat16 inputs as UINT16 bits: re-tag
            # them as BFLOAT16 (same bytes) for a bfloat16 model input.
            if (declared.get(name) == onnx.TensorProto.BFLOAT16
                    and tensor.data_type == onnx.TensorProto.UINT16):
                fixed = onnx.TensorProto()
                fixed.CopyFrom(tensor)
                fixed.data_type = onnx.TensorProto.BFLOAT16
                path = os.path.join(out_dir, "bf16_%s.pb" % sanitize(name))
                with open(path, "wb") as f:
                    f.write(fixed.SerializeToString())
            cmd += ["--input", "%s=%s" % (name, path)]
        cmd += ["--output-dir", out_dir, "--threads", "1", "--quiet"]
        err = run_tool(cmd, RUN_TIMEOUT, "run")
        if err:
            return "FAIL", label + err
        expected_files = numbered(set_dir, "output")
        if len(expected_files) != len(outputs):
            return "FAIL", "%s%d output files for %d graph outputs" % (
                label, len(expected_files), len(outputs))
        for value, path in zip(outputs, expected_files):
            got_path = os.path.join(out_dir, sanitize(value.name) + ".npy")
            if not os.path.isfile(got_path):
                return "FAIL", "%soutput %s was not written (%s)" % (
                    label, value.name, os.path.basename(got_path))
            try:
                got = np.load(got_path, allow_pickle=False)
            except Exception as e:
                return "FAIL", "%soutput %s: unreadable .npy: %s" % (label, value.name, one_line(str(e)))
            proto = load_tensor(path)
            expected, is_bf16 = expected_array(model, value, proto)
            if is_bf16 and got.dtype == np.uint16:  # NPY has no bf16: raw bits
                got = bf16_bits_to_f32(got)
            mismatch = compare(value.name, expected, got)
            if mismatch:
                return "FAIL", label + mismatch
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return "PASS", ""


# --------------------------------------------------------------- allowlist


def read_allowlist(path):
    entries = {}
    if not path:
        return entries
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        raise UsageError("cannot read allowlist %s: %s" % (path, e))
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, hash_, reason = line.partition("#")
        name, reason = name.strip(), reason.strip()
        where = "%s:%d" % (path, lineno)
        if not hash_ or not reason:
            raise UsageError("%s: entry '%s' has no reason (write 'test_name  # reason')"
                             % (where, name))
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
            raise UsageError("%s: '%s' is not a test name" % (where, name))
        if name in entries:
            raise UsageError("%s: '%s' is listed twice" % (where, name))
        entries[name] = reason
    return entries


# -------------------------------------------------------------------- main


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Run ONNX backend node tests through tessera-compile and tessera-run.")
    p.add_argument("--compiler", help="tessera-compile binary")
    p.add_argument("--runner", help="tessera-run binary")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                   help="directory of test_* dirs (default: %(default)s)")
    p.add_argument("--allowlist", help="expected failures, 'test_name  # reason' per line")
    p.add_argument("--work-dir", help="scratch directory (default: a temporary one, removed at the end)")
    p.add_argument("-j", "--jobs", type=int, default=2, help="tests run in parallel (default: 2)")
    p.add_argument("--filter", metavar="REGEX", help="only tests whose name matches (re.search)")
    p.add_argument("--keep", action="store_true", help="keep each passing test's work files")
    p.add_argument("--no-convert", action="store_true",
                   help="count tests whose opset is older than 13 as not applicable instead "
                        "of converting them to opset 13 with onnx.version_converter")
    p.add_argument("--list-applicable", action="store_true",
                   help="print applicable tests and their ops, the op distribution and "
                        "why the others are not applicable; compiles nothing")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("-j must be at least 1")
    if args.filter:
        try:
            re.compile(args.filter)
        except re.error as e:
            p.error("--filter: %s" % e)
    if not args.list_applicable:
        for opt in ("compiler", "runner"):
            path = getattr(args, opt)
            if not path:
                p.error("--%s is required (unless --list-applicable)" % opt)
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                p.error("--%s %s is not an executable file" % (opt, path))
    return args


def list_applicable(tests, convert):
    ops_count = collections.Counter()
    na_count = collections.Counter()
    applicable = converted = 0
    for t in tests:
        model = onnx.load(os.path.join(t.dir, "model.onnx"), load_external_data=False)
        reason, ops, convert_from = applicability(model, convert)
        if reason:
            # Group "op X outside ..." by kind for the summary.
            na_count[re.sub(r"^(op|domain) .*", r"\1 outside Tessera's op list",
                            re.sub(r"^opset \d+ .*", "opset outside 13-21", reason))] += 1
            continue
        applicable += 1
        ops_count.update(ops)
        if convert_from is not None:
            converted += 1
        print("%s: %s%s" % (t.name, " ".join(ops), "" if convert_from is None
                            else "  (converted from opset %d)" % convert_from))
    print()
    print("op distribution (applicable tests using each op):")
    for op, n in sorted(ops_count.items(), key=lambda kv: (-kv[1], kv[0])):
        print("  %-20s %d" % (op, n))
    print("not applicable:")
    for why, n in sorted(na_count.items(), key=lambda kv: -kv[1]):
        print("  %-45s %d" % (why, n))
    print("%d applicable of %d tests (%d of them converted to opset %d)"
          % (applicable, len(tests), converted, MIN_OPSET))
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        tests = discover(args.data_dir, args.filter)
        if args.list_applicable:
            return list_applicable(tests, not args.no_convert)
        allow = read_allowlist(args.allowlist)
    except UsageError as e:
        print("run_node_tests.py: error: %s" % e, file=sys.stderr)
        return 2

    all_names = set(os.listdir(args.data_dir))
    for name in sorted(allow):
        if name not in all_names:
            print("warning: allowlist entry %s names no test in %s" % (name, args.data_dir),
                  file=sys.stderr)

    temp = None
    if not args.work_dir:
        temp = tempfile.mkdtemp(prefix="tessera-node-tests-")
        args.work_dir = temp
    os.makedirs(args.work_dir, exist_ok=True)
    args.work_dir = os.path.abspath(args.work_dir)
    args.compiler = os.path.abspath(args.compiler)
    args.runner = os.path.abspath(args.runner)

    def job(t):
        try:
            status, reason = run_test(t, args)
        except Exception as e:  # a bug in this script must not hide the others
            status, reason = "FAIL", "runner exception: %s: %s" % (type(e).__name__, one_line(str(e)))
        if status == "PASS" and t.name in allow:
            status, reason = "XPASS", "passes but is allowlisted (%s): remove it" % allow[t.name]
        elif status == "FAIL" and t.name in allow:
            status, reason = "XFAIL", "%s [allowlisted: %s]" % (reason, allow[t.name])
        elif status == "NA" and t.name in allow:
            reason += " [stale allowlist entry: %s]" % allow[t.name]
        return Result(t.name, status, reason)

    counts = collections.Counter()
    labels = {"NA": "N/A"}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for r in pool.map(job, tests):
                counts[r.status] += 1
                label = labels.get(r.status, r.status)
                if r.status == "NA":
                    print("%-5s %s: not applicable (%s)" % (label, r.name, r.reason), flush=True)
                else:
                    print("%-5s %s%s" % (label, r.name, ": " + r.reason if r.reason else ""),
                          flush=True)
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)

    failed = counts["FAIL"] + counts["XPASS"]
    print("onnx_backend: %d tests: %d passed, %d failed (%d FAIL, %d XPASS), %d xfail, "
          "%d not applicable" % (len(tests), counts["PASS"], failed, counts["FAIL"],
                                 counts["XPASS"], counts["XFAIL"], counts["NA"]))
    print("%d passed, %d failed" % (counts["PASS"], failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
