// Within-speaker whitening of embeddings (whitening.h).
#include "hptrain/diarization/whitening.h"

#include <Eigen/Dense>

#include <map>
#include <string>

#include "hptrain/error.h"

namespace hptrain::diarization {

void Whitening::apply(float* rows, int64_t n, int64_t stride) const {
  const auto d = static_cast<size_t>(dim);
  const auto step = static_cast<size_t>(stride > 0 ? stride : dim);
  std::vector<double> c(d);
  for (int64_t i = 0; i < n; ++i) {
    float* r = rows + static_cast<size_t>(i) * step;
    for (size_t k = 0; k < d; ++k) c[k] = r[k] - mean[k];
    for (size_t k = 0; k < d; ++k) {
      double s = 0;
      for (size_t j = 0; j < d; ++j) s += matrix[k * d + j] * c[j];
      r[k] = static_cast<float>(s);
    }
  }
}

Whitening fit_whitening(const float* rows, int64_t n, int64_t dim,
                        const std::vector<int64_t>& labels, double shrinkage) {
  if (static_cast<int64_t>(labels.size()) != n) {
    throw Error("fit_whitening: " + std::to_string(labels.size()) + " labels for " +
                std::to_string(n) + " rows");
  }
  if (!(shrinkage >= 0)) throw ConfigError("whitening shrinkage: must be >= 0");
  using Mat = Eigen::MatrixXd;
  using Vec = Eigen::VectorXd;
  const auto row = [&](int64_t i) {
    return Eigen::Map<const Eigen::VectorXf>(rows + i * dim, dim).cast<double>();
  };
  // per speaker: count and sum
  std::map<int64_t, std::pair<int64_t, Vec>> speakers;
  Vec total = Vec::Zero(dim);
  int64_t used = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (labels[static_cast<size_t>(i)] < 0) continue;
    auto [it, fresh] = speakers.try_emplace(labels[static_cast<size_t>(i)], 0, Vec::Zero(dim));
    it->second.first += 1;
    it->second.second += row(i);
    total += row(i);
    ++used;
  }
  int usable = 0;
  for (const auto& [label, s] : speakers) usable += s.first >= 2 ? 1 : 0;
  if (usable < 2) {
    throw InputError("within-speaker whitening needs two speakers of at least two rows each (" +
                     std::to_string(usable) + " given)");
  }
  // pooled within-speaker scatter over all labelled rows
  Mat sw = Mat::Zero(dim, dim);
  for (int64_t i = 0; i < n; ++i) {
    if (labels[static_cast<size_t>(i)] < 0) continue;
    const auto& s = speakers.at(labels[static_cast<size_t>(i)]);
    const Vec c = row(i) - s.second / static_cast<double>(s.first);
    sw.noalias() += c * c.transpose();
  }
  sw /= static_cast<double>(used);
  const Eigen::SelfAdjointEigenSolver<Mat> eig(sw);
  const Vec lambda = eig.eigenvalues().array().max(0.0);
  const double floor = shrinkage * lambda.mean();
  const Vec scale = (lambda.array() + floor).max(1e-12).rsqrt();
  const Mat w = eig.eigenvectors() * scale.asDiagonal() * eig.eigenvectors().transpose();
  Whitening out;
  out.dim = dim;
  out.mean.resize(static_cast<size_t>(dim));
  out.matrix.resize(static_cast<size_t>(dim * dim));
  for (int64_t k = 0; k < dim; ++k) {
    out.mean[static_cast<size_t>(k)] = total[k] / static_cast<double>(used);
    for (int64_t j = 0; j < dim; ++j) out.matrix[static_cast<size_t>(k * dim + j)] = w(k, j);
  }
  return out;
}

}  // namespace hptrain::diarization
