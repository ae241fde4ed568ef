// hptrain._hptrain: the LibTorch-free areas for Python (pybind11): decoding and preprocessing,
// features::extract (CPU threads, or cuda::FeatureExtractor with DLPack hand-over), HDF5 shards,
// the SVM / forest classifiers and the run checksums. The package python/hptrain wraps it.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dlpack_capsule.h"
#include "hptrain/baselines/classifier.h"
#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/device.h"
#include "hptrain/error.h"
#include "hptrain/features/config.h"
#include "hptrain/features/extract.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "hptrain/preprocess/preprocess.h"

#ifdef HP_WITH_CUDA
#include <cuda_runtime.h>

#include "hptrain/cuda/check.h"
#include "hptrain/cuda/extract.h"
#include "hptrain/cuda/resources.h"
#include "hptrain/features/tables.h"
#endif

namespace py = pybind11;

namespace hptrain::python {
namespace {

// ---- NumPy arrays that own C++ memory (no copy) ---------------------------------------------

template <class T>
py::array_t<T> owned_array(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
  auto* owner = new std::vector<T>(std::move(v));
  py::capsule free_when_done(owner, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, owner->data(), free_when_done);
}

// ---- keyword arguments -> configs ------------------------------------------------------------

// A Python value as the C++ field's type; ValueError naming the keyword.
template <class T>
T as(const std::string& key, py::handle v) {
  const auto fail = [&](const char* want) {
    return py::value_error(key + " = " + py::repr(v).cast<std::string>() + ": expected " + want);
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!py::isinstance<py::bool_>(v)) throw fail("True or False");
    return v.cast<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (py::isinstance<py::bool_>(v) || !py::isinstance<py::int_>(v)) throw fail("an int");
    try {
      return v.cast<T>();
    } catch (const py::cast_error&) {
      throw fail("an int in the range of a C++ int");
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    if (py::isinstance<py::bool_>(v) ||
        !(py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v))) {
      throw fail("a number");
    }
    return v.cast<T>();
  } else {
    if (!py::isinstance<py::str>(v)) throw fail("a str");
    return v.cast<std::string>();
  }
}

template <class T>
std::optional<T> as_optional(const std::string& key, py::handle v) {
  if (v.is_none()) return std::nullopt;
  return as<T>(key, v);
}

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
  cfg.validate();  // ConfigError -> ValueError (the translator below)
  return cfg;
}

std::string config_text(const features::FeatureConfig& cfg) {
  std::ostringstream os;
  os << cfg;
  return os.str();
}

// ---- features ---------------------------------------------------------------------------------

struct Named {
  const char* name;
  Tensor3 features::FeatureSet::*member;
};
constexpr Named kOutputs[] = {
    {"stft_mag", &features::FeatureSet::stft_mag},
    {"melspectrogram", &features::FeatureSet::melspectrogram},
    {"log_mel", &features::FeatureSet::log_mel},
    {"mfcc", &features::FeatureSet::mfcc},
    {"mfcc_delta", &features::FeatureSet::mfcc_delta},
    {"mfcc_delta2", &features::FeatureSet::mfcc_delta2},
    {"chroma_stft", &features::FeatureSet::chroma_stft},
    {"spectral_contrast", &features::FeatureSet::spectral_contrast},
    {"zcr", &features::FeatureSet::zcr},
    {"rms", &features::FeatureSet::rms},
    {"stats", &features::FeatureSet::stats},
};

features::FeatureSelection selection(const std::vector<std::string>& names) {
  features::FeatureSelection w;
  w.stft_mag = w.melspectrogram = w.log_mel = w.mfcc = w.deltas = w.chroma = w.contrast = w.zcr =
      w.rms = w.stats = false;
  for (const auto& n : names) {
    if (n == "stft_mag") {
      w.stft_mag = true;
    } else if (n == "melspectrogram") {
      w.melspectrogram = true;
    } else if (n == "log_mel") {
      w.log_mel = true;
    } else if (n == "mfcc") {
      w.mfcc = true;
    } else if (n == "mfcc_delta" || n == "mfcc_delta2" || n == "deltas") {
      w.deltas = true;
    } else if (n == "chroma_stft") {
      w.chroma = true;
    } else if (n == "spectral_contrast") {
      w.contrast = true;
    } else if (n == "zcr") {
      w.zcr = true;
    } else if (n == "rms") {
      w.rms = true;
    } else if (n == "stats") {
      w.stats = true;
    } else {
      throw py::value_error("what: '" + n +
                            "' is not a feature (stft_mag, melspectrogram, log_mel, mfcc, "
                            "mfcc_delta, mfcc_delta2, chroma_stft, spectral_contrast, zcr, rms, "
                            "stats)");
    }
  }
  return w;
}

