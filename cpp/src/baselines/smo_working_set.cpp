// The large-working-set SMO (solve_smo with SmoOptions::working_set >= 2), beside LIBSVM's
// pairwise solver in smo.cpp, whose two-variable update and rho it shares (smo_detail.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "baselines/internal.h"
#include "baselines/smo.h"
#include "baselines/smo_detail.h"
#include "hptrain/log.h"

namespace hptrain::baselines::smo_detail {
namespace {

// The large-working-set SMO of the GPU solvers (ref: Xtra-Computing/thundersvm:
// src/thundersvm/solver/csmosolver.cpp CSMOSolver::solve, select_working_set and the
// c_smo_solve kernel): q violating variables at a time, the first-order rule picking them
// alternately from the top of I_up and the bottom of I_low, half of them kept for the next
// round; their q rows fetched as one block; LIBSVM's WSS2 and two-variable update on the q x q
// submatrix until its violation is below max(eps, kInnerFraction x its first one); then the
// gradient of all l variables from the q changed alphas. Stops as LIBSVM does, when the global
// maximal violation m(a) - M(a) < eps; rho as LIBSVM's calculate_rho.
class WorkingSetSolver {
 public:
  WorkingSetSolver(QMatrix& Q, const int8_t* y, const SmoOptions& o)
      : Q_(Q),
        y_(y),
        o_(o),
        l_(Q.size()),
        q_(std::min(o.working_set, l_)),
        alpha_(l_, 0.0),
        G_(l_, -1.0),
        status_(l_, kLower),
        ws_(q_, -1),
        pos_of_(l_, -1),
        young_(q_, 0) {}

  SmoResult run() {
    const int64_t max_iter = o_.max_iter > 0 ? o_.max_iter : std::max<int64_t>(10000000, 100 * l_);
    std::vector<float> sub(static_cast<size_t>(q_ * q_));
    std::vector<double> dalpha(q_);
    std::vector<int64_t> fresh;
    int64_t steps = 0, rounds = 0;
    bool converged = false, stalled = false;
    using Clock = std::chrono::steady_clock;
    double t_select = 0, t_rows = 0, t_inner = 0, t_gradient = 0;  // seconds, for the log
    auto lap = [](Clock::time_point& t0) {
      const auto t1 = Clock::now();
      const double s = std::chrono::duration<double>(t1 - t0).count();
      t0 = t1;
      return s;
    };
    while (steps < max_iter) {
      auto t0 = Clock::now();
      if (violation() < o_.eps) {
        converged = true;
        break;
      }
      select(rounds, fresh);
      t_select += lap(t0);
      Q_.load_working_set(ws_.data(), q_, fresh.data(), static_cast<int64_t>(fresh.size()));
      Q_.working_submatrix(sub.data());
      t_rows += lap(t0);
      const int64_t n = inner(sub.data(), max_iter - steps, dalpha.data());
      steps += n;
      ++rounds;
      t_inner += lap(t0);
      Q_.add_working_gradient(dalpha.data(), G_.data());
      t_gradient += lap(t0);
      // With q/2 >= 2 new variables the maximal violating pair is always in the set (the top
      // of I_up and the bottom of I_low are picked first unless kept). With fewer (q = 2, 3) it
      // may not be: a round without a step selects all q afresh; a second one means the float
      // values of Q cannot reduce the violation further: stop as not converged.
      if (n == 0) {
        if (reselect_all_) {
          stalled = true;
          break;
        }
        reselect_all_ = true;
      } else {
        reselect_all_ = false;
      }
    }
    if (stalled) HP_LOG_DEBUG("svm: working-set SMO made no step in round {}", rounds);
    HP_LOG_DEBUG(
        "svm: working set {} of {} rows: {} rounds, {} steps; selection {:.3f} s, rows {:.3f} s, "
        "inner SMO {:.3f} s, gradient {:.3f} s",
        q_, l_, rounds, steps, t_select, t_rows, t_inner, t_gradient);
    SmoResult r;
    r.converged = converged;
    r.iterations = steps;
    r.rounds = rounds;
    std::vector<int64_t> all(l_);
    for (int64_t i = 0; i < l_; ++i) all[i] = i;
    r.rho = calculate_rho(y_, G_.data(), status_.data(), all.data(), l_);
    r.coef.resize(l_);
    for (int64_t i = 0; i < l_; ++i) r.coef[i] = alpha_[i] * y_[i];
    return r;
  }

