#include "hptrain/metrics/plots.h"

#include <algorithm>
#include <cmath>
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
// atomically. `script` must not set the terminal or the output. The script names its data
// relative to the PNG's folder and gnuplot runs there, so that the documented re-draw works
// whether the folder was given as a relative or an absolute path, and after it moves.
bool render(const std::filesystem::path& png, const std::string& data, const std::string& script) {
  if (!gnuplot_available()) {
    static std::once_flag warned;
    std::call_once(warned, [] {
      HP_LOG_WARN("gnuplot not found (install gnuplot-nox or set HP_GNUPLOT): plots skipped");
    });
    return false;
  }
  try {
    const auto folder = std::filesystem::absolute(png).parent_path();
    const auto dir = folder / "gnuplot";
    const auto stem = png.stem().string();
    const auto dat = dir / (stem + ".dat");
    const auto gp = dir / (stem + ".gp");
    fs::write_text(dat, data);
    std::string text = "# Re-draw: gnuplot -e \"set output '" + png.filename().string() +
                       "'\" gnuplot/" + stem + ".gp  (from the folder of the PNG)\n";
    text += "set terminal " + terminal() + "\nset termoption noenhanced\n";
    text += "data = " + gp_string("gnuplot/" + stem + ".dat") + "\n" + script;
    fs::write_text(gp, text);
    fs::atomic_write(png, [&](const std::filesystem::path& tmp) {
      const auto log = dir / (stem + ".log");
      const std::string cmd =
          "cd " + shell_quote(folder.string()) + " && " + shell_quote(program()) + " -e " +
          shell_quote("set output " + gp_string(std::filesystem::absolute(tmp).string())) + " " +
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

bool plot_bars(const std::filesystem::path& png, const std::vector<std::string>& labels,
               const std::vector<Series>& series, const std::string& ylabel,
               const std::string& title) {
  std::ostringstream data;
  for (size_t i = 0; i < labels.size(); ++i) {
    // the label as a quoted gnuplot data string ("" for a quote inside)
    std::string q = "\"";
    for (char c : labels[i]) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    data << q << '"';
    for (const auto& sr : series) data << ' ' << (i < sr.y.size() ? sr.y[i] : 0.0);
    data << '\n';
  }
  std::ostringstream s;
  s << "set title " << gp_string(title) << "\n"
    << "set ylabel " << gp_string(ylabel) << "\nset yrange [0:1.05]\nset grid ytics\n"
    << "set style data histograms\nset style histogram clustered gap 1\n"
    << "set style fill solid 0.8 border -1\nset boxwidth 0.9\n"
    << "set xtics rotate by 30 right\nset key outside top center horizontal\n"
    << "plot ";
  for (size_t k = 0; k < series.size(); ++k) {
    s << (k ? ", \\\n     " : "") << "data using " << k + 2 << (k == 0 ? ":xtic(1)" : "")
      << " title " << gp_string(series[k].name);
  }
  s << "\n";
  return render(png, data.str(), s.str());
}

bool plot_panels(const std::filesystem::path& png, const std::vector<double>& x,
                 const std::vector<Panel>& panels, const std::string& xlabel,
                 const std::string& ylabel, const std::string& title) {
  if (x.empty() || panels.empty()) return false;
  // one data block per panel (gnuplot's index): x, then each series' y (NaN: no point)
  std::ostringstream data;
  for (const auto& p : panels) {
    for (size_t i = 0; i < x.size(); ++i) {
      data << x[i];
      for (const auto& sr : p.series) {
        const double y = i < sr.y.size() ? sr.y[i] : std::nan("");
        if (std::isnan(y)) {
          data << " NaN";
        } else {
          data << ' ' << y;
        }
      }
      data << '\n';
    }
    data << "\n\n";
  }
  const double lo = *std::min_element(x.begin(), x.end());
  const double hi = *std::max_element(x.begin(), x.end());
  const double pad = hi > lo ? 0.03 * (hi - lo) : 1.0;
  std::ostringstream s;
  s << "set multiplot layout 1," << panels.size() << " title " << gp_string(title) << "\n"
    << "set xlabel " << gp_string(xlabel) << "\nset ylabel " << gp_string(ylabel) << "\n"
    << "set xrange [" << x.front() + (x.front() >= x.back() ? pad : -pad) << ":"
    << x.back() + (x.front() >= x.back() ? -pad : pad) << "]\nset yrange [0:1]\nset grid\n"
    << "set key bottom left\n";
  for (size_t p = 0; p < panels.size(); ++p) {
    s << "set title " << gp_string(panels[p].title) << "\nplot ";
    for (size_t k = 0; k < panels[p].series.size(); ++k) {
      const bool clean = panels[p].series[k].name == "clean";
      s << (k ? ", \\\n     " : "") << "data index " << p << " using 1:" << k + 2
        << (clean ? " with lines dashtype 2 lc rgb 'black'" : " with linespoints") << " title "
        << gp_string(panels[p].series[k].name);
    }
    s << "\n";
  }
  s << "unset multiplot\n";
  return render(png, data.str(), s.str());
}

bool plot_timeline(const std::filesystem::path& png, const std::vector<TimelineRow>& rows,
                   const std::string& title) {
  // one data block per row: x centre, row, half width, half height, colour (1-based class of
  // the row, offset so that rows do not share colours)
  std::ostringstream data;
  std::vector<int> first_colour;
  int colour = 1;
  double end = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    first_colour.push_back(colour);
    for (const auto& sp : rows[r].spans) {
      data << 0.5 * (sp.start_s + sp.end_s) << ' ' << r << ' ' << 0.5 * (sp.end_s - sp.start_s)
           << " 0.35 " << colour + sp.cls << '\n';
      end = std::max(end, sp.end_s);
    }
    if (rows[r].spans.empty()) data << "NaN NaN NaN NaN 1\n";
    data << "\n\n";
    colour += static_cast<int>(rows[r].classes.size());
  }
  std::ostringstream s;
  std::string tics;
  for (size_t r = 0; r < rows.size(); ++r)
    tics += (r ? ", " : "") + gp_string(rows[r].name) + " " + std::to_string(r);
  s << "set title " << gp_string(title) << "\n"
    << "set xlabel 'time (s)'\nset xrange [0:" << (end > 0 ? end : 1) << "]\n"
    << "set yrange [-0.6:" << rows.size() << "-0.4]\nset ytics (" << tics << ")\n"
    << "set style fill solid 0.9 noborder\nset key outside bottom center horizontal\n"
    << "plot ";
  bool first = true;
  for (size_t r = 0; r < rows.size(); ++r) {
    s << (first ? "" : ", \\\n     ") << "data index " << r
      << " using 1:2:3:4:5 with boxxyerror lc variable notitle";
    first = false;
    for (size_t c = 0; c < rows[r].classes.size(); ++c) {
      s << ", \\\n     NaN with boxes lc " << first_colour[r] + static_cast<int>(c) << " title "
        << gp_string(rows[r].name + ": " + rows[r].classes[c]);
    }
  }
  s << "\n";
  return render(png, data.str(), s.str());
}

}  // namespace hptrain::metrics
