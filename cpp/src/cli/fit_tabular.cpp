// `hptrain fit-tabular`: fit an SVM or random forest on X/y from HDF5, print test scores as JSON.
#include <iostream>
#include <memory>

#include "cli/registry.h"
#include "hptrain/baselines/fit_tabular.h"

namespace hptrain::cli {
namespace {

const CommandRegistrar kFitTabular("fit-tabular", [](CLI::App& root) {
  auto opts = std::make_shared<baselines::FitTabularOptions>();
  CLI::App* cmd = root.add_subcommand(
      "fit-tabular",
      "Fit an SVM or random forest on X [n, d] / y [n] of an HDF5 file and score it on another; "
      "prints accuracy, macro-F1, ROC-AUC and fit time as JSON");
  cmd->add_option("--train", opts->train, "training HDF5 with datasets X and y")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--test", opts->test, "test HDF5 with datasets X and y")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--model", opts->model, "svm or rf")
      ->required()
      ->check(CLI::IsMember({"svm", "rf"}));
  cmd->add_option("--set", opts->set,
                  "hyper-parameter of [model] as key=value, repeatable (e.g. C=10, gamma=scale, "
                  "n_estimators=200)");
  cmd->add_option("--out", opts->out, "write the fitted model here (HDF5)");
  cmd->callback([opts] { std::cout << baselines::run_fit_tabular(*opts).dump(2) << std::endl; });
});

}  // namespace
}  // namespace hptrain::cli
