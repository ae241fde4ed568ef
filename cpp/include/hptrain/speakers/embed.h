// Speaker embeddings of sliding windows from a trained neural run (CNN, LSTM, ECAPA, any body):
// the L2-normalised pooled vector models::Net::embed gives, [N, D] float32 row-major, with each
// window's start and duration in seconds of the audio's own time.
//
//   speakers::Embedder emb("runs/ecapa");                 // window 1.5 s, hop 0.75 s
//   auto film = emb.embed_file("film.mkv");               // streamed: memory bounded by a batch
//   auto mine = emb.embed(samples.data(), samples.size()); // mono at emb.sample_rate()
//   float cos = speakers::cosine(film.row(0), mine.row(3), emb.dim());
//
// Torch-free header (the model lives behind a pointer); the code links LibTorch (hp_train).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hptrain/metrics/verification.h"

namespace hptrain::speakers {

struct EmbedOptions {
  double window_s = 1.5;  // window length (s); the model sees window_s of audio at a time
  double hop_s = 0.75;    // distance between window starts (s)
  // The partial window after the last full one is kept (zero-padded, as preprocess pads the last
  // chunk) when it holds at least this fraction of window_s; else dropped.
  double min_last_fraction = 0.5;
  int64_t batch_size = 0;     // windows per batch (0: the run's train.batch_size)
  std::string device;         // auto | cpu | cuda[:N] (empty: the run's train.device)
  int threads = 0;            // LibTorch CPU threads (0: the run's train.threads)
  std::optional<int> stream;  // embed_file: ffprobe's stream 0:N (unset: the run dataset's)
  // How windows are computed. "window": each window's features and model alone, as training
  // saw its chunks (what enrol, diarize and a cast's threshold use). "stream": the features and
  // the model's frames once over the contiguous audio, in segments of segment_s computed with
  // enough context that they join seamlessly, each window the statistics of the frames it
  // covers (weighted by how much of each it covers): half the work at 50 % overlap, for bodies
  // whose embedding is such statistics (the CNN; models::Net::frame_stride). Close to "window",
  // not equal: a window's edge frames see its neighbours instead of zero padding and its
  // frames lie on the stream's grid (cosine to "window" rows: min 0.978 on the bench's CNN,
  // 0.83 on the tests' small tone CNN). Segments join exactly but for features.db.top_db's
  // floor, taken per segment (per window in window mode). "auto": stream where the body
  // allows it, else window.
  std::string mode = "window";
  // stream mode: audio per model call (s), in whole hops (at least one window). Memory grows
  // with it; the context read twice (2 body frames each side, 0.32 s for the demo CNN) is
  // 1 % of 60 s.
  double segment_s = 60;
  // Arithmetic of the model: "fp32", "bf16" (autocast to bfloat16: on the CPU, oneDNN's AMX
  // or AVX-512 bf16 kernels), or "auto": on CUDA the run's train.mixed_precision (what training
  // used); on the CPU bf16 where it has native bf16 instructions (AVX512_BF16, as AMX CPUs
  // do), fp32 elsewhere. Cosine of bf16 to fp32 rows >= 0.9999 on the bench's CNN. Rows are
  // float32 either way.
  std::string precision = "auto";
  // Kaldi's `dither`: Gaussian noise of this standard deviation, in 16-bit sample units (1.0:
  // 2^-15 of full scale, -90 dBFS), added to the audio before the features. A fixed seeded
  // sequence one window long, from each window's first sample (window mode) or repeating along
  // the audio (stream mode), so a window's embedding depends on its samples alone. Digital
  // silence (exact zeros: gaps between lines, a gated dialogue track, the zero padding) would
  // otherwise give log-mel frames at the -100 dB floor, under any room tone a run trained on:
  // between the lines of synthetic conversations it doubled the window EER of an ECAPA
  // trained on LibriSpeech (bench/results/2026-12-07-cpu-diarization-dither.md). 0: none.
  double dither = 1.0;
  void validate() const;  // ConfigError naming the field
};

// Windows' embeddings, in time order. Each row has unit L2 norm.
struct Embeddings {
  int64_t dim = 0;
  std::vector<float> data;                  // [size(), dim], row-major
  std::vector<double> start_s, duration_s;  // per window; duration_s: audio before padding
  int64_t size() const { return static_cast<int64_t>(start_s.size()); }
  const float* row(int64_t i) const { return data.data() + i * dim; }
};

// The dither EmbedOptions::dither adds: n samples of Gaussian noise of standard deviation
// dither * 2^-15, from a fixed seed (the same sequence on every platform); empty for dither 0.
std::vector<float> dither_noise(int64_t n, double dither);

// Cosine of two vectors of `dim` floats (the dot product when both have unit norm, as rows of
// Embeddings do; computed in double and divided by the norms all the same).
double cosine(const float* a, const float* b, int64_t dim);

// A run's best model turned into an embedder. The run must be a neural run (model.type cnn,
// lstm, ecapa, ...) of a data.dataset experiment: InputError naming the run otherwise (an SVM or
// forest run has no embedding), or when its files do not match (run.json's fingerprints).
class Embedder {
 public:
  explicit Embedder(const std::filesystem::path& run, const EmbedOptions& opts = {});
  ~Embedder();
  Embedder(Embedder&&) noexcept;
  Embedder& operator=(Embedder&&) noexcept;

