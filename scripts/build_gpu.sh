#!/usr/bin/env bash
# Configures and builds hptrain with CUDA on the GPU machine, against the Debian libraries
# carried in .sysroot/ (prepared here with ../shared/tools/device-sysroot.sh; FFmpeg stays
# behind to fit the 64 MiB transfer) and, with --torch, the LibTorch inside its Python torch.
# Sysroot: ../shared/tools/device-sysroot.sh <its default packages> libspdlog-dev libfmt-dev pybind11-dev.
# Its .pc files name /usr and -dev packages left behind, so pkg-config is not used there:
# CMake finds the libraries under CMAKE_PREFIX_PATH instead (hp_find_dep).
# Usage (on the GPU machine, from the repository root):
#   scripts/build_gpu.sh [--torch] [build-dir] [targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
torch=OFF
if [ "${1:-}" = "--torch" ]; then
  torch=ON
  shift
fi
dir=${1:-build-gpu}
shift || true
if [ -f .sysroot/env.sh ]; then
  # shellcheck disable=SC1091
  source .sysroot/env.sh
  # without them the machine's own spdlog is found, and with --torch it meets torch's newer fmt
  if [ ! -d .sysroot/usr/include/spdlog ] || [ ! -d .sysroot/usr/include/fmt ]; then
    echo "build_gpu.sh: .sysroot lacks spdlog or fmt: prepare it with" >&2
    echo "  ../shared/tools/device-sysroot.sh <its default packages> libspdlog-dev libfmt-dev pybind11-dev" >&2
    exit 1
  fi
fi
prefix=${HP_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHP_CUDA=ON -DHP_FFMPEG=OFF \
  -DHP_TORCH="$torch" -DCMAKE_CUDA_ARCHITECTURES=90 -DTORCH_CUDA_ARCH_LIST=9.0 \
  -DHP_TESTS=ON -DHP_BENCH=ON \
  -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON
if [ $# -gt 0 ]; then
  cmake --build "$dir" -j "$(nproc)" --target "$@"
else
  cmake --build "$dir" -j "$(nproc)"
fi
