// The SVM's kernel values on CPU threads (kernel_block) or the GPU (cuda::KernelRows).
#include "baselines/kernel_source.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "baselines/internal.h"

namespace hptrain::baselines {

namespace {
constexpr int64_t kParallelWork = 1 << 17;  // multiply-adds below which a block stays serial
// Columns of B per tile of a block of several rows: a tile of B (kColumnTile x d floats, 77 KB
// at d = 150) stays in L2 while every row of the block passes over it, instead of streaming the
// whole of B from memory once per row. Values are unchanged (the same dot products).
constexpr int64_t kColumnTile = 128;

[[noreturn]] void cpu_has_no_working_set() {
  throw std::logic_error("KernelSource: the working-set rows live on the GPU only");
}
}  // namespace

KernelSource::KernelSource(const KernelParams& p, const float* B, int64_t l, int64_t d, int device,
                           int n_threads)
    : p_(p), B_(B), l_(l), d_(d), n_threads_(n_threads), sq_(l) {
  row_sq_norms(B, l, d, sq_.data());
#ifdef HP_WITH_CUDA
  if (device >= 0) gpu_ = std::make_unique<cuda::KernelRows>(p, B, sq_.data(), l, d, device);
#else
  (void)device;  // resolve_device never returns a device without CUDA
#endif
}

KernelSource::~KernelSource() = default;

bool KernelSource::on_gpu() const {
#ifdef HP_WITH_CUDA
  return gpu_ != nullptr;
#else
  return false;
#endif
}

void KernelSource::rows(const int64_t* rows, int64_t n_rows, float* out) {
#ifdef HP_WITH_CUDA
  if (gpu_) return gpu_->kernel_block(rows, n_rows, 0, l_, out, l_);
#endif
  // columns split over the threads when it is worth it
  const int chunks = n_rows * l_ * d_ >= kParallelWork ? n_threads_ : 1;
  parallel_for(chunks, chunks, [&](int64_t c) {
    const int64_t c0 = l_ * c / chunks, c1 = l_ * (c + 1) / chunks;
    for (int64_t t0 = c0; t0 < c1; t0 += kColumnTile) {
      const int64_t t1 = std::min(c1, t0 + kColumnTile);
      kernel_block(p_, B_, sq_.data(), rows, n_rows, B_, sq_.data(), t0, t1, d_, out + t0, l_);
    }
  });
}

void KernelSource::against(const float* A, const float* a_sq, int64_t n_rows, float* out) {
#ifdef HP_WITH_CUDA
  if (gpu_) return gpu_->kernel_block(A, a_sq, n_rows, 0, l_, out, l_);
#endif
  std::vector<int64_t> idx(n_rows);
  std::iota(idx.begin(), idx.end(), 0);
  kernel_block(p_, A, a_sq, idx.data(), n_rows, B_, sq_.data(), 0, l_, d_, out, l_);
}

void KernelSource::ws_fill(const int64_t* rows, const int64_t* pos, int64_t n, int64_t q) {
#ifdef HP_WITH_CUDA
  if (gpu_) return gpu_->ws_fill(rows, pos, n, q);
#endif
  (void)rows, (void)pos, (void)n, (void)q;
  cpu_has_no_working_set();
}

void KernelSource::ws_submatrix(const int64_t* cols, int64_t q, float* out) {
#ifdef HP_WITH_CUDA
  if (gpu_) return gpu_->ws_submatrix(cols, q, out);
#endif
  (void)cols, (void)q, (void)out;
  cpu_has_no_working_set();
}

void KernelSource::ws_combine(const int64_t* pos, const double* c, int64_t n, double* out) {
#ifdef HP_WITH_CUDA
  if (gpu_) return gpu_->ws_combine(pos, c, n, out);
#endif
  (void)pos, (void)c, (void)n, (void)out;
  cpu_has_no_working_set();
}

}  // namespace hptrain::baselines
