// `hptrain report --robustness`: every <runs>/*/robustness.json as one table of macro-F1, clean
// and at each SNR, per run, task and noise kind.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "hptrain/csv.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/log.h"
#include "hptrain/train/run.h"

namespace hptrain::train {
namespace {

std::string fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string snr_label(double snr) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g dB", snr);
  return buf;
}

struct Line {
  std::string experiment, task, kind;
  double clean = 0;
  std::map<double, double> f1;  // SNR -> macro-F1
};

}  // namespace

std::string robustness_report(const ReportOptions& opts) {
  if (!std::filesystem::is_directory(opts.runs)) {
    throw InputError("cannot read runs folder '" + opts.runs.string() + "': not a folder");
  }
  std::map<std::tuple<std::string, std::string, std::string>, Line> lines;
  std::set<double, std::greater<>> snrs;
  for (const auto& entry : std::filesystem::directory_iterator(opts.runs)) {
    const auto file = entry.path() / "robustness.json";
    if (!std::filesystem::exists(file)) continue;
    try {
      const auto j = nlohmann::json::parse(fs::read_text(file));
      const auto experiment = j.value("experiment", entry.path().filename().string());
      for (const auto& r : j.at("results")) {
        const auto task = r.at("task").get<std::string>();
        const auto kind = r.at("kind").get<std::string>();
        auto& l = lines[{experiment, task, kind}];
        l.experiment = experiment;
        l.task = task;
        l.kind = kind;
        l.clean = j.at("clean").at(task).at("f1_macro").get<double>();
        const double snr = r.at("snr_db").get<double>();
        l.f1[snr] = r.at("f1_macro").get<double>();
        snrs.insert(snr);
      }
    } catch (const std::exception& e) {  // JSON errors, unreadable files, missing keys
      HP_LOG_WARN("skipping '{}': {}", file.string(), e.what());
    }
  }
  std::ostringstream md, csv;
  md << "| run | task | noise | clean |";
  csv << "run,task,noise,clean";
  for (double s : snrs) {
    md << " " << snr_label(s) << " |";
    csv << "," << s;
  }
  md << "\n|---|---|---|---:|";
  for (size_t i = 0; i < snrs.size(); ++i) md << "---:|";
  md << "\n";
  csv << "\n";
  for (const auto& [key, l] : lines) {
    md << "| " << l.experiment << " | " << l.task << " | " << l.kind << " | " << fixed3(l.clean)
       << " |";
    csv << csv_field(l.experiment) << "," << csv_field(l.task) << "," << csv_field(l.kind) << ","
        << fixed3(l.clean);
    for (double s : snrs) {
      const auto it = l.f1.find(s);
      md << " " << (it == l.f1.end() ? "-" : fixed3(it->second)) << " |";
      csv << "," << (it == l.f1.end() ? "" : fixed3(it->second));
    }
    md << "\n";
    csv << "\n";
  }
  if (lines.empty()) {
    HP_LOG_WARN("no run with a robustness.json under '{}' (hptrain evaluate --noise)",
                opts.runs.string());
  }
  if (!opts.out.empty()) {
    auto base = opts.out;
    if (base.extension() == ".md" || base.extension() == ".csv") base.replace_extension();
    fs::write_text(base.string() + ".md", md.str());
    fs::write_text(base.string() + ".csv", csv.str());
  }
  return md.str();
}

}  // namespace hptrain::train
