// The GPU feature extractor: the stages of features::extract as twins on one stream, the
// intermediates from the pool, only the selected outputs kept.
#include "hptrain/cuda/extract.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "hptrain/cuda/framing.h"
#include "hptrain/cuda/nvtx.h"
#include "hptrain/features/plan.h"

namespace hptrain::cuda {

namespace {

void download(const DeviceBuffer<float>& d, int64_t batch, const features::OutputShape& shape,
              Tensor3& out, cudaStream_t stream) {
  if (d.empty()) return;
  out = Tensor3(batch, shape.rows, shape.frames);
  HP_CUDA_CHECK(cudaMemcpyAsync(out.data.data(), d.data(), d.size() * sizeof(float),
                                cudaMemcpyDeviceToHost, stream));
}

}  // namespace

FeatureExtractor::FeatureExtractor(const features::FeatureConfig& cfg,
                                   std::shared_ptr<const features::FeatureTables> tables,
                                   bool fft_f64, FftFraming framing)
    : cfg_(cfg), tables_(std::move(tables)), fft_f64_(fft_f64), ctx_(framing) {
  const cudaStream_t s = stream_.get();
  const features::FeatureTables& t = *tables_;
  dev_.window = DeviceWindow(t.window, s);
  dev_.mel_fb = to_device(t.mel_fb, s);
  dev_.mel_range = to_device(mel_bin_ranges(t.mel_fb, cfg.mel.n_mels, cfg.stft.n_fft / 2 + 1), s);
  dev_.dct = to_device(t.dct, s);
  dev_.savgol[0] = to_device(t.savgol[0], s);
  dev_.savgol[1] = to_device(t.savgol[1], s);
}

const float* FeatureExtractor::chroma_bank() {
  if (chroma_fixed_.empty()) chroma_fixed_ = to_device(tables_->chroma_fixed, stream());
  return chroma_fixed_.data();
}

const float* FeatureExtractor::tuning_banks() {
  if (dev_.chroma_banks.empty()) dev_.chroma_banks = to_device(tables_->chroma_banks, stream());
  return dev_.chroma_banks.data();
}

DeviceFeatures FeatureExtractor::run(const float* audio, const int64_t* lengths, int64_t batch,
                                     int64_t n_samples, const features::FeatureSelection& what) {
  HP_NVTX_RANGE("features");
  const cudaStream_t s = stream();
  const features::FeatureConfig& c = cfg_;
  if (batch < 0) throw InputError("extract: batch = " + std::to_string(batch) + ": must be >= 0");
  int64_t shortest = n_samples;
  for (int64_t b = 0; lengths != nullptr && b < batch; ++b) {
    if (lengths[b] < 1 || lengths[b] > n_samples) {
      throw InputError("extract: item " + std::to_string(b) + " has length " +
                       std::to_string(lengths[b]) + ": must be in [1, " +
                       std::to_string(n_samples) + "]");
    }
    shortest = std::min(shortest, lengths[b]);
  }
  const features::ExtractPlan x = features::plan_extraction(c, what, n_samples, shortest);
  const features::FeatureNeeds& need = x.need;
  const int64_t T = x.frames;
  const int F = x.n_bins;
  const int n_mels = x.n_mels, n_mfcc = x.n_mfcc, n_chroma = x.n_chroma;
  const int n_bands = x.n_bands;

  DeviceFeatures out;
  out.batch = batch;
  out.frames = T;
  out.zcr_frames = x.zcr_frames;
  out.rms_frames = x.rms_frames;
  std::vector<DeviceBuffer<float>> scratch;  // intermediates not selected: back to the pool
  auto buffer = [&](bool keep, DeviceBuffer<float>& slot, int64_t rows, int64_t frames) {
    DeviceBuffer<float> d(static_cast<size_t>(batch * rows * frames), s);
    float* p = d.data();
    (keep ? slot : scratch.emplace_back()) = std::move(d);
    return p;
  };
  DeviceBuffer<int64_t> dlen;
  if (lengths != nullptr) dlen = to_device(std::vector<int64_t>(lengths, lengths + batch), s);
  const Lengths L = dlen.data();
  if (batch == 0) return out;
  const Signal clips{audio, L, batch, n_samples};
  // an STFT-framed output of `rows` rows on the device
  const ValidFrames stft_valid{L, n_samples, x.stft};
  auto frames = [&](const float* p, int rows) {
    return features::FrameBatch{p, batch, rows, T, stft_valid};
  };

  // |X|^2 only for the mel product: fused into it, no power spectrogram in memory
  const bool fused_mel =
      need.mel && c.mel.power == 2.0 && !need.mag && !need.chroma && stft_mel_fits(c.stft);
  DeviceBuffer<float> unused;
  float* mag = need.mag ? buffer(what.stft_mag, out.stft_mag, F, T) : nullptr;
  float* power = need.power && !fused_mel ? buffer(false, unused, F, T) : nullptr;
  const bool other_power = need.mel && c.mel.power != 1.0 && c.mel.power != 2.0;
  float* spec = other_power ? buffer(false, unused, F, T) : nullptr;
  if (mag != nullptr || power != nullptr) {
    stft_spectra(ctx_, c.stft, dev_.window, clips, mag, power, spec, c.mel.power, s, fft_f64_);
  }
  float* mfcc_p = nullptr;
  if (need.mel) {
    // ref: librosa melspectrogram: mel_basis @ |D|**power
    float* mel = buffer(what.melspectrogram, out.melspectrogram, n_mels, T);
    // the items' maxima for power_to_db found by the mel kernel: no pass of its own
    std::optional<ItemMaxima> found;
    if (fused_mel && (need.mfcc || need.log_mel) && c.db.top_db) found.emplace(batch, s);
    ItemMaxima* maxima = found ? &*found : nullptr;
    if (fused_mel) {
      stft_mel(ctx_, c.stft, dev_.window, clips, dev_.mel_fb.data(), dev_.mel_range.data(), n_mels,
               mel, s, fft_f64_, maxima);
    } else {
      const float* sp = c.mel.power == 2.0 ? power : c.mel.power == 1.0 ? mag : spec;
      mel_spectrogram(ctx_, c.mel, dev_.mel_fb.data(), frames(sp, F), mel, s);
    }
    if (need.mfcc) {
      // the log-mel spectrogram written only when selected: otherwise it stays on chip
      float* lm = what.log_mel ? buffer(true, out.log_mel, n_mels, T) : nullptr;
      mfcc_p = buffer(what.mfcc, out.mfcc, n_mfcc, T);
      mfcc_from_mel(ctx_, c.db, c.mfcc, dev_.dct.data(), frames(mel, n_mels), lm, mfcc_p, s,
                    maxima);
    } else if (need.log_mel) {
      power_to_db(c.db, frames(mel, n_mels), buffer(what.log_mel, out.log_mel, n_mels, T), s,
                  maxima);
    }
  }
  float* d[2] = {nullptr, nullptr};
  if (need.deltas) {
    d[0] = buffer(what.deltas, out.mfcc_delta, n_mfcc, T);
    d[1] = buffer(what.deltas, out.mfcc_delta2, n_mfcc, T);
    for (int order = 0; order < 2; ++order) {
      delta({c.delta, order + 1}, dev_, frames(mfcc_p, n_mfcc), d[order], s);
    }
  }
  float* chroma = nullptr;
  if (need.chroma) {
    chroma = buffer(what.chroma, out.chroma_stft, n_chroma, T);
    if (c.chroma.tuning) {
      out.tuning = to_device(std::vector<double>(static_cast<size_t>(batch), *c.chroma.tuning), s);
      chroma_stft(ctx_, c.chroma, chroma_bank(), nullptr, frames(power, F), chroma, s);
    } else {
      // ref: librosa chroma_stft: estimate_tuning(S=|D|**2) per item, then that tuning's bank
      out.tuning = DeviceBuffer<double>(static_cast<size_t>(batch), s);
      DeviceBuffer<int> bank(static_cast<size_t>(batch), s);
      estimate_tuning(frames(power, F), c.sr, tables_->pip_lo, tables_->pip_hi, n_chroma,
                      out.tuning.data(), bank.data(), s);
      chroma_stft(ctx_, c.chroma, tuning_banks(), bank.data(), frames(power, F), chroma, s);
    }
  }
  float* contrast = nullptr;
  if (need.contrast) {
    contrast = buffer(what.contrast, out.spectral_contrast, n_bands, T);
    spectral_contrast(c.contrast, tables_->bands, frames(mag, F), contrast, s);
  }
  float* zcr_p = need.zcr ? buffer(what.zcr, out.zcr, 1, out.zcr_frames) : nullptr;
  if (need.zcr) zero_crossing_rate(c.zcr, clips, zcr_p, s);
  float* rms_p = need.rms ? buffer(what.rms, out.rms, 1, out.rms_frames) : nullptr;
  if (need.rms) rms(c.rms, clips, rms_p, s);
  if (need.stats) {
    HP_NVTX_RANGE("stats");
    using features::Output;
    float* o = buffer(true, out.stats, 1, x.n_stats);
    std::array<const float*, static_cast<size_t>(Output::count)> pooled{};
    pooled[static_cast<size_t>(Output::mfcc)] = mfcc_p;
    pooled[static_cast<size_t>(Output::mfcc_delta)] = d[0];
    pooled[static_cast<size_t>(Output::mfcc_delta2)] = d[1];
    pooled[static_cast<size_t>(Output::chroma_stft)] = chroma;
    pooled[static_cast<size_t>(Output::spectral_contrast)] = contrast;
    pooled[static_cast<size_t>(Output::zcr)] = zcr_p;
    pooled[static_cast<size_t>(Output::rms)] = rms_p;
    for (const features::StatsBlock& b : x.stats_blocks) {
      const features::FrameBatch pooled_rows{pooled[static_cast<size_t>(b.source)], batch, b.rows,
                                             x.frames_of(b),
                                             ValidFrames{L, n_samples, x.framing_of(b)}};
      row_stats(pooled_rows, o, x.n_stats, s);
      o += 2 * b.rows;
    }
  }
  return out;
}

features::FeatureSet FeatureExtractor::extract(const float* audio, int64_t batch, int64_t n_samples,
                                               const features::FeatureSelection& what,
                                               const int64_t* lengths) {
  const cudaStream_t s = stream();
  features::FeatureSet fs;
  try {
    DeviceBuffer<float> y(static_cast<size_t>(std::max<int64_t>(batch, 0) * n_samples), s);
    if (!y.empty()) {
      HP_CUDA_CHECK(
          cudaMemcpyAsync(y.data(), audio, y.size() * sizeof(float), cudaMemcpyHostToDevice, s));
    }
    const DeviceFeatures d = run(y.data(), lengths, batch, n_samples, what);
    // run() checked the clips: planned for their row length, the same shapes
    const features::ExtractPlan x = features::plan_extraction(cfg_, what, n_samples, n_samples);
    using features::Output;
    download(d.stft_mag, batch, x.shape(Output::stft_mag), fs.stft_mag, s);
    download(d.melspectrogram, batch, x.shape(Output::melspectrogram), fs.melspectrogram, s);
    download(d.log_mel, batch, x.shape(Output::log_mel), fs.log_mel, s);
    download(d.mfcc, batch, x.shape(Output::mfcc), fs.mfcc, s);
    download(d.mfcc_delta, batch, x.shape(Output::mfcc_delta), fs.mfcc_delta, s);
    download(d.mfcc_delta2, batch, x.shape(Output::mfcc_delta2), fs.mfcc_delta2, s);
    download(d.chroma_stft, batch, x.shape(Output::chroma_stft), fs.chroma_stft, s);
    download(d.spectral_contrast, batch, x.shape(Output::spectral_contrast), fs.spectral_contrast,
             s);
    download(d.zcr, batch, x.shape(Output::zcr), fs.zcr, s);
    download(d.rms, batch, x.shape(Output::rms), fs.rms, s);
    download(d.stats, batch, x.shape(Output::stats), fs.stats, s);
    fs.tuning.resize(d.tuning.size());
    if (!d.tuning.empty()) {
      HP_CUDA_CHECK(cudaMemcpyAsync(fs.tuning.data(), d.tuning.data(),
                                    d.tuning.size() * sizeof(double), cudaMemcpyDeviceToHost, s));
    }
    stream_.synchronize();
  } catch (const DeviceOutOfMemory& e) {
    throw DeviceOutOfMemory(std::string(e.what()) + " (batch " + std::to_string(batch) + ")");
  }
  return fs;
}

features::FeatureSet extract(const features::FeatureConfig& cfg,
                             const std::shared_ptr<const features::FeatureTables>& tables,
                             const float* audio, int64_t batch, int64_t n_samples,
                             const features::FeatureSelection& what) {
  // keyed by the tables (one per config); an extractor holds its tables, so a key never dangles
  thread_local std::map<const features::FeatureTables*, std::unique_ptr<FeatureExtractor>> cache;
  auto it = cache.find(tables.get());
  if (it == cache.end()) {
    if (cache.size() >= 16) cache.clear();
    // [features] fft_precision: float32 takes the own FFT where it fits (FftFraming::automatic)
    it = cache
             .emplace(tables.get(), std::make_unique<FeatureExtractor>(
                                        cfg, tables, cfg.fft_precision == "float64"))
             .first;
  }
  return it->second->extract(audio, batch, n_samples, what);
}

}  // namespace hptrain::cuda
