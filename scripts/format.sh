#!/usr/bin/env bash
# Formats the C++/CUDA sources with the project's .clang-format; --check only reports.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- 'cpp/*' 'cuda/*' 'tests/*' 'bench/*' 'fuzz/*' 'python/*' |
  grep -E '\.(h|cpp|cu|cuh)$' || true)
[ ${#files[@]} -gt 0 ] || exit 0
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run --Werror "${files[@]}"
  echo "format.sh: ${#files[@]} files formatted correctly"
else
  clang-format -i "${files[@]}"
fi
