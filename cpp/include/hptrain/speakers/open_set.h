// Open-set naming and verification of voices a run never heard (`hptrain evaluate-cast`): a cast
// enrolled from one manifest, every line of a second (test) manifest named by it (a character
// or `unknown`), and the EER of every same/different pair of those test lines. A test line's
// embedding: the L2-normalised mean of its windows' unit embeddings (as a cast's centroid).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hptrain/metrics/verification.h"
#include "hptrain/speakers/cast.h"

namespace hptrain::speakers {

inline const std::string kUnknown = "unknown";

// A test line and how the cast named it.
struct OpenSetLine {
  int64_t row = 0;  // the test manifest's line number
  std::filesystem::path file;
  double start = 0, end = 0;
  std::string expected;  // a character of the cast, or `unknown`
  std::string voice;     // the true speaker, for the pairs ("": takes no part in them)
  std::string named;     // the cast's answer: a character, or `unknown` below its threshold
  std::string nearest;   // the character of the best score, whatever the threshold
  double score = 0;      // that best score (the cast's scoring: cosine, centred or as-norm)
};

struct OpenSetResult {
  std::vector<OpenSetLine> lines;
  int64_t correct = 0;                             // named == expected, over all lines
  int64_t known_lines = 0, known_correct = 0;      // lines of an enrolled character
  int64_t known_nearest = 0;                       // of those, nearest == expected (closed set)
  int64_t unknown_lines = 0, unknown_correct = 0;  // lines expected `unknown`: named so
  double threshold = 0;                            // the cast's (in its scoring's scale)
  // Every pair of lines with a voice, target when the voices are equal (a seeded sample of
  // 2,000,000 when more); none without a pair of each kind.
  std::optional<metrics::Verification> verification;

  double accuracy() const { return ratio(correct, static_cast<int64_t>(lines.size())); }
  double known_accuracy() const { return ratio(known_correct, known_lines); }
  double closed_set_accuracy() const { return ratio(known_nearest, known_lines); }
  double unknown_accuracy() const { return ratio(unknown_correct, unknown_lines); }

 private:
  static double ratio(int64_t a, int64_t b) {
    return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0;
  }
};

// Names each line by `cast` (name_window on its embedding) and scores the answers and the
// pairs. `embeddings`: [lines.size(), cast.dim] unit rows, row i of lines[i]; `expected` and
// `voice` of each line are read, the rest filled. InputError naming the row when a line's
// expected character is neither one of the cast's nor `unknown`, or the sizes do not match.
OpenSetResult score_open_set(const Cast& cast, const std::vector<float>& embeddings,
                             std::vector<OpenSetLine> lines);

struct EvaluateCastOptions {
  std::filesystem::path run;
  std::filesystem::path cast_manifest;  // path,start,end,character: the enrolment
  // path,start,end,character[,voice]: character a cast member or `unknown`; voice the true
  // speaker (without the column: the character, and no pair for `unknown` lines)
  std::filesystem::path test_manifest;
  std::filesystem::path out;  // folder: cast.h5, lines.csv, open_set.json
  EmbedOptions embed;
  std::string split = "validation";  // the run's split `validation` calibration uses
  metrics::ScoreNormConfig scoring{metrics::kScoreCosine, 300};  // as enroll's (EnrollOptions)
  std::string calibrate = kCalibrateEnrolment;
  // Names by this threshold (in the scoring's scale) instead of the cast's calibrated one
  // (cast.h5 keeps that)
  std::optional<double> threshold;
};

// Enrols the cast (run_enroll: out/cast.h5), embeds every test line through the run dataset's
// preprocessing (as enrolment does), and writes out/lines.csv (each line's answer) and
// out/open_set.json (the figures). A test line without a window of audio is left out with a
// warning; bad rows are errors naming the manifest and row (read_cast_lines).
OpenSetResult run_evaluate_cast(const EvaluateCastOptions& opts);

}  // namespace hptrain::speakers
