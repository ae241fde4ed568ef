// hptrain._hptrain: keyword arguments -> features::FeatureConfig (librosa's names on a preset),
// and the FeatureConfig class that hptrain.features passes back to extract.
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include "bindings.h"
#include "hptrain/error.h"
#include "hptrain/features/config.h"

namespace hptrain::python {
namespace {

using Setter = std::function<void(features::FeatureConfig&, const std::string&, py::handle)>;

#define HP_FIELD(member)                                               \
  [](features::FeatureConfig& c, const std::string& k, py::handle v) { \
    c.member = as<decltype(c.member)>(k, v);                           \
  }
#define HP_OPTIONAL(member, T)                                         \
  [](features::FeatureConfig& c, const std::string& k, py::handle v) { \
    c.member = as_optional<T>(k, v);                                   \
  }

// Keyword -> field. librosa's own name where only one librosa function takes it (melspectrogram
// takes fmin, fmax, htk, norm, power; power_to_db ref, amin, top_db; delta width; chroma_stft
// tuning; spectral_contrast n_bands, quantile, linear); the name of `hptrain features`' HDF5
// attribute (README, "Output layout") for the others (mfcc_norm, chroma_norm, contrast_fmin,
// zcr_hop_length, ...). Both names are accepted where both exist (db_top_db, top_db).
const std::map<std::string, Setter>& feature_setters() {
  static const std::map<std::string, Setter> table = [] {
    std::map<std::string, Setter> t;
    t["sr"] = HP_FIELD(sr);
    t["n_fft"] = HP_FIELD(stft.n_fft);
    t["hop_length"] = HP_OPTIONAL(stft.hop_length, int);
    t["win_length"] = HP_OPTIONAL(stft.win_length, int);
    t["window"] = HP_FIELD(stft.window);
    t["center"] = HP_FIELD(stft.center);
    t["pad_mode"] = HP_FIELD(stft.pad_mode);
    t["n_mels"] = HP_FIELD(mel.n_mels);
    t["fmin"] = HP_FIELD(mel.fmin);
    t["fmax"] = HP_OPTIONAL(mel.fmax, double);
    t["htk"] = HP_FIELD(mel.htk);
    t["mel_norm"] = HP_OPTIONAL(mel.norm, std::string);
    t["norm"] = t["mel_norm"];
    t["power"] = HP_FIELD(mel.power);
    t["db_ref"] = HP_FIELD(db.ref);
    t["ref"] = t["db_ref"];
    t["db_amin"] = HP_FIELD(db.amin);
    t["amin"] = t["db_amin"];
    t["db_top_db"] = HP_OPTIONAL(db.top_db, double);
    t["top_db"] = t["db_top_db"];
    t["n_mfcc"] = HP_FIELD(mfcc.n_mfcc);
    t["dct_type"] = HP_FIELD(mfcc.dct_type);
    t["mfcc_norm"] = HP_OPTIONAL(mfcc.norm, std::string);
    t["lifter"] = HP_FIELD(mfcc.lifter);
    t["delta_width"] = HP_FIELD(delta.width);
    t["width"] = t["delta_width"];
    t["delta_mode"] = HP_FIELD(delta.mode);
    t["n_chroma"] = HP_FIELD(chroma.n_chroma);
    t["chroma_tuning"] = HP_OPTIONAL(chroma.tuning, double);
    t["tuning"] = t["chroma_tuning"];
    t["chroma_norm"] = HP_OPTIONAL(chroma.norm, double);
    t["chroma_ctroct"] = HP_FIELD(chroma.ctroct);
    t["ctroct"] = t["chroma_ctroct"];
    t["chroma_octwidth"] = HP_OPTIONAL(chroma.octwidth, double);
    t["octwidth"] = t["chroma_octwidth"];
    t["chroma_fb_norm"] = HP_OPTIONAL(chroma.fb_norm, double);
    t["chroma_base_c"] = HP_FIELD(chroma.base_c);
    t["base_c"] = t["chroma_base_c"];
    t["contrast_fmin"] = HP_FIELD(contrast.fmin);
    t["contrast_n_bands"] = HP_FIELD(contrast.n_bands);
    t["n_bands"] = t["contrast_n_bands"];
    t["contrast_quantile"] = HP_FIELD(contrast.quantile);
    t["quantile"] = t["contrast_quantile"];
    t["contrast_linear"] = HP_FIELD(contrast.linear);
    t["linear"] = t["contrast_linear"];
    t["zcr_frame_length"] = HP_FIELD(zcr.frame_length);
    t["zcr_hop_length"] = HP_FIELD(zcr.hop_length);
    t["zcr_center"] = HP_FIELD(zcr.center);
    t["zcr_threshold"] = HP_FIELD(zcr.threshold);
    t["threshold"] = t["zcr_threshold"];
    t["zcr_zero_pos"] = HP_FIELD(zcr.zero_pos);
    t["zero_pos"] = t["zcr_zero_pos"];
    t["rms_frame_length"] = HP_FIELD(rms.frame_length);
    t["rms_hop_length"] = HP_FIELD(rms.hop_length);
    t["rms_center"] = HP_FIELD(rms.center);
    t["rms_pad_mode"] = HP_FIELD(rms.pad_mode);
    t["fft_precision"] = HP_FIELD(fft_precision);
    t["threads"] = HP_FIELD(threads);
    return t;
  }();
  return table;
}
#undef HP_FIELD
#undef HP_OPTIONAL

// The preset, then `overrides` in the order given. n_fft and hop_length also set the ZCR and RMS
// framing (frame_length, hop_length) unless those are given by their own names: librosa's
// defaults keep them equal, and both presets do. ValueError naming an unknown keyword or the
// field whose value is out of range.
features::FeatureConfig feature_config(const std::string& preset, const py::dict& overrides) {
  features::FeatureConfig cfg;
  try {
    cfg = features::preset(preset);
  } catch (const ConfigError& e) {
    throw py::value_error(std::string("preset = '") + preset +
                          "': must be 'speech' or 'librosa-default'");
  }
  const auto& setters = feature_setters();
  bool zcr_frame = false, zcr_hop = false, rms_frame = false, rms_hop = false;
  for (const auto& [k, v] : overrides) {
    const auto key = k.cast<std::string>();
    zcr_frame |= key == "zcr_frame_length";
    zcr_hop |= key == "zcr_hop_length";
    rms_frame |= key == "rms_frame_length";
    rms_hop |= key == "rms_hop_length";
  }
  for (const auto& [k, v] : overrides) {
    const auto key = k.cast<std::string>();
    const auto it = setters.find(key);
    if (it == setters.end()) {
      throw py::value_error("unknown keyword argument '" + key +
                            "' (the names are librosa's; see help(hptrain.features))");
    }
    it->second(cfg, key, v);
    if (key == "n_fft") {
      if (!zcr_frame) cfg.zcr.frame_length = cfg.stft.n_fft;
      if (!rms_frame) cfg.rms.frame_length = cfg.stft.n_fft;
    }
    if (key == "hop_length" && cfg.stft.hop_length) {
      if (!zcr_hop) cfg.zcr.hop_length = *cfg.stft.hop_length;
      if (!rms_hop) cfg.rms.hop_length = *cfg.stft.hop_length;
    }
  }
  cfg.validate();  // ConfigError -> ValueError (module.cpp's translator)
  return cfg;
}

std::string config_text(const features::FeatureConfig& cfg) {
  std::ostringstream os;
  os << cfg;
  return os.str();
}

}  // namespace

void bind_feature_config(py::module_& m) {
  py::class_<features::FeatureConfig>(m, "FeatureConfig")
      .def_readonly("sr", &features::FeatureConfig::sr)
      .def("__repr__", &config_text);
  m.def("feature_config", &feature_config, py::arg("preset"), py::arg("overrides"));
}

}  // namespace hptrain::python
