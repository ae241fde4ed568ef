// `hptrain features` in the library: configuration, extraction of a whole file streamed in
// windows of frames, HDF5 output.
#include "hptrain/features/run.h"

#include "run_tuning.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <sstream>

#include "contrast_kernels.h"
#include "cpu_plan.h"
#include "hptrain/error.h"
#include "hptrain/features/config_io.h"
#include "hptrain/features/tuning.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "hptrain/log.h"
#include "hptrain/toml_config.h"
#include "kernels.h"
#include "spectral_kernels.h"
#include "stats_kernels.h"
#include "stft_kernels.h"
#include "tuning_kernels.h"

namespace hptrain::features {

FeatureConfig resolve_config(const FeaturesOptions& opts) {
  FeatureConfig cfg = preset(opts.preset);
  if (!opts.config.empty()) {
    const toml::table root = config::parse_file(opts.config);
    const config::Section s = config::Section(&root, opts.config.string()).section("features");
    from_toml(s, cfg);
    s.check_unknown();
  }
  if (opts.threads > 0) cfg.threads = opts.threads;
  if (!opts.fft_precision.empty()) cfg.fft_precision = opts.fft_precision;
  cfg.validate();
  h5::Compression::parse(opts.compression, "--compression");
  return cfg;
}

namespace {

// Window starts, margins and window lengths are multiples of this many frames, so that the
// kernels' blocks (8 frames in the dense products, 16 per FFT call, stats lanes of 4) fall on
// the same frames in a window as in the whole file: every value is then bit for bit the one the
// whole-file computation gives.
constexpr int64_t kAlign = 64;
// Chunk of the output datasets along frames.
constexpr int64_t kChunkFrames = 4096;

int64_t round_up(int64_t v, int64_t a) {
  return (v + a - 1) / a * a;
}

// Samples of the stream, read on demand, dropped once no window needs them.
class SampleBuffer {
 public:
  explicit SampleBuffer(std::unique_ptr<SampleSource> src) : src_(std::move(src)) {}

  // Samples [begin, end) (fewer at the end of the stream); returns the pointer to `begin` and
  // how many there are. begin never goes back below an earlier drop().
  std::pair<const float*, int64_t> get(int64_t begin, int64_t end) {
    fill(end);
    const int64_t last = std::min<int64_t>(end, start_ + static_cast<int64_t>(buf_.size()));
    return {buf_.data() + (begin - start_), std::max<int64_t>(0, last - begin)};
  }
  // Reads until `end` samples are in or the stream ends.
  void fill(int64_t end) {
    constexpr size_t kBlock = 1 << 16;
    while (!ended_ && start_ + static_cast<int64_t>(buf_.size()) < end) {
      const size_t old = buf_.size();
      buf_.resize(old + kBlock);
      const size_t got = src_->read(buf_.data() + old, kBlock);
      buf_.resize(old + got);
      if (got == 0) ended_ = true;
    }
  }
  void drop(int64_t before) {
    if (before <= start_) return;
    const auto n = std::min<int64_t>(before - start_, static_cast<int64_t>(buf_.size()));
    buf_.erase(buf_.begin(), buf_.begin() + n);
    start_ += n;
  }
  bool ended() const { return ended_; }
  int64_t loaded_end() const { return start_ + static_cast<int64_t>(buf_.size()); }

