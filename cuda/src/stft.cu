// Framing + window (one kernel, float32 or float64 frames for cuFFT) or the same inside cuFFT
// through its LTO callbacks (cuda/lto), then |X|, |X|^2, |X|^p as bin-major spectra (a tiled
// transpose), or |X|^2 straight into the mel product (no power spectrogram in memory); matches
// features' stft_item and bank_product.
#include <cufftXt.h>
#if HP_NVJITLINK
#include <nvJitLink.h>
#endif

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "hptrain/cuda/check.h"
#include "hptrain/cuda/features.h"
#include "hptrain/cuda/loops.h"
#include "hptrain/cuda/nvtx.h"
#include "stft_frames.h"
#include "stft_launch.h"
#include "stft_load_fatbin.h"
#include "stft_store_fatbin.h"

namespace hptrain::cuda::detail {

namespace {

constexpr int kFrameThreads = 256;
constexpr int kTile = 32;
constexpr int kTileRows = 8;

// One block per (item, frame) row; threads over its n_fft values.
template <class T>
__global__ void frames_kernel(FrameSource src, T* out) {
  const uint32_t row = blockIdx.x;
  T* o = out + int64_t{row} * src.f.frame;
  for (int i = threadIdx.x; i < src.f.frame; i += blockDim.x) o[i] = src.row_value<T>(row, i);
}

__global__ void set_info_kernel(StftCallbackInfo* dst, StftCallbackInfo info) {
  *dst = info;
}

// Calls f with the FFT output as a typed pointer: cufftComplex, cufftDoubleComplex or float.
template <class F>
void typed(const void* fft, FftOut kind, F&& f) {
  switch (kind) {
    case FftOut::complex64:
      f(static_cast<const cufftComplex*>(fft));
      break;
    case FftOut::complex128:
      f(static_cast<const cufftDoubleComplex*>(fft));
      break;
    case FftOut::power:
      f(static_cast<const float*>(fft));
      break;
  }
}

// Tiles of 32 frames x 32 bins: read frame-major, write bin-major.
template <class E>
__global__ void spectrum_kernel(const E* fft, int64_t n_frames, int n_bins, float* mag,
                                float* power, float* spec, float exponent) {
  __shared__ float tile[kTile][kTile + 1];
  const int64_t t0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int k0 = blockIdx.y * kTile;
  const int64_t b = blockIdx.z;
  for (int r = threadIdx.y; r < kTile; r += kTileRows) {
    const int64_t t = t0 + r;
    const int k = k0 + threadIdx.x;
    if (t < n_frames && k < n_bins)
      tile[r][threadIdx.x] = power_of(fft[(b * n_frames + t) * n_bins + k]);
  }
  __syncthreads();
  for (int r = threadIdx.y; r < kTile; r += kTileRows) {
    const int k = k0 + r;
    const int64_t t = t0 + threadIdx.x;
    if (t >= n_frames || k >= n_bins) continue;
    const float p = tile[threadIdx.x][r];
    const int64_t at = (b * n_bins + k) * n_frames + t;
    if (power != nullptr) power[at] = p;
    const float m = sqrtf(p);
    if (mag != nullptr) mag[at] = m;
    if (spec != nullptr) spec[at] = powf(m, exponent);
  }
}

// Values [0, n) of x into shared memory sh, returning where x[0] landed. The callbacks' float32
// |X|^2 goes by 16-byte vectors, 4 values a load instead of 1 (with scalar loads one at a time
// the mel kernel ran at 43 % of an H100's DRAM bandwidth): from the aligned address at or below x,
// which is in the same pool allocation (256-byte aligned), `head` (0 to 3) values before x
// first, the last (head + n) % 4 values one by one. Complex values go one by one as |X|^2.
template <class E>
__device__ int load_power(const E* x, int n, float* sh) {
  if constexpr (std::is_same_v<E, float>) {
    const int head = static_cast<int>(reinterpret_cast<uintptr_t>(x) / sizeof(float) % 4);
    const float* a = x - head;
    const int total = head + n, vectors = total / 4;
    const auto* a4 = reinterpret_cast<const float4*>(a);
    auto* sh4 = reinterpret_cast<float4*>(sh);
    grouped_loads(
        threadIdx.x, vectors, blockDim.x, [a4](int64_t i) { return load_global(a4 + i); },
        [sh4](int64_t i, const float4& v) { sh4[i] = v; });
    for (int i = 4 * vectors + static_cast<int>(threadIdx.x); i < total; i += blockDim.x) {
      sh[i] = load_global(a + i);
    }
    return head;
  } else {
    grouped_loads(
        threadIdx.x, n, blockDim.x, [x](int64_t i) { return x[i]; },
        [sh](int64_t i, const E& v) { sh[i] = power_of(v); });
    return 0;
  }
}

// One block per tile of `tile` frames of one item: the tile's |X|^2 in shared memory (frame-
// major; conflict-free for odd n_bins, n_fft a multiple of 4), then out[b, m, t] = sum over filter
// m's bins k in [range[2m], range[2m + 1]) of fb[m, k] |X[t, k]|^2 in k order, without FMA, as the
// CPU's bank_product sums the same float32 terms; with item_max, the largest over the tile's valid
// frames by warp (shuffles, then one atomicMax of its power_key per warp).
template <class E>
__global__ void mel_kernel(const E* fft, int64_t n_frames, int n_bins, int tile,
                           int64_t tiles_per_item, const float* fb, const int* range, int n_mels,
                           float* out, uint32_t* item_max, ValidFrames v) {
  extern __shared__ float4 shared[];  // [kMelHead + tile n_bins] floats, 16-byte aligned
  const int64_t b = blockIdx.x / tiles_per_item;
  const int64_t t0 = (blockIdx.x - b * tiles_per_item) * tile;
  const int frames = static_cast<int>(n_frames - t0 < tile ? n_frames - t0 : tile);
  float* sh = reinterpret_cast<float*>(shared);
  const float* power = sh + load_power(fft + (b * n_frames + t0) * n_bins, frames * n_bins, sh);
  __syncthreads();
  const int64_t valid = item_max != nullptr ? v(b) - t0 : 0;  // the tile's frames of the item's own
  uint32_t key = 0;                                           // the largest valid value's (0: none)
  mel_rows(fb, range, n_mels, n_bins, power, n_bins, tile, frames, out + b * n_mels * n_frames + t0,
           n_frames, valid, key);
  if (item_max != nullptr) warp_max_into(key, item_max + b);
}

}  // namespace

int mel_tile_frames(int n_bins) {
  const int tile = static_cast<int>((kMelSharedBytes / sizeof(float) - kMelHead) / n_bins);
  return tile < kTile ? tile : kTile;
}

void mel_from_fft(const void* fft, FftOut kind, int64_t batch, int64_t T, int n_bins,
                  const float* mel_fb, const int* range, int n_mels, float* out, uint32_t* item_max,
                  ValidFrames v, cudaStream_t stream) {
  const int tile = mel_tile_frames(n_bins);
  const int64_t tiles = (T + tile - 1) / tile;
  if (batch * tiles == 0) return;
  const unsigned blocks = static_cast<unsigned>(batch * tiles);
  const size_t shared = sizeof(float) * (kMelHead + static_cast<size_t>(tile) * n_bins);
  typed(fft, kind, [&](auto x) {
    mel_kernel<<<blocks, kFrameThreads, shared, stream>>>(x, T, n_bins, tile, tiles, mel_fb, range,
                                                          n_mels, out, item_max, v);
  });
  HP_CHECK_LAUNCH();
}

void frames(const FrameSource& src, int64_t rows, bool f64, void* out, cudaStream_t stream) {
  if (rows == 0) return;
  if (f64) {
    frames_kernel<<<static_cast<unsigned>(rows), kFrameThreads, 0, stream>>>(
        src, static_cast<double*>(out));
  } else {
    frames_kernel<<<static_cast<unsigned>(rows), kFrameThreads, 0, stream>>>(
        src, static_cast<float*>(out));
  }
  HP_CHECK_LAUNCH();
}

void set_stft_callbacks(cufftHandle plan, bool f64, void** info) {
#if HP_NVJITLINK
  unsigned major = 0, minor = 0;
  if (nvJitLinkVersion(&major, &minor) != NVJITLINK_SUCCESS) {
    throw CudaError(
        "nvJitLinkVersion: nvJitLink, which cuFFT needs to link the STFT's callbacks, "
        "does not answer");
  }
  HP_CUFFT_CHECK(cufftXtSetJITCallback(plan, f64 ? "hp_stft_load_d" : "hp_stft_load_r",
                                       hp_stft_load_fatbin, sizeof hp_stft_load_fatbin,
                                       f64 ? CUFFT_CB_LD_REAL_DOUBLE : CUFFT_CB_LD_REAL, info));
  HP_CUFFT_CHECK(cufftXtSetJITCallback(
      plan, f64 ? "hp_stft_store_z" : "hp_stft_store_c", hp_stft_store_fatbin,
      sizeof hp_stft_store_fatbin, f64 ? CUFFT_CB_ST_COMPLEX_DOUBLE : CUFFT_CB_ST_COMPLEX, info));
#else
  (void)plan, (void)f64, (void)info;
  throw CudaError(
      "hp_cuda was built without nvJitLink (none in the CUDA toolkit's library "
      "folder): cuFFT cannot link the STFT's callbacks; use FftFraming::kernel");
#endif
}

void set_stft_callback_info(StftCallbackInfo* dst, const StftCallbackInfo& info,
                            cudaStream_t stream) {
  set_info_kernel<<<1, 1, 0, stream>>>(dst, info);
  HP_CHECK_LAUNCH();
}

void spectrum(const void* fft, FftOut kind, int64_t batch, int64_t T, int n_bins, float* mag,
              float* power, float* spec, float exponent, cudaStream_t stream) {
  constexpr int64_t kMaxGridZ = 65535;
  const dim3 block(kTile, kTileRows);
  for (int64_t b0 = 0; b0 < batch && T > 0; b0 += kMaxGridZ) {
    const int64_t nb = batch - b0 < kMaxGridZ ? batch - b0 : kMaxGridZ;
    const int64_t at = b0 * n_bins * T;  // the same offset in the FFT output and the spectra
    auto shift = [at](float* p) { return p != nullptr ? p + at : nullptr; };
    const dim3 grid(static_cast<unsigned>((T + kTile - 1) / kTile), (n_bins + kTile - 1) / kTile,
                    static_cast<unsigned>(nb));
    typed(fft, kind, [&](auto x) {
      spectrum_kernel<<<grid, block, 0, stream>>>(x + at, T, n_bins, shift(mag), shift(power),
                                                  shift(spec), exponent);
    });
    HP_CHECK_LAUNCH();
  }
}

}  // namespace hptrain::cuda::detail

