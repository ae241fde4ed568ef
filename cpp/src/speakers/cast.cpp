// Enrolment of a film's cast and naming windows by it (speakers/cast.h; the file: cast_file.cpp).
#include "hptrain/speakers/cast.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <sstream>

#include "hptrain/data/manifest.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/log.h"

namespace hptrain::speakers {
namespace {

std::string where(const std::filesystem::path& manifest, int64_t row) {
  return manifest.string() + ":" + std::to_string(row);
}

}  // namespace

std::vector<CastLine> read_cast_lines(const std::filesystem::path& manifest, double window_s) {
  const auto rows = data::parse_csv(fs::read_text(manifest), manifest.string());
  if (rows.empty()) throw InputError("'" + manifest.string() + "' is empty");
  const auto& head = rows.front().fields;
  const auto column = [&](const std::string& name) {
    const auto it = std::find(head.begin(), head.end(), name);
    if (it == head.end()) {
      throw InputError("'" + manifest.string() + "': no column '" + name +
                       "' (a cast manifest has path,start,end,character)");
    }
    return static_cast<size_t>(it - head.begin());
  };
  const size_t c_path = column("path"), c_start = column("start"), c_end = column("end"),
               c_char = column("character");
  const auto voice_it = std::find(head.begin(), head.end(), "voice");
  std::vector<CastLine> lines;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string at = where(manifest, row.line);
    if (!row.error.empty()) throw InputError(at + ": " + row.error);
    if (row.fields.size() != head.size()) {
      throw InputError(at + ": " + std::to_string(row.fields.size()) + " fields, the header has " +
                       std::to_string(head.size()));
    }
    CastLine l;
    l.row = row.line;
    l.character = row.fields[c_char];
    if (voice_it != head.end()) l.voice = row.fields[static_cast<size_t>(voice_it - head.begin())];
    if (l.character.empty()) throw InputError(at + ": no character");
    if (row.fields[c_path].empty()) throw InputError(at + ": no path");
    l.file = row.fields[c_path];
    if (l.file.is_relative()) l.file = manifest.parent_path() / l.file;
    const auto start = data::parse_time(row.fields[c_start]);
    const auto end = data::parse_time(row.fields[c_end]);
    if (!start || !end) {
      throw InputError(at + ": start '" + row.fields[c_start] + "' or end '" + row.fields[c_end] +
                       "' is not a time (seconds, mm:ss or hh:mm:ss)");
    }
    l.start = *start;
    l.end = *end;
    if (!(l.end > l.start)) {
      throw InputError(at + ": end " + row.fields[c_end] + " is not after start " +
                       row.fields[c_start]);
    }
    // the window holds window_s; a shorter line would be mostly padding
    if (l.end - l.start < window_s - 1e-9) {
      std::ostringstream os;
      os << at << ": the line of '" << l.character << "' (" << row.fields[c_path] << ", "
         << row.fields[c_start] << " to " << row.fields[c_end] << ") lasts " << l.end - l.start
         << " s, shorter than the window (" << window_s
         << " s): give a longer line or a smaller --window-s";
      throw InputError(os.str());
    }
    lines.push_back(std::move(l));
  }
  if (lines.empty()) throw InputError("'" + manifest.string() + "' has no line");
  return lines;
}

std::map<size_t, Embeddings> embed_cast_lines(Embedder& emb, const std::vector<CastLine>& lines,
                                              const std::filesystem::path& manifest) {
  std::map<std::filesystem::path, std::vector<size_t>> by_file;
  for (size_t i = 0; i < lines.size(); ++i) by_file[lines[i].file].push_back(i);
  const double len = std::lround(emb.options().window_s * emb.sample_rate());
  std::map<size_t, Embeddings> out;
  for (const auto& [file, idx] : by_file) {
    std::vector<std::pair<double, double>> spans;
    for (size_t i : idx) spans.emplace_back(lines[i].start, lines[i].end);
    std::vector<std::vector<float>> audio;
    try {
      audio = emb.read_spans(file, spans);
    } catch (const InputError& e) {
      HP_LOG_WARN("{}: {}: its lines are not used", manifest.string(), e.what());
      continue;
    }
    for (size_t k = 0; k < idx.size(); ++k) {
      const CastLine& l = lines[idx[k]];
      if (static_cast<double>(audio[k].size()) < len) {
        HP_LOG_WARN(
            "{}: '{}' has {:.2f} s of audio from {} to {} s, less than a window: line not "
            "used",
            where(manifest, l.row), file.string(),
            static_cast<double>(audio[k].size()) / emb.sample_rate(), l.start, l.end);
        continue;
      }
      out.emplace(idx[k], emb.embed(audio[k].data(), audio[k].size(), l.start));
    }
  }
  return out;
}

