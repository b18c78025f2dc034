#!/usr/bin/env bash
# Builds and runs one libFuzzer target (clang-19, ASan + UBSan + coverage on
# Tessera's own code), seeded from the lit models, the hostile regression
# models, ONNX's node tests and skeletons of the generated models (their
# graphs with ConstantOfShape for the weights: tests/fuzz/skeleton_models.py);
# runtime seeds are the test model libraries. The generated models are taken
# from $TESSERA_FUZZ_MODELS (default: build/tests/models of this tree; run
# `ctest -R models.generate` there first).
#
#   scripts/fuzz.sh BUILD_DIR import|lower|runtime [libFuzzer options...]
#
# `import` runs the importer and the transforms (up to code generation),
# `lower` goes on through lowering to the LLVM dialect (slower per input);
# both take the same seeds and regression inputs.
#   scripts/fuzz.sh build-fuzz import -runs=1000000      # a long run
#   scripts/fuzz.sh build-fuzz runtime -max_total_time=60 # a bounded run
#
# New corpus entries go to BUILD_DIR/fuzz/corpus-TARGET; a crash leaves its
# input in BUILD_DIR/fuzz/ (copy it to tests/fuzz/regressions/TARGET/ once
# fixed: sanitize.sh replays that directory).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:?build directory}")
target=${2:?import, lower or runtime}
# The seeds and regression inputs of `lower` are those of `import`.
kind=$target
[ "$target" = lower ] && kind=import
shift 2

if ! command -v clang++-19 >/dev/null 2>&1; then
  echo "fuzz.sh: clang++-19 is not installed (scripts/setup.sh installs it)" >&2
  exit 2
fi
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DTESSERA_FUZZ=ON >/dev/null
fi
ninja -C "$build" -j "${TESSERA_JOBS:-2}" "tessera-fuzz-$target" \
  $( [ "$target" = runtime ] && echo tessera-runtime-tests )

work=$build/fuzz
seeds=$work/seeds-$kind
corpus=$work/corpus-$target
mkdir -p "$seeds" "$corpus"
if [ "$kind" = import ]; then
  if [ ! -e "$seeds/.done" ]; then
    n=0
    for f in /usr/share/libonnx-testdata/data/node/*/model.onnx; do
      [ -f "$f" ] || continue
      cp "$f" "$seeds/node-$(basename "$(dirname "$f")").onnx"
      n=$((n + 1))
    done
    find "$here/tests/lit" -name '*.onnxtxt' -exec cp {} "$seeds/" \;
    /usr/bin/python3 "$here/tests/lit/import/Inputs/hostile_models.py" \
      "$work/hostile" >/dev/null
    cp "$work/hostile"/*.onnx "$seeds/"
    models=(${TESSERA_FUZZ_MODELS:-$here/build/tests/models}/*.onnx)
    if [ -f "${models[0]}" ]; then
      /usr/bin/python3 "$here/tests/fuzz/skeleton_models.py" "$seeds" \
        "${models[@]}"
    fi
    touch "$seeds/.done"
  fi
  opts=(-max_len=65536 -timeout=60 -rss_limit_mb=4096)
else
  if [ ! -e "$seeds/.done" ]; then
    for so in "$build"/tests/unit/runtime/models/*.so; do
      { cat "$so"; printf '\0'; } >"$seeds/$(basename "$so").elf"
    done
    head -c 4096 /dev/urandom >"$seeds/random"
    touch "$seeds/.done"
  fi
  opts=(-max_len=200000 -timeout=20 -rss_limit_mb=2048)
fi
regressions=$here/tests/fuzz/regressions/$kind
dirs=("$corpus" "$seeds")
[ -d "$regressions" ] && dirs+=("$regressions")
# Leaks count as failures; MLIR's and LLVM's process-lifetime singletons are
# allocated once and reachable, so they are not reported.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$build/tests/fuzz/tessera-fuzz-$target" "${opts[@]}" \
  -artifact_prefix="$work/" -print_final_stats=1 "$@" "${dirs[@]}"
