// C-SVC after LIBSVM's svm_train / svm_predict (cjlin1/libsvm:svm.cpp): one-vs-one binary
// problems solved in parallel on CPU threads, Platt probabilities from 5-fold CV.
#include "hptrain/baselines/svm.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>

#include "baselines/internal.h"
#include "baselines/kernel_source.h"
#include "baselines/smo.h"
#include "hptrain/device.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "hptrain/log.h"
#include "hptrain/progress.h"

namespace hptrain::baselines {

namespace {
constexpr int kProbFolds = 5;          // ref: svm.cpp svm_binary_svc_probability nr_fold = 5
constexpr double kMinProb = 1e-7;      // ref: svm.cpp svm_predict_probability min_prob
constexpr int64_t kPredictBlock = 64;  // test rows per kernel block on CPU threads
// On the GPU a block holds up to this many kernel values (one GEMM, one copy each).
constexpr int64_t kGpuBlockValues = int64_t{1} << 24;

// One binary problem of the one-vs-one scheme: rows of class a (+1) then of class b (-1), in
// training order (ref: svm.cpp svm_train, svm_group_classes).
struct PairProblem {
  int a = 0, b = 0;
  std::vector<int64_t> rows;  // indices into the training matrix
  std::vector<int8_t> y;
  double Cp = 1, Cn = 1;
  std::vector<int64_t> perm;   // shuffled positions for the probability folds
  std::vector<double> cv_dec;  // cross-validated decision values, by position
  SmoResult final_fit;
};

// The working set of a binary problem of l rows (SmoOptions::working_set): `configured`, or for
// -1 kAutoWorkingSet on the GPU, and on the CPU for l >= kWorkingSetMinRows when Q does not fit
// the problem's cache.
int64_t working_set_for(int64_t configured, int64_t l, int device, size_t cache_bytes) {
  if (configured >= 0) return configured;
  if (device >= 0) return kAutoWorkingSet;
  const double q_bytes = static_cast<double>(l) * static_cast<double>(l) * sizeof(float);
  return l >= kWorkingSetMinRows && q_bytes > static_cast<double>(cache_bytes) ? kAutoWorkingSet
                                                                               : 0;
}

// Contiguous copy of the given rows of Z [*, d].
std::vector<float> gather(const std::vector<float>& Z, int64_t d, const int64_t* rows, int64_t m) {
  std::vector<float> out(static_cast<size_t>(m * d));
  for (int64_t r = 0; r < m; ++r) std::copy_n(Z.data() + rows[r] * d, d, out.data() + r * d);
  return out;
}

// Calls fn(r0, r1, kv) for consecutive blocks of the rows of Z [n, d], kv [r1 - r0, ks.size()]
// holding their kernel values against the rows of `ks` (support vectors); blocks run on
// `threads` CPU threads, or one after another on the GPU.
void for_kernel_blocks(KernelSource& ks, const float* Z, int64_t n, int64_t d, int threads,
                       const std::function<void(int64_t, int64_t, const float*)>& fn) {
  std::vector<float> z_sq(n);
  row_sq_norms(Z, n, d, z_sq.data());
  const int64_t n_sv = ks.size();
  const int64_t block = ks.on_gpu()
                            ? std::max(kPredictBlock, kGpuBlockValues / std::max<int64_t>(n_sv, 1))
                            : kPredictBlock;
  parallel_for((n + block - 1) / block, ks.on_gpu() ? 1 : threads, [&](int64_t b) {
    const int64_t r0 = b * block, r1 = std::min(n, r0 + block);
    std::vector<float> kv(static_cast<size_t>((r1 - r0) * n_sv));
    ks.against(Z + r0 * d, z_sq.data() + r0, r1 - r0, kv.data());
    fn(r0, r1, kv.data());
  });
}

// Trains on rows `train` of problem `pp` and returns its decision values on rows `test`
// (positions into pp.rows); ref: svm.cpp svm_binary_svc_probability, one fold.
void cv_fold(const PairProblem& pp, const std::vector<float>& Z, int64_t d, const KernelParams& kp,
             SmoOptions opt, size_t cache_bytes, int threads, int device,
             const std::vector<int64_t>& train, const std::vector<int64_t>& test,
             std::vector<double>& dec_out, int64_t& iterations) {
  int64_t pos = 0, neg = 0;
  for (int64_t t : train) (pp.y[t] > 0 ? pos : neg) += 1;
  if (pos == 0 || neg == 0) {
    const double v = pos > 0 ? 1.0 : neg > 0 ? -1.0 : 0.0;
    for (int64_t t : test) dec_out[t] = v;
    return;
  }
  std::vector<int64_t> rows(train.size());
  std::vector<int8_t> y(train.size());
  for (size_t r = 0; r < train.size(); ++r) {
    rows[r] = pp.rows[train[r]];
    y[r] = pp.y[train[r]];
  }
  const std::vector<float> Xs = gather(Z, d, rows.data(), static_cast<int64_t>(rows.size()));
  SmoResult res;
  opt.working_set =
      working_set_for(opt.working_set, static_cast<int64_t>(rows.size()), device, cache_bytes);
  {
    QMatrix Q(Xs.data(), static_cast<int64_t>(rows.size()), d, kp, y.data(), cache_bytes, threads,
              device);
    res = solve_smo(Q, y.data(), opt);
  }
  iterations += res.iterations;
  std::vector<int64_t> sv;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (res.coef[r] != 0) sv.push_back(static_cast<int64_t>(r));
  }
  const int64_t n_sv = static_cast<int64_t>(sv.size());
  const std::vector<float> Xsv = gather(Xs, d, sv.data(), n_sv);
  std::vector<int64_t> te_rows(test.size());
  for (size_t r = 0; r < test.size(); ++r) te_rows[r] = pp.rows[test[r]];
  const std::vector<float> Xte = gather(Z, d, te_rows.data(), static_cast<int64_t>(test.size()));
  KernelSource ks(kp, Xsv.data(), n_sv, d, device, threads);
  for_kernel_blocks(ks, Xte.data(), static_cast<int64_t>(test.size()), d, threads,
                    [&](int64_t r0, int64_t r1, const float* kv) {
                      for (int64_t r = r0; r < r1; ++r) {
                        double f = -res.rho;
                        for (int64_t s = 0; s < n_sv; ++s) {
                          f += res.coef[sv[s]] * kv[(r - r0) * n_sv + s];
                        }
                        dec_out[test[r]] = f;
                      }
                    });
}
}  // namespace

