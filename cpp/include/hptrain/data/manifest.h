// Manifests: CSV rows `path[,start,end],<task>...[,group][,split]` (times in seconds or
// [hh:]mm:ss.s), or a folder per class; bad rows named by line, and the labelling of chunks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hptrain/csv.h"
#include "hptrain/data/dataset_config.h"

namespace hptrain::data {

// One annotated stretch of a file.
struct Segment {
  int64_t line = 0;            // 1-based line in the CSV (0 for the folder layout)
  std::string path;            // as written (relative to audio_root), the `source` of its chunks
  std::filesystem::path file;  // resolved
  double start = 0;
  std::optional<double> end;  // none: to the end of the file
  std::vector<int> labels;    // class index per task (DatasetConfig::tasks order)
  std::string group;          // the group column, else the path
  std::string split;          // fixed split from the `split` column, or empty
  double file_duration = -1;  // the file's length (s) as its header states it; -1: unknown
};

struct BadRow {
  int64_t line = 0;
  std::string path;
  std::string reason;
};

struct Manifest {
  std::vector<Segment> segments;  // the good rows, in file order
  std::vector<BadRow> bad;        // rows left out, with the reason
  std::vector<Task> tasks;        // the config's tasks, class lists filled from the data if empty
  std::string where;              // manifest file name (or audio root) for messages
};

struct ManifestOptions {
  bool probe_audio = true;  // open each file: missing/unreadable files and end beyond the file
};

// The CSV reader (hptrain/csv.h), by its names here too.
using hptrain::CsvRow;
using hptrain::parse_csv;

// "12.5", "01:02.5" (mm:ss) or "1:02:03.25" (hh:mm:ss); nullopt when not a time.
std::optional<double> parse_time(const std::string& text);

// Reads the manifest (or the folder-per-class layout) of `cfg`. Bad rows are collected, not
// thrown: end <= start, start/end not a time, end beyond the file, empty or unknown labels,
// duplicates (same path, start, end), missing or unreadable files, a group with two fixed
// splits. Throws InputError/ConfigError for a broken file (no header, no path column, a task
// without its column).
Manifest read_manifest(const DatasetConfig& cfg, const ManifestOptions& opts = {});

// "manifest.csv:12: 'a.wav': end 3.0 <= start 4.0", one per line (at most `max_lines`).
std::string describe(const std::vector<BadRow>& bad, const std::string& where,
                     size_t max_lines = 20);
// Writes the skipped rows as CSV (line,path,reason), atomically.
void write_bad_rows(const std::filesystem::path& path, const std::vector<BadRow>& bad);

// How a chunk's labels follow from the segments that cover it (README, "Chunks").
struct LabelRule {
  double min_coverage = 0.5;    // fraction of the chunk its class must cover, else dropped
  double min_foreground = 0.2;  // fraction over which a class beats its task's background
  std::vector<int> background;  // per task: the background class's index, or -1
};
LabelRule label_rule(const DatasetConfig& cfg, const std::vector<Task>& tasks);

// The labels of the chunk [t0, t1) of a file from that file's segments: per task, the class
// that covers the most time; nullopt (chunk dropped) when, for any task, that class covers
// less than min_coverage * (t1 - t0). Where the task has a background class, any other class
// covering at least min_foreground * (t1 - t0) beats it (the most covering of those wins).
// Where segments overlap, each one counts.
std::optional<std::vector<int>> label_chunk(const std::vector<const Segment*>& segments, double t0,
                                            double t1, const LabelRule& rule);

}  // namespace hptrain::data
