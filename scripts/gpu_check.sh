#!/usr/bin/env bash
# One device call's worth of GPU checks (under 8 minutes): build with CUDA, run the whole test
# suite, compute-sanitizer memcheck + racecheck on the CUDA tests, and the benchmarks.
# Writes build.log, tests.log, sanitizer.log, bench.txt and device.txt to $OUT (or gpu-out/).
# Usage on the GPU machine: source .sysroot/env.sh; scripts/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-out}
mkdir -p "$out"
{ nvidia-smi; python3 -c 'import torch; print("torch", torch.__version__, torch.version.cuda)'; } \
  > "$out/device.txt" 2>&1
if ! timeout 300 scripts/build_gpu.sh build-gpu > "$out/build.log" 2>&1; then
  tail -40 "$out/build.log"
  exit 1
fi
source .sysroot/env.sh 2>/dev/null || true
(cd build-gpu && timeout 150 ctest --output-on-failure -j 8) > "$out/tests.log" 2>&1
echo "ctest exit $?" >> "$out/tests.log"
if [ -x build-gpu/tests/test_cuda ] && command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck; do
    echo "== compute-sanitizer --tool $tool" >> "$out/sanitizer.log"
    timeout 90 compute-sanitizer --tool "$tool" --error-exitcode 3 build-gpu/tests/test_cuda \
      >> "$out/sanitizer.log" 2>&1
    echo "exit $?" >> "$out/sanitizer.log"
  done
fi
for b in build-gpu/bench/bench_*; do
  echo "== $b" >> "$out/bench.txt"
  timeout 60 "$b" --benchmark_min_time=0.2 >> "$out/bench.txt" 2>&1
done
tail -5 "$out/tests.log"
