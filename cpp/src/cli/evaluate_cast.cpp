// `hptrain evaluate-cast --run DIR --cast cast.csv --test test.csv --out DIR`: how well a run's
// embeddings name voices it never heard (speakers/open_set.h): open-set accuracy and EER.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/embed_options.h"
#include "cli/registry.h"
#include "hptrain/speakers/open_set.h"

namespace hptrain::cli {
namespace {

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "evaluate-cast",
      "Measure a neural run on a cast of your own: enrol it from one CSV "
      "(path,start,end,character), name every line of a test CSV (character or `unknown`), and "
      "give the open-set accuracy and the EER of every same/different pair of test lines");
  auto opts = std::make_shared<speakers::EvaluateCastOptions>();
  add_run_and_windows(sub, opts->run, opts->embed);
  sub->add_option("--cast", opts->cast_manifest,
                  "Enrolment CSV: path,start,end,character (as hptrain enroll reads it)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--test", opts->test_manifest,
                  "Test CSV: path,start,end,character[,voice]; character a cast member or "
                  "`unknown`, voice the true speaker (for the pairs)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--out", opts->out, "Folder for cast.h5, lines.csv and open_set.json")
      ->required();
  add_cast_scoring(sub, opts->scoring, opts->calibrate, opts->split);
  sub->add_option("--threshold", opts->threshold,
                  "Name by this threshold (in --scoring's scale) instead of the one enrolment "
                  "calibrates");
  sub->add_option("--device", opts->embed.device,
                  "auto | cpu | cuda[:N] (default: the run's train.device)");
  sub->callback([opts] {
    const auto r = speakers::run_evaluate_cast(*opts);
    std::printf("open-set accuracy %.3f over %zu lines (%s threshold %.4f)\n", r.accuracy(),
                r.lines.size(), opts->scoring.method.c_str(), r.threshold);
    std::printf("  known characters: %.3f of %lld lines (closed set, no threshold: %.3f)\n",
                r.known_accuracy(), static_cast<long long>(r.known_lines), r.closed_set_accuracy());
    std::printf("  unknown voices: %.3f of %lld lines named unknown\n", r.unknown_accuracy(),
                static_cast<long long>(r.unknown_lines));
    if (r.verification) {
      std::printf(
          "verification EER %.2f %% (minDCF %.3f, threshold %.4f) over %lld same and "
          "%lld different pairs\n",
          100 * r.verification->eer, r.verification->min_dcf, r.verification->threshold,
          static_cast<long long>(r.verification->targets),
          static_cast<long long>(r.verification->nontargets));
    } else {
      std::printf("verification: no pair of each kind among the test lines\n");
    }
    std::printf("-> %s\n", (opts->out / "open_set.json").string().c_str());
  });
}

const CommandRegistrar kRegistrar("evaluate-cast", setup);

}  // namespace
}  // namespace hptrain::cli
