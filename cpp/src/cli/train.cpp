// `hptrain --experiment FILE [--set KEY=VALUE]... [--resume]` and the same as `hptrain train`:
// prepares the dataset if needed, trains, evaluates on the test split, writes the run folder.
#include <iostream>
#include <memory>

#include "cli/registry.h"
#include "hptrain/train/run.h"

namespace hptrain::cli {
namespace {

void add_options(CLI::App& app, train::RunOptions& opts, bool required) {
  auto* e = app.add_option("--experiment", opts.experiment,
                           "Experiment TOML (e.g. experiments/cnn.toml): train, evaluate, report")
                ->check(CLI::ExistingFile);
  if (required) e->required();
  app.add_option("--set", opts.overrides,
                 "Override a key of the experiment, e.g. --set train.epochs=5 (repeatable)")
      ->allow_extra_args(false);
  app.add_flag("--resume", opts.resume,
               "Continue from the run folder's checkpoint_last.pt (after Ctrl-C or a crash)");
}

void run(const train::RunOptions& opts) {
  const auto r = train::run_experiment(opts);
  if (r.interrupted) {
    std::cout << "interrupted: checkpoint saved in " << r.run_dir.string()
              << "; continue with --resume\n";
    set_exit_code(kExitInterrupted);
    return;
  }
  if (r.metrics.is_null()) return;  // a rank other than 0 of a data-parallel run: it wrote nothing
  std::cout << "run folder: " << r.run_dir.string() << "\n";
  for (const auto& [task, m] : r.metrics.at("tasks").items()) {
    std::cout << "  " << task << ": accuracy " << m.at("accuracy").get<double>() << ", macro-F1 "
              << m.at("f1_macro").get<double>() << ", ROC-AUC " << m.at("roc_auc").dump() << "\n";
  }
}

void setup(CLI::App& root) {
  auto top = std::make_shared<train::RunOptions>();
  add_options(root, *top, false);
  root.callback([&root, top] {
    if (!top->experiment.empty()) {
      run(*top);
    } else if (root.get_subcommands().empty()) {
      throw CLI::CallForHelp();
    }
  });

  auto* sub = root.add_subcommand("train", "Train and evaluate an experiment (as --experiment)");
  auto opts = std::make_shared<train::RunOptions>();
  add_options(*sub, *opts, true);
  sub->callback([opts] { run(*opts); });
}

const CommandRegistrar kRegistrar("train", setup);

}  // namespace
}  // namespace hptrain::cli
