// Launchers of the STFT stage (private to hp_cuda; stft.cu, the own FFT in stft_radix.cu, and
// the cuFFT plans' callbacks in resources.cu): frames, cuFFT callbacks, the radix FFT, spectra
// and the fused mel product. Device pointers, one stream.
#pragma once

#include <cuda_runtime.h>
#include <cufft.h>

#include <cstddef>
#include <cstdint>

#include "hptrain/cuda/framing.h"
#include "launch.h"

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
// Frames per tile of mel_from_fft: as many (up to 32) as fit kMelSharedBytes (launch.h) after
// the kMelHead floats its aligned loads may bring first; 0 when not one.
constexpr size_t kMelHead = 3;
int mel_tile_frames(int n_bins);

}  // namespace hptrain::cuda::detail