// Frames of the ZCR / RMS framing for n samples. ref: librosa.util.frame after the optional
// padding of frame_length // 2 each side: 1 + (n_padded - frame_length) // hop_length.
int64_t framing_frames(int64_t n, int frame_length, int hop, bool center) {
  const int64_t padded = center ? n + 2 * (frame_length / 2) : n;
  return padded < frame_length ? 0 : 1 + (padded - frame_length) / hop;
}

// Item `b`'s rows x frames of `src` into item `b` of `dst` (whose frames may be more).
void place(const Tensor3& src, int64_t from, Tensor3& dst, int64_t b) {
  for (int64_t r = 0; r < src.rows; ++r) {
    std::copy(src.item(from) + r * src.frames, src.item(from) + (r + 1) * src.frames,
              dst.item(b) + r * dst.frames);
  }
}

// The items of Y (row-major [batch, n]) with lengths: each group of equal length is one extract
// call (each item's top_db floors and statistics are its own, so grouping changes no value);
// outputs [batch, rows, frames of n samples], zero past an item's own frames.
features::FeatureSet extract_ragged(const features::FeatureConfig& cfg, const float* Y,
                                    int64_t batch, int64_t n, const std::vector<int64_t>& lengths,
                                    const features::FeatureSelection& what) {
  std::map<int64_t, std::vector<int64_t>> groups;
  for (int64_t b = 0; b < batch; ++b) groups[lengths[b]].push_back(b);
  if (groups.size() == 1 && groups.begin()->first == n) {
    return features::extract(cfg, Y, batch, n, what);
  }
  features::FeatureSet out;
  for (const auto& [len, items] : groups) {
    std::vector<float> audio(items.size() * len);
    for (size_t i = 0; i < items.size(); ++i) {
      std::copy(Y + items[i] * n, Y + items[i] * n + len, audio.begin() + i * len);
    }
    features::FeatureSet fs =
        features::extract(cfg, audio.data(), static_cast<int64_t>(items.size()), len, what);
    for (const Named& o : kOutputs) {
      const Tensor3& src = fs.*o.member;
      if (src.batch == 0) continue;
      Tensor3& dst = out.*o.member;
      if (dst.batch == 0) {
        int64_t frames = features::n_frames(cfg, n);
        if (o.member == &features::FeatureSet::zcr) {
          frames = framing_frames(n, cfg.zcr.frame_length, cfg.zcr.hop_length, cfg.zcr.center);
        } else if (o.member == &features::FeatureSet::rms) {
          frames = framing_frames(n, cfg.rms.frame_length, cfg.rms.hop_length, cfg.rms.center);
        } else if (o.member == &features::FeatureSet::stats) {
          frames = src.frames;
        }
        dst = Tensor3(batch, src.rows, frames);
      }
      for (size_t i = 0; i < items.size(); ++i) {
        place(src, static_cast<int64_t>(i), dst, items[i]);
      }
    }
  }
  return out;
}

// One output as an array: [rows, frames] of item 0 when `single` ([D] for stats), else
// [batch, rows, frames] ([batch, D]).
py::array_t<float> to_array(Tensor3&& t, bool single, bool stats) {
  std::vector<py::ssize_t> shape;
  if (!single) shape.push_back(t.batch);
  if (!stats) shape.push_back(t.rows);
  shape.push_back(t.frames);
  return owned_array(std::move(t.data), shape);
}

#ifdef HP_WITH_CUDA
// The outputs on the device, alive while any DLPack tensor made from them is.
struct DeviceOutputs {
  cuda::DeviceFeatures f;
};

