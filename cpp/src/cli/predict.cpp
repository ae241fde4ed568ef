// `hptrain predict --run DIR FILE...`: a trained run pointed at whole recordings (films,
// episodes); per file a CSV of per-chunk predictions and one of segments, and a summary of time
// per class. A file that fails is reported and the others go on; the exit code is then 1.
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cli/registry.h"
#include "hptrain/log.h"
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
  auto stream = std::make_shared<int>(-1);
  auto* stream_opt =
      sub->add_option(
             "--stream", *stream,
             "Container stream to classify, as ffprobe numbers it (Stream #0:N), e.g. a film's "
             "original-language track (default: the run dataset's preprocess.stream, normally the "
             "first audio stream)")
          ->check(CLI::Range(-1, std::numeric_limits<int>::max()));
  sub->add_option("--batch-size", opts->batch_size,
                  "Chunks per batch (default: the run's train.batch_size); lower it when the GPU "
                  "runs out of memory")
      ->check(CLI::Range(1, 1000000));
  sub->add_option("--cast", opts->cast,
                  "Cast file made with this run by hptrain enroll: each chunk also named by its "
                  "character, or unknown (columns cast, cast_score; task cast in the timeline)")
      ->check(CLI::ExistingFile);
  sub->add_option("files", opts->files, "Audio or video files")
      ->required()
      ->check(CLI::ExistingFile);
  sub->callback([opts, stream, stream_opt] {
    if (stream_opt->count() > 0) opts->stream = *stream;
    std::vector<std::string> failed;
    opts->on_file = [&failed](const train::FilePrediction& r) {
      if (!r.error.empty()) {
        HP_LOG_ERROR("{}", r.error);
        failed.push_back(r.file.string());
        return;
      }
      std::printf("%s: %lld chunks, %.1f s -> %s, %s\n", r.file.string().c_str(),
                  static_cast<long long>(r.chunks), r.seconds, r.csv.string().c_str(),
                  r.segments.filename().string().c_str());
      for (const auto& [task, classes] : r.share) {
        std::printf("  %s:", task.c_str());
        for (const auto& [name, share] : classes)
          std::printf(" %s %.0f%%", name.c_str(), 100 * share);
        const auto n = static_cast<long long>(r.segment_count.at(task));
        std::printf(" (%lld segment%s)\n", n, n == 1 ? "" : "s");
      }
      std::fflush(stdout);
    };
    const auto results = train::run_predict(*opts);
    if (!failed.empty()) {
      if (results.size() == 1) {
        std::printf("the file failed (nothing written for it):\n");
      } else {
        std::printf("%zu of %zu files failed (nothing written for them):\n", failed.size(),
                    results.size());
      }
      for (const auto& f : failed) std::printf("  %s\n", f.c_str());
      set_exit_code(kExitInput);
    }
  });
}

const CommandRegistrar kRegistrar("predict", setup);

}  // namespace
}  // namespace hptrain::cli
