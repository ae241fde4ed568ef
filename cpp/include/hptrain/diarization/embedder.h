// Window embeddings for diarization: the interface every speaker embedder implements (the
// train-free MFCC statistics below; a trained run's embedder later), and its output layout:
// [n, dim] row-major float32, each row L2-normalised, with each window's start and duration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace hptrain::diarization {

struct WindowEmbeddings {
  int64_t n = 0;
  int64_t dim = 0;
  // [n, dim], rows of unit L2 norm (a silent window: zeros; FusedWindowEmbedder: each part)
  std::vector<float> data;
  std::vector<double> start_s;     // relative to the first sample given
  std::vector<double> duration_s;  // window_s, or the whole signal when it is shorter
};

// The windows of a signal of `n` samples at `sr`: starts at 0, hop, 2 hop, ... while the window
// fits; a signal shorter than one window gives one window over all of it (none when n is 0).
// Every embedder uses this grid, so that a caller can feed a long file block by block.
std::vector<std::pair<size_t, size_t>> window_grid(size_t n, int sr, double window_s, double hop_s);

class WindowEmbedder {
 public:
  virtual ~WindowEmbedder() = default;
  virtual std::string name() const = 0;
  virtual int sample_rate() const { return 16000; }
  virtual int64_t dim() const = 0;
  // samples: mono at sample_rate(); windows as window_grid(n, sample_rate(), window_s, hop_s).
  virtual WindowEmbeddings embed(const float* samples, size_t n, double window_s,
                                 double hop_s) const = 0;
};

// Train-free: per window, the mean over its voiced frames (within 20 dB of the window's loudest
// frame) of MFCC 1..n_mfcc-1 (c0, the level, left out), and with `with_std` their standard
// deviations too, from a 40-band log-mel (20-7600 Hz) of 25 ms frames every 10 ms,
// L2-normalised. The diarization pipeline standardises these per recording before the cosine.
// On the development conversations the means alone separate speakers better than means and
// deviations (bench/results/2026-12-06-cpu-diarization.md), hence the default.
class MfccStatsEmbedder : public WindowEmbedder {
 public:
  explicit MfccStatsEmbedder(int n_mfcc = 20, bool with_std = false)
      : n_mfcc_(n_mfcc), with_std_(with_std) {}
  std::string name() const override { return with_std_ ? "mfcc-mean-std" : "mfcc-mean"; }
  int64_t dim() const override { return (with_std_ ? 2 : 1) * (n_mfcc_ - 1); }
  WindowEmbeddings embed(const float* samples, size_t n, double window_s,
                         double hop_s) const override;

 private:
  int n_mfcc_;
  bool with_std_;
};

// Two embedders' windows side by side: rows [first | second], each part as its embedder gives it
// (unit norm), windows on the same grid. The clustering prepares and weighs the parts as blocks
// (RecordingClusterConfig::blocks): `diarize --run RUN --mfcc-weight W` fuses a run's embedding
// with the train-free MFCC statistics so. Both must take the same sample rate.
class FusedWindowEmbedder : public WindowEmbedder {
 public:
  FusedWindowEmbedder(const WindowEmbedder& first, const WindowEmbedder& second);
  std::string name() const override { return first_.name() + " + " + second_.name(); }
  int sample_rate() const override { return first_.sample_rate(); }
  int64_t dim() const override { return first_.dim() + second_.dim(); }
  WindowEmbeddings embed(const float* samples, size_t n, double window_s,
                         double hop_s) const override;

 private:
  const WindowEmbedder& first_;
  const WindowEmbedder& second_;
};

// Another embedder's windows kept on disk: `dir/<key>.emb`, the key a 64-bit FNV-1a hash of the
// inner embedder's name, the window, the hop and the samples' bytes. A second diarization of the
// same audio with the same embedder (another threshold, clustering or speaker count) reads the
// embeddings back instead of running the model again (`hptrain diarize --embedding-cache DIR`).
// The name does not see a run retrained in place: clear the folder then. A file that cannot be
// read back (wrong size, other dim) is recomputed and rewritten.
class CachedWindowEmbedder : public WindowEmbedder {
 public:
  CachedWindowEmbedder(const WindowEmbedder& inner, std::filesystem::path dir);
  std::string name() const override { return inner_.name(); }
  int sample_rate() const override { return inner_.sample_rate(); }
  int64_t dim() const override { return inner_.dim(); }
  WindowEmbeddings embed(const float* samples, size_t n, double window_s,
                         double hop_s) const override;
  // how many embed() calls were answered from the folder, and how many ran the inner embedder
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  const WindowEmbedder& inner_;
  std::filesystem::path dir_;
  mutable int64_t hits_ = 0, misses_ = 0;
};

// 25 ms frames (n_fft 512, win 400 Hann) every 10 ms at 16 kHz, not centred: frame j covers
// samples [160 j, 160 j + 512). Rows: [0, n_mfcc) MFCC of a 40-band log-mel (20-7600 Hz), then
// log energy (dB, of the whole band), then the share of the power in 300-3400 Hz, then the
// spectral flatness over 100-4000 Hz. [rows, frames] row-major.
inline constexpr int kFrameHop = 160;
inline constexpr int kFrameLength = 512;
struct FrameFeatures {
  int n_mfcc = 20;
  int64_t frames = 0;
  std::vector<float> data;  // [n_mfcc + 3, frames]
  int rows() const { return n_mfcc + 3; }
};
FrameFeatures frame_features(const float* samples, size_t n, int n_mfcc = 20);

}  // namespace hptrain::diarization
