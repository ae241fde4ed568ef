// GPU twins of hptrain/features/cpu.h: the same functions and layout ([batch, rows, frames],
// float32, row-major) on device pointers, queued on a caller-given stream, never synchronising.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "hptrain/cuda/resources.h"
#include "hptrain/features/config.h"
#include "hptrain/features/tables.h"
#include "hptrain/features/tuning.h"

namespace hptrain::cuda {

// How the STFT hands frames to cuFFT and takes its output:
// - kernel: a framing kernel writes the windowed frames, cuFFT transforms them into a complex
//   spectrum, the next kernel squares it (frames and spectrum each go through global memory);
// - callbacks: cuFFT's own kernels read each frame value from the audio and write |X|^2 as
//   float32 (LTO callbacks linked at plan time by nvJitLink; cuda/lto), the same values with
//   about a quarter of the memory traffic (float64 FFT) at the price of linking each plan
//   (a shape's first call);
// - radix: no cuFFT: hptrain's own FFT kernel (radix 8, cuda/radix_fft.h) reads each tile of
//   frames' audio into shared memory once, transforms the frames there and writes |X|^2, for
//   a float32 FFT of n_fft 256, 512, 1024 or 2048 (radix_fits); ConfigError otherwise;
// - automatic (the default): radix where it fits, else callbacks where cuFFT can link them,
//   else kernel (with one warning): on an H100 radix is the fastest and the callbacks beat the
//   kernel on large batches (the timings are in bench/results/).
enum class FftFraming { kernel, callbacks, radix, automatic };
// Whether FftFraming::radix takes this STFT (n_fft, hop) with a float32 FFT.
bool radix_fits(const features::StftConfig& cfg);

// What the twins share on one thread: a cuBLAS handle and the cuFFT plans, cached per shape;
// each made at its first use (constructing a Context touches no device).
class Context {
 public:
  explicit Context(FftFraming framing = FftFraming::automatic) : framing_(framing) {}
  cublasHandle_t blas(cudaStream_t stream);  // bound to `stream`
  const FftPlan& fft(const FftKey& key);
  // The STFT's plan of this shape and stream with callbacks, or null where the framing is
  // kernel or radix (or automatic and cuFFT could not link them). Throws CudaError for `callbacks`
  // when cuFFT cannot link them.
  const FftPlan* stft_callback_plan(int n, int64_t rows, bool f64, cudaStream_t stream);
  FftFraming framing() const { return framing_; }

