"""Every generated Transformer model (tests/models/generate.py) through
tessera.InferenceSession, against ONNX Runtime (tools/ort/run.js) on the same
inputs, at small shapes: compiled pinned to the shape (shapes=...), and
compiled once with its dims dynamic (the default) and run at two shapes.

    pytest test_models.py::test_pinned[bert_op17]   (TESSERA_TEST_MODELS=dir)
"""

import os

import onnx
import pytest

import tessera
from conftest import compare, run_ort

MODELS = ["transformer_op14", "transformer_op17", "bert_op14", "bert_op17", "gpt2_op14",
          "gpt2_op17", "vit_op14", "vit_op17", "sdpa_op17", "distilbert_op17"]
SHAPES = [(1, 3), (2, 5)]


def _model(name):
    root = os.environ.get("TESSERA_TEST_MODELS")
    path = os.path.join(root or "", name + ".onnx")
    if not root or not os.path.isfile(path):
        pytest.skip("no %s (set TESSERA_TEST_MODELS; ctest -R models.generate makes them)" % path)
    return path, onnx.load(path, load_external_data=False)


def _check(session, path, model, batch, seq, work):
    feeds = compare.make_inputs(model, batch, seq, 0, None)
    got = session.run(None, feeds)
    ref = run_ort(path, feeds, work)
    names = [o.name for o in session.get_outputs()]
    assert names == [o.name for o in model.graph.output]
    for name, value in zip(names, got):
        ok, desc = compare.check(name, ref[name], value, False)
        assert ok, "batch %d seq %d: %s" % (batch, seq, desc)


@pytest.mark.parametrize("name", MODELS)
def test_pinned(name, tmp_path):
    path, model = _model(name)
    batch, seq = SHAPES[-1]
    shapes = {n: a.shape for n, a in compare.make_inputs(model, batch, seq, 0, None).items()}
    session = tessera.InferenceSession(path, threads=1, shapes=shapes)
    assert all(isinstance(d, int) for i in session.get_inputs() for d in i.shape)
    _check(session, path, model, batch, seq, str(tmp_path))


@pytest.mark.parametrize("name", MODELS)
def test_dynamic(name, tmp_path):
    path, model = _model(name)
    session = tessera.InferenceSession(path, threads=1)
    dynamic = [d for i in session.get_inputs() for d in i.shape if not isinstance(d, int)]
    assert dynamic, "the dims did not stay dynamic"
    for batch, seq in SHAPES:
        _check(session, path, model, batch, seq, str(tmp_path / ("b%d_s%d" % (batch, seq))))
