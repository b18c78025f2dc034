#!/usr/bin/env bash
# Installs everything Tessera needs to build and test on Debian bookworm.
# Idempotent: safe to run again; does nothing that is already done.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(
  build-essential cmake ninja-build ccache pkg-config
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools
  libonnx-dev libprotobuf-dev protobuf-compiler
  googletest libgtest-dev
  clang-19 libclang-rt-19-dev libfuzzer-19-dev
  python3 python3-onnx python3-numpy python3-torch python3-torchvision libonnx-testdata
  python3-pybind11 pybind11-dev python3-pytest python3-matplotlib
)
# Node.js and npm: use the machine's if present (nodesource's nodejs bundles npm
# and conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ONNX Runtime (reference oracle and benchmark peer), at the exact version
# pinned in tools/ort/package.json and package-lock.json, so every machine
# measures the same ORT. Its install script only fetches GPU extras and fails
# offline, so skip it: the CPU library ships in the package.
ort="$here/tools/ort"
want=$(sed -n 's/^ *"onnxruntime-node": "\(.*\)"/\1/p' "$ort/package.json")
have=""
if [ -f "$ort/node_modules/onnxruntime-node/package.json" ]; then
  have=$(sed -n 's/^ *"version": "\(.*\)",/\1/p' \
    "$ort/node_modules/onnxruntime-node/package.json" | head -n 1)
fi
if [ "$have" != "$want" ]; then
  (cd "$ort" && npm ci --ignore-scripts --no-audit --no-fund --silent)
fi
