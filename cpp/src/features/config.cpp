// Feature parameters: validation, presets, TOML and HDF5 attributes.
#include "hptrain/features/config.h"
#include "hptrain/features/config_io.h"

#include <cmath>
#include <sstream>

#include "hptrain/error.h"
#include "hptrain/h5.h"

namespace hptrain::features {

namespace {

template <class T>
std::string show(const T& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
std::string show(const std::string& v) {
  return "'" + v + "'";
}
template <class T>
std::string show(const std::optional<T>& v) {
  return v ? show(*v) : std::string("None");
}

// Throws ConfigError "field = value: why" unless ok.
template <class T>
void check(bool ok, const char* field, const T& value, const char* why) {
  if (!ok) throw ConfigError(std::string(field) + " = " + show(value) + ": " + why);
}

void check_choice(const std::string& v, const char* field,
                  std::initializer_list<const char*> choices) {
  std::string list;
  for (const char* c : choices) {
    if (v == c) return;
    list += std::string(list.empty() ? "" : ", ") + c;
  }
  throw ConfigError(std::string(field) + " = '" + v + "': must be one of " + list);
}

// An optional TOML value: absent leaves `out`, the string "none" makes it None.
template <class T>
void get_optional(const config::Section& s, const char* key, std::optional<T>& out) {
  if (!s.has(key)) return;
  try {
    s.get(key, out);
  } catch (const ConfigError&) {
    std::string v;
    s.get(key, v);  // throws "expected a string" when it is neither
    s.require(key, v == "none", "expected a number or \"none\", got '" + v + "'");
    out.reset();
  }
}

}  // namespace

void StftConfig::validate() const {
  check(n_fft > 0, "stft.n_fft", n_fft, "must be > 0");
  check(!win_length || (*win_length > 0 && *win_length <= n_fft), "stft.win_length", win_length,
        "must be in [1, n_fft]");
  check(!hop_length || *hop_length > 0, "stft.hop_length", hop_length, "must be > 0");
  check(hop() > 0, "stft.hop_length", hop(), "win_length // 4 must be > 0; set hop_length");
  check_choice(window, "stft.window", {"hann", "hamming", "blackman", "boxcar"});
  check_choice(pad_mode, "stft.pad_mode", {"constant", "edge", "reflect"});
}

void MelConfig::validate(int sr) const {
  check(n_mels > 0, "mel.n_mels", n_mels, "must be > 0");
  check(fmin >= 0, "mel.fmin", fmin, "must be >= 0");
  check(fmax_or(sr) > fmin, "mel.fmax", fmax, "must be > fmin");
  check(!norm || *norm == "slaney", "mel.norm", norm, "must be \"slaney\" or \"none\"");
  check(power > 0, "mel.power", power, "must be > 0");
}

void DbConfig::validate() const {
  check(ref > 0, "db.ref", ref, "must be > 0");
  check(amin > 0, "db.amin", amin, "must be > 0");
  check(!top_db || *top_db >= 0, "db.top_db", top_db, "must be >= 0");
}

void MfccConfig::validate(int n_mels) const {
  check(n_mfcc > 0 && n_mfcc <= n_mels, "mfcc.n_mfcc", n_mfcc, "must be in [1, mel.n_mels]");
  check(dct_type == 2, "mfcc.dct_type", dct_type, "only the DCT-II (2) is implemented");
  check(!norm || *norm == "ortho", "mfcc.norm", norm, "must be \"ortho\" or \"none\"");
  check(lifter >= 0, "mfcc.lifter", lifter, "must be >= 0");
}

void DeltaConfig::validate() const {
  check(width >= 3 && width % 2 == 1, "delta.width", width, "must be an odd integer >= 3");
  check_choice(mode, "delta.mode", {"interp", "nearest", "mirror", "constant", "wrap"});
}

void ChromaConfig::validate() const {
  check(n_chroma > 0, "chroma.n_chroma", n_chroma, "must be > 0");
  check(!tuning || std::isfinite(*tuning), "chroma.tuning", tuning, "must be finite");
  check(!norm || *norm > 0, "chroma.norm", norm, "must be > 0 (inf: max norm) or none");
  check(!octwidth || *octwidth > 0, "chroma.octwidth", octwidth, "must be > 0 or none");
  check(!fb_norm || *fb_norm > 0, "chroma.fb_norm", fb_norm, "must be > 0 (inf: max) or none");
}

void ContrastConfig::validate(int sr) const {
  check(fmin > 0, "contrast.fmin", fmin, "must be > 0");
  check(n_bands >= 1, "contrast.n_bands", n_bands, "must be >= 1");
  check(quantile > 0 && quantile < 1, "contrast.quantile", quantile, "must lie in (0, 1)");
  // ref: librosa/feature/spectral.py: np.any(octa[:-1] >= 0.5 * sr)
  check(fmin * std::pow(2.0, n_bands - 1) < 0.5 * sr, "contrast.n_bands", n_bands,
        "a band starts above Nyquist; reduce fmin or n_bands");
}

void ZcrConfig::validate() const {
  check(frame_length > 0, "zcr.frame_length", frame_length, "must be > 0");
  check(hop_length > 0, "zcr.hop_length", hop_length, "must be > 0");
  check(threshold >= 0, "zcr.threshold", threshold, "must be >= 0");
}

void RmsConfig::validate() const {
  check(frame_length > 0, "rms.frame_length", frame_length, "must be > 0");
  check(hop_length > 0, "rms.hop_length", hop_length, "must be > 0");
  check_choice(pad_mode, "rms.pad_mode", {"constant", "edge", "reflect"});
}

void FeatureConfig::validate() const {
  check(sr > 0, "sr", sr, "must be > 0");
  check(threads >= 0, "threads", threads, "must be >= 0 (0: all cores)");
  check_choice(fft_precision, "fft_precision", {"float32", "float64"});
  stft.validate();
  mel.validate(sr);
  db.validate();
  mfcc.validate(mel.n_mels);
  delta.validate();
  chroma.validate();
  contrast.validate(sr);
  zcr.validate();
  rms.validate();
}

FeatureConfig preset(const std::string& name) {
  FeatureConfig c;  // librosa 0.11's defaults are the struct defaults
  if (name == "librosa-default") return c;
  if (name != "speech") {
    throw ConfigError("preset = '" + name + "': must be one of speech, librosa-default");
  }
  c.sr = 16000;
  c.stft.n_fft = 512;
  c.stft.win_length = 400;
  c.stft.hop_length = 160;
  c.mel.n_mels = 64;
  c.mel.fmax = 8000.0;
  c.zcr.frame_length = 512;
  c.zcr.hop_length = 160;
  c.rms.frame_length = 512;
  c.rms.hop_length = 160;
  return c;
}

void from_toml(const config::Section& s, FeatureConfig& cfg) {
  if (s.has("preset")) {
    std::string name;
    s.get_choice("preset", name, {"speech", "librosa-default"});
    cfg = preset(name);
  }
  s.get("sr", cfg.sr);
  s.get("threads", cfg.threads);
  s.get_choice("fft_precision", cfg.fft_precision, {"float32", "float64"});
  const auto st = s.section("stft");
  st.get("n_fft", cfg.stft.n_fft);
  get_optional(st, "hop_length", cfg.stft.hop_length);
  get_optional(st, "win_length", cfg.stft.win_length);
  st.get("window", cfg.stft.window);
  st.get("center", cfg.stft.center);
  st.get("pad_mode", cfg.stft.pad_mode);
  const auto me = s.section("mel");
  me.get("n_mels", cfg.mel.n_mels);
  me.get("fmin", cfg.mel.fmin);
  get_optional(me, "fmax", cfg.mel.fmax);
  me.get("htk", cfg.mel.htk);
  get_optional(me, "norm", cfg.mel.norm);
  me.get("power", cfg.mel.power);
  const auto db = s.section("db");
  db.get("ref", cfg.db.ref);
  db.get("amin", cfg.db.amin);
  get_optional(db, "top_db", cfg.db.top_db);
  const auto mf = s.section("mfcc");
  mf.get("n_mfcc", cfg.mfcc.n_mfcc);
  mf.get("dct_type", cfg.mfcc.dct_type);
  get_optional(mf, "norm", cfg.mfcc.norm);
  mf.get("lifter", cfg.mfcc.lifter);
  const auto de = s.section("delta");
  de.get("width", cfg.delta.width);
  de.get("mode", cfg.delta.mode);
  const auto ch = s.section("chroma");
  ch.get("n_chroma", cfg.chroma.n_chroma);
  get_optional(ch, "tuning", cfg.chroma.tuning);
  get_optional(ch, "norm", cfg.chroma.norm);
  ch.get("ctroct", cfg.chroma.ctroct);
  get_optional(ch, "octwidth", cfg.chroma.octwidth);
  get_optional(ch, "fb_norm", cfg.chroma.fb_norm);
  ch.get("base_c", cfg.chroma.base_c);
  const auto co = s.section("contrast");
  co.get("fmin", cfg.contrast.fmin);
  co.get("n_bands", cfg.contrast.n_bands);
  co.get("quantile", cfg.contrast.quantile);
  co.get("linear", cfg.contrast.linear);
  const auto zc = s.section("zcr");
  zc.get("frame_length", cfg.zcr.frame_length);
  zc.get("hop_length", cfg.zcr.hop_length);
  zc.get("center", cfg.zcr.center);
  zc.get("threshold", cfg.zcr.threshold);
  zc.get("zero_pos", cfg.zcr.zero_pos);
  const auto rm = s.section("rms");
  rm.get("frame_length", cfg.rms.frame_length);
  rm.get("hop_length", cfg.rms.hop_length);
  rm.get("center", cfg.rms.center);
  rm.get("pad_mode", cfg.rms.pad_mode);
  try {
    cfg.validate();
  } catch (const ConfigError& e) {
    const std::string table = s.path().empty() ? "" : s.path() + ".";
    throw ConfigError(s.file() + ": " + table + e.what());
  }
}

namespace {

// Calls put(name, value) for every parameter, with optional values resolved or None.
// One list for the attributes and the printed form, so that they never disagree.
template <class Put>
void for_each_param(const FeatureConfig& c, Put&& put) {
  auto b = [](bool v) { return int64_t{v ? 1 : 0}; };
  auto i = [](int v) { return int64_t{v}; };
  put("sr", i(c.sr));
  put("n_fft", i(c.stft.n_fft));
  put("win_length", i(c.stft.win()));
  put("hop_length", i(c.stft.hop()));
  put("window", c.stft.window);
  put("center", b(c.stft.center));
  put("pad_mode", c.stft.pad_mode);
  put("n_mels", i(c.mel.n_mels));
  put("fmin", c.mel.fmin);
  put("fmax", c.mel.fmax_or(c.sr));
  put("htk", b(c.mel.htk));
  put("mel_norm", c.mel.norm.value_or("None"));
  put("power", c.mel.power);
  put("db_ref", c.db.ref);
  put("db_amin", c.db.amin);
  c.db.top_db ? put("db_top_db", *c.db.top_db) : put("db_top_db", std::string("None"));
  put("n_mfcc", i(c.mfcc.n_mfcc));
  put("dct_type", i(c.mfcc.dct_type));
  put("mfcc_norm", c.mfcc.norm.value_or("None"));
  put("lifter", c.mfcc.lifter);
  put("delta_width", i(c.delta.width));
  put("delta_mode", c.delta.mode);
  put("n_chroma", i(c.chroma.n_chroma));
  c.chroma.tuning ? put("chroma_tuning", *c.chroma.tuning)
                  : put("chroma_tuning", std::string("None"));
  c.chroma.norm ? put("chroma_norm", *c.chroma.norm) : put("chroma_norm", std::string("None"));
  put("chroma_ctroct", c.chroma.ctroct);
  c.chroma.octwidth ? put("chroma_octwidth", *c.chroma.octwidth)
                    : put("chroma_octwidth", std::string("None"));
  c.chroma.fb_norm ? put("chroma_fb_norm", *c.chroma.fb_norm)
                   : put("chroma_fb_norm", std::string("None"));
  put("chroma_base_c", b(c.chroma.base_c));
  put("contrast_fmin", c.contrast.fmin);
  put("contrast_n_bands", i(c.contrast.n_bands));
  put("contrast_quantile", c.contrast.quantile);
  put("contrast_linear", b(c.contrast.linear));
  put("zcr_frame_length", i(c.zcr.frame_length));
  put("zcr_hop_length", i(c.zcr.hop_length));
  put("zcr_center", b(c.zcr.center));
  put("zcr_threshold", c.zcr.threshold);
  put("zcr_zero_pos", b(c.zcr.zero_pos));
  put("zcr_pad_mode", std::string("edge"));  // fixed in librosa
  put("rms_frame_length", i(c.rms.frame_length));
  put("rms_hop_length", i(c.rms.hop_length));
  put("rms_center", b(c.rms.center));
  put("rms_pad_mode", c.rms.pad_mode);
  put("fft_precision", c.fft_precision);  // the GPU path's FFT (the CPU's is float64)
}

}  // namespace

void write_attrs(h5::File& f, const std::string& object, const FeatureConfig& cfg) {
  for_each_param(cfg, [&](const char* name, const auto& v) { f.set_attr(object, name, v); });
}

std::ostream& operator<<(std::ostream& os, const FeatureConfig& cfg) {
  for_each_param(cfg, [&](const char* name, const auto& v) { os << name << " = " << v << "\n"; });
  return os;
}

}  // namespace hptrain::features
