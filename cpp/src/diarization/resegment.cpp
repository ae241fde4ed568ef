// The diarization's frame-level resegmentation (resegment.h).
#include "diarization/resegment.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hptrain::diarization {

namespace {

// Frame labels by Viterbi over speech regions: states (speaker, frames in the turn so far,
// capped at L); a change of speaker only from a turn at least L frames long.
void viterbi(const std::vector<double>& score, int64_t T, int K, int L, double penalty,
             const std::vector<uint8_t>& speech, std::vector<int>& label) {
  const double ninf = -std::numeric_limits<double>::infinity();
  for (int64_t r0 = 0; r0 < T;) {
    if (!speech[r0]) {
      ++r0;
      continue;
    }
    int64_t r1 = r0;
    while (r1 < T && speech[r1]) ++r1;
    const int64_t n = r1 - r0;
    std::vector<double> d(static_cast<size_t>(K) * L, ninf), nd(d.size());
    std::vector<int> bp_enter(static_cast<size_t>(n * K), -1);
    std::vector<uint8_t> bp_stay(static_cast<size_t>(n * K), 0);
    for (int k = 0; k < K; ++k)
      d[static_cast<size_t>(k) * L] = score[static_cast<size_t>(r0 * K + k)];
    for (int64_t t = 1; t < n; ++t) {
      // best and second best "turn complete" states to enter from
      int b1 = -1, b2 = -1;
      for (int k = 0; k < K; ++k) {
        const double v = d[static_cast<size_t>(k) * L + L - 1];
        if (b1 < 0 || v > d[static_cast<size_t>(b1) * L + L - 1]) {
          b2 = b1;
          b1 = k;
        } else if (b2 < 0 || v > d[static_cast<size_t>(b2) * L + L - 1]) {
          b2 = k;
        }
      }
      for (int k = 0; k < K; ++k) {
        const double s = score[static_cast<size_t>((r0 + t) * K + k)];
        double* nk = &nd[static_cast<size_t>(k) * L];
        const double* dk = &d[static_cast<size_t>(k) * L];
        const int from = b1 != k ? b1 : b2;
        nk[0] = from >= 0 ? d[static_cast<size_t>(from) * L + L - 1] - penalty + s : ninf;
        bp_enter[static_cast<size_t>(t * K + k)] = from;
        for (int q = 1; q < L - 1; ++q) nk[q] = dk[q - 1] + s;
        if (L >= 2) {
          const bool stay = dk[L - 1] >= dk[L - 2];
          nk[L - 1] = (stay ? dk[L - 1] : dk[L - 2]) + s;
          bp_stay[static_cast<size_t>(t * K + k)] = stay ? 1 : 0;
        }
      }
      std::swap(d, nd);
    }
    int k = 0, q = 0;
    double best = ninf;
    for (int kk = 0; kk < K; ++kk) {
      for (int qq = 0; qq < L; ++qq) {
        if (d[static_cast<size_t>(kk) * L + qq] > best) {
          best = d[static_cast<size_t>(kk) * L + qq];
          k = kk;
          q = qq;
        }
      }
    }
    for (int64_t t = n - 1; t >= 0; --t) {
      label[static_cast<size_t>(r0 + t)] = k;
      if (t == 0) break;
      if (q == 0) {
        k = bp_enter[static_cast<size_t>(t * K + k)];
        q = L - 1;
      } else if (q == L - 1 && bp_stay[static_cast<size_t>(t * K + k)]) {
        // stays in the complete state
      } else {
        --q;
      }
    }
    r0 = r1;
  }
}

}  // namespace

void resegment(const std::vector<float>& mfcc, int n_mfcc, const std::vector<uint8_t>& speech,
               const std::vector<float>& votes, int K, const DiarizeConfig& cfg, double frame_s,
               std::vector<int>& label) {
  const auto T = static_cast<int64_t>(speech.size());
  int64_t n_speech = 0;
  for (auto v : speech) n_speech += v;
  // per-speaker diagonal Gaussians on MFCC 1..19 (standardised over the speech frames)
  const int C = n_mfcc - 1;
  std::vector<double> gm(C, 0), gv(C, 0);
  for (int64_t t = 0; t < T; ++t) {
    if (!speech[t]) continue;
    for (int c = 0; c < C; ++c) {
      const double v = mfcc[static_cast<size_t>(t * n_mfcc + c + 1)];
      gm[c] += v;
      gv[c] += v * v;
    }
  }
  for (int c = 0; c < C; ++c) {
    gm[c] /= static_cast<double>(n_speech);
    gv[c] = std::max(1e-6, gv[c] / static_cast<double>(n_speech) - gm[c] * gm[c]);
  }
  std::vector<double> mu(static_cast<size_t>(K * C), 0), var(mu.size(), 0), cnt(K, 0);
  for (int64_t t = 0; t < T; ++t) {
    if (!speech[t]) continue;
    const int k = label[t];
    cnt[k] += 1;
    for (int c = 0; c < C; ++c) {
      const double z = (mfcc[static_cast<size_t>(t * n_mfcc + c + 1)] - gm[c]) / std::sqrt(gv[c]);
      mu[static_cast<size_t>(k * C + c)] += z;
      var[static_cast<size_t>(k * C + c)] += z * z;
    }
  }
  for (int k = 0; k < K; ++k) {
    for (int c = 0; c < C; ++c) {
      const size_t i = static_cast<size_t>(k * C + c);
      if (cnt[k] > 0) {
        mu[i] /= cnt[k];
        var[i] = std::max(0.05, var[i] / cnt[k] - mu[i] * mu[i]);
      } else {
        var[i] = 1;
      }
    }
  }
  std::vector<double> score(static_cast<size_t>(T * K), 0.0);
  for (int64_t t = 0; t < T; ++t) {
    if (!speech[t]) continue;
    double tot = 0;
    for (int k = 0; k < K; ++k) tot += votes[static_cast<size_t>(t * K + k)];
    double mx = -1e300;
    for (int k = 0; k < K; ++k) {
      double ll = 0;
      for (int c = 0; c < C; ++c) {
        const size_t i = static_cast<size_t>(k * C + c);
        const double z = (mfcc[static_cast<size_t>(t * n_mfcc + c + 1)] - gm[c]) / std::sqrt(gv[c]);
        ll += -0.5 * ((z - mu[i]) * (z - mu[i]) / var[i] + std::log(var[i]));
      }
      score[static_cast<size_t>(t * K + k)] = ll;
      mx = std::max(mx, ll);
    }
    for (int k = 0; k < K; ++k) {
      const double prior = (votes[static_cast<size_t>(t * K + k)] + 0.5) / (tot + 0.5 * K);
      score[static_cast<size_t>(t * K + k)] =
          cfg.acoustic_weight * (score[static_cast<size_t>(t * K + k)] - mx) + std::log(prior);
    }
  }
  const int L = std::max(2, static_cast<int>(std::lround(cfg.min_turn_s / frame_s)));
  viterbi(score, T, K, L, cfg.switch_penalty, speech, label);
}

}  // namespace hptrain::diarization