SvmClassifier::SvmClassifier() : SvmClassifier(SvmConfig{}) {}

SvmClassifier::SvmClassifier(const SvmConfig& cfg) : cfg_(cfg) {
  cfg_.validate();
}

void SvmClassifier::check_fitted(const char* what) const {
  if (n_classes_ == 0) throw InputError(std::string("svm ") + what + ": the model is not fitted");
}

std::vector<float> SvmClassifier::prepare(const float* X, int64_t n) const {
  std::vector<float> Z(static_cast<size_t>(n * d_));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < d_; ++c) Z[i * d_ + c] = (X[i * d_ + c] - mean_[c]) / scale_[c];
  }
  return Z;
}

namespace {

// scikit-learn's StandardScaler of the columns of X [n, d]: mean and population std, scale 1
// for a constant column (warned). Without standardisation, mean 0 and scale 1.
void fit_scaler(bool standardize, const float* X, int64_t n, int64_t d, std::vector<float>& mean,
                std::vector<float>& scale) {
  mean.assign(d, 0.0f);
  scale.assign(d, 1.0f);
  if (!standardize) return;
  for (int64_t c = 0; c < d; ++c) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; ++i) s += X[i * d + c];
    const double m = s / n;
    for (int64_t i = 0; i < n; ++i) s2 += (X[i * d + c] - m) * (X[i * d + c] - m);
    const double sd = std::sqrt(s2 / n);
    mean[c] = static_cast<float>(m);
    scale[c] = sd > 0 ? static_cast<float>(sd) : 1.0f;
    if (!(sd > 0)) HP_LOG_WARN("svm fit: feature {} is constant in the training data", c);
  }
}

