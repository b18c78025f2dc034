#!/usr/bin/env bash
# Installs what is needed, builds Tessera, exports the demo model (a small
# encoder-decoder Transformer from "Attention Is All You Need"), compiles it
# once to a shared library that takes any batch size and length, runs it on
# two requests of different lengths, and runs ONNX Runtime on the same
# inputs: outputs and latencies side by side.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${TESSERA_BUILD_DIR:-$here/build}
demo=$build/demo

bash "$here/scripts/setup.sh"
cmake -G Ninja -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" tessera-compile tessera-run
mkdir -p "$demo"
/usr/bin/python3 "$here/tests/models/generate.py" --out-dir "$demo" \
  --only transformer_op17 >/dev/null
model=$demo/transformer_op17.onnx

# Two requests of different lengths: a source sentence of 16 tokens with a
# target prefix of 8, and one of 40 tokens with a prefix of 25.
/usr/bin/python3 - "$demo" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(0)
for tag, (s, t) in {"short": (16, 8), "long": (40, 25)}.items():
    np.save(f"{sys.argv[1]}/src_ids_{tag}.npy", rng.integers(0, 100, (1, s), dtype=np.int64))
    np.save(f"{sys.argv[1]}/tgt_ids_{tag}.npy", rng.integers(0, 100, (1, t), dtype=np.int64))
PY

echo "== Imported model"
"$build/tools/tessera-compile/tessera-compile" "$model" --emit=summary | head -4
echo "== Compiling with Tessera, once, for every batch size and length"
"$build/tools/tessera-compile/tessera-compile" "$model" -o "$demo/demo.so"
for tag in short long; do
  inputs=(--input "src_ids=$demo/src_ids_$tag.npy"
          --input "tgt_ids=$demo/tgt_ids_$tag.npy")
  mkdir -p "$demo/tessera_$tag" "$demo/ort_$tag"
  echo "== Tessera ($tag request)"
  "$build/tools/tessera-run/tessera-run" "$demo/demo.so" "${inputs[@]}" \
    --output-dir "$demo/tessera_$tag" --threads 1 --bench 20
  echo "== ONNX Runtime ($tag request, same input)"
  node "$here/tools/ort/run.js" "$model" "${inputs[@]}" \
    --output-dir "$demo/ort_$tag" --threads 1 --bench 20
  /usr/bin/python3 - "$demo" "$tag" <<'PY'
import sys, numpy as np
d, tag = sys.argv[1], sys.argv[2]
t = np.load(f"{d}/tessera_{tag}/logits.npy")
o = np.load(f"{d}/ort_{tag}/logits.npy")
print(f"== logits {t.shape}: max abs difference Tessera vs ONNX Runtime "
      f"{np.abs(t - o).max():.3g}")
PY
done