 private:
  std::unique_ptr<SampleSource> src_;
  std::vector<float> buf_;
  int64_t start_ = 0;
  bool ended_ = false;
};

// One framing of the signal (the STFT's, ZCR's or RMS's): frames of `frame` samples every
// `hop`, centred or not.
struct StreamFraming {
  int frame = 0, hop = 0;
  bool center = true;
  const char* what = "";
  int64_t margin = 0;  // frames computed each side of a window and dropped
  int64_t frames(int64_t n) const { return frame_count(Framing{frame, hop, center}, n, what); }
};

StreamFraming make_framing(int frame, int hop, bool center, const char* what) {
  StreamFraming f{frame, hop, center, what, 0};
  // a frame within frame/hop + 1 frames of a piece's edge may see that edge's padding
  f.margin = round_up(frame / hop + 2, kAlign);
  return f;
}

// The samples a window of frames [t0, t1) is computed from: [a*hop, e), its local frame k is
// frame a + k of the file.
struct Piece {
  int64_t a = 0, begin = 0, end = 0;
};
Piece piece_of(const StreamFraming& f, int64_t t0, int64_t t1, int64_t known_n) {
  Piece p;
  p.a = std::max<int64_t>(0, t0 - f.margin);
  p.begin = p.a * f.hop;
  p.end = (t1 + f.margin) * f.hop + f.frame;
  if (known_n >= 0) p.end = std::min(p.end, known_n);
  return p;
}

// Copies columns [c0, c0 + n) of a [rows, cols] array into [rows, n].
std::vector<float> columns(const float* x, int64_t rows, int64_t cols, int64_t c0, int64_t n) {
  std::vector<float> out(static_cast<size_t>(rows * n));
  for (int64_t r = 0; r < rows; ++r)
    std::copy(x + r * cols + c0, x + r * cols + c0 + n, out.begin() + r * n);
  return out;
}

float max_of(const std::vector<float>& v) {
  return detail::max_value(v.data(), static_cast<int64_t>(v.size()));
}

// Removes a scratch file when it goes.
struct Scratch {
  std::filesystem::path path;
  ~Scratch() {
    std::error_code ignore;
    std::filesystem::remove(path, ignore);
  }
};

// Everything of one `features` run: three passes over the stream at most (tuning, then
// features), then the whole-file steps (the dB floors, MFCC and deltas, pooled stats) from the
// data written.
class Streamer {
 public:
  Streamer(const FeatureConfig& cfg, const FeaturesOptions& opts, const AudioOpener& open)
      : cfg_(cfg),
        opts_(opts),
        open_(open),
        plan_(detail::plan_for(cfg)),
        compression_(h5::Compression::parse(opts.compression, "--compression")),
        // delta mode 'wrap' joins the file's two ends: one window, the whole file
        window_(cfg.delta.mode == "wrap"
                    ? int64_t{1} << 40
                    : round_up(std::max<int64_t>(opts.window_frames, 1), kAlign)),
        stft_(make_framing(cfg.stft.n_fft, cfg.stft.hop(), cfg.stft.center, "stft")),
        zcr_(make_framing(cfg.zcr.frame_length, cfg.zcr.hop_length, cfg.zcr.center, "zcr")),
        rms_(make_framing(cfg.rms.frame_length, cfg.rms.hop_length, cfg.rms.center, "rms")) {}

  FeaturesSummary run(const std::filesystem::path& path) {
    FeaturesSummary sum;
    sum.config = cfg_;
    double tuning = cfg_.chroma.tuning.value_or(0.0);
    fs::atomic_write(path, [&](const std::filesystem::path& tmp) {
      Scratch scratch{tmp.string() + ".scratch"};
      h5::File out = h5::File::create(tmp);
      h5::File raw = h5::File::create(scratch.path);
      features_pass(out, raw, tuning);
      sum.n_samples = n_;
      sum.n_frames = T_;
      sum.tuning = tuning;
      sum.deltas = !(cfg_.delta.mode == "interp" && T_ < cfg_.delta.width);
      if (!sum.deltas) {
        HP_LOG_WARN("'{}': {} frames are fewer than delta.width={}: no deltas and no stats",
                    opts_.input.string(), T_, cfg_.delta.width);
      }
      whole_file_steps(out, raw, sum.deltas);
      write_attrs(out, "/", cfg_);
      out.set_attr("/", "n_samples", n_);
      out.set_attr("/", "n_frames", T_);
      out.set_attr("/", "tuning_chroma_stft", tuning);
      out.set_attr("/", "hptrain_version", std::string(HP_VERSION));
      raw.close();
      out.close();
    });
    return sum;
  }

