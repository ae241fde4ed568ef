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

  // The working-set solver's rows kept on the GPU (on_gpu() only; QMatrix keeps them in its
  // host cache on the CPU): q positions of K(B[row], B[:]) in device memory.
  // Position pos[r] gets the row rows[r], r < n (one GEMM); q is the number of positions.
  void ws_fill(const int64_t* rows, const int64_t* pos, int64_t n, int64_t q);
  // out [q, q]: out[a, b] = value of position a at column cols[b].
  void ws_submatrix(const int64_t* cols, int64_t q, float* out);
  // out [l] = sum_r c[r] K(position pos[r], :), r < n, accumulated in double.
  void ws_combine(const int64_t* pos, const double* c, int64_t n, double* out);

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
