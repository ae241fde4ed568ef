// Diarization error rate (DER, NIST md-eval) and Jaccard error rate (JER, dscore) of hypothesis
// RTTM turns against reference turns, per recording (uri) and overall. Times in seconds.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hptrain/diarization/rttm.h"

namespace hptrain::diarization {

// The scoring options of md-eval / dscore.
struct ScoreConfig {
  // No-score zone of +-collar seconds around every reference turn's onset and offset (md-eval
  // -c, dscore --collar); the zone drops reference and hypothesis alike. Applies to DER only.
  double collar = 0.25;
  // Leave out the time where two or more reference speakers talk (md-eval -1, dscore
  // --ignore_overlaps). Applies to DER only.
  bool skip_overlap = false;
  void validate() const;
};

// The errors of one recording (or the sum over recordings), in seconds of scored time.
struct DerParts {
  double total = 0;        // reference speech: sum over scored time of the reference speakers
  double missed = 0;       // reference speakers beyond the hypothesis's count
  double false_alarm = 0;  // hypothesis speakers beyond the reference's count
  double confusion = 0;    // min(n_ref, n_hyp) minus the pairs mapped to each other
  double errors() const { return missed + false_alarm + confusion; }
  // 100 errors / total; empty when total is 0 (a recording without reference speech).
  std::optional<double> der_percent() const;
};

struct FileScore {
  std::string uri;
  DerParts der;
  // dscore's JER in percent: mean over reference speakers of 1 - |r & h| / |r | h| for the
  // hypothesis speaker paired with r by the assignment that minimises the sum (unpaired: 1);
  // 0 when neither side has a speaker, 100 when only one side has.
  double jer = 0;
  std::vector<double> speaker_jers;  // one per reference speaker (what OVERALL averages)
  int ref_speakers = 0;
  int hyp_speakers = 0;
  // reference speaker -> hypothesis speaker of the DER mapping (maximum scored overlap)
  std::map<std::string, std::string> mapping;
};

struct ScoreReport {
  std::vector<FileScore> files;       // by uri
  DerParts overall;                   // sums over the files
  double overall_jer = 0;             // mean over every file's reference speakers (dscore)
  std::vector<std::string> ref_only;  // uris with reference turns but no hypothesis file
  std::vector<std::string> hyp_only;  // uris with a hypothesis but no reference
};

// Scores one recording. Same-speaker turns that overlap or touch are merged first.
FileScore score_file(const std::string& uri, const std::vector<Turn>& ref,
                     const std::vector<Turn>& hyp, const ScoreConfig& cfg);

// Scores every uri of either side (a uri on one side only is scored against nothing and listed
// in ref_only / hyp_only).
ScoreReport score(const std::map<std::string, std::vector<Turn>>& ref,
                  const std::map<std::string, std::vector<Turn>>& hyp, const ScoreConfig& cfg);

// dscore-like table: a header, one row per uri, then OVERALL; DER first, in percent, then JER,
// missed, false alarm and confusion (percent of the reference speech) and the reference speech
// in seconds. A DER without reference speech shows as "-".
std::string format_table(const ScoreReport& r);

nlohmann::json to_json(const ScoreReport& r, const ScoreConfig& cfg);

// Options and entry point of `hptrain score-diarization`: prints the table to stdout and
// writes the JSON when `json` is not empty; warns about uris on one side only.
struct ScoreDiarizationOptions {
  std::string ref;  // an RTTM file or a folder of them
  std::string hyp;
  std::string json;
  ScoreConfig config;
};
ScoreReport run_score_diarization(const ScoreDiarizationOptions& opts);

}  // namespace hptrain::diarization
