// `hptrain report [--runs runs/] [--out FILE.md]`: the results table of every run (Markdown on
// stdout; FILE.md and FILE.csv when --out is given); --robustness: the noise table instead.
#include <iostream>
#include <memory>

#include "cli/registry.h"
#include "hptrain/train/run.h"

namespace hptrain::cli {
namespace {

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "report", "Table of every run: model, task, accuracy, macro-F1, ROC-AUC, time, device");
  auto opts = std::make_shared<train::ReportOptions>();
  sub->add_option("--runs", opts->runs, "Folder of run folders")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  sub->add_option(
      "--out", opts->out,
      "Also write the table to FILE.md and FILE.csv (FILE given with either extension or none)");
  sub->add_flag("--robustness", opts->robustness,
                "The robustness table instead: macro-F1 clean and at each SNR of every run's "
                "robustness.json (hptrain evaluate --noise)");
  sub->callback([opts] {
    std::cout << (opts->robustness ? train::robustness_report(*opts) : train::run_report(*opts));
  });
}

const CommandRegistrar kRegistrar("report", setup);

}  // namespace
}  // namespace hptrain::cli
