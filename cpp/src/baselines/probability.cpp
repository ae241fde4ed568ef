// LIBSVM's probability estimates of C-SVC (cjlin1/libsvm:svm.cpp): Platt's sigmoid on decision
// values and pairwise coupling into class probabilities (declared in smo.h).
#include <algorithm>
#include <cmath>
#include <vector>

#include "baselines/smo.h"
#include "hptrain/log.h"

namespace hptrain::baselines {

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
