"""Errors are tessera.Error subclasses with the runtime's (or compiler's)
message; bad arguments never crash the interpreter."""

import os
import shutil

import numpy as np
import pytest

import tessera
from conftest import tiny_inputs, tiny_model, tiny_reference


@pytest.fixture(scope="module")
def session(tiny_lib):
    return tessera.load(tiny_lib).session(threads=1)


def test_classes():
    for cls in (tessera.InvalidArgumentError, tessera.LoadError, tessera.AbiVersionError,
                tessera.CpuFeatureError, tessera.EntryError, tessera.OutOfMemoryError,
                tessera.InternalError, tessera.WeightsError, tessera.CompileError):
        assert issubclass(cls, tessera.Error)


def test_names(session):
    feeds = tiny_inputs()
    with pytest.raises(tessera.InvalidArgumentError, match="unknown input 'idz'.*ids, x"):
        session.run({"idz": feeds["ids"], "x": feeds["x"]})
    with pytest.raises(tessera.InvalidArgumentError, match="missing input 'x'"):
        session.run({"ids": feeds["ids"]})
    sess = tessera.InferenceSession(session.model.path, threads=1)
    with pytest.raises(tessera.InvalidArgumentError, match="unknown output 'z'"):
        sess.run(["z"], feeds)


def test_dtypes(session, tiny):
    feeds = tiny_inputs()
    expected = session.run(feeds)["y"]
    # Lossless conversions are made: int32 ids, int64 -> int32 that fit,
    # Python lists.
    for ids in (feeds["ids"].astype(np.int32), feeds["ids"].astype(np.uint8),
                feeds["ids"].tolist()):
        np.testing.assert_array_equal(session.run({"ids": ids, "x": feeds["x"]})["y"], expected)
    np.testing.assert_array_equal(
        session.run({"ids": feeds["ids"], "x": feeds["x"].astype(np.float16)})["y"],
        session.run({"ids": feeds["ids"], "x": feeds["x"].astype(np.float16).astype(np.float32)})["y"])
    # Lossy ones are refused.
    with pytest.raises(tessera.InvalidArgumentError, match="input 'x' is float64 .* float32"):
        session.run({"ids": feeds["ids"], "x": feeds["x"].astype(np.float64)})
    with pytest.raises(tessera.InvalidArgumentError, match="input 'ids' is float32 .* int64"):
        session.run({"ids": feeds["ids"].astype(np.float32), "x": feeds["x"]})
    with pytest.raises(tessera.InvalidArgumentError, match="input 'ids' is uint64"):
        session.run({"ids": np.full((2, 3), 2**63, np.uint64), "x": feeds["x"]})
    with pytest.raises(tessera.InvalidArgumentError, match="'x' is not numeric"):
        session.run({"ids": feeds["ids"], "x": "hello"})


def test_shapes(session):
    feeds = tiny_inputs(2, 3)
    with pytest.raises(tessera.InvalidArgumentError, match="'x'.*rank"):
        session.run({"ids": feeds["ids"], "x": feeds["x"][0]})
    with pytest.raises(tessera.InvalidArgumentError, match="input 'x': dimension 2 is 15, expected 16"):
        session.run({"ids": feeds["ids"], "x": np.zeros((2, 3, 15), np.float32)})
    with pytest.raises(tessera.InvalidArgumentError, match="seq"):
        session.run({"ids": feeds["ids"], "x": np.zeros((2, 4, 16), np.float32)})
    with pytest.raises(tessera.InvalidArgumentError, match="out of range"):
        session.run({"ids": feeds["ids"] + 1000, "x": feeds["x"]})


def test_non_contiguous_and_read_only(session, tiny):
    feeds = tiny_inputs(2, 3)
    expected = tiny_reference(tiny[1], feeds)
    wide = np.zeros((2, 3, 32), np.float32)
    wide[:, :, ::2] = feeds["x"]
    strided = wide[:, :, ::2]
    assert not strided.flags.c_contiguous
    fortran = np.asfortranarray(feeds["ids"])
    read_only = feeds["x"].copy()
    read_only.flags.writeable = False
    for ids, x in ((fortran, strided), (feeds["ids"], read_only)):
        np.testing.assert_allclose(session.run({"ids": ids, "x": x})["y"], expected,
                                   rtol=1e-5, atol=1e-5)
    assert tessera.runtime._as_input(session.model.inputs[1], read_only) is read_only
    raw = np.zeros(2 * 3 * 16 * 4 + 1, np.uint8)[1:].view(np.float32).reshape(2, 3, 16)
    raw[...] = feeds["x"]  # misaligned: copied
    np.testing.assert_allclose(session.run({"ids": feeds["ids"], "x": raw})["y"], expected,
                               rtol=1e-5, atol=1e-5)


def test_missing_and_foreign_files(tmp_path, tiny_lib):
    with pytest.raises(tessera.LoadError, match="no-such.so"):
        tessera.load(str(tmp_path / "no-such.so"))
    with pytest.raises(tessera.CompileError, match="no-such.onnx"):
        tessera.InferenceSession(str(tmp_path / "no-such.onnx"))
    not_a_model = tessera.runtime._runtime.__file__  # an ELF library, not a model
    with pytest.raises(tessera.LoadError, match="tessera_model_v1"):
        tessera.load(not_a_model)
    with pytest.raises(tessera.LoadError, match="tessera_model_v1"):
        tessera.InferenceSession(not_a_model)
    garbage = tmp_path / "garbage.so"
    garbage.write_bytes(b"\x7fELF" + os.urandom(200))
    with pytest.raises(tessera.LoadError):
        tessera.load(str(garbage))
    with pytest.raises(tessera.CompileError):
        tessera.compile(str(garbage))  # not an ONNX model
    truncated = tmp_path / "truncated.so"
    truncated.write_bytes(open(tiny_lib, "rb").read()[:3000])
    with pytest.raises(tessera.LoadError):
        tessera.load(str(truncated))
    external = tessera.compile(tiny_model(), str(tmp_path / "ext.so"), external_weights=True)
    os.unlink(external + ".weights")
    with pytest.raises(tessera.WeightsError, match="weights"):
        tessera.load(external)


def test_compile_errors(tmp_path):
    import onnx
    from onnx import TensorProto, helper
    node = helper.make_node("Bernoulli", ["x"], ["y"], name="act")
    graph = helper.make_graph(node and [node], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(tessera.CompileError, match="'act' \\(Bernoulli.*unsupported operator"):
        tessera.compile(model, str(tmp_path / "m.so"))
    assert not os.path.exists(tmp_path / "m.so")
    with pytest.raises(tessera.CompileError, match="--dim"):
        tessera.compile(tiny_model(), str(tmp_path / "m.so"), dims={"nope": 3})
    with pytest.raises(TypeError):
        tessera.compile(42)


def test_no_compiler(monkeypatch, tiny):
    monkeypatch.setenv("TESSERA_COMPILE", "/nonexistent")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("tessera._paths.compiler", lambda: "/nonexistent")
    with pytest.raises(tessera.CompileError, match="cannot find tessera-compile"):
        tessera.compile(tiny[0], "/tmp/never.so")
