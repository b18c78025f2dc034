#!/usr/bin/env bash
# Installs what is needed, builds tessera-compile, exports the demo model (a
# small encoder-decoder Transformer from "Attention Is All You Need") and
# imports it, printing a summary of the imported IR.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${TESSERA_BUILD_DIR:-$here/build}

bash "$here/scripts/setup.sh"
cmake -G Ninja -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" tessera-compile
mkdir -p "$build/demo"
/usr/bin/python3 "$here/tests/models/generate.py" --out-dir "$build/demo" \
  --only transformer_op17
"$build/tools/tessera-compile/tessera-compile" "$build/demo/transformer_op17.onnx" \
  --shape src_ids=1x16 --shape tgt_ids=1x8 --emit=summary
