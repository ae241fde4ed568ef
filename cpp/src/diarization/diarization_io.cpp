// The diarization's files: a run's clustering settings in, RTTM, segments CSV and timeline PNG
// out (diarization_io.h).
#include "hptrain/diarization/diarization_io.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "hptrain/csv.h"
#include "hptrain/fs.h"
#include "hptrain/metrics/plots.h"
#include "hptrain/toml_config.h"

namespace hptrain::diarization {

namespace stdfs = std::filesystem;

void read_diarize_settings(const stdfs::path& file, DiarizeConfig& cfg) {
  const toml::table t = config::parse_file(file);
  const config::Section s(&t, file.string());
  s.get("threshold", cfg.clustering.threshold);
  s.get("standardise", cfg.recording.standardise);
  s.get("whiten", cfg.whiten);
  s.get("whiten_weight", cfg.recording.whiten_weight);
  s.require("whiten_weight", cfg.recording.whiten_weight > 0 && cfg.recording.whiten_weight <= 1,
            "must be in (0, 1]");
  s.get_choice("clustering", cfg.clustering.method, {"ahc", "spectral"});
  s.get("piece_s", cfg.recording.piece_s);
  s.get("link_threshold", cfg.recording.link_threshold);
  s.get("mfcc_weight", cfg.mfcc_weight);
  s.require("mfcc_weight", cfg.mfcc_weight >= 0 && cfg.mfcc_weight < 1, "must be in [0, 1)");
  s.require("piece_s", cfg.recording.piece_s >= 0, "must be >= 0 (0: one stage)");
  s.require("threshold", cfg.clustering.threshold >= -1 && cfg.clustering.threshold <= 1,
            "must be a cosine similarity in [-1, 1]");
  s.check_unknown();
}

void write_diarization(const stdfs::path& out, const DiarizeResult& r) {
  stdfs::create_directories(out);
  write_rttm(out / (r.uri + ".rttm"), r.turns);
  std::ostringstream csv;
  csv << "uri,speaker,start,end,duration\n";
  char b[128];
  for (const auto& t : r.turns) {
    std::snprintf(b, sizeof b, ",%.3f,%.3f,%.3f\n", t.onset, t.onset + t.duration, t.duration);
    csv << csv_field(t.uri) << "," << csv_field(t.speaker) << b;
  }
  fs::write_text(out / (r.uri + ".segments.csv"), csv.str());
  if (r.turns.empty()) return;
  std::vector<std::string> speakers;
  for (const auto& t : r.turns) {
    if (std::find(speakers.begin(), speakers.end(), t.speaker) == speakers.end())
      speakers.push_back(t.speaker);
  }
  std::vector<metrics::TimelineRow> rows;
  for (size_t i = 0; i < speakers.size(); ++i) {
    metrics::TimelineRow row;
    row.name = speakers[i];
    row.classes = speakers;
    for (const auto& t : r.turns) {
      if (t.speaker == speakers[i])
        row.spans.push_back({t.onset, t.onset + t.duration, static_cast<int>(i)});
    }
    rows.push_back(std::move(row));
  }
  metrics::plot_timeline(out / (r.uri + ".png"), rows, r.uri + ": who speaks when");
}

}  // namespace hptrain::diarization