void EnrollOptions::validate() const {
  embed.validate();
  scoring.validate();
  if (calibrate != kCalibrateEnrolment && calibrate != kCalibrateValidation) {
    throw ConfigError("calibrate = '" + calibrate + "': must be " + kCalibrateEnrolment + " or " +
                      kCalibrateValidation);
  }
  if (cohort_size < 2) {
    throw ConfigError("cohort_size = " + std::to_string(cohort_size) + ": must be >= 2");
  }
}

void prepare_scorer(Cast& cast) {
  auto s =
      std::make_shared<metrics::Scorer>(cast.scoring, cast.cohort.data(), cast.cohort_n, cast.dim);
  s->set_models(cast.centroids.data(), static_cast<int64_t>(cast.characters.size()));
  cast.scorer = std::move(s);
}

metrics::Trials enrolment_trials(const metrics::Scorer& scorer, const std::vector<float>& sums,
                                 const std::vector<int64_t>& labels) {
  const int64_t dim = scorer.dim();
  const auto n = static_cast<int64_t>(labels.size());
  if (static_cast<int64_t>(sums.size()) != n * dim) {
    throw InputError("enrolment trials: " + std::to_string(sums.size()) + " values for " +
                     std::to_string(n) + " lines of " + std::to_string(dim) + " dimensions");
  }
  int64_t C = 0;
  for (int64_t y : labels) {
    if (y < 0) throw InputError("enrolment trials: a negative character label");
    C = std::max(C, y + 1);
  }
  // each character's sum of every line's windows
  std::vector<double> total(static_cast<size_t>(C * dim), 0.0);
  std::vector<int64_t> count(static_cast<size_t>(C), 0);
  for (int64_t i = 0; i < n; ++i) {
    ++count[labels[i]];
    for (int64_t d = 0; d < dim; ++d) total[labels[i] * dim + d] += sums[i * dim + d];
  }
  std::vector<float> v(static_cast<size_t>(dim));
  const auto side_of = [&](const std::vector<double>& x, int64_t off) {
    for (int64_t d = 0; d < dim; ++d) v[d] = static_cast<float>(x[off + d]);
    return scorer.side(v.data());
  };
  std::vector<metrics::Scorer::Side> whole;
  for (int64_t c = 0; c < C; ++c) whole.push_back(side_of(total, c * dim));
  metrics::Trials t;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = labels[i];
    const auto line = scorer.side(sums.data() + i * dim);
    if (count[c] >= 2) {
      std::vector<double> rest(static_cast<size_t>(dim));
      for (int64_t d = 0; d < dim; ++d) rest[d] = total[c * dim + d] - sums[i * dim + d];
      t.scores.push_back(scorer.score(line, side_of(rest, 0)));
      t.target.push_back(true);
    }
    double best = -std::numeric_limits<double>::infinity();
    for (int64_t o = 0; o < C; ++o) {
      if (o != c && count[o] > 0) best = std::max(best, scorer.score(line, whole[o]));
    }
    if (std::isfinite(best)) {
      t.scores.push_back(best);
      t.target.push_back(false);
    }
  }
  const auto targets = std::count(t.target.begin(), t.target.end(), true);
  if (targets == 0) {
    throw InputError(
        "no character has two usable enrolment lines: the threshold's enrolment calibration "
        "scores each line against its character's other lines (give two or more lines per "
        "character, or --calibrate validation)");
  }
  if (targets == static_cast<std::ptrdiff_t>(t.target.size())) {
    throw InputError(
        "the cast has one character: the threshold's enrolment calibration scores each line "
        "against the other characters (enrol two or more, or --calibrate validation)");
  }
  return t;
}

