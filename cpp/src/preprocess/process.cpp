// Preprocessing of one file (preprocess.h): decode to mono at the target rate, trim silence,
// normalise loudness or peak, and cut chunks; the analysis passes, then the output pass.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/io/audio.h"
#include "hptrain/log.h"
#include "hptrain/parallel.h"
#include "hptrain/preprocess/preprocess.h"
#include "preprocess/loudness.h"

namespace hptrain::preprocess {
namespace {

using detail::KWeighting;
using detail::loudness_of;
using detail::Meter;

constexpr size_t kBlock = 1 << 16;
// Files up to this many output samples (8.4 M: 8.7 min at 16 kHz, 32 MiB) are decoded once and
// kept for the later passes; longer ones are decoded again for each pass.
constexpr size_t kCacheSamples = size_t{1} << 23;
// librosa.amplitude_to_db's amin = 1e-5, squared: the floor of frame mean squares.
constexpr double kAminPower = 1e-10;

using BlockFn = std::function<void(const float* x, size_t n)>;

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

// The decoded mono audio of one file: streamed from the file, or from memory when short.
class Source {
 public:
  Source(std::string path, const PreprocessConfig& cfg) : path_(std::move(path)), cfg_(cfg) {}

  // The whole file, block by block; the first call also fills the cache when the file is short.
  // on_spill, if given, hears the samples cached so far when the cache is given up (the file is
  // longer than kCacheSamples), before the block that did not fit is handed to f.
  void stream_all(const BlockFn& f, const BlockFn& on_spill = {}) { stream(0, -1, f, on_spill); }

