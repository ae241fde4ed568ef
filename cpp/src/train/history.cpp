// log.csv, the training curves and the progress status (history.h).
#include "train/history.h"

#include <cstdio>
#include <sstream>

#include "hptrain/fs.h"
#include "hptrain/metrics/plots.h"

namespace hptrain::train::detail {

void write_log_csv(const std::filesystem::path& path, const std::vector<std::string>& tasks,
                   const nlohmann::json& history) {
  std::vector<std::string> cols = {"epoch", "lr", "train_loss", "val_loss", "val_f1_macro"};
  for (const auto& t : tasks) {
    cols.push_back("val_accuracy_" + t);
    cols.push_back("val_f1_" + t);
  }
  cols.push_back("examples_per_s");
  cols.push_back("data_wait");
  cols.push_back("seconds");
  std::ostringstream os;
  for (size_t i = 0; i < cols.size(); ++i) os << (i ? "," : "") << cols[i];
  os << '\n';
  for (const auto& row : history) {
    for (size_t i = 0; i < cols.size(); ++i) os << (i ? "," : "") << row.at(cols[i]).dump();
    os << '\n';
  }
  fs::write_text(path, os.str());
}

void plot_history(const std::filesystem::path& png, const std::string& name,
                  const std::vector<std::string>& tasks, const nlohmann::json& history) {
  std::vector<double> epochs;
  std::vector<metrics::Series> losses{{"train loss", {}}, {"validation loss", {}}};
  std::vector<metrics::Series> scores{{"validation macro-F1 (mean)", {}}};
  for (const auto& t : tasks) scores.push_back({"validation F1 " + t, {}});
  for (const auto& row : history) {
    epochs.push_back(row.at("epoch"));
    losses[0].y.push_back(row.at("train_loss"));
    losses[1].y.push_back(row.at("val_loss"));
    scores[0].y.push_back(row.at("val_f1_macro"));
    for (size_t k = 0; k < tasks.size(); ++k)
      scores[k + 1].y.push_back(row.at("val_f1_" + tasks[k]));
  }
  metrics::plot_training_curves(png, epochs, losses, scores, name + ": training");
}

std::string step_status(double mean_loss, double lr) {
  char s[64];
  std::snprintf(s, sizeof s, "loss %.4f lr %.2e", mean_loss, lr);
  return s;
}

}  // namespace hptrain::train::detail
