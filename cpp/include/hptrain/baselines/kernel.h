// SVM kernels (linear, RBF) and the kernel-row block K[rows, cols] that the SMO solver and the
// predictor call; the CPU body of the seam a cuda:: twin (cuBLAS GEMM + exp) replaces.
#pragma once

#include <cstdint>
#include <string>

namespace hptrain::baselines {

enum class KernelType { linear, rbf };

struct KernelParams {
  KernelType type = KernelType::rbf;
  double gamma = 1.0;  // RBF: K(x, z) = exp(-gamma * |x - z|^2); linear: K = x.z
};

KernelType parse_kernel(const std::string& name);  // "linear" | "rbf"
std::string kernel_name(KernelType t);

// Squared L2 norms of the n rows of A [n, d] (what the RBF expansion needs).
void row_sq_norms(const float* A, int64_t n, int64_t d, float* out);

// out[r, c - col_begin] = K(A[rows[r]], B[c]) for r < n_rows, col_begin <= c < col_end;
// out has leading dimension ld. A and B are [*, d] row-major; a_sq, b_sq their squared norms.
// RBF uses |a|^2 + |b|^2 - 2 a.b (clamped at 0), as a GEMM-based device twin does.
void kernel_block(const KernelParams& p, const float* A, const float* a_sq, const int64_t* rows,
                  int64_t n_rows, const float* B, const float* b_sq, int64_t col_begin,
                  int64_t col_end, int64_t d, float* out, int64_t ld);

}  // namespace hptrain::baselines
