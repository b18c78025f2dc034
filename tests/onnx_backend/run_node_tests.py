#!/usr/bin/python3
"""Runs every ONNX backend node test (libonnx-testdata) through Tessera.

For every test directory (model.onnx + test_data_set_*/input_N.pb,
output_N.pb) under --data-dir, with no exceptions (a test Tessera cannot
apply, e.g. one on strings, sequences, optionals, random or training-only
operators, fails and is listed in the allowlist with its reason):

1. Compile: tessera-compile model.onnx -o model.so, with --shape NAME=DIMS for
   every tensor graph input that has a dynamic (or unknown) dimension, taken
   from test_data_set_0's input shapes. Models older than opset 13 are lifted
   by tessera-compile itself. Timeout 60 s.
2. Run, for each data set: tessera-run model.so --input NAME=input_N.pb ...
   --output-dir DIR --threads 1 --quiet. input_N.pb is bound to the input
   named by its TensorProto name when that is a graph input, else to the N-th
   graph input that is not an initializer. Timeout 30 s.
3. Compare each output_N.pb with DIR/NAME.npy (NAME = the N-th graph output,
   '/' and ':' replaced by '_'): same shape, same dtype, and values equal
   (bool/int) or numpy.allclose(rtol=1e-3, atol=1e-7, equal_nan=True),
   ONNX's own backend defaults.

Each failure gets a one-line reason and a short key derived from it: the
category, then what failed, e.g.

    unsupported-op: Bernoulli
    unsupported-type: STRING
    compile-error: <first line of the compiler's error>
    run-error: <first line of tessera-run's error>
    wrong-values: output y          (also wrong-shape, wrong-dtype)
    crash: compile (SIGSEGV)        (also timeout: run, ...)

Allowlist (allowlist.txt), one test per line:

    test_name  # KEY [-- why]
    test_name  # re: REGEX [-- why]
    test_name  # tolerance: rtol=R atol=A -- why

An allowlisted test is an expected failure (XFAIL) only when it fails with
exactly KEY (or its reason matches REGEX, re.search); failing any other way
(a new crash, say) is a FAIL, and passing is an XPASS, which fails the run too
so the list stays honest. A `tolerance:` entry is not an expected failure:
the test must pass with those tolerances instead of the defaults.

The last lines give the overall count, and the final one is exactly
"N passed, M failed" (M counts FAIL and XPASS); the exit status is 0 iff
M == 0.

    run_node_tests.py --compiler tessera-compile --runner tessera-run \\
        --allowlist allowlist.txt [--work-dir DIR] [-j N] [--filter REGEX]
        [--update-allowlist]

--update-allowlist rewrites the allowlist with an entry for every current
failure (its derived key), grouped by category; a `-- why` note is kept when
the key did not change, and tolerance entries are kept. With --filter, only
the matching tests' entries change.
"""

import argparse
import collections
import concurrent.futures
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper

DEFAULT_DATA_DIR = "/usr/share/libonnx-testdata/data/node"

T = onnx.TensorProto
COMPILE_TIMEOUT = 60
RUN_TIMEOUT = 30
RTOL, ATOL = 1e-3, 1e-7

# Why a whole family of operators cannot apply to Tessera (notes written by
# --update-allowlist after the key).
CANNOT_APPLY = [
    (r"(?<!Reverse)Sequence|Optional|test_\w*(_seq|_opt|_sequence|optional)\b",
     "sequences and optionals are not tensors"),
    (r"String|STRING|RegexFullMatch|TfIdfVectorizer|LabelEncoder",
     "strings are not supported"),
    (r"Random|Bernoulli|Multinomial|test_training_dropout",
     "random operators are not deterministic"),
    (r"preview\.training|Gradient|Adagrad|Adam|Momentum|test_adagrad|test_adam|"
     r"test_momentum|test_nesterov_momentum|test_gradient", "training-only operators"),
]


class UsageError(Exception):
    pass


def sanitize(name):
    return name.replace("/", "_").replace(":", "_")


