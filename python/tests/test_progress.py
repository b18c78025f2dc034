"""tessera-compile shows its stages with elapsed seconds when stderr is a
terminal, and is quiet otherwise or with --quiet."""

import os
import pty
import re
import subprocess

from tessera.compiler import find_compiler

STAGES = re.compile(r"^tessera-compile: import \d+\.\d\d s, fold \d+\.\d\d s, fuse \d+\.\d\d s, "
                    r"lower \d+\.\d\d s, codegen \d+\.\d\d s, link \d+\.\d\d s; \d+\.\d\d s\r?\n$")


def _compile_on_terminal(args):
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([find_compiler()] + args, stderr=slave, stdout=subprocess.DEVNULL)
        os.close(slave)
        slave = None
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the terminal is closed and drained
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    assert proc.returncode == 0
    return out.decode()


def test_progress_on_terminal(tiny, tmp_path):
    text = _compile_on_terminal([tiny[0], "-o", str(tmp_path / "a.so")])
    assert STAGES.match(text), text


def test_quiet(tiny, tmp_path):
    assert _compile_on_terminal([tiny[0], "-o", str(tmp_path / "a.so"), "--quiet"]) == ""
    proc = subprocess.run([find_compiler(), tiny[0], "-o", str(tmp_path / "b.so")],
                          stderr=subprocess.PIPE, check=True)
    assert proc.stderr == b""


def test_error_ends_the_line(tmp_path):
    proc = subprocess.run([find_compiler(), str(tmp_path / "none.onnx"), "-o",
                           str(tmp_path / "c.so"), "--progress"], stderr=subprocess.PIPE)
    assert proc.returncode == 1
    assert proc.stderr.decode().splitlines() == [
        "tessera-compile: import ",
        "tessera-compile: error: cannot open '%s': No such file or directory" % (tmp_path / "none.onnx")]
