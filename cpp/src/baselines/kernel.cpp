// CPU kernel rows for the SVM (the body a cuBLAS-based device twin replaces).
#include "hptrain/baselines/kernel.h"

#include <algorithm>
#include <cmath>

#include "hptrain/error.h"

namespace hptrain::baselines {

namespace {
// Dot product with eight independent partial sums, so that the compiler vectorises it
// without -ffast-math.
inline float dot(const float* a, const float* b, int64_t d) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= d; k += 8) {
    for (int u = 0; u < 8; ++u) s[u] += a[k + u] * b[k + u];
  }
  for (; k < d; ++k) s[k & 7] += a[k] * b[k];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}
}  // namespace

KernelType parse_kernel(const std::string& name) {
  if (name == "linear") return KernelType::linear;
  if (name == "rbf") return KernelType::rbf;
  throw ConfigError("kernel = '" + name + "': expected linear or rbf");
}

std::string kernel_name(KernelType t) {
  return t == KernelType::linear ? "linear" : "rbf";
}

void row_sq_norms(const float* A, int64_t n, int64_t d, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = dot(A + i * d, A + i * d, d);
}

void kernel_block(const KernelParams& p, const float* A, const float* a_sq, const int64_t* rows,
                  int64_t n_rows, const float* B, const float* b_sq, int64_t col_begin,
                  int64_t col_end, int64_t d, float* out, int64_t ld) {
  const float g = static_cast<float>(p.gamma);
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* a = A + rows[r] * d;
    float* o = out + r * ld - col_begin;
    if (p.type == KernelType::linear) {
      for (int64_t c = col_begin; c < col_end; ++c) o[c] = dot(a, B + c * d, d);
    } else {
      const float aa = a_sq[rows[r]];
      for (int64_t c = col_begin; c < col_end; ++c) {
        const float sq = std::max(0.0f, aa + b_sq[c] - 2.0f * dot(a, B + c * d, d));
        o[c] = std::exp(-g * sq);
      }
    }
  }
}

}  // namespace hptrain::baselines
