// Naming a diarization's speakers by a film's cast (diarize.h name_speakers): a one-to-one
// assignment of cluster centroids to enrolled characters on the cast's score
// (metrics/score_norm.h), under the cast's threshold.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "hptrain/diarization/assignment.h"
#include "hptrain/diarization/diarize.h"
#include "hptrain/error.h"
#include "hptrain/log.h"
#include "hptrain/metrics/score_norm.h"

namespace hptrain::diarization {

void name_speakers(DiarizeResult& r, const Enrolment& e) {
  const int S = static_cast<int>(r.names.size());
  const int C = static_cast<int>(e.characters.size());
  if (S == 0) return;
  if (e.dim != r.dim) {
    throw ConfigError("cast: " + std::to_string(e.dim) + "-dimensional centroids for " +
                      std::to_string(r.dim) + "-dimensional embeddings");
  }
  // the cluster centroids are means of raw window embeddings: the scorer normalises them
  metrics::Scorer scorer(e.scoring, e.cohort.data(), e.cohort_n, e.dim);
  scorer.set_models(e.centroids.data(), C);
  std::vector<double> score(static_cast<size_t>(S) * C, 0.0);
  for (int s = 0; s < S && C > 0; ++s) {
    bool zero = true;  // a speaker no clustered window voted for
    for (int64_t k = 0; k < r.dim; ++k) zero = zero && r.centroids[s * r.dim + k] == 0.0f;
    const auto row = zero ? std::vector<double>(static_cast<size_t>(C), -1e30)
                          : scorer.scores(r.centroids.data() + s * r.dim);
    std::copy(row.begin(), row.end(), score.begin() + static_cast<std::ptrdiff_t>(s) * C);
  }
  std::vector<std::string> named(static_cast<size_t>(S));
  if (C > 0) {
    std::vector<double> cost(score.size());
    for (size_t i = 0; i < score.size(); ++i) cost[i] = -score[i];
    for (const auto& [s, c] : linear_sum_assignment(cost, S, C)) {
      const double v = score[static_cast<size_t>(s) * C + c];
      if (v >= e.threshold) named[s] = e.characters[c];
      HP_LOG_INFO("diarize: {} ~ {}: {} score {:.3f} {} threshold {:.3f}", r.names[s],
                  e.characters[c], e.scoring.method, v, v >= e.threshold ? ">=" : "<", e.threshold);
    }
  }
  int unknown = 0;
  std::map<std::string, std::string> rename;
  for (int s = 0; s < S; ++s) {  // names are in the order of first turns
    if (named[s].empty()) named[s] = "unknown_" + std::to_string(++unknown);
    rename[r.names[s]] = named[s];
  }
  for (auto& t : r.turns) t.speaker = rename.at(t.speaker);
  r.names = named;
}

}  // namespace hptrain::diarization
