// SMO for C-SVC after LIBSVM 3.x (cjlin1/libsvm:svm.cpp); each function names what it follows.
// Differences: rows are cached whole and shrinking keeps an active index list instead of
// swapping the problem in place (full rows are what a GEMM-based device twin computes).
#include "baselines/smo.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "baselines/internal.h"
#include "hptrain/log.h"

namespace hptrain::baselines {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kTau = 1e-12;  // ref: svm.cpp #define TAU 1e-12
}  // namespace

QMatrix::QMatrix(const float* X, int64_t l, int64_t d, const KernelParams& p, const int8_t* y,
                 size_t cache_bytes, int n_threads, int device)
    : k_(p, X, l, d, device, n_threads), l_(l), y_(y), qd_(l) {
  const float* sq = k_.sq_norms();
  std::vector<float> k(1);
  for (int64_t i = 0; i < l; ++i) {
    kernel_block(p, X, sq, &i, 1, X + i * d, sq + i, 0, 1, d, k.data(), 1);
    qd_[i] = k[0];
  }
  const int64_t fit = static_cast<int64_t>(cache_bytes / (sizeof(float) * l));
  capacity_ = std::max<int64_t>(2, std::min(fit, l));  // l >= 2: one row of each class
  data_.resize(static_cast<size_t>(capacity_ * l));
  slot_row_.assign(capacity_, -1);
  row_slot_.assign(l, -1);
  prev_.assign(capacity_, -1);
  next_.assign(capacity_, -1);
}

void QMatrix::touch(int64_t s) {
  if (tail_ == s) return;
  // unlink (a slot never used yet is not in the list)
  if (prev_[s] >= 0) next_[prev_[s]] = next_[s];
  if (next_[s] >= 0) prev_[next_[s]] = prev_[s];
  if (head_ == s) head_ = next_[s];
  prev_[s] = tail_;
  next_[s] = -1;
  if (tail_ >= 0) next_[tail_] = s;
  tail_ = s;
  if (head_ < 0) head_ = s;
}

int64_t QMatrix::slot_for(int64_t row, int64_t keep) {
  int64_t s = used_ < capacity_ ? used_++ : -1;
  if (s < 0) {
    s = head_ != keep ? head_ : next_[head_];
    row_slot_[slot_row_[s]] = -1;
  }
  slot_row_[s] = row;
  row_slot_[row] = s;
  touch(s);
  return s;
}

void QMatrix::rows(int64_t i, int64_t j, const float** qi, const float** qj) {
  int64_t want[2] = {i, j};
  int64_t slot[2] = {-1, -1};
  int64_t miss[2];
  int64_t miss_slot[2];
  int n_miss = 0;
  for (int t = 0; t < 2; ++t) {
    if (want[t] < 0) continue;
    if (t == 1 && j == i) {
      slot[1] = slot[0];
      continue;
    }
    slot[t] = row_slot_[want[t]];
    if (slot[t] >= 0) {
      touch(slot[t]);
    } else {
      slot[t] = slot_for(want[t], t == 1 ? slot[0] : -1);
      miss[n_miss] = want[t];
      miss_slot[n_miss++] = slot[t];
    }
  }
  if (n_miss > 0) {
    // One block of the missed rows (CPU threads or one GEMM on the GPU).
    std::vector<float> block(static_cast<size_t>(n_miss * l_));
    k_.rows(miss, n_miss, block.data());
    for (int r = 0; r < n_miss; ++r) {
      float* q = data_.data() + miss_slot[r] * l_;
      const float* k = block.data() + r * l_;
      const float yi = y_[miss[r]];
      for (int64_t c = 0; c < l_; ++c) q[c] = yi * y_[c] * k[c];
    }
  }
  *qi = data_.data() + slot[0] * l_;
  if (qj != nullptr) *qj = j >= 0 ? data_.data() + slot[1] * l_ : nullptr;
}

