// power_to_db by tiles of frames (the top_db floor from each item's own maximum) alone or fused
// with the DCT of MFCC, column normalisation and per-item bank pointers (chroma), Savitzky-Golay
// deltas and an elementwise difference; twins of features' spectral.cpp.
#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>
#include <string>

#include "hptrain/cuda/check.h"
#include "hptrain/cuda/features.h"
#include "hptrain/cuda/loops.h"
#include "hptrain/cuda/nvtx.h"
#include "hptrain/cuda/resources.h"
#include "launch.h"

namespace hptrain::cuda::detail {

// This stage's launchers (private to it; launch.h holds what stages share).

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

// Pointer arrays of the per-item chroma products (cublasSgemmBatched): ptrs[b] = item b of
// power, ptrs[batch + b] = bank bank_of_item[b] of banks, ptrs[2 batch + b] = item b of out.
void chroma_pointers(const float* power, const float* banks, const int* bank_of_item, float* out,
                     int64_t batch, int n_bins, int n_chroma, int64_t T, const float** ptrs,
                     cudaStream_t stream);

namespace {

constexpr int kThreads = 256;
constexpr int kDbTile = 32;  // frames per block of the dB kernels: a warp's lanes in the DCT
constexpr int kDbRow = kDbTile + 1;  // a row of a tile in shared memory: conflict-free both ways
constexpr int kDctRegs = 4;          // MFCC coefficients a thread sums at once, at most
static_assert(kDbTile == 32 && kThreads % kDbTile == 0, "the DCT maps a tile's frames to lanes");

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

// ref: librosa power_to_db: 10 log10(max(amin, S)) - 10 log10(max(amin, ref)), then floored at
// the maximum minus top_db (each item's own maximum over its valid frames here).
struct Db : DbParams {
  explicit Db(const DbParams& p) : DbParams(p) {}
  __device__ float operator()(float p) const { return 10.0f * log10f(fmaxf(amin, p)) - sub; }
  // The floor of an item from the power_key of its largest value (key 0: no valid frame, no
  // floor). db(max x) is max db(x): db is monotone in x.
  __device__ float floor(uint32_t max_key) const {
    if (max_key == 0) return -FLT_MAX;
    return static_cast<float>(static_cast<double>((*this)(from_order_key(max_key, 0.0f))) - top_db);
  }
};

// Block i of the dB kernels over [batch, rows, T]: item i / tiles, frames [t0, t0 + kDbTile)
// of it; value i of the tile is row i / kDbTile, frame t0 + i % kDbTile.
struct DbTile {
  int64_t T, b, t0;
  __device__ DbTile(int rows, int64_t frames, int64_t tiles)
      : T(frames),
        b(blockIdx.x / tiles),
        t0((blockIdx.x - b * tiles) * kDbTile),
        at_(b * rows * T + t0) {}
  __device__ int64_t offset(int64_t i) const { return at_ + i / kDbTile * T + i % kDbTile; }
  // Value i of the tile in x, 0 past its `frames` frames (read nowhere).
  __device__ float load(const float* x, int64_t i, int64_t frames) const {
    return i % kDbTile < frames ? x[offset(i)] : 0.0f;
  }

