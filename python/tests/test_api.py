"""The native API: tessera.compile, load, Model, Session, fusion_report; the
compile cache; zero-copy inputs and outputs that own their memory; the
runtime module links only the thin runtime."""

import gc
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest

import tessera
import tessera.runtime
from conftest import tiny_inputs, tiny_model, tiny_reference


def test_compile_load_run(tiny, tiny_lib):
    model = tessera.load(tiny_lib)
    assert [t.name for t in model.inputs] == ["ids", "x"]
    assert [t.name for t in model.outputs] == ["y"]
    ids, x = model.inputs
    assert ids.dtype == np.int64 and ids.type == "tensor(int64)"
    assert x.dtype == np.float32 and x.type == "tensor(float)"
    assert ids.shape == ["batch", "seq"] and x.shape == ["batch", "seq", 16]
    assert ids.index_range == (-50, 49)  # Gather accepts negative indices
    assert set(model.dims) == {"batch", "seq"}
    assert model.dims["seq"].max is None
    assert model.target_cpu
    session = model.session(threads=1)
    assert session.num_threads == 1
    for batch, seq in ((1, 1), (2, 3), (3, 17)):
        feeds = tiny_inputs(batch, seq)
        out = session.run(feeds)
        assert list(out) == ["y"]
        y = out["y"]
        assert y.shape == (batch, seq, 32) and y.dtype == np.float32
        np.testing.assert_allclose(y, tiny_reference(tiny[1], feeds), rtol=1e-5, atol=1e-5)
        assert model.output_shapes({n: a.shape for n, a in feeds.items()}) == {"y": y.shape}


def test_compile_options(tiny, tmp_path):
    pinned = tessera.load(tessera.compile(tiny[0], tmp_path / "pinned.so",
                                          shapes={"ids": (2, 3), "x": (2, 3, 16)}))
    assert pinned.inputs[1].shape == [2, 3, 16] and pinned.dims == {}
    bounded = tessera.load(tessera.compile(tiny[1], tmp_path / "bounded.so",
                                           dims={"batch": 1, "seq": (1, 8)}))
    assert bounded.inputs[0].shape == [1, "seq"]
    assert bounded.dims["seq"] == tessera.Dim("seq", 1, 8)
    with pytest.raises(tessera.InvalidArgumentError, match="1..8"):
        bounded.session(1).run(tiny_inputs(1, 9))
    unfused = tessera.compile(tiny[0], tmp_path / "unfused.so", fuse=False,
                              external_weights=True)
    assert os.path.isfile(unfused + ".weights")
    feeds = tiny_inputs(1, 4)
    np.testing.assert_allclose(tessera.load(unfused).session(1).run(feeds)["y"],
                               bounded.session(1).run(feeds)["y"], rtol=1e-5, atol=1e-5)


def test_cache(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("TESSERA_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "m.onnx"
    onnx.save(tiny[1], str(path))
    first = tessera.compile(str(path))
    assert first.startswith(str(tmp_path / "cache"))
    mtime = os.stat(first).st_mtime_ns
    assert tessera.compile(str(path)) == first  # cached: not recompiled
    assert os.stat(first).st_mtime_ns == mtime
    assert tessera.compile(tiny[1]) == first  # the same bytes as a ModelProto
    assert tessera.compile(str(path), fuse=False) != first  # other options
    onnx.save(tiny_model(seed=5), str(path))  # the file changed
    changed = tessera.compile(str(path))
    assert changed != first
    sess = tessera.InferenceSession(str(path), threads=1)
    assert sess.library_path == changed


def test_fusion_report(tiny):
    report = tessera.fusion_report(tiny[0])
    assert report["fused"]["tessera.matmul"] == 1
    assert report["fused"]["tessera.attention"] == 0
    assert report["unfused"] == []


def test_inputs_zero_copy_outputs_own_memory(tiny_lib):
    model = tessera.load(tiny_lib)
    feeds = tiny_inputs(2, 3)
    for info in model.inputs:
        assert tessera.runtime._as_input(info, feeds[info.name]) is feeds[info.name]
    session = model.session(1)
    y = session.run(feeds)["y"]
    expected = y.copy()
    assert y.flags.writeable and y.flags.c_contiguous
    assert y.ctypes.data % 64 == 0  # the runtime's 64-byte aligned block
    del session, model
    gc.collect()
    np.testing.assert_array_equal(y, expected)  # still valid
    y += 1  # and ours



def test_inputs_are_not_written(tmp_path):
    """The runtime takes inputs as const: an op that updates its operand
    (ScatterND, ScatterElements on a graph input) writes a copy, never the
    caller's array."""
    from onnx import TensorProto, helper
    nodes = [helper.make_node("ScatterND", ["data", "idx", "upd"], ["y"], name="scatter_nd"),
             helper.make_node("ScatterElements", ["data2", "idx2", "upd2"], ["z"],
                              axis=1, name="scatter_elements")]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
         for n, s in (("data", [4, 3]), ("upd", [1, 3]), ("data2", [2, 5]), ("upd2", [2, 1]))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 5])],
        [helper.make_tensor("idx", TensorProto.INT64, [1, 1], [2]),
         helper.make_tensor("idx2", TensorProto.INT64, [2, 1], [4, 0])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "scatter.onnx"
    onnx.save(model, str(path))
    session = tessera.load(tessera.compile(str(path), tmp_path / "scatter.so")).session(1)
    rng = np.random.default_rng(3)
    feeds = {"data": rng.standard_normal((4, 3), dtype=np.float32),
             "upd": rng.standard_normal((1, 3), dtype=np.float32),
             "data2": rng.standard_normal((2, 5), dtype=np.float32),
             "upd2": rng.standard_normal((2, 1), dtype=np.float32)}
    before = {n: a.copy() for n, a in feeds.items()}
    out = session.run(feeds)
    for name, array in feeds.items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)
    y = before["data"].copy()
    y[2] = before["upd"][0]
    z = before["data2"].copy()
    z[0, 4], z[1, 0] = before["upd2"][0, 0], before["upd2"][1, 0]
    np.testing.assert_array_equal(out["y"], y)
    np.testing.assert_array_equal(out["z"], z)

def test_runtime_links_no_llvm():
    module = tessera.runtime._runtime.__file__
    needed = subprocess.run(["readelf", "-d", module], stdout=subprocess.PIPE,
                            check=True).stdout.decode()
    assert "NEEDED" in needed
    for lib in ("LLVM", "MLIR", "protobuf", "onnx"):
        assert lib not in needed, needed
    # Importing the package and running a model maps no LLVM either.
    code = ("import tessera, sys; m = open('/proc/self/maps').read(); "
            "sys.exit('LLVM' in m or 'MLIR' in m)")
    subprocess.run([sys.executable, "-c", code], check=True)
