#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, -fsanitize=fuzzer,address,undefined, LibTorch and
# CUDA off) into build-fuzz/ and runs each for a fixed budget, one process at a time. Seeds come
# from tests/data/fuzz/<target>/ (crashes/ included, so old crashes are retried first); the
# corpus each run grows stays in build-fuzz/corpus/<target>/. A crash, sanitizer report, leak,
# timeout or out-of-memory is saved as tests/data/fuzz/<target>/crashes/<kind>-<sha1> (commit it
# with the fix: tests/fuzz replays it in every build) and the script fails.
# Usage: scripts/fuzz.sh [seconds-per-target (default 60)] [target ...]
#        (targets: manifest toml sndfile ffmpeg rttm; default all)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(manifest toml sndfile ffmpeg rttm)
jobs=${HP_FUZZ_BUILD_JOBS:-$(nproc)}

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DHP_TORCH=OFF -DHP_CUDA=OFF -DHP_TESTS=OFF -DHP_BENCH=OFF -DHP_FUZZ=ON \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  >/dev/null
cmake --build build-fuzz -j "$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}
mkdir -p build-fuzz/logs
failed=0
printf '%-9s %8s %11s %9s %7s %6s %8s\n' target seconds executions exec/s corpus cov crashes
for t in "${targets[@]}"; do
  seeds=tests/data/fuzz/$t
  crashes=$seeds/crashes
  corpus=build-fuzz/corpus/$t
  mkdir -p "$corpus" "$crashes"
  before=$(find "$crashes" -type f | wc -l)
  log=build-fuzz/logs/$t.log
  start=$(date +%s)
  # one process per target (libFuzzer's default, as -jobs=1 without its log files); a hung or
  # huge input fails like a crash
  rc=0
  "build-fuzz/fuzz/fuzz_$t" "$corpus" "$seeds" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$log" 2>&1 || rc=$?
  elapsed=$(($(date +%s) - start))
  after=$(find "$crashes" -type f | wc -l)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  units=$(find "$corpus" -type f | wc -l)
  new=$((after - before))
  printf '%-9s %8s %11s %9s %7s %6s %8s\n' "$t" "$elapsed" "${execs:-?}" "${rate:-?}" "$units" \
    "${cov:-?}" "$new"
  if [ "$rc" -ne 0 ] || [ "$new" -gt 0 ]; then
    failed=1
    echo "fuzz_$t: exit $rc; see $log" >&2
    grep -m1 -A12 'ERROR: \|fuzz finding\|==ERROR\|runtime error' "$log" >&2 || tail -20 "$log" >&2
  fi
done
exit $failed