// Every output of `what` computed by cuda::FeatureExtractor, handed to the caller as DLPack
// capsules of device memory (no copy); the stream is synchronised before they are returned, and
// the buffers are freed on the legacy default stream (ordered after the consumer's work there).
py::dict extract_cuda_dlpack(const features::FeatureConfig& cfg, const float* Y, int64_t batch,
                             int64_t n, const std::vector<int64_t>& lengths,
                             const features::FeatureSelection& what) {
  auto holder = std::make_shared<DeviceOutputs>();
  int device = 0;
  {
    py::gil_scoped_release release;
    HP_CUDA_CHECK(cudaGetDevice(&device));
    cuda::FeatureExtractor ext(cfg, features::feature_tables(cfg), cfg.fft_precision == "float64");
    const std::vector<float> host(Y, Y + batch * n);
    const cuda::DeviceBuffer<float> audio = cuda::to_device(host, ext.stream());
    holder->f = ext.run(audio.data(), lengths.data(), batch, n, what);
    HP_CUDA_CHECK(cudaStreamSynchronize(ext.stream()));
    cuda::DeviceFeatures& f = holder->f;
    for (auto* b :
         {&f.stft_mag, &f.melspectrogram, &f.log_mel, &f.mfcc, &f.mfcc_delta, &f.mfcc_delta2,
          &f.chroma_stft, &f.spectral_contrast, &f.zcr, &f.rms, &f.stats}) {
      b->free_on(nullptr);
    }
    f.tuning.free_on(nullptr);
  }
  const cuda::DeviceFeatures& f = holder->f;
  const int64_t T = f.frames;
  struct Out {
    const char* name;
    const cuda::DeviceBuffer<float>* buf;
    int64_t frames;
  };
  const Out outs[] = {{"stft_mag", &f.stft_mag, T},
                      {"melspectrogram", &f.melspectrogram, T},
                      {"log_mel", &f.log_mel, T},
                      {"mfcc", &f.mfcc, T},
                      {"mfcc_delta", &f.mfcc_delta, T},
                      {"mfcc_delta2", &f.mfcc_delta2, T},
                      {"chroma_stft", &f.chroma_stft, T},
                      {"spectral_contrast", &f.spectral_contrast, T},
                      {"zcr", &f.zcr, f.zcr_frames},
                      {"rms", &f.rms, f.rms_frames},
                      {"stats", &f.stats, -1}};
  py::dict d;
  for (const Out& o : outs) {
    if (o.buf->empty() || o.frames == 0) continue;
    std::vector<int64_t> shape{batch};
    const auto per_item = static_cast<int64_t>(o.buf->size()) / batch;
    if (o.frames < 0) {
      shape.push_back(per_item);
    } else {
      shape.push_back(per_item / o.frames);
      shape.push_back(o.frames);
    }
    d[o.name] = dlpack::capsule(o.buf->data(), std::move(shape), dlpack::kDLCUDA, device, holder);
  }
  return d;
}
#endif

// ---- the module's functions -------------------------------------------------------------------

py::array_t<float> load(const std::string& path, int sr, int stream, const py::object& pre) {
  std::vector<float> y;
  if (pre.is_none()) {
    py::gil_scoped_release release;
    y = io::load_mono(path, sr, stream);
  } else {
    preprocess::PreprocessConfig pc;
    const auto d = pre.cast<py::dict>();
    for (const auto& [k, v] : d) {
      const auto key = k.cast<std::string>();
      if (key == "trim") {
        pc.trim = as<bool>("preprocess['trim']", v);
      } else if (key == "top_db") {
        pc.top_db = as<double>("preprocess['top_db']", v);
      } else if (key == "frame_length") {
        pc.frame_length = as<int>("preprocess['frame_length']", v);
      } else if (key == "hop_length") {
        pc.hop_length = as<int>("preprocess['hop_length']", v);
      } else if (key == "normalize") {
        pc.normalize = as<std::string>("preprocess['normalize']", v);
      } else if (key == "target_lufs") {
        pc.target_lufs = as<double>("preprocess['target_lufs']", v);
      } else if (key == "peak_db") {
        pc.peak_db = as<double>("preprocess['peak_db']", v);
      } else if (key == "true_peak_db") {
        pc.true_peak_db = as<double>("preprocess['true_peak_db']", v);
      } else {
        throw py::value_error("preprocess: unknown key '" + key +
                              "' (trim, top_db, frame_length, hop_length, normalize, "
                              "target_lufs, peak_db, true_peak_db)");
      }
    }
    pc.sr = sr;
    pc.stream = stream;
    pc.validate();
    py::gil_scoped_release release;
    y = preprocess::process_whole(path, pc);
  }
  const auto n = static_cast<py::ssize_t>(y.size());
  return owned_array(std::move(y), {n});
}