 private:
  int64_t at_;  // the tile's first value
};

// One block per tile of an item: the maximum of x over the tile's valid frames (nothing
// written) into the item's key (power_key, atomicMax).
__global__ void db_max_kernel(const float* x, int rows, int64_t T, int64_t tiles, ValidFrames v,
                              uint32_t* item_key) {
  const DbTile tile(rows, T, tiles);
  const int64_t frames = min(static_cast<int64_t>(kDbTile), v(tile.b) - tile.t0);
  if (frames <= 0) return;  // the whole block: past the item's own frames
  uint32_t key = 0;
  grouped_loads(
      threadIdx.x, int64_t{rows} * kDbTile, blockDim.x,
      [&](int64_t i) { return tile.load(x, i, frames); },
      [&](int64_t i, float p) {
        if (i % kDbTile < frames) key = max(key, power_key(p));
      });
  warp_max_into(key, item_key + tile.b);
}

// For the frame whose column of a tile in shared memory starts at lm: the sums over m in order
// of dct[c, m] lm[m] (FMA, as the CPU's dense_product) of the R coefficients c = c0 + u warps
// (all below n_mfcc), to ob[c T]. Each lm value is read once for all R; each dct value is one
// address for the whole warp.
template <int R>
__device__ void dct_frame(const float* lm, int rows, const float* dct, int c0, int warps, float* ob,
                          int64_t T) {
  const float* w[R];
  float acc[R];
  HP_UNROLL
  for (int u = 0; u < R; ++u) {
    w[u] = dct + (c0 + u * warps) * rows;
    acc[u] = 0.0f;
  }
  for (int m = 0; m < rows; ++m, lm += kDbRow) {  // pointers moved on: no index arithmetic
    const float v = *lm;
    HP_UNROLL
    for (int u = 0; u < R; ++u) acc[u] = fmaf(*w[u]++, v, acc[u]);
  }
  HP_UNROLL
  for (int u = 0; u < R; ++u) ob[(c0 + u * warps) * T] = acc[u];
}

// One block per tile of an item: its floored dB values (from the item's key) to log_mel when
// not null (in place allowed: each value is read and written by one thread); with a DCT, the
// tile's floored values in shared memory, then out[b, c, t] = sum over m in order of
// dct[c, m] lm[m, t]: lane t of warp g sums frame t for coefficients g, g + warps, ... up to
// kDctRegs at a time (dct_frame: about 3 PTX instructions a product, against 6 with one
// coefficient a thread; at 20 x 64 products a frame the DCT, not memory, would bound it).
__global__ void db_tile_kernel(const float* x, float* log_mel, int rows, int64_t T, int64_t tiles,
                               const uint32_t* item_key, Db db, const float* dct, int n_mfcc,
                               float* out) {
  extern __shared__ float lm[];  // [rows, kDbRow] with a DCT
  const DbTile tile(rows, T, tiles);
  const int64_t frames = min(static_cast<int64_t>(kDbTile), T - tile.t0);
  const float floor = db.has_top_db ? db.floor(item_key[tile.b]) : 0.0f;
  grouped_loads(
      threadIdx.x, int64_t{rows} * kDbTile, blockDim.x,
      [&](int64_t i) { return tile.load(x, i, frames); },
      [&](int64_t i, float p) {
        const int64_t r = i / kDbTile, t = i % kDbTile;
        if (t >= frames) return;
        float d = db(p);
        if (db.has_top_db) d = fmaxf(d, floor);
        if (dct != nullptr) lm[r * kDbRow + t] = d;
        if (log_mel != nullptr) log_mel[tile.offset(i)] = d;
      });
  if (dct == nullptr) return;
  __syncthreads();
  const int t = threadIdx.x % kDbTile, g = threadIdx.x / kDbTile, warps = blockDim.x / kDbTile;
  if (t >= frames) return;
  float* ob = out + tile.b * n_mfcc * T + tile.t0 + t;
  for (int c0 = g; c0 < n_mfcc; c0 += warps * kDctRegs) {
    switch (register_group(n_mfcc, c0, warps, kDctRegs)) {
      case 1:
        dct_frame<1>(lm + t, rows, dct, c0, warps, ob, T);
        break;
      case 2:
        dct_frame<2>(lm + t, rows, dct, c0, warps, ob, T);
        break;
      case 3:
        dct_frame<3>(lm + t, rows, dct, c0, warps, ob, T);
        break;
      default:
        dct_frame<kDctRegs>(lm + t, rows, dct, c0, warps, ob, T);
    }
  }
}

// power_to_db of x [batch, rows, T], floored per item: the items' maxima (when top_db and no
// item_max given; keys from the pool, zeroed on stream), then the tiles: to log_mel, and with a
// DCT [n_mfcc, rows] to out.
void db_tiles(const float* x, float* log_mel, int64_t batch, int rows, int64_t T, ValidFrames v,
              Db db, const uint32_t* item_max, const float* dct, int n_mfcc, float* out,
              cudaStream_t stream) {
  if (batch == 0 || rows == 0 || T == 0) return;
  const int64_t tiles = (T + kDbTile - 1) / kDbTile;
  if (batch * tiles > INT32_MAX) {
    throw InputError("power_to_db: " + std::to_string(batch) + " items of " + std::to_string(T) +
                     " frames are more tiles than one launch takes; split the batch");
  }
  const auto blocks = static_cast<unsigned>(batch * tiles);
  DeviceBuffer<uint32_t> keys;
  if (db.has_top_db && item_max == nullptr) {
    keys = zeros<uint32_t>(static_cast<size_t>(batch), stream);
    db_max_kernel<<<blocks, kThreads, 0, stream>>>(x, rows, T, tiles, v, keys.data());
    HP_CHECK_LAUNCH();
    item_max = keys.data();
  }
  const size_t shared = dct != nullptr ? static_cast<size_t>(rows) * kDbRow * sizeof(float) : 0;
  db_tile_kernel<<<blocks, kThreads, shared, stream>>>(x, log_mel, rows, T, tiles, item_max, db,
                                                       dct, n_mfcc, out);
  HP_CHECK_LAUNCH();
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
  const int64_t k = features::delta_index(j, frames, mode);
  return k < 0 ? 0.0 : x[k];
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
                 const DbParams& db, const uint32_t* item_max, cudaStream_t stream) {
  db_tiles(in, out, batch, rows, T, v, Db(db), item_max, nullptr, 0, nullptr, stream);
}

bool mfcc_from_mel_fits(int n_mels) {
  return static_cast<size_t>(n_mels) * kDbRow * sizeof(float) <= kMelSharedBytes;
}

void mfcc_from_mel(const float* mel, float* log_mel, float* out, int64_t batch, int n_mels,
                   int n_mfcc, int64_t T, ValidFrames v, const DbParams& db,
                   const uint32_t* item_max, const float* dct, cudaStream_t stream) {
  db_tiles(mel, log_mel, batch, n_mels, T, v, Db(db), item_max, dct, n_mfcc, out, stream);
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

namespace hptrain::cuda {

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
                     const FrameBatch& spec, float* out, cudaStream_t stream) {
  HP_NVTX_RANGE("mel");
  bank_product(ctx, mel_fb, cfg.n_mels, spec.rows, spec.data, spec.batch, spec.frames, out, stream);
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

void power_to_db(const features::DbConfig& cfg, const FrameBatch& in, float* out,
                 cudaStream_t stream, const ItemMaxima* maxima) {
  HP_NVTX_RANGE("power_to_db");
  detail::power_to_db(in.data, out, in.batch, in.rows, in.frames, in.valid, db_params(cfg),
                      ItemMaxima::keys_of(maxima, in.batch, "power_to_db"), stream);
}

void mfcc_from_mel(Context& ctx, const features::DbConfig& db, const features::MfccConfig& cfg,
                   const float* dct, const FrameBatch& mel, float* log_mel, float* out,
                   cudaStream_t stream, const ItemMaxima* maxima) {
  if (!detail::mfcc_from_mel_fits(mel.rows)) {
    DeviceBuffer<float> scratch;
    if (log_mel == nullptr) {
      scratch = DeviceBuffer<float>(static_cast<size_t>(mel.batch * mel.rows * mel.frames), stream);
      log_mel = scratch.data();
    }
    power_to_db(db, mel, log_mel, stream, maxima);
    mfcc(ctx, cfg, dct, FrameBatch{log_mel, mel.batch, mel.rows, mel.frames, mel.valid}, out,
         stream);
    return;
  }
  HP_NVTX_RANGE("mfcc_from_mel");
  detail::mfcc_from_mel(mel.data, log_mel, out, mel.batch, mel.rows, cfg.n_mfcc, mel.frames,
                        mel.valid, db_params(db),
                        ItemMaxima::keys_of(maxima, mel.batch, "mfcc_from_mel"), dct, stream);
}

void mfcc(Context& ctx, const features::MfccConfig& cfg, const float* dct,
          const FrameBatch& log_mel, float* out, cudaStream_t stream) {
  HP_NVTX_RANGE("mfcc");
  bank_product(ctx, dct, cfg.n_mfcc, log_mel.rows, log_mel.data, log_mel.batch, log_mel.frames, out,
               stream);
}

void delta(const features::DeltaArgs& a, const DeviceTables& tables, const FrameBatch& in,
           float* out, cudaStream_t stream) {
  HP_NVTX_RANGE("delta");
  const size_t width = static_cast<size_t>(a.cfg.width);
  if (a.order < 1 || a.order > 2 || tables.savgol[a.order - 1].size() != width * width) {
    throw InputError("delta order " + std::to_string(a.order) + ", width " +
                     std::to_string(a.cfg.width) +
                     ": the device tables hold the weights of orders 1 and 2 of this width "
                     "(DeviceTables::savgol of the configuration's FeatureTables)");
  }
  detail::delta(in.data, out, in.batch, in.rows, in.frames, in.valid,
                tables.savgol[a.order - 1].data(), a.cfg.width,
                features::parse_delta_mode(a.cfg.mode), stream);
}

void chroma_stft(Context& ctx, const features::ChromaConfig& cfg, const float* banks,
                 const int* bank_of_item, const FrameBatch& power, float* out,
                 cudaStream_t stream) {
  HP_NVTX_RANGE("chroma");
  const float* power_spec = power.data;
  const int64_t batch = power.batch, frames = power.frames;
  const int n_bins = power.rows;
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

}  // namespace hptrain::cuda
