#!/usr/bin/env bash
# Training speed on the CPU with each BLAS LibTorch can run on (README, "Install and build";
# bench/results/2026-12-07-cpu-blas.md): Debian's reference BLAS and OpenBLAS's serial, pthreads
# and OpenMP builds, picked per run through LD_LIBRARY_PATH (no system setting changes), for the
# shipped CNN, LSTM, transformer and ECAPA experiments and the frozen pretrained GE2E encoder on
# the demo corpus. Each run trains for at most LIMIT seconds (default 40); the figure is the
# last examples/s the progress printed. Needs build/hptrain, the demo's shards, the OpenBLAS
# builds (apt-get install libopenblas0-serial libopenblas0-pthread libopenblas0-openmp) and, for
# GE2E, GE2E_DATASET (the demo with GE2E's front end) and GE2E_WEIGHTS (README, "Pretrained voice
# encoders"); without them GE2E is left out.
# Usage: bench/cpu_blas.sh [OUT_DIR]   (default /tmp/hp-blas)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/hp-blas}
limit=${LIMIT:-40}
lib=/usr/lib/x86_64-linux-gnu
mkdir -p "$out"
declare -A path=([reference]="$lib/blas:$lib/lapack" [serial]="$lib/openblas-serial"
                 [pthreads]="$lib/openblas-pthread" [openmp]="$lib/openblas-openmp")
runs=("cnn experiments/cnn.toml 2" "lstm experiments/lstm.toml 2"
      "transformer experiments/transformer.toml 1" "transformer experiments/transformer.toml 2"
      "ecapa experiments/ecapa.toml 1")
if [ -n "${GE2E_DATASET:-}" ] && [ -n "${GE2E_WEIGHTS:-}" ]; then
  runs+=("ge2e experiments/ge2e-librispeech.toml 2")
fi
printf '%-12s %-8s' experiment threads
for b in reference serial pthreads openmp; do printf ' %10s' "$b"; done
echo
for r in "${runs[@]}"; do
  read -r name toml threads <<<"$r"
  extra=()
  if [ "$name" = ge2e ]; then
    extra=(--set data.dataset="$GE2E_DATASET" --set model.weights="$GE2E_WEIGHTS"
           --set 'experiment.tasks=["character","music","scene"]' --set model.loss_task=character)
  fi
  printf '%-12s %-8s' "$name" "$threads"
  for b in reference serial pthreads openmp; do
    log="$out/$name-$threads-$b.log"
    if [ ! -e "${path[$b]%%:*}/libblas.so.3" ]; then printf ' %10s' "n/a"; continue; fi
    LD_LIBRARY_PATH=${path[$b]} timeout "$limit" build/hptrain --experiment "$toml" \
      --set train.threads="$threads" --set output.dir="$out/run-$name-$threads-$b" "${extra[@]}" \
      >"$log" 2>&1
    printf ' %10s' "$(grep -o '[0-9.]* ex/s' "$log" | tail -1 | cut -d' ' -f1)"
  done
  echo
done
# what each run said it ran on (the device description names the BLAS)
for f in "$out"/*.log; do
  printf '%s: %s\n' "$(basename "$f" .log)" "$(grep -o ' on cpu .*, [0-9]* train' "$f" | head -1)"
done
