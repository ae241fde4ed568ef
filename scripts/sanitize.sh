#!/usr/bin/env bash
# Builds the LibTorch-free areas and their tests (features, io, preprocess, data, baselines,
# metrics, common) with AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer into
# build-asan/ and runs them: any invalid access, leak or undefined behaviour fails the run.
# About 9 minutes to build on 2 cores, 40 s to run; not part of CI (scripts/test.sh), run it after
# changes to the CPU kernels, decoders or shard code. LibTorch and CUDA are left out (their own
# allocators and drivers do not sanitize cleanly); compute-sanitizer covers the kernels.
# Usage: scripts/sanitize.sh [extra ctest arguments, e.g. -R Features]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHP_TORCH=OFF -DHP_CUDA=OFF \
  -DHP_BENCH=OFF -DHP_TESTS=ON \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake --build build-asan -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd build-asan
ctest --output-on-failure -j "$jobs" --timeout 1800 "$@"
