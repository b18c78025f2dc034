"""tessera.InferenceSession: a drop-in for onnxruntime.InferenceSession.

    sess = tessera.InferenceSession("model.onnx")     # was onnxruntime.InferenceSession
    name = sess.get_inputs()[0].name
    logits, = sess.run(None, {name: ids})

An .onnx (or .onnxtxt) file is compiled once, with its dynamic dimensions kept
dynamic, and cached (see tessera.compiler); a compiled library (.so) is
loaded as is. The rest of ONNX Runtime's session API that a CPU inference
script uses is here: get_inputs()/get_outputs() (NodeArg-like objects with
.name, .shape, .type), run(output_names, input_feed, run_options=None),
get_providers(), get_modelmeta(), and SessionOptions' thread count.
"""

import os

from . import runtime
from .errors import InvalidArgumentError

_ELF_MAGIC = b"\x7fELF"


class SessionOptions:
    """The part of onnxruntime.SessionOptions Tessera honours: the thread
    count. Other attributes are accepted and ignored."""

    def __init__(self):
        self.intra_op_num_threads = 0
        self.inter_op_num_threads = 0
        self.graph_optimization_level = None
        self.log_severity_level = 2


class RunOptions:
    """Accepted for compatibility; Tessera has no per-run options."""


class NodeArg:
    """What get_inputs()/get_outputs() return, as in ONNX Runtime."""

    def __init__(self, info):
        self.name = info.name
        self.shape = list(info.shape)
        self.type = info.type

    def __repr__(self):
        return "NodeArg(name=%r, type=%r, shape=%r)" % (self.name, self.type, self.shape)


class ModelMetadata:
    def __init__(self, model):
        self.producer_name = "tessera"
        self.graph_name = os.path.basename(model.path)
        self.domain = ""
        self.description = ""
        self.version = 0
        self.custom_metadata_map = {"target_cpu": model.target_cpu,
                                    "compiler_version": model.compiler_version}


def _is_library(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == _ELF_MAGIC
    except OSError:
        return False


class InferenceSession:
    """InferenceSession(path_or_model, sess_options=None, providers=None,
    provider_options=None, threads=None, **compile_options)

    path_or_model: an .onnx/.onnxtxt file, an onnx.ModelProto or its bytes
        (compiled and cached), or a library from tessera-compile.
    threads: threads of the session (default: sess_options'
        intra_op_num_threads when set, else one per hardware thread).
    compile_options: passed to tessera.compile (shapes, dims, fuse,
        external_weights) when the model is compiled.
    providers: accepted for compatibility; Tessera always runs on the CPU.
    """

    def __init__(self, path_or_model, sess_options=None, providers=None, provider_options=None,
                 threads=None, **compile_options):
        source = path_or_model
        if isinstance(source, (str, os.PathLike)) and _is_library(source):
            if compile_options:
                raise InvalidArgumentError(
                    "%s is already compiled; compile options (%s) apply to ONNX models"
                    % (os.fspath(source), ", ".join(sorted(compile_options))), 1)
            library = os.fspath(source)
        else:
            from . import compiler
            library = compiler.compile(source, **compile_options)
        if threads is None:
            threads = getattr(sess_options, "intra_op_num_threads", 0) or 0
        self._model = runtime.load(library)
        self._session = self._model.session(threads)
        self._sess_options = sess_options or SessionOptions()
        self._providers = ["CPUExecutionProvider"]
        self.library_path = library

    @property
    def model(self):
        """The tessera.Model behind this session."""
        return self._model

    def get_inputs(self):
        return [NodeArg(t) for t in self._model.inputs]

    def get_outputs(self):
        return [NodeArg(t) for t in self._model.outputs]

    def get_overridable_initializers(self):
        return []

    def get_providers(self):
        return list(self._providers)

    def get_provider_options(self):
        return {p: {} for p in self._providers}

    def get_session_options(self):
        return self._sess_options

    def get_modelmeta(self):
        return ModelMetadata(self._model)

    def set_providers(self, providers=None, provider_options=None):
        pass

    def run(self, output_names, input_feed, run_options=None):
        """Runs once; returns the outputs named in output_names (all of them,
        in the model's order, when None) as a list of numpy arrays."""
        outputs = self._session.run(input_feed)
        if output_names is None:
            return list(outputs.values())
        missing = [n for n in output_names if n not in outputs]
        if missing:
            raise InvalidArgumentError(
                "unknown output '%s'; the model's outputs are: %s"
                % (missing[0], ", ".join(outputs)), 1)
        return [outputs[n] for n in output_names]