  const std::filesystem::path& run() const;
  const std::string& fingerprint() const;  // the run's model fingerprint (run.json)
  int64_t dim() const;                     // D
  int sample_rate() const;                 // the run dataset's preprocess.sr (16000 on the demo)
  const std::string& device() const;       // "cpu (2 threads)", "NVIDIA H100 ... (cuda:0)"
  bool streaming() const;                  // the resolved mode: true for "stream"
  bool bf16() const;                       // the resolved precision
  const EmbedOptions& options() const;

  // Windows over `n` mono samples at sample_rate(), used as given (no trimming, no loudness
  // gain: embed_file applies the run dataset's); start_s counts from `offset_s`. Fewer samples
  // than one window's min_last_fraction: an empty result.
  Embeddings embed(const float* samples, size_t n, double offset_s = 0);

  // The linear gain the run dataset's level normalisation (preprocess.normalize) gives `n`
  // samples taken as a whole clip: loudness to target_lufs by their ungated loudness (exact for
  // a steady clip of 0.4 s or more), or sample peak to peak_db, either capped so the sample peak
  // stays under true_peak_db; 1 for "none" or silence. For audio embed() takes piecewise
  // (diarization's windows), so that each piece is at the level the run trained on.
  float level_gain(const float* samples, size_t n) const;

  // A whole audio or video file streamed through the run dataset's preprocessing (decode,
  // resample, trim, loudness or peak gain) with the windows as its chunks: memory bounded by one
  // batch whatever the file's length. start_s is in the file's own time. InputError naming the
  // file when it cannot be decoded; a file with no window (silent, too short) gives an empty
  // result.
  Embeddings embed_file(const std::filesystem::path& file);

  // The audio of each [start_s, end_s) span of `file` (clipped to the file; empty past its
  // end), through the run dataset's preprocessing without trimming (the whole file's gain, so a
  // line sounds as it does inside the film; times in the file's seconds), in one streamed pass.
  // InputError naming the file when it cannot be decoded.
  std::vector<std::vector<float>> read_spans(const std::filesystem::path& file,
                                             const std::vector<std::pair<double, double>>& spans);

  // The run's speaker task (model.loss_task, "character" by default) if the run has it.
  const std::string& speaker_task() const;
  uint64_t seed() const;  // the run's seed (experiment.seed): what samples its pairs

  // The run dataset's `split` (prepared if needed), each chunk cut to one window's frames and
  // embedded (unit rows), with its class in the speaker task (-1 for its background class).
  // What enrol calibrates its threshold on (validation) and takes its cohort of impostor voices
  // from (train). InputError naming the run when it has no speaker task.
  struct SplitRows {
    int64_t n = 0, dim = 0;
    std::vector<float> data;      // [n, dim]
    std::vector<int64_t> labels;  // [n]
  };
  SplitRows embed_split(const std::string& split);
  // The train split as the run trained on it: with [train.augment.noise], the noisy copies beside
  // the clean chunks (<run>/noisy-shards, written by its training; made again, under the run
  // folder's lock, when gone or older than the prepared shards). What diarize --whiten fits its
  // whitening on.
  SplitRows embed_training_split();

  // Verification of the raw cosines of embed_split(split)'s rows: every same/different pair of
  // the speaker task's classes (its background class left out). InputError naming the run when
  // it has no speaker task or the split has no pair of each kind.
  metrics::Verification calibrate(const std::string& split = "validation");

 private:
  SplitRows embed_shards(const std::filesystem::path& shards, const std::string& split);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `hptrain embed`: every file's windows into one HDF5 file.
struct EmbedCommandOptions {
  std::filesystem::path run;
  std::filesystem::path out;  // .h5
  std::vector<std::filesystem::path> files;
  EmbedOptions embed;
};

struct EmbedFileResult {
  std::filesystem::path file;
  int64_t windows = 0;
  std::string warning;  // why the file gave no window (undecodable, silent, too short)
};

// Writes `out` (atomically: a temporary, then a rename) with datasets embeddings [N, D] float32,
// start_s [N] and duration_s [N] float64, source [N] strings (the file of each row), and
// attributes run, fingerprint, window_s, hop_s, sample_rate, mode, precision (as resolved) and
// dither. A file with no usable audio adds no row and a warning (logged, and in its result); the
// others go on.
std::vector<EmbedFileResult> run_embed(const EmbedCommandOptions& opts);

// Reads what run_embed wrote: the rows of every file, the run and fingerprint attributes.
struct EmbeddingFile {
  Embeddings emb;
  std::vector<std::string> source;
  std::string run, fingerprint;
};
EmbeddingFile read_embeddings(const std::filesystem::path& path);

}  // namespace hptrain::speakers