// The RBF/poly/sigmoid gamma of the standardised training matrix Z [n, d].
double resolve_gamma(const Gamma& gamma, const std::vector<float>& Z, int64_t d) {
  if (gamma.rule == "value") return gamma.value;
  if (gamma.rule == "auto") return 1.0 / static_cast<double>(d);
  // ref: sklearn/svm/_base.py: gamma = 1 / (n_features * X.var()) (1 if var == 0)
  double s = 0, s2 = 0;
  for (float v : Z) s += v;
  const double m = s / static_cast<double>(Z.size());
  for (float v : Z) s2 += (v - m) * (v - m);
  const double var = s2 / static_cast<double>(Z.size());
  return var > 0 ? 1.0 / (static_cast<double>(d) * var) : 1.0;
}

// The one-vs-one problems of the classes present, in LIBSVM's order, with their weighted C and,
// for probabilities, the permutation their folds are cut from.
std::vector<PairProblem> pair_problems(const SvmConfig& cfg, const std::vector<int32_t>& classes,
                                       const std::vector<std::vector<int64_t>>& members,
                                       const std::vector<int64_t>& counts) {
  const int k = static_cast<int>(classes.size());
  const std::vector<double> bw = balanced_weights(counts);
  auto weighted_C = [&](int c) { return cfg.C * (cfg.class_weight == "balanced" ? bw[c] : 1.0); };
  std::vector<PairProblem> pairs;
  for (int i = 0; i < k; ++i) {
    for (int j = i + 1; j < k; ++j) {
      PairProblem pp;
      pp.a = classes[i];
      pp.b = classes[j];
      for (int64_t r : members[pp.a]) pp.rows.push_back(r), pp.y.push_back(+1);
      for (int64_t r : members[pp.b]) pp.rows.push_back(r), pp.y.push_back(-1);
      pp.Cp = weighted_C(pp.a);
      pp.Cn = weighted_C(pp.b);
      if (cfg.probability) {
        // ref: svm.cpp svm_binary_svc_probability: a random permutation cut into 5 folds.
        pp.perm.resize(pp.rows.size());
        std::iota(pp.perm.begin(), pp.perm.end(), 0);
        std::mt19937_64 rng(mix64(static_cast<uint64_t>(cfg.seed) * 1000003u + pairs.size()));
        for (size_t t = pp.perm.size(); t > 1; --t) {
          std::swap(pp.perm[t - 1], pp.perm[rng() % t]);
        }
        pp.cv_dec.assign(pp.rows.size(), 0.0);
      }
      pairs.push_back(std::move(pp));
    }
  }
  return pairs;
}

// Tasks (pair, fold): every probability fold plus every final fit (fold == kProbFolds),
// largest problem first for load balance.
std::vector<std::pair<int64_t, int>> solve_order(const std::vector<PairProblem>& pairs,
                                                 bool probability) {
  const int per_pair = probability ? kProbFolds + 1 : 1;
  std::vector<std::pair<int64_t, int>> tasks;
  for (size_t p = 0; p < pairs.size(); ++p) {
    for (int f = 0; f < per_pair; ++f) {
      tasks.emplace_back(static_cast<int64_t>(p), probability ? f : kProbFolds);
    }
  }
  std::stable_sort(tasks.begin(), tasks.end(), [&](const auto& u, const auto& v) {
    return pairs[u.first].rows.size() > pairs[v.first].rows.size();
  });
  return tasks;
}

void log_solver(int threads, int device, int64_t working_set) {
  HP_LOG_INFO("svm fit: kernel rows on {}; SMO working set {}",
              device < 0 ? std::to_string(threads) + " CPU threads" : device_label(device),
              working_set == 0  ? std::string("pairwise (LIBSVM)")
              : working_set > 0 ? std::to_string(working_set)
              : device >= 0     ? std::to_string(kAutoWorkingSet)
                                : std::to_string(kAutoWorkingSet) +
                                  " for problems of >= " + std::to_string(kWorkingSetMinRows) +
                                  " rows whose kernel matrix exceeds the cache, else pairwise");
}