namespace {

enum Status : int8_t { kLower, kUpper, kFree };

// ref: svm.cpp class Solver (Solve, select_working_set, do_shrinking, be_shrunk,
// reconstruct_gradient, calculate_rho), with p = -e as solve_c_svc passes.
class Solver {
 public:
  Solver(QMatrix& Q, const int8_t* y, const SmoOptions& o)
      : Q_(Q),
        y_(y),
        o_(o),
        l_(Q.size()),
        alpha_(l_, 0.0),
        G_(l_, -1.0),
        G_bar_(l_, 0.0),
        status_(l_, kLower),
        active_(l_),
        active_size_(l_) {
    for (int64_t i = 0; i < l_; ++i) active_[i] = i;
  }

  SmoResult run() {
    // ref: svm.cpp Solver::Solve: max_iter = max(10000000, 100*l), shrink every min(l,1000)
    const int64_t max_iter = o_.max_iter > 0 ? o_.max_iter : std::max<int64_t>(10000000, 100 * l_);
    int64_t counter = std::min<int64_t>(l_, 1000) + 1;
    int64_t iter = 0;
    while (iter < max_iter) {
      if (--counter == 0) {
        counter = std::min<int64_t>(l_, 1000);
        if (o_.shrinking) shrink();
      }
      int64_t i, j;
      if (!select(i, j)) {
        reconstruct();
        active_size_ = l_;
        if (!select(i, j)) break;
        counter = 1;  // shrink at the next iteration
      }
      ++iter;
      step(i, j);
    }
    SmoResult r;
    r.converged = iter < max_iter;
    if (!r.converged) {
      reconstruct();
      active_size_ = l_;
    }
    r.iterations = iter;
    r.rho = rho();
    r.coef.resize(l_);
    for (int64_t i = 0; i < l_; ++i) r.coef[i] = alpha_[i] * y_[i];
    return r;
  }

 private:
  double C(int64_t i) const { return y_[i] > 0 ? o_.Cp : o_.Cn; }
  void update_status(int64_t i) {
    status_[i] = alpha_[i] >= C(i) ? kUpper : alpha_[i] <= 0 ? kLower : kFree;
  }
  bool upper(int64_t i) const { return status_[i] == kUpper; }
  bool lower(int64_t i) const { return status_[i] == kLower; }

  // ref: svm.cpp Solver::Solve, the two-variable update and the G / G_bar bookkeeping.
  void step(int64_t i, int64_t j) {
    const float *Q_i, *Q_j;
    Q_.rows(i, j, &Q_i, &Q_j);
    const double C_i = C(i), C_j = C(j);
    const double old_ai = alpha_[i], old_aj = alpha_[j];
    double& ai = alpha_[i];
    double& aj = alpha_[j];
    if (y_[i] != y_[j]) {
      double quad = Q_.diag(i) + Q_.diag(j) + 2 * Q_i[j];
      if (quad <= 0) quad = kTau;
      const double delta = (-G_[i] - G_[j]) / quad;
      const double diff = ai - aj;
      ai += delta;
      aj += delta;
      if (diff > 0) {
        if (aj < 0) {
          aj = 0;
          ai = diff;
        }
      } else if (ai < 0) {
        ai = 0;
        aj = -diff;
      }
      if (diff > C_i - C_j) {
        if (ai > C_i) {
          ai = C_i;
          aj = C_i - diff;
        }
      } else if (aj > C_j) {
        aj = C_j;
        ai = C_j + diff;
      }
    } else {
      double quad = Q_.diag(i) + Q_.diag(j) - 2 * Q_i[j];
      if (quad <= 0) quad = kTau;
      const double delta = (G_[i] - G_[j]) / quad;
      const double sum = ai + aj;
      ai -= delta;
      aj += delta;
      if (sum > C_i) {
        if (ai > C_i) {
          ai = C_i;
          aj = sum - C_i;
        }
      } else if (aj < 0) {
        aj = 0;
        ai = sum;
      }
      if (sum > C_j) {
        if (aj > C_j) {
          aj = C_j;
          ai = sum - C_j;
        }
      } else if (ai < 0) {
        ai = 0;
        aj = sum;
      }
    }
    const double dai = ai - old_ai, daj = aj - old_aj;
    for (int64_t t = 0; t < active_size_; ++t) {
      const int64_t k = active_[t];
      G_[k] += Q_i[k] * dai + Q_j[k] * daj;
    }
    const bool ui = upper(i), uj = upper(j);
    update_status(i);
    update_status(j);
    if (ui != upper(i)) {
      const float* q = Q_.row(i);
      const double c = ui ? -C_i : C_i;
      for (int64_t k = 0; k < l_; ++k) G_bar_[k] += c * q[k];
    }
    if (uj != upper(j)) {
      const float* q = Q_.row(j);
      const double c = uj ? -C_j : C_j;
      for (int64_t k = 0; k < l_; ++k) G_bar_[k] += c * q[k];
    }
  }

