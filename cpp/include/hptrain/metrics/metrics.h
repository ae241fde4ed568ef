// Classification metrics from class probabilities, as scikit-learn computes them: accuracy,
// precision/recall/F1 (per class, macro, weighted), confusion matrix, ROC curves and ROC-AUC.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hptrain::metrics {

// Precision, recall and F1 of one class; 0 where the denominator is 0 (sklearn's
// zero_division=0). support = number of true examples of the class.
struct ClassScores {
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  int64_t support = 0;
};

// One ROC curve: points (fpr, tpr) for decreasing thresholds, starting at (0, 0) with an
// infinite threshold (sklearn.metrics.roc_curve with drop_intermediate=False).
struct RocCurve {
  std::vector<double> thresholds;
  std::vector<double> fpr;
  std::vector<double> tpr;
};

// Every metric of one task on one split.
struct TaskMetrics {
  std::vector<std::string> classes;
  int64_t n = 0;
  double accuracy = 0;
  // Averages over the classes present in the labels or the predictions (sklearn's default
  // `labels`); weighted by support.
  double precision_macro = 0, recall_macro = 0, f1_macro = 0;
  double precision_weighted = 0, recall_weighted = 0, f1_weighted = 0;
  // Binary: AUC of the second class's probability. Multiclass: one-vs-rest, macro over the
  // classes that have both positives and negatives in the labels. Empty when none has.
  std::optional<double> roc_auc;
  std::vector<ClassScores> per_class;
  std::vector<std::optional<double>> roc_auc_per_class;  // one-vs-rest, empty if undefined
  std::vector<RocCurve> roc;                             // one-vs-rest per class
  std::vector<std::vector<int64_t>> confusion;           // [true][predicted]
};

// confusion[t][p] = number of examples with label t predicted as p. Labels in [0, k).
std::vector<std::vector<int64_t>> confusion_matrix(const std::vector<int64_t>& labels,
                                                   const std::vector<int64_t>& predicted, int k);

// Per-class scores from a confusion matrix.
std::vector<ClassScores> class_scores(const std::vector<std::vector<int64_t>>& confusion);

// AUC of `score` for the positives (`positive[i]` true), ties counted as half
// (rank-average, equal to the trapezoid rule). Empty when positives or negatives are absent;
// InputError for a score that is not finite.
std::optional<double> roc_auc(const std::vector<bool>& positive, const std::vector<double>& score);

// ROC curve of `score` for the positives; one point per distinct threshold (finite scores only).
RocCurve roc_curve(const std::vector<bool>& positive, const std::vector<double>& score);

// All metrics of a task. probs: [n, classes.size()] row-major; the prediction is the argmax
// (first on ties). Throws InputError on a label outside [0, k).
TaskMetrics evaluate(const std::vector<int64_t>& labels, const std::vector<float>& probs,
                     const std::vector<std::string>& classes);

// Mean over tasks of the macro F1 (the model-selection score).
double mean_f1_macro(const std::vector<TaskMetrics>& tasks);

}  // namespace hptrain::metrics
