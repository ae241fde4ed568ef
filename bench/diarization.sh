#!/usr/bin/env bash
# Diarization measurements (bench/results/2026-12-06-cpu-diarization.md): DER (collar 0.25) of
# the train-free mode on development conversations of voices the demo does not train on, clean
# and with a music bed at 10 dB SNR, each clustering method, with and without resegmentation;
# then the runtime and peak memory of `hptrain diarize` on a 2-hour WAV made by concatenating
# conversations. Needs build-test/ (hptrain, bench/bench_diarization) and python3-scipy.
# With SILERO_JIT=path/to/silero_vad.jit (from the PyPI wheel silero-vad, silero_vad/data/), the
# report sets are also diarized with --vad.
# Usage: bench/diarization.sh [WORK_DIR]   (default /tmp/hp-diarization)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/hp-diarization}
hp=build-test/hptrain
bench=build-test/bench/bench_diarization
mkdir -p "$work"
# calibration set (seed 101) and the sets reported (seed 1); the 2-hour file (seed 7)
[ -f "$work/dev/conversations.csv" ] || $hp make-conversations --out "$work/dev" --count 10 --seed 101
[ -f "$work/clean/conversations.csv" ] || $hp make-conversations --out "$work/clean" --count 10 --seed 1
[ -f "$work/music/conversations.csv" ] ||
  $hp make-conversations --out "$work/music" --count 10 --seed 1 --bed music --snr-db 10
echo "== calibration (dev, seed 101)"
$bench --dev "$work/dev" --threshold-grid
for set in clean music; do
  echo "== $set (seed 1)"
  $bench --dev "$work/$set"
  rm -rf "$work/hyp-$set"
  $hp diarize "$work/$set"/*.wav --out "$work/hyp-$set" --log-level warn >/dev/null
  $hp score-diarization --ref "$work/$set" --hyp "$work/hyp-$set" --collar 0.25 | tail -1
  if [ -n "${SILERO_JIT:-}" ]; then
    echo "-- $set with --vad $SILERO_JIT"
    rm -rf "$work/hyp-$set-silero"
    /usr/bin/time -f "wall %e s" $hp diarize "$work/$set"/*.wav --out "$work/hyp-$set-silero" \
      --vad "$SILERO_JIT" --log-level warn >/dev/null
    $hp score-diarization --ref "$work/$set" --hyp "$work/hyp-$set-silero" --collar 0.25 | tail -1
  fi
done
if [ ! -f "$work/long/film-2h.wav" ]; then
  $hp make-conversations --out "$work/long" --count 100 --seed 7 --log-level warn
  python3 - "$work/long" <<'PY'
import glob, sys
import numpy as np
import scipy.io.wavfile as w
d = sys.argv[1]
x = np.concatenate([w.read(f)[1] for f in sorted(glob.glob(d + "/conv-*.wav"))])
n = 7200 * 16000
while len(x) < n:
    x = np.concatenate([x, x])
w.write(d + "/film-2h.wav", 16000, x[:n].astype(np.float32))
PY
fi
for method in ahc spectral; do
  echo "== 2-hour file, $method"
  rm -rf "$work/hyp-long-$method"
  /usr/bin/time -f "wall %e s, peak RSS %M kB" $hp diarize "$work/long/film-2h.wav" \
    --out "$work/hyp-long-$method" --clustering $method --log-level warn
done
