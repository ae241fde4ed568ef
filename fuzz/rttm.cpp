// Fuzz target `rttm`: the RTTM reader (diarization/rttm.h) on arbitrary text, its writer read
// back, and DER/JER scoring (diarization/score.h) of the turns against themselves and against a
// second RTTM (the input cut at its first blank line: reference above, hypothesis below).
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "hptrain/diarization/rttm.h"
#include "hptrain/diarization/score.h"
#include "hptrain/error.h"
#include "targets.h"

namespace hptrain::fuzz {
namespace {

using diarization::Turn;

bool has_blank(const std::string& s) {
  return s.find_first_of(" \t\n\r\v\f") != std::string::npos;
}

void check_turns(const std::vector<Turn>& turns) {
  for (const auto& t : turns) {
    HP_FUZZ_CHECK(std::isfinite(t.onset) && t.onset >= 0, "onset " + std::to_string(t.onset));
    HP_FUZZ_CHECK(std::isfinite(t.duration) && t.duration >= 0,
                  "duration " + std::to_string(t.duration));
    HP_FUZZ_CHECK(!t.uri.empty() && !has_blank(t.uri), "uri '" + t.uri + "'");
    HP_FUZZ_CHECK(!t.speaker.empty() && !has_blank(t.speaker), "speaker '" + t.speaker + "'");
  }
}

// format_rttm's 3 decimals read back as the same turns, each time within half a millisecond.
void check_round_trip(const std::vector<Turn>& turns) {
  const auto file = scratch_path("round-trip.rttm");
  diarization::write_rttm(file, turns);
  const auto back = diarization::read_rttm(file);
  HP_FUZZ_CHECK(back.size() == turns.size(), std::to_string(back.size()) + " turns read back for " +
                                                 std::to_string(turns.size()));
  const auto close = [](double a, double b) {
    return std::fabs(a - b) <= 5e-4 + 1e-12 * std::fabs(a);
  };
  for (size_t i = 0; i < turns.size(); ++i) {
    HP_FUZZ_CHECK(back[i].uri == turns[i].uri, "uri '" + back[i].uri + "'");
    HP_FUZZ_CHECK(back[i].speaker == turns[i].speaker, "speaker '" + back[i].speaker + "'");
    HP_FUZZ_CHECK(close(back[i].onset, turns[i].onset), "onset read back");
    HP_FUZZ_CHECK(close(back[i].duration, turns[i].duration), "duration read back");
  }
}

std::map<std::string, std::vector<Turn>> by_uri(const std::vector<Turn>& turns) {
  std::map<std::string, std::vector<Turn>> out;
  for (const auto& t : turns) out[t.uri].push_back(t);
  return out;
}

void check_parts(const diarization::DerParts& d, const std::string& uri) {
  const double tol = 1e-9 * (1 + d.total);
  for (double v : {d.total, d.missed, d.false_alarm, d.confusion}) {
    HP_FUZZ_CHECK(std::isfinite(v) && v >= -tol, uri + ": a DER part " + std::to_string(v));
  }
  HP_FUZZ_CHECK(d.missed + d.confusion <= d.total + tol,
                uri + ": missed + confusion above the reference speech");
}

void check_report(const diarization::ScoreReport& r) {
  for (const auto& f : r.files) {
    check_parts(f.der, f.uri);
    HP_FUZZ_CHECK(std::isfinite(f.jer) && f.jer >= 0 && f.jer <= 100,
                  f.uri + ": JER " + std::to_string(f.jer));
    HP_FUZZ_CHECK(f.speaker_jers.size() == static_cast<size_t>(f.ref_speakers),
                  f.uri + ": one JER per reference speaker");
  }
  check_parts(r.overall, "OVERALL");
  HP_FUZZ_CHECK(std::isfinite(r.overall_jer) && r.overall_jer >= 0 && r.overall_jer <= 100,
                "OVERALL JER " + std::to_string(r.overall_jer));
  (void)diarization::format_table(r);
}

std::vector<Turn> read(const std::string& name, const std::string& text) {
  return diarization::read_rttm(
      scratch_file(name, reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace

int fuzz_rttm(const uint8_t* data, size_t size) {
  quiet();
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto cut = text.find("\n\n");
  std::vector<Turn> ref, hyp;
  try {
    ref = read("ref.rttm", text.substr(0, cut));
    hyp = cut == std::string::npos ? ref : read("hyp.rttm", text.substr(cut + 2));
  } catch (const Error&) {
    return 0;
  }
  check_turns(ref);
  check_turns(hyp);
  check_round_trip(ref);
  const auto refs = by_uri(ref), hyps = by_uri(hyp);
  diarization::ScoreConfig plain;
  plain.collar = 0;
  diarization::ScoreConfig md_eval;  // collar 0.25 s, overlap left out
  md_eval.skip_overlap = true;
  for (const auto& cfg : {plain, md_eval}) {
    try {
      // a reference against itself: no error
      const auto self = diarization::score(refs, refs, cfg);
      check_report(self);
      HP_FUZZ_CHECK(self.overall.errors() <= 1e-9 * (1 + self.overall.total),
                    "the reference scored against itself has errors");
      const auto r = diarization::score(refs, hyps, cfg);
      check_report(r);
      (void)diarization::to_json(r, cfg);
    } catch (const Error&) {
      return 0;
    }
  }
  return 0;
}

}  // namespace hptrain::fuzz
