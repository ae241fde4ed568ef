// C-support vector classifier as LIBSVM's C-SVC (scikit-learn's SVC): SMO with second-order
// working-set selection, one-vs-one multiclass, Platt probabilities coupled pairwise. Problems on
// CPU threads; kernel rows on CPU threads or the GPU (cuBLAS).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hptrain/baselines/classifier.h"
#include "hptrain/baselines/kernel.h"

namespace hptrain::h5 {
class File;
}

namespace hptrain::baselines {

// scikit-learn's SVC `gamma`: a positive number, "scale" = 1 / (d * var(X)) or "auto" = 1 / d,
// where X is the (standardised, when `standardize`) training matrix.
struct Gamma {
  std::string rule = "scale";  // "scale" | "auto" | "value"
  double value = 0;            // used when rule == "value"
  std::string str() const;     // "scale", "auto" or the number
};

// The working set of `working_set = -1` on the GPU, and on the CPU for a binary problem of at
// least kWorkingSetMinRows rows whose matrix Q (l^2 floats) exceeds its share of cache_size;
// LIBSVM's pairwise SMO otherwise (with its rows cached, or cheap, it is as fast or faster:
// bench/results/2026-12-06-cpu-svm-working-set.md).
constexpr int64_t kAutoWorkingSet = 512;
constexpr int64_t kWorkingSetMinRows = 4000;

// Hyper-parameters; names and defaults are scikit-learn's SVC except where noted.
struct SvmConfig {
  std::string kernel = "rbf";         // "linear" | "rbf"
  double C = 1.0;                     // > 0
  Gamma gamma;                        // RBF width (ignored by the linear kernel)
  double tol = 1e-3;                  // stopping tolerance on the maximal KKT violation (> 0)
  std::string class_weight = "none";  // "none" | "balanced": C_k = C * n / (n_classes * n_k)
  int64_t max_iter = -1;              // SMO iterations per binary problem; -1: LIBSVM's limit
  double cache_size = 200;            // kernel cache in MiB, shared by the concurrent solvers
  bool shrinking = true;              // LIBSVM's shrinking heuristic (pairwise solver)
  // hptrain: the SMO's working set: -1 = auto (kAutoWorkingSet on the GPU and, on the CPU, for
  // problems of >= kWorkingSetMinRows rows whose kernel matrix exceeds the cache; else
  // pairwise), 0 = LIBSVM's pairwise SMO, q >= 2 = q variables per round (ThunderSVM's and
  // cuML's large working set)
  int64_t working_set = -1;
  bool probability = true;  // Platt scaling (sklearn: false; the engine needs ROC-AUC)
  bool standardize = true;  // hptrain: z-score features with training mean/std
  int64_t seed = 0;         // sklearn random_state: folds of the probability CV
  int n_threads = 0;        // hptrain: worker threads, 0 = all cores
  // hptrain: where kernel rows are computed: "auto" (the GPU when gpu_available()), "cpu",
  // "cuda" or "cuda:N"
  std::string device = "auto";
  // The first invalid field and why ({"", ""} when valid); validate() throws it as ConfigError.
  std::pair<std::string, std::string> problem() const;
  void validate() const;
};
void from_toml(const config::Section& s, SvmConfig& cfg);
nlohmann::json to_json(const SvmConfig& cfg);
// The inverse of to_json (a model file's config attribute); nlohmann::json::exception when a
// key is missing or of another type (working_set and device may be absent: older files).
SvmConfig svm_config_from_json(const nlohmann::json& j);

class SvmClassifier final : public TabularClassifier {
 public:
  SvmClassifier();  // default hyper-parameters
  explicit SvmClassifier(const SvmConfig& cfg);
  const SvmConfig& config() const { return cfg_; }

  std::string name() const override { return "svm"; }
  void fit(const float* X, int64_t n, int64_t d, const int32_t* y, int n_classes) override;
  // Throws InputError when the model was fitted with probability = false.
  void predict_proba(const float* X, int64_t n, float* out) const override;
  void predict(const float* X, int64_t n, int32_t* out) const override;
  void save(const std::filesystem::path& path) const override;
  nlohmann::json info() const override;
  int n_classes() const override { return n_classes_; }
  int64_t n_features() const override { return d_; }

  // One-vs-one decision values [n, P], P = k(k-1)/2 over the k classes present in training,
  // pairs in LIBSVM's order (c0,c1), (c0,c2), ..., (c(k-2),c(k-1)); > 0 favours the first.
  void decision_function(const float* X, int64_t n, double* out) const;

  // Fitted model, in LIBSVM's layout (support vectors grouped by class).
  const std::vector<int32_t>& classes() const { return classes_; }      // labels present, sorted
  const std::vector<int64_t>& support() const { return support_; }      // training rows [n_sv]
  const std::vector<int32_t>& n_support() const { return n_support_; }  // per present class
  std::vector<float> support_vectors() const;  // [n_sv, d] in the caller's feature units
  // [k-1, n_sv]: LIBSVM's sv_coef (y_i * alpha_i of every binary problem the vector is in).
  const std::vector<double>& dual_coef() const { return dual_coef_; }
  const std::vector<double>& intercept() const { return intercept_; }  // -rho per pair [P]
  const std::vector<double>& prob_a() const { return prob_a_; }        // Platt A per pair [P]
  const std::vector<double>& prob_b() const { return prob_b_; }        // Platt B per pair [P]
  double gamma() const { return kernel_.gamma; }                       // resolved
  int64_t iterations() const { return iterations_; }                   // SMO, all problems

  // Reads a model written by save() (load_classifier dispatches here).
  static std::unique_ptr<SvmClassifier> load(const h5::File& f);

 private:
  void check_fitted(const char* what) const;
  // Standardised copy of X (or X itself as float) checked for NaN/inf and width.
  std::vector<float> prepare(const float* X, int64_t n) const;
  // Decision values of one row from its kernel values against every support vector.
  void decision_from_kernel(const float* kv, double* dec) const;

  SvmConfig cfg_;
  int n_classes_ = 0;
  int64_t d_ = 0;
  KernelParams kernel_;
  std::vector<float> mean_, scale_;  // standardisation [d] (mean 0, scale 1 when off)
  std::vector<int32_t> classes_;
  std::vector<int64_t> support_;
  std::vector<int32_t> n_support_;
  std::vector<float> sv_;  // [n_sv, d], standardised
  std::vector<double> dual_coef_, intercept_, prob_a_, prob_b_;
  int64_t iterations_ = 0;
};

}  // namespace hptrain::baselines
