// Launchers of the feature kernels (private to hp_cuda): plain arguments, device pointers, one
// stream; each checks cudaGetLastError after its launch. Layout [batch, rows, frames], float32.
#pragma once

#include <cuda_runtime.h>
#include <cufft.h>

#include <cstdint>

#include "hptrain/cuda/framing.h"

namespace hptrain::cuda::detail {

struct StftCallbackInfo;  // stft_frames.h

// Windowed frames of the padded clips (FrameSource's values), one row of n_fft values per
// (item, frame), float32 or float64 (`f64`), packed.
void frames(const FrameSource& src, int64_t rows, bool f64, void* out, cudaStream_t stream);

// Associates the STFT's load and store callbacks (cuda/lto, for a float64 or float32 FFT) with
// a cuFFT plan before it is made; `info` points to the device address of its StftCallbackInfo.
// Throws CudaError when cuFFT or nvJitLink cannot take them.
void set_stft_callbacks(cufftHandle plan, bool f64, void** info);
// Sets a plan's callback arguments, in order on `stream` (no host memory involved).
void set_stft_callback_info(StftCallbackInfo* dst, const StftCallbackInfo& info,
                            cudaStream_t stream);

// |X|^2 of every frame of src (FrameSource's float32 values) by the STFT's own FFT
// (radix::Passes), frame-major [batch * T, n_fft/2 + 1] as the callbacks' FftOut::power. Needs
// radix_tile_frames(n_fft, hop, false) >= 1.
void radix_power(const FrameSource& src, float* power, cudaStream_t stream);
// The same FFT with |X|^2 summed into the mel product in shared memory, as mel_from_fft sums it
// (filter m over its bins [range[2m], range[2m + 1]) in k order, without FMA; out [batch, n_mels,
// T]; with item_max, each item's largest value over its valid frames v, atomicMax of power_key
// into item_max[b], zeroed before). Needs radix_tile_frames(n_fft, hop, true) >= 1.
void radix_mel(const FrameSource& src, const float* mel_fb, const int* range, int n_mels,
               float* out, uint32_t* item_max, ValidFrames v, cudaStream_t stream);
// Frames a block of radix_power (or, `mel`, of radix_mel) takes: up to 32, as many as its shared
// memory allows within kRadixSharedBytes; 0 where it cannot: n_fft not one of 256, 512, 1024,
// 2048, or a hop too long for a tile in shared memory.
constexpr size_t kRadixSharedBytes = 48 * 1024;  // the default dynamic shared-memory limit
int radix_tile_frames(int n_fft, int hop, bool mel);

// What an STFT transform leaves, frame-major [batch * T, n_bins]: cuFFT's complex output in
// float32 or float64, or |X|^2 in float32 from the store callback.
enum class FftOut : int { complex64, complex128, power };

// From the FFT's frame-major output to bin-major [batch, n_bins, T]: |X| (mag), |X|^2 (power)
// and |X|^exponent (spec), each written when not null.
void spectrum(const void* fft, FftOut kind, int64_t batch, int64_t T, int n_bins, float* mag,
              float* power, float* spec, float exponent, cudaStream_t stream);

// |X|^2 of the FFT's frame-major output straight into the mel product
// out [batch, n_mels, T] = mel_fb [n_mels, n_bins] @ |X|^2, filter m summed over its nonzero
// bins [range[2m], range[2m + 1]) (device) in k order, tiles of frames in shared memory. When
// item_max is not null: each item's largest value over its valid frames (v) as power_key,
// atomicMax into item_max[b] (zeroed before). Needs mel_tile_frames(n_bins) >= 1.
void mel_from_fft(const void* fft, FftOut kind, int64_t batch, int64_t T, int n_bins,
                  const float* mel_fb, const int* range, int n_mels, float* out, uint32_t* item_max,
                  ValidFrames v, cudaStream_t stream);
// Frames per tile of mel_from_fft: as many (up to 32) as fit kMelSharedBytes after the kMelHead
// floats its aligned loads may bring first; 0 when not one.
constexpr size_t kMelSharedBytes = 48 * 1024;  // the default dynamic shared-memory limit
constexpr size_t kMelHead = 3;
int mel_tile_frames(int n_bins);

// librosa.power_to_db per item: 10 log10(max(amin, x)) - sub, floored at the item's own maximum
// over its valid frames minus top_db (when has_top_db).
struct DbParams {
  float amin = 0, sub = 0;
  bool has_top_db = false;
  double top_db = 0;
};

// power_to_db of in to out (out may be in). Blocks of 32 frames of an item: one pass for the
// items' maxima (atomicMax; none when item_max, as mel_from_fft finds them, is given), one for
// the values.
void power_to_db(const float* in, float* out, int64_t batch, int rows, int64_t T, ValidFrames v,
                 const DbParams& db, const uint32_t* item_max, cudaStream_t stream);
// MFCC from the mel spectrogram with power_to_db's passes: each tile's floored values go through
// shared memory into out [batch, n_mfcc, T] = dct [n_mfcc, n_mels] @ log_mel; log_mel written
// when not null. item_max: the items' maxima as mel_from_fft finds them (no pass for them
// here), or null. Needs mfcc_from_mel_fits(n_mels).
bool mfcc_from_mel_fits(int n_mels);
void mfcc_from_mel(const float* mel, float* log_mel, float* out, int64_t batch, int n_mels,
                   int n_mfcc, int64_t T, ValidFrames v, const DbParams& db,
                   const uint32_t* item_max, const float* dct, cudaStream_t stream);

// Savitzky-Golay derivative along frames; weights [width, width] (float64, device), mode as in
// DeltaMode. Frames at or past an item's valid count are written as 0.
void delta(const float* in, float* out, int64_t batch, int rows, int64_t T, ValidFrames v,
           const double* weights, int width, DeltaMode mode, cudaStream_t stream);

// librosa.util.normalize(S, norm=p, axis=0) of every column, in place (p may be infinity).
void normalize_columns(float* x, int64_t batch, int rows, int64_t T, double p, cudaStream_t stream);

// Spectral contrast's valley and peak (mean of the q smallest and largest bins of each band),
// [batch, bands.n, T] each.
void contrast_select(const float* mag, int64_t batch, int n_bins, int64_t T, const Bands& bands,
                     float* valley, float* peak, cudaStream_t stream);
// The same for any number of bands and any q: bands as device arrays first, count, q
// [n_bands]; each thread's q smallest and largest in `scratch`, 2 max_q floats per thread for
// `threads` threads at a time (launches in turn on `stream` share it).
void contrast_select_scratch(const float* mag, int64_t batch, int n_bins, int64_t T,
                             const int* first, const int* count, const int* q, int n_bands,
                             int max_q, float* scratch, int64_t threads, float* valley, float* peak,
                             cudaStream_t stream);

// Pointer arrays of the per-item chroma products (cublasSgemmBatched): ptrs[b] = item b of
// power, ptrs[batch + b] = bank bank_of_item[b] of banks, ptrs[2 batch + b] = item b of out.
void chroma_pointers(const float* power, const float* banks, const int* bank_of_item, float* out,
                     int64_t batch, int n_bins, int n_chroma, int64_t T, const float** ptrs,
                     cudaStream_t stream);

// estimate_tuning of every item of power [batch, n_bins, T] over its valid frames (see
// features.h): piptrack's peaks of bins [k_first, k_end), their median magnitude (a segmented
// sort), the residual histogram, its first fullest bin. Scratch from the pool.
void estimate_tuning(const float* power, int64_t batch, int n_bins, int64_t T, ValidFrames v,
                     int sr, int n_fft, int k_first, int k_end, int bins_per_octave, double* tuning,
                     int* bank, cudaStream_t stream);

// out = a - b elementwise over n values.
void subtract(const float* a, const float* b, float* out, int64_t n, cudaStream_t stream);

// librosa zero_crossing_rate (edge padding) and rms, [batch, 1, T] each.
void zcr(const Signal& s, Framing f, float threshold, bool zero_pos, int64_t T, float* out,
         cudaStream_t stream);
void rms(const Signal& s, Framing f, PadMode mode, int64_t T, float* out, cudaStream_t stream);

// Mean and std (ddof 0) over each item's valid frames of every row of x [batch, rows, T]:
// out[b * out_stride + 2 r] = mean, [... + 2 r + 1] = std.
void row_stats(const float* x, int64_t batch, int rows, int64_t T, ValidFrames v, float* out,
               int64_t out_stride, cudaStream_t stream);

}  // namespace hptrain::cuda::detail
