// Plots of a run drawn by gnuplot (script file + data file, PNG via pngcairo or png): the
// confusion-matrix heat map, ROC curves, training curves. Without gnuplot: a warning, no plot.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "hptrain/metrics/metrics.h"

namespace hptrain::metrics {

// True when `gnuplot` runs; the result is cached. HP_GNUPLOT names another program.
bool gnuplot_available();

// A named series of y values against the shared x values of a plot.
struct Series {
  std::string name;
  std::vector<double> y;
};

// Each returns false (after a warning) when the plot could not be drawn; never throws for a
// missing or failing gnuplot. The .gp script and .dat data stay beside the PNG (under gnuplot/)
// for re-drawing; the script names its data relative to the PNG's folder, so it re-draws from
// there whatever path the folder was given by, and after the folder moves.
bool plot_confusion(const std::filesystem::path& png, const TaskMetrics& m,
                    const std::string& title);
bool plot_roc(const std::filesystem::path& png, const TaskMetrics& m, const std::string& title);
// Left axis: `losses`; right axis (0..1): `scores`; x: epochs.
bool plot_training_curves(const std::filesystem::path& png, const std::vector<double>& epochs,
                          const std::vector<Series>& losses, const std::vector<Series>& scores,
                          const std::string& title);
// Grouped bars (y in 0..1): one group per `labels` entry, one bar per series (its y[i]).
bool plot_bars(const std::filesystem::path& png, const std::vector<std::string>& labels,
               const std::vector<Series>& series, const std::string& ylabel,
               const std::string& title);

// One panel of plot_panels: its title and lines.
struct Panel {
  std::string title;
  std::vector<Series> series;  // NaN: no point there
};
// Panels side by side, each its series' y (0..1) against the shared x values, drawn from the
// first x (left) to the last (robustness.png: SNR from high to low).
bool plot_panels(const std::filesystem::path& png, const std::vector<double>& x,
                 const std::vector<Panel>& panels, const std::string& xlabel,
                 const std::string& ylabel, const std::string& title);

// One row of a timeline: a task's segments, each [start_s, end_s) of class `cls`.
struct TimelineSpan {
  double start_s = 0, end_s = 0;
  int cls = 0;
};
struct TimelineRow {
  std::string name;                  // the task
  std::vector<std::string> classes;  // the legend: cls indexes it
  std::vector<TimelineSpan> spans;
};
// One horizontal band per row, coloured by class, against time in seconds.
bool plot_timeline(const std::filesystem::path& png, const std::vector<TimelineRow>& rows,
                   const std::string& title);

}  // namespace hptrain::metrics
