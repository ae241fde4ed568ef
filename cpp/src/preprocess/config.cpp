#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>

#include "hptrain/error.h"
#include "hptrain/preprocess/preprocess.h"

namespace hptrain::preprocess {
namespace {

using Require = std::function<void(const char* field, bool ok, const std::string& why)>;

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Every range rule, written once for validate() and from_toml().
void check(const PreprocessConfig& c, const Require& req) {
  // libebur128 measures loudness (and true peak) from 16 Hz to 2822400 Hz (64 x 44.1 kHz) only
  req("sr", c.sr >= kMinSr && c.sr <= kMaxSr,
      "must lie in [" + std::to_string(kMinSr) + ", " + std::to_string(kMaxSr) + "] Hz, got " +
          std::to_string(c.sr));
  req("stream", c.stream >= -1, "must be >= 0, or -1 for the first audio stream");
  req("top_db", std::isfinite(c.top_db) && c.top_db > 0, "must be > 0, got " + num(c.top_db));
  req("frame_length", c.frame_length > 0, "must be > 0, got " + std::to_string(c.frame_length));
  req("hop_length", c.hop_length > 0, "must be > 0, got " + std::to_string(c.hop_length));
  req("normalize", c.normalize == "loudness" || c.normalize == "peak" || c.normalize == "none",
      "'" + c.normalize + "' is not one of: loudness, peak, none");
  req("target_lufs", std::isfinite(c.target_lufs) && c.target_lufs <= 0 && c.target_lufs >= -70,
      "must be in [-70, 0] LUFS, got " + num(c.target_lufs));
  req("peak_db", std::isfinite(c.peak_db) && c.peak_db <= 0,
      "must be <= 0 dBFS, got " + num(c.peak_db));
  req("true_peak_db", std::isfinite(c.true_peak_db) && c.true_peak_db <= 0,
      "must be <= 0 dBTP, got " + num(c.true_peak_db));
  const double max_s = kMaxChunkSamples / std::max(c.sr, 1);
  req("chunk_s", std::isfinite(c.chunk_s) && c.chunk_s * c.sr >= 1 && c.chunk_s <= max_s,
      "must be at least one sample long and at most 2^31 - 1 samples (" + num(max_s) +
          " s at sr = " + std::to_string(c.sr) + "), got " + num(c.chunk_s) + " s");
  req("chunk_hop_s",
      std::isfinite(c.chunk_hop_s) && c.chunk_hop_s * c.sr >= 1 && c.chunk_hop_s <= max_s,
      "must be at least one sample long and at most 2^31 - 1 samples (" + num(max_s) +
          " s at sr = " + std::to_string(c.sr) + "), got " + num(c.chunk_hop_s) + " s");
  req("last_chunk", c.last_chunk == "pad" || c.last_chunk == "drop",
      "'" + c.last_chunk + "' is not one of: pad, drop");
  req("min_last_fraction", c.min_last_fraction >= 0 && c.min_last_fraction <= 1,
      "must be in [0, 1], got " + num(c.min_last_fraction));
}

}  // namespace

void PreprocessConfig::validate() const {
  check(*this, [](const char* field, bool ok, const std::string& why) {
    if (!ok) throw ConfigError(std::string("preprocess.") + field + ": " + why);
  });
}

void from_toml(const config::Section& s, PreprocessConfig& cfg) {
  s.get("sr", cfg.sr);
  s.get("stream", cfg.stream);
  s.get("trim", cfg.trim);
  s.get("top_db", cfg.top_db);
  s.get("frame_length", cfg.frame_length);
  s.get("hop_length", cfg.hop_length);
  s.get_choice("normalize", cfg.normalize, {"loudness", "peak", "none"});
  s.get("target_lufs", cfg.target_lufs);
  s.get("peak_db", cfg.peak_db);
  s.get("true_peak_db", cfg.true_peak_db);
  s.get("chunk_s", cfg.chunk_s);
  s.get("chunk_hop_s", cfg.chunk_hop_s);
  s.get_choice("last_chunk", cfg.last_chunk, {"pad", "drop"});
  s.get("min_last_fraction", cfg.min_last_fraction);
  check(cfg,
        [&](const char* field, bool ok, const std::string& why) { s.require(field, ok, why); });
}

std::string to_string(const PreprocessConfig& c) {
  std::ostringstream s;
  s << "sr = " << c.sr << "\nstream = " << c.stream << "\ntrim = " << (c.trim ? "true" : "false")
    << "\ntop_db = " << c.top_db << "\nframe_length = " << c.frame_length
    << "\nhop_length = " << c.hop_length << "\nnormalize = \"" << c.normalize
    << "\"\ntarget_lufs = " << c.target_lufs << "\npeak_db = " << c.peak_db
    << "\ntrue_peak_db = " << c.true_peak_db << "\nchunk_s = " << c.chunk_s
    << "\nchunk_hop_s = " << c.chunk_hop_s << "\nlast_chunk = \"" << c.last_chunk
    << "\"\nmin_last_fraction = " << c.min_last_fraction << "\n";
  return s.str();
}

}  // namespace hptrain::preprocess
