#!/usr/bin/env bash
# Builds hptrain and its tests with AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer
# into build-asan/ and runs them: any invalid access, leak or undefined behaviour fails the run.
# Covers every area, the LibTorch ones (models, train, cli) included: our code is instrumented,
# Debian's libtorch is not (its own bugs go unseen; calls into it work, since ASan intercepts
# malloc/free for every library). The fuzz corpus replays too (tests/fuzz), so every saved crash
# runs under the sanitizers. Leaks inside Debian's libraries are suppressed in scripts/lsan.supp.
# CUDA is left out (its driver maps memory ASan's shadow would take); compute-sanitizer covers
# the kernels. Not part of CI (scripts/test.sh): run it after changes to the CPU kernels,
# decoders, shard code or training loop. --no-torch: the LibTorch-free areas only (faster build).
# Usage: scripts/sanitize.sh [--no-torch] [extra ctest arguments, e.g. -R Features]
set -euo pipefail
cd "$(dirname "$0")/.."
torch=ON
if [ "${1:-}" = "--no-torch" ]; then
  torch=OFF
  shift
fi
jobs=$(nproc)
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHP_TORCH=$torch -DHP_CUDA=OFF \
  -DHP_BENCH=OFF -DHP_TESTS=ON \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake --build build-asan -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=0
cd build-asan
ctest --output-on-failure -j "$jobs" --timeout 1800 "$@"