  // ref: svm.cpp Solver::select_working_set (WSS2, Fan, Chen and Lin 2005): i maximises
  // -y_i G_i over I_up; j minimises the second-order objective decrease over I_low.
  // Returns false when the maximal violation Gmax + Gmax2 is below eps (optimal).
  bool select(int64_t& out_i, int64_t& out_j) {
    double Gmax = -kInf, Gmax2 = -kInf, obj_diff_min = kInf;
    int64_t i = -1, j_min = -1;
    for (int64_t s = 0; s < active_size_; ++s) {
      const int64_t t = active_[s];
      if (y_[t] == +1) {
        if (!upper(t) && -G_[t] >= Gmax) {
          Gmax = -G_[t];
          i = t;
        }
      } else if (!lower(t) && G_[t] >= Gmax) {
        Gmax = G_[t];
        i = t;
      }
    }
    if (i < 0) return false;
    const float* Q_i = Q_.row(i);
    const double qd_i = Q_.diag(i);
    for (int64_t s = 0; s < active_size_; ++s) {
      const int64_t j = active_[s];
      double grad_diff;
      double quad;
      if (y_[j] == +1) {
        if (lower(j)) continue;
        grad_diff = Gmax + G_[j];
        Gmax2 = std::max(Gmax2, G_[j]);
        quad = qd_i + Q_.diag(j) - 2.0 * y_[i] * Q_i[j];
      } else {
        if (upper(j)) continue;
        grad_diff = Gmax - G_[j];
        Gmax2 = std::max(Gmax2, -G_[j]);
        quad = qd_i + Q_.diag(j) + 2.0 * y_[i] * Q_i[j];
      }
      if (grad_diff > 0) {
        const double obj_diff = -(grad_diff * grad_diff) / (quad > 0 ? quad : kTau);
        if (obj_diff <= obj_diff_min) {
          j_min = j;
          obj_diff_min = obj_diff;
        }
      }
    }
    if (Gmax + Gmax2 < o_.eps || j_min < 0) return false;
    out_i = i;
    out_j = j_min;
    return true;
  }

  // ref: svm.cpp Solver::be_shrunk
  bool be_shrunk(int64_t i, double Gmax1, double Gmax2) const {
    if (upper(i)) return y_[i] == +1 ? -G_[i] > Gmax1 : -G_[i] > Gmax2;
    if (lower(i)) return y_[i] == +1 ? G_[i] > Gmax2 : G_[i] > Gmax1;
    return false;
  }

  // ref: svm.cpp Solver::do_shrinking
  void shrink() {
    double Gmax1 = -kInf, Gmax2 = -kInf;
    for (int64_t s = 0; s < active_size_; ++s) {
      const int64_t i = active_[s];
      if (y_[i] == +1) {
        if (!upper(i)) Gmax1 = std::max(Gmax1, -G_[i]);
        if (!lower(i)) Gmax2 = std::max(Gmax2, G_[i]);
      } else {
        if (!upper(i)) Gmax2 = std::max(Gmax2, -G_[i]);
        if (!lower(i)) Gmax1 = std::max(Gmax1, G_[i]);
      }
    }
    if (!unshrink_ && Gmax1 + Gmax2 <= o_.eps * 10) {
      unshrink_ = true;
      reconstruct();
      active_size_ = l_;
    }
    for (int64_t s = 0; s < active_size_; ++s) {
      if (!be_shrunk(active_[s], Gmax1, Gmax2)) continue;
      --active_size_;
      while (active_size_ > s) {
        if (!be_shrunk(active_[active_size_], Gmax1, Gmax2)) {
          std::swap(active_[s], active_[active_size_]);
          break;
        }
        --active_size_;
      }
    }
  }

