// The GPU resources the feature twins share (cuda::Context, the tables on the device, the items'
// maxima); the twins themselves are declared beside their CPU twins in their stage's header
// (hptrain/features/stft.h, spectral.h, contrast.h, tuning.h, signal.h, stats.h), included here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "hptrain/cuda/resources.h"
#include "hptrain/features/config.h"
#include "hptrain/features/contrast.h"
#include "hptrain/features/signal.h"
#include "hptrain/features/spectral.h"
#include "hptrain/features/stats.h"
#include "hptrain/features/stft.h"
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
// n_samples: features::Signal::lengths and features::ValidFrames::lengths on the device.
using Lengths = const int64_t*;

// Each item's largest value over its valid frames, as cuda::power_key (device, [batch], set
// anew by each stft_mel on its stream): stft_mel finds them as it writes the mel spectrogram,
// so that power_to_db and mfcc_from_mel need no pass of their own over it for the top_db floor.
struct ItemMaxima {
  DeviceBuffer<uint32_t> keys;
  ItemMaxima(int64_t batch, cudaStream_t stream);
  // keys.data(), checked to hold `batch` items (InputError naming `what`); null for no maxima.
  static uint32_t* keys_of(const ItemMaxima* maxima, int64_t batch, const char* what);
};

}  // namespace hptrain::cuda