// Y: C-contiguous float32 [batch, n] (checked by the Python layer: finite, shape).
py::dict extract(const features::FeatureConfig& cfg,
                 const py::array_t<float, py::array::c_style>& Y,
                 const std::optional<std::vector<int64_t>>& lengths_in,
                 const std::vector<std::string>& names, bool single, const std::string& device,
                 [[maybe_unused]] bool dlpack_out) {  // used by CUDA builds only
  if (Y.ndim() != 2) throw py::value_error("Y: expected a 2-D array [batch, samples]");
  const int64_t batch = Y.shape(0), n = Y.shape(1);
  std::vector<int64_t> lengths = lengths_in.value_or(std::vector<int64_t>(batch, n));
  if (static_cast<int64_t>(lengths.size()) != batch) {
    throw py::value_error("lengths: " + std::to_string(lengths.size()) + " values for " +
                          std::to_string(batch) + " rows of Y");
  }
  for (size_t b = 0; b < lengths.size(); ++b) {
    if (lengths[b] < 1 || lengths[b] > n) {
      throw py::value_error("lengths[" + std::to_string(b) + "] = " + std::to_string(lengths[b]) +
                            ": must be in [1, " + std::to_string(n) + "]");
    }
  }
  features::FeatureSelection what = selection(names);
  const int64_t shortest = *std::min_element(lengths.begin(), lengths.end());
  // as `hptrain features`: fewer frames than delta.width in interp mode: no deltas, no stats
  if (cfg.delta.mode == "interp" && features::n_frames(cfg, shortest) < cfg.delta.width) {
    what.deltas = what.stats = false;
  }
  const bool gpu = device != "cpu" && gpu_available();
  if (device == "cuda" && !gpu) {
    throw py::value_error("device = 'cuda': no usable CUDA device (or a build without CUDA)");
  }
#ifdef HP_WITH_CUDA
  if (gpu && dlpack_out) return extract_cuda_dlpack(cfg, Y.data(), batch, n, lengths, what);
#endif
  features::FeatureSet fs;
  {
    py::gil_scoped_release release;
#ifdef HP_WITH_CUDA
    if (gpu) {
      cuda::FeatureExtractor ext(cfg, features::feature_tables(cfg),
                                 cfg.fft_precision == "float64");
      fs = ext.extract(Y.data(), batch, n, what, lengths_in ? lengths.data() : nullptr);
    } else {
      fs = extract_ragged(cfg, Y.data(), batch, n, lengths, what);
    }
#else
    fs = extract_ragged(cfg, Y.data(), batch, n, lengths, what);
#endif
  }
  py::dict d;
  for (const Named& o : kOutputs) {
    Tensor3& t = fs.*o.member;
    if (t.batch == 0) continue;
    d[o.name] = to_array(std::move(t), single, o.member == &features::FeatureSet::stats);
  }
  if (!single) {
    std::vector<int64_t> frames(batch);
    for (int64_t b = 0; b < batch; ++b) frames[b] = features::n_frames(cfg, lengths[b]);
    d["n_frames"] = owned_array(std::move(frames), {batch});
  }
  return d;
}

// ---- what `hptrain predict` does to a recording ----------------------------------------------