  // ref: svm.cpp Solver::reconstruct_gradient: G of the shrunk variables from G_bar and the
  // free alphas, looping over whichever side needs fewer kernel rows.
  void reconstruct() {
    if (active_size_ == l_) return;
    for (int64_t s = active_size_; s < l_; ++s) G_[active_[s]] = G_bar_[active_[s]] - 1.0;
    int64_t nr_free = 0;
    for (int64_t s = 0; s < active_size_; ++s) nr_free += status_[active_[s]] == kFree;
    if (nr_free * l_ > 2 * active_size_ * (l_ - active_size_)) {
      for (int64_t s = active_size_; s < l_; ++s) {
        const int64_t i = active_[s];
        const float* Q_i = Q_.row(i);
        for (int64_t t = 0; t < active_size_; ++t) {
          const int64_t j = active_[t];
          if (status_[j] == kFree) G_[i] += alpha_[j] * Q_i[j];
        }
      }
    } else {
      for (int64_t t = 0; t < active_size_; ++t) {
        const int64_t i = active_[t];
        if (status_[i] != kFree) continue;
        const float* Q_i = Q_.row(i);
        for (int64_t s = active_size_; s < l_; ++s) {
          const int64_t j = active_[s];
          G_[j] += alpha_[i] * Q_i[j];
        }
      }
    }
  }

  // ref: svm.cpp Solver::calculate_rho
  double rho() const {
    int64_t nr_free = 0;
    double ub = kInf, lb = -kInf, sum_free = 0;
    for (int64_t s = 0; s < active_size_; ++s) {
      const int64_t i = active_[s];
      const double yG = y_[i] * G_[i];
      if (upper(i)) {
        if (y_[i] == -1) {
          ub = std::min(ub, yG);
        } else {
          lb = std::max(lb, yG);
        }
      } else if (lower(i)) {
        if (y_[i] == +1) {
          ub = std::min(ub, yG);
        } else {
          lb = std::max(lb, yG);
        }
      } else {
        ++nr_free;
        sum_free += yG;
      }
    }
    return nr_free > 0 ? sum_free / static_cast<double>(nr_free) : (ub + lb) / 2;
  }

  QMatrix& Q_;
  const int8_t* y_;
  SmoOptions o_;
  int64_t l_;
  std::vector<double> alpha_, G_, G_bar_;
  std::vector<int8_t> status_;
  std::vector<int64_t> active_;  // active_[0, active_size_) are the unshrunk variables
  int64_t active_size_;
  bool unshrink_ = false;
};

}  // namespace

SmoResult solve_smo(QMatrix& Q, const int8_t* y, const SmoOptions& opt) {
  return Solver(Q, y, opt).run();
}

