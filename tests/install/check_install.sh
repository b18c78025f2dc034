#!/usr/bin/env bash
# Installs the build tree into a fresh prefix and uses the installation as a
# user would: the tools from PREFIX/bin, the C example built with CMake
# (find_package(TesseraRuntime)) and with pkg-config, and the Python package
# from PREFIX's dist-packages, which must find the installed tessera-compile.
#
#   check_install.sh SOURCE_DIR BUILD_DIR WORK_DIR PYTHON_INSTALL_DIR
set -euo pipefail
src=$1 build=$2 work=$3 pydir=$4
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
for f in bin/tessera-compile bin/tessera-run bin/tessera-opt lib/libtessera_runtime.so \
         lib/libtessera_runtime.a include/tessera/runtime.h include/tessera/abi.h \
         lib/cmake/TesseraRuntime/TesseraRuntimeConfig.cmake lib/pkgconfig/tessera-runtime.pc \
         "$pydir/tessera/__init__.py"; do
  [ -e "$prefix/$f" ] || { echo "missing $prefix/$f"; exit 1; }
done
ls "$prefix/$pydir"/tessera/_runtime*.so > /dev/null

# A model with a dynamic dimension, compiled by the installed compiler.
cat > "$work/tiny.onnxtxt" <<'MODEL'
<ir_version: 8, opset_import: ["" : 17]>
tiny (float[batch, 4] x) => (float[batch, 4] y) {
  two = Constant <value = float[1] {2.0}> ()
  y = Mul (x, two)
}
MODEL
"$prefix/bin/tessera-compile" "$work/tiny.onnxtxt" -o "$work/tiny.so"
"$prefix/bin/tessera-run" "$work/tiny.so" --describe

expected="y: float32 [3, 4] 2 2 2 2"
# The C example, with CMake...
cmake -G Ninja -S "$src/examples/c" -B "$work/example" -DCMAKE_PREFIX_PATH="$prefix" \
  > "$work/example.log"
cmake --build "$work/example" >> "$work/example.log"
out=$("$work/example/run_model" "$work/tiny.so" batch=3)
[ "$out" = "$expected" ] || { echo "cmake-built run_model printed '$out'"; exit 1; }
# ...and with pkg-config.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cc "$src/examples/c/run_model.c" -o "$work/run_model_pc" \
  $(pkg-config --cflags --libs tessera-runtime)
out=$("$work/run_model_pc" "$work/tiny.so" batch=3)
[ "$out" = "$expected" ] || { echo "pkg-config-built run_model printed '$out'"; exit 1; }

# The Python package, installed: it compiles with the installed compiler.
env -u TESSERA_COMPILE PATH=/usr/bin:/bin PYTHONPATH="$prefix/$pydir" \
  TESSERA_CACHE_DIR="$work/cache" /usr/bin/python3 - "$prefix" "$work" <<'PY'
import os, sys
import numpy as np
import tessera
prefix, work = sys.argv[1:]
assert tessera.__file__.startswith(prefix), tessera.__file__
assert os.path.samefile(tessera.compiler.find_compiler(), prefix + "/bin/tessera-compile")
sess = tessera.InferenceSession(work + "/tiny.onnxtxt")
y, = sess.run(None, {"x": np.ones((3, 4), np.float32)})
assert (y == 2).all() and y.shape == (3, 4), y
print("python: InferenceSession from", os.path.dirname(tessera.__file__))
PY
echo "install check passed"