// The final fit of one problem (its SMO solution in pp.final_fit); returns its iterations.
int64_t final_fit(PairProblem& pp, const std::vector<float>& Z, int64_t d, const KernelParams& kp,
                  SmoOptions opt, size_t cache_bytes, int threads, int device) {
  const int64_t l = static_cast<int64_t>(pp.rows.size());
  const std::vector<float> Xs = gather(Z, d, pp.rows.data(), l);
  opt.working_set = working_set_for(opt.working_set, l, device, cache_bytes);
  QMatrix Q(Xs.data(), l, d, kp, pp.y.data(), cache_bytes, threads, device);
  const auto t_solve = std::chrono::steady_clock::now();
  pp.final_fit = solve_smo(Q, pp.y.data(), opt);
  HP_LOG_DEBUG("svm fit: classes {} vs {}: {} rows, {} steps, {} rounds of {}, {:.3f} s", pp.a,
               pp.b, l, pp.final_fit.iterations, pp.final_fit.rounds, opt.working_set,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_solve).count());
  if (!pp.final_fit.converged) {
    HP_LOG_WARN("svm fit: classes {} vs {} stopped at max_iter = {} before reaching tol", pp.a,
                pp.b, pp.final_fit.iterations);
  }
  return pp.final_fit.iterations;
}

// Solves every task of solve_order() on `threads` threads (each problem's kernel rows on its
// share of them, or on `device`); returns the SMO iterations of them all.
int64_t solve_pairs(const SvmConfig& cfg, std::vector<PairProblem>& pairs,
                    const std::vector<float>& Z, int64_t d, const KernelParams& kp, int threads,
                    int device) {
  const auto tasks = solve_order(pairs, cfg.probability);
  const int concurrent = static_cast<int>(std::min<int64_t>(threads, tasks.size()));
  const int row_threads = std::max(1, threads / static_cast<int>(tasks.size()));
  const size_t cache_bytes = static_cast<size_t>(cfg.cache_size * 1024 * 1024 / concurrent);
  SmoOptions base;
  base.eps = cfg.tol;
  base.shrinking = cfg.shrinking;
  base.max_iter = cfg.max_iter;
  base.working_set = cfg.working_set;
  std::vector<int64_t> iters(tasks.size(), 0);
  std::mutex progress_mutex;
  Progress progress("svm fit", tasks.size(), "problems");
  parallel_for(static_cast<int64_t>(tasks.size()), threads, [&](int64_t t) {
    PairProblem& pp = pairs[tasks[t].first];
    const int fold = tasks[t].second;
    SmoOptions opt = base;
    opt.Cp = pp.Cp;
    opt.Cn = pp.Cn;
    const int64_t l = static_cast<int64_t>(pp.rows.size());
    if (fold < kProbFolds) {
      const int64_t begin = fold * l / kProbFolds, end = (fold + 1) * l / kProbFolds;
      std::vector<int64_t> train, test;
      for (int64_t s = 0; s < l; ++s) (s >= begin && s < end ? test : train).push_back(pp.perm[s]);
      cv_fold(pp, Z, d, kp, opt, cache_bytes, row_threads, device, train, test, pp.cv_dec,
              iters[t]);
    } else {
      iters[t] = final_fit(pp, Z, d, kp, opt, cache_bytes, row_threads, device);
    }
    std::lock_guard<std::mutex> lock(progress_mutex);
    progress.advance();
  });
  progress.finish();
  return std::accumulate(iters.begin(), iters.end(), int64_t{0});
}

// The fitted model in LIBSVM's layout. ref: svm.cpp svm_train: a row is a support vector when
// nonzero in any of its problems; vectors grouped by class, sv_coef[j-1] for class i's and
// sv_coef[i] for class j's.
struct SupportModel {
  std::vector<int64_t> support;
  std::vector<int32_t> n_support;
  std::vector<double> dual_coef, intercept;
};
SupportModel support_model(const std::vector<PairProblem>& pairs,
                           const std::vector<int32_t>& classes,
                           const std::vector<std::vector<int64_t>>& members, int64_t n) {
  const int k = static_cast<int>(classes.size());
  std::vector<char> nonzero(n, 0);
  for (const auto& pp : pairs) {
    for (size_t r = 0; r < pp.rows.size(); ++r) {
      if (pp.final_fit.coef[r] != 0) nonzero[pp.rows[r]] = 1;
    }
  }
  SupportModel m;
  m.n_support.assign(k, 0);
  std::vector<int64_t> start(k, 0);
  for (int c = 0; c < k; ++c) {
    start[c] = static_cast<int64_t>(m.support.size());
    for (int64_t r : members[classes[c]]) {
      if (nonzero[r]) {
        m.support.push_back(r);
        ++m.n_support[c];
      }
    }
  }
  const int64_t n_sv = static_cast<int64_t>(m.support.size());
  m.dual_coef.assign(static_cast<size_t>((k - 1) * n_sv), 0.0);
  m.intercept.assign(pairs.size(), 0.0);
  size_t p = 0;
  for (int i = 0; i < k; ++i) {
    for (int j = i + 1; j < k; ++j, ++p) {
      const PairProblem& pp = pairs[p];
      const size_t ci = members[classes[i]].size();
      int64_t q = start[i];
      for (size_t r = 0; r < ci; ++r) {
        if (nonzero[pp.rows[r]]) m.dual_coef[(j - 1) * n_sv + q++] = pp.final_fit.coef[r];
      }
      q = start[j];
      for (size_t r = ci; r < pp.rows.size(); ++r) {
        if (nonzero[pp.rows[r]]) m.dual_coef[i * n_sv + q++] = pp.final_fit.coef[r];
      }
      m.intercept[p] = -pp.final_fit.rho;
    }
  }
  return m;
}

}  // namespace

