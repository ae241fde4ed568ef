#!/usr/bin/env bash
# Installs every Debian package hptrain needs (idempotent) and builds it in Release into build/.
# Usage: scripts/setup.sh [--no-build] [--compare]   (--compare adds the Python packages that
# the comparison scripts use: scikit-learn, torchaudio; never needed at run time)
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
compare=0
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --compare) compare=1 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build pkg-config git clang-format
  libtorch-dev libopenblas0-openmp libgloo-dev libhdf5-dev liblzf-dev libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libspdlog-dev
  libsndfile1-dev libsoxr-dev libebur128-dev libfftw3-dev libeigen3-dev
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev ffmpeg
  libgtest-dev libbenchmark-dev
  gnuplot-nox
  python3-dev python3-numpy pybind11-dev python3-torch python3-pytest python3-h5py python3-soundfile python3-venv
  hedgewars-data wesnoth-1.16-music wesnoth-1.16-data
)
if [ "$compare" = 1 ]; then
  packages+=(python3-sklearn python3-torchaudio)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: all Debian packages present"
fi

if [ "$build" = 1 ]; then
  # HP_PYTHON=ON: the packages above are there, so a missing one is an error, not a skip
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DHP_TESTS=OFF -DHP_BENCH=OFF \
    -DHP_PYTHON=ON
  cmake --build build --target hptrain hptrain_python
  echo "setup.sh: built build/hptrain and build/python/hptrain (PYTHONPATH=build/python)"
fi
