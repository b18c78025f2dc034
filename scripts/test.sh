#!/usr/bin/env bash
# Installs what is needed, builds everything and runs every test (ctest: lit,
# GoogleTest, and the generated Transformer models). Ends with ctest's summary.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${TESSERA_BUILD_DIR:-$here/build}

bash "$here/scripts/setup.sh"
cmake -G Ninja -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release
ninja -C "$build"
cd "$build"
ctest --output-on-failure -j "$(nproc)"