metrics::Verification calibrate_threshold(const std::vector<double>& scores,
                                          const std::vector<bool>& target) {
  auto v = metrics::verification(scores, target);
  if (v.eer > 0) return v;
  // separated: every threshold in (highest non-target, lowest target] has no error, and the EER
  // point is the lowest target, where a line a little less like its character than any
  // enrolment line is missed; the middle of the gap leaves as much room on either side
  double lo = -std::numeric_limits<double>::infinity(),
         hi = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < scores.size(); ++i) {
    if (target[i]) {
      hi = std::min(hi, scores[i]);
    } else {
      lo = std::max(lo, scores[i]);
    }
  }
  v.threshold = 0.5 * (lo + hi);
  return v;
}

namespace {

// The first `k` of a seeded shuffle of the rows of `r` whose label is >= 0 (the speaker task's
// voices; the background class left out).
std::vector<float> sample_rows(const Embedder::SplitRows& r, int64_t k, uint64_t seed,
                               int64_t* n_out) {
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < r.n; ++i) {
    if (r.labels[i] >= 0) idx.push_back(i);
  }
  std::mt19937_64 rng(seed);
  std::shuffle(idx.begin(), idx.end(), rng);
  if (static_cast<int64_t>(idx.size()) > k) idx.resize(static_cast<size_t>(k));
  std::sort(idx.begin(), idx.end());
  std::vector<float> out;
  for (int64_t i : idx)
    out.insert(out.end(), r.data.begin() + i * r.dim, r.data.begin() + (i + 1) * r.dim);
  *n_out = static_cast<int64_t>(idx.size());
  return out;
}

}  // namespace

