// Fuzz target `manifest`: the manifest CSV reader (data/manifest.h) on arbitrary text, with
// tasks named by the header, then chunk labelling and the skipped-rows CSV read back.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "hptrain/data/manifest.h"
#include "hptrain/error.h"
#include "targets.h"

namespace hptrain::fuzz {
namespace {

// Every column but these is a task (at most four): the even ones take their classes from the
// data, the odd ones have classes {a, b, c} with background `a` (unknown labels are bad rows).
const std::set<std::string> kNotTasks = {"path", "start", "end", "split", "group"};

data::DatasetConfig config_for(const std::vector<data::CsvRow>& rows,
                               const std::filesystem::path& manifest) {
  data::DatasetConfig cfg;
  cfg.file = "fuzz.toml";
  cfg.manifest = manifest;
  cfg.audio_root = "/nonexistent-hp-fuzz-audio";
  cfg.split.group = "group";
  std::set<std::string> seen;
  for (const auto& name : rows.front().fields) {
    if (kNotTasks.count(name) || name.empty() || !seen.insert(name).second) continue;
    data::Task t{name, {}, {}};
    if (cfg.tasks.size() % 2 == 1) {
      t.classes = {"a", "b", "c"};
      t.background = "a";
    }
    cfg.tasks.push_back(t);
    if (cfg.tasks.size() == 4) break;
  }
  return cfg;
}

void check_manifest(const data::DatasetConfig& cfg, const data::Manifest& m) {
  HP_FUZZ_CHECK(m.tasks.size() == cfg.tasks.size(), "tasks lost");
  for (const auto& s : m.segments) {
    HP_FUZZ_CHECK(!s.path.empty(), "a segment without a path");
    HP_FUZZ_CHECK(s.line >= 2, "a segment on line " + std::to_string(s.line));
    HP_FUZZ_CHECK(s.start >= 0, "start " + std::to_string(s.start));
    HP_FUZZ_CHECK(!s.end || *s.end > s.start, "end <= start on line " + std::to_string(s.line));
    HP_FUZZ_CHECK(s.labels.size() == m.tasks.size(), "labels per segment");
    for (size_t k = 0; k < s.labels.size(); ++k) {
      HP_FUZZ_CHECK(
          s.labels[k] >= 0 && static_cast<size_t>(s.labels[k]) < m.tasks[k].classes.size(),
          "label index " + std::to_string(s.labels[k]) + " out of range");
    }
    const auto& names = data::split_names();
    HP_FUZZ_CHECK(s.split.empty() || std::find(names.begin(), names.end(), s.split) != names.end(),
                  "split '" + s.split + "'");
  }
  for (const auto& b : m.bad)
    HP_FUZZ_CHECK(b.line >= 2, "a bad row on line " + std::to_string(b.line));

  // chunk labels: per file, one chunk at each segment's start
  std::map<std::string, std::vector<const data::Segment*>> by_file;
  for (const auto& s : m.segments) by_file[s.path].push_back(&s);
  const auto rule = data::label_rule(cfg, m.tasks);
  for (const auto& [path, segs] : by_file) {
    for (const auto* s : segs) {
      const auto labels = data::label_chunk(segs, s->start, s->start + 1.0, rule);
      if (!labels) continue;
      HP_FUZZ_CHECK(labels->size() == m.tasks.size(), "chunk labels per task");
      for (size_t k = 0; k < labels->size(); ++k) {
        HP_FUZZ_CHECK(
            (*labels)[k] >= 0 && static_cast<size_t>((*labels)[k]) < m.tasks[k].classes.size(),
            "chunk label out of range");
      }
    }
  }
}

// skipped.csv must read back as written: one row per bad row, the same line, path and reason.
void check_bad_rows_round_trip(const data::Manifest& m) {
  const auto file = scratch_path("skipped.csv");
  data::write_bad_rows(file, m.bad);
  std::string text;
  {
    std::ifstream in(file, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const auto rows = data::parse_csv(text, file.string());
  HP_FUZZ_CHECK(rows.size() == m.bad.size() + 1, std::to_string(rows.size()) +
                                                     " rows read back for " +
                                                     std::to_string(m.bad.size()) + " bad rows");
  for (size_t i = 0; i < m.bad.size(); ++i) {
    const auto& f = rows[i + 1].fields;
    HP_FUZZ_CHECK(f.size() == 3, "skipped.csv row of " + std::to_string(f.size()) + " fields");
    HP_FUZZ_CHECK(f[0] == std::to_string(m.bad[i].line),
                  "line " + std::to_string(m.bad[i].line) + " read back as '" + f[0] + "'");
    HP_FUZZ_CHECK(f[1] == m.bad[i].path,
                  "path '" + m.bad[i].path + "' read back as '" + f[1] + "'");
    HP_FUZZ_CHECK(f[2] == m.bad[i].reason,
                  "reason '" + m.bad[i].reason + "' read back as '" + f[2] + "'");
  }
}

}  // namespace

int fuzz_manifest(const uint8_t* data, size_t size) {
  quiet();
  const std::string text(reinterpret_cast<const char*>(data), size);
  // the time parser on the whole input and on each field
  (void)data::parse_time(text);
  std::vector<data::CsvRow> rows;
  try {
    rows = data::parse_csv(text, "fuzz.csv");
  } catch (const Error&) {
    return 0;
  }
  for (const auto& r : rows) {
    HP_FUZZ_CHECK(r.line >= 1, "row line " + std::to_string(r.line));
    for (const auto& f : r.fields) {
      const auto t = data::parse_time(f);
      HP_FUZZ_CHECK(!t || std::isfinite(*t), "time '" + f + "' not finite");
    }
  }
  if (rows.empty()) return 0;
  const auto path = scratch_file("manifest.csv", data, size);
  const auto cfg = config_for(rows, path);
  if (cfg.tasks.empty()) return 0;
  data::Manifest m;
  try {
    m = data::read_manifest(cfg, data::ManifestOptions{false});
  } catch (const Error&) {
    return 0;
  }
  check_manifest(cfg, m);
  (void)data::describe(m.bad, m.where);
  check_bad_rows_round_trip(m);
  return 0;
}

}  // namespace hptrain::fuzz
