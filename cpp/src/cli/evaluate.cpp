// `hptrain evaluate --run DIR [--split test|validation|train] [--dataset FILE]`: re-evaluates a
// run's best model and writes the metric files into <run>/eval-<split>[-<dataset>]/.
// `hptrain evaluate --run DIR --noise KIND[,KIND] --snr 20,10,5,0,-5 [--seed S] [--split
// validation]`: the test (or validation) chunks rebuilt from their sources with noise mixed in
// (train::run_robustness).
#include <iostream>
#include <memory>

#include "cli/registry.h"
#include "hptrain/error.h"
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
  auto noisy = std::make_shared<train::RobustnessOptions>();
  sub->add_option("--noise", noisy->noise,
                  "Noise kinds mixed into the test chunks (comma-separated): white, pink, babble, "
                  "music, demo-music, effects, folder:PATH; writes <run>/robustness.json and .png "
                  "(with --split validation: robustness_validation.json and .png)")
      ->delimiter(',');
  sub->add_option("--snr", noisy->snr_db, "SNRs in dB with --noise, each in [-20, 60]")
      ->delimiter(',')
      ->default_str("20,10,5,0,-5");
  sub->add_option("--seed", noisy->seed, "Seed of the noise drawn (with --noise)")
      ->capture_default_str();
  sub->callback([opts, noisy, sub] {
    if (!noisy->noise.empty()) {
      if (sub->count("--dataset") > 0) {
        throw ConfigError("--noise evaluates the run's own dataset: no --dataset");
      }
      noisy->run = opts->run;
      noisy->split = opts->split;
      noisy->batch_size = opts->batch_size;
      if (noisy->snr_db.empty()) noisy->snr_db = {20, 10, 5, 0, -5};
      const auto j = train::run_robustness(*noisy);
      std::cout << "task,kind,snr_db,accuracy,f1_macro,roc_auc\n";
      for (const auto& [task, m] : j.at("clean").items()) {
        std::cout << task << ",clean,," << m.at("accuracy").get<double>() << ","
                  << m.at("f1_macro").get<double>() << "," << m.at("roc_auc").dump() << "\n";
      }
      for (const auto& r : j.at("results")) {
        std::cout << r.at("task").get<std::string>() << "," << r.at("kind").get<std::string>()
                  << "," << r.at("snr_db").get<double>() << "," << r.at("accuracy").get<double>()
                  << "," << r.at("f1_macro").get<double>() << "," << r.at("roc_auc").dump() << "\n";
      }
      return;
    }
    if (sub->count("--snr") > 0 || sub->count("--seed") > 0) {
      throw ConfigError("--snr and --seed need --noise");
    }
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