# ------------------------------------------------------------------- tests


Test = collections.namedtuple("Test", "name dir")
Result = collections.namedtuple("Result", "name status reason key")


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
    """--shape arguments for tensor inputs with a dynamic or unknown dimension."""
    by_name = {name: t for name, _, t in bound}
    pins = []
    for value in graph_inputs(model):
        if value.type.WhichOneof("value") != "tensor_type" or value.name not in by_name:
            continue
        tt = value.type.tensor_type
        dims = list(by_name[value.name].dims)
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            continue  # fully static
        if not dims or (tt.HasField("shape") and len(tt.shape.dim) != len(dims)):
            continue  # a scalar, or data that does not fit: let Tessera say
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
    """None on success, else (key, one-line reason)."""
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout: %s" % what, "%s timed out after %d s" % (what, timeout)
    except OSError as e:
        return "crash: %s (cannot start)" % what, "%s could not start: %s" % (what, e)
    if proc.returncode == 0:
        return None
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode < 0:
        try:
            sig = signal.Signals(-proc.returncode).name
        except ValueError:
            sig = str(-proc.returncode)
        return ("crash: %s (%s)" % (what, sig),
                "%s crashed (%s): %s" % (what, sig, one_line(err, 200)))
    if not err.strip():
        return ("crash: %s (exit %d, no message)" % (what, proc.returncode),
                "%s failed with exit status %d and no message" % (what, proc.returncode))
    return (error_key(what, one_line(err, 100000)),
            "%s error: %s" % (what, one_line(err)))


def error_key(what, msg):
    """The allowlist key of a tool's whole error message, on one line."""
    msg = re.sub(r"^\S+\.onnx: ", "", msg)
    # A run-time check's message names the (temporary) library first.
    msg = re.sub(r"^model '[^']*' refuses these inputs: ", "", msg)
    if what == "compile":
        nodes = re.findall(r"'[^']*' \(([^,]+), domain '([^']*)', opset \d+\): ([^|]+)", msg)
        if "unsupported node" in msg and nodes:
            domains = sorted({d for _, d, _ in nodes if d != "ai.onnx"})
            if domains:
                return "unsupported-domain: " + ", ".join(domains)
            plain = sorted({op for op, _, why in nodes if why.strip() == "unsupported operator"})
            other = sorted({"%s (%s)" % (op, why.strip()) for op, _, why in nodes
                            if why.strip() != "unsupported operator"})
            if other:
                return "unsupported-node: " + "; ".join(plain + other)
            return "unsupported-op: " + ", ".join(plain)
        m = re.search(r"is not a tensor of a supported element type \(([^)]*)\)", msg)
        if m:
            return "unsupported-type: " + m.group(1)
    # The first line, and the next ones while a line ends with ':' (the
    # diagnostic after "lowering to linalg failed:").
    lines = msg.split(" | ")
    first = lines[0]
    for line in lines[1:]:
        if not first.endswith(":"):
            break
        first += " " + line
    return "%s-error: %s" % (what, first[:200].rstrip())


def bf16_bits_to_f32(a):
    return (a.astype(np.uint32) << 16).view(np.float32)


def compare(name, expected, got, rtol, atol):
    """None if equal, else (key, one-line reason)."""
    if tuple(got.shape) != tuple(expected.shape):
        return ("wrong-shape: output %s" % name,
                "output %s: shape %s, expected %s" % (name, list(got.shape), list(expected.shape)))
    if got.dtype != expected.dtype:
        return ("wrong-dtype: output %s" % name,
                "output %s: dtype %s, expected %s" % (name, got.dtype, expected.dtype))
    if expected.size == 0:
        return None
    key = "wrong-values: output %s" % name
    if expected.dtype.kind in "biu" or expected.dtype == np.bool_:
        diff = got != expected
        if not diff.any():
            return None
        idx = tuple(int(i) for i in np.argwhere(diff)[0])
        return key, "output %s: %d of %d elements differ, first at %s: got %s, expected %s" % (
            name, int(diff.sum()), expected.size, list(idx), got[idx], expected[idx])
    g = got.astype(np.float64)
    e = expected.astype(np.float64)
    if np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
        return None
    both_nan = np.isnan(g) & np.isnan(e)
    with np.errstate(invalid="ignore"):
        err = np.where(both_nan, 0.0, np.abs(g - e))
    err = np.where(np.isnan(err), np.inf, err)  # NaN on one side only
    bad = ~np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    flat = int(np.argmax(err))
    idx = tuple(int(i) for i in np.unravel_index(flat, err.shape))
    return key, "output %s: max abs error %.3g at %s (got %.6g, expected %.6g), %d of %d elements off" % (
        name, err[idx], list(idx), g[idx], e[idx], int(bad.sum()), e.size)


