// Open-set naming and verification of unheard voices (speakers/open_set.h).
#include "hptrain/speakers/open_set.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/log.h"
#include "hptrain/speakers/split_verification.h"

namespace hptrain::speakers {

OpenSetResult score_open_set(const Cast& cast, const std::vector<float>& embeddings,
                             std::vector<OpenSetLine> lines) {
  const auto n = static_cast<int64_t>(lines.size());
  if (static_cast<int64_t>(embeddings.size()) != n * cast.dim) {
    throw InputError("open-set scoring: " + std::to_string(embeddings.size()) +
                     " embedding values for " + std::to_string(n) + " lines of " +
                     std::to_string(cast.dim) + " dimensions");
  }
  OpenSetResult r;
  r.threshold = cast.threshold;
  std::map<std::string, int64_t> voice_id;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    OpenSetLine& l = lines[static_cast<size_t>(i)];
    const bool unknown = l.expected == kUnknown;
    if (!unknown && std::find(cast.characters.begin(), cast.characters.end(), l.expected) ==
                        cast.characters.end()) {
      throw InputError(l.file.string() + " (row " + std::to_string(l.row) + "): character '" +
                       l.expected + "' is not in the cast (and not '" + kUnknown + "')");
    }
    const float* e = embeddings.data() + i * cast.dim;
    std::vector<double> all;
    const int64_t named = name_window(cast, e, &l.score, &all);
    int64_t nearest = 0;  // the best score, whatever the threshold (name_window's first best)
    for (size_t c = 1; c < all.size(); ++c) {
      if (all[c] > all[static_cast<size_t>(nearest)]) nearest = static_cast<int64_t>(c);
    }
    l.named = named >= 0 ? cast.characters[static_cast<size_t>(named)] : kUnknown;
    l.nearest = cast.characters.empty() ? kUnknown : cast.characters[static_cast<size_t>(nearest)];
    const bool ok = l.named == l.expected;
    r.correct += ok;
    if (unknown) {
      ++r.unknown_lines;
      r.unknown_correct += ok;
    } else {
      ++r.known_lines;
      r.known_correct += ok;
      r.known_nearest += l.nearest == l.expected;
    }
    labels.push_back(l.voice.empty() ? -1
                                     : voice_id.emplace(l.voice, voice_id.size()).first->second);
  }
  const auto trials = metrics::embedding_trials(embeddings.data(), n, cast.dim, labels, 2000000, 0);
  const auto targets = std::count(trials.target.begin(), trials.target.end(), true);
  if (targets > 0 && targets < static_cast<std::ptrdiff_t>(trials.target.size())) {
    r.verification = metrics::verification(trials.scores, trials.target);
  }
  r.lines = std::move(lines);
  return r;
}

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

OpenSetResult run_evaluate_cast(const EvaluateCastOptions& opts) {
  opts.embed.validate();
  std::filesystem::create_directories(opts.out);
  // the test manifest first: a bad row stops before the (slower) enrolment
  const auto rows = read_cast_lines(opts.test_manifest, opts.embed.window_s);
  EnrollOptions enroll;
  enroll.run = opts.run;
  enroll.manifest = opts.cast_manifest;
  enroll.out = opts.out / "cast.h5";
  enroll.embed = opts.embed;
  enroll.split = opts.split;
  enroll.scoring = opts.scoring;
  enroll.calibrate = opts.calibrate;
  Cast cast = run_enroll(enroll);
  if (opts.threshold) cast.threshold = *opts.threshold;

  Embedder emb(opts.run, opts.embed);
  std::map<const CastLine*, std::vector<float>> line_emb;
  for (const auto& [i, e] : embed_cast_lines(emb, rows, opts.test_manifest)) {
    std::vector<double> mean(static_cast<size_t>(cast.dim), 0.0);
    for (int64_t w = 0; w < e.size(); ++w) {
      for (int64_t d = 0; d < cast.dim; ++d) mean[static_cast<size_t>(d)] += e.row(w)[d];
    }
    double norm = 0;
    for (double v : mean) norm += v * v;
    norm = std::sqrt(norm);
    auto& out = line_emb[&rows[i]];
    for (double v : mean) out.push_back(static_cast<float>(norm > 0 ? v / norm : 0.0));
  }
  std::vector<OpenSetLine> lines;
  std::vector<float> embeddings;
  for (const auto& l : rows) {  // the manifest's order
    const auto it = line_emb.find(&l);
    if (it == line_emb.end()) continue;
    OpenSetLine o;
    o.row = l.row;
    o.file = l.file;
    o.start = l.start;
    o.end = l.end;
    o.expected = l.character;
    o.voice = !l.voice.empty() ? l.voice : l.character != kUnknown ? l.character : "";
    lines.push_back(std::move(o));
    embeddings.insert(embeddings.end(), it->second.begin(), it->second.end());
  }
  if (lines.empty()) {
    throw InputError("'" + opts.test_manifest.string() + "': no line with a window of audio");
  }
  OpenSetResult r = score_open_set(cast, embeddings, std::move(lines));

  std::ostringstream csv;
  csv << std::setprecision(6) << "row,path,start,end,expected,voice,named,nearest,score\n";
  for (const auto& l : r.lines) {
    csv << l.row << "," << csv_field(l.file.string()) << "," << l.start << "," << l.end << ","
        << csv_field(l.expected) << "," << csv_field(l.voice) << "," << csv_field(l.named) << ","
        << csv_field(l.nearest) << "," << l.score << "\n";
  }
  fs::write_text(opts.out / "lines.csv", csv.str());
  nlohmann::json j = {
      {"run", opts.run.string()},
      {"cast_manifest", opts.cast_manifest.string()},
      {"test_manifest", opts.test_manifest.string()},
      {"characters", cast.characters},
      {"scoring", cast.scoring.method},
      {"top_n", cast.scoring.top_n},
      {"cohort", cast.cohort_n},
      {"threshold", cast.threshold},
      {"calibrate", opts.threshold ? std::string("--threshold") : cast.calibrate},
      {"calibration", opts.threshold ? std::string("--threshold") : cast.calibration},
      {"window_s", opts.embed.window_s},
      {"hop_s", opts.embed.hop_s},
      {"lines", r.lines.size()},
      {"accuracy", r.accuracy()},
      {"known",
       {{"lines", r.known_lines},
        {"accuracy", r.known_accuracy()},
        {"closed_set_accuracy", r.closed_set_accuracy()}}},
      {"unknown", {{"lines", r.unknown_lines}, {"accuracy", r.unknown_accuracy()}}},
      {"verification", r.verification ? to_json(*r.verification) : nlohmann::json(nullptr)}};
  fs::write_text(opts.out / "open_set.json", j.dump(2) + "\n");
  HP_LOG_INFO(
      "{}: open-set accuracy {:.3f} over {} lines (known {:.3f}, unknown {:.3f}), EER {:.2f} %",
      opts.out.string(), r.accuracy(), r.lines.size(), r.known_accuracy(), r.unknown_accuracy(),
      r.verification ? 100 * r.verification->eer : std::nan(""));
  return r;
}

}  // namespace hptrain::speakers
