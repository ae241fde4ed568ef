// A film's cast: one centroid embedding per character from a few labelled lines, and a cosine
// threshold below which a window is nobody of the cast ("unknown"). Centroid: the L2-normalised
// mean of the unit embeddings of the character's windows; threshold: the EER threshold of
// same/different pairs of the run's validation chunks (cut to one window), stored with its EER.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "hptrain/speakers/embed.h"

namespace hptrain::speakers {

struct Cast {
  std::string run, fingerprint;  // the run that made it (its model fingerprint)
  std::string weights;           // weights_checksum of that run's model ("" in files that lack it)
  int64_t dim = 0;
  std::vector<std::string> characters;  // sorted
  std::vector<float> centroids;         // [characters, dim], unit rows
  std::vector<int64_t> lines;           // usable lines per character
  std::vector<int64_t> windows;         // windows per character
  double threshold = 0;                 // cosine; below it: unknown
  double eer = 0;                       // the calibration's EER (at `threshold`)
  double min_dcf = 0;                   // the calibration's normalised minDCF (p_target 0.01)
  std::string calibration;              // what the threshold was calibrated on
  double window_s = 0, hop_s = 0;
  const float* centroid(size_t c) const { return centroids.data() + c * dim; }
};

struct EnrollOptions {
  std::filesystem::path run;
  std::filesystem::path manifest;  // CSV: path,start,end,character (paths relative to it)
  std::filesystem::path out;       // cast.h5
  EmbedOptions embed;
  std::string split = "validation";  // the run dataset's split the threshold is calibrated on
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

// The best-scoring character of a unit embedding (its index in cast.characters), or -1
// (unknown) when its cosine is below cast.threshold; `score` gets that best cosine.
int64_t name_window(const Cast& cast, const float* embedding, double* score = nullptr);

}  // namespace hptrain::speakers
