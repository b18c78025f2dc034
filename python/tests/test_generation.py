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
    assert cache.capacity == 6 and cache.length == 0
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
