// SVM kernel rows on the GPU: K(A_r, B_c) = exp(-gamma |A_r - B_c|^2) (RBF) or A_r.B_c (linear)
// for a block of rows against a column range of B kept on the device, by one cuBLAS SGEMM and
// an epilogue; the twin of baselines::kernel_block. Row-major float32 [rows, cols].
#pragma once

#include <cstdint>

#include "hptrain/baselines/kernel.h"
#include "hptrain/cuda/resources.h"

namespace hptrain::cuda {

// Owns a device copy of B [l, d] and its squared norms (uploaded once), a stream, a cuBLAS handle
// and work areas grown when needed. Not thread-safe: one object per solver thread.
class KernelRows {
 public:
  // B [l, d] row-major and b_sq [l] its squared norms (baselines::row_sq_norms), on `device`.
  KernelRows(const baselines::KernelParams& p, const float* B, const float* b_sq, int64_t l,
             int64_t d, int device);
  KernelRows(const KernelRows&) = delete;
  KernelRows& operator=(const KernelRows&) = delete;

  int64_t size() const { return l_; }

  // out[r, c - col_begin] = K(B[rows[r]], B[c]) for r < n_rows, col_begin <= c < col_end
  // (host out, leading dimension ld): rows of B itself, as the SMO solver's Q rows.
  void kernel_block(const int64_t* rows, int64_t n_rows, int64_t col_begin, int64_t col_end,
                    float* out, int64_t ld);
  // out[r, c - col_begin] = K(A[r], B[c]) for host rows A [n_rows, d] with norms a_sq [n_rows]
  // (test rows against support vectors).
  void kernel_block(const float* A, const float* a_sq, int64_t n_rows, int64_t col_begin,
                    int64_t col_end, float* out, int64_t ld);

 private:
  // The GEMM of the rows staged in a_ / a_sq_ against B's columns, the epilogue, and the copy
  // to `out`; synchronises once (the host consumes the values).
  void compute(int64_t n_rows, int64_t col_begin, int64_t col_end, float* out, int64_t ld);
  // Makes the device current and grows the staging buffers for a block of n_rows x n_cols;
  // returns the stream the block runs on.
  cudaStream_t begin_block(int64_t n_rows, int64_t n_cols);

  baselines::KernelParams p_;
  int device_;
  int64_t l_, d_;
  Stream stream_;
  BlasHandle blas_;
  DeviceBuffer<float> b_, b_sq_;
  DeviceBuffer<float> a_, a_sq_, k_;  // staged rows [n, d], their norms [n], values [n, cols]
  DeviceBuffer<int64_t> rows_;
  PinnedBuffer<float> host_;
};

}  // namespace hptrain::cuda
