#!/usr/bin/env bash
# One device call's worth of GPU checks: (1) the kernels without LibTorch: build, CUDA and CPU
# feature tests, compute-sanitizer memcheck (+ racecheck), GPU benchmarks and the torchaudio
# comparison; (2) with the time left, the LibTorch (CUDA) build and its tests.
# Writes device.txt, build.log, tests.log, sanitizer.log, bench.txt, compare.txt, torch.log to
# $OUT (default gpu-out/). HP_GPU_CHECK_QUICK=1 keeps to tests, memcheck and the whole-set bench
# (about 3 minutes); HP_GPU_CHECK_TORCH=0 leaves out part (2); the full run takes about 7.
# Usage on the GPU machine, from the repository root (with .sysroot carried):
#   scripts/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-out}
quick=${HP_GPU_CHECK_QUICK:-0}
mkdir -p "$out"
start=$SECONDS
stamp() { echo "$1 at $((SECONDS - start)) s"; }
{ nvidia-smi; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; } \
  > "$out/device.txt" 2>&1

if ! timeout 240 scripts/build_gpu.sh build-gpu test_cuda test_features bench_cuda_features \
     > "$out/build.log" 2>&1; then
  stamp "kernel build FAILED"; tail -40 "$out/build.log"; exit 1
fi
stamp "kernel build done"
# the test and bench binaries load the carried libraries; python (below) keeps its own
sysroot_libs="$PWD/.sysroot/usr/lib/x86_64-linux-gnu:$PWD/.sysroot/usr/lib/x86_64-linux-gnu/hdf5/serial"
export LD_LIBRARY_PATH="$sysroot_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
{
  timeout 60 build-gpu/tests/test_cuda --gtest_brief=1; echo "test_cuda exit $?"
  timeout 30 build-gpu/tests/test_features --gtest_brief=1; echo "test_features exit $?"
} > "$out/tests.log" 2>&1
grep -E "PASSED|FAILED|exit" "$out/tests.log"
tools=(memcheck racecheck)
[ "$quick" = 1 ] && tools=(memcheck)
for tool in "${tools[@]}"; do
  # CudaErrors.* provoke API errors on purpose
  { echo "== compute-sanitizer --tool $tool"
    timeout 100 compute-sanitizer --tool "$tool" --error-exitcode 3 build-gpu/tests/test_cuda \
      --gtest_brief=1 --gtest_filter=-CudaErrors.*
    echo "$tool exit $?"; } >> "$out/sanitizer.log" 2>&1
done
grep -E "SUMMARY|exit" "$out/sanitizer.log"
stamp "tests done"
filter=.
[ "$quick" = 1 ] && filter='BM_all'
timeout 150 build-gpu/bench/bench_cuda_features --benchmark_min_time=0.05 \
  --benchmark_filter="$filter" > "$out/bench.txt" 2>&1
grep -E "^BM_all" "$out/bench.txt"
if [ "$quick" != 1 ]; then
  for case in BM_mel_mfcc BM_mel_mfcc_f32; do
    timeout 80 env LD_LIBRARY_PATH= HP_BENCH_LD_LIBRARY_PATH="$LD_LIBRARY_PATH" \
      python3 scripts/compare_torchaudio_gpu.py --case "$case" \
      --bench build-gpu/bench/bench_cuda_features >> "$out/compare.txt" 2>&1
  done
  cat "$out/compare.txt"
fi
stamp "kernel checks done"

if [ "$quick" != 1 ] && [ "${HP_GPU_CHECK_TORCH:-1}" = 1 ]; then
  { timeout 200 scripts/build_gpu.sh --torch build-gpu-torch test_models test_train hptrain &&
      timeout 60 build-gpu-torch/tests/test_models --gtest_brief=1 &&
      timeout 90 build-gpu-torch/tests/test_train --gtest_brief=1; echo "torch exit $?"; } \
    > "$out/torch.log" 2>&1
  tail -3 "$out/torch.log"
fi
stamp "gpu_check done"
