#!/usr/bin/env bash
# Builds hptrain here (no GPU needed) against LibTorch 2.x: the LibTorch inside PyPI's torch
# wheel, the version the GPU machine's Python torch has, so that the code behind
# HP_TORCH_VERSION_MAJOR >= 2 compiles, and its CPU tests run, before a GPU is lent.
#   - build-venv/torch2: a venv with torch and torchaudio ${HP_TORCH2_VERSION:-2.11.0} from PyPI
#     (with their CUDA libraries: about 4.6 GB), for scripts/export_encoder.py's newer
#     architectures too (--arch wavlm_base), and what the Python package's tests import (numpy,
#     h5py, soundfile, pytest): its python3 is the package's there, so that Python torch and the
#     LibTorch that wrote a run are one version, as on the GPU machine;
#   - build-venv/torch2/include: Debian's spdlog and fmt headers, searched before torch's own
#     fmt (Debian's spdlog 1.10 does not build with it), as .sysroot/ does on the GPU machine;
#   - build-torch2/: the whole project, CUDA kernels for sm_90, warnings as errors.
# Usage: scripts/build_torch2.sh [--test] [targets...]; exits 75 when PyPI cannot be reached.
#   --test: then run the whole suite against it (GPU tests skip without a device).
set -euo pipefail
cd "$(dirname "$0")/.."
run_tests=0
if [ "${1:-}" = "--test" ]; then
  run_tests=1
  shift
fi
version=${HP_TORCH2_VERSION:-2.11.0}
venv=build-venv/torch2
if ! "$venv/bin/python" -c "import torch, torchaudio, numpy, h5py, soundfile, pytest; assert torch.__version__.startswith('$version')" 2>/dev/null; then
  /usr/bin/python3 -m venv "$venv"
  if ! "$venv/bin/pip" install -q --no-cache-dir "torch==$version" "torchaudio==$version" numpy \
    h5py soundfile pytest; then
    # 75 (EX_TEMPFAIL): PyPI not reached, nothing checked; .ci/run tells it from a failed build
    echo "build_torch2.sh: could not install torch $version from PyPI: LibTorch 2.x not checked" >&2
    exit 75
  fi
fi
torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
mkdir -p "$venv/include"
rm -rf "$venv/include/spdlog" "$venv/include/fmt"
cp -r /usr/include/spdlog /usr/include/fmt "$venv/include/"
export CPATH="$PWD/$venv/include${CPATH:+:$CPATH}"
# TORCH_LIBRARY and c10_LIBRARY by path: find_library would take Debian's libtorch-dev first.
# TORCH_CUDA_ARCH_LIST: without a GPU to detect, torch's CMake would ask nvcc for sm_50, which
# CUDA 13 no longer builds.
cmake -S . -B build-torch2 -G Ninja -DCMAKE_BUILD_TYPE=Release -DHP_WERROR=ON -DHP_PYTHON=ON \
  -DPython3_EXECUTABLE="$PWD/$venv/bin/python" \
  -DCMAKE_PREFIX_PATH="$torch_dir/share/cmake" -DTORCH_LIBRARY="$torch_dir/lib/libtorch.so" \
  -Dc10_LIBRARY="$torch_dir/lib/libc10.so" -DTORCH_CUDA_ARCH_LIST=9.0 -DCMAKE_CUDA_ARCHITECTURES=90
cmake --build build-torch2 -j "$(nproc)" ${1:+--target "$@"}
if [ "$run_tests" = 1 ]; then
  # the launcher of the same torch: the store its agent serves speaks that LibTorch's protocol
  (cd build-torch2 && HP_TORCHRUN="$PWD/../$venv/bin/torchrun" ctest --output-on-failure \
    -j "$(nproc)" --timeout 900)
fi