 private:
  static constexpr double kInnerFraction = 0.1;  // ThunderSVM's local_eps = max(eps, 0.1 diff)
  double C(int64_t i) const { return y_[i] > 0 ? o_.Cp : o_.Cn; }
  void update_status(int64_t i) {
    status_[i] = alpha_[i] >= C(i) ? kUpper : alpha_[i] <= 0 ? kLower : kFree;
  }
  // I_up: alpha can move so that y_i alpha_i grows; I_low: so that it shrinks.
  bool in_up(int64_t i) const { return y_[i] > 0 ? status_[i] != kUpper : status_[i] != kLower; }
  bool in_low(int64_t i) const { return y_[i] > 0 ? status_[i] != kLower : status_[i] != kUpper; }

  // m(a) - M(a) = max_{I_up} -y G - min_{I_low} -y G (LIBSVM's Gmax + Gmax2).
  double violation() const {
    double m = -kInf, M = kInf;
    for (int64_t i = 0; i < l_; ++i) {
      const double v = -y_[i] * G_[i];
      if (in_up(i)) m = std::max(m, v);
      if (in_low(i)) M = std::min(M, v);
    }
    return m - M;
  }

  // Fills the positions not kept from the last round with the most violating variables (first
  // round: all q positions; l <= q: every variable, once) and lists the positions whose row
  // changed in `fresh`. A pick already held by a replaceable position stays there.
  void select(int64_t round, std::vector<int64_t>& fresh) {
    fresh.clear();
    if (q_ == l_) {
      if (round == 0) {
        for (int64_t p = 0; p < q_; ++p) {
          ws_[p] = p;
          pos_of_[p] = p;
          fresh.push_back(p);
        }
      }
      return;
    }
    if (reselect_all_) std::fill(young_.begin(), young_.end(), 0);
    int64_t need = 0;
    std::vector<char>& taken = taken_;  // kept or picked; all 0 between calls
    taken.resize(l_, 0);
    for (int64_t p = 0; p < q_; ++p) {
      if (young_[p]) {
        taken[ws_[p]] = 1;
      } else {
        ++need;
      }
    }
    // candidates: at most need + q from each side can be used (the rest are skipped or unused)
    std::vector<int64_t>& up = up_;
    std::vector<int64_t>& low = low_;
    up.clear();
    low.clear();
    for (int64_t i = 0; i < l_; ++i) {
      if (in_up(i)) up.push_back(i);
      if (in_low(i)) low.push_back(i);
    }
    auto score = [&](int64_t i) { return -y_[i] * G_[i]; };
    const auto top = [&](std::vector<int64_t>& v, bool descending) {
      const size_t k = std::min(v.size(), static_cast<size_t>(need + q_));
      auto before = [&](int64_t a, int64_t b) {
        const double sa = score(a), sb = score(b);
        if (sa != sb) return descending ? sa > sb : sa < sb;
        return a < b;  // deterministic order among equal violations
      };
      std::nth_element(v.begin(), v.begin() + (k > 0 ? k - 1 : 0), v.end(), before);
      v.resize(k);
      std::sort(v.begin(), v.end(), before);
    };
    top(up, true);
    top(low, false);
    std::vector<int64_t> picks;
    size_t iu = 0, il = 0;
    while (static_cast<int64_t>(picks.size()) < need && (iu < up.size() || il < low.size())) {
      while (iu < up.size() && taken[up[iu]]) ++iu;
      if (iu < up.size()) {
        taken[up[iu]] = 1;
        picks.push_back(up[iu++]);
      }
      if (static_cast<int64_t>(picks.size()) >= need) break;
      while (il < low.size() && taken[low[il]]) ++il;
      if (il < low.size()) {
        taken[low[il]] = 1;
        picks.push_back(low[il++]);
      }
    }
    for (int64_t p = 0; p < q_; ++p) {
      if (ws_[p] >= 0) taken[ws_[p]] = 0;
    }
    for (int64_t i : picks) taken[i] = 0;
    // picks already in a replaceable position keep it; the others take the remaining ones
    std::vector<char> next_young(q_, 0);
    std::vector<int64_t> placed;
    for (int64_t i : picks) {
      const int64_t p = pos_of_[i];
      if (p >= 0 && !young_[p]) {
        next_young[p] = 1;
      } else {
        placed.push_back(i);
      }
    }
    size_t t = 0;
    for (int64_t p = 0; p < q_ && t < placed.size(); ++p) {
      if (young_[p] || next_young[p]) continue;
      if (ws_[p] >= 0) pos_of_[ws_[p]] = -1;
      ws_[p] = placed[t++];
      pos_of_[ws_[p]] = p;
      next_young[p] = 1;
      fresh.push_back(p);
    }
    // all replaced: keep the second half next time (ThunderSVM replaces halves in turn)
    if (round == 0 || reselect_all_) {
      for (int64_t p = 0; p < q_; ++p) next_young[p] = p >= q_ / 2;
    }
    young_ = next_young;
  }

