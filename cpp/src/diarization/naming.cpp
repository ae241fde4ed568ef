// Naming a diarization's speakers by a film's cast (diarize.h name_speakers): a one-to-one
// assignment of cluster centroids to enrolled characters on cosine, under the cast's threshold.
#include <map>
#include <string>
#include <vector>

#include "hptrain/diarization/assignment.h"
#include "hptrain/diarization/diarize.h"
#include "hptrain/error.h"
#include "hptrain/log.h"

namespace hptrain::diarization {

void name_speakers(DiarizeResult& r, const Enrolment& e) {
  const int S = static_cast<int>(r.names.size());
  const int C = static_cast<int>(e.characters.size());
  if (S == 0) return;
  if (e.dim != r.dim) {
    throw ConfigError("cast: " + std::to_string(e.dim) + "-dimensional centroids for " +
                      std::to_string(r.dim) + "-dimensional embeddings");
  }
  std::vector<double> cos(static_cast<size_t>(S) * C, 0.0);
  for (int s = 0; s < S; ++s) {
    for (int c = 0; c < C; ++c) {
      double d = 0;
      for (int64_t k = 0; k < r.dim; ++k)
        d += static_cast<double>(r.centroids[s * r.dim + k]) * e.centroids[c * e.dim + k];
      cos[static_cast<size_t>(s) * C + c] = d;
    }
  }
  std::vector<std::string> named(static_cast<size_t>(S));
  if (C > 0) {
    std::vector<double> cost(cos.size());
    for (size_t i = 0; i < cos.size(); ++i) cost[i] = -cos[i];
    for (const auto& [s, c] : linear_sum_assignment(cost, S, C)) {
      const double v = cos[static_cast<size_t>(s) * C + c];
      if (v >= e.threshold) named[s] = e.characters[c];
      HP_LOG_INFO("diarize: {} ~ {}: cosine {:.3f} {} threshold {:.3f}", r.names[s],
                  e.characters[c], v, v >= e.threshold ? ">=" : "<", e.threshold);
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
