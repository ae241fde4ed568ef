#!/usr/bin/env bash
# `hptrain features` end to end against librosa + h5py on one long file, one core, side by side
# in one run (issue 21.1; results in bench/results/2026-12-06-cpu-storage.md).
# Usage: scripts/compare_features_e2e.sh [MINUTES=30] [HPTRAIN=build/hptrain] [WORK=/tmp/hp-e2e]
# Makes a venv (build-venv/librosa, on Debian's numpy/scipy/numba/h5py/soundfile) with librosa
# 0.11.0 from PyPI, a MINUTES-long 16 kHz mono WAV from Wesnoth's music (Debian
# wesnoth-1.16-music, decoded by ffmpeg), then times on CPU 0 only:
#   librosa: every feature of the speech preset called from y as users call them, pooled stats,
#            h5py writing the datasets uncompressed;
#   hptrain features --preset speech --threads 1 --compression C, for C in none lzf gzip:1 gzip:4.
# Each line prints wall seconds, CPU seconds (user + system: what a busy shared machine
# disturbs least), peak RSS (MB) and the output size (MB).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-30}
hptrain=$(realpath "${2:-build/hptrain}")
work=${3:-/tmp/hp-e2e}
mkdir -p "$work"

venv=build-venv/librosa
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install -q "librosa==0.11.0"
fi

wav="$work/long_${minutes}min_16k.wav"
if [ ! -f "$wav" ]; then
  list="$work/tracks.txt"
  : >"$list"
  for f in /usr/share/games/wesnoth/1.16/data/core/music/*.ogg; do echo "file '$f'" >>"$list"; done
  ffmpeg -loglevel error -y -f concat -safe 0 -i "$list" -t $((minutes * 60)) -ac 1 -ar 16000 \
    -c:a pcm_f32le "$wav"
fi

measure() {  # label, output file, command...
  local label=$1 out=$2
  shift 2
  rm -f "$out"
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" taskset -c 0 "$@" >/dev/null
  read -r wall user sys rss <"$work/time.txt"
  printf '%-28s wall %7.2f s  CPU %7.2f s  peak RSS %6.0f MB  output %6.1f MB\n' "$label" \
    "$wall" "$(echo "$user + $sys" | bc -l)" "$(echo "$rss / 1024" | bc -l)" \
    "$(echo "$(stat -c %s "$out") / 1000000" | bc -l)"
}

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
# a warm-up compiles librosa's numba kernels and fills the page cache for both sides
"$venv/bin/python" scripts/features_librosa_h5py.py "$wav" "$work/librosa.h5" --seconds 5
measure "librosa + h5py (none)" "$work/librosa.h5" \
  "$venv/bin/python" scripts/features_librosa_h5py.py "$wav" "$work/librosa.h5"
for c in none lzf gzip:1 gzip:4; do
  measure "hptrain features ($c)" "$work/hp.h5" \
    "$hptrain" features --input "$wav" --out "$work/hp.h5" --preset speech --threads 1 \
    --compression "$c" --log-level warn
done
