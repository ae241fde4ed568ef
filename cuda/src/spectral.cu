// Per-item power_to_db (the top_db floor from each item's own maximum) alone or fused with the
// DCT of MFCC, column normalisation and per-item bank pointers (chroma), Savitzky-Golay deltas
// and an elementwise difference; twins of features' kernels.cpp.
#include <cfloat>

#include "hptrain/cuda/check.h"
#include "hptrain/cuda/loops.h"
#include "launch.h"

namespace hptrain::cuda::detail {

namespace {

constexpr int kThreads = 256;

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

// The maximum of m over the block's threads, in every thread; every thread must call it.
__device__ float block_max(float m) {
  __shared__ float warp_max[kThreads / 32];
  __shared__ float top;
  for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
  if (threadIdx.x % 32 == 0) warp_max[threadIdx.x / 32] = m;
  __syncthreads();
  if (threadIdx.x == 0) {
    float t = warp_max[0];
    for (int w = 1; w < kThreads / 32; ++w) t = fmaxf(t, warp_max[w]);
    top = t;
  }
  __syncthreads();
  return top;
}

// ref: librosa power_to_db: 10 log10(max(amin, S)) - 10 log10(max(amin, ref)), then floored at
// the maximum minus top_db (each item's own maximum over its valid frames here).
struct Db {
  float amin, sub;
  bool has_top_db;
  double top_db;
  __device__ float operator()(float p) const { return 10.0f * log10f(fmaxf(amin, p)) - sub; }
  __device__ float floor(float top) const {
    return static_cast<float>(static_cast<double>(top) - top_db);
  }
};

// One block per item: dB values, the block's maximum over valid frames, then the floor.
__global__ void power_to_db_kernel(const float* in, float* out, int rows, int64_t T, ValidFrames v,
                                   Db db) {
  const int64_t b = blockIdx.x;
  const int64_t n = rows * T, valid = v(b);
  const float* x = in + b * n;
  float* y = out + b * n;
  float m = -FLT_MAX;
  grouped_loads(
      threadIdx.x, n, blockDim.x, [x](int64_t e) { return x[e]; },
      [&](int64_t e, float p) {
        const float d = db(p);
        y[e] = d;
        if (valid == T || e % T < valid) m = fmaxf(m, d);  // no division when none is padding
      });
  if (!db.has_top_db) return;
  const float floor = db.floor(block_max(m));
  grouped_loads(
      threadIdx.x, n, blockDim.x, [y](int64_t e) { return y[e]; },
      [&](int64_t e, float d) { y[e] = fmaxf(d, floor); });
}

// One block per item: power_to_db's maximum over the item's valid frames (read, nothing
// written), then tiles of kDctTile frames: their floored dB values in shared memory (and to
// log_mel when not null), out[b, c, t] = sum over m in order of dct[c, m] lm[m, t] (FMA), as the
// CPU's dense_product. The log-mel spectrogram never goes through global memory on its own.
__global__ void mfcc_from_mel_kernel(const float* mel, float* log_mel, float* out, int n_mels,
                                     int n_mfcc, int64_t T, ValidFrames v, Db db,
                                     const float* dct) {
  extern __shared__ float lm[];  // [n_mels, kDctTile + 1]: conflict-free by rows and columns
  constexpr int kRow = kDctTile + 1;
  const int64_t b = blockIdx.x;
  const int64_t valid = v(b);
  const float* x = mel + b * n_mels * T;
  float* lm_out = log_mel != nullptr ? log_mel + b * n_mels * T : nullptr;
  float* y = out + b * n_mfcc * T;
  float floor = 0.0f;
  if (db.has_top_db) {
    float m = -FLT_MAX;
    grouped_loads(
        threadIdx.x, n_mels * T, blockDim.x, [x](int64_t e) { return x[e]; },
        [&](int64_t e, float p) {
          if (valid == T || e % T < valid) m = fmaxf(m, db(p));
        });
    floor = db.floor(block_max(m));
  }
  for (int64_t t0 = 0; t0 < T; t0 += kDctTile) {
    const int frames = static_cast<int>(T - t0 < kDctTile ? T - t0 : kDctTile);
    __syncthreads();  // the previous tile's products are done with lm
    grouped_loads(
        threadIdx.x, n_mels * kDctTile, blockDim.x,
        [&](int64_t i) {
          const int64_t m = i / kDctTile, t = i % kDctTile;
          return t < frames ? x[m * T + t0 + t] : 0.0f;
        },
        [&](int64_t i, float p) {
          const int64_t m = i / kDctTile, t = i % kDctTile;
          if (t >= frames) return;
          float d = db(p);
          if (db.has_top_db) d = fmaxf(d, floor);
          lm[m * kRow + t] = d;
          if (lm_out != nullptr) lm_out[m * T + t0 + t] = d;
        });
    __syncthreads();
    for (int i = threadIdx.x; i < n_mfcc * kDctTile; i += blockDim.x) {
      const int c = i / kDctTile, t = i % kDctTile;
      if (t >= frames) continue;
      const float* w = dct + static_cast<int64_t>(c) * n_mels;
      float acc = 0.0f;
      for (int m = 0; m < n_mels; ++m) acc = fmaf(w[m], lm[m * kRow + t], acc);
      y[c * T + t0 + t] = acc;
    }
  }
}

__global__ void normalize_kernel(float* x, int64_t batch, int rows, int64_t T, double p) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= batch * T) return;
  const int64_t b = i / T, t = i - b * T;
  float* col = x + b * rows * T + t;
  // ref: librosa.util.normalize: |S| in float64, max or sum(|S|**p)**(1/p), tiny columns kept
  double len = 0;
  for (int r = 0; r < rows; ++r) {
    const double a = fabs(static_cast<double>(col[r * T]));
    if (isinf(p)) {
      len = fmax(len, a);
    } else {
      len += p == 2.0 ? a * a : pow(a, p);
    }
  }
  if (!isinf(p)) len = p == 2.0 ? sqrt(len) : pow(len, 1.0 / p);
  if (len < FLT_MIN) len = 1.0;
  for (int r = 0; r < rows; ++r) col[r * T] = static_cast<float>(col[r * T] / len);
}

