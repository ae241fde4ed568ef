#!/usr/bin/env bash
# The GPU checks of one session, in sections that fit one device call each:
#   kernels    build the kernels without LibTorch; CUDA feature + baseline twin tests, CPU feature
#              tests, compute-sanitizer memcheck and racecheck, feature benchmarks and the
#              torchaudio comparison (about 5 minutes)
#   baselines  SVM/RF fits on the GPU (bench_cuda_baselines) (about 2 minutes; after kernels)
#   torch      the whole program against the machine's LibTorch (CUDA): model, training, CLI and
#              zero-copy hand-off tests (training on CUDA in float32 and bf16), the training
#              benchmark with the device's data-wait fraction, and our side of the scikit-learn
#              comparison when build-cmp/ was carried (about 4 minutes)
# Usage on the GPU machine, from the repository root, with .sysroot carried:
#   scripts/gpu_check.sh [kernels] [baselines] [torch]     (no argument: all three)
# Two calls on one warm machine fit a session: `kernels baselines`, then `torch` (build folders
# stay on the machine between calls while it is warm). HP_GPU_CHECK_QUICK=1 leaves out racecheck
# and keeps the benchmarks to the whole feature set. Output goes to $OUT (default gpu-out/):
# device.txt, <section>-build.log, tests.log, sanitizer.log, bench.txt, compare.txt,
# baselines.txt, torch.log, train-bench.txt, sklearn-ours.json.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-out}
quick=${HP_GPU_CHECK_QUICK:-0}
sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(kernels baselines torch)
mkdir -p "$out"
start=$SECONDS
stamp() { echo "== $1 at $((SECONDS - start)) s"; }
{ nvidia-smi; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; } \
  > "$out/device.txt" 2>&1
# the test and bench binaries load the carried libraries; python keeps its own
sysroot_libs="$PWD/.sysroot/usr/lib/x86_64-linux-gnu:$PWD/.sysroot/usr/lib/x86_64-linux-gnu/hdf5/serial"
export LD_LIBRARY_PATH="$sysroot_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# build <log> <build_gpu.sh arguments...>: stops the script when the build fails
build() {
  local log=$1
  shift
  if ! timeout 300 scripts/build_gpu.sh "$@" > "$out/$log" 2>&1; then
    stamp "build FAILED ($log)"
    tail -40 "$out/$log"
    exit 1
  fi
  stamp "built ($log)"
}

# The kernels written since the last sanitizer run, for racecheck (memcheck covers everything).
new_kernels='Cases/Twin.EstimateTuning*:Cases/Twin.StftMelFused*:Cases/Twin.SpectralContrast*'
new_kernels+=':Cases/Twin.Chroma*:ContrastManyBands.*:Cases/Extract.MelChain*'
new_kernels+=':Sizes/KernelRowsTest.*:Configs/GpuForestTest.*'

kernels() {
  build kernels-build.log build-gpu test_cuda test_features test_baselines bench_cuda_features \
    bench_cuda_baselines
  {
    timeout 150 build-gpu/tests/test_cuda --gtest_brief=1; echo "test_cuda exit $?"
    timeout 60 build-gpu/tests/test_features --gtest_brief=1; echo "test_features exit $?"
    timeout 60 build-gpu/tests/test_baselines --gtest_brief=1; echo "test_baselines exit $?"
  } > "$out/tests.log" 2>&1
  grep -E "PASSED|FAILED|exit" "$out/tests.log"
  # CudaErrors.* provoke API errors on purpose
  { echo "== memcheck"
    timeout 240 compute-sanitizer --tool memcheck --error-exitcode 3 build-gpu/tests/test_cuda \
      --gtest_brief=1 --gtest_filter=-CudaErrors.*
    echo "memcheck exit $?"; } >> "$out/sanitizer.log" 2>&1
  if [ "$quick" != 1 ]; then
    { echo "== racecheck"
      timeout 120 compute-sanitizer --tool racecheck --error-exitcode 3 build-gpu/tests/test_cuda \
        --gtest_brief=1 --gtest_filter="$new_kernels"
      echo "racecheck exit $?"; } >> "$out/sanitizer.log" 2>&1
  fi
  grep -E "SUMMARY|exit" "$out/sanitizer.log"
  stamp "kernel tests done"
  local filter='BM_(stft|stft_mel|mel|mel_mfcc_staged|mel_mfcc|mel_mfcc_f32|tuning|contrast|chroma|all|all_f32|all_estimated_tuning)/'
  [ "$quick" = 1 ] && filter='BM_all/'
  timeout 150 build-gpu/bench/bench_cuda_features --benchmark_min_time=0.2 \
    --benchmark_filter="$filter" > "$out/bench.txt" 2>&1
  grep -E "^BM_(all|mel_mfcc)" "$out/bench.txt"
  if [ "$quick" != 1 ]; then
    timeout 90 env LD_LIBRARY_PATH= HP_BENCH_LD_LIBRARY_PATH="$LD_LIBRARY_PATH" \
      python3 scripts/compare_torchaudio_gpu.py --bench build-gpu/bench/bench_cuda_features \
      > "$out/compare.txt" 2>&1
    cat "$out/compare.txt"
  fi
  stamp "kernel benchmarks done"
}

baselines() {
  [ -x build-gpu/bench/bench_cuda_baselines ] || build kernels-build.log build-gpu bench_cuda_baselines
  timeout 150 build-gpu/bench/bench_cuda_baselines \
    --benchmark_filter='BM_ForestFit/100000/1|BM_SvmFit/20000/1' > "$out/baselines.txt" 2>&1
  if [ "$quick" != 1 ]; then
    timeout 200 build-gpu/bench/bench_cuda_baselines --benchmark_filter='BM_SvmFit/100000/1' \
      >> "$out/baselines.txt" 2>&1
  fi
  grep -E "^BM_" "$out/baselines.txt"
  stamp "baselines done"
}

torch() {
  build torch-build.log --torch build-gpu-torch hptrain test_models test_train test_cli \
    bench_train
  {
    timeout 60 build-gpu-torch/tests/test_models --gtest_brief=1; echo "test_models exit $?"
    timeout 150 build-gpu-torch/tests/test_train --gtest_brief=1; echo "test_train exit $?"
    timeout 120 build-gpu-torch/tests/test_cli --gtest_brief=1; echo "test_cli exit $?"
  } > "$out/torch.log" 2>&1
  grep -E "PASSED|FAILED|exit" "$out/torch.log"
  stamp "torch tests done"
  timeout 180 build-gpu-torch/bench/bench_train --benchmark_filter='experiment' \
    > "$out/train-bench.txt" 2>&1
  grep -E "^experiment" "$out/train-bench.txt"
  stamp "training benchmark done"
  # our side of the 100,000-row comparison; build-cmp/ comes from compare_sklearn.py --export
  if [ -d build-cmp ]; then
    timeout 240 env LD_LIBRARY_PATH= HP_BENCH_LD_LIBRARY_PATH="$LD_LIBRARY_PATH" \
      python3 scripts/compare_sklearn.py --data build-cmp --hptrain build-gpu-torch/hptrain \
      --rf-seeds 1 --svm-probability false --only ours --device cuda \
      --times "$out/sklearn-ours.json" > "$out/sklearn-ours.txt" 2>&1
    tail -5 "$out/sklearn-ours.txt"
    stamp "scikit-learn comparison (our side) done"
  fi
}

for s in "${sections[@]}"; do
  case $s in
    kernels | baselines | torch) "$s" ;;
    *) echo "unknown section '$s' (kernels, baselines, torch)" >&2; exit 2 ;;
  esac
done
stamp "gpu_check done"