 private:
  // ref: librosa chroma_stft: estimate_tuning(S=|D|**2) over the whole file; its peaks are per
  // frame, so a first pass gathers them window by window into `raw` (8 bytes a peak on disk,
  // not in memory), then tuning_from_scratch() reads them back.
  double estimate_tuning(h5::File& raw) {
    SampleBuffer buf(open_(opts_.input.string(), cfg_.sr, opts_.preprocess));
    std::vector<float> pitches, mags, power;
    detail::Workspace& ws = detail::thread_workspace();
    const auto& p = *plan_;
    int64_t n = -1, peaks = 0;
    raw.create_growing("tuning_pitch", 1, 1 << 16, {});
    raw.create_growing("tuning_mag", 1, 1 << 16, {});
    for (int64_t t0 = 0;; t0 += window_) {
      buf.fill(piece_of(stft_, t0, t0 + window_, n).end);
      if (buf.ended() && n < 0) n = buf.loaded_end();
      if (n == 0) throw InputError("'" + opts_.input.string() + "': no audio samples");
      const int64_t T = n >= 0 ? stft_.frames(n) : std::numeric_limits<int64_t>::max();
      if (t0 >= T) break;
      const int64_t t1 = std::min(t0 + window_, T);
      const Piece pc = piece_of(stft_, t0, t1, n);
      const auto [y, len] = buf.get(pc.begin, pc.end);
      const int64_t frames = stft_.frames(len);
      power.resize(static_cast<size_t>(p.stft.n_bins * frames));
      detail::stft_item(p.stft, y, len, frames, ws, power.data(), nullptr);
      pitches.clear();
      mags.clear();
      detail::tuning_peaks(power.data(), p.stft.n_bins, frames, t0 - pc.a, t1 - pc.a, cfg_.sr,
                           p.stft.n_fft, p.pip, ws, pitches, mags);
      raw.append_columns("tuning_pitch", pitches.data(), 1, static_cast<int64_t>(pitches.size()));
      raw.append_columns("tuning_mag", mags.data(), 1, static_cast<int64_t>(mags.size()));
      peaks += static_cast<int64_t>(mags.size());
      buf.drop(std::max<int64_t>(0, t1 - stft_.margin) * stft_.hop);
    }
    return detail::tuning_from_scratch(raw, peaks, cfg_.chroma.n_chroma);
  }

  // Creates the growing dataset `name` [rows, 0] in `f` on first use and appends columns.
  void append(h5::File& f, const std::string& name, const std::vector<float>& data, int64_t rows,
              const h5::Compression& c) {
    if (!f.has(name)) f.create_growing(name, rows, chunk_frames_, c);
    f.append_columns(name, data.data(), rows, static_cast<int64_t>(data.size()) / rows);
  }