namespace hptrain::cuda {

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
                     const DeviceWindow& window, const Signal& audio, bool fft_f64) {
  const Framing f = features::stft_framing(cfg);
  const int64_t batch = audio.batch, n_samples = audio.n_samples;
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
  return {FrameSource(audio, f, features::parse_pad_mode(cfg.pad_mode), window.f64.data(),
                      window.f32.data(), lo, lo + cfg.win()),
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
                  const Signal& audio, float* mag, float* power, float* spec, double exponent,
                  cudaStream_t stream, bool fft_f64) {
  HP_NVTX_RANGE("stft");
  const StftOutput fft = stft_fft(ctx, cfg, stft_input(ctx, cfg, window, audio, fft_f64), stream);
  if (fft.data.empty()) return;
  detail::spectrum(fft.data.data(), fft.kind, audio.batch, fft.T, cfg.n_fft / 2 + 1, mag, power,
                   spec, static_cast<float>(exponent), stream);
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

void stft_mel(Context& ctx, const features::StftConfig& cfg, const DeviceWindow& window,
              const Signal& audio, const float* mel_fb, const int* mel_range, int n_mels,
              float* out, cudaStream_t stream, bool fft_f64, ItemMaxima* maxima) {
  HP_NVTX_RANGE("stft_mel");
  if (!stft_mel_fits(cfg)) {
    throw ConfigError("stft.n_fft = " + std::to_string(cfg.n_fft) +
                      ": too large for the fused mel kernel; use stft_spectra + mel_spectrogram");
  }
  uint32_t* keys = ItemMaxima::keys_of(maxima, audio.batch, "stft_mel");
  if (keys != nullptr) set_zero(maxima->keys, stream);  // a reused ItemMaxima starts anew
  const StftInput in = stft_input(ctx, cfg, window, audio, fft_f64);
  const ValidFrames v{audio.lengths, audio.n_samples, features::stft_framing(cfg)};
  if (in.radix && detail::radix_tile_frames(cfg.n_fft, cfg.hop(), true) >= 1) {
    // the own FFT sums the mel product from shared memory: no power spectrum in memory
    detail::radix_mel(in.src, mel_fb, mel_range, n_mels, out, keys, v, stream);
    return;
  }
  const StftOutput fft = stft_fft(ctx, cfg, in, stream);
  if (fft.data.empty()) return;
  detail::mel_from_fft(fft.data.data(), fft.kind, audio.batch, fft.T, cfg.n_fft / 2 + 1, mel_fb,
                       mel_range, n_mels, out, keys, v, stream);
}

void stft(Context& ctx, const features::StftConfig& cfg, const DeviceWindow& window,
          const Signal& audio, float* out, double power, cudaStream_t stream, bool fft_f64) {
  float* mag = power == 1.0 ? out : nullptr;
  float* pw = power == 2.0 ? out : nullptr;
  float* spec = mag == nullptr && pw == nullptr ? out : nullptr;
  stft_spectra(ctx, cfg, window, audio, mag, pw, spec, power, stream, fft_f64);
}

}  // namespace hptrain::cuda