def expected_array(out_value, proto):
    """The expected numpy array; bf16 (stored as uint16 bits) as float32,
    which is how tessera-run writes a bfloat16 output."""
    arr = numpy_helper.to_array(proto)
    if out_value.type.tensor_type.elem_type == T.BFLOAT16 and arr.dtype == np.uint16:
        return bf16_bits_to_f32(arr)
    return arr


def check_outputs(model, set_dir, out_dir, tolerance):
    """None if every output matches, else (key, reason)."""
    outputs = list(model.graph.output)
    expected_files = numbered(set_dir, "output")
    if len(expected_files) != len(outputs):
        return "bad-test-data", "%d output files for %d graph outputs" % (
            len(expected_files), len(outputs))
    for value, path in zip(outputs, expected_files):
        got_path = os.path.join(out_dir, sanitize(value.name) + ".npy")
        if not os.path.isfile(got_path):
            return ("run-error: output %s not written" % value.name,
                    "output %s was not written (%s)" % (value.name, os.path.basename(got_path)))
        try:
            got = np.load(got_path, allow_pickle=False)
        except Exception as e:
            return ("run-error: output %s unreadable" % value.name,
                    "output %s: unreadable .npy: %s" % (value.name, one_line(str(e))))
        mismatch = compare(value.name, expected_array(value, load_tensor(path)), got, *tolerance)
        if mismatch:
            return mismatch
    return None


