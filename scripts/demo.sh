#!/usr/bin/env bash
# Installs what is needed, builds Tessera, exports the demo model (a small
# encoder-decoder Transformer from "Attention Is All You Need"), compiles it
# to a shared library, runs it, and runs ONNX Runtime on the same input:
# outputs and latencies side by side.
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

# One source sentence of 16 tokens and a target prefix of 8.
/usr/bin/python3 - "$demo" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(0)
np.save(f"{sys.argv[1]}/src_ids.npy", rng.integers(0, 100, (1, 16), dtype=np.int64))
np.save(f"{sys.argv[1]}/tgt_ids.npy", rng.integers(0, 100, (1, 8), dtype=np.int64))
PY

echo "== Imported model"
"$build/tools/tessera-compile/tessera-compile" "$model" --emit=summary \
  --shape src_ids=1x16 --shape tgt_ids=1x8 | head -4
echo "== Compiling with Tessera"
"$build/tools/tessera-compile/tessera-compile" "$model" -o "$demo/demo.so" \
  --shape src_ids=1x16 --shape tgt_ids=1x8
inputs=(--input "src_ids=$demo/src_ids.npy" --input "tgt_ids=$demo/tgt_ids.npy")
echo "== Tessera"
mkdir -p "$demo/tessera" "$demo/ort"
"$build/tools/tessera-run/tessera-run" "$demo/demo.so" "${inputs[@]}" \
  --output-dir "$demo/tessera" --threads 1 --bench 20
echo "== ONNX Runtime (same input)"
node "$here/tools/ort/run.js" "$model" "${inputs[@]}" --output-dir "$demo/ort" \
  --threads 1 --bench 20
/usr/bin/python3 - "$demo" <<'PY'
import sys, numpy as np
t = np.load(f"{sys.argv[1]}/tessera/logits.npy")
o = np.load(f"{sys.argv[1]}/ort/logits.npy")
print(f"== logits {t.shape}: max abs difference Tessera vs ONNX Runtime "
      f"{np.abs(t - o).max():.3g}")
PY
