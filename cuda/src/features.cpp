// The GPU twins of hptrain/features/cpu.h: configuration to kernel arguments, cuBLAS products,
// cuFFT on pooled frames and work areas.
#include "hptrain/cuda/features.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "hptrain/cuda/nvtx.h"
#include "hptrain/log.h"
#include "launch.h"
#include "stft_frames.h"

namespace hptrain::cuda {

namespace {

Framing stft_framing(const features::StftConfig& cfg) {
  return Framing{cfg.n_fft, cfg.hop(), cfg.center};
}

ValidFrames valid(Lengths lengths, int64_t n_samples, Framing f) {
  return ValidFrames{lengths, n_samples, f};
}

// Scratch of spectral contrast's global-memory selection: 64 MiB, whatever the batch.
constexpr int64_t kContrastScratchBytes = int64_t{64} << 20;

}  // namespace

DeviceWindow::DeviceWindow(const std::vector<double>& window, cudaStream_t stream)
    : f64(to_device(window, stream)),
      f32(to_device(std::vector<float>(window.begin(), window.end()), stream)) {}

cublasHandle_t Context::blas(cudaStream_t stream) {
  if (!blas_) blas_ = std::make_unique<BlasHandle>();
  HP_CUBLAS_CHECK(cublasSetStream(blas_->get(), stream));
  return blas_->get();
}

const FftPlan& Context::fft(const FftKey& key) {
  auto it = plans_.find(key);
  if (it == plans_.end()) it = plans_.emplace(key, FftPlan(key)).first;
  return it->second;
}

const FftPlan* Context::stft_callback_plan(int n, int64_t rows, bool f64, cudaStream_t stream) {
  if (framing_ == FftFraming::kernel || framing_ == FftFraming::radix || callbacks_failed_) {
    return nullptr;
  }
  const FftKey key{n, rows, f64, true, stream};
  if (framing_ == FftFraming::callbacks) return &fft(key);
  try {
    return &fft(key);
  } catch (const CudaError& e) {
    callbacks_failed_ = true;
    HP_LOG_WARN(
        "cuFFT could not make the STFT's callback plan ({}): the framing kernel from now on",
        e.what());
    return nullptr;
  }
}

namespace {

// The STFT's FFT output, frame-major [batch * T, n_bins], from the pool: |X|^2 from the own FFT
// (radix) or through the context's callback plan, or the complex spectrum (float64 or float32) of
// the frames written by the framing kernel. Empty when no frame.
struct StftOutput {
  DeviceBuffer<char> data;
  detail::FftOut kind = detail::FftOut::power;
  int64_t T = 0;  // frames per item
};

// The STFT's frames as every FFT path reads them (src.T per item), the FFT's precision, and
// whether the own FFT takes them; checked against the GPU STFT's limits, the window's size, and
// an explicit radix framing that cannot take them.
struct StftInput {
  FrameSource src;
  bool f64 = true;
  bool radix = false;
};

StftInput stft_input(const Context& ctx, const features::StftConfig& cfg,
                     const DeviceWindow& window, const float* audio, Lengths lengths, int64_t batch,
                     int64_t n_samples, bool fft_f64) {
  const Framing f = stft_framing(cfg);
  const int64_t T = features::frame_count(f, n_samples, "stft");
  // FrameSource's 32-bit indices within an item
  if (n_samples > std::numeric_limits<int32_t>::max() - 2 * int64_t{cfg.n_fft}) {
    throw InputError("stft: " + std::to_string(n_samples) +
                     " samples per clip; the GPU STFT takes clips of up to 2^31 - 2 n_fft "
                     "samples (37 hours at 16 kHz): cut the audio into chunks");
  }
  // the framing kernel's grid and FrameSource's 32-bit row index
  if (batch * T > std::numeric_limits<int32_t>::max()) {
    throw InputError("stft: " + std::to_string(batch) + " clips of " + std::to_string(T) +
                     " frames; the GPU STFT takes up to 2^31 - 1 frames a call: split the batch");
  }
  if (window.f64.size() != static_cast<size_t>(cfg.n_fft) ||
      window.f32.size() != window.f64.size()) {
    throw InputError("stft: a window of " + std::to_string(window.f64.size()) + " + " +
                     std::to_string(window.f32.size()) + " values for n_fft " +
                     std::to_string(cfg.n_fft) +
                     " (float64 + float32: DeviceWindow of the "
                     "configuration's features::FeatureTables::window)");
  }
  const bool fits = !fft_f64 && radix_fits(cfg);
  if (ctx.framing() == FftFraming::radix && !fits) {
    throw ConfigError(
        "FftFraming::radix: the own FFT takes a float32 FFT of n_fft 256, 512, "
        "1024 or 2048 (stft.n_fft = " +
        std::to_string(cfg.n_fft) + ", hop_length " + std::to_string(cfg.hop()) +
        (fft_f64 ? ", float64 FFT" : "") + "): use callbacks or kernel");
  }
  const int lo = (cfg.n_fft - cfg.win()) / 2;
  return {FrameSource(Signal{audio, lengths, batch, n_samples}, f,
                      features::parse_pad_mode(cfg.pad_mode), window.f64.data(), window.f32.data(),
                      lo, lo + cfg.win()),
          fft_f64,
          fits && (ctx.framing() == FftFraming::radix || ctx.framing() == FftFraming::automatic)};
}

StftOutput stft_fft(Context& ctx, const features::StftConfig& cfg, const StftInput& in,
                    cudaStream_t stream) {
  const FrameSource& src = in.src;
  const bool fft_f64 = in.f64;
  const int64_t T = src.T, rows = src.s.batch * T;
  if (rows == 0) return {};
  const int n_bins = cfg.n_fft / 2 + 1;
  const size_t real = fft_f64 ? sizeof(double) : sizeof(float);
  if (in.radix) {
    StftOutput out{DeviceBuffer<char>(static_cast<size_t>(rows) * n_bins * sizeof(float), stream),
                   detail::FftOut::power, T};
    detail::radix_power(src, reinterpret_cast<float*>(out.data.data()), stream);
    return out;
  }
  // cuFFT's own output: the result with the framing kernel, its scratch with callbacks
  DeviceBuffer<char> fft(static_cast<size_t>(rows) * n_bins * 2 * real, stream);
  if (const FftPlan* plan = ctx.stft_callback_plan(cfg.n_fft, rows, fft_f64, stream)) {
    StftOutput out{DeviceBuffer<char>(static_cast<size_t>(rows) * n_bins * sizeof(float), stream),
                   detail::FftOut::power, T};
    detail::StftCallbackInfo info;
    info.frames = src;
    info.power = reinterpret_cast<float*>(out.data.data());
    detail::set_stft_callback_info(static_cast<detail::StftCallbackInfo*>(plan->callback_info()),
                                   info, stream);
    DeviceBuffer<char> work(plan->work_size(), stream);
    // cuFFT reads no input itself (the load callback does); it gets an aligned pointer anyway
    plan->execute(out.data.data(), fft.data(), work.data(), stream);
    return out;
  }
  const FftPlan& plan = ctx.fft(FftKey{cfg.n_fft, rows, fft_f64});
  DeviceBuffer<char> frames(static_cast<size_t>(rows) * cfg.n_fft * real, stream);
  DeviceBuffer<char> work(plan.work_size(), stream);
  detail::frames(src, rows, fft_f64, frames.data(), stream);
  plan.execute(frames.data(), fft.data(), work.data(), stream);
  return {std::move(fft), fft_f64 ? detail::FftOut::complex128 : detail::FftOut::complex64, T};
}

}  // namespace

void stft_spectra(Context& ctx, const features::StftConfig& cfg, const DeviceWindow& window,
                  const float* audio, Lengths lengths, int64_t batch, int64_t n_samples, float* mag,
                  float* power, float* spec, double exponent, cudaStream_t stream, bool fft_f64) {
  HP_NVTX_RANGE("stft");
  const StftOutput fft = stft_fft(
      ctx, cfg, stft_input(ctx, cfg, window, audio, lengths, batch, n_samples, fft_f64), stream);
  if (fft.data.empty()) return;
  detail::spectrum(fft.data.data(), fft.kind, batch, fft.T, cfg.n_fft / 2 + 1, mag, power, spec,
                   static_cast<float>(exponent), stream);
}

bool radix_fits(const features::StftConfig& cfg) {
  return detail::radix_tile_frames(cfg.n_fft, cfg.hop(), false) >= 1;
}

bool stft_mel_fits(const features::StftConfig& cfg) {
  return detail::mel_tile_frames(cfg.n_fft / 2 + 1) >= 1;
}

std::vector<int> mel_bin_ranges(const std::vector<float>& mel_fb, int n_mels, int n_bins) {
  std::vector<int> range(static_cast<size_t>(2 * n_mels), 0);
  for (int m = 0; m < n_mels; ++m) {
    const float* w = mel_fb.data() + static_cast<size_t>(m) * n_bins;
    int first = n_bins, last = -1;
    for (int k = 0; k < n_bins; ++k) {
      if (w[k] != 0.0f) {
        first = std::min(first, k);
        last = k;
      }
    }
    if (last >= 0) {
      range[2 * m] = first;
      range[2 * m + 1] = last + 1;
    }
  }
  return range;
}

ItemMaxima::ItemMaxima(int64_t batch, cudaStream_t stream)
    : keys(static_cast<size_t>(batch), stream) {}

namespace {

// maxima's keys, checked to be `batch` items'; null for none.
uint32_t* item_keys(const ItemMaxima* maxima, int64_t batch, const char* what) {
  if (maxima == nullptr) return nullptr;
  if (maxima->keys.size() != static_cast<size_t>(batch)) {
    throw InputError(std::string(what) + ": ItemMaxima of " + std::to_string(maxima->keys.size()) +
                     " items for a batch of " + std::to_string(batch));
  }
  return maxima->keys.data();
}

}  // namespace

void stft_mel(Context& ctx, const features::StftConfig& cfg, const DeviceWindow& window,
              const float* audio, Lengths lengths, int64_t batch, int64_t n_samples,
              const float* mel_fb, const int* mel_range, int n_mels, float* out,
              cudaStream_t stream, bool fft_f64, ItemMaxima* maxima) {
  HP_NVTX_RANGE("stft_mel");
  if (!stft_mel_fits(cfg)) {
    throw ConfigError("stft.n_fft = " + std::to_string(cfg.n_fft) +
                      ": too large for the fused mel kernel; use stft_spectra + mel_spectrogram");
  }
  uint32_t* keys = item_keys(maxima, batch, "stft_mel");
  if (keys != nullptr) set_zero(maxima->keys, stream);  // a reused ItemMaxima starts anew
  const StftInput in = stft_input(ctx, cfg, window, audio, lengths, batch, n_samples, fft_f64);
  const ValidFrames v = valid(lengths, n_samples, stft_framing(cfg));
  if (in.radix && detail::radix_tile_frames(cfg.n_fft, cfg.hop(), true) >= 1) {
    // the own FFT sums the mel product from shared memory: no power spectrum in memory
    detail::radix_mel(in.src, mel_fb, mel_range, n_mels, out, keys, v, stream);
    return;
  }
  const StftOutput fft = stft_fft(ctx, cfg, in, stream);
  if (fft.data.empty()) return;
  detail::mel_from_fft(fft.data.data(), fft.kind, batch, fft.T, cfg.n_fft / 2 + 1, mel_fb,
                       mel_range, n_mels, out, keys, v, stream);
}

void stft(Context& ctx, const features::StftConfig& cfg, const DeviceWindow& window,
          const float* audio, Lengths lengths, int64_t batch, int64_t n_samples, float* out,
          double power, cudaStream_t stream, bool fft_f64) {
  float* mag = power == 1.0 ? out : nullptr;
  float* pw = power == 2.0 ? out : nullptr;
  float* spec = mag == nullptr && pw == nullptr ? out : nullptr;
  stft_spectra(ctx, cfg, window, audio, lengths, batch, n_samples, mag, pw, spec, power, stream,
               fft_f64);
}

void bank_product(Context& ctx, const float* bank, int rows, int cols, const float* in,
                  int64_t batch, int64_t frames, float* out, cudaStream_t stream) {
  if (batch == 0 || frames == 0) return;
  // row-major out[b] (rows x frames) = bank (rows x cols) @ in[b] (cols x frames), written as
  // the column-major out[b]^T = in[b]^T bank^T
  const float one = 1.0f, zero = 0.0f;
  HP_CUBLAS_CHECK(cublasSgemmStridedBatched(
      ctx.blas(stream), CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(frames), rows, cols, &one, in,
      static_cast<int>(frames), static_cast<long long>(cols) * frames, bank, cols, 0, &zero, out,
      static_cast<int>(frames), static_cast<long long>(rows) * frames, static_cast<int>(batch)));
}

void mel_spectrogram(Context& ctx, const features::MelConfig& cfg, const float* mel_fb,
                     const float* spec, int64_t batch, int n_bins, int64_t frames, float* out,
                     cudaStream_t stream) {
  HP_NVTX_RANGE("mel");
  bank_product(ctx, mel_fb, cfg.n_mels, n_bins, spec, batch, frames, out, stream);
}

namespace {

// power_to_db's parameters; the subtrahend 10 log10(max(amin, ref)) rounded once to float32 as
// the CPU's.
detail::DbParams db_params(const features::DbConfig& cfg) {
  return {static_cast<float>(cfg.amin),
          static_cast<float>(10.0 * std::log10(std::max(cfg.amin, cfg.ref))),
          cfg.top_db.has_value(), cfg.top_db.value_or(0.0)};
}

}  // namespace

void power_to_db(const features::DbConfig& cfg, const float* in, int64_t batch, int rows,
                 int64_t frames, Lengths lengths, int64_t n_samples,
                 const features::StftConfig& framing, float* out, cudaStream_t stream,
                 const ItemMaxima* maxima) {
  HP_NVTX_RANGE("power_to_db");
  detail::power_to_db(in, out, batch, rows, frames,
                      valid(lengths, n_samples, stft_framing(framing)), db_params(cfg),
                      item_keys(maxima, batch, "power_to_db"), stream);
}

void mfcc_from_mel(Context& ctx, const features::DbConfig& db, const features::MfccConfig& cfg,
                   const float* dct, const float* mel, int64_t batch, int n_mels, int64_t frames,
                   Lengths lengths, int64_t n_samples, const features::StftConfig& framing,
                   float* log_mel, float* out, cudaStream_t stream, const ItemMaxima* maxima) {
  if (!detail::mfcc_from_mel_fits(n_mels)) {
    DeviceBuffer<float> scratch;
    if (log_mel == nullptr) {
      scratch = DeviceBuffer<float>(static_cast<size_t>(batch * n_mels * frames), stream);
      log_mel = scratch.data();
    }
    power_to_db(db, mel, batch, n_mels, frames, lengths, n_samples, framing, log_mel, stream,
                maxima);
    mfcc(ctx, cfg, dct, log_mel, batch, n_mels, frames, out, stream);
    return;
  }
  HP_NVTX_RANGE("mfcc_from_mel");
  detail::mfcc_from_mel(mel, log_mel, out, batch, n_mels, cfg.n_mfcc, frames,
                        valid(lengths, n_samples, stft_framing(framing)), db_params(db),
                        item_keys(maxima, batch, "mfcc_from_mel"), dct, stream);
}

void mfcc(Context& ctx, const features::MfccConfig& cfg, const float* dct, const float* log_mel,
          int64_t batch, int n_mels, int64_t frames, float* out, cudaStream_t stream) {
  HP_NVTX_RANGE("mfcc");
  bank_product(ctx, dct, cfg.n_mfcc, n_mels, log_mel, batch, frames, out, stream);
}

void delta(const features::DeltaConfig& cfg, const double* weights, const float* in, int64_t batch,
           int rows, int64_t frames, Lengths lengths, int64_t n_samples,
           const features::StftConfig& framing, float* out, cudaStream_t stream) {
  HP_NVTX_RANGE("delta");
  detail::delta(in, out, batch, rows, frames, valid(lengths, n_samples, stft_framing(framing)),
                weights, cfg.width, features::parse_delta_mode(cfg.mode), stream);
}

void chroma_stft(Context& ctx, const features::ChromaConfig& cfg, const float* banks,
                 const int* bank_of_item, const float* power_spec, int64_t batch, int n_bins,
                 int64_t frames, float* out, cudaStream_t stream) {
  HP_NVTX_RANGE("chroma");
  if (batch == 0 || frames == 0) return;
  const int nc = cfg.n_chroma;
  if (bank_of_item == nullptr) {
    bank_product(ctx, banks, nc, n_bins, power_spec, batch, frames, out, stream);
  } else {
    // one bank per item: pointer arrays for cublasSgemmBatched, filled on the device
    DeviceBuffer<const float*> ptrs(static_cast<size_t>(3 * batch), stream);
    detail::chroma_pointers(power_spec, banks, bank_of_item, out, batch, n_bins, nc, frames,
                            ptrs.data(), stream);
    const float one = 1.0f, zero = 0.0f;
    HP_CUBLAS_CHECK(cublasSgemmBatched(ctx.blas(stream), CUBLAS_OP_N, CUBLAS_OP_N,
                                       static_cast<int>(frames), nc, n_bins, &one, ptrs.data(),
                                       static_cast<int>(frames), ptrs.data() + batch, n_bins, &zero,
                                       const_cast<float* const*>(ptrs.data() + 2 * batch),
                                       static_cast<int>(frames), static_cast<int>(batch)));
  }
  if (cfg.norm) detail::normalize_columns(out, batch, nc, frames, *cfg.norm, stream);
}

void estimate_tuning(const float* power_spec, int64_t batch, int n_bins, int64_t frames,
                     Lengths lengths, int64_t n_samples, const features::StftConfig& framing,
                     int sr, int pip_lo, int pip_hi, int bins_per_octave, double* tuning, int* bank,
                     cudaStream_t stream) {
  HP_NVTX_RANGE("tuning");
  // ref: features' estimate_tuning_item: bins [max(lo, 1), hi), each against its neighbours
  detail::estimate_tuning(power_spec, batch, n_bins, frames,
                          valid(lengths, n_samples, stft_framing(framing)), sr, framing.n_fft,
                          std::max(pip_lo, 1), pip_hi, bins_per_octave, tuning, bank, stream);
}

bool contrast_in_registers(const std::vector<int>& q) {
  if (static_cast<int>(q.size()) > Bands::kMax) return false;
  return std::all_of(q.begin(), q.end(), [](int v) { return v >= 1 && v <= Bands::kMaxQ; });
}

void spectral_contrast(const features::ContrastConfig& cfg, const std::vector<int>& first,
                       const std::vector<int>& count, const std::vector<int>& q,
                       const float* magnitude, int64_t batch, int n_bins, int64_t frames,
                       Lengths lengths, int64_t n_samples, const features::StftConfig& framing,
                       float* out, cudaStream_t stream) {
  HP_NVTX_RANGE("contrast");
  const int n_bands = static_cast<int>(first.size());
  if (count.size() != first.size() || q.size() != first.size()) {
    throw InputError("spectral_contrast: " + std::to_string(first.size()) + " band starts, " +
                     std::to_string(count.size()) + " counts and " + std::to_string(q.size()) +
                     " quantile sizes");
  }
  const int max_q = q.empty() ? 0 : *std::max_element(q.begin(), q.end());
  if (n_bands == 0 || *std::min_element(q.begin(), q.end()) < 1) {
    throw InputError("spectral_contrast: every band needs a quantile size q >= 1");
  }
  const int64_t n = batch * n_bands * frames;
  DeviceBuffer<float> valley(static_cast<size_t>(n), stream);
  if (contrast_in_registers(q)) {
    Bands bands;
    bands.n = n_bands;
    std::copy(first.begin(), first.end(), bands.first);
    std::copy(count.begin(), count.end(), bands.count);
    std::copy(q.begin(), q.end(), bands.q);
    detail::contrast_select(magnitude, batch, n_bins, frames, bands, valley.data(), out, stream);
  } else {
    // many bands or large q: the same selection with each thread's runs in global memory, at
    // most kContrastScratchBytes of them at a time
    std::vector<int> table(first);
    table.insert(table.end(), count.begin(), count.end());
    table.insert(table.end(), q.begin(), q.end());
    const DeviceBuffer<int> d = to_device(table, stream);
    const int64_t per_thread = 2 * static_cast<int64_t>(max_q) * sizeof(float);
    const int64_t threads =
        std::max<int64_t>(1, std::min<int64_t>(n, kContrastScratchBytes / per_thread));
    DeviceBuffer<float> scratch(static_cast<size_t>(threads * 2 * max_q), stream);
    detail::contrast_select_scratch(magnitude, batch, n_bins, frames, d.data(), d.data() + n_bands,
                                    d.data() + 2 * n_bands, n_bands, max_q, scratch.data(), threads,
                                    valley.data(), out, stream);
  }
  if (!cfg.linear) {
    // ref: librosa spectral_contrast: power_to_db(peak) - power_to_db(valley), librosa's
    // defaults, each floored at its own maximum over the item
    const features::DbConfig defaults;
    power_to_db(defaults, valley.data(), batch, n_bands, frames, lengths, n_samples, framing,
                valley.data(), stream);
    power_to_db(defaults, out, batch, n_bands, frames, lengths, n_samples, framing, out, stream);
  }
  detail::subtract(out, valley.data(), out, n, stream);
}

void zero_crossing_rate(const features::ZcrConfig& cfg, const float* audio, Lengths lengths,
                        int64_t batch, int64_t n_samples, float* out, cudaStream_t stream) {
  HP_NVTX_RANGE("zcr");
  const Framing f{cfg.frame_length, cfg.hop_length, cfg.center};
  // |x| <= threshold in float64 is |x| <= thr for the largest float thr <= threshold
  float thr = static_cast<float>(cfg.threshold);
  if (static_cast<double>(thr) > cfg.threshold) thr = std::nextafter(thr, 0.0f);
  detail::zcr(Signal{audio, lengths, batch, n_samples}, f, thr, cfg.zero_pos,
              features::frame_count(f, n_samples, "zcr"), out, stream);
}

void rms(const features::RmsConfig& cfg, const float* audio, Lengths lengths, int64_t batch,
         int64_t n_samples, float* out, cudaStream_t stream) {
  HP_NVTX_RANGE("rms");
  const Framing f{cfg.frame_length, cfg.hop_length, cfg.center};
  detail::rms(Signal{audio, lengths, batch, n_samples}, f, features::parse_pad_mode(cfg.pad_mode),
              features::frame_count(f, n_samples, "rms"), out, stream);
}

void row_stats(const float* x, int64_t batch, int rows, int64_t frames, Lengths lengths,
               int64_t n_samples, int frame, int hop, bool center, float* out, int64_t out_stride,
               cudaStream_t stream) {
  detail::row_stats(x, batch, rows, frames, valid(lengths, n_samples, Framing{frame, hop, center}),
                    out, out_stride, stream);
}

}  // namespace hptrain::cuda