// x[j] of a row of `frames` values with scipy.ndimage's mode beyond either end.
__device__ double sample(const float* x, int64_t j, int64_t frames, DeltaMode mode) {
  if (j >= 0 && j < frames) return x[j];
  switch (mode) {
    case DeltaMode::nearest:
      return x[j < 0 ? 0 : frames - 1];
    case DeltaMode::wrap:
      return x[((j % frames) + frames) % frames];
    case DeltaMode::mirror: {
      if (frames == 1) return x[0];
      const int64_t period = 2 * (frames - 1);
      j = ((j % period) + period) % period;
      return x[j < frames ? j : period - j];
    }
    default:
      return 0.0;
  }
}

// One thread per output value; the sums in float64 in weight order, as delta_item.
__global__ void delta_kernel(const float* in, float* out, int64_t batch, int rows, int64_t T,
                             ValidFrames v, const double* weights, int width, DeltaMode mode) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= batch * rows * T) return;
  const int64_t row = i / T, t = i - row * T, b = row / rows;
  const int64_t frames = v(b);
  if (t >= frames) {
    out[i] = 0.0f;
    return;
  }
  const float* x = in + row * T;
  const int half = width / 2;
  const double* centre = weights + half * width;
  double acc = 0;
  if (mode == DeltaMode::interp && (t < half || t >= frames - half)) {
    // ref: scipy savgol_filter mode='interp': the polynomial fit of the first/last width frames
    const int64_t start = t < half ? 0 : frames - width;
    const double* w = weights + (t - start) * width;
    for (int j = 0; j < width; ++j) acc += w[j] * x[start + j];
  } else {
    for (int j = 0; j < width; ++j) acc += centre[j] * sample(x, t - half + j, frames, mode);
  }
  out[i] = static_cast<float>(acc);
}

__global__ void chroma_pointers_kernel(const float* power, const float* banks,
                                       const int* bank_of_item, float* out, int64_t batch,
                                       int n_bins, int n_chroma, int64_t T, const float** ptrs) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= batch) return;
  ptrs[b] = power + b * n_bins * T;
  ptrs[batch + b] = banks + static_cast<int64_t>(bank_of_item[b]) * n_chroma * n_bins;
  ptrs[2 * batch + b] = out + b * n_chroma * T;
}

__global__ void subtract_kernel(const float* a, const float* b, float* out, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = a[i] - b[i];
}

}  // namespace

void power_to_db(const float* in, float* out, int64_t batch, int rows, int64_t T, ValidFrames v,
                 float amin, float sub, bool has_top_db, double top_db, cudaStream_t stream) {
  if (batch == 0 || rows * T == 0) return;
  power_to_db_kernel<<<static_cast<unsigned>(batch), kThreads, 0, stream>>>(
      in, out, rows, T, v, Db{amin, sub, has_top_db, top_db});
  HP_CHECK_LAUNCH();
}

bool mfcc_from_mel_fits(int n_mels) {
  // block_max's own shared memory counts against the same limit
  return static_cast<size_t>(n_mels) * (kDctTile + 1) * sizeof(float) + 1024 <= kMelSharedBytes;
}

void mfcc_from_mel(const float* mel, float* log_mel, float* out, int64_t batch, int n_mels,
                   int n_mfcc, int64_t T, ValidFrames v, float amin, float sub, bool has_top_db,
                   double top_db, const float* dct, cudaStream_t stream) {
  if (batch == 0 || T == 0) return;
  const size_t shared = static_cast<size_t>(n_mels) * (kDctTile + 1) * sizeof(float);
  mfcc_from_mel_kernel<<<static_cast<unsigned>(batch), kThreads, shared, stream>>>(
      mel, log_mel, out, n_mels, n_mfcc, T, v, Db{amin, sub, has_top_db, top_db}, dct);
  HP_CHECK_LAUNCH();
}

void normalize_columns(float* x, int64_t batch, int rows, int64_t T, double p,
                       cudaStream_t stream) {
  if (batch * T == 0) return;
  normalize_kernel<<<blocks_for(batch * T), kThreads, 0, stream>>>(x, batch, rows, T, p);
  HP_CHECK_LAUNCH();
}

void delta(const float* in, float* out, int64_t batch, int rows, int64_t T, ValidFrames v,
           const double* weights, int width, DeltaMode mode, cudaStream_t stream) {
  const int64_t n = batch * rows * T;
  if (n == 0) return;
  delta_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, out, batch, rows, T, v, weights, width,
                                                       mode);
  HP_CHECK_LAUNCH();
}

void chroma_pointers(const float* power, const float* banks, const int* bank_of_item, float* out,
                     int64_t batch, int n_bins, int n_chroma, int64_t T, const float** ptrs,
                     cudaStream_t stream) {
  if (batch == 0) return;
  chroma_pointers_kernel<<<blocks_for(batch), kThreads, 0, stream>>>(
      power, banks, bank_of_item, out, batch, n_bins, n_chroma, T, ptrs);
  HP_CHECK_LAUNCH();
}

void subtract(const float* a, const float* b, float* out, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  subtract_kernel<<<blocks_for(n), kThreads, 0, stream>>>(a, b, out, n);
  HP_CHECK_LAUNCH();
}

}  // namespace hptrain::cuda::detail
