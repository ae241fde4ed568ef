#!/usr/bin/env bash
# Builds hptrain with its tests (warnings as errors) into build-test/ and runs the whole suite.
# CUDA code is compiled whenever nvcc is present; GPU tests skip without a device.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -R features]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Release -DHP_TESTS=ON -DHP_BENCH=ON -DHP_WERROR=ON
cmake --build build-test -j "$jobs"
scripts/format.sh --check
cd build-test
ctest --output-on-failure -j "$jobs" --timeout 900 "$@"
