"""The driver the one-operator numerical checks share (conv.py,
group_norm.py): each case is one model with a dynamic batch, built by the
check's own `build(name, *case, path)`, compiled once and compared with ONNX
Runtime at batch 1 and 2 by tests/models/compare.py. Prints one line per
case and `N passed, M failed`; returns 1 on any failure."""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import compare  # noqa: E402


def parse_args(doc, argv=None):
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--compiler", required=True)
    p.add_argument("--runner", required=True)
    p.add_argument("--work-dir", required=True)
    p.add_argument("--only", action="append", default=[])
    return p.parse_args(argv)


def run(doc, cases, build, argv=None, batches="1,2", dynamic=True):
    """`batches` and `dynamic` go to compare.py: a check whose models have
    static shapes passes its one batch size and dynamic=False."""
    args = parse_args(doc, argv)
    os.makedirs(args.work_dir, exist_ok=True)
    passed = failed = 0
    for name, case in cases.items():
        if args.only and name not in args.only:
            continue
        path = os.path.join(args.work_dir, name + ".onnx")
        build(name, *case, path)
        flags = ["--model", path, "--compiler", args.compiler,
                 "--runner", args.runner, "--batches", batches,
                 "--work-dir", os.path.join(args.work_dir, name)]
        ok = compare.main(flags + (["--dynamic"] if dynamic else [])) == 0
        print(f"{name}: {'ok' if ok else 'FAILED'}", flush=True)
        passed += ok
        failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1
