// The SVM's kernel values on CPU threads (kernel_block) or the GPU (cuda::KernelRows).
#include "baselines/kernel_source.h"

#include <numeric>

#include "baselines/internal.h"

namespace hptrain::baselines {

namespace {
constexpr int64_t kParallelWork = 1 << 17;  // multiply-adds below which a block stays serial
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
    kernel_block(p_, B_, sq_.data(), rows, n_rows, B_, sq_.data(), c0, c1, d_, out + c0, l_);
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

}  // namespace hptrain::baselines
