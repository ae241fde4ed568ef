// DER as md-eval computes it and JER as dscore computes it (score.h).
// ref: NIST md-eval-22.pl (speaker diarization scoring), nryant/dscore scorelib/metrics.py jer().
#include "hptrain/diarization/score.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <set>

#include "hptrain/diarization/assignment.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/log.h"

namespace hptrain::diarization {

namespace {

using Interval = std::pair<double, double>;

// Union of intervals (sorted, overlapping or touching ones joined, empty ones dropped).
std::vector<Interval> merge(std::vector<Interval> v) {
  std::sort(v.begin(), v.end());
  std::vector<Interval> out;
  for (const auto& iv : v) {
    if (iv.second <= iv.first) continue;
    if (!out.empty() && iv.first <= out.back().second) {
      out.back().second = std::max(out.back().second, iv.second);
    } else {
      out.push_back(iv);
    }
  }
  return out;
}

struct Speakers {
  std::vector<std::string> names;
  std::vector<std::vector<Interval>> turns;  // merged, per speaker
};

Speakers by_speaker(const std::vector<Turn>& turns) {
  std::map<std::string, std::vector<Interval>> m;
  for (const auto& t : turns) m[t.speaker].emplace_back(t.onset, t.onset + t.duration);
  Speakers s;
  for (auto& [name, iv] : m) {
    auto merged = merge(std::move(iv));
    if (merged.empty()) continue;
    s.names.push_back(name);
    s.turns.push_back(std::move(merged));
  }
  return s;
}

double total_length(const std::vector<Interval>& v) {
  double s = 0;
  for (const auto& iv : v) s += iv.second - iv.first;
  return s;
}

// Length of the intersection of two sorted disjoint interval lists.
double intersection(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  double s = 0;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const double lo = std::max(a[i].first, b[j].first);
    const double hi = std::min(a[i].second, b[j].second);
    if (hi > lo) s += hi - lo;
    (a[i].second < b[j].second) ? ++i : ++j;
  }
  return s;
}

// Elementary segments between consecutive boundaries, each with the speakers active on it.
// `on(list, k, t)`: whether a sorted disjoint list covers the segment starting at boundary k.
struct Sweep {
  std::vector<double> times;
  explicit Sweep(const std::vector<const std::vector<Interval>*>& lists) {
    for (const auto* l : lists) {
      for (const auto& iv : *l) {
        times.push_back(iv.first);
        times.push_back(iv.second);
      }
    }
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
  }
};

// Per list, a cursor that says whether the list covers the segment [t0, t1).
struct Cursor {
  const std::vector<Interval>* list;
  size_t i = 0;
  bool covers(double t0, double t1) {
    while (i < list->size() && (*list)[i].second <= t0) ++i;
    return i < list->size() && (*list)[i].first <= t0 && (*list)[i].second >= t1;
  }
};

}  // namespace

void ScoreConfig::validate() const {
  if (!(collar >= 0) || !std::isfinite(collar)) {
    throw ConfigError("collar = " + std::to_string(collar) + ": must be >= 0 seconds");
  }
}

std::optional<double> DerParts::der_percent() const {
  if (total <= 0) return std::nullopt;
  return 100.0 * errors() / total;
}

