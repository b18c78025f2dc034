"""Tessera: an ahead-of-time compiler and thin runtime for ONNX Transformer
models on CPU.

    import tessera
    sess = tessera.InferenceSession("model.onnx")       # as onnxruntime's
    outputs = sess.run(None, {"input_ids": ids})

The native API:

    path = tessera.compile("model.onnx", dims={"seq": (1, 512)})
    model = tessera.load(path)                # inputs, outputs, dims, target_cpu
    session = model.session(threads=2)
    outputs = session.run({"input_ids": ids})  # {name: numpy array}
    tessera.fusion_report("model.onnx")        # what the fusions did, as data

Two layers: tessera.runtime (load and run compiled libraries; needs only the
thin runtime) and tessera.compiler (compile ONNX models; drives the
tessera-compile program). Errors are tessera.Error subclasses.
"""

from .errors import (AbiVersionError, CompileError, CpuFeatureError, EntryError, Error,
                     InternalError, InvalidArgumentError, LoadError, OutOfMemoryError,
                     WeightsError)
from .runtime import CachePair, Dim, KVCache, Model, Session, TensorInfo, load
from .compiler import compile, fusion_report
from .inference import InferenceSession, NodeArg, RunOptions, SessionOptions

__all__ = [
    "AbiVersionError", "CachePair", "CompileError", "CpuFeatureError", "Dim", "EntryError", "Error",
    "InferenceSession", "InternalError", "InvalidArgumentError", "KVCache", "LoadError", "Model",
    "NodeArg", "OutOfMemoryError", "RunOptions", "Session", "SessionOptions", "TensorInfo",
    "WeightsError", "compile", "fusion_report", "load",
]
