#!/usr/bin/env bash
# Installs what is needed, builds everything and runs every test (ctest: lit,
# GoogleTest, and the generated Transformer models). Ends with ctest's summary.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${TESSERA_BUILD_DIR:-$here/build}

bash "$here/scripts/setup.sh"
# ccache keys on paths relative to the checkout, so every clone (CI's fresh
# one included) shares the cache.
export CCACHE_BASEDIR="$here" CCACHE_NOHASHDIR=1
cmake -G Ninja -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release
ninja -C "$build"
cd "$build"
ctest --output-on-failure -j "$(nproc)"
