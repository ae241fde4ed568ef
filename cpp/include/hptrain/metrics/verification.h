// Speaker-verification metrics of scored trials (same speaker or not): equal error rate, NIST's
// normalised minimum detection cost, and the threshold at the EER; matches WeSpeaker's
// compute_eer / compute_c_norm (wespeaker/bin/compute_metrics.py) on sklearn.metrics.roc_curve's
// points. Scores: higher = more alike (cosine); a trial is accepted when score >= threshold.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace hptrain::metrics {

struct DcfConfig {
  double p_target = 0.01;  // prior of a target (same-speaker) trial
  double c_miss = 1;       // cost of a missed target
  double c_fa = 1;         // cost of a false alarm
};

struct Verification {
  int64_t targets = 0, nontargets = 0;  // trials of each kind
  // Where P_miss = P_fa on the ROC polyline (the operating points at every distinct score,
  // joined by straight lines: WeSpeaker's interpolation between the last point with
  // P_miss > P_fa and the first with P_miss <= P_fa). In [0, 1].
  double eer = 0;
  // The score at the EER, interpolated between the two points' thresholds by the same fraction
  // (the highest score when the EER lies before the first point): what enrolment calibrates.
  double threshold = 0;
  // min over thresholds of C_det = c_miss * P_miss * p_target + c_fa * P_fa * (1 - p_target),
  // divided by C_default = min(c_miss * p_target, c_fa * (1 - p_target)) (NIST SRE's normalised
  // minDCF, as WeSpeaker's compute_c_norm; SpeechBrain's minDCF returns C_det unnormalised,
  // i.e. this times C_default). Thresholds: every distinct score, plus "reject all".
  double min_dcf = 0;
  double min_dcf_threshold = 0;  // the score at which min_dcf is reached (+inf: reject all)
};

// `scores[i]` of a trial whose `target[i]` says same speaker (true) or not. InputError when the
// sizes differ, a score is not finite, or there is no target or no non-target trial.
Verification verification(const std::vector<double>& scores, const std::vector<bool>& target,
                          const DcfConfig& dcf = {});

// Trials from labelled embeddings [n, dim] (row-major; cosine scores): every pair i < j of rows
// whose labels are >= 0 (a label < 0, e.g. the background class, takes no part), target when
// the labels are equal; when there are more than `max_pairs` pairs, `max_pairs` distinct pairs
// drawn uniformly with `seed` (the same seed, the same pairs).
struct Trials {
  std::vector<double> scores;
  std::vector<bool> target;
  std::vector<std::pair<int64_t, int64_t>> pairs;  // the rows (i < j) of each trial
};
Trials embedding_trials(const float* embeddings, int64_t n, int64_t dim,
                        const std::vector<int64_t>& labels, int64_t max_pairs = 2000000,
                        uint64_t seed = 0);

}  // namespace hptrain::metrics
