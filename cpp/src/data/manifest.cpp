// Manifest CSV parsing, bad-row detection, and chunk labelling.
#include "hptrain/data/manifest.h"
#include "hptrain/csv.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <variant>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "hptrain/log.h"

namespace hptrain::data {

namespace stdfs = std::filesystem;

namespace {

// An end time may pass the file's duration by this much (annotators round to 0.1 s).
constexpr double kEndTolerance_s = 0.05;

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string format_time(double t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

// True when `file` (resolved, normalised) is not under `root`: an absolute manifest path
// elsewhere, or one that climbs out with "..". Lexical: symbolic links are not looked at.
bool outside(const stdfs::path& file, const stdfs::path& root) {
  const stdfs::path rel = file.lexically_relative(root.lexically_normal());
  return rel.empty() || *rel.begin() == "..";
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

}  // namespace

std::optional<double> parse_time(const std::string& text) {
  const std::string t = trim(text);
  if (t.empty()) return std::nullopt;
  double total = 0;
  size_t pos = 0;
  int parts = 0;
  while (pos <= t.size()) {
    const size_t colon = t.find(':', pos);
    const std::string part =
        t.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
    if (part.empty()) return std::nullopt;
    const bool last = colon == std::string::npos;
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(part, &used);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (used != part.size() || !std::isfinite(v)) return std::nullopt;
    if (parts > 0 && (v < 0 || v >= 60)) return std::nullopt;  // mm and ss of [hh:]mm:ss
    if (!last && v != std::floor(v)) return std::nullopt;
    total = total * 60 + v;
    ++parts;
    if (last) break;
    pos = colon + 1;
  }
  if (parts > 3) return std::nullopt;
  return total;
}

std::string describe(const std::vector<BadRow>& bad, const std::string& where, size_t max_lines) {
  std::string out;
  for (size_t i = 0; i < bad.size() && i < max_lines; ++i) {
    out += "\n  " + where + (bad[i].line > 0 ? ":" + std::to_string(bad[i].line) : "") + ": '" +
           bad[i].path + "': " + bad[i].reason;
  }
  if (bad.size() > max_lines)
    out += "\n  ... and " + std::to_string(bad.size() - max_lines) + " more";
  return out;
}

void write_bad_rows(const stdfs::path& path, const std::vector<BadRow>& bad) {
  std::string text = "line,path,reason\n";
  for (const auto& b : bad)
    text += std::to_string(b.line) + "," + csv_field(b.path) + "," + csv_field(b.reason) + "\n";
  fs::write_text(path, text);
}

namespace {

// Rows before label indices are known (classes may come from the data).
struct RawRow {
  Segment seg;
  std::vector<std::string> labels;
};

std::vector<RawRow> read_csv_rows(const DatasetConfig& cfg, const std::string& where,
                                  std::vector<BadRow>& bad) {
  const auto rows = parse_csv(fs::read_text(cfg.manifest), where);
  if (rows.empty()) throw InputError(where + ": empty manifest (a header line is required)");
  if (!rows.front().error.empty()) throw InputError(where + ":1: " + rows.front().error);
  const auto& header = rows.front().fields;
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i].empty())
      throw InputError(where + ":1: column " + std::to_string(i + 1) + " has no name");
    if (!col.emplace(header[i], i).second) {
      throw InputError(where + ":1: column '" + header[i] + "' appears twice");
    }
  }
  auto column = [&](const std::string& name) -> std::optional<size_t> {
    auto it = col.find(name);
    if (it == col.end()) return std::nullopt;
    return it->second;
  };
  const auto c_path = column("path");
  if (!c_path) throw InputError(where + ":1: no 'path' column (header: " + join(header) + ")");
  const auto c_start = column("start"), c_end = column("end"), c_split = column("split");
  const auto c_group = column(cfg.split.group);
  std::vector<size_t> c_task;
  for (const auto& t : cfg.tasks) {
    const auto c = column(t.name);
    if (!c)
      throw InputError(where + ":1: no column for task '" + t.name + "' (header: " + join(header) +
                       ")");
    c_task.push_back(*c);
  }
  std::set<std::string> known = {"path", "start", "end", "split", cfg.split.group};
  for (const auto& t : cfg.tasks) known.insert(t.name);
  for (const auto& h : header) {
    if (!known.count(h)) HP_LOG_WARN("{}:1: column '{}' is not used", where, h);
  }