 private:
  FftFraming framing_;
  bool callbacks_failed_ = false;  // automatic: cuFFT could not link them once; kernel since
  std::unique_ptr<BlasHandle> blas_;
  std::map<FftKey, FftPlan> plans_;
};

// librosa's window centred in n_fft (features::FeatureTables::window) on the device: in
// float64 for the float64 FFT (librosa multiplies it into the frames) and rounded to float32 for
// the float32 FFT, whose frames are float32 products.
struct DeviceWindow {
  DeviceBuffer<double> f64;
  DeviceBuffer<float> f32;
  DeviceWindow() = default;
  DeviceWindow(const std::vector<double>& window, cudaStream_t stream);
};

// The tables the twins take, built on the host by the CPU code (features::FeatureTables of
// hptrain/features/tables.h) and uploaded once per configuration.
struct DeviceTables {
  DeviceWindow window;             // [n_fft]
  DeviceBuffer<float> mel_fb;      // [n_mels, 1 + n_fft/2]
  DeviceBuffer<int> mel_range;     // [n_mels, 2]: mel_bin_ranges(mel_fb)
  DeviceBuffer<float> dct;         // [n_mfcc, n_mels], lifter folded in
  DeviceBuffer<double> savgol[2];  // delta orders 1 and 2: [width, width]
  // Chroma banks [kTuningBanks, n_chroma, 1 + n_fft/2] of every tuning estimate_tuning can
  // return (bank i < tuning::kBins: tuning::edge(i); the last: 0.0), uploaded at first use.
  DeviceBuffer<float> chroma_banks;
};
// Banks of DeviceTables::chroma_banks: one per histogram bin, and the "no pitch" tuning 0.0.
using features::kTuningBanks;

// Per-item clip lengths (device, [batch], each in [1, n_samples]) or null when all are
// n_samples. Frames at or past an item's own frame count hold unspecified finite values, and
// are left out of its power_to_db maximum, deltas and statistics.
using Lengths = const int64_t*;

// |librosa.stft(y)|**power [batch, 1 + n_fft/2, T]; the FFT in float64 (librosa's numpy FFT)
// unless fft_f64 is false (float32: faster, contrast valleys then move by up to a few dB).
void stft(Context& ctx, const features::StftConfig& cfg, const DeviceWindow& window,
          const float* audio, Lengths lengths, int64_t batch, int64_t n_samples, float* out,
          double power, cudaStream_t stream, bool fft_f64 = true);

// The STFT's |X| (mag), |X|^2 (power) and |X|^exponent (spec) at once, each when not null.
void stft_spectra(Context& ctx, const features::StftConfig& cfg, const DeviceWindow& window,
                  const float* audio, Lengths lengths, int64_t batch, int64_t n_samples, float* mag,
                  float* power, float* spec, double exponent, cudaStream_t stream,
                  bool fft_f64 = true);

// Each item's largest value over its valid frames, as cuda::power_key (device, [batch], set
// anew by each stft_mel on its stream): stft_mel finds them as it writes the mel spectrogram,
// so that power_to_db and mfcc_from_mel need no pass of their own over it for the top_db floor.
struct ItemMaxima {
  DeviceBuffer<uint32_t> keys;
  ItemMaxima(int64_t batch, cudaStream_t stream);
};

// librosa.feature.melspectrogram(y, power=2) without the power spectrogram in memory: the
// STFT's framing and FFT as stft_spectra, then |X|^2 and the mel product in one kernel (each
// filter summed over its nonzero bins in k order, as the CPU). mel_range: mel_bin_ranges of
// mel_fb, on the device. Needs stft_mel_fits(cfg); out [batch, n_mels, T]. With maxima (of
// `batch` items), each item's largest mel value too.
void stft_mel(Context& ctx, const features::StftConfig& cfg, const DeviceWindow& window,
              const float* audio, Lengths lengths, int64_t batch, int64_t n_samples,
              const float* mel_fb, const int* mel_range, int n_mels, float* out,
              cudaStream_t stream, bool fft_f64 = true, ItemMaxima* maxima = nullptr);
// Whether stft_mel's tile of frames fits shared memory at this n_fft (up to n_fft 24569).
bool stft_mel_fits(const features::StftConfig& cfg);
// Each filter's nonzero bins of a dense bank [n_mels, n_bins] as pairs [first, last + 1)
// ([0, 0) for an all-zero filter).
std::vector<int> mel_bin_ranges(const std::vector<float>& mel_fb, int n_mels, int n_bins);

// out [batch, rows, frames] = bank [rows, cols] @ in [batch, cols, frames] (cuBLAS, float32):
// the mel and chroma filter banks and the DCT of MFCC.
void bank_product(Context& ctx, const float* bank, int rows, int cols, const float* in,
                  int64_t batch, int64_t frames, float* out, cudaStream_t stream);

// librosa.feature.melspectrogram(S=spec): mel_fb @ spec; spec [batch, 1 + n_fft/2, frames].
void mel_spectrogram(Context& ctx, const features::MelConfig& cfg, const float* mel_fb,
                     const float* spec, int64_t batch, int n_bins, int64_t frames, float* out,
                     cudaStream_t stream);

// librosa.power_to_db with the top_db floor from each item's own maximum. out may be in.
// maxima: those stft_mel found while writing `in`, or null (a pass of its own for them).
void power_to_db(const features::DbConfig& cfg, const float* in, int64_t batch, int rows,
                 int64_t frames, Lengths lengths, int64_t n_samples,
                 const features::StftConfig& framing, float* out, cudaStream_t stream,
                 const ItemMaxima* maxima = nullptr);

// librosa.feature.mfcc(S=log_mel): dct @ log_mel.
void mfcc(Context& ctx, const features::MfccConfig& cfg, const float* dct, const float* log_mel,
          int64_t batch, int n_mels, int64_t frames, float* out, cudaStream_t stream);

// librosa.feature.mfcc(S=power_to_db(mel)): power_to_db then mfcc, each as its twin above, the
// DCT taken in power_to_db's second pass: every tile's floored log-mel values go through shared
// memory into the DCT, not through global memory. log_mel [batch, n_mels, frames] is written
// too when not null. maxima: those stft_mel found while writing this mel, or null (a pass of its
// own). n_mels over 372 (a tile too large for shared memory): power_to_db, then mfcc.
void mfcc_from_mel(Context& ctx, const features::DbConfig& db, const features::MfccConfig& cfg,
                   const float* dct, const float* mel, int64_t batch, int n_mels, int64_t frames,
                   Lengths lengths, int64_t n_samples, const features::StftConfig& framing,
                   float* log_mel, float* out, cudaStream_t stream,
                   const ItemMaxima* maxima = nullptr);

// librosa.feature.delta(order) along frames; weights are features' savgol_weights of that order.
void delta(const features::DeltaConfig& cfg, const double* weights, const float* in, int64_t batch,
           int rows, int64_t frames, Lengths lengths, int64_t n_samples,
           const features::StftConfig& framing, float* out, cudaStream_t stream);

// librosa.feature.chroma_stft(S=power_spec) with given banks: banks [n_banks, n_chroma, n_bins]
// on the device; item b uses bank bank_of_item[b] (device, [batch]), or bank 0 for every item
// when bank_of_item is null.
void chroma_stft(Context& ctx, const features::ChromaConfig& cfg, const float* banks,
                 const int* bank_of_item, const float* power_spec, int64_t batch, int n_bins,
                 int64_t frames, float* out, cudaStream_t stream);

// librosa.estimate_tuning(S=power_spec[b], sr, bins_per_octave) of every item over its own
// frames (features::estimate_tuning's twin, the same value bit for bit): tuning [batch]
// (float64, device) and bank [batch] (device; the chroma_banks index of that tuning).
// pip_lo, pip_hi: piptrack's bin range (features::FeatureTables). Queued on `stream`, no sync.
void estimate_tuning(const float* power_spec, int64_t batch, int n_bins, int64_t frames,
                     Lengths lengths, int64_t n_samples, const features::StftConfig& framing,
                     int sr, int pip_lo, int pip_hi, int bins_per_octave, double* tuning, int* bank,
                     cudaStream_t stream);

// Whether spectral_contrast's bands (quantile sizes q, one per band) fit its fast kernel, which
// keeps each thread's q smallest and largest bins in registers: at most Bands::kMax bands and
// q <= Bands::kMaxQ. Other configs take a kernel with the same selection in global-memory
// scratch: slower, the same values.
bool contrast_in_registers(const std::vector<int>& q);

// librosa.feature.spectral_contrast(S=magnitude) [batch, n_bands + 1, frames]; the bands are
// features' contrast_bands (first bin, bin count, quantile size of each); any count and q.
void spectral_contrast(const features::ContrastConfig& cfg, const std::vector<int>& first,
                       const std::vector<int>& count, const std::vector<int>& q,
                       const float* magnitude, int64_t batch, int n_bins, int64_t frames,
                       Lengths lengths, int64_t n_samples, const features::StftConfig& framing,
                       float* out, cudaStream_t stream);

// librosa.feature.zero_crossing_rate(y) and rms(y=y): [batch, 1, frames] of their own framing.
void zero_crossing_rate(const features::ZcrConfig& cfg, const float* audio, Lengths lengths,
                        int64_t batch, int64_t n_samples, float* out, cudaStream_t stream);
void rms(const features::RmsConfig& cfg, const float* audio, Lengths lengths, int64_t batch,
         int64_t n_samples, float* out, cudaStream_t stream);

// features::row_stats of every item over its valid frames of `framing`: out[b * out_stride +
// 2 r] = mean, [... + 2 r + 1] = std, for x [batch, rows, frames].
void row_stats(const float* x, int64_t batch, int rows, int64_t frames, Lengths lengths,
               int64_t n_samples, int frame, int hop, bool center, float* out, int64_t out_stride,
               cudaStream_t stream);

}  // namespace hptrain::cuda