  // The stream in windows of frames: stft_mag, melspectrogram, chroma_stft, zcr and rms to
  // `out`; log_mel before its floor and contrast's peaks and valleys to `raw`.
  void features_pass(h5::File& out, h5::File& raw, double& tuning) {
    SampleBuffer buf(open_(opts_.input.string(), cfg_.sr, opts_.preprocess));
    FeatureConfig c1 = cfg_;
    c1.db.top_db.reset();  // the floor needs the whole file's maximum: applied afterwards
    c1.chroma.tuning = tuning;
    FeatureSelection stft_what;
    stft_what.mfcc = stft_what.deltas = stft_what.contrast = stft_what.zcr = stft_what.rms =
        stft_what.stats = false;
    FeatureSelection zcr_what = stft_what, rms_what = stft_what;
    zcr_what.stft_mag = zcr_what.melspectrogram = zcr_what.log_mel = zcr_what.chroma = false;
    rms_what = zcr_what;
    zcr_what.zcr = true;
    rms_what.rms = true;
    DbConfig raw_db;  // contrast's power_to_db: librosa's defaults, floor afterwards
    const double contrast_top_db = *raw_db.top_db;
    raw_db.top_db.reset();
    contrast_top_db_ = contrast_top_db;
    const auto& p = *plan_;
    const int64_t F = p.stft.n_bins, nb = cfg_.contrast.n_bands + 1;
    detail::Workspace& ws = detail::thread_workspace();
    FeatureSet fs;
    int64_t n = -1;
    for (int64_t k = 0;; ++k) {
      const int64_t t0 = k * window_;
      // read enough for every framing's window k, then learn the length if the stream ended
      for (const StreamFraming* f : {&stft_, &zcr_, &rms_})
        buf.fill(piece_of(*f, t0, t0 + window_, n).end);
      if (buf.ended() && n < 0) {
        n = buf.loaded_end();
        if (n == 0) throw InputError("'" + opts_.input.string() + "': no audio samples");
        T_ = stft_.frames(n);
        chunk_frames_ = std::min<int64_t>(kChunkFrames, std::max<int64_t>(1, T_));
      }
      if (k == 0 && !cfg_.chroma.tuning) {
        // one window: extract() estimates the tuning as on a whole file; more: a first pass
        const bool single = n >= 0 && stft_.frames(n) <= window_ && zcr_.frames(n) <= window_ &&
                            rms_.frames(n) <= window_;
        if (single) {
          c1.chroma.tuning.reset();
        } else {
          tuning = estimate_tuning(raw);
          c1.chroma.tuning = tuning;
        }
      }
      bool any = false;
      int64_t keep_from = std::numeric_limits<int64_t>::max();
      struct Job {
        const StreamFraming* f;
        const FeatureSelection* what;
      };
      for (const Job& job :
           {Job{&stft_, &stft_what}, Job{&zcr_, &zcr_what}, Job{&rms_, &rms_what}}) {
        const StreamFraming& f = *job.f;
        const int64_t Tf = n >= 0 ? f.frames(n) : std::numeric_limits<int64_t>::max();
        if (t0 >= Tf) continue;
        any = true;
        const int64_t t1 = std::min(t0 + window_, Tf);
        const Piece pc = piece_of(f, t0, t1, n);
        const auto [y, len] = buf.get(pc.begin, pc.end);
        extract(c1, y, 1, len, *job.what, fs);  // the GPU's twins when there is one
        const int64_t c0 = t0 - pc.a, cn = t1 - t0;
        if (&f == &stft_) {
          if (!c1.chroma.tuning) tuning = fs.tuning.at(0);
          const int64_t frames = fs.stft_mag.frames;
          append(out, "stft_mag", columns(fs.stft_mag.item(0), F, frames, c0, cn), F, compression_);
          append(out, "melspectrogram",
                 columns(fs.melspectrogram.item(0), cfg_.mel.n_mels, frames, c0, cn),
                 cfg_.mel.n_mels, compression_);
          auto lm = columns(fs.log_mel.item(0), cfg_.mel.n_mels, frames, c0, cn);
          log_mel_max_ = std::max(log_mel_max_, max_of(lm));
          append(raw, "log_mel", lm, cfg_.mel.n_mels, {});
          append(out, "chroma_stft",
                 columns(fs.chroma_stft.item(0), cfg_.chroma.n_chroma, frames, c0, cn),
                 cfg_.chroma.n_chroma, compression_);
          std::vector<float> peak(static_cast<size_t>(nb * frames)), valley(peak.size());
          detail::contrast_peak_valley(p.bands, fs.stft_mag.item(0), frames, ws, peak.data(),
                                       valley.data());
          auto pk = columns(peak.data(), nb, frames, c0, cn);
          auto va = columns(valley.data(), nb, frames, c0, cn);
          std::vector<float> db(pk.size());
          detail::power_to_db_item(raw_db, pk.data(), static_cast<int64_t>(pk.size()), db.data());
          peak_db_max_ = std::max(peak_db_max_, max_of(db));
          detail::power_to_db_item(raw_db, va.data(), static_cast<int64_t>(va.size()), db.data());
          valley_db_max_ = std::max(valley_db_max_, max_of(db));
          append(raw, "peak", pk, nb, {});
          append(raw, "valley", va, nb, {});
        } else {
          const Tensor3& t = &f == &zcr_ ? fs.zcr : fs.rms;
          append(out, &f == &zcr_ ? "zcr" : "rms", columns(t.item(0), 1, t.frames, c0, cn), 1,
                 compression_);
        }
        keep_from = std::min(keep_from, std::max<int64_t>(0, t1 - f.margin) * f.hop);
      }
      if (!any) break;
      buf.drop(keep_from);
    }
    n_ = n;
  }