  // LIBSVM's WSS2 and two-variable update on the working set; returns the steps made and the
  // change of each alpha in dalpha [q]. ref: thundersvm src/thundersvm/kernel/smo_kernel.cpp
  // c_smo_solve_kernel (the local stopping rule and step limit).
  int64_t inner(const float* Qs, int64_t max_steps, double* dalpha) {
    const int64_t q = q_;
    std::vector<double> a(q), g(q), qd(q), Cw(q);
    std::vector<int8_t> yw(q), st(q);
    for (int64_t p = 0; p < q; ++p) {
      const int64_t i = ws_[p];
      a[p] = alpha_[i];
      g[p] = G_[i];
      qd[p] = Q_.diag(i);
      Cw[p] = C(i);
      yw[p] = y_[i];
      st[p] = status_[i];
    }
    auto status_of = [&](int64_t p) { return a[p] >= Cw[p] ? kUpper : a[p] <= 0 ? kLower : kFree; };
    const int64_t limit = std::min(max_steps, std::max<int64_t>(100000, 100 * q));
    double local_eps = -1;
    int64_t steps = 0;
    for (; steps < limit; ++steps) {
      double Gmax = -kInf, Gmax2 = -kInf, obj_diff_min = kInf;
      int64_t i = -1, j = -1;
      for (int64_t p = 0; p < q; ++p) {
        if (yw[p] == +1 ? st[p] != kUpper : st[p] != kLower) {
          const double v = -yw[p] * g[p];
          if (v >= Gmax) {
            Gmax = v;
            i = p;
          }
        }
      }
      if (i < 0) break;
      const float* Q_i = Qs + i * q;
      for (int64_t p = 0; p < q; ++p) {
        double grad_diff, quad;
        if (yw[p] == +1) {
          if (st[p] == kLower) continue;
          grad_diff = Gmax + g[p];
          Gmax2 = std::max(Gmax2, g[p]);
          quad = qd[i] + qd[p] - 2.0 * yw[i] * Q_i[p];
        } else {
          if (st[p] == kUpper) continue;
          grad_diff = Gmax - g[p];
          Gmax2 = std::max(Gmax2, -g[p]);
          quad = qd[i] + qd[p] + 2.0 * yw[i] * Q_i[p];
        }
        if (grad_diff > 0) {
          const double obj_diff = -(grad_diff * grad_diff) / (quad > 0 ? quad : kTau);
          if (obj_diff <= obj_diff_min) {
            j = p;
            obj_diff_min = obj_diff;
          }
        }
      }
      const double gap = Gmax + Gmax2;
      if (local_eps < 0) local_eps = std::max(o_.eps, kInnerFraction * gap);
      if (gap < local_eps || j < 0) break;
      const double old_ai = a[i], old_aj = a[j];
      // Q_ij as Q[ws_i][ws_j]: the submatrix row, as the pairwise solver reads Q_i[j]
      update_pair(yw[i], yw[j], qd[i], qd[j], Q_i[j], g[i], g[j], Cw[i], Cw[j], a[i], a[j]);
      const double dai = a[i] - old_ai, daj = a[j] - old_aj;
      const float* Q_j = Qs + j * q;
      for (int64_t p = 0; p < q; ++p) g[p] += Q_i[p] * dai + Q_j[p] * daj;
      st[i] = status_of(i);
      st[j] = status_of(j);
    }
    for (int64_t p = 0; p < q; ++p) {
      const int64_t i = ws_[p];
      dalpha[p] = a[p] - alpha_[i];
      alpha_[i] = a[p];
      update_status(i);
    }
    return steps;
  }

  QMatrix& Q_;
  const int8_t* y_;
  SmoOptions o_;
  int64_t l_, q_;
  std::vector<double> alpha_, G_;
  std::vector<int8_t> status_;
  std::vector<int64_t> ws_;        // row held by each position of the working set (-1: none yet)
  std::vector<int64_t> pos_of_;    // position of a row in the working set, -1 when outside
  std::vector<char> young_;        // positions picked in the last round: kept in the next
  bool reselect_all_ = false;      // the last round made no step: replace every position
  std::vector<char> taken_;        // select(): scratch, all 0 between calls
  std::vector<int64_t> up_, low_;  // select(): candidates of I_up and I_low
};

}  // namespace

SmoResult solve_working_set(QMatrix& Q, const int8_t* y, const SmoOptions& opt) {
  return WorkingSetSolver(Q, y, opt).run();
}

}  // namespace hptrain::baselines::smo_detail
