// `hptrain prepare`: a dataset TOML to HDF5 shards (building the demo corpus first when the
// dataset asks for it); see README, "Datasets".
#include <iostream>
#include <memory>

#include "cli/registry.h"
#include "hptrain/data/prepare.h"

namespace hptrain::cli {
namespace {

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "prepare",
      "Decode, preprocess and extract features of a dataset's audio into HDF5 shards "
      "<split>-<i>.h5 (resumable; builds the demo corpus when the dataset has [demo])");
  auto opts = std::make_shared<data::PrepareOptions>();
  sub->add_option("--dataset", opts->dataset, "Dataset TOML (e.g. datasets/demo/dataset.toml)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_flag("--force", opts->force,
                "Delete the shards (and rebuild a demo corpus) and prepare everything again");
  sub->add_flag("--skip-bad-rows", opts->skip_bad_rows,
                "Leave out bad manifest rows and undecodable files (listed in skipped.csv) "
                "instead of stopping");
  sub->add_flag("--demo-only", opts->demo_only,
                "Only build the demo corpus (audio and manifest), not the shards");
  sub->callback([opts] {
    const data::PrepareSummary s = data::run_prepare(*opts);
    if (opts->demo_only) {
      std::cout << "demo corpus " << (s.demo_built ? "built" : "already present") << "\n";
      return;
    }
    std::cout << data::format_summary(s);
  });
}

const CommandRegistrar kRegistrar("prepare", setup);

}  // namespace
}  // namespace hptrain::cli
