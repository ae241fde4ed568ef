#!/usr/bin/env bash
# hptrain.features from Python against librosa 0.11 on a 3-second clip, one core
# (bench/python_features_bench.py; results in bench/results/2026-12-06-cpu-python.md).
# Usage: scripts/bench_python.sh [BUILD=build] [extra arguments of the bench]
# Makes the venv build-venv/librosa (on Debian's numpy/scipy/numba) with librosa 0.11.0 from
# PyPI, as scripts/compare_features_e2e.sh does, and pins the run to CPU 0 with one thread
# everywhere (BLAS, OpenMP, numba).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
venv=build-venv/librosa
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install -q "librosa==0.11.0"
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
PYTHONPATH="$build/python" taskset -c 0 "$venv/bin/python" bench/python_features_bench.py "$@"
