// The classifier factory (from [model]), the model-file loader and the default predict.
#include "hptrain/baselines/classifier.h"

#include <algorithm>
#include <vector>

#include "baselines/internal.h"
#include "hptrain/baselines/random_forest.h"
#include "hptrain/baselines/svm.h"
#include "hptrain/error.h"
#include "hptrain/h5.h"

namespace hptrain::baselines {

void TabularClassifier::predict(const float* X, int64_t n, int32_t* out) const {
  const int k = n_classes();
  std::vector<float> proba(static_cast<size_t>(n * k));
  predict_proba(X, n, proba.data());
  for (int64_t i = 0; i < n; ++i) {
    const float* p = proba.data() + i * k;
    out[i] = static_cast<int32_t>(std::max_element(p, p + k) - p);
  }
}

std::unique_ptr<TabularClassifier> make_classifier(const config::Section& model) {
  model.require("type", model.has("type"), "missing; expected \"svm\" or \"rf\"");
  std::string type;
  model.get_choice("type", type, {"svm", "rf"});
  if (type == "svm") {
    SvmConfig cfg;
    from_toml(model, cfg);
    return std::make_unique<SvmClassifier>(cfg);
  }
  ForestConfig cfg;
  from_toml(model, cfg);
  return std::make_unique<RandomForestClassifier>(cfg);
}

std::unique_ptr<TabularClassifier> load_classifier(const std::filesystem::path& path) {
  const h5::File f = h5::File::open_read(path);
  const std::string model = read_model_name(f);
  if (model == "svm") return SvmClassifier::load(f);
  if (model == "rf") return RandomForestClassifier::load(f);
  throw InputError(path.string() + ": unknown model '" + model + "' (expected svm or rf)");
}

}  // namespace hptrain::baselines