  std::vector<RawRow> out;
  std::map<std::tuple<std::string, double, double>, int64_t> seen;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& f = rows[r].fields;
    const int64_t line = rows[r].line;
    const std::string path = f.size() > *c_path ? f[*c_path] : std::string();
    auto fail = [&](const std::string& why) { bad.push_back({line, path, why}); };
    if (!rows[r].error.empty()) {
      fail(rows[r].error);
      continue;
    }
    if (f.size() != header.size()) {
      fail("has " + std::to_string(f.size()) + " fields, the header has " +
           std::to_string(header.size()));
      continue;
    }
    if (path.empty()) {
      fail("empty path");
      continue;
    }
    RawRow raw;
    raw.seg.line = line;
    raw.seg.path = path;
    raw.seg.file = (cfg.audio_root / path).lexically_normal();
    if (!cfg.allow_outside_root && outside(raw.seg.file, cfg.audio_root)) {
      fail("the path leaves audio_root '" + cfg.audio_root.string() +
           "' (set allow_outside_root = true in " + cfg.file.string() + " to allow it)");
      continue;
    }
    if (c_start && !f[*c_start].empty()) {
      const auto t = parse_time(f[*c_start]);
      if (!t || *t < 0) {
        fail("start '" + f[*c_start] + "' is not a time >= 0 (seconds or [hh:]mm:ss)");
        continue;
      }
      raw.seg.start = *t;
    }
    if (c_end && !f[*c_end].empty()) {
      const auto t = parse_time(f[*c_end]);
      if (!t) {
        fail("end '" + f[*c_end] + "' is not a time (seconds or [hh:]mm:ss)");
        continue;
      }
      if (*t <= raw.seg.start) {
        fail("end " + format_time(*t) + " is not after start " + format_time(raw.seg.start));
        continue;
      }
      raw.seg.end = *t;
    }
    std::string why;
    for (size_t k = 0; k < cfg.tasks.size() && why.empty(); ++k) {
      const std::string& v = f[c_task[k]];
      const auto& classes = cfg.tasks[k].classes;
      if (v.empty()) {
        why = "empty label for task '" + cfg.tasks[k].name + "'";
      } else if (!classes.empty() &&
                 std::find(classes.begin(), classes.end(), v) == classes.end()) {
        why = "unknown label '" + v + "' for task '" + cfg.tasks[k].name +
              "' (classes: " + join(classes) + ")";
      }
      raw.labels.push_back(v);
    }
    if (!why.empty()) {
      fail(why);
      continue;
    }
    raw.seg.group = c_group && !f[*c_group].empty() ? f[*c_group] : path;
    if (c_split && !f[*c_split].empty()) {
      const auto& names = split_names();
      if (std::find(names.begin(), names.end(), f[*c_split]) == names.end()) {
        fail("split '" + f[*c_split] + "': expected train, validation or test");
        continue;
      }
      raw.seg.split = f[*c_split];
    }
    const auto key =
        std::make_tuple(raw.seg.file.string(), raw.seg.start, raw.seg.end.value_or(-1.0));
    const auto [it, fresh] = seen.emplace(key, line);
    if (!fresh) {
      fail("duplicate of line " + std::to_string(it->second) + " (same path, start and end)");
      continue;
    }
    out.push_back(std::move(raw));
  }
  return out;
}

