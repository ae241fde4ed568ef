#include "hptrain/metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "hptrain/error.h"

namespace hptrain::metrics {

std::vector<std::vector<int64_t>> confusion_matrix(const std::vector<int64_t>& labels,
                                                   const std::vector<int64_t>& predicted, int k) {
  if (labels.size() != predicted.size()) {
    throw InputError("confusion matrix: " + std::to_string(labels.size()) + " labels but " +
                     std::to_string(predicted.size()) + " predictions");
  }
  std::vector<std::vector<int64_t>> c(k, std::vector<int64_t>(k, 0));
  for (size_t i = 0; i < labels.size(); ++i) {
    for (int64_t v : {labels[i], predicted[i]}) {
      if (v < 0 || v >= k) {
        throw InputError("confusion matrix: example " + std::to_string(i) + " has class " +
                         std::to_string(v) + ", expected [0, " + std::to_string(k) + ")");
      }
    }
    ++c[labels[i]][predicted[i]];
  }
  return c;
}

std::vector<ClassScores> class_scores(const std::vector<std::vector<int64_t>>& confusion) {
  const size_t k = confusion.size();
  std::vector<ClassScores> out(k);
  for (size_t c = 0; c < k; ++c) {
    int64_t tp = confusion[c][c], predicted = 0, actual = 0;
    for (size_t o = 0; o < k; ++o) {
      predicted += confusion[o][c];
      actual += confusion[c][o];
    }
    auto& s = out[c];
    s.support = actual;
    s.precision = predicted > 0 ? static_cast<double>(tp) / static_cast<double>(predicted) : 0.0;
    s.recall = actual > 0 ? static_cast<double>(tp) / static_cast<double>(actual) : 0.0;
    s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
  }
  return out;
}

namespace {

// The rank and threshold loops below compare scores for equality: a NaN would never equal itself.
void require_finite(const std::vector<double>& score, const char* what) {
  for (size_t i = 0; i < score.size(); ++i) {
    if (!std::isfinite(score[i])) {
      throw InputError(std::string(what) + ": score " + std::to_string(i) + " is " +
                       std::to_string(score[i]) + ", not a finite number");
    }
  }
}

}  // namespace

std::optional<double> roc_auc(const std::vector<bool>& positive, const std::vector<double>& score) {
  require_finite(score, "roc_auc");
  const size_t n = positive.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
  // Mann-Whitney U with average ranks for ties (ranks from 1).
  double rank_sum = 0;
  int64_t n_pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && score[order[j]] == score[order[i]]) ++j;
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t t = i; t < j; ++t) {
      if (positive[order[t]]) {
        rank_sum += avg_rank;
        ++n_pos;
      }
    }
    i = j;
  }
  const int64_t n_neg = static_cast<int64_t>(n) - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::nullopt;
  const double p = static_cast<double>(n_pos);
  return (rank_sum - p * (p + 1) / 2.0) / (p * static_cast<double>(n_neg));
}

RocCurve roc_curve(const std::vector<bool>& positive, const std::vector<double>& score) {
  require_finite(score, "roc_curve");
  const size_t n = positive.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  const double n_pos = static_cast<double>(std::count(positive.begin(), positive.end(), true));
  const double n_neg = static_cast<double>(n) - n_pos;
  RocCurve r;
  r.thresholds.push_back(std::numeric_limits<double>::infinity());
  r.fpr.push_back(0);
  r.tpr.push_back(0);
  double tp = 0, fp = 0;
  for (size_t i = 0; i < n;) {
    const double s = score[order[i]];
    for (; i < n && score[order[i]] == s; ++i) (positive[order[i]] ? tp : fp) += 1;
    r.thresholds.push_back(s);
    r.fpr.push_back(n_neg > 0 ? fp / n_neg : 0.0);
    r.tpr.push_back(n_pos > 0 ? tp / n_pos : 0.0);
  }
  return r;
}

TaskMetrics evaluate(const std::vector<int64_t>& labels, const std::vector<float>& probs,
                     const std::vector<std::string>& classes) {
  const int k = static_cast<int>(classes.size());
  const int64_t n = static_cast<int64_t>(labels.size());
  if (k < 1 || static_cast<int64_t>(probs.size()) != n * k) {
    throw InputError("metrics: " + std::to_string(probs.size()) + " probabilities for " +
                     std::to_string(n) + " examples of " + std::to_string(k) + " classes");
  }
  for (size_t i = 0; i < probs.size(); ++i) {
    if (!std::isfinite(probs[i])) {
      throw InputError("metrics: the probability of example " + std::to_string(i / k) +
                       " for class '" + classes[i % k] + "' is " + std::to_string(probs[i]) +
                       ": the model's outputs are not finite (a diverged training: lower "
                       "train.lr or set train.grad_clip)");
    }
  }
  TaskMetrics m;
  m.classes = classes;
  m.n = n;
  std::vector<int64_t> predicted(n);
  for (int64_t i = 0; i < n; ++i) {
    const float* row = probs.data() + i * k;
    predicted[i] = std::max_element(row, row + k) - row;
  }
  m.confusion = confusion_matrix(labels, predicted, k);
  m.per_class = class_scores(m.confusion);

  int64_t correct = 0;
  for (int c = 0; c < k; ++c) correct += m.confusion[c][c];
  m.accuracy = n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
  int present = 0;
  for (int c = 0; c < k; ++c) {
    int64_t predicted_c = 0;
    for (int t = 0; t < k; ++t) predicted_c += m.confusion[t][c];
    const auto& s = m.per_class[c];
    if (s.support > 0 || predicted_c > 0) {
      ++present;
      m.precision_macro += s.precision;
      m.recall_macro += s.recall;
      m.f1_macro += s.f1;
    }
    const double w = n > 0 ? static_cast<double>(s.support) / static_cast<double>(n) : 0.0;
    m.precision_weighted += w * s.precision;
    m.recall_weighted += w * s.recall;
    m.f1_weighted += w * s.f1;
  }
  if (present > 0) {
    m.precision_macro /= present;
    m.recall_macro /= present;
    m.f1_macro /= present;
  }

  std::vector<double> score(n);
  std::vector<bool> positive(n);
  double auc_sum = 0;
  int auc_count = 0;
  for (int c = 0; c < k; ++c) {
    for (int64_t i = 0; i < n; ++i) {
      score[i] = probs[i * k + c];
      positive[i] = labels[i] == c;
    }
    m.roc_auc_per_class.push_back(roc_auc(positive, score));
    m.roc.push_back(roc_curve(positive, score));
    if (m.roc_auc_per_class.back()) {
      auc_sum += *m.roc_auc_per_class.back();
      ++auc_count;
    }
  }
  if (k == 2) {
    m.roc_auc = m.roc_auc_per_class[1];
  } else if (auc_count > 0) {
    m.roc_auc = auc_sum / auc_count;
  }
  return m;
}

double mean_f1_macro(const std::vector<TaskMetrics>& tasks) {
  double s = 0;
  for (const auto& t : tasks) s += t.f1_macro;
  return tasks.empty() ? 0.0 : s / static_cast<double>(tasks.size());
}

}  // namespace hptrain::metrics