  // log_mel floored at the file's maximum - top_db, MFCC and deltas from it, contrast from the
  // floored dB of its peaks and valleys, and the pooled stats, window by window from `raw` and
  // from what `out` holds.
  void whole_file_steps(h5::File& out, h5::File& raw, bool deltas) {
    const auto& p = *plan_;
    detail::Workspace& ws = detail::thread_workspace();
    const int n_mels = cfg_.mel.n_mels, n_mfcc = cfg_.mfcc.n_mfcc;
    const int64_t nb = cfg_.contrast.n_bands + 1;
    // margin: deltas near a window's edge see that edge (interp fits its first `width` frames)
    const int64_t m = round_up(cfg_.delta.width + 1, kAlign);
    const float lm_floor = cfg_.db.top_db ? detail::db_floor(log_mel_max_, *cfg_.db.top_db)
                                          : -std::numeric_limits<float>::infinity();
    const float pk_floor = detail::db_floor(peak_db_max_, contrast_top_db_);
    const float va_floor = detail::db_floor(valley_db_max_, contrast_top_db_);
    DbConfig raw_db;
    raw_db.top_db.reset();
    for (int64_t t0 = 0; t0 < T_; t0 += window_) {
      const int64_t t1 = std::min(t0 + window_, T_);
      const int64_t a = std::max<int64_t>(0, t0 - m), b = std::min(T_, t1 + m);
      const int64_t cols = b - a, c0 = t0 - a, cn = t1 - t0;
      std::vector<float> lm(static_cast<size_t>(n_mels * cols));
      raw.read_columns("log_mel", a, cols, lm.data());
      for (float& v : lm) v = std::max(v, lm_floor);
      append(out, "log_mel", columns(lm.data(), n_mels, cols, c0, cn), n_mels, compression_);
      std::vector<float> mfcc(static_cast<size_t>(n_mfcc * cols));
      detail::dense_product(p.dct.data(), n_mfcc, n_mels, lm.data(), cols, mfcc.data());
      append(out, "mfcc", columns(mfcc.data(), n_mfcc, cols, c0, cn), n_mfcc, compression_);
      if (deltas) {
        std::vector<float> d(mfcc.size());
        for (int order = 0; order < 2; ++order) {
          detail::delta_item(p.savgol[order], cfg_.delta.width, p.delta_mode, mfcc.data(), n_mfcc,
                             cols, ws, d.data());
          append(out, order == 0 ? "mfcc_delta" : "mfcc_delta2",
                 columns(d.data(), n_mfcc, cols, c0, cn), n_mfcc, compression_);
        }
      }
      // ref: librosa spectral_contrast: power_to_db(peak) - power_to_db(valley), each floored
      // at its own maximum over the file
      std::vector<float> pk(static_cast<size_t>(nb * cn)), va(pk.size()), dp(pk.size()),
          dv(pk.size());
      raw.read_columns("peak", t0, cn, pk.data());
      raw.read_columns("valley", t0, cn, va.data());
      detail::power_to_db_item(raw_db, va.data(), static_cast<int64_t>(va.size()), dv.data());
      detail::power_to_db_item(raw_db, pk.data(), static_cast<int64_t>(pk.size()), dp.data());
      for (size_t i = 0; i < dp.size(); ++i) {
        dp[i] = cfg_.contrast.linear ? static_cast<float>(double(pk[i]) - double(va[i]))
                                     : std::max(dp[i], pk_floor) - std::max(dv[i], va_floor);
      }
      append(out, "spectral_contrast", dp, nb, compression_);
    }
    if (!deltas) {
      out.set_attr("/", "delta_error",
                   "when mode='interp', width=" + std::to_string(cfg_.delta.width) +
                       " cannot exceed the number of frames=" + std::to_string(T_));
      return;
    }
    // pooled stats: row_stats's mean, then its sum of squared deviations, window by window
    std::vector<float> stats;
    for (const char* name :
         {"mfcc", "mfcc_delta", "mfcc_delta2", "chroma_stft", "spectral_contrast", "zcr", "rms"}) {
      const auto shape = out.shape(name);
      const int64_t rows = shape[0], frames = shape[1];
      std::vector<detail::LaneSum> sums(static_cast<size_t>(rows)), sq(sums.size());
      std::vector<double> mean(sums.size());
      std::vector<float> x;
      for (int pass = 0; pass < 2; ++pass) {
        for (int64_t t0 = 0; t0 < frames; t0 += window_) {
          const int64_t cn = std::min(window_, frames - t0);
          x.resize(static_cast<size_t>(rows * cn));
          out.read_columns(name, t0, cn, x.data());
          for (int64_t r = 0; r < rows; ++r) {
            const float* v = x.data() + r * cn;
            if (pass == 0) {
              sums[r].add(v, cn, [](double d) { return d; });
            } else {
              const double mu = mean[r];
              sq[r].add(v, cn, [mu](double d) { return (d - mu) * (d - mu); });
            }
          }
        }
        if (pass == 0) {
          for (int64_t r = 0; r < rows; ++r) mean[r] = sums[r].total() / frames;
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        stats.push_back(static_cast<float>(mean[r]));
        stats.push_back(static_cast<float>(std::sqrt(sq[r].total() / frames)));
      }
    }
    out.write("stats", stats.data(), {static_cast<int64_t>(stats.size())});
    out.set_attr("stats", "columns", stats_columns(cfg_));
  }

  const FeatureConfig& cfg_;
  const FeaturesOptions& opts_;
  const AudioOpener& open_;
  std::shared_ptr<const detail::Plan> plan_;
  h5::Compression compression_;
  int64_t window_;
  StreamFraming stft_, zcr_, rms_;
  int64_t n_ = 0, T_ = 0;
  int64_t chunk_frames_ = kChunkFrames;
  float log_mel_max_ = -std::numeric_limits<float>::infinity();
  float peak_db_max_ = -std::numeric_limits<float>::infinity();
  float valley_db_max_ = -std::numeric_limits<float>::infinity();
  double contrast_top_db_ = 80;
};

// A decoded file in memory as a stream.
class MemorySource : public SampleSource {
 public:
  explicit MemorySource(std::shared_ptr<const std::vector<float>> y) : y_(std::move(y)) {}
  size_t read(float* out, size_t max) override {
    const size_t n = std::min(max, y_->size() - pos_);
    std::copy(y_->begin() + static_cast<std::ptrdiff_t>(pos_),
              y_->begin() + static_cast<std::ptrdiff_t>(pos_ + n), out);
    pos_ += n;
    return n;
  }

