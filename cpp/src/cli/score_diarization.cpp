// `hptrain score-diarization`: DER and JER of hypothesis RTTMs against reference RTTMs
// (diarization/score.h), printed as a dscore-like table and optionally written as JSON.
#include <memory>

#include "cli/registry.h"
#include "hptrain/diarization/score.h"

namespace hptrain::cli {
namespace {

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "score-diarization",
      "DER (missed, false alarm, confusion; optimal one-to-one speaker mapping) and JER of "
      "hypothesis RTTMs against reference RTTMs, as md-eval and dscore define them (README, "
      "'Diarization')");
  auto o = std::make_shared<diarization::ScoreDiarizationOptions>();
  sub->add_option("--ref", o->ref, "Reference: an RTTM file or a folder of *.rttm (by uri)")
      ->required()
      ->check(CLI::ExistingPath);
  sub->add_option("--hyp", o->hyp, "Hypothesis: an RTTM file or a folder of *.rttm (by uri)")
      ->required()
      ->check(CLI::ExistingPath);
  sub->add_option("--collar", o->config.collar,
                  "No-score zone of +- this many seconds around each reference boundary (DER)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--skip-overlap", o->config.skip_overlap,
                "Leave out the time where reference speakers overlap (DER)");
  sub->add_option("--json", o->json, "Also write the scores as JSON to this file");
  sub->callback([o] { diarization::run_score_diarization(*o); });
}

const CommandRegistrar kRegistrar("score-diarization", setup);

}  // namespace
}  // namespace hptrain::cli
