"""An unmodified script written against onnxruntime's Python API runs on
Tessera with only its import and class name changed, and gives ONNX
Runtime's results."""

import difflib
import os
import subprocess
import sys

import numpy as np

import tessera
from conftest import run_ort

HERE = os.path.dirname(os.path.abspath(__file__))


def test_ort_script(tiny, tmp_path):
    original = open(os.path.join(HERE, "ort_script.py")).read()
    ported = (original.replace("import onnxruntime\n", "import tessera\n")
              .replace("onnxruntime.InferenceSession", "tessera.InferenceSession"))
    changed = [l for l in difflib.unified_diff(original.splitlines(), ported.splitlines(), n=0)
               if l.startswith("+") and not l.startswith("+++")]
    assert len(changed) == 2 and changed[0] == "+import tessera", changed
    assert "tessera.InferenceSession(model_path" in changed[1]
    script = tmp_path / "tessera_script.py"
    script.write_text(ported)
    out = tmp_path / "out.npz"
    proc = subprocess.run([sys.executable, str(script), tiny[0], str(out)],
                          stdout=subprocess.PIPE, check=True)
    assert proc.stdout.decode() == "y: float32 (2, 2, 32)\n"
    data = np.load(out)
    feeds = {"ids": data["ids"], "x": data["x"]}
    ref = run_ort(tiny[0], feeds, str(tmp_path / "ort"))
    np.testing.assert_allclose(data["out_y"], ref["y"], rtol=1e-5, atol=1e-5)


def test_node_args(tiny):
    sess = tessera.InferenceSession(tiny[0])
    assert [(a.name, a.shape, a.type) for a in sess.get_inputs()] == [
        ("ids", ["batch", "seq"], "tensor(int64)"), ("x", ["batch", "seq", 16], "tensor(float)")]
    assert [(a.name, a.shape, a.type) for a in sess.get_outputs()] == [
        ("y", ["batch", "seq", 32], "tensor(float)")]
    assert sess.get_providers() == ["CPUExecutionProvider"]
    options = tessera.SessionOptions()
    options.intra_op_num_threads = 1
    assert tessera.InferenceSession(tiny[0], options).model.session().num_threads >= 1
    assert tessera.InferenceSession(tiny[0], options)._session.num_threads == 1