FileScore score_file(const std::string& uri, const std::vector<Turn>& ref_turns,
                     const std::vector<Turn>& hyp_turns, const ScoreConfig& cfg) {
  cfg.validate();
  FileScore fs;
  fs.uri = uri;
  const Speakers ref = by_speaker(ref_turns);
  const Speakers hyp = by_speaker(hyp_turns);
  const int nr = static_cast<int>(ref.names.size());
  const int nh = static_cast<int>(hyp.names.size());
  fs.ref_speakers = nr;
  fs.hyp_speakers = nh;

  // ---- DER: no-score zones of +-collar around every reference turn's boundaries (md-eval)
  std::vector<Interval> zones;
  if (cfg.collar > 0) {
    for (const auto& turns : ref.turns) {
      for (const auto& iv : turns) {
        zones.emplace_back(iv.first - cfg.collar, iv.first + cfg.collar);
        zones.emplace_back(iv.second - cfg.collar, iv.second + cfg.collar);
      }
    }
  }
  zones = merge(std::move(zones));
  std::vector<const std::vector<Interval>*> lists;
  for (const auto& t : ref.turns) lists.push_back(&t);
  for (const auto& t : hyp.turns) lists.push_back(&t);
  lists.push_back(&zones);
  const Sweep sweep(lists);
  std::vector<Cursor> rc, hc;
  for (const auto& t : ref.turns) rc.push_back({&t});
  for (const auto& t : hyp.turns) hc.push_back({&t});
  Cursor zc{&zones};
  std::vector<double> overlap(static_cast<size_t>(nr) * nh, 0.0);
  std::vector<int> ra, ha;
  double paired_max = 0;  // sum over segments of d * min(n_ref, n_hyp)
  for (size_t k = 0; k + 1 < sweep.times.size(); ++k) {
    const double t0 = sweep.times[k], t1 = sweep.times[k + 1];
    const double d = t1 - t0;
    ra.clear();
    ha.clear();
    for (int r = 0; r < nr; ++r) {
      if (rc[r].covers(t0, t1)) ra.push_back(r);
    }
    for (int h = 0; h < nh; ++h) {
      if (hc[h].covers(t0, t1)) ha.push_back(h);
    }
    if (zc.covers(t0, t1)) continue;
    if (cfg.skip_overlap && ra.size() > 1) continue;
    const double n_ref = static_cast<double>(ra.size()), n_hyp = static_cast<double>(ha.size());
    fs.der.total += d * n_ref;
    fs.der.missed += d * std::max(0.0, n_ref - n_hyp);
    fs.der.false_alarm += d * std::max(0.0, n_hyp - n_ref);
    paired_max += d * std::min(n_ref, n_hyp);
    for (int r : ra) {
      for (int h : ha) overlap[static_cast<size_t>(r) * nh + h] += d;
    }
  }
  // the one-to-one mapping with the largest scored overlap (md-eval maps speakers the same way)
  std::vector<double> cost(overlap.size());
  for (size_t i = 0; i < overlap.size(); ++i) cost[i] = -overlap[i];
  double correct = 0;
  for (const auto& [r, h] : linear_sum_assignment(cost, nr, nh)) {
    const double o = overlap[static_cast<size_t>(r) * nh + h];
    if (o <= 0) continue;
    correct += o;
    fs.mapping[ref.names[r]] = hyp.names[h];
  }
  fs.der.confusion = std::max(0.0, paired_max - correct);

  // ---- JER (dscore): the whole recording, no collar, no overlap rule
  if (nr == 0) {
    fs.jer = nh == 0 ? 0.0 : 100.0;
    return fs;
  }
  fs.speaker_jers.assign(nr, 1.0);
  if (nh > 0) {
    std::vector<double> jer(static_cast<size_t>(nr) * nh);
    for (int r = 0; r < nr; ++r) {
      const double lr = total_length(ref.turns[r]);
      for (int h = 0; h < nh; ++h) {
        const double inter = intersection(ref.turns[r], hyp.turns[h]);
        const double uni = lr + total_length(hyp.turns[h]) - inter;
        jer[static_cast<size_t>(r) * nh + h] = uni > 0 ? 1.0 - inter / uni : 1.0;
      }
    }
    for (const auto& [r, h] : linear_sum_assignment(jer, nr, nh)) {
      fs.speaker_jers[r] = jer[static_cast<size_t>(r) * nh + h];
    }
  }
  double sum = 0;
  for (double j : fs.speaker_jers) sum += j;
  fs.jer = nh == 0 ? 100.0 : 100.0 * sum / nr;
  return fs;
}

