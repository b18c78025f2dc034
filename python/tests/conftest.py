"""Fixtures of the tessera package's tests (run by ctest: see CMakeLists.txt).

Environment (set by ctest): PYTHONPATH=<build>/python, TESSERA_CACHE_DIR (a
cache in the build tree), TESSERA_SOURCE_DIR (the checkout: tools/ort/run.js,
tests/models/compare.py), TESSERA_TEST_MODELS (the generated models).
"""

import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

SOURCE_DIR = os.environ.get(
    "TESSERA_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "models"))
import compare  # noqa: E402  (inputs and checks shared with the model tests)

ORT_SCRIPT = os.path.join(SOURCE_DIR, "tools", "ort", "run.js")
HIDDEN = 16
WIDTH = 32
VOCAB = 50


def tiny_model(hidden=HIDDEN, width=WIDTH, layers=1, seed=0):
    """y = Relu(...(Relu((emb[ids] + x) @ W0 + b0) @ W1 + b1)...): token ids
    (an index range), a float input, named dynamic dims batch and seq, and
    `layers` fusable GEMM epilogues."""
    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array(rng.standard_normal((VOCAB, hidden)).astype(np.float32), "emb")]
    nodes = [helper.make_node("Gather", ["emb", "ids"], ["e"], name="embed"),
             helper.make_node("Add", ["e", "x"], ["h0"], name="add")]
    size = hidden
    for i in range(layers):
        w = (rng.standard_normal((size, width)) / np.sqrt(size)).astype(np.float32)
        inits += [numpy_helper.from_array(w, "W%d" % i),
                  numpy_helper.from_array(rng.standard_normal(width).astype(np.float32), "b%d" % i)]
        nodes += [helper.make_node("MatMul", ["h%d" % i, "W%d" % i], ["m%d" % i], name="mm%d" % i),
                  helper.make_node("Add", ["m%d" % i, "b%d" % i], ["a%d" % i], name="bias%d" % i),
                  helper.make_node("Relu", ["a%d" % i], ["h%d" % (i + 1)], name="relu%d" % i)]
        size = width
    nodes.append(helper.make_node("Identity", ["h%d" % layers], ["y"], name="out"))
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", hidden])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", width])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def tiny_inputs(batch=2, seq=3, seed=1, hidden=HIDDEN):
    rng = np.random.default_rng(seed)
    return {"ids": rng.integers(0, VOCAB, (batch, seq)).astype(np.int64),
            "x": rng.standard_normal((batch, seq, hidden)).astype(np.float32)}


def tiny_reference(model, feeds):
    """The tiny model in numpy (float64)."""
    inits = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
    h = inits["emb"][feeds["ids"]] + feeds["x"]
    i = 0
    while "W%d" % i in inits:
        h = np.maximum(h @ inits["W%d" % i] + inits["b%d" % i], 0)
        i += 1
    return h


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """(onnx path, ModelProto) of the tiny model."""
    model = tiny_model()
    path = tmp_path_factory.mktemp("tiny") / "tiny.onnx"
    onnx.save(model, str(path))
    return str(path), model


@pytest.fixture(scope="session")
def tiny_lib(tiny, tmp_path_factory):
    import tessera
    return tessera.compile(tiny[0], str(tmp_path_factory.mktemp("tiny_lib") / "tiny.so"))


def run_ort(model_path, feeds, work):
    """ONNX Runtime (npm, tools/ort/run.js) on these inputs: {name: array}."""
    os.makedirs(work, exist_ok=True)
    files = {}
    for name, array in feeds.items():
        files[name] = os.path.join(work, compare.sanitize(name) + ".npy")
        np.save(files[name], array)
    out = os.path.join(work, "ort")
    cmd = ["node", ORT_SCRIPT, model_path, "--output-dir", out, "--threads", "1", "--quiet"]
    for name, path in files.items():
        cmd += ["--input", "%s=%s" % (name, path)]
    subprocess.run(cmd, check=True)
    model = onnx.load(model_path, load_external_data=False)
    return compare.read_outputs(model, out, "onnxruntime")
