#!/usr/bin/env bash
# The storage measurements behind the `compression` defaults (issue 21.1; results in
# bench/results/2026-12-06-cpu-storage.md), on one core where it matters:
#   features  scripts/compare_features_e2e.sh: `hptrain features` per compression against
#             librosa + h5py on one long file
#   prepare   `hptrain prepare` of a folder-per-class dataset of real audio (Wesnoth music,
#             Hedgewars voices: Debian packages) per compression: time and size of the shards
#   read      bench_data's random minibatches streamed from shards written per compression
#             (the read side of training when a split does not fit the cache)
# Usage: scripts/bench_storage.sh [features] [prepare] [read]   (default: all)
# Needs build-test/hptrain and build-test/bench/bench_data (-DHP_BENCH=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(features prepare read)
work=${WORK:-/tmp/hp-storage}
mkdir -p "$work"
bin=build-test
for s in "${sections[@]}"; do
  case "$s" in
    features) scripts/compare_features_e2e.sh "${MINUTES:-30}" "$bin/hptrain" "$work" ;;
    prepare)
      root="$work/audio"
      if [ ! -d "$root" ]; then
        mkdir -p "$root/music" "$root/speech"
        for f in /usr/share/games/wesnoth/1.16/data/core/music/{battle,elvish-theme,frantic,knolls}.ogg; do
          [ -f "$f" ] && ln -sf "$f" "$root/music/"
        done
        cp -r /usr/share/games/hedgewars/Data/Sounds/voices/{Default,British,Classic} "$root/speech/"
      fi
      for c in none lzf gzip:1 gzip:4; do
        tag=${c/:/}
        cat >"$work/storage-$tag.toml" <<TOML
name = "storage"
audio_root = "audio"
output = "shards-$tag"
compression = "$c"
[tasks]
kind = ["music", "speech"]
[split]
train = 0.8
validation = 0.1
test = 0.1
TOML
        rm -rf "$work/shards-$tag"
        /usr/bin/time -f "%e" -o "$work/time.txt" taskset -c 0 "$bin/hptrain" prepare \
          --dataset "$work/storage-$tag.toml" --log-level warn >/dev/null
        printf 'prepare (%s): %s s, shards %s MB\n' "$c" "$(cat "$work/time.txt")" \
          "$(du -cm "$work/shards-$tag"/*.h5 | tail -1 | cut -f1)"
      done
      ;;
    read)
      for c in none lzf gzip:1 gzip:4; do
        HP_BENCH_COMPRESSION=$c taskset -c 0 "$bin/bench/bench_data" \
          --benchmark_filter='BM_RandomBatch/[01]/64/0' --benchmark_repetitions=3 \
          --benchmark_report_aggregates_only=true 2>&1 | grep -E "shards:|median"
      done
      ;;
    *) echo "bench_storage.sh: unknown section '$s'" >&2; exit 2 ;;
  esac
done