Cast run_enroll(const EnrollOptions& opts) {
  opts.validate();
  const auto lines = read_cast_lines(opts.manifest, opts.embed.window_s);
  Embedder emb(opts.run, opts.embed);
  const int64_t dim = emb.dim();
  std::map<std::string, std::vector<double>> sum;  // character -> sum of window embeddings
  std::map<std::string, int64_t> n_lines, n_windows;
  std::map<std::string, std::string> rows;  // character -> its rows, for the error
  for (const auto& l : lines) {
    sum.emplace(l.character, std::vector<double>(static_cast<size_t>(dim), 0.0));
    rows[l.character] += (rows[l.character].empty() ? "" : ", ") + std::to_string(l.row);
  }
  std::vector<float> line_sums;         // [usable lines, dim]
  std::vector<std::string> line_chars;  // their characters
  for (const auto& [i, e] : embed_cast_lines(emb, lines, opts.manifest)) {
    const CastLine& l = lines[i];
    auto& s = sum[l.character];
    std::vector<double> ls(static_cast<size_t>(dim), 0.0);
    for (int64_t w = 0; w < e.size(); ++w) {
      for (int64_t d = 0; d < dim; ++d) ls[d] += e.row(w)[d];
    }
    for (int64_t d = 0; d < dim; ++d) {
      s[d] += ls[d];
      line_sums.push_back(static_cast<float>(ls[d]));
    }
    line_chars.push_back(l.character);
    n_lines[l.character] += 1;
    n_windows[l.character] += e.size();
  }
  Cast cast;
  cast.run = opts.run.string();
  cast.fingerprint = emb.fingerprint();
  cast.weights = weights_checksum(opts.run);
  cast.dim = dim;
  cast.window_s = opts.embed.window_s;
  cast.hop_s = opts.embed.hop_s;
  for (const auto& [name, s] : sum) {
    if (n_windows[name] == 0) {
      throw InputError("'" + opts.manifest.string() + "': character '" + name +
                       "' has no usable line (rows " + rows[name] +
                       ": files that cannot be decoded, or no audio between start and end)");
    }
    double norm = 0;
    for (double v : s) norm += v * v;
    norm = std::sqrt(norm);
    cast.characters.push_back(name);
    for (double v : s) cast.centroids.push_back(static_cast<float>(norm > 0 ? v / norm : 0.0));
    cast.lines.push_back(n_lines[name]);
    cast.windows.push_back(n_windows[name]);
  }
  cast.scoring = opts.scoring;
  std::string cohort_words;
  if (cast.scoring.method != metrics::kScoreCosine) {
    const auto r = emb.embed_split(opts.cohort_split);
    cast.cohort = sample_rows(r, opts.cohort_size, emb.seed(), &cast.cohort_n);
    if (cast.cohort_n < 2) {
      throw InputError("run '" + opts.run.string() + "': its " + opts.cohort_split + " split has " +
                       std::to_string(cast.cohort_n) +
                       " chunks of a voice for the cohort of scoring " + cast.scoring.method +
                       " (at least 2 needed)");
    }
    cohort_words = ", cohort " + std::to_string(cast.cohort_n) + " " + opts.cohort_split +
                   " chunks of run '" + opts.run.string() + "'";
    if (cast.scoring.method == metrics::kScoreAsNorm) {
      cohort_words += " (top " + std::to_string(cast.scoring.top_n) + ")";
    }
  }
  prepare_scorer(cast);
  const metrics::Scorer& scorer = *cast.scorer;
  metrics::Verification v;
  std::vector<double> trial_scores;  // the enrolment trials, kept in the file to be audited
  std::vector<int64_t> trial_target;
  cast.calibrate = opts.calibrate;
  if (opts.calibrate == kCalibrateEnrolment) {
    std::vector<int64_t> labels;
    for (const auto& c : line_chars) {
      labels.push_back(std::find(cast.characters.begin(), cast.characters.end(), c) -
                       cast.characters.begin());
    }
    try {
      const auto t = enrolment_trials(scorer, line_sums, labels);
      v = calibrate_threshold(t.scores, t.target);
      trial_scores = t.scores;
      for (bool b : t.target) trial_target.push_back(b ? 1 : 0);
      cast.calibration = "the enrolment lines of '" + opts.manifest.string() +
                         "', leave one out: " + std::to_string(v.targets) +
                         " lines against their character and " + std::to_string(v.nontargets) +
                         " against the best other character";
    } catch (const InputError& e) {
      // a cast of one character, or of one line each: nothing to leave out
      HP_LOG_WARN("{}: {}: the threshold is calibrated on the {} split of run '{}' instead",
                  opts.manifest.string(), e.what(), opts.split, opts.run.string());
      cast.calibrate = kCalibrateValidation;
    }
  }
  if (cast.calibrate == kCalibrateValidation) {
    const auto r = emb.embed_split(opts.split);
    const auto t =
        metrics::embedding_trials(r.data.data(), r.n, r.dim, r.labels, 2000000, emb.seed());
    std::vector<metrics::Scorer::Side> sides;
    for (int64_t i = 0; i < r.n; ++i) sides.push_back(scorer.side(r.data.data() + i * r.dim));
    std::vector<double> scores;
    for (const auto& [i, j] : t.pairs) scores.push_back(scorer.score(sides[i], sides[j]));
    const auto targets = std::count(t.target.begin(), t.target.end(), true);
    if (targets == 0 || targets == static_cast<std::ptrdiff_t>(t.target.size())) {
      throw InputError("run '" + opts.run.string() + "': its " + opts.split +
                       " split has no pair of chunks of the same and of different " +
                       emb.speaker_task() + " classes to calibrate a threshold on");
    }
    v = calibrate_threshold(scores, t.target);
    cast.calibration = "the " + opts.split + " split of run '" + opts.run.string() + "', task " +
                       emb.speaker_task() + ": " + std::to_string(v.targets) + " same and " +
                       std::to_string(v.nontargets) + " different pairs of one-window cuts";
  }
  cast.calibration += "; scoring " + cast.scoring.method + cohort_words;
  cast.threshold = v.threshold;
  cast.eer = v.eer;
  cast.min_dcf = v.min_dcf;
  const auto c = static_cast<int64_t>(cast.characters.size());
  write_cast(opts.out, cast, trial_scores, trial_target);
  HP_LOG_INFO("{}: {} characters, {} threshold {:.4f} (EER {:.2f} % on {})", opts.out.string(), c,
              cast.scoring.method, cast.threshold, 100 * cast.eer, cast.calibration);
  return cast;
}

int64_t name_window(const Cast& cast, const float* embedding, double* score,
                    std::vector<double>* all) {
  std::shared_ptr<const metrics::Scorer> scorer = cast.scorer;
  if (!scorer) {  // a Cast filled by hand
    Cast c = cast;
    prepare_scorer(c);
    scorer = c.scorer;
  }
  const auto s = scorer->scores(embedding);
  int64_t best = -1;
  double best_score = -std::numeric_limits<double>::infinity();
  for (size_t c = 0; c < s.size(); ++c) {
    if (s[c] > best_score) {
      best_score = s[c];
      best = static_cast<int64_t>(c);
    }
  }
  if (score != nullptr) *score = best_score;
  if (all != nullptr) *all = s;
  return best_score >= cast.threshold ? best : -1;
}

}  // namespace hptrain::speakers
