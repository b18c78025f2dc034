"""Session.generate and KVCache on the generated GPT-2 KV-cache export,
against ONNX Runtime's greedy loop (tools/ort/run.js --generate)."""

import os
import subprocess

import numpy as np
import pytest

import tessera
from conftest import ORT_SCRIPT

MODELS = os.environ.get("TESSERA_TEST_MODELS", "")
GPT2_KV = os.path.join(MODELS, "gpt2_kv_op17.onnx")


@pytest.fixture(scope="module")
def gpt2_kv():
    if not os.path.exists(GPT2_KV):
        pytest.skip("the generated models are missing (ctest -R models.generate)")
    return tessera.load(tessera.compile(GPT2_KV))


def prompt():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 100, size=(3, 6), dtype=np.int64)
    mask = np.ones_like(ids)
    mask[1, :2] = 0
    mask[2, :4] = 0
    ids[mask == 0] = 0
    return ids, mask


def test_cache_pairs(gpt2_kv):
    pairs = gpt2_kv.cache_pairs
    assert [p.input for p in pairs][:2] == ["past_key_values.0.key", "past_key_values.0.value"]
    assert [p.output for p in pairs][:2] == ["present.0.key", "present.0.value"]
    assert {p.axis for p in pairs} == {2}
    # tessera-compile builds each present in its own buffer (ABI v5), so the
    # cache grows in place.
    assert all(p.in_place for p in pairs)


def test_generate_matches_onnxruntime(gpt2_kv, tmp_path):
    ids, mask = prompt()
    tokens, logits = gpt2_kv.session(threads=1).generate(
        ids, 12, attention_mask=mask, return_logits=True)
    np.save(tmp_path / "ids.npy", ids)
    np.save(tmp_path / "mask.npy", mask)
    subprocess.run(["node", ORT_SCRIPT, GPT2_KV, "--generate", "12", "--quiet",
                    "--input", "input_ids=%s" % (tmp_path / "ids.npy"),
                    "--input", "attention_mask=%s" % (tmp_path / "mask.npy"),
                    "--output-dir", str(tmp_path / "ort")], check=True, capture_output=True)
    ort_logits = np.load(tmp_path / "ort" / "logits.npy")
    assert tokens.shape == (3, 12) and tokens.dtype == np.int64
    np.testing.assert_array_equal(tokens, np.load(tmp_path / "ort" / "tokens.npy"))
    assert np.max(np.abs(logits - ort_logits)) <= 1e-4 * max(1.0, np.max(np.abs(ort_logits)))


def test_cache_steps_equal_one_run(gpt2_kv):
    """Prefill 4, then 2 steps of 1: the logits of one run on all 6 (at the
    unpadded positions)."""
    ids, mask = prompt()
    session = gpt2_kv.session(threads=1)
    cache = session.kv_cache(6)
    assert cache.capacity == 6 and cache.length == 0 and cache.in_place
    steps = [cache.run({"input_ids": ids[:, :4], "attention_mask": mask[:, :4]})["logits"]]
    for s in (4, 5):
        steps.append(cache.run({"input_ids": ids[:, s:s + 1],
                                "attention_mask": mask[:, :s + 1]})["logits"])
    assert cache.length == 6
    empty = {p.input: np.zeros((3, 4, 0, 16), np.float32) for p in gpt2_kv.cache_pairs}
    whole = session.run(dict(empty, input_ids=ids, attention_mask=mask))["logits"]
    # Padded queries see only masked keys: their (meaningless) outputs
    # depend on how many keys a run has, with ONNX Runtime too.
    real = mask != 0
    np.testing.assert_allclose(np.concatenate(steps, axis=1)[real], whole[real], rtol=0, atol=1e-4)
    cache.reset()
    assert cache.length == 0


def test_cache_errors(gpt2_kv, tiny):
    ids, mask = prompt()
    cache = gpt2_kv.session(threads=1).kv_cache(8)
    with pytest.raises(tessera.InvalidArgumentError, match="bound by the KV cache"):
        cache.run({"input_ids": ids, "attention_mask": mask,
                   "past_key_values.0.key": np.zeros((3, 4, 0, 16), np.float32)})
    with pytest.raises(tessera.InvalidArgumentError, match="holds at most 8 positions"):
        cache.run({"input_ids": np.zeros((3, 9), np.int64),
                   "attention_mask": np.ones((3, 9), np.int64)})
    assert cache.length == 0
    with pytest.raises(tessera.InvalidArgumentError, match="no past/present"):
        tessera.load(tessera.compile(tiny[0])).cache_pairs


def positions_model(vocab=64):
    """A KV-cache model whose next token is its last position id + 1 (the
    logits peak there) and whose cache holds the position ids: it shows the
    position_ids and attention_mask a generation loop feeds."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Cast", ["position_ids"], ["pos"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["pos", "axes13"], ["new"]),
        helper.make_node("Concat", ["past_key_values.0.key", "new"], ["present.0.key"], axis=2),
        helper.make_node("Add", ["pos", "one"], ["next"]),
        helper.make_node("Unsqueeze", ["next", "axes2"], ["target"]),
        helper.make_node("Sub", ["vocab", "target"], ["diff"]),
        helper.make_node("Mul", ["diff", "diff"], ["square"]),
        helper.make_node("Neg", ["square"], ["logits"]),
    ]
    inits = [numpy_helper.from_array(np.array([1, 3], np.int64), "axes13"),
             numpy_helper.from_array(np.array([2], np.int64), "axes2"),
             numpy_helper.from_array(np.array(1.0, np.float32), "one"),
             numpy_helper.from_array(np.arange(vocab, dtype=np.float32), "vocab")]
    b, s, p, t = "batch_size", "sequence_length", "past_sequence_length", \
        "past_sequence_length + sequence_length"
    graph = helper.make_graph(nodes, "positions", [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, [b, s]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [b, t]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, [b, s]),
        helper.make_tensor_value_info("past_key_values.0.key", TensorProto.FLOAT, [b, 1, p, 1]),
    ], [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [b, s, vocab]),
        helper.make_tensor_value_info("present.0.key", TensorProto.FLOAT, [b, 1, t, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def test_generate_feeds_positions_and_mask(tmp_path):
    """Left-padded rows count positions from their first real token, in
    Session.generate, tessera-run --generate and run.js --generate."""
    import onnx

    path = str(tmp_path / "positions.onnx")
    onnx.save(positions_model(), path)
    ids, mask = prompt()
    last = mask.sum(axis=1) - 1  # the position of each row's last token
    want = last[:, None] + 1 + np.arange(5)[None, :]
    lib = tessera.compile(path)
    got = tessera.load(lib).session(threads=1).generate(ids, 5, attention_mask=mask)
    np.testing.assert_array_equal(got, want)
    np.save(tmp_path / "ids.npy", ids)
    np.save(tmp_path / "mask.npy", mask)
    feeds = ["--input", "input_ids=%s" % (tmp_path / "ids.npy"),
             "--input", "attention_mask=%s" % (tmp_path / "mask.npy")]
    runner = os.path.join(os.path.dirname(tessera.__file__), "..", "..", "tools",
                          "tessera-run", "tessera-run")
    runs = [["node", ORT_SCRIPT, path]]
    if os.path.exists(runner):  # the build tree's (not installed)
        runs.append([runner, lib])
    for i, cmd in enumerate(runs):
        out = str(tmp_path / ("out%d" % i))
        subprocess.run(cmd + ["--generate", "5", "--quiet", "--output-dir", out] + feeds,
                       check=True, capture_output=True)
        np.testing.assert_array_equal(np.load(os.path.join(out, "tokens.npy")), want)
