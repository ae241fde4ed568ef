// `hptrain predict --run DIR FILE...`: a trained run pointed at whole recordings (films,
// episodes); one CSV of per-chunk predictions per file, and a summary of time per class.
#include <cstdio>
#include <memory>

#include "cli/registry.h"
#include "hptrain/train/run.h"

namespace hptrain::cli {
namespace {

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "predict",
      "Classify whole recordings (any audio or video file) with a run's best model: one CSV per "
      "file of per-chunk classes and probabilities, in the file's own time");
  auto opts = std::make_shared<train::PredictOptions>();
  sub->add_option("--run", opts->run, "Run folder (e.g. runs/cnn)")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--out", opts->out, "Folder of the CSVs (default: <run>/predictions)");
  sub->add_option("files", opts->files, "Audio or video files")
      ->required()
      ->check(CLI::ExistingFile);
  sub->callback([opts] {
    for (const auto& r : train::run_predict(*opts)) {
      std::printf("%s: %lld chunks, %.1f s -> %s\n", r.file.string().c_str(),
                  static_cast<long long>(r.chunks), r.seconds, r.csv.string().c_str());
      for (const auto& [task, classes] : r.share) {
        std::printf("  %s:", task.c_str());
        for (const auto& [name, share] : classes)
          std::printf(" %s %.0f%%", name.c_str(), 100 * share);
        std::printf("\n");
      }
    }
  });
}

const CommandRegistrar kRegistrar("predict", setup);

}  // namespace
}  // namespace hptrain::cli
