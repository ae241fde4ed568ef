// hptrain._hptrain: features::extract on a batch of clips (CPU threads, or cuda::FeatureExtractor
// with DLPack hand-over), n_frames, gpu_available, and a model's input as `hptrain predict` makes
// it.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "dlpack_capsule.h"
#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/device.h"
#include "hptrain/features/config.h"
#include "hptrain/features/extract.h"

#ifdef HP_WITH_CUDA
#include <cuda_runtime.h>

#include "hptrain/cuda/check.h"
#include "hptrain/cuda/extract.h"
#include "hptrain/cuda/resources.h"
#include "hptrain/features/tables.h"
#endif

namespace hptrain::python {
namespace {

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

}  // namespace

void bind_features(py::module_& m) {
  m.def("gpu_available", &gpu_available);
  m.def("extract", &extract, py::arg("cfg"), py::arg("Y"), py::arg("lengths"), py::arg("what"),
        py::arg("single"), py::arg("device"), py::arg("dlpack"));
  m.def("n_frames", &features::n_frames, py::arg("cfg"), py::arg("n_samples"));
  m.def("input_examples", &input_examples, py::arg("dataset_toml"), py::arg("Y"), py::arg("input"));
}

}  // namespace hptrain::python
