// `hptrain enroll --run DIR --manifest cast.csv --out cast.h5`: a film's cast from a few lines
// per character (speakers/cast.h), for `hptrain predict --cast`.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/embed_options.h"
#include "cli/registry.h"
#include "hptrain/speakers/cast.h"

namespace hptrain::cli {
namespace {

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "enroll",
      "Enrol a film's cast with a neural run: one centroid embedding per character from the "
      "lines of a CSV (path,start,end,character), scored by cosine (or --scoring centred or "
      "as-norm against the run's training chunks), and a threshold at the EER of the enrolment "
      "lines left out one by one (or --calibrate validation)");
  auto opts = std::make_shared<speakers::EnrollOptions>();
  add_run_and_windows(sub, opts->run, opts->embed);
  sub->add_option("--manifest", opts->manifest,
                  "CSV of lines: path,start,end,character (paths relative to the CSV)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--out", opts->out, "Cast file to write (e.g. cast.h5)")->required();
  add_cast_scoring(sub, opts->scoring, opts->calibrate, opts->split);
  sub->add_option("--device", opts->embed.device,
                  "auto | cpu | cuda[:N] (default: the run's train.device)");
  sub->callback([opts] {
    const auto cast = speakers::run_enroll(*opts);
    for (size_t c = 0; c < cast.characters.size(); ++c) {
      std::printf("%s: %lld lines, %lld windows\n", cast.characters[c].c_str(),
                  static_cast<long long>(cast.lines[c]), static_cast<long long>(cast.windows[c]));
    }
    std::printf("%s threshold %.4f (EER %.2f %%, minDCF %.3f on %s) -> %s\n",
                cast.scoring.method.c_str(), cast.threshold, 100 * cast.eer, cast.min_dcf,
                cast.calibrate.c_str(), opts->out.string().c_str());
  });
}

const CommandRegistrar kRegistrar("enroll", setup);

}  // namespace
}  // namespace hptrain::cli