def run_test(test, args, tolerance):
    """(status, key, reason) with status PASS or FAIL."""
    try:
        model = onnx.load(os.path.join(test.dir, "model.onnx"), load_external_data=False)
    except Exception as e:  # a broken model file in the data set
        return "FAIL", "bad-test-data", "cannot read model.onnx with onnx: %s" % one_line(str(e))
    sets = data_sets(test.dir)
    if not sets:
        return "FAIL", "bad-test-data", "no test_data_set_* directory"
    try:
        bound0 = bind_inputs(model, sets[0])
    except Exception:
        bound0 = []  # non-tensor data (sequences, ...): the compiler says why

    work = os.path.join(args.work_dir, test.name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    lib = os.path.join(work, "model.so")
    model_path = os.path.join(test.dir, "model.onnx")
    cmd = [args.compiler, model_path, "-o", lib, "--quiet"] + shape_pins(model, bound0)
    err = run_tool(cmd, COMPILE_TIMEOUT, "compile")
    if err:
        key, reason = err
        reason = reason.replace(model_path + ": ", "")
        return "FAIL", key, reason
    if not os.path.isfile(lib):
        return "FAIL", "compile-error: no library", "compile succeeded but wrote no model.so"

    for k, set_dir in enumerate(sets):
        label = "" if len(sets) == 1 else "data set %d: " % k
        try:
            bound = bound0 if k == 0 else bind_inputs(model, set_dir)
            if not bound0:
                bound = bind_inputs(model, set_dir)
        except Exception as e:
            return "FAIL", "bad-test-data", "%sbad test data: %s" % (label, one_line(str(e)))
        out_dir = os.path.join(work, "out_%d" % k)
        os.makedirs(out_dir)
        cmd = [args.runner, lib]
        for name, path, _ in bound:
            cmd += ["--input", "%s=%s" % (name, path)]
        cmd += ["--output-dir", out_dir, "--threads", "1", "--quiet"]
        err = run_tool(cmd, RUN_TIMEOUT, "run")
        if err:
            key, reason = err
            return "FAIL", key, label + reason
        mismatch = check_outputs(model, set_dir, out_dir, tolerance)
        if mismatch:
            return "FAIL", mismatch[0], label + mismatch[1]
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return "PASS", "", ""


# --------------------------------------------------------------- allowlist


Entry = collections.namedtuple("Entry", "key note")


def parse_tolerance(key, where):
    m = re.fullmatch(r"tolerance:\s*rtol=(\S+)\s+atol=(\S+)", key)
    try:
        return float(m.group(1)), float(m.group(2))
    except (AttributeError, ValueError):
        raise UsageError("%s: write 'tolerance: rtol=R atol=A -- why'" % where)


def read_allowlist(path):
    """{test name: Entry}."""
    entries = {}
    if not path or not os.path.exists(path):
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
            raise UsageError("%s: entry '%s' has no reason (write 'test_name  # KEY')"
                             % (where, name))
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
            raise UsageError("%s: '%s' is not a test name" % (where, name))
        if name in entries:
            raise UsageError("%s: '%s' is listed twice" % (where, name))
        key, _, note = reason.partition(" -- ")
        key, note = key.strip(), note.strip()
        if key.startswith("tolerance:"):
            parse_tolerance(key, where)
            if not note:
                raise UsageError("%s: a tolerance entry needs '-- why'" % where)
        elif key.startswith("re:"):
            try:
                re.compile(key[3:].strip())
            except re.error as e:
                raise UsageError("%s: bad regex: %s" % (where, e))
        entries[name] = Entry(key, note)
    return entries


def matches(entry, key, reason):
    if entry.key.startswith("re:"):
        return re.search(entry.key[3:].strip(), reason) is not None
    return entry.key == key


def cannot_apply_note(name, key):
    """The reason a test cannot apply to Tessera, from its name and key."""
    for pattern, note in CANNOT_APPLY:
        if re.search(pattern, name + " " + key):
            return note
    return ""


def write_allowlist(path, entries):
    """Writes {name: Entry} grouped by key category."""
    groups = collections.defaultdict(list)
    for name, e in entries.items():
        groups[e.key.split(":", 1)[0]].append((name, e))
    order = ["tolerance", "unsupported-op", "unsupported-node", "unsupported-domain",
             "unsupported-type", "compile-error", "run-error", "wrong-shape", "wrong-dtype",
             "wrong-values", "bad-test-data", "re", "timeout", "crash"]
    with open(path, "w", encoding="utf-8") as f:
        f.write(ALLOWLIST_HEADER)
        for cat in sorted(groups, key=lambda c: (order.index(c) if c in order else 99, c)):
            f.write("\n# --- %s (%d) ---\n" % (cat, len(groups[cat])))
            for name, e in sorted(groups[cat]):
                f.write("%s  # %s%s\n" % (name, e.key, " -- " + e.note if e.note else ""))


ALLOWLIST_HEADER = """\
# ONNX backend node tests (libonnx-testdata) not expected to pass, one per
# line, written by `run_node_tests.py --update-allowlist` and then annotated:
#
#   test_name  # KEY [-- why]          an expected failure: it must fail with
#                                      exactly KEY (see run_node_tests.py)
#   test_name  # re: REGEX [-- why]    ... or with a reason REGEX matches
#   test_name  # tolerance: rtol=R atol=A -- why
#                                      must pass, with these tolerances
#
# A listed test that passes (XPASS) or fails differently fails the run.
# Tests that cannot apply to Tessera (strings, sequences, optionals, random
# and training-only operators) are listed here too, with that note.
"""


# -------------------------------------------------------------------- main


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Run ONNX backend node tests through tessera-compile and tessera-run.")
    p.add_argument("--compiler", required=True, help="tessera-compile binary")
    p.add_argument("--runner", required=True, help="tessera-run binary")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                   help="directory of test_* dirs (default: %(default)s)")
    p.add_argument("--allowlist", help="expected failures, 'test_name  # KEY' per line")
    p.add_argument("--update-allowlist", action="store_true",
                   help="rewrite --allowlist with an entry for every current failure")
    p.add_argument("--work-dir", help="scratch directory (default: a temporary one, removed at the end)")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2,
                   help="tests run in parallel (default: the number of CPUs)")
    p.add_argument("--filter", metavar="REGEX", help="only tests whose name matches (re.search)")
    p.add_argument("--keep", action="store_true", help="keep each passing test's work files")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("-j must be at least 1")
    if args.update_allowlist and not args.allowlist:
        p.error("--update-allowlist needs --allowlist")
    if args.filter:
        try:
            re.compile(args.filter)
        except re.error as e:
            p.error("--filter: %s" % e)
    for opt in ("compiler", "runner"):
        path = getattr(args, opt)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            p.error("--%s %s is not an executable file" % (opt, path))
    return args


