// Kernel values against a fixed matrix B [l, d] (a problem's training rows, or the support
// vectors) on CPU threads or the GPU (cuda::KernelRows): the one place the SVM picks its device.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "hptrain/baselines/kernel.h"

#ifdef HP_WITH_CUDA
#include "hptrain/cuda/kernel_rows.h"
#endif

namespace hptrain::baselines {

class KernelSource {
 public:
  // B [l, d] row-major, owned by the caller and kept alive (the CPU reads it on every call);
  // device -1: CPU, `n_threads` over the columns of large blocks; else that CUDA device.
  KernelSource(const KernelParams& p, const float* B, int64_t l, int64_t d, int device,
               int n_threads);
  ~KernelSource();
  KernelSource(const KernelSource&) = delete;
  KernelSource& operator=(const KernelSource&) = delete;

  int64_t size() const { return l_; }
  bool on_gpu() const;
  const float* sq_norms() const { return sq_.data(); }  // of B's rows [l]

  // out [n_rows, l] = K(B[rows[r]], B[c]) over all columns c.
  void rows(const int64_t* rows, int64_t n_rows, float* out);
  // out [n_rows, l] = K(A[r], B[c]) for A [n_rows, d] with squared norms a_sq.
  void against(const float* A, const float* a_sq, int64_t n_rows, float* out);

 private:
  KernelParams p_;
  const float* B_;
  int64_t l_, d_;
  int n_threads_;
  std::vector<float> sq_;
#ifdef HP_WITH_CUDA
  std::unique_ptr<cuda::KernelRows> gpu_;
#endif
};

}  // namespace hptrain::baselines
