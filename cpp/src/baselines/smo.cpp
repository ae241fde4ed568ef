// SMO for C-SVC after LIBSVM 3.x (cjlin1/libsvm:svm.cpp); each function names what it follows.
// Differences: rows are cached whole and shrinking keeps an active index list instead of
// swapping the problem in place (full rows are what a GEMM-based device twin computes).
#include "baselines/smo.h"

#include "baselines/smo_detail.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "baselines/internal.h"
#include "hptrain/log.h"

namespace hptrain::baselines {

double dual_objective(QMatrix& Q, const int8_t* y, const std::vector<double>& coef) {
  const int64_t l = Q.size();
  double obj = 0;
  for (int64_t i = 0; i < l; ++i) {
    const double ai = coef[i] * y[i];
    if (ai == 0) continue;
    const float* q = Q.row(i);
    double qa = 0;
    for (int64_t j = 0; j < l; ++j) qa += q[j] * (coef[j] * y[j]);
    obj += ai * (0.5 * qa - 1.0);
  }
  return obj;
}

namespace smo_detail {

void update_pair(int8_t y_i, int8_t y_j, double Q_ii, double Q_jj, double Q_ij, double G_i,
                 double G_j, double C_i, double C_j, double& ai, double& aj) {
  if (y_i != y_j) {
    double quad = Q_ii + Q_jj + 2 * Q_ij;
    if (quad <= 0) quad = kTau;
    const double delta = (-G_i - G_j) / quad;
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
    double quad = Q_ii + Q_jj - 2 * Q_ij;
    if (quad <= 0) quad = kTau;
    const double delta = (G_i - G_j) / quad;
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
}

double calculate_rho(const int8_t* y, const double* G, const int8_t* status, const int64_t* idx,
                     int64_t n) {
  int64_t nr_free = 0;
  double ub = kInf, lb = -kInf, sum_free = 0;
  for (int64_t s = 0; s < n; ++s) {
    const int64_t i = idx[s];
    const double yG = y[i] * G[i];
    if (status[i] == kUpper) {
      if (y[i] == -1) {
        ub = std::min(ub, yG);
      } else {
        lb = std::max(lb, yG);
      }
    } else if (status[i] == kLower) {
      if (y[i] == +1) {
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

}  // namespace smo_detail

namespace {

using namespace smo_detail;

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
    update_pair(y_[i], y_[j], Q_.diag(i), Q_.diag(j), Q_i[j], G_[i], G_[j], C_i, C_j, ai, aj);
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

  double rho() const {
    return calculate_rho(y_, G_.data(), status_.data(), active_.data(), active_size_);
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
  if (opt.working_set >= 2) return smo_detail::solve_working_set(Q, y, opt);
  return Solver(Q, y, opt).run();
}

}  // namespace hptrain::baselines