 private:
  std::shared_ptr<const std::vector<float>> y_;
  size_t pos_ = 0;
};

}  // namespace

AudioOpener memory_opener(const AudioLoader& load) {
  auto cache = std::make_shared<std::shared_ptr<const std::vector<float>>>();
  return [load, cache](const std::string& path, int sr, bool pre) -> std::unique_ptr<SampleSource> {
    if (!*cache) *cache = std::make_shared<const std::vector<float>>(load(path, sr, pre));
    return std::make_unique<MemorySource>(*cache);
  };
}

FeaturesSummary run_features(const FeaturesOptions& opts, const AudioOpener& open) {
  const FeatureConfig cfg = resolve_config(opts);
  std::ostringstream printed;
  printed << cfg;
  HP_LOG_INFO("features of '{}' -> '{}' (compression {}, windows of {} frames), parameters:\n{}",
              opts.input.string(), opts.out.string(), opts.compression, opts.window_frames,
              printed.str());
  Streamer st(cfg, opts, open);
  const FeaturesSummary sum = st.run(opts.out);
  HP_LOG_INFO("wrote '{}': {} samples, {} frames, chroma tuning {}", opts.out.string(),
              sum.n_samples, sum.n_frames, sum.tuning);
  return sum;
}

FeaturesSummary run_features(const FeaturesOptions& opts, const AudioLoader& load) {
  return run_features(opts, memory_opener(load));
}

void write_features_h5(const std::filesystem::path& path, const FeatureConfig& cfg,
                       const FeatureSet& fs, int64_t n_samples,
                       const h5::Compression& compression) {
  fs::atomic_write(path, [&](const std::filesystem::path& tmp) {
    h5::File f = h5::File::create(tmp);
    const std::pair<const char*, const Tensor3*> datasets[] = {
        {"stft_mag", &fs.stft_mag},
        {"melspectrogram", &fs.melspectrogram},
        {"log_mel", &fs.log_mel},
        {"mfcc", &fs.mfcc},
        {"mfcc_delta", &fs.mfcc_delta},
        {"mfcc_delta2", &fs.mfcc_delta2},
        {"chroma_stft", &fs.chroma_stft},
        {"spectral_contrast", &fs.spectral_contrast},
        {"zcr", &fs.zcr},
        {"rms", &fs.rms}};
    for (const auto& [name, t] : datasets) {
      if (t->batch == 0) continue;
      h5::Storage storage;  // contiguous; compressed: chunks of whole rows x 4096 frames
      if (compression.kind != h5::Compression::Kind::none) {
        storage.chunk = {t->rows, std::min<int64_t>(t->frames, kChunkFrames)};
        storage.compression = compression;
      }
      f.write(name, t->item(0), {t->rows, t->frames}, storage);
    }
    if (fs.stats.batch > 0) {
      f.write("stats", fs.stats.item(0), {fs.stats.frames});
      f.set_attr("stats", "columns", stats_columns(cfg));
    } else {
      f.set_attr(
          "/", "delta_error",
          "when mode='interp', width=" + std::to_string(cfg.delta.width) +
              " cannot exceed the number of frames=" + std::to_string(n_frames(cfg, n_samples)));
    }
    write_attrs(f, "/", cfg);
    f.set_attr("/", "n_samples", n_samples);
    f.set_attr("/", "n_frames", n_frames(cfg, n_samples));
    if (!fs.tuning.empty()) f.set_attr("/", "tuning_chroma_stft", fs.tuning[0]);
    f.set_attr("/", "hptrain_version", std::string(HP_VERSION));
    f.close();
  });
}

}  // namespace hptrain::features