def classify(test, allow, args):
    """Runs one test and judges it against its allowlist entry."""
    entry = allow.get(test.name)
    tolerance = (RTOL, ATOL)
    if entry and entry.key.startswith("tolerance:"):
        tolerance = parse_tolerance(entry.key, test.name)
        entry = None
    try:
        status, key, reason = run_test(test, args, tolerance)
    except Exception as e:  # a bug in this script must not hide the others
        status, key, reason = "FAIL", "harness-error", "runner exception: %s: %s" % (
            type(e).__name__, one_line(str(e)))
    if entry is None:
        return Result(test.name, status, reason, key)
    if status == "PASS":
        return Result(test.name, "XPASS", "passes but is allowlisted (%s): remove it"
                      % entry.key, key)
    if matches(entry, key, reason):
        return Result(test.name, "XFAIL", reason, key)
    return Result(test.name, "FAIL", "%s [fails as '%s', but the allowlist expects '%s']"
                  % (reason, key, entry.key), key)


def updated_entries(allow, results):
    """The allowlist after this run: every failure with its key."""
    entries = dict(allow)
    for r in results:
        old = allow.get(r.name)
        if old and old.key.startswith("tolerance:"):
            continue
        if r.status in ("PASS", "XPASS"):
            entries.pop(r.name, None)
        elif r.status in ("FAIL", "XFAIL"):
            if old and matches(old, r.key, r.reason):
                continue
            keep_note = old.note if old and old.key == r.key else ""
            entries[r.name] = Entry(r.key, keep_note or cannot_apply_note(r.name, r.key))
    return entries


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        tests = discover(args.data_dir, args.filter)
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

    start = time.monotonic()
    counts = collections.Counter()
    results = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for r in pool.map(lambda t: classify(t, allow, args), tests):
                results.append(r)
                counts[r.status] += 1
                print("%-5s %s%s" % (r.status, r.name, ": " + r.reason if r.reason else ""),
                      flush=True)
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)

    if args.update_allowlist:
        write_allowlist(args.allowlist, updated_entries(allow, results))
        print("wrote %s" % args.allowlist)

    failed = counts["FAIL"] + counts["XPASS"]
    by_key = collections.Counter(r.key.split(":", 1)[0] for r in results
                                 if r.status in ("FAIL", "XFAIL"))
    print("failures by category: " + ", ".join(
        "%s %d" % kv for kv in sorted(by_key.items(), key=lambda kv: -kv[1])))
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print("onnx_backend: %d of %d node tests pass; %d expected failures (allowlisted), "
          "%d failed (%d FAIL, %d XPASS); %.0f s wall with -j %d, %.0f s CPU in the tools"
          % (counts["PASS"], len(tests), counts["XFAIL"], failed, counts["FAIL"],
             counts["XPASS"], time.monotonic() - start, args.jobs,
             children.ru_utime + children.ru_stime))
    print("%d passed, %d failed" % (counts["PASS"], failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
