#!/usr/bin/python3
"""Reads MLIR (any dialect, the LLVM dialect included) on stdin and checks
that no vector value is larger than --limit elements: a `vector<AxBx..xT>`
counts A*B*..., an `!llvm.array<N x T>` of vectors counts N times T's count
(LLVM's aggregates of vectors, which a whole-tensor vector becomes).
Prints `largest vector: N elements` and exits 0, or lists the offending
types and exits 1."""
import argparse
import re
import sys

VECTOR = re.compile(r"vector<((?:\[?\d+\]?x)+)[a-z]+\d*>")


def elements(text, start):
    """Element count of the type starting at text[start:], and its end."""
    if text.startswith("!llvm.array<", start) or text.startswith("array<", start):
        m = re.compile(r"(?:!llvm\.)?array<(\d+) x ").match(text, start)
        inner, end = elements(text, m.end())
        return int(m.group(1)) * inner, end + 1
    m = VECTOR.match(text, start)
    if m:
        n = 1
        for d in m.group(1).rstrip("x").split("x"):
            n *= int(d.strip("[]"))
        return n, m.end()
    return 0, start + 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--limit", type=int, required=True)
    args = p.parse_args()
    text = sys.stdin.read()
    largest, bad = 0, set()
    for m in re.finditer(r"!llvm\.array<|(?<![\w.])vector<", text):
        n, end = elements(text, m.start())
        largest = max(largest, n)
        if n > args.limit:
            bad.add(text[m.start():end])
    if not re.search(r"vector<", text):
        print("no vector types in the input", file=sys.stderr)
        return 1
    if bad:
        for t in sorted(bad):
            print("too large: " + t)
        return 1
    print("largest vector: %d elements" % largest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
