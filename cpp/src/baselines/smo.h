// LIBSVM's pieces of C-SVC training: the kernel matrix Q of a binary problem behind an LRU row
// cache, the SMO solver with WSS2 and shrinking (pairwise, or over a large working set as GPU
// solvers do), Platt's sigmoid fit and pairwise coupling.
#pragma once

#include <cstdint>
#include <vector>

#include "baselines/kernel_source.h"
#include "hptrain/baselines/kernel.h"

namespace hptrain::baselines {

// Q[i, j] = y_i y_j K(x_i, x_j) over the l rows of X [l, d] (owned by the caller), full rows
// cached in float with least-recently-used eviction (at least two rows are always kept).
// Rows missed together are computed as one block: split by columns over `n_threads`, or on CUDA
// device `device` (>= 0) by one cuBLAS GEMM.
class QMatrix {
 public:
  QMatrix(const float* X, int64_t l, int64_t d, const KernelParams& p, const int8_t* y,
          size_t cache_bytes, int n_threads, int device);
  // Rows i and j (j < 0: only i); the pointers stay valid until the next call.
  void rows(int64_t i, int64_t j, const float** qi, const float** qj);
  const float* row(int64_t i) {
    const float* q;
    rows(i, -1, &q, nullptr);
    return q;
  }
  double diag(int64_t i) const { return qd_[i]; }
  int64_t size() const { return l_; }

  // The working-set solver's access, position p of the working set holding row ws[p] (q <= l).
  // load_working_set makes the rows of Q available: `fresh` lists the positions whose row
  // changed since the last call (every position the first time); the rows not held are
  // computed as one block (CPU threads, through the LRU cache; on the GPU one GEMM into device
  // memory, where they stay).
  void load_working_set(const int64_t* ws, int64_t q, const int64_t* fresh, int64_t n_fresh);
  // out [q, q] = Q[ws[a], ws[b]] of the loaded working set.
  void working_submatrix(float* out);
  // G[k] += sum_a Q[ws[a], k] * dalpha[a] for every k < l (dalpha [q], zeros skipped).
  void add_working_gradient(const double* dalpha, double* G);

 private:
  int64_t slot_for(int64_t row, int64_t keep);  // a slot to overwrite (LRU), never `keep`'s
  void touch(int64_t slot);
  void reserve(int64_t rows);  // allocates the cache on first use, at least `rows` rows

  KernelSource k_;
  int64_t l_;
  const int8_t* y_;
  std::vector<double> qd_;
  int n_threads_;
  size_t cache_bytes_;
  int64_t capacity_ = 0;              // 0 until the first rows are asked for
  std::vector<float> data_;           // [capacity, l]
  std::vector<int64_t> slot_row_;     // row held by a slot, -1 free
  std::vector<int64_t> row_slot_;     // slot of a row, -1 not cached
  std::vector<int64_t> prev_, next_;  // LRU list of slots; head_ is least recently used
  int64_t head_ = -1, tail_ = -1;
  int64_t used_ = 0;  // slots [0, used_) have held a row
  // working set: rows by position, and (CPU) the cached rows they point to
  std::vector<int64_t> ws_;
  std::vector<const float*> ws_rows_;
};

struct SmoResult {
  std::vector<double> coef;  // y_i * alpha_i
  double rho = 0;            // decision value = sum coef_i K(x_i, x) - rho
  int64_t iterations = 0;    // two-variable steps
  int64_t rounds = 0;        // working sets (working-set solver; 0 for the pairwise one)
  bool converged = true;
};

struct SmoOptions {
  double Cp = 1, Cn = 1;  // bounds of alpha for y = +1 / -1
  double eps = 1e-3;
  bool shrinking = true;  // pairwise solver only (the working-set one sweeps all l anyway)
  int64_t max_iter = -1;  // two-variable steps; -1: LIBSVM's max(10^7, 100 l)
  // 0: LIBSVM's pairwise SMO (two kernel rows per step). q >= 2: the large-working-set SMO
  // (ThunderSVM's CSMOSolver, cuML's SVC): q violating variables at once (q/2 new ones per
  // round, the other half kept from the round before), their q rows in one block, an inner
  // SMO on the q x q submatrix, then G += Q_ws' dalpha over all l. Same stopping rule
  // (maximal violation < eps) and rho as LIBSVM.
  int64_t working_set = 0;
};

// Minimises 0.5 a'Qa - e'a s.t. y'a = 0, 0 <= a_i <= C_{y_i} (LIBSVM's solve_c_svc).
SmoResult solve_smo(QMatrix& Q, const int8_t* y, const SmoOptions& opt);

// 0.5 a'Qa - e'a at a = |coef| (the dual objective LIBSVM reports as obj), from Q's rows.
double dual_objective(QMatrix& Q, const int8_t* y, const std::vector<double>& coef);

// Platt's sigmoid P(y=1|f) = 1 / (1 + exp(A f + B)) fitted to decision values (Lin et al.'s
// Newton method with backtracking, as LIBSVM's sigmoid_train).
void sigmoid_train(int64_t l, const double* dec, const int8_t* y, double& A, double& B);
double sigmoid_predict(double dec, double A, double B);

// Class probabilities p [k] from pairwise r[i*k + j] = P(i | i or j), LIBSVM's
// multiclass_probability (Wu, Lin and Weng 2004, method 2).
void multiclass_probability(int k, const std::vector<double>& r, double* p);

}  // namespace hptrain::baselines
