// A film's cast: one centroid embedding per character from a few labelled lines, and a
// threshold below which a window is nobody of the cast ("unknown"). Centroid: the L2-normalised
// mean of the unit embeddings of the character's windows. Scores (metrics/score_norm.h): the raw
// cosine (the default), the cosine centred on a cohort of impostor voices (the run's training
// chunks), or AS-norm of it against that cohort. Threshold: the EER threshold of the enrolment
// lines themselves (each line against its character's centroid without it, and against the
// other characters: the default) or of the run's validation chunks, in the scores' scale. The
// cast file (HDF5) keeps the centroids, the scoring, its cohort, the threshold and, calibrated on
// the enrolment lines, their trials (calibration_scores, calibration_target).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hptrain/metrics/score_norm.h"
#include "hptrain/speakers/embed.h"

namespace hptrain::speakers {

inline const std::string kCalibrateEnrolment = "enrolment";
inline const std::string kCalibrateValidation = "validation";

struct Cast {
  std::string run, fingerprint;  // the run that made it (its model fingerprint)
  std::string weights;           // weights_checksum of that run's model ("" in files that lack it)
  int64_t dim = 0;
  std::vector<std::string> characters;  // sorted
  std::vector<float> centroids;         // [characters, dim], unit rows
  std::vector<int64_t> lines;           // usable lines per character
  std::vector<int64_t> windows;         // windows per character
  // How a window is scored against the centroids; cast files written before it was recorded
  // hold raw cosines (method "cosine")
  metrics::ScoreNormConfig scoring{metrics::kScoreCosine, 300};
  std::vector<float> cohort;  // [cohort_n, dim]: impostor embeddings (centred, as-norm)
  int64_t cohort_n = 0;
  double threshold = 0;     // in the scoring's scale; below it: unknown
  double eer = 0;           // the calibration's EER (at `threshold`)
  double min_dcf = 0;       // the calibration's normalised minDCF (p_target 0.01)
  std::string calibrate;    // kCalibrateEnrolment or kCalibrateValidation ("" in old files)
  std::string calibration;  // what the threshold was calibrated on, in words
  double window_s = 0, hop_s = 0;
  // scoring, cohort and centroids made ready (prepare_scorer; read_cast and run_enroll call it)
  std::shared_ptr<const metrics::Scorer> scorer;
  const float* centroid(size_t c) const { return centroids.data() + c * dim; }
};

// Makes cast.scorer from its scoring, cohort and centroids. InputError when a method that
// needs a cohort has none.
void prepare_scorer(Cast& cast);

struct EnrollOptions {
  std::filesystem::path run;
  std::filesystem::path manifest;  // CSV: path,start,end,character (paths relative to it)
  std::filesystem::path out;       // cast.h5
  EmbedOptions embed;
  // How windows are scored (metrics/score_norm.h): cosine (the default: on the demo neither
  // centring nor AS-norm separated the run's validation pairs or the enrolment lines better),
  // centred or as-norm
  metrics::ScoreNormConfig scoring{metrics::kScoreCosine, 300};
  // The threshold's calibration: kCalibrateEnrolment (the enrolment lines, leave-one-out; a
  // cast of one character, or of one line per character, falls back on validation with a
  // warning) or kCalibrateValidation (pairs of the run's `split` chunks)
  std::string calibrate = kCalibrateEnrolment;
  std::string split = "validation";    // the run dataset's split `validation` calibration uses
  std::string cohort_split = "train";  // the split whose chunks are the cohort (centred, as-norm)
  int64_t cohort_size = 3000;          // at most this many cohort rows (a seeded sample when more)
  void validate() const;               // ConfigError naming the field
};

// Embeds every line of the manifest (each file streamed once through the run dataset's
// preprocessing, untrimmed, so start and end are the file's own seconds) and writes the cast
// (HDF5, atomically). InputError naming the manifest and row for a malformed row or a line
// shorter than the window; naming the character for one without a usable line (its file
// undecodable, or no audio between start and end); naming the run for an SVM/forest run.
Cast run_enroll(const EnrollOptions& opts);

// A row of a cast manifest (CSV path,start,end,character; an optional column `voice`, the true
// speaker when `character` is `unknown`: evaluate-cast's test manifests).
struct CastLine {
  int64_t row = 0;             // the CSV's line number
  std::filesystem::path file;  // relative paths resolved from the CSV's folder
  double start = 0, end = 0;
  std::string character;
  std::string voice;  // the `voice` column; "" when the manifest has none
};

// The rows of a cast manifest. InputError naming the manifest and row for a malformed row, a
// missing column, or a line shorter than `window_s`.
std::vector<CastLine> read_cast_lines(const std::filesystem::path& manifest, double window_s);

// The window embeddings of each usable line of a cast manifest, by index into `lines`: each
// file read once; a file that cannot be read, or a line with less than a window of audio, is
// left out with a warning naming the manifest and row.
std::map<size_t, Embeddings> embed_cast_lines(Embedder& emb, const std::vector<CastLine>& lines,
                                              const std::filesystem::path& manifest);

// Writes a cast file (HDF5, atomically: a temporary, then a rename): centroids, characters,
// lines and windows per character, the cohort when the scoring has one, the enrolment trials
// (calibration_scores, calibration_target) when given, and the rest of `cast` as attributes.
void write_cast(const std::filesystem::path& out, const Cast& cast,
                const std::vector<double>& trial_scores, const std::vector<int64_t>& trial_target);

// Reads a cast file; InputError naming it when it is not one.
Cast read_cast(const std::filesystem::path& path);

// The checksum of a run's model_best.pt (16 hex digits): runs of the same settings (the same
// fingerprint) trained apart, or a run trained again, have other weights and other embeddings.
std::string weights_checksum(const std::filesystem::path& run);

// InputError naming the cast file and the run when the cast was made with another model
// (fingerprint), its embeddings have another size than the embedder's, or the run's weights
// are not those it was enrolled with (weights_checksum).
void check_cast(const Cast& cast, const std::filesystem::path& cast_file, const Embedder& emb);
// The same against a run's folder, model fingerprint and embedding size (predict's model).
void check_cast(const Cast& cast, const std::filesystem::path& cast_file,
                const std::filesystem::path& run, const std::string& fingerprint, int64_t dim);

// The best-scoring character of an embedding (its index in cast.characters), or -1 (unknown)
// when its score (cast.scoring) is below cast.threshold; `score` gets that best score, `all`
// the score against each character.
int64_t name_window(const Cast& cast, const float* embedding, double* score = nullptr,
                    std::vector<double>* all = nullptr);

// Leave-one-out trials of enrolment lines, the threshold's `enrolment` calibration. `sums`
// [n, dim]: each line's sum of unit window embeddings; `labels` [n]: its character (0..C-1).
// Target: a line (its sum, normalised) against its character's centroid without it (the other
// lines' sums), for characters with 2 or more lines. Non-target: the line against the best of
// the other characters' whole centroids, i.e. that line as a stranger to the rest of the cast,
// scored as naming scores it (the best character). InputError when there is no target (every
// character has one line) or no non-target (one character).
// The threshold a cast takes from calibration trials: metrics::verification's EER threshold,
// or, when the trials are separated (EER 0), the middle of the gap between the highest
// non-target and the lowest target score (the EER point would be the lowest target itself).
metrics::Verification calibrate_threshold(const std::vector<double>& scores,
                                          const std::vector<bool>& target);

metrics::Trials enrolment_trials(const metrics::Scorer& scorer, const std::vector<float>& sums,
                                 const std::vector<int64_t>& labels);

}  // namespace hptrain::speakers