ScoreReport score(const std::map<std::string, std::vector<Turn>>& ref,
                  const std::map<std::string, std::vector<Turn>>& hyp, const ScoreConfig& cfg) {
  ScoreReport rep;
  std::set<std::string> uris;
  for (const auto& [u, t] : ref) uris.insert(u);
  for (const auto& [u, t] : hyp) uris.insert(u);
  static const std::vector<Turn> kNone;
  std::vector<double> all_jers;
  for (const auto& u : uris) {
    const auto r = ref.find(u);
    const auto h = hyp.find(u);
    if (h == hyp.end()) rep.ref_only.push_back(u);
    if (r == ref.end()) rep.hyp_only.push_back(u);
    FileScore f =
        score_file(u, r == ref.end() ? kNone : r->second, h == hyp.end() ? kNone : h->second, cfg);
    rep.overall.total += f.der.total;
    rep.overall.missed += f.der.missed;
    rep.overall.false_alarm += f.der.false_alarm;
    rep.overall.confusion += f.der.confusion;
    all_jers.insert(all_jers.end(), f.speaker_jers.begin(), f.speaker_jers.end());
    rep.files.push_back(std::move(f));
  }
  double sum = 0;
  for (double j : all_jers) sum += j;
  if (all_jers.empty()) {  // no reference speaker anywhere: dscore's 100 when any hypothesis
    bool any_hyp = false;
    for (const auto& f : rep.files) any_hyp = any_hyp || f.hyp_speakers > 0;
    rep.overall_jer = any_hyp ? 100.0 : 0.0;
  } else {
    rep.overall_jer = 100.0 * sum / static_cast<double>(all_jers.size());
  }
  return rep;
}

namespace {

std::string pct(double part, double total) {
  if (total <= 0) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", 100.0 * part / total);
  return b;
}

std::string row(const std::string& name, const DerParts& d, double jer, size_t width) {
  char b[256];
  std::snprintf(b, sizeof b, "%-*s %7s %7.2f %7s %7s %7s %10.2f\n", static_cast<int>(width),
                name.c_str(), pct(d.errors(), d.total).c_str(), jer, pct(d.missed, d.total).c_str(),
                pct(d.false_alarm, d.total).c_str(), pct(d.confusion, d.total).c_str(), d.total);
  return b;
}

nlohmann::json parts_json(const DerParts& d) {
  nlohmann::json j;
  const auto der = d.der_percent();
  j["der"] = der ? nlohmann::json(*der) : nlohmann::json(nullptr);
  j["missed_s"] = d.missed;
  j["false_alarm_s"] = d.false_alarm;
  j["confusion_s"] = d.confusion;
  j["reference_s"] = d.total;
  return j;
}

}  // namespace

std::string format_table(const ScoreReport& r) {
  size_t width = 7;  // "OVERALL"
  for (const auto& f : r.files) width = std::max(width, f.uri.size());
  char head[256];
  std::snprintf(head, sizeof head, "%-*s %7s %7s %7s %7s %7s %10s\n", static_cast<int>(width),
                "File", "DER", "JER", "Missed", "FA", "Conf.", "Ref. (s)");
  std::string out = head;
  out += std::string(width + 8 * 5 + 11, '-') + "\n";
  for (const auto& f : r.files) out += row(f.uri, f.der, f.jer, width);
  out += row("OVERALL", r.overall, r.overall_jer, width);
  return out;
}

nlohmann::json to_json(const ScoreReport& r, const ScoreConfig& cfg) {
  nlohmann::json j;
  j["collar"] = cfg.collar;
  j["skip_overlap"] = cfg.skip_overlap;
  j["overall"] = parts_json(r.overall);
  j["overall"]["jer"] = r.overall_jer;
  j["files"] = nlohmann::json::array();
  for (const auto& f : r.files) {
    nlohmann::json fj = parts_json(f.der);
    fj["uri"] = f.uri;
    fj["jer"] = f.jer;
    fj["reference_speakers"] = f.ref_speakers;
    fj["hypothesis_speakers"] = f.hyp_speakers;
    fj["mapping"] = f.mapping;
    j["files"].push_back(std::move(fj));
  }
  j["reference_only"] = r.ref_only;
  j["hypothesis_only"] = r.hyp_only;
  return j;
}

ScoreReport run_score_diarization(const ScoreDiarizationOptions& opts) {
  opts.config.validate();
  const auto ref = read_rttm_inputs(opts.ref);
  const auto hyp = read_rttm_inputs(opts.hyp);
  ScoreReport rep = score(ref, hyp, opts.config);
  for (const auto& u : rep.ref_only) {
    HP_LOG_WARN("uri '{}' is in the reference only: scored against an empty hypothesis", u);
  }
  for (const auto& u : rep.hyp_only) {
    HP_LOG_WARN("uri '{}' is in the hypothesis only: all of it is false alarm", u);
  }
  std::cout << format_table(rep);
  if (!opts.json.empty()) fs::write_text(opts.json, to_json(rep, opts.config).dump(2) + "\n");
  return rep;
}

}  // namespace hptrain::diarization
