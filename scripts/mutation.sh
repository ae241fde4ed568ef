#!/usr/bin/env bash
# Mutation check: applies deliberate wrong changes, one at a time, to a copy of the committed
# sources (git archive HEAD, never this tree), rebuilds the affected test binary, runs it, and
# reports each change as killed (a test failed) or survived (every test passed).
# Usage: scripts/mutation.sh [--out REPORT.md] [--keep] [NAME...]   (names: see `mutants` below)
# Needs the build tools of scripts/test.sh; ccache makes the first build of the copy mostly hits.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=""
keep=0
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    -*) echo "mutation.sh: unknown option '$1'" >&2; exit 2 ;;
    *) only+=("$1"); shift ;;
  esac
done

work=$(mktemp -d /tmp/hp-mutation.XXXXXX)
cleanup() { [ "$keep" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
copy="$work/src"
mkdir -p "$copy"
git archive HEAD | tar -x -C "$copy"
commit=$(git rev-parse --short HEAD)
jobs=$(( $(nproc) < 2 ? $(nproc) : 2 ))
export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache \
  CMAKE_CUDA_COMPILER_LAUNCHER=ccache CCACHE_BASEDIR="$work" CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
build="$copy/build-test"
echo "mutation.sh: copy of $commit in $copy" >&2
cmake -S "$copy" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHP_TESTS=ON -DHP_BENCH=OFF \
  -DHP_WERROR=ON >"$work/configure.log" 2>&1 || { cat "$work/configure.log" >&2; exit 1; }

# One mutant per line: name^file^test binary^gtest filter^python literal old^python literal new
# (the old text must occur exactly once in the file). The first five are issue 30's list.
mutants=$(cat <<'LIST'
group_is_path^cpp/src/data/manifest.cpp^test_data^*^"raw.seg.group = c_group && !f[*c_group].empty() ? f[*c_group] : path;"^"raw.seg.group = c_group && false ? f[*c_group] : path;"
auc_divided_by_k^cpp/src/metrics/metrics.cpp^test_metrics^*^"m.roc_auc = auc_sum / auc_count;"^"m.roc_auc = auc_sum / k;"
auc_weighted_by_class_size^cpp/src/metrics/metrics.cpp^test_metrics^*^"auc_sum += *m.roc_auc_per_class.back();\n      ++auc_count;"^"auc_sum += *m.roc_auc_per_class.back() * m.per_class[c].support;\n      auc_count += static_cast<int>(m.per_class[c].support);"
precision_weighted_unweighted^cpp/src/metrics/metrics.cpp^test_metrics^*^"m.precision_weighted += w * s.precision;"^"m.precision_weighted += s.precision / k;"
recall_weighted_of_precision^cpp/src/metrics/metrics.cpp^test_metrics^*^"m.recall_weighted += w * s.recall;"^"m.recall_weighted += w * s.precision;"
f1_weighted_unweighted^cpp/src/metrics/metrics.cpp^test_metrics^*^"m.f1_weighted += w * s.f1;"^"m.f1_weighted += s.f1 / k;"
macro_over_every_class^cpp/src/metrics/metrics.cpp^test_metrics^*^"if (s.support > 0 || predicted_c > 0) {"^"if (true || s.support > 0 || predicted_c > 0) {"
auc_ties_as_losses^cpp/src/metrics/metrics.cpp^test_metrics^*^"const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;"^"const double avg_rank = static_cast<double>(i + 1) + 0.0 * static_cast<double>(j);"
svm_class_weight_ignored^cpp/src/baselines/svm.cpp^test_baselines^*VsScikitLearn*^"cfg_.C * (cfg_.class_weight == \"balanced\" ? bw[c] : 1.0)"^"cfg_.C * (false && cfg_.class_weight == \"balanced\" ? bw[c] : 1.0)"
svm_not_standardised^cpp/src/baselines/svm.cpp^test_baselines^*VsScikitLearn*^"  if (cfg_.standardize) {\n    for (int64_t c = 0; c < d; ++c) {"^"  if (false && cfg_.standardize) {\n    for (int64_t c = 0; c < d; ++c) {"
svm_platt_3_folds^cpp/src/baselines/svm.cpp^test_baselines^*VsScikitLearn*^"constexpr int kProbFolds = 5;"^"constexpr int kProbFolds = 3;"
gini_cubed^cpp/include/hptrain/baselines/histogram.h^test_baselines^*Forest*:*Threshold*^"r -= mul_rn(p, p);"^"r -= mul_rn(p, mul_rn(p, p));"
importance_without_children^cpp/src/baselines/forest_build.cpp^test_baselines^*Forest*:*Threshold*^"importance[nd.tree][nd.parent_feature] -= nd.weight * nd.impurity;"^"importance[nd.tree][nd.parent_feature] -= 0.0 * nd.weight * nd.impurity;"
mkv_not_media^cpp/src/io/audio.cpp^test_io^*Media*^"\"mov\", \"mkv\","^"\"mov\", \"mkv_\","
all_cores_is_one^cpp/src/common/parallel.cpp^test_common^*Parallel*^"return std::max(1u, std::thread::hardware_concurrency());"^"return std::max(1u, 0u * std::thread::hardware_concurrency());"
end_allowance_zero^cpp/src/data/manifest.cpp^test_data^*Manifest*^"constexpr double kEndTolerance_s = 0.05;"^"constexpr double kEndTolerance_s = 0.0;"
chunk_offset_without_trim^cpp/src/preprocess/process.cpp^test_train^PredictTrimmed*^"c.offset_s = static_cast<double>(plan_.start + next_) / cfg_.sr;"^"c.offset_s = static_cast<double>(0 * plan_.start + next_) / cfg_.sr;"
delta_wrap_as_nearest^cpp/include/hptrain/features/framing.h^test_features^*Option*^"return ((j % frames) + frames) % frames;"^"return j < 0 ? 0 : frames - 1;"
edge_pad_as_zeros^cpp/src/features/workspace.cpp^test_features^*Option*^"lo[i] = y[pad_index(i - pad, n, mode)];"^"lo[i] = 0.0f * y[pad_index(i - pad, n, mode)];"
htk_mel_as_slaney^cpp/src/features/filters.cpp^test_features^*Option*^"if (htk) return 2595.0 * std::log10(1.0 + hz / 700.0);"^"if (htk && false) return 2595.0 * std::log10(1.0 + hz / 700.0);"
lifter_off_by_one^cpp/src/features/spectral.cpp^test_features^*Option*^"std::sin(kPi * (k + 1) / cfg.lifter)"^"std::sin(kPi * k / cfg.lifter)"
std_without_epsilon^cpp/src/models/net.cpp^test_models^*Pooling*^"return torch::cat({mean, (var + 1e-5).sqrt()}, 1);"^"return torch::cat({mean, var.sqrt()}, 1);"
attention_std_unweighted^cpp/src/models/net.cpp^test_models^*Pooling*^"((w * h * h).sum(1) - mean * mean)"^"((h * h).mean(1) - mean * mean)"
eer_left_point^cpp/src/metrics/verification.cpp^test_metrics^*Verification*^"v.eer = p_fa[k - 1] + a * (p_fa[k] - p_fa[k - 1]);"^"v.eer = p_fa[k - 1] + 0.0 * a * (p_fa[k] - p_fa[k - 1]);"
min_dcf_unnormalised^cpp/src/metrics/verification.cpp^test_metrics^*Verification*^"v.min_dcf /= c_default;"^"v.min_dcf /= 1.0 + 0.0 * c_default;"
dcf_prior_on_false_alarms^cpp/src/metrics/verification.cpp^test_metrics^*Verification*^"dcf.c_fa * p_fa[i] * (1 - dcf.p_target);"^"dcf.c_fa * p_fa[i] * dcf.p_target;"
der_collar_ignored^cpp/src/diarization/score.cpp^test_diarization^DiarizationScore.*^"if (zc.covers(t0, t1)) continue;"^"if (false && zc.covers(t0, t1)) continue;"
der_overlap_missed_once^cpp/src/diarization/score.cpp^test_diarization^DiarizationScore.*^"fs.der.missed += d * std::max(0.0, n_ref - n_hyp);"^"fs.der.missed += d * std::max(0.0, std::min(1.0, n_ref) - n_hyp);"
snr_as_amplitude_ratio^cpp/src/data/noise.cpp^test_data^Noise*^"std::pow(10.0, snr_db / 10)"^"std::pow(10.0, snr_db / 20)"
babble_holds_the_speaker^cpp/src/data/noise.cpp^test_data^Noise*^"if (l != speaker) others.push_back(l);"^"others.push_back(l);"
aam_margin_subtracted^cpp/src/models/margin.cpp^test_models^AdditiveAngularMargin.*^"cos * std::cos(m) - sin * std::sin(m);"^"cos * std::cos(m) + sin * std::sin(m);"
cast_never_unknown^cpp/src/speakers/cast.cpp^test_speakers^Cast.*:OpenSet.*^"return best_score >= cast.threshold ? best : -1;"^"return best;"
base_tables_replaced^cpp/src/common/toml_config.cpp^test_common^TomlConfig.*^"if (have != nullptr && have->is_table() && value.is_table()) {"^"if (false && have != nullptr && have->is_table() && value.is_table()) {"
base_errors_name_the_named_file^cpp/src/common/toml_config.cpp^test_common^TomlConfig.*^"return file_of(key) + (line > 0"^"return file_ + (line > 0"
base_paths_from_the_named_file^cpp/src/data/dataset_config.cpp^test_data^DatasetConfig.*^"const stdfs::path from = s.has(key) ? stdfs::path(s.file_of(key)) : file;"^"const stdfs::path from = key != nullptr ? file : file;"
predictions_least_probable^cpp/src/train/run_common.cpp^test_train^Train.CnnLearns*:Train.RandomForest*^"std::max_element(row, row + classes.size())"^"std::min_element(row, row + classes.size())"
rttm_end_unbounded^cpp/src/diarization/rttm.cpp^test_diarization^DiarizationRttm.*^"if (t.onset + t.duration > kMaxRttmSeconds) {"^"if (false) {"
LIST
)

apply() {  # file old new: replaces the one occurrence of old in file
  python3 - "$1" "$2" "$3" <<'PY'
import ast, sys
path, old, new = sys.argv[1], ast.literal_eval(sys.argv[2]), ast.literal_eval(sys.argv[3])
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"{path}: the text to change occurs {text.count(old)} times, not once")
open(path, "w").write(text.replace(old, new))
PY
}

# The mutants to run: those named on the command line, or all.
if [ ${#only[@]} -gt 0 ]; then
  mutants=$(printf '%s\n' "$mutants" | awk -F'^' -v names="${only[*]}" '
    BEGIN { n = split(names, a, " "); for (i = 1; i <= n; ++i) want[a[i]] = 1 }
    ($1 in want) { print; found[$1] = 1 }
    END { for (w in want) if (!(w in found)) { print "mutation.sh: no mutant named " w > "/dev/stderr"; exit 2 } }')
fi

# The unchanged copy first: every test a mutant will run must pass without it, or a "killed"
# would mean nothing.
while IFS='^' read -r target filter; do
  [ -n "$target" ] || continue
  log="$work/baseline-$target.log"
  if ! cmake --build "$build" -j "$jobs" --target "$target" >"$log" 2>&1 ||
     ! (cd "$build" && HP_FORCE_CPU=1 timeout 900 "tests/$target" --gtest_filter="$filter" \
          --gtest_brief=1 >>"$log" 2>&1); then
    echo "mutation.sh: $target ($filter) fails without any change; see $log" >&2
    keep=1
    exit 1
  fi
  echo "mutation.sh: baseline $target ($filter) passes" >&2
done < <(printf '%s\n' "$mutants" | awk -F'^' 'NF >= 4 && !(($3, $4) in seen) {
    seen[$3, $4] = 1; if ($3 in f) f[$3] = f[$3] ":" $4; else f[$3] = $4 }
  END { for (t in f) print t "^" f[t] }')

results=()
survived=0
while IFS='^' read -r name file target filter old new; do
  [ -n "$name" ] || continue
  cp "$copy/$file" "$work/original"
  if ! apply "$copy/$file" "$old" "$new"; then
    results+=("| $name | \`$file\` | $target | not applied |")
    survived=$((survived + 1))
    continue
  fi
  log="$work/$name.log"
  start=$(date +%s)
  if ! cmake --build "$build" -j "$jobs" --target "$target" >"$log" 2>&1; then
    verdict="does not build (says nothing: make it compile)"
    survived=$((survived + 1))
  elif (cd "$build" && HP_FORCE_CPU=1 timeout 900 "tests/$target" --gtest_filter="$filter" \
          --gtest_brief=1 >>"$log" 2>&1); then
    verdict="SURVIVED"
    survived=$((survived + 1))
  else
    failed=$(grep -E '^\[  FAILED  \] [A-Za-z]' "$log" | sed 's/^\[  FAILED  \] //; s/, where GetParam.*//; s/ (.*//' |
             sort -u | head -4 | paste -sd, - | sed 's/,/, /g')
    verdict="killed by ${failed:-a crash}"
  fi
  cp "$work/original" "$copy/$file"
  echo "mutation.sh: $name: $verdict ($(( $(date +%s) - start )) s)" >&2
  results+=("| $name | \`$file\` | $target | $verdict |")
done <<<"$mutants"

report() {
  echo "| mutant | file | tests run | verdict |"
  echo "|---|---|---|---|"
  printf '%s\n' "${results[@]}"
  echo
  echo "$survived of ${#results[@]} changes survived or were not checked (commit $commit)."
}
if [ -n "$out" ]; then report >"$out"; fi
report
[ "$survived" = 0 ]
