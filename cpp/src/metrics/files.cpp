#include "hptrain/metrics/files.h"
#include "hptrain/csv.h"

#include <cmath>
#include <sstream>

#include "hptrain/fs.h"

namespace hptrain::metrics {
namespace {

nlohmann::json optional_number(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const TaskMetrics& m) {
  nlohmann::json j;
  j["n"] = m.n;
  j["accuracy"] = m.accuracy;
  j["precision_macro"] = m.precision_macro;
  j["recall_macro"] = m.recall_macro;
  j["f1_macro"] = m.f1_macro;
  j["precision_weighted"] = m.precision_weighted;
  j["recall_weighted"] = m.recall_weighted;
  j["f1_weighted"] = m.f1_weighted;
  j["roc_auc"] = optional_number(m.roc_auc);
  j["confusion"] = {{"classes", m.classes}, {"matrix", m.confusion}};
  nlohmann::json per_class = nlohmann::json::object();
  for (size_t c = 0; c < m.classes.size(); ++c) {
    const auto& s = m.per_class[c];
    per_class[m.classes[c]] = {{"precision", s.precision},
                               {"recall", s.recall},
                               {"f1", s.f1},
                               {"support", s.support},
                               {"roc_auc", optional_number(m.roc_auc_per_class[c])}};
  }
  j["per_class"] = per_class;
  return j;
}

void write_metrics_json(const std::filesystem::path& path, nlohmann::json header,
                        const std::map<std::string, TaskMetrics>& tasks) {
  nlohmann::json t = nlohmann::json::object();
  for (const auto& [name, m] : tasks) t[name] = to_json(m);
  header["tasks"] = t;
  fs::write_text(path, header.dump(2) + "\n");
}

void write_confusion_csv(const std::filesystem::path& path, const TaskMetrics& m) {
  std::ostringstream os;
  os << "true\\predicted";
  for (const auto& c : m.classes) os << ',' << csv_field(c);
  os << '\n';
  for (size_t t = 0; t < m.classes.size(); ++t) {
    os << csv_field(m.classes[t]);
    for (int64_t v : m.confusion[t]) os << ',' << v;
    os << '\n';
  }
  fs::write_text(path, os.str());
}

void write_roc_csv(const std::filesystem::path& path, const TaskMetrics& m) {
  std::ostringstream os;
  os.precision(9);
  os << "class,threshold,fpr,tpr\n";
  for (size_t c = 0; c < m.classes.size(); ++c) {
    const auto& r = m.roc[c];
    for (size_t i = 0; i < r.fpr.size(); ++i) {
      os << csv_field(m.classes[c]) << ',';
      if (std::isinf(r.thresholds[i])) {
        os << "inf";
      } else {
        os << r.thresholds[i];
      }
      os << ',' << r.fpr[i] << ',' << r.tpr[i] << '\n';
    }
  }
  fs::write_text(path, os.str());
}

}  // namespace hptrain::metrics