// The chunks of `path` by the dataset's [preprocess] (trim, normalisation, chunking), as predict
// classifies them: (start_s [n], duration_s [n], audio float32 [n, chunk samples]).
py::tuple chunks(const std::string& path, const std::filesystem::path& dataset_toml, int stream) {
  std::vector<double> starts, durations;
  std::vector<float> audio;
  int64_t n_samples = 0;
  {
    py::gil_scoped_release release;
    preprocess::PreprocessConfig pc = data::load_dataset_config(dataset_toml).preprocess;
    if (stream != -2) pc.stream = stream;  // -2: the dataset's
    preprocess::process_file(path, pc, [&](preprocess::Chunk&& c) {
      n_samples = static_cast<int64_t>(c.samples.size());
      audio.insert(audio.end(), c.samples.begin(), c.samples.end());
      starts.push_back(c.offset_s);
      durations.push_back(c.duration_s);
    });
  }
  const auto n = static_cast<py::ssize_t>(starts.size());
  return py::make_tuple(owned_array(std::move(starts), {n}), owned_array(std::move(durations), {n}),
                        owned_array(std::move(audio), {n, n_samples}));
}

// A model's input for chunks Y [n, samples] by the dataset's [features] (data::input_examples:
// log_mel [n, n_mels, T], mfcc [n, 3 n_mfcc, T], stats [n, D]), on the GPU when one is usable.
py::array_t<float> input_examples(const std::filesystem::path& dataset_toml,
                                  const py::array_t<float, py::array::c_style>& Y,
                                  const std::string& input) {
  if (Y.ndim() != 2) throw py::value_error("Y: expected a 2-D array [chunks, samples]");
  const data::Input in = data::parse_input(input);
  Tensor3 ex;
  {
    py::gil_scoped_release release;
    const auto cfg = data::load_dataset_config(dataset_toml).features;
    features::FeatureSet fs =
        features::extract(cfg, Y.data(), Y.shape(0), Y.shape(1), data::input_features(in));
    ex = data::input_examples(fs, in);
  }
  if (in == data::Input::stats) return owned_array(std::move(ex.data), {ex.batch, ex.frames});
  return owned_array(std::move(ex.data), {ex.batch, ex.rows, ex.frames});
}

// ---- shards -----------------------------------------------------------------------------------

class PyShards {
 public:
  PyShards(const std::filesystem::path& dir, const std::string& split) : ds_(dir, split) {}
  int64_t size() const { return ds_.size(); }
  std::vector<std::string> tasks() const { return ds_.tasks(); }
  std::vector<std::string> classes(const std::string& task) const { return ds_.classes(task); }
  std::vector<int64_t> example_shape(const std::string& input) const {
    return ds_.example_shape(data::parse_input(input));
  }
  py::array_t<int64_t> labels(const std::string& task) const {
    std::vector<int64_t> v = ds_.labels(task);
    const auto n = static_cast<py::ssize_t>(v.size());
    return owned_array(std::move(v), {n});
  }
  std::vector<std::string> stats_columns() const { return ds_.stats_columns(); }
  void set_cache_budget(int64_t bytes) { ds_.set_cache_budget(bytes); }
  // (x [len(indices), *example_shape], {task: int64 [len(indices)]})
  py::tuple get(const std::vector<int64_t>& indices, const std::string& input) const {
    const data::Input in = data::parse_input(input);
    for (const int64_t i : indices) {
      if (i < 0 || i >= ds_.size()) {
        throw py::index_error("index " + std::to_string(i) + " out of range for " +
                              std::to_string(ds_.size()) + " examples");
      }
    }
    data::Batch b;
    {
      py::gil_scoped_release release;
      b = ds_.get(indices, in);
    }
    std::vector<py::ssize_t> shape(b.shape.begin(), b.shape.end());
    py::dict labels;
    for (auto& [task, v] : b.labels) {
      const auto n = static_cast<py::ssize_t>(v.size());
      labels[py::str(task)] = owned_array(std::move(v), {n});
    }
    return py::make_tuple(owned_array(std::move(b.x), shape), labels);
  }

 private:
  data::ShardDataset ds_;
};

// ---- tabular classifiers ----------------------------------------------------------------------