std::vector<RawRow> read_folder_rows(const DatasetConfig& cfg, std::vector<BadRow>& bad) {
  if (!stdfs::is_directory(cfg.audio_root)) {
    throw InputError("audio_root '" + cfg.audio_root.string() + "' is not a folder");
  }
  const auto& task = cfg.tasks.front();
  std::vector<stdfs::path> dirs;
  for (const auto& e : stdfs::directory_iterator(cfg.audio_root)) {
    if (e.is_directory()) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  std::vector<RawRow> out;
  for (const auto& dir : dirs) {
    const std::string label = dir.filename().string();
    std::vector<stdfs::path> files;
    for (const auto& e : stdfs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file() && io::is_media_file(e.path())) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    const bool known = task.classes.empty() || std::find(task.classes.begin(), task.classes.end(),
                                                         label) != task.classes.end();
    for (const auto& file : files) {
      RawRow raw;
      raw.seg.path = file.lexically_relative(cfg.audio_root).generic_string();
      raw.seg.file = file;
      raw.seg.group = raw.seg.path;
      if (!known) {
        bad.push_back({0, raw.seg.path,
                       "folder '" + label + "' is not a class of task '" + task.name +
                           "' (classes: " + join(task.classes) + ")"});
        continue;
      }
      raw.labels = {label};
      out.push_back(std::move(raw));
    }
  }
  if (out.empty() && bad.empty()) {
    throw InputError("no audio under '" + cfg.audio_root.string() +
                     "' in class folders (<audio_root>/<class>/<file>) and no manifest");
  }
  return out;
}

// Opens each file once; rows of missing/unreadable files and rows past the end become bad.
void probe_files(std::vector<RawRow>& rows, int sr, std::vector<BadRow>& bad) {
  std::map<std::string, std::variant<double, std::string>> probed;  // duration (s) or error
  std::vector<RawRow> kept;
  for (auto& raw : rows) {
    const std::string key = raw.seg.file.string();
    auto it = probed.find(key);
    if (it == probed.end()) {
      std::variant<double, std::string> result;
      const std::string problem = io::input_file_problem(raw.seg.file);
      if (problem == io::kNoSuchFile) {
        result = std::string("file not found: '" + key + "'");
      } else if (!problem.empty()) {  // a folder, a FIFO, permission denied, ...
        result = "'" + key + "': " + problem;
      } else {
        try {
          io::MonoReader reader(key, sr);
          const auto& info = reader.info();
          result = info.frames >= 0 ? static_cast<double>(info.frames) / info.sample_rate : -1.0;
        } catch (const Error& e) {
          result = std::string("cannot decode: ") + e.what();
        }
      }
      it = probed.emplace(key, result).first;
    }
    if (const auto* err = std::get_if<std::string>(&it->second)) {
      bad.push_back({raw.seg.line, raw.seg.path, *err});
      continue;
    }
    const double duration = std::get<double>(it->second);
    raw.seg.file_duration = duration;
    if (duration >= 0) {
      if (raw.seg.start >= duration) {
        bad.push_back({raw.seg.line, raw.seg.path,
                       "start " + format_time(raw.seg.start) + " is beyond the file (" +
                           format_time(duration) + " s)"});
        continue;
      }
      if (raw.seg.end && *raw.seg.end > duration + kEndTolerance_s) {
        bad.push_back({raw.seg.line, raw.seg.path,
                       "end " + format_time(*raw.seg.end) + " is beyond the file (" +
                           format_time(duration) + " s)"});
        continue;
      }
    }
    kept.push_back(std::move(raw));
  }
  rows = std::move(kept);
}

}  // namespace

