// `hptrain evaluate --run DIR [--split test|validation|train] [--dataset FILE]`: re-evaluates a
// run's best model and writes the metric files into <run>/eval-<split>[-<dataset>]/.
#include <iostream>
#include <memory>

#include "cli/registry.h"
#include "hptrain/train/run.h"

namespace hptrain::cli {
namespace {

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand("evaluate", "Re-evaluate a run's best model on a split");
  auto opts = std::make_shared<train::EvaluateOptions>();
  sub->add_option("--run", opts->run, "Run folder (e.g. runs/cnn)")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--split", opts->split, "Split to evaluate")
      ->check(CLI::IsMember({"test", "validation", "train"}))
      ->capture_default_str();
  sub->add_option("--dataset", opts->dataset,
                  "Another dataset TOML with the same tasks and classes (default: the run's)")
      ->check(CLI::ExistingFile);
  sub->add_option("--batch-size", opts->batch_size,
                  "Examples per batch (default: the run's train.batch_size); lower it when the GPU "
                  "runs out of memory")
      ->check(CLI::Range(1, 1000000));
  sub->callback([opts] {
    const auto j = train::run_evaluate(*opts);
    for (const auto& [task, m] : j.at("tasks").items()) {
      std::cout << task << ": accuracy " << m.at("accuracy").get<double>() << ", macro-F1 "
                << m.at("f1_macro").get<double>() << ", ROC-AUC " << m.at("roc_auc").dump() << "\n";
    }
  });
}

const CommandRegistrar kRegistrar("evaluate", setup);

}  // namespace
}  // namespace hptrain::cli
