#include "hptrain/metrics/plots.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "hptrain/fs.h"
#include "hptrain/log.h"

namespace hptrain::metrics {
namespace {

std::string program() {
  const char* p = std::getenv("HP_GNUPLOT");
  return p != nullptr && *p != '\0' ? p : "gnuplot";
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A gnuplot string literal (single quotes: no escapes but '' for a quote).
std::string gp_string(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

const std::string& terminal() {
  static const std::string t = [] {
    const std::string probe =
        shell_quote(program()) + " -e \"set terminal pngcairo\" >/dev/null 2>&1";
    return std::system(probe.c_str()) == 0 ? std::string("pngcairo size 900,700 font ',10'")
                                           : std::string("png size 900,700");
  }();
  return t;
}

// Writes the data and the script beside the PNG (under gnuplot/), then renders the PNG
// atomically. `script` must not set the terminal or the output.
bool render(const std::filesystem::path& png, const std::string& data, const std::string& script) {
  if (!gnuplot_available()) {
    static std::once_flag warned;
    std::call_once(warned, [] {
      HP_LOG_WARN("gnuplot not found (install gnuplot-nox or set HP_GNUPLOT): plots skipped");
    });
    return false;
  }
  try {
    const auto dir = png.parent_path() / "gnuplot";
    const auto stem = png.stem().string();
    const auto dat = dir / (stem + ".dat");
    const auto gp = dir / (stem + ".gp");
    fs::write_text(dat, data);
    std::string text = "# Re-draw: gnuplot -e \"set output '" + png.filename().string() +
                       "'\" gnuplot/" + stem + ".gp  (from the run folder)\n";
    text += "set terminal " + terminal() + "\nset termoption noenhanced\n";
    text += "data = " + gp_string(dat.string()) + "\n" + script;
    fs::write_text(gp, text);
    fs::atomic_write(png, [&](const std::filesystem::path& tmp) {
      const auto log = dir / (stem + ".log");
      const std::string cmd = shell_quote(program()) + " -e " +
                              shell_quote("set output " + gp_string(tmp.string())) + " " +
                              shell_quote(gp.string()) + " >" + shell_quote(log.string()) + " 2>&1";
      if (std::system(cmd.c_str()) != 0 || !std::filesystem::exists(tmp)) {
        throw std::runtime_error("gnuplot failed: " + fs::read_text(log));
      }
      std::filesystem::remove(log);
    });
    return true;
  } catch (const std::exception& e) {
    HP_LOG_WARN("plot '{}' not drawn: {}", png.string(), e.what());
    return false;
  }
}

}  // namespace

bool gnuplot_available() {
  static const bool ok = [] {
    const std::string cmd = shell_quote(program()) + " -e \"exit\" >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  }();
  return ok;
}

bool plot_confusion(const std::filesystem::path& png, const TaskMetrics& m,
                    const std::string& title) {
  const size_t k = m.classes.size();
  std::ostringstream data;
  for (size_t t = 0; t < k; ++t) {
    int64_t row = 0;
    for (int64_t v : m.confusion[t]) row += v;
    for (size_t p = 0; p < k; ++p) {
      const double frac = row > 0 ? static_cast<double>(m.confusion[t][p]) / row : 0.0;
      data << p << ' ' << t << ' ' << m.confusion[t][p] << ' ' << frac << '\n';
    }
    data << '\n';
  }
  std::ostringstream s;
  std::string tics;
  for (size_t c = 0; c < k; ++c) {
    tics += (c ? ", " : "") + gp_string(m.classes[c]) + " " + std::to_string(c);
  }
  const std::string range = "[-0.5:" + std::to_string(k) + "-0.5]";
  s << "set title " << gp_string(title) << "\n"
    << "set xlabel 'predicted'\nset ylabel 'true'\n"
    << "set xtics (" << tics << ") rotate by 30 right\nset ytics (" << tics << ")\n"
    << "set xrange " << range << "\nset yrange [" << k << "-0.5:-0.5]\n"
    << "set cbrange [0:1]\nset cblabel 'fraction of the true class'\n"
    << "set palette defined (0 'white', 1 '#2166ac')\nset size square\n"
    << "plot data using 1:2:4 with image notitle, \\\n"
    << "     data using 1:2:(sprintf('%d', $3)) with labels notitle\n";
  return render(png, data.str(), s.str());
}

bool plot_roc(const std::filesystem::path& png, const TaskMetrics& m, const std::string& title) {
  std::ostringstream data;
  std::vector<size_t> drawn;
  for (size_t c = 0; c < m.classes.size(); ++c) {
    if (!m.roc_auc_per_class[c]) continue;          // no positives or no negatives: no curve
    if (m.classes.size() == 2 && c == 0) continue;  // binary: one curve
    for (size_t i = 0; i < m.roc[c].fpr.size(); ++i) {
      data << m.roc[c].fpr[i] << ' ' << m.roc[c].tpr[i] << '\n';
    }
    data << "\n\n";
    drawn.push_back(c);
  }
  std::ostringstream s;
  s << "set title " << gp_string(title) << "\n"
    << "set xlabel 'false positive rate'\nset ylabel 'true positive rate'\n"
    << "set xrange [0:1]\nset yrange [0:1]\nset size square\nset key bottom right\n"
    << "plot x with lines dashtype 2 lc rgb 'gray' notitle";
  for (size_t i = 0; i < drawn.size(); ++i) {
    char auc[32];
    std::snprintf(auc, sizeof auc, " (AUC %.3f)", *m.roc_auc_per_class[drawn[i]]);
    s << ", \\\n     data index " << i << " using 1:2 with lines lw 2 title "
      << gp_string(m.classes[drawn[i]] + auc);
  }
  s << "\n";
  return render(png, data.str(), s.str());
}

bool plot_training_curves(const std::filesystem::path& png, const std::vector<double>& epochs,
                          const std::vector<Series>& losses, const std::vector<Series>& scores,
                          const std::string& title) {
  std::ostringstream data;
  for (size_t i = 0; i < epochs.size(); ++i) {
    data << epochs[i];
    for (const auto* group : {&losses, &scores}) {
      for (const auto& series : *group) data << ' ' << (i < series.y.size() ? series.y[i] : 0.0);
    }
    data << '\n';
  }
  std::ostringstream s;
  s << "set title " << gp_string(title) << "\n"
    << "set xlabel 'epoch'\nset ylabel 'loss'\nset y2label 'validation score'\n"
    << "set y2range [0:1]\nset y2tics\nset ytics nomirror\nset key outside bottom center "
       "horizontal\n"
    << "plot ";
  int column = 2;
  bool first = true;
  for (const auto* group : {&losses, &scores}) {
    for (const auto& series : *group) {
      s << (first ? "" : ", \\\n     ") << "data using 1:" << column++ << " with linespoints "
        << (group == &scores ? "axes x1y2 " : "") << "title " << gp_string(series.name);
      first = false;
    }
  }
  s << "\n";
  return render(png, data.str(), s.str());
}

}  // namespace hptrain::metrics
