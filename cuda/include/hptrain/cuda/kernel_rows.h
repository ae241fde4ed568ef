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

  // The large-working-set SMO's rows, kept on the device between rounds: q positions, each a
  // row K(B[row], B[:]) over all l columns (the twin of the host cache QMatrix keeps on the CPU).
  // Position pos[r] gets row rows[r] for r < n: one gather, one SGEMM, the epilogue, a scatter;
  // no copy to the host. A larger q than before drops the positions' contents.
  void ws_fill(const int64_t* rows, const int64_t* pos, int64_t n, int64_t q);
  // out[a, b] = value of position a at column cols[b], a, b < q (host out [q, q]).
  void ws_submatrix(const int64_t* cols, int64_t q, float* out);
  // out[k] = sum_r c[r] * value of position pos[r] at column k, for k < l, summed in double
  // (host out [l]): the gradient update G += Q_ws' dalpha without moving the rows.
  void ws_combine(const int64_t* pos, const double* c, int64_t n, double* out);

 private:
  // The GEMM of the rows staged in a_ / a_sq_ against B's columns, the epilogue, and the copy
  // to `out`; synchronises once (the host consumes the values).
  void compute(int64_t n_rows, int64_t col_begin, int64_t col_end, float* out, int64_t ld);
  // The GEMM and epilogue of compute() into k_ [n_rows, col_end - col_begin], on the stream.
  void gemm_block(int64_t n_rows, int64_t col_begin, int64_t col_end);
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
  // working set: positions [ws_q_, l], their indices / coefficients, the results
  int64_t ws_q_ = 0;
  DeviceBuffer<float> ws_, ws_sub_;
  DeviceBuffer<int64_t> ws_idx_;
  DeviceBuffer<double> ws_coef_, ws_out_;
  PinnedBuffer<int64_t> ws_idx_host_;
  PinnedBuffer<double> ws_coef_host_, ws_out_host_;
  PinnedBuffer<float> ws_sub_host_;
};

}  // namespace hptrain::cuda