void SvmClassifier::fit(const float* X, int64_t n, int64_t d, const int32_t* y, int n_classes) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<int64_t> counts = check_training_data("svm", X, n, d, y, n_classes);
  n_classes_ = n_classes;
  d_ = d;
  fit_scaler(cfg_.standardize, X, n, d, mean_, scale_);
  const std::vector<float> Z = prepare(X, n);
  kernel_.type = parse_kernel(cfg_.kernel);
  kernel_.gamma = resolve_gamma(cfg_.gamma, Z, d);
  HP_LOG_INFO(
      "svm fit: kernel {}, C {}, gamma {} = {:.6g}, class_weight {}, tol {}, "
      "probability {}, standardize {}",
      cfg_.kernel, cfg_.C, cfg_.gamma.str(), kernel_.gamma, cfg_.class_weight, cfg_.tol,
      cfg_.probability, cfg_.standardize);

  classes_.clear();
  for (int c = 0; c < n_classes; ++c) {
    if (counts[c] > 0) classes_.push_back(c);
  }
  std::vector<std::vector<int64_t>> members(n_classes);
  for (int64_t i = 0; i < n; ++i) members[y[i]].push_back(i);
  std::vector<PairProblem> pairs = pair_problems(cfg_, classes_, members, counts);

  const int threads = resolve_threads(cfg_.n_threads);
  const int device = resolve_device("svm", cfg_.device);
  log_solver(threads, device, cfg_.working_set);
  iterations_ = solve_pairs(cfg_, pairs, Z, d, kernel_, threads, device);

  const size_t P = pairs.size();
  prob_a_.assign(cfg_.probability ? P : 0, 0.0);
  prob_b_.assign(cfg_.probability ? P : 0, 0.0);
  for (size_t p = 0; p < P && cfg_.probability; ++p) {
    sigmoid_train(static_cast<int64_t>(pairs[p].rows.size()), pairs[p].cv_dec.data(),
                  pairs[p].y.data(), prob_a_[p], prob_b_[p]);
  }

  SupportModel m = support_model(pairs, classes_, members, n);
  support_ = std::move(m.support);
  n_support_ = std::move(m.n_support);
  dual_coef_ = std::move(m.dual_coef);
  intercept_ = std::move(m.intercept);
  const int64_t n_sv = static_cast<int64_t>(support_.size());
  sv_ = gather(Z, d, support_.data(), n_sv);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  HP_LOG_INFO(
      "svm fit: {} rows, {} features, {} classes, {} support vectors, {} SMO iterations, "
      "{:.3f} s on {} threads",
      n, d, classes_.size(), n_sv, iterations_, secs, threads);
}

