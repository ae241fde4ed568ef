// The options every command that embeds windows with a neural run shares (embed, enroll,
// evaluate-cast): the run folder and the window grid.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>

#include "hptrain/metrics/score_norm.h"
#include "hptrain/speakers/cast.h"
#include "hptrain/speakers/embed.h"

namespace hptrain::cli {

inline void add_run_and_windows(CLI::App* sub, std::filesystem::path& run,
                                speakers::EmbedOptions& embed) {
  sub->add_option("--run", run, "Run folder of a neural run (e.g. runs/ecapa)")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--window-s", embed.window_s, "Window length (s)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--hop-s", embed.hop_s, "Distance between window starts (s)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

// How enroll and evaluate-cast score windows against a cast and calibrate its threshold
// (speakers/cast.h EnrollOptions).
inline void add_cast_scoring(CLI::App* sub, metrics::ScoreNormConfig& scoring,
                             std::string& calibrate, std::string& split) {
  sub->add_option("--scoring", scoring.method,
                  "cosine (raw), centred (on the mean of the run's training chunks) or as-norm "
                  "(centred, then adaptive s-norm against those chunks as impostors)")
      ->capture_default_str()
      ->check(
          CLI::IsMember({metrics::kScoreCosine, metrics::kScoreCentred, metrics::kScoreAsNorm}));
  sub->add_option("--top-n", scoring.top_n,
                  "as-norm: the highest cohort scores of each side that give its mean and std")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{2}, int64_t{1000000}));
  sub->add_option("--calibrate", calibrate,
                  "What the threshold is calibrated on: enrolment (the cast's own lines, leave "
                  "one out) or validation (pairs of the run's --split chunks)")
      ->capture_default_str()
      ->check(CLI::IsMember({speakers::kCalibrateEnrolment, speakers::kCalibrateValidation}));
  sub->add_option("--split", split, "The run dataset's split --calibrate validation uses")
      ->capture_default_str()
      ->check(CLI::IsMember({"validation", "train", "test"}));
}

}  // namespace hptrain::cli
