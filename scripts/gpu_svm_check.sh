#!/usr/bin/env bash
# The GPU SVM check of issue 21 item 4: the 75,000 x 150 RBF 3-class fit (scikit-learn's
# make_classification files of 2026-11-26-cpu-sklearn-100k.md; C 10, gamma scale, tol 1e-3, no
# probabilities, 2 threads as compare_sklearn.py runs it) on the GPU with the large working set
# (working_set = -1: 512 on the GPU, and 1024) and old-style with LIBSVM's pairwise SMO
# (working_set = 0: the 81 s of 2026-11-26-h100-gpu-checks.md), fit time and test accuracy of
# each, after the GPU tests of the device working set. Builds nothing: it runs what
# `scripts/gpu_check.sh build` left in build-gpu/ (or build/): hptrain and test_baselines.
# Usage on the GPU machine, from the repository root, with .sysroot carried:
#   scripts/gpu_svm_check.sh            # tests, new (q 512, 1024; 512 with all threads, i.e.
#                                       # the three problems at once), old (pairwise, <= 150 s)
#   HP_SVM_CHECK_OLD=0 scripts/gpu_svm_check.sh   # without the old-style fit (saves ~80 s)
# (HP_SVM_CHECK_DEVICE, default cuda, and HP_SVM_CHECK_DATA, a folder with train.h5 and test.h5,
# default build-cmp/synthetic, let the script be tried on a CPU with small files.)
# Device time: about 30 s of data generation (when build-cmp/ is absent), the new fits ~10 s
# each or less, the old one ~80 s. Output: $OUT (default gpu-out/) svm-check.txt, and the
# lines of every fit's JSON in svm-fits.jsonl.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-gpu-out}
dir=build-gpu
[ -x "$dir/hptrain" ] || dir=build
if [ ! -x "$dir/hptrain" ]; then
  echo "gpu_svm_check: no hptrain in build-gpu/ or build/ (run scripts/gpu_check.sh build)" >&2
  exit 1
fi
mkdir -p "$out"
log=$out/svm-check.txt
start=$SECONDS
stamp() { echo "== $1 at $((SECONDS - start)) s" | tee -a "$log"; }
# the binaries load the carried libraries; python keeps its own (as gpu_check.sh)
sysroot_libs="$PWD/.sysroot/usr/lib/x86_64-linux-gnu:$PWD/.sysroot/usr/lib/x86_64-linux-gnu/hdf5/serial"
export LD_LIBRARY_PATH="$sysroot_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
: > "$log"

if [ -x "$dir/tests/test_baselines" ]; then
  timeout 120 "$dir/tests/test_baselines" --gtest_brief=1 --gtest_filter='*WorkingSet*:*Svm*' \
    > "$out/svm-tests.part" 2>&1
  echo "exit $?" >> "$out/svm-tests.part"
  grep -E "PASSED|FAILED|SKIPPED|Failure|^exit" "$out/svm-tests.part" | head -30 | tee -a "$log"
  rm -f "$out/svm-tests.part"
  stamp "working-set tests done"
fi

# the files compare_sklearn.py --export makes (same recipe, float32 before the split, int32
# labels): checksums made here on 2026-11-26 train 18f6ee701e08336d, test eca100126ebdf0c3
data=${HP_SVM_CHECK_DATA:-build-cmp/synthetic}
if [ ! -f "$data/train.h5" ] || [ ! -f "$data/test.h5" ]; then
  mkdir -p "$data"
  env LD_LIBRARY_PATH= python3 -c '
import h5py, numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split
X, y = datasets.make_classification(n_samples=100000, n_features=150, n_informative=20,
    n_redundant=10, n_classes=3, class_sep=1.0, random_state=0)
parts = train_test_split(X.astype(np.float32), y, test_size=0.25, random_state=0, stratify=y)
for name, A, b in (("train", parts[0], parts[2]), ("test", parts[1], parts[3])):
    with h5py.File(f"'"$data"'/{name}.h5", "w") as h:
        h["X"] = np.ascontiguousarray(A, dtype=np.float32)
        h["y"] = np.asarray(b, dtype=np.int32)
' 2>&1 | tail -5 | tee -a "$log"
  stamp "data made"
fi
env LD_LIBRARY_PATH= python3 -c '
import hashlib, h5py
for s in ("train", "test"):
    h = h5py.File(f"build-cmp/synthetic/{s}.h5", "r")
    print(s, h["X"].shape, hashlib.sha256(h["X"][()].tobytes() + h["y"][()].tobytes()).hexdigest()[:16])
' 2>&1 | tee -a "$log"

# fit <label> <seconds> <working_set> [<threads>]: one fit-tabular on the GPU, its summary
fit() {
  local label=$1 seconds=$2 q=$3 threads=${4:-2} json
  json=$(timeout "$seconds" "$dir/hptrain" --log-level debug fit-tabular --train "$data/train.h5" \
    --test "$data/test.h5" --model svm --set kernel=rbf --set C=10 --set gamma=scale \
    --set tol=0.001 --set probability=false --set n_threads="$threads" --set seed=0 \
    --set device="${HP_SVM_CHECK_DEVICE:-cuda}" --set working_set="$q" 2> "$out/svm-$label.log")
  local rc=$?
  grep -E "classes .* vs .*rounds|working set .* rows:|kernel rows on" "$out/svm-$label.log" |
    cut -c1-240 | tee -a "$log"
  if [ $rc -ne 0 ] || [ -z "$json" ]; then
    tail -3 "$out/svm-$label.log" | cut -c1-240 | tee -a "$log"
    echo "$label: exit $rc (124: stopped after $seconds s)" | tee -a "$log"
    rm -f "$out/svm-$label.log"
    return
  fi
  rm -f "$out/svm-$label.log"
  echo "$json" | tr -d '\n' >> "$out/svm-fits.jsonl"
  echo >> "$out/svm-fits.jsonl"
  echo "$json" | env LD_LIBRARY_PATH= python3 -c "
import json, sys
j = json.load(sys.stdin)
i = j.get('info', {})
print('$label: fit %.2f s, test accuracy %.4f, macro-F1 %.4f, %d support vectors, %s SMO steps'
      % (j['fit_s'], j['accuracy'], j['macro_f1'], sum(i.get('n_support', [0])),
         i.get('smo_iterations')))" | tee -a "$log"
}

: > "$out/svm-fits.jsonl"
fit "new-q512" 120 -1
stamp "working set 512 done"
fit "new-q1024" 120 1024
stamp "working set 1024 done"
fit "new-q512-all-threads" 120 -1 0
stamp "working set 512, the three problems at once, done"
if [ "${HP_SVM_CHECK_OLD:-1}" != 0 ]; then
  fit "old-pairwise" 150 0
  stamp "pairwise (old-style) done"
fi
stamp "gpu_svm_check done"