class PyClassifier {
 public:
  explicit PyClassifier(const std::filesystem::path& path)
      : c_(baselines::load_classifier(path)), info_(c_->info().dump()) {
    n_classes_ = c_->n_classes();
    n_features_ = c_->n_features();
  }
  py::array_t<float> predict_proba(const py::array_t<float, py::array::c_style>& X) const {
    if (X.ndim() != 2) throw py::value_error("X: expected a 2-D array [n, features]");
    if (n_features_ > 0 && X.shape(1) != n_features_) {
      throw py::value_error("X: " + std::to_string(X.shape(1)) + " columns; the classifier was " +
                            "fitted on " + std::to_string(n_features_));
    }
    const int64_t n = X.shape(0);
    std::vector<float> out(static_cast<size_t>(n * n_classes_));
    {
      py::gil_scoped_release release;
      c_->predict_proba(X.data(), n, out.data());
    }
    return owned_array(std::move(out), {n, n_classes_});
  }
  std::string name() const { return c_->name(); }
  const std::string& info() const { return info_; }
  int64_t n_classes() const { return n_classes_; }
  int64_t n_features() const { return n_features_; }

 private:
  std::unique_ptr<baselines::TabularClassifier> c_;
  std::string info_;
  int64_t n_classes_ = 0, n_features_ = 0;
};

}  // namespace
}  // namespace hptrain::python

PYBIND11_MODULE(_hptrain, m) {
  using namespace hptrain;
  using namespace hptrain::python;
  m.doc() = "hptrain's C++ core (decoding, features, shards, tabular classifiers)";
  m.attr("__version__") = HP_VERSION;

  // hptrain's errors: what was wrong with the caller's input or configuration -> ValueError;
  // the device -> RuntimeError (MemoryError when it ran out of memory).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const DeviceOutOfMemory& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  py::class_<features::FeatureConfig>(m, "FeatureConfig")
      .def_readonly("sr", &features::FeatureConfig::sr)
      .def("__repr__", &config_text);
  m.def("feature_config", &feature_config, py::arg("preset"), py::arg("overrides"));
  m.def("gpu_available", &gpu_available);
  m.def("load", &load, py::arg("path"), py::arg("sr"), py::arg("stream"), py::arg("preprocess"));
  m.def("extract", &extract, py::arg("cfg"), py::arg("Y"), py::arg("lengths"), py::arg("what"),
        py::arg("single"), py::arg("device"), py::arg("dlpack"));
  m.def("n_frames", &features::n_frames, py::arg("cfg"), py::arg("n_samples"));
  m.def("shards_dir", [](const std::filesystem::path& toml) {
    return data::load_dataset_config(toml).shards_dir();
  });
  m.def("chunks", &chunks, py::arg("path"), py::arg("dataset_toml"), py::arg("stream"));
  m.def("input_examples", &input_examples, py::arg("dataset_toml"), py::arg("Y"), py::arg("input"));
  // ref: cpp/src/train/run_common.cpp data_fingerprint (what run.json's "data" records; the test
  // test_runs.py::test_a_changed_dataset_is_refused holds the two to the same value)
  m.def("data_fingerprint", [](const std::filesystem::path& toml) {
    const data::DatasetConfig d = data::load_dataset_config(toml);
    preprocess::PreprocessConfig p = d.preprocess;
    p.stream = -1;
    features::FeatureConfig f = d.features;
    f.threads = 0;
    std::ostringstream os;
    os << preprocess::to_string(p) << "\n" << f;
    const std::string text = os.str();
    return fs::hex64(fs::fnv1a64(text.data(), text.size()));
  });
  m.def("fnv1a64_hex", [](const py::bytes& b) {
    const std::string_view v = b;
    return fs::hex64(fs::fnv1a64(v.data(), v.size()));
  });

  py::class_<PyShards>(m, "Shards")
      .def(py::init<const std::filesystem::path&, const std::string&>())
      .def("__len__", &PyShards::size)
      .def("tasks", &PyShards::tasks)
      .def("classes", &PyShards::classes)
      .def("example_shape", &PyShards::example_shape)
      .def("labels", &PyShards::labels)
      .def("stats_columns", &PyShards::stats_columns)
      .def("set_cache_budget", &PyShards::set_cache_budget)
      .def("get", &PyShards::get);

  py::class_<PyClassifier>(m, "TabularClassifier")
      .def(py::init<const std::filesystem::path&>())
      .def("predict_proba", &PyClassifier::predict_proba)
      .def_property_readonly("name", &PyClassifier::name)
      .def_property_readonly("info", &PyClassifier::info)
      .def_property_readonly("n_classes", &PyClassifier::n_classes)
      .def_property_readonly("n_features", &PyClassifier::n_features);
}
