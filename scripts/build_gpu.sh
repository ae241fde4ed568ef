#!/usr/bin/env bash
# Configures and builds the whole project with CUDA on the GPU machine, against the LibTorch
# inside its Python torch and the Debian libraries carried in .sysroot/ (prepared here with
# ../shared/tools/device-sysroot.sh; FFmpeg stays behind to fit the 64 MiB transfer).
# Usage (on the GPU machine, from the repository root): scripts/build_gpu.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-gpu}
if [ -f .sysroot/env.sh ]; then
  # shellcheck disable=SC1091
  source .sysroot/env.sh
fi
prefix=${HP_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHP_CUDA=ON -DHP_FFMPEG=OFF \
  -DCMAKE_CUDA_ARCHITECTURES=90 -DHP_TESTS=ON -DHP_BENCH=ON -DCMAKE_PREFIX_PATH="$prefix"
cmake --build "$dir" -j "$(nproc)"
