#!/usr/bin/env bash
# Dependencies run one way (docs/architecture.md): a lower library's archive uses no symbol that
# a library above it defines. Pairs "lower:upper" of archive paths; a pair whose archive is absent
# (HP_CUDA=OFF) is skipped. Exit 1 naming each pair and symbol that goes upwards.
# Usage: one_way.sh LOWER.a:UPPER.a ...
set -euo pipefail
status=0
for pair in "$@"; do
  lower=${pair%%:*}
  upper=${pair#*:}
  if [ ! -f "$lower" ] || [ ! -f "$upper" ]; then
    echo "skip $(basename "$lower") -> $(basename "$upper"): not built"
    continue
  fi
  up=$(comm -12 <(nm -C --undefined-only "$lower" | sed 's/^ *U //' | sort -u) \
                <(nm -C --defined-only "$upper" | awk '$2 ~ /^[TWVBDR]$/' | cut -d' ' -f3- | sort -u))
  if [ -n "$up" ]; then
    echo "$(basename "$lower") uses what $(basename "$upper") above it defines:"
    echo "$up" | sed 's/^/  /'
    status=1
  else
    echo "ok $(basename "$lower") -> $(basename "$upper"): nothing upwards"
  fi
done
exit $status
