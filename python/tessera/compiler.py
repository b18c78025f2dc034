"""Compiles ONNX models with tessera-compile.

This module runs the tessera-compile program (found next to the package: in
the build tree, or in the installation's bin directory; else $TESSERA_COMPILE
or PATH) instead of linking the compiler into Python: LLVM stays out of the
Python process, and a compiler failure cannot take the interpreter down.

    path = tessera.compile("model.onnx")                 # cached, dynamic dims
    path = tessera.compile(proto, "model.so", dims={"seq": (1, 512)})
    report = tessera.fusion_report("model.onnx")

Without `output`, the library goes to the cache directory ($TESSERA_CACHE_DIR,
else $XDG_CACHE_HOME/tessera, else ~/.cache/tessera) under a hash of the
model's bytes, the options and the compiler's identity: compiling the same
model with the same options again returns the cached library, and a changed
file, option or compiler compiles anew.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile

from .errors import CompileError

# Bumped when the cache layout changes.
_CACHE_FORMAT = 1


def find_compiler():
    """The tessera-compile program this package uses."""
    candidates = [os.environ.get("TESSERA_COMPILE")]
    try:
        from . import _paths
        candidates.append(_paths.compiler())
    except ImportError:
        pass
    candidates.append(shutil.which("tessera-compile"))
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise CompileError("cannot find tessera-compile: install Tessera (cmake --install), "
                       "or set TESSERA_COMPILE to the program's path")


def cache_dir():
    """Where compiled models are cached."""
    root = os.environ.get("TESSERA_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "tessera")
    return root


def _shape_arg(name, dims):
    if isinstance(dims, str):
        text = dims
    else:
        text = "x".join("?" if d is None or d == "?" or (isinstance(d, int) and d < 0) else str(int(d))
                        for d in dims)
    return "--shape=%s=%s" % (name, text)


def _dim_arg(name, value):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise CompileError("dims[%r]: expected N or (MIN, MAX), got %r" % (name, value))
        return "--dim=%s=%d..%d" % (name, value[0], value[1])
    return "--dim=%s=%d" % (name, value)


def _options(shapes, dims, fuse, external_weights):
    args = [_shape_arg(n, s) for n, s in sorted((shapes or {}).items())]
    args += [_dim_arg(n, v) for n, v in sorted((dims or {}).items())]
    if not fuse:
        args.append("--fuse=false")
    if external_weights:
        args.append("--external-weights")
    return args


class _ModelFile:
    """A model given as a path, an onnx.ModelProto or bytes, as a file."""

    def __init__(self, model):
        self._temp = None
        if isinstance(model, (str, os.PathLike)):
            self.path = os.fspath(model)
            if not os.path.isfile(self.path):
                raise CompileError("cannot read model '%s': no such file" % self.path)
            return
        if hasattr(model, "SerializeToString"):
            model = model.SerializeToString()
        if not isinstance(model, (bytes, bytearray, memoryview)):
            raise TypeError("model must be a path, an onnx.ModelProto or bytes, not %s"
                            % type(model).__name__)
        fd, self._temp = tempfile.mkstemp(prefix="tessera-model-", suffix=".onnx")
        with os.fdopen(fd, "wb") as f:
            f.write(model)
        self.path = self._temp

    def digest(self):
        h = hashlib.sha256()
        with open(self.path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._temp:
            os.unlink(self._temp)


def _run(args):
    """Runs tessera-compile; raises CompileError with its message."""
    cmd = [find_compiler()] + args
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        raise CompileError("cannot run %s: %s" % (cmd[0], e))
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        message = message.replace("tessera-compile: error: ", "", 1)
        if proc.returncode < 0:
            message = "tessera-compile died of signal %d%s" % (
                -proc.returncode, ": " + message if message else "")
        raise CompileError(message or "tessera-compile failed (exit %d)" % proc.returncode)
    return proc.stdout.decode("utf-8", "replace")


def _cache_key(source, options):
    compiler = find_compiler()
    st = os.stat(compiler)
    identity = [_CACHE_FORMAT, source.digest(), options,
                os.path.realpath(compiler), st.st_size, st.st_mtime_ns]
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:40]


def _compile_cached(source, options):
    """The cached library for (model, options), compiled when missing."""
    root = cache_dir()
    entry = os.path.join(root, _cache_key(source, options))
    lib = os.path.join(entry, "model.so")
    if os.path.isfile(lib):
        return lib
    os.makedirs(root, exist_ok=True)
    # Compile into a private directory and rename it into place: concurrent
    # compiles of one model never see a partial entry. The library keeps the
    # name it was compiled under (external weights are found by that name).
    work = tempfile.mkdtemp(prefix=".compile-", dir=root)
    try:
        _run([source.path, "-o", os.path.join(work, "model.so")] + options)
        try:
            os.rename(work, entry)
        except OSError:
            if not os.path.isfile(lib):  # not another process's entry
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return lib


def compile(model, output=None, shapes=None, dims=None, fuse=True, external_weights=False):
    """Compiles an ONNX model into a shared library and returns its path.

    model: a path (.onnx, or .onnxtxt in ONNX's textual syntax), an
        onnx.ModelProto or the model's bytes.
    output: the library's path; None compiles into (or reuses from) the cache.
    shapes: {input name: dims} pins inputs' dimensions, e.g. {"input_ids":
        (1, 128)}; None or "?" keeps a dimension dynamic (tessera-compile
        --shape).
    dims: {dim name: N} pins a named dimension, {dim name: (MIN, MAX)}
        bounds it (--dim).
    fuse: run the Transformer fusions (--fuse=false when False).
    external_weights: write the weights to OUTPUT.weights beside the library.

    Dimensions left dynamic stay dynamic: the library runs every shape the
    model allows. Raises CompileError with the compiler's message.
    """
    options = _options(shapes, dims, fuse, external_weights)
    with _ModelFile(model) as source:
        if output is None:
            return _compile_cached(source, options)
        output = os.path.abspath(os.fspath(output))
        _run([source.path, "-o", output] + options)
        return output


def fusion_report(model, shapes=None, dims=None):
    """What the Transformer fusions did (tessera-compile --fusion-report):

        {"fused": {"tessera.attention": 2, "gelu recogniser": 2, ...},
         "unfused": [{"kind": ..., "node": ..., "reason": ...}, ...]}
    """
    options = _options(shapes, dims, True, False)
    with _ModelFile(model) as source:
        text = _run([source.path, "--fusion-report"] + options)
    fused, unfused = {}, []
    for line in text.splitlines():
        if line.startswith("fused ") and ": " in line:
            kind, _, count = line[len("fused "):].rpartition(": ")
            fused[kind] = int(count)
        elif " not fused: " in line and " at " in line:
            head, _, reason = line.partition(" not fused: ")
            kind, _, node = head.partition(" at ")
            unfused.append({"kind": kind, "node": node, "reason": reason})
    return {"fused": fused, "unfused": unfused}
