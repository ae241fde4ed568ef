// hptrain._hptrain: what trained runs need beyond LibTorch: the SVM / forest classifiers
// (TabularClassifier) and the checksums of run.json (data_fingerprint, fnv1a64_hex).
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bindings.h"
#include "hptrain/baselines/classifier.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/features/config.h"
#include "hptrain/fs.h"
#include "hptrain/preprocess/preprocess.h"

namespace hptrain::python {
namespace {

class PyClassifier {
 public:
  explicit PyClassifier(const std::filesystem::path& path)
      : c_(baselines::load_classifier(path)), info_(c_->info().dump()) {
    n_classes_ = c_->n_classes();
    n_features_ = c_->n_features();
  }
  py::array_t<float> predict_proba(const py::array_t<float, py::array::c_style>& X) const {
    if (X.ndim() != 2) throw py::value_error("X: expected a 2-D array [n, features]");
    if (n_features_ > 0 && X.shape(1) != n_features_) {
      throw py::value_error("X: " + std::to_string(X.shape(1)) + " columns; the classifier was " +
                            "fitted on " + std::to_string(n_features_));
    }
    const int64_t n = X.shape(0);
    std::vector<float> out(static_cast<size_t>(n * n_classes_));
    {
      py::gil_scoped_release release;
      c_->predict_proba(X.data(), n, out.data());
    }
    return owned_array(std::move(out), {n, n_classes_});
  }
  std::string name() const { return c_->name(); }
  const std::string& info() const { return info_; }
  int64_t n_classes() const { return n_classes_; }
  int64_t n_features() const { return n_features_; }

 private:
  std::unique_ptr<baselines::TabularClassifier> c_;
  std::string info_;
  int64_t n_classes_ = 0, n_features_ = 0;
};

}  // namespace

void bind_runs(py::module_& m) {
  // ref: cpp/src/train/run_common.cpp data_fingerprint (what run.json's "data" records; the test
  // test_runs.py::test_a_changed_dataset_is_refused holds the two to the same value)
  m.def("data_fingerprint", [](const std::filesystem::path& toml) {
    const data::DatasetConfig d = data::load_dataset_config(toml);
    preprocess::PreprocessConfig p = d.preprocess;
    p.stream = -1;
    features::FeatureConfig f = d.features;
    f.threads = 0;
    std::ostringstream os;
    os << preprocess::to_string(p) << "\n" << f;
    const std::string text = os.str();
    return fs::hex64(fs::fnv1a64(text.data(), text.size()));
  });
  m.def("fnv1a64_hex", [](const py::bytes& b) {
    const std::string_view v = b;
    return fs::hex64(fs::fnv1a64(v.data(), v.size()));
  });

  py::class_<PyClassifier>(m, "TabularClassifier")
      .def(py::init<const std::filesystem::path&>())
      .def("predict_proba", &PyClassifier::predict_proba)
      .def_property_readonly("name", &PyClassifier::name)
      .def_property_readonly("info", &PyClassifier::info)
      .def_property_readonly("n_classes", &PyClassifier::n_classes)
      .def_property_readonly("n_features", &PyClassifier::n_features);
}

}  // namespace hptrain::python
