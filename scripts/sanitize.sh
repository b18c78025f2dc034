#!/usr/bin/env bash
# The AddressSanitizer + UBSan run (issue #13): builds the compiler, the
# runtime and their tests with clang-19 and -fsanitize=address,undefined
# (plus libFuzzer coverage) in their own tree, runs the lit tests, the
# GoogleTest suites and a small real model through the sanitized tools,
# replays the fuzz regression inputs, and fuzzes each target for
# TESSERA_FUZZ_SECONDS (60) seconds. Any sanitizer report fails the run.
#
#   scripts/sanitize.sh [BUILD_DIR]     (default: build-sanitize)
#
# Without clang-19 it says so and succeeds (scripts/setup.sh installs it).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$here/build-sanitize}")
seconds=${TESSERA_FUZZ_SECONDS:-60}
jobs=${TESSERA_JOBS:-2}

if ! command -v clang++-19 >/dev/null 2>&1; then
  echo "sanitize.sh: clang++-19 is not installed; skipped"
  exit 0
fi
cmake -G Ninja -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DTESSERA_FUZZ=ON >/dev/null
ninja -C "$build" -j "$jobs" tessera-compile tessera-opt tessera-run \
  tessera-unit-tests tessera-runtime-tests tessera-fuzz-import \
  tessera-fuzz-runtime

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build"
# lit and the GoogleTest suites.
ctest --output-on-failure -j "$jobs" -E '^(models\.|onnx_backend|numerics|sanitize)'
# One small real model: imported, fused and compared with ONNX Runtime.
ctest --output-on-failure -j "$jobs" \
  -R '^models\.(generate|import\.transformer_op17|fusion\.transformer_op17)$'

# Regression inputs, then bounded fuzzing.
for target in import runtime; do
  if [ -d "$here/tests/fuzz/regressions/$target" ]; then
    "$build/tests/fuzz/tessera-fuzz-$target" -runs=0 \
      "$here/tests/fuzz/regressions/$target"/*
  fi
  "$here/scripts/fuzz.sh" "$build" "$target" -max_total_time="$seconds"
done
echo "sanitize.sh: clean"