  // Samples [begin, end) (end = -1: to the end of the file).
  void stream(int64_t begin, int64_t end, const BlockFn& f, const BlockFn& on_spill = {}) {
    if (cached_) {
      const auto last = end < 0 ? static_cast<int64_t>(cache_.size()) : end;
      for (int64_t p = begin; p < last; p += static_cast<int64_t>(kBlock)) {
        f(cache_.data() + p, static_cast<size_t>(std::min<int64_t>(kBlock, last - p)));
      }
      return;
    }
    const bool fill = !decoded_once_;
    bool caching = fill;
    io::MonoReader reader(path_, cfg_.sr, cfg_.stream);
    std::vector<float> buf(kBlock);
    int64_t pos = 0;
    for (size_t n; (end < 0 || pos < end) && (n = reader.read(buf.data(), buf.size())) > 0;) {
      if (caching) {
        if (cache_.size() + n > kCacheSamples) {
          caching = false;
          if (on_spill) on_spill(cache_.data(), cache_.size());
          std::vector<float>().swap(cache_);
        } else {
          cache_.insert(cache_.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        }
      }
      const int64_t lo = std::max(pos, begin);
      const int64_t hi =
          end < 0 ? pos + static_cast<int64_t>(n) : std::min(pos + static_cast<int64_t>(n), end);
      if (lo < hi) f(buf.data() + (lo - pos), static_cast<size_t>(hi - lo));
      pos += static_cast<int64_t>(n);
    }
    if (fill) {
      decoded_once_ = true;
      cached_ = caching;
      length_ = pos;
    }
  }

  // Samples [begin, end) in memory (nullptr when the file is not cached).
  const float* cached(int64_t begin) const { return cached_ ? cache_.data() + begin : nullptr; }
  int64_t length() const { return length_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const PreprocessConfig& cfg_;
  std::vector<float> cache_;
  bool decoded_once_ = false;
  bool cached_ = false;
  int64_t length_ = 0;
};

// Mean square of each frame of librosa.feature.rms(y, frame_length, hop_length, center=True,
// pad_mode="constant"): frame t covers y[t*hop - frame_length/2, ... + frame_length), zeros
// outside y. Streaming; keeps only the samples the next frames need.
class FrameEnergy {
 public:
  FrameEnergy(int frame_length, int hop_length) : fl_(frame_length), hop_(hop_length) {}

  void push(const float* x, size_t n) {
    const size_t old = window_.size();
    window_.resize(old + n);
    for (size_t i = 0; i < n; ++i) window_[old + i] = static_cast<double>(x[i]) * x[i];
    seen_ += static_cast<int64_t>(n);
    emit_ready(seen_);
    // drop the samples no later frame reads
    const int64_t keep_from =
        std::max<int64_t>(frame_begin(static_cast<int64_t>(energy_.size())), 0);
    if (keep_from > offset_) {
      const auto drop =
          std::min<int64_t>(keep_from - offset_, static_cast<int64_t>(window_.size()));
      window_.erase(window_.begin(), window_.begin() + drop);
      offset_ += drop;
    }
  }

  // Ends the signal (zero padding after it); returns the mean squares of all frames.
  const std::vector<double>& finish() {
    // ref: librosa util.frame on y padded by frame_length//2 each side: 1 + (len - fl)//hop
    const int64_t padded = seen_ + 2 * (fl_ / 2);
    const int64_t frames = padded >= fl_ ? 1 + (padded - fl_) / hop_ : 0;
    while (static_cast<int64_t>(energy_.size()) < frames) emit_frame();
    return energy_;
  }

 private:
  int64_t frame_begin(int64_t t) const { return t * hop_ - fl_ / 2; }

  // Emits every frame whose window ends at or before `available` samples. Four frames at a
  // time where they all start inside the signal: four independent sums, each still added in
  // emit_frame's order (the same values), which the CPU overlaps.
  void emit_ready(int64_t available) {
    for (;;) {
      const auto t = static_cast<int64_t>(energy_.size());
      const int64_t b = frame_begin(t);
      if (b >= 0 && frame_begin(t + 3) + fl_ <= available) {
        const double* w = window_.data() + (b - offset_);
        const size_t h = static_cast<size_t>(hop_);
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        for (size_t k = 0; k < static_cast<size_t>(fl_); ++k) {
          s0 += w[k];
          s1 += w[h + k];
          s2 += w[2 * h + k];
          s3 += w[3 * h + k];
        }
        energy_.insert(energy_.end(), {s0 / fl_, s1 / fl_, s2 / fl_, s3 / fl_});
      } else if (b + fl_ <= available) {
        emit_frame();
      } else {
        return;
      }
    }
  }

  void emit_frame() {
    const int64_t b = frame_begin(static_cast<int64_t>(energy_.size()));
    const int64_t lo = std::max<int64_t>(b, 0);
    const int64_t hi = std::min<int64_t>(b + fl_, seen_);
    double sum = 0.0;
    for (int64_t i = lo; i < hi; ++i) sum += window_[static_cast<size_t>(i - offset_)];
    energy_.push_back(sum / fl_);
  }

  int fl_;
  int hop_;
  std::vector<double> window_;  // squares of samples [offset_, seen_)
  int64_t offset_ = 0;
  int64_t seen_ = 0;
  std::vector<double> energy_;
};

// What the analysis passes decided for one file.
struct Plan {
  int64_t start = 0;  // kept interval of the decoded audio, samples at sr
  int64_t end = 0;
  float gain = 1.0f;
  FileReport report;
};

double to_db(double linear) {
  return 20.0 * std::log10(linear);
}

// Analysis: frame energies for the trim, then loudness and peaks of the kept interval;
// on_analysed (if any) hears the seconds decoded so far.
Plan analyse(Source& src, const PreprocessConfig& cfg,
             const std::function<void(double)>& on_analysed = {}) {
  cfg.validate();
  const bool normalise = cfg.normalize != "none";
  FrameEnergy energy(cfg.frame_length, cfg.hop_length);
  std::unique_ptr<Meter> meter;
  if (normalise) meter = std::make_unique<Meter>(cfg.sr);
  // Without a trim the kept interval is the whole file: measured while it is decoded. With
  // one, a file kept in memory is measured once the trim is known, over the kept interval only
  // and in one span; a longer one block by block while it is decoded, from the moment the cache
  // is given up (the samples cached until then first).
  bool metering = !cfg.trim;
  int64_t decoded = 0;
  src.stream_all(
      [&](const float* x, size_t n) {
        energy.push(x, n);
        if (meter && metering) meter->add(x, n);
        decoded += static_cast<int64_t>(n);
        if (on_analysed) on_analysed(static_cast<double>(decoded) / cfg.sr);
      },
      [&](const float* x, size_t n) {
        if (metering) return;
        metering = true;
        if (meter) meter->add(x, n);
      });
  const int64_t n = src.length();
  if (n == 0) {
    throw InputError("cannot preprocess " + quoted(src.path()) + ": no audio (zero length)");
  }
  const std::vector<double>& e = energy.finish();
  const double emax = *std::max_element(e.begin(), e.end());
  if (emax <= kAminPower) {
    throw InputError("cannot preprocess " + quoted(src.path()) +
                     ": all silence (no frame's RMS is above -100 dBFS)");
  }
  Plan plan;
  plan.end = n;
  if (cfg.trim) {
    // ref: librosa.effects._signal_to_frame_nonsilent: amplitude_to_db(rms, ref=np.max) > -top_db
    const double ref_db = 10.0 * std::log10(std::max(kAminPower, emax));
    auto loud = [&](double v) {
      return 10.0 * std::log10(std::max(kAminPower, v)) - ref_db > -cfg.top_db;
    };
    const auto first = std::find_if(e.begin(), e.end(), loud) - e.begin();
    const auto last = e.rend() - std::find_if(e.rbegin(), e.rend(), loud) - 1;
    // ref: librosa.effects.trim: frames_to_samples(nonzero[0]), min(len, frames_to_samples(last+1))
    plan.start = static_cast<int64_t>(first) * cfg.hop_length;
    plan.end = std::min<int64_t>(n, (static_cast<int64_t>(last) + 1) * cfg.hop_length);
  }
  FileReport& r = plan.report;
  r.source = src.path();
  r.duration_s = static_cast<double>(n) / cfg.sr;
  r.trim_start_s = static_cast<double>(plan.start) / cfg.sr;
  r.trim_end_s = static_cast<double>(plan.end) / cfg.sr;
  r.input_lufs = std::numeric_limits<double>::quiet_NaN();
  if (!normalise) return plan;
  if (!metering) {  // kept in memory, trimmed: the kept interval in one span
    meter->add(src.cached(plan.start), static_cast<size_t>(plan.end - plan.start));
  } else if (plan.start != 0 || plan.end != n) {  // measured from the start, then trimmed
    meter = std::make_unique<Meter>(cfg.sr);
    src.stream(plan.start, plan.end, [&](const float* x, size_t k) { meter->add(x, k); });
  }
  r.input_lufs = meter->lufs();
  double gain_db = 0;
  const int64_t kept = plan.end - plan.start;
  if (cfg.normalize == "loudness" && !std::isfinite(r.input_lufs) &&
      static_cast<double>(kept) < kGatingBlock_s * cfg.sr) {
    // shorter than one gating block: the documented fallback (README, "Ingest and preprocessing")
    KWeighting kw(cfg.sr);
    double sum = 0;
    src.stream(plan.start, plan.end, [&](const float* x, size_t k) { kw.add(x, k, sum); });
    r.input_lufs = loudness_of(sum, static_cast<size_t>(kept));
    r.ungated = true;
    HP_LOG_DEBUG(
        "{}: {:.3f} s kept, shorter than a 0.4 s gating block: ungated loudness {:.2f} "
        "LUFS",
        src.path(), static_cast<double>(kept) / cfg.sr, r.input_lufs);
  }
  if (cfg.normalize == "loudness") {
    if (!std::isfinite(r.input_lufs)) {
      throw InputError("cannot preprocess " + quoted(src.path()) +
                       ": loudness not measurable (the kept audio is below the -70 LUFS gate); "
                       "normalize = \"peak\" can take it");
    }
    gain_db = cfg.target_lufs - r.input_lufs;
  } else {
    gain_db = cfg.peak_db - to_db(meter->sample_peak());
  }
  // true-peak ceiling: the gain never lifts the true peak above true_peak_db
  gain_db = std::min(gain_db, cfg.true_peak_db - to_db(meter->true_peak()));
  r.gain_db = gain_db;
  plan.gain = static_cast<float>(std::pow(10.0, gain_db / 20.0));
  return plan;
}

// Output pass: the kept interval with the gain applied, block by block.
void emit(Source& src, const Plan& plan, const BlockFn& f) {
  std::vector<float> buf;
  src.stream(plan.start, plan.end, [&](const float* x, size_t n) {
    buf.resize(n);
    for (size_t i = 0; i < n; ++i) buf[i] = x[i] * plan.gain;
    f(buf.data(), n);
  });
}

// Cuts the kept interval into chunks of `len` samples every `hop` samples, then the last
// partial chunk by the policy (see README, "Ingest and preprocessing"). Holds at most one chunk
// plus one block.
class Chunker {
 public:
  Chunker(const PreprocessConfig& cfg, const Plan& plan, const std::function<void(Chunk&&)>& out)
      : cfg_(cfg),
        plan_(plan),
        out_(out),
        len_(std::lround(cfg.chunk_s * cfg.sr)),
        hop_(std::lround(cfg.chunk_hop_s * cfg.sr)) {}

  // Samples [pos_, pos_ + n) of the kept interval; buf_ holds [next_, pos_) when pos_ > next_.
  void push(const float* x, size_t n) {
    const int64_t p = pos_;
    pos_ += static_cast<int64_t>(n);
    if (buf_.empty()) {
      const int64_t skip = std::max<int64_t>(next_ - p, 0);
      if (skip >= static_cast<int64_t>(n)) return;
      x += skip;
      n -= static_cast<size_t>(skip);
    }
    buf_.insert(buf_.end(), x, x + n);
    while (static_cast<int64_t>(buf_.size()) >= len_) {
      send(std::vector<float>(buf_.begin(), buf_.begin() + len_), len_);
      next_ += hop_;
      buf_.erase(buf_.begin(), buf_.begin() + std::min<int64_t>(hop_, buf_.size()));
    }
  }

  // The partial chunk [next_, end) when the policy keeps it.
  void finish() {
    const auto rest = static_cast<int64_t>(buf_.size());
    if (rest > 0 && cfg_.last_chunk == "pad" &&
        static_cast<double>(rest) >= cfg_.min_last_fraction * static_cast<double>(len_)) {
      buf_.resize(static_cast<size_t>(len_), 0.0f);
      send(std::move(buf_), rest);
    }
  }

  int64_t count() const { return index_; }

 private:
  void send(std::vector<float>&& samples, int64_t real) {
    Chunk c;
    c.source = plan_.report.source;
    c.index = index_++;
    c.offset_s = static_cast<double>(plan_.start + next_) / cfg_.sr;
    c.duration_s = static_cast<double>(real) / cfg_.sr;
    c.samples = std::move(samples);
    out_(std::move(c));
  }

  const PreprocessConfig& cfg_;
  const Plan& plan_;
  const std::function<void(Chunk&&)>& out_;
  int64_t len_;
  int64_t hop_;
  std::vector<float> buf_;
  int64_t pos_ = 0;
  int64_t next_ = 0;
  int64_t index_ = 0;
};

}  // namespace

FileReport process_file(const std::string& path, const PreprocessConfig& cfg,
                        const std::function<void(Chunk&&)>& on_chunk,
                        const std::function<void(double)>& on_analysed) {
  Source src(path, cfg);
  Plan plan = analyse(src, cfg, on_analysed);
  Chunker chunker(cfg, plan, on_chunk);
  emit(src, plan, [&](const float* x, size_t n) { chunker.push(x, n); });
  chunker.finish();
  plan.report.chunks = chunker.count();
  HP_LOG_DEBUG("'{}': {:.2f} s, kept [{:.3f}, {:.3f}) s, {:.2f} LUFS, gain {:+.2f} dB, {} chunks",
               path, plan.report.duration_s, plan.report.trim_start_s, plan.report.trim_end_s,
               plan.report.input_lufs, plan.report.gain_db, plan.report.chunks);
  return plan.report;
}

FileReport process_stream(const std::string& path, const PreprocessConfig& cfg,
                          const std::function<void(const float*, size_t, int64_t)>& on_block,
                          const std::function<void(double)>& on_analysed) {
  Source src(path, cfg);
  const Plan plan = analyse(src, cfg, on_analysed);
  int64_t at = plan.start;
  emit(src, plan, [&](const float* x, size_t n) {
    on_block(x, n, at);
    at += static_cast<int64_t>(n);
  });
  return plan.report;
}

std::vector<float> process_whole(const std::string& path, const PreprocessConfig& cfg,
                                 FileReport* report) {
  Source src(path, cfg);
  const Plan plan = analyse(src, cfg);
  std::vector<float> out;
  out.reserve(static_cast<size_t>(plan.end - plan.start));
  emit(src, plan, [&](const float* x, size_t n) { out.insert(out.end(), x, x + n); });
  if (report != nullptr) *report = plan.report;
  return out;
}

double ungated_loudness(const float* x, size_t n, int sr) {
  KWeighting kw(sr);
  double sum = 0;
  kw.add(x, n, sum);
  return loudness_of(sum, n);
}

}  // namespace hptrain::preprocess