void SvmClassifier::decision_from_kernel(const float* kv, double* dec) const {
  // ref: svm.cpp svm_predict_values (C_SVC branch)
  const int k = static_cast<int>(classes_.size());
  const int64_t n_sv = static_cast<int64_t>(support_.size());
  std::vector<int64_t> start(k, 0);
  for (int c = 1; c < k; ++c) start[c] = start[c - 1] + n_support_[c - 1];
  int p = 0;
  for (int i = 0; i < k; ++i) {
    for (int j = i + 1; j < k; ++j, ++p) {
      double sum = 0;
      const double* coef1 = dual_coef_.data() + (j - 1) * n_sv;
      const double* coef2 = dual_coef_.data() + i * n_sv;
      for (int64_t s = start[i]; s < start[i] + n_support_[i]; ++s) sum += coef1[s] * kv[s];
      for (int64_t s = start[j]; s < start[j] + n_support_[j]; ++s) sum += coef2[s] * kv[s];
      dec[p] = sum + intercept_[p];
    }
  }
}

void SvmClassifier::decision_function(const float* X, int64_t n, double* out) const {
  check_fitted("decision_function");
  check_finite(X, n, d_, "svm predict");
  const std::vector<float> Z = prepare(X, n);
  const int64_t n_sv = static_cast<int64_t>(support_.size());
  const int64_t P = static_cast<int64_t>(intercept_.size());
  // a model fitted with device = cuda still predicts (on the CPU) where no GPU is usable
  const int device = gpu_available() ? resolve_device("svm", cfg_.device) : -1;
  const int threads = resolve_threads(cfg_.n_threads);
  KernelSource ks(kernel_, sv_.data(), n_sv, d_, device, threads);
  for_kernel_blocks(ks, Z.data(), n, d_, threads, [&](int64_t r0, int64_t r1, const float* kv) {
    for (int64_t r = r0; r < r1; ++r) decision_from_kernel(kv + (r - r0) * n_sv, out + r * P);
  });
}

void SvmClassifier::predict(const float* X, int64_t n, int32_t* out) const {
  const int k = static_cast<int>(classes_.size());
  const int64_t P = static_cast<int64_t>(k) * (k - 1) / 2;
  std::vector<double> dec(static_cast<size_t>(n * P));
  decision_function(X, n, dec.data());
  // ref: svm.cpp svm_predict_values: one vote per pair, ties to the lower class
  std::vector<int> votes(k);
  for (int64_t r = 0; r < n; ++r) {
    std::fill(votes.begin(), votes.end(), 0);
    int p = 0;
    for (int i = 0; i < k; ++i) {
      for (int j = i + 1; j < k; ++j, ++p) ++votes[dec[r * P + p] > 0 ? i : j];
    }
    out[r] = classes_[std::max_element(votes.begin(), votes.end()) - votes.begin()];
  }
}

void SvmClassifier::predict_proba(const float* X, int64_t n, float* out) const {
  check_fitted("predict_proba");
  if (!cfg_.probability) {
    throw InputError(
        "svm predict_proba: the model was fitted with probability = false; "
        "refit with probability = true for probabilities");
  }
  const int k = static_cast<int>(classes_.size());
  const int64_t P = static_cast<int64_t>(k) * (k - 1) / 2;
  std::vector<double> dec(static_cast<size_t>(n * P));
  decision_function(X, n, dec.data());
  std::fill(out, out + n * n_classes_, 0.0f);
  std::vector<double> r(static_cast<size_t>(k * k)), prob(k);
  for (int64_t row = 0; row < n; ++row) {
    // ref: svm.cpp svm_predict_probability
    int p = 0;
    for (int i = 0; i < k; ++i) {
      for (int j = i + 1; j < k; ++j, ++p) {
        const double v = sigmoid_predict(dec[row * P + p], prob_a_[p], prob_b_[p]);
        r[i * k + j] = std::min(std::max(v, kMinProb), 1 - kMinProb);
        r[j * k + i] = 1 - r[i * k + j];
      }
    }
    if (k == 2) {
      prob[0] = r[1];
      prob[1] = r[2];
    } else {
      multiclass_probability(k, r, prob.data());
    }
    for (int c = 0; c < k; ++c) out[row * n_classes_ + classes_[c]] = static_cast<float>(prob[c]);
  }
}

std::vector<float> SvmClassifier::support_vectors() const {
  std::vector<float> v(sv_.size());
  for (size_t i = 0; i < sv_.size(); ++i) {
    const size_t c = i % static_cast<size_t>(d_);
    v[i] = sv_[i] * scale_[c] + mean_[c];
  }
  return v;
}

}  // namespace hptrain::baselines
