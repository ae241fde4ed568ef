// A fitted SvmClassifier as JSON (info()) and as an HDF5 model file (save(), load()).
#include <nlohmann/json.hpp>

#include "baselines/internal.h"
#include "hptrain/baselines/svm.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"

namespace hptrain::baselines {

nlohmann::json SvmClassifier::info() const {
  nlohmann::json j = {{"model", "svm"}, {"config", to_json(cfg_)}};
  if (n_classes_ == 0) return j;
  j["multiclass"] = "one-vs-one";
  j["gamma_resolved"] = kernel_.gamma;
  j["classes"] = classes_;
  j["n_support"] = n_support_;
  j["n_support_vectors"] = support_.size();
  j["n_features"] = d_;
  j["smo_iterations"] = iterations_;
  return j;
}

void SvmClassifier::save(const std::filesystem::path& path) const {
  check_fitted("save");
  fs::atomic_write(path, [&](const std::filesystem::path& tmp) {
    h5::File f = h5::File::create(tmp);
    write_header(f, "svm", n_classes_, d_, to_json(cfg_).dump());
    f.set_attr("/", "kernel", kernel_name(kernel_.type));
    f.set_attr("/", "gamma", kernel_.gamma);
    f.set_attr("/", "smo_iterations", iterations_);
    const int64_t k = static_cast<int64_t>(classes_.size());
    const int64_t n_sv = static_cast<int64_t>(support_.size());
    const int64_t P = static_cast<int64_t>(intercept_.size());
    f.write("mean", mean_.data(), {d_});
    f.write("scale", scale_.data(), {d_});
    f.write("classes", classes_.data(), {k});
    f.write("n_support", n_support_.data(), {k});
    f.write("support", support_.data(), {n_sv});
    f.write("support_vectors", sv_.data(), {n_sv, d_});
    f.write("dual_coef", dual_coef_.data(), {k - 1, n_sv});
    f.write("intercept", intercept_.data(), {P});
    if (cfg_.probability) {
      f.write("prob_a", prob_a_.data(), {P});
      f.write("prob_b", prob_b_.data(), {P});
    }
    f.close();
  });
}

std::unique_ptr<SvmClassifier> SvmClassifier::load(const h5::File& f) {
  const std::string file = f.path().string();
  nlohmann::json cfg;
  try {
    cfg = nlohmann::json::parse(f.attr_string("/", "config"));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file + ": attribute config is not valid JSON: " + e.what());
  }
  SvmConfig c;
  try {
    c = svm_config_from_json(cfg);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file + ": attribute config lacks an SVM hyper-parameter: " + e.what());
  }
  auto m = std::make_unique<SvmClassifier>(c);
  m->n_classes_ = static_cast<int>(f.attr_int("/", "n_classes"));
  m->d_ = f.attr_int("/", "n_features");
  m->kernel_.type = parse_kernel(f.attr_string("/", "kernel"));
  m->kernel_.gamma = f.attr_double("/", "gamma");
  m->iterations_ = f.attr_int("/", "smo_iterations");
  m->mean_ = f.read_floats("mean");
  m->scale_ = f.read_floats("scale");
  m->classes_ = f.read_ints("classes");
  m->n_support_ = f.read_ints("n_support");
  m->support_ = f.read_int64s("support");
  m->sv_ = f.read_floats("support_vectors");
  m->dual_coef_ = f.read_doubles("dual_coef");
  m->intercept_ = f.read_doubles("intercept");
  if (c.probability) {
    m->prob_a_ = f.read_doubles("prob_a");
    m->prob_b_ = f.read_doubles("prob_b");
  }
  const int64_t n_sv = static_cast<int64_t>(m->support_.size());
  const int64_t k = static_cast<int64_t>(m->classes_.size());
  if (static_cast<int64_t>(m->sv_.size()) != n_sv * m->d_ ||
      static_cast<int64_t>(m->dual_coef_.size()) != (k - 1) * n_sv ||
      static_cast<int64_t>(m->intercept_.size()) != k * (k - 1) / 2 ||
      static_cast<int64_t>(m->mean_.size()) != m->d_) {
    throw InputError(file + ": SVM datasets have inconsistent sizes");
  }
  return m;
}

}  // namespace hptrain::baselines
