// hptrain report: every <runs>/*/metrics.json as one Markdown (and CSV) table.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <type_traits>

#include "hptrain/csv.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/log.h"
#include "hptrain/metrics/plots.h"
#include "hptrain/train/run.h"

namespace hptrain::train {
namespace {

struct Row {
  std::string experiment, model, task, device;
  double accuracy = 0, f1 = 0, seconds = 0;
  std::optional<double> auc;
  std::optional<double> eer;  // the speaker task's verification EER (neural runs)
};

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string duration(double s) {
  char buf[32];
  if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%dm %02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  }
  return buf;
}

// A field of metrics.json of the wrong type: the message names the key.
struct BadField : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// `j[key]` as T, `fallback` when absent; a present value of another type (null included) is a
// BadField naming `where` + key and the type found.
template <class T>
T field(const nlohmann::json& j, const std::string& key, T fallback, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end()) return fallback;
  const bool ok = std::is_arithmetic_v<T> ? it->is_number() : it->is_string();
  if (!ok) {
    throw BadField(where + key + " is " + std::string(it->type_name()) + ", expected a " +
                   (std::is_arithmetic_v<T> ? "number" : "string"));
  }
  return it->get<T>();
}

// The rows (one per task) of a run's metrics.json; BadField when a field has the wrong type.
std::vector<Row> read_rows(const nlohmann::json& j, const std::string& folder) {
  if (!j.is_object())
    throw BadField(std::string("the file is ") + j.type_name() + ", not an object");
  const auto it = j.find("tasks");
  if (it != j.end() && !it->is_object()) {
    throw BadField(std::string("tasks is ") + it->type_name() + ", expected an object");
  }
  std::vector<Row> rows;
  if (it == j.end()) return rows;
  for (const auto& [task, m] : it->items()) {
    const std::string where = "tasks." + task + ".";
    if (!m.is_object())
      throw BadField("tasks." + task + " is " + m.type_name() + ", expected an object");
    Row r;
    r.experiment = field<std::string>(j, "experiment", folder, "");
    r.model = field<std::string>(j, "model", "?", "");
    r.task = task;
    r.device = field<std::string>(j, "device", "?", "");
    r.seconds = field(j, "train_seconds", 0.0, "");
    r.accuracy = field(m, "accuracy", 0.0, where);
    r.f1 = field(m, "f1_macro", 0.0, where);
    // ROC-AUC is null when a class is absent from the test split (README, "metrics.json")
    if (m.contains("roc_auc") && !m["roc_auc"].is_null()) r.auc = field(m, "roc_auc", 0.0, where);
    // tasks.<task>.verification (speakers/split_verification.h)
    if (m.contains("verification")) {
      if (!m["verification"].is_object()) {
        throw BadField(where + "verification is " + m["verification"].type_name() +
                       ", expected an object");
      }
      r.eer = field(m["verification"], "eer", 0.0, where + "verification.");
    }
    rows.push_back(r);
  }
  return rows;
}

}  // namespace

std::string run_report(const ReportOptions& opts) {
  if (!std::filesystem::is_directory(opts.runs)) {
    throw InputError("cannot read runs folder '" + opts.runs.string() + "': not a folder");
  }
  std::vector<Row> rows;
  for (const auto& entry : std::filesystem::directory_iterator(opts.runs)) {
    const auto file = entry.path() / "metrics.json";
    if (!std::filesystem::exists(file)) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(fs::read_text(file));
    } catch (const nlohmann::json::exception& e) {
      HP_LOG_WARN("skipping '{}': {}", file.string(), e.what());
      continue;
    } catch (const InputError& e) {  // unreadable: a folder, permission denied, ...
      HP_LOG_WARN("skipping: {}", e.what());
      continue;
    }
    std::vector<Row> found;
    try {
      found = read_rows(j, entry.path().filename().string());
    } catch (const BadField& e) {
      HP_LOG_WARN("skipping '{}': {}", file.string(), e.what());
      continue;
    }
    rows.insert(rows.end(), found.begin(), found.end());
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.experiment, a.task) < std::tie(b.experiment, b.task);
  });
  std::ostringstream md, csv;
  md << "| experiment | model | task | accuracy | macro-F1 | ROC-AUC | EER | training time | "
        "device "
        "|\n"
     << "|---|---|---|---:|---:|---:|---:|---:|---|\n";
  csv << "experiment,model,task,accuracy,f1_macro,roc_auc,eer,train_seconds,device\n";
  for (const auto& r : rows) {
    md << "| " << r.experiment << " | " << r.model << " | " << r.task << " | "
       << fixed(r.accuracy, 3) << " | " << fixed(r.f1, 3) << " | "
       << (r.auc ? fixed(*r.auc, 3) : "n/a") << " | "
       << (r.eer ? fixed(100 * *r.eer, 2) + " %" : "") << " | " << duration(r.seconds) << " | "
       << r.device << " |\n";
    csv << csv_field(r.experiment) << ',' << r.model << ',' << csv_field(r.task) << ','
        << fixed(r.accuracy, 6) << ',' << fixed(r.f1, 6) << ',' << (r.auc ? fixed(*r.auc, 6) : "")
        << ',' << (r.eer ? fixed(*r.eer, 6) : "") << ',' << fixed(r.seconds, 1) << ','
        << csv_field(r.device) << '\n';
  }
  if (rows.empty()) HP_LOG_WARN("no run with a metrics.json under '{}'", opts.runs.string());
  if (!opts.out.empty()) {
    // FILE.md, FILE.csv or FILE alone: the table as FILE.md and FILE.csv either way
    auto base = opts.out;
    if (base.extension() == ".md" || base.extension() == ".csv") base.replace_extension();
    fs::write_text(base.string() + ".md", md.str());
    fs::write_text(base.string() + ".csv", csv.str());
    // FILE.png: accuracy, macro-F1 and ROC-AUC (0 where n/a) of every run and task side by side
    if (!rows.empty()) {
      std::vector<std::string> labels;
      std::vector<metrics::Series> series = {{"accuracy", {}}, {"macro-F1", {}}, {"ROC-AUC", {}}};
      for (const auto& r : rows) {
        labels.push_back(r.experiment + " / " + r.task);
        series[0].y.push_back(r.accuracy);
        series[1].y.push_back(r.f1);
        series[2].y.push_back(r.auc.value_or(0.0));
      }
      metrics::plot_bars(base.string() + ".png", labels, series, "score",
                         "runs under " + opts.runs.string());
    }
  }
  return md.str();
}

}  // namespace hptrain::train