// ref: svm.cpp sigmoid_train (Platt 2000, improved by Lin, Lin and Weng 2007)
void sigmoid_train(int64_t l, const double* dec, const int8_t* y, double& A, double& B) {
  double prior1 = 0, prior0 = 0;
  for (int64_t i = 0; i < l; ++i) (y[i] > 0 ? prior1 : prior0) += 1;
  const int max_iter = 100;
  const double min_step = 1e-10, sigma = 1e-12, eps = 1e-5;
  const double hi = (prior1 + 1.0) / (prior1 + 2.0), lo = 1 / (prior0 + 2.0);
  std::vector<double> t(l);
  for (int64_t i = 0; i < l; ++i) t[i] = y[i] > 0 ? hi : lo;
  auto objective = [&](double a, double b) {
    double f = 0;
    for (int64_t i = 0; i < l; ++i) {
      const double fApB = dec[i] * a + b;
      f += fApB >= 0 ? t[i] * fApB + std::log1p(std::exp(-fApB))
                     : (t[i] - 1) * fApB + std::log1p(std::exp(fApB));
    }
    return f;
  };
  A = 0;
  B = std::log((prior0 + 1.0) / (prior1 + 1.0));
  double fval = objective(A, B);
  for (int iter = 0; iter < max_iter; ++iter) {
    double h11 = sigma, h22 = sigma, h21 = 0, g1 = 0, g2 = 0;
    for (int64_t i = 0; i < l; ++i) {
      const double fApB = dec[i] * A + B;
      double p, q;
      if (fApB >= 0) {
        p = std::exp(-fApB) / (1.0 + std::exp(-fApB));
        q = 1.0 / (1.0 + std::exp(-fApB));
      } else {
        p = 1.0 / (1.0 + std::exp(fApB));
        q = std::exp(fApB) / (1.0 + std::exp(fApB));
      }
      const double d2 = p * q;
      h11 += dec[i] * dec[i] * d2;
      h22 += d2;
      h21 += dec[i] * d2;
      const double d1 = t[i] - p;
      g1 += dec[i] * d1;
      g2 += d1;
    }
    if (std::fabs(g1) < eps && std::fabs(g2) < eps) break;
    const double det = h11 * h22 - h21 * h21;
    const double dA = -(h22 * g1 - h21 * g2) / det;
    const double dB = -(-h21 * g1 + h11 * g2) / det;
    const double gd = g1 * dA + g2 * dB;
    double step = 1;
    while (step >= min_step) {
      const double nA = A + step * dA, nB = B + step * dB;
      const double nf = objective(nA, nB);
      if (nf < fval + 0.0001 * step * gd) {
        A = nA;
        B = nB;
        fval = nf;
        break;
      }
      step /= 2;
    }
    if (step < min_step) {
      HP_LOG_DEBUG("svm: Platt sigmoid line search failed at iteration {}", iter);
      break;
    }
  }
}

// ref: svm.cpp sigmoid_predict (1-p form for fApB >= 0 avoids catastrophic cancellation)
double sigmoid_predict(double dec, double A, double B) {
  const double fApB = dec * A + B;
  return fApB >= 0 ? std::exp(-fApB) / (1.0 + std::exp(-fApB)) : 1.0 / (1 + std::exp(fApB));
}

// ref: svm.cpp multiclass_probability
void multiclass_probability(int k, const std::vector<double>& r, double* p) {
  const int max_iter = std::max(100, k);
  const double eps = 0.005 / k;
  std::vector<double> Q(static_cast<size_t>(k * k)), Qp(k);
  for (int t = 0; t < k; ++t) {
    p[t] = 1.0 / k;
    Q[t * k + t] = 0;
    for (int j = 0; j < t; ++j) {
      Q[t * k + t] += r[j * k + t] * r[j * k + t];
      Q[t * k + j] = Q[j * k + t];
    }
    for (int j = t + 1; j < k; ++j) {
      Q[t * k + t] += r[j * k + t] * r[j * k + t];
      Q[t * k + j] = -r[j * k + t] * r[t * k + j];
    }
  }
  int iter = 0;
  for (; iter < max_iter; ++iter) {
    double pQp = 0;
    for (int t = 0; t < k; ++t) {
      Qp[t] = 0;
      for (int j = 0; j < k; ++j) Qp[t] += Q[t * k + j] * p[j];
      pQp += p[t] * Qp[t];
    }
    double max_error = 0;
    for (int t = 0; t < k; ++t) max_error = std::max(max_error, std::fabs(Qp[t] - pQp));
    if (max_error < eps) break;
    for (int t = 0; t < k; ++t) {
      const double diff = (-Qp[t] + pQp) / Q[t * k + t];
      p[t] += diff;
      pQp = (pQp + diff * (diff * Q[t * k + t] + 2 * Qp[t])) / (1 + diff) / (1 + diff);
      for (int j = 0; j < k; ++j) {
        Qp[j] = (Qp[j] + diff * Q[t * k + j]) / (1 + diff);
        p[j] /= (1 + diff);
      }
    }
  }
  if (iter >= max_iter) HP_LOG_DEBUG("svm: multiclass_probability reached max_iter");
}

}  // namespace hptrain::baselines