Manifest read_manifest(const DatasetConfig& cfg, const ManifestOptions& opts) {
  Manifest m;
  m.where = cfg.manifest.empty() ? cfg.audio_root.string() : cfg.manifest.string();
  auto rows =
      cfg.manifest.empty() ? read_folder_rows(cfg, m.bad) : read_csv_rows(cfg, m.where, m.bad);
  if (opts.probe_audio) probe_files(rows, cfg.preprocess.sr, m.bad);

  // A group fixed to two splits: its later rows are bad.
  std::map<std::string, std::pair<std::string, int64_t>> fixed;
  std::vector<RawRow> consistent;
  for (auto& raw : rows) {
    if (!raw.seg.split.empty()) {
      const auto [it, fresh] =
          fixed.emplace(raw.seg.group, std::make_pair(raw.seg.split, raw.seg.line));
      if (!fresh && it->second.first != raw.seg.split) {
        m.bad.push_back({raw.seg.line, raw.seg.path,
                         "group '" + raw.seg.group + "' is in split '" + it->second.first +
                             "' on line " + std::to_string(it->second.second) + " but '" +
                             raw.seg.split + "' here"});
        continue;
      }
    }
    consistent.push_back(std::move(raw));
  }
  for (auto& raw : consistent) {
    auto it = fixed.find(raw.seg.group);
    if (it != fixed.end()) raw.seg.split = it->second.first;
  }

  m.tasks = cfg.tasks;
  for (size_t k = 0; k < m.tasks.size(); ++k) {
    auto& classes = m.tasks[k].classes;
    if (!classes.empty()) continue;
    std::set<std::string> found;
    for (const auto& raw : consistent) found.insert(raw.labels[k]);
    classes.assign(found.begin(), found.end());
    HP_LOG_INFO("task '{}': classes from the data: {}", m.tasks[k].name, join(classes));
    const auto& bg = m.tasks[k].background;
    if (!bg.empty() && !found.count(bg)) {
      throw ConfigError(cfg.file.string() + ": background." + m.tasks[k].name + " = '" + bg +
                        "': no row of " + m.where + " has this class (found: " + join(classes) +
                        ")");
    }
  }
  for (auto& raw : consistent) {
    for (size_t k = 0; k < m.tasks.size(); ++k) {
      const auto& classes = m.tasks[k].classes;
      raw.seg.labels.push_back(static_cast<int>(
          std::find(classes.begin(), classes.end(), raw.labels[k]) - classes.begin()));
    }
    m.segments.push_back(std::move(raw.seg));
  }
  std::sort(m.bad.begin(), m.bad.end(),
            [](const BadRow& a, const BadRow& b) { return a.line < b.line; });
  return m;
}

LabelRule label_rule(const DatasetConfig& cfg, const std::vector<Task>& tasks) {
  LabelRule rule;
  rule.min_coverage = cfg.min_coverage;
  rule.min_foreground = cfg.min_foreground;
  for (const auto& t : tasks) {
    const auto it = std::find(t.classes.begin(), t.classes.end(), t.background);
    rule.background.push_back(t.background.empty() || it == t.classes.end()
                                  ? -1
                                  : static_cast<int>(it - t.classes.begin()));
  }
  return rule;
}

std::optional<std::vector<int>> label_chunk(const std::vector<const Segment*>& segments, double t0,
                                            double t1, const LabelRule& rule) {
  const size_t n_tasks = rule.background.size();
  std::vector<int> labels(n_tasks, -1);
  for (size_t k = 0; k < n_tasks; ++k) {
    std::map<int, double> covered;
    for (const Segment* s : segments) {
      const double a = std::max(t0, s->start);
      const double b = std::min(t1, s->end.value_or(t1));
      if (b > a) covered[s->labels[k]] += b - a;
    }
    // the class covering most, among all (best) and among those but the background (fg)
    double best = 0, fg_time = 0;
    int fg = -1;
    for (const auto& [label, time] : covered) {
      if (time > best) {
        best = time;
        labels[k] = label;
      }
      if (label != rule.background[k] && time > fg_time) {
        fg_time = time;
        fg = label;
      }
    }
    if (rule.background[k] >= 0 && fg >= 0 && fg_time >= rule.min_foreground * (t1 - t0)) {
      labels[k] = fg;
    } else if (best < rule.min_coverage * (t1 - t0)) {
      return std::nullopt;
    }
  }
  return labels;
}

}  // namespace hptrain::data
