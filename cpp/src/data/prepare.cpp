// prepare(): manifest -> splits -> chunks -> features -> shards, resumable; on the ranks of a
// distributed job (data::Rendezvous) each rank prepares a contiguous part of every split.
#include "hptrain/data/prepare.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <functional>
#include <iomanip>
#include <map>
#include <optional>
#include <sstream>

#include "data/prepare_ranks.h"
#include "data/prepared_record.h"
#include "data/shard_builder.h"
#include "hptrain/data/dataset.h"
#include "hptrain/data/rendezvous.h"
#include "hptrain/data/shard.h"
#include "hptrain/data/split.h"
#include "hptrain/demo/demo_corpus.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "hptrain/log.h"
#include "hptrain/progress.h"

namespace hptrain::data {

namespace stdfs = std::filesystem;

namespace {

using detail::file_range;
using detail::list_part_shards;
using detail::own_shards;
using detail::Part;
using detail::RankWork;
using detail::ShardBuilder;
using detail::step;

// One file of a split, with the segments of that split that annotate it.
struct PlanFile {
  std::string path;
  stdfs::path file;
  std::vector<const Segment*> segments;
};

std::vector<PlanFile> plan_split(const Manifest& m, const SplitResult& r,
                                 const std::string& split) {
  std::map<std::string, PlanFile> files;
  for (size_t i = 0; i < m.segments.size(); ++i) {
    if (r.segment_split[i] != split) continue;
    const Segment& s = m.segments[i];
    auto& f = files[s.path];
    f.path = s.path;
    f.file = s.file;
    f.segments.push_back(&s);
  }
  std::vector<PlanFile> out;
  for (auto& [path, f] : files) out.push_back(std::move(f));
  return out;
}

// The files' lengths as their headers state them (-1: unknown), for file_range.
std::vector<double> durations(const std::vector<PlanFile>& files) {
  std::vector<double> d;
  for (const auto& f : files) d.push_back(f.segments.front()->file_duration);
  return d;
}

// An error of the feature or shard stage inside process_file's callback: it stops prepare,
// whatever --skip-bad-rows says, since it is not the file's fault.
struct NotTheFile {
  std::exception_ptr error;
};

// Removes temporary files of an interrupted write (never taken for shards; just litter).
void remove_temporaries(const stdfs::path& dir) {
  if (!stdfs::is_directory(dir)) return;
  std::vector<stdfs::path> litter;
  for (const auto& e : stdfs::directory_iterator(dir)) {
    if (e.path().filename().string().find(".h5.tmp-") != std::string::npos)
      litter.push_back(e.path());
  }
  for (const auto& p : litter) stdfs::remove(p);
}

// The shards of `split` that `part` can keep: its indices 0..k-1 with the right fingerprint.
// The rest of its shards is deleted. Returns k and fills the summary from the kept shards.
int64_t keep_complete_prefix(const DatasetConfig& cfg, const std::string& split,
                             const std::string& fp, const std::vector<Task>& tasks,
                             SplitSummary& summary, ShardInfo& last, const Part& part) {
  int64_t k = 0;
  for (const auto& [index, path] : own_shards(cfg.output, split, part)) {
    bool keep = index == k;
    if (keep) {
      try {
        const auto f = h5::File::open_read(path);
        const auto info = read_shard_info(f);
        keep = info.fingerprint == fp;
        if (keep) {
          summary.chunks += f.shape("log_mel").at(0);
          summary.shards += 1;
          for (const auto& t : tasks) {
            for (auto l : f.read_int64s("labels/" + t.name))
              summary.class_counts[t.name][static_cast<size_t>(l)] += 1;
          }
          last = info;
        }
      } catch (const InputError& e) {
        HP_LOG_WARN("shard '{}' is unreadable and is written again: {}", path.string(), e.what());
        keep = false;
      }
    }
    if (keep) {
      ++k;
    } else {
      stdfs::remove(path);
    }
  }
  return k;
}

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// Before anything is written: a split with files none of which is long enough for one chunk
// (by the length its header states; trimming only shortens it) would come out empty.
void check_chunks_fit(const DatasetConfig& cfg, const std::string& split,
                      const std::vector<PlanFile>& files) {
  const preprocess::PreprocessConfig& p = cfg.preprocess;
  const double len = static_cast<double>(std::lround(p.chunk_s * p.sr));
  const bool pad = p.last_chunk == "pad";
  double longest = 0;
  for (const auto& f : files) {
    const double d = f.segments.front()->file_duration;
    if (d < 0) return;  // a length the header does not state: the file may hold a chunk
    const double n = std::floor(d * p.sr);
    if (n >= len || (pad && n > 0 && n >= p.min_last_fraction * len)) return;
    longest = std::max(longest, d);
  }
  std::string rule = "a chunk needs chunk_s";
  if (pad) rule += " x min_last_fraction = " + num(p.min_last_fraction * p.chunk_s) + " s";
  throw ConfigError(cfg.file.string() + ": preprocess.chunk_s = " + num(p.chunk_s) + ": the " +
                    split + " split would be empty: none of its " + std::to_string(files.size()) +
                    " file(s) is long enough for a chunk (" + rule + ", the longest file is " +
                    num(longest) + " s)");
}

// This process's part of every split (all of it without ranks): its shards kept from an earlier
// run, then its files decoded, chunked, labelled and written. `sum` gives the plan's fingerprint,
// tasks and bad-row choice; the counts come back in the RankWork.
RankWork prepare_part(const DatasetConfig& cfg, const Manifest& m, const SplitResult& split,
                      const PrepareSummary& sum, const Part& part) {
  RankWork mine;
  const LabelRule rule = label_rule(cfg, m.tasks);
  for (const auto& name : split_names()) {
    SplitSummary& ss = mine.splits[name];
    ss.class_counts = sum.splits.at(name).class_counts;  // zeros
    const auto files = plan_split(m, split, name);
    ShardInfo last;
    const int64_t kept = keep_complete_prefix(cfg, name, sum.fingerprint, m.tasks, ss, last, part);
    mine.kept += kept;
    const auto [begin, end] = part.whole() ? std::pair<size_t, size_t>{0, files.size()}
                                           : file_range(durations(files), part.rank, part.world);
    if (begin == end) continue;
    const int64_t first_file = kept > 0 ? last.resume_file : static_cast<int64_t>(begin);
    const int64_t skip_through = kept > 0 ? last.resume_chunk : -1;
    if (kept > 0) {
      HP_LOG_INFO("{}: {} complete shard(s) kept, resuming at file {}", name, kept, first_file + 1);
    }
    std::function<void(h5::File&)> rank_attrs;
    if (!part.whole()) {
      rank_attrs = [&part](h5::File& f) {
        f.set_attr("/", "rank", static_cast<int64_t>(part.rank));
        f.set_attr("/", "world_size", static_cast<int64_t>(part.world));
      };
    }
    ShardBuilder builder(
        cfg, m.tasks, name, sum.fingerprint, kept, ss,
        [&part, &name](int64_t i) { return part.name(name, i); }, rank_attrs);
    // one bar, rank 0's (each rank's would overwrite the others' on a shared terminal)
    std::optional<Progress> progress;
    if (part.rank == 0)
      progress.emplace("prepare " + name, end - static_cast<size_t>(first_file), "files");
    for (size_t fi = static_cast<size_t>(first_file); fi < end; ++fi) {
      const PlanFile& pf = files[fi];
      builder.set_path(pf.path);
      try {
        const auto report =
            preprocess::process_file(pf.file.string(), cfg.preprocess, [&](preprocess::Chunk&& c) {
              if (static_cast<int64_t>(fi) == first_file && c.index <= skip_through) return;
              const auto labels =
                  label_chunk(pf.segments, c.offset_s, c.offset_s + c.duration_s, rule);
              if (!labels) {
                ++ss.dropped;
                return;
              }
              try {
                builder.add(std::move(c), *labels, static_cast<int64_t>(fi));
              } catch (...) {
                throw NotTheFile{std::current_exception()};
              }
            });
        if (report.ungated) ++mine.ungated;
      } catch (const NotTheFile& e) {
        std::rethrow_exception(e.error);
      } catch (const InputError& e) {
        const int64_t line = pf.segments.front()->line;
        if (!sum.skip_bad_rows) {
          throw InputError(m.where + (line > 0 ? ":" + std::to_string(line) : "") + ": '" +
                           pf.path + "': " + e.what() + " (use --skip-bad-rows to leave it out)");
        }
        HP_LOG_WARN("'{}' left out: {}", pf.path, e.what());
        mine.skipped[name].push_back({line, pf.path, e.what()});
      }
      if (progress) progress->advance(1, std::to_string(ss.shards) + " shards");
    }
    builder.finish();
    mine.written += builder.written();
    if (progress) {
      progress->finish(std::to_string(ss.chunks) + " chunks in " + std::to_string(ss.shards) +
                       " shards");
    }
  }
  return mine;
}

// Adds every rank's counts to `sum`, in rank order (a rank's files follow those of the ranks
// before it); returns the number of files normalised by their ungated loudness.
int64_t add_rank_work(const std::vector<RankWork>& works, PrepareSummary& sum) {
  int64_t ungated = 0;
  for (const auto& w : works) {
    sum.shards_kept += w.kept;
    sum.shards_written += w.written;
    ungated += w.ungated;
  }
  for (const auto& name : split_names()) {
    SplitSummary& ss = sum.splits[name];
    for (const auto& w : works) {
      const SplitSummary& ws = w.splits.at(name);
      ss.shards += ws.shards;
      ss.chunks += ws.chunks;
      ss.dropped += ws.dropped;
      for (auto& [task, counts] : ss.class_counts) {
        for (size_t c = 0; c < counts.size(); ++c) counts[c] += ws.class_counts.at(task).at(c);
      }
      if (const auto it = w.skipped.find(name); it != w.skipped.end()) {
        sum.skipped.insert(sum.skipped.end(), it->second.begin(), it->second.end());
      }
    }
  }
  return ungated;
}

}  // namespace

std::string fingerprint(const DatasetConfig& cfg, const Manifest& m) {
  std::ostringstream os;
  os << "hptrain " << HP_VERSION << "\n"
     << preprocess::to_string(cfg.preprocess) << "\n"
     << cfg.features;
  if (cfg.store_audio) os << "store_audio\n";  // absent before: earlier fingerprints stay
  os << "shard_size " << cfg.shard_size << " min_coverage " << cfg.min_coverage
     << " min_foreground " << cfg.min_foreground << "\nsplit " << cfg.split.train << " "
     << cfg.split.validation << " " << cfg.split.test << " " << cfg.split.seed << " "
     << cfg.split.group << " " << cfg.split.stratify << "\n";
  for (const auto& t : m.tasks) {
    os << "task " << t.name;
    for (const auto& c : t.classes) os << " " << c;
    if (!t.background.empty()) os << " background " << t.background;
    os << "\n";
  }
  // files by their manifest path, not the resolved one: the same dataset has the same
  // fingerprint whether its TOML is named by a relative or an absolute path
  std::map<std::string, stdfs::path> files;
  os << std::setprecision(17);
  for (const auto& s : m.segments) {
    os << s.path << "|" << s.start << "|" << s.end.value_or(-1) << "|" << s.group << "|" << s.split;
    for (int l : s.labels) os << "|" << l;
    os << "\n";
    files.emplace(s.path, s.file);
  }
  for (const auto& [path, file] : files) {
    std::error_code ec;
    const auto size = stdfs::file_size(file, ec);
    const auto time = stdfs::last_write_time(file, ec).time_since_epoch().count();
    os << path << " " << size << " " << time << "\n";
  }
  const std::string text = os.str();
  return fs::hex64(fs::fnv1a64(text.data(), text.size()));
}

PrepareSummary prepare(const DatasetConfig& cfg, const PrepareOptions& opts, Rendezvous* rdv) {
  const auto t_start = std::chrono::steady_clock::now();
  const Part part = rdv != nullptr ? Part{rdv->rank(), rdv->size()} : Part{};
  const bool root = part.rank == 0;
  PrepareSummary sum;
  sum.shards_dir = cfg.shards_dir();

  // the plan, made by every rank alike from the manifest and the audio files' headers
  Manifest m;
  SplitResult split;
  const auto fps = step(rdv, "prepare/plan", [&] {
    m = read_manifest(cfg);
    sum.tasks = m.tasks;
    sum.skip_bad_rows = opts.skip_bad_rows;
    if (!sum.skip_bad_rows && !opts.force && detail::prepared_skip_bad_rows(cfg)) {
      sum.skip_bad_rows = true;
      HP_LOG_INFO("'{}' was prepared with --skip-bad-rows ({}): bad rows are left out again",
                  cfg.output.string(), kPreparedFile);
    }
    if (!m.bad.empty()) {
      if (!sum.skip_bad_rows) {
        throw InputError(std::to_string(m.bad.size()) +
                         " bad manifest row(s) (use --skip-bad-rows to leave them out):" +
                         describe(m.bad, m.where));
      }
      HP_LOG_WARN("{} bad manifest row(s) left out:{}", m.bad.size(), describe(m.bad, m.where));
    }
    sum.skipped = m.bad;
    sum.where = m.where;
    if (m.segments.empty()) throw InputError(m.where + ": no usable row");
    sum.fingerprint = fingerprint(cfg, m);
    split = assign_splits(m, cfg.split);
    for (const auto& name : split_names()) {
      const auto files = plan_split(m, split, name);
      if (!files.empty()) check_chunks_fit(cfg, name, files);
    }
    return sum.fingerprint;
  });
  std::string differ;
  for (size_t r = 0; r < fps.size(); ++r) {
    if (fps[r] != sum.fingerprint) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
  }
  if (!differ.empty()) {
    throw ConfigError("rank " + std::to_string(part.rank) + " of " + std::to_string(part.world) +
                      ": rank(s) " + differ + " read another manifest, other settings or other " +
                      "audio files than this one (fingerprint " + sum.fingerprint + " of '" +
                      cfg.file.string() + "'): every rank must see the same dataset");
  }
  for (const auto& name : split_names()) {
    auto& ss = sum.splits[name];
    for (const auto& t : m.tasks) ss.class_counts[t.name].assign(t.classes.size(), 0);
  }

  // rank 0 decides whether there is anything to do and deletes what is not kept, before any
  // rank writes
  const auto decided = step(rdv, "prepare/decide", [&]() -> std::string {
    if (!root) return "";
    if (opts.force) {
      for (const auto& name : split_names()) {
        for (const auto& [i, p] : list_shards(cfg.output, name)) stdfs::remove(p);
        for (const auto& s : list_part_shards(cfg.output, name)) stdfs::remove(s.path);
      }
    }
    if (!opts.force && detail::prepared_complete(cfg, sum.fingerprint)) return "up to date";
    HP_LOG_INFO("prepare '{}'{}:\n{}", cfg.file.string(),
                part.whole() ? "" : " on " + std::to_string(part.world) + " ranks", to_string(cfg));
    stdfs::create_directories(cfg.output);
    stdfs::remove(cfg.output / kPreparedFile);
    remove_temporaries(cfg.output);
    for (const auto& name : split_names()) {
      // a single process resumes its own shards; ranks resume theirs (of the same world size)
      for (const auto& s : list_part_shards(cfg.output, name)) {
        if (s.world != part.world) stdfs::remove(s.path);
      }
      if (!part.whole()) {
        for (const auto& [i, p] : list_shards(cfg.output, name)) stdfs::remove(p);
      }
    }
    write_split_csv(cfg.output / "split.csv", m, cfg.split, split);
    return "";
  });
  if (decided.front() == "up to date") {
    detail::read_prepared(cfg, m, sum);
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    return sum;
  }
  for (const auto& w : split.warnings) HP_LOG_WARN("{}", w);
  sum.warnings = split.warnings;

  // every rank prepares its files of each split
  const auto done = step(rdv, "prepare/done",
                         [&] { return detail::to_text(prepare_part(cfg, m, split, sum, part)); });

  // every rank's counts, in rank order (a rank's files follow those of the ranks before it)
  std::vector<RankWork> works;
  for (const auto& text : done) works.push_back(detail::rank_work(text));
  const int64_t ungated = add_rank_work(works, sum);
  // a split that had files but gave no chunk: not a dataset (no prepared.json)
  for (const auto& name : split_names()) {
    const SplitSummary& ss = sum.splits[name];
    const auto files = plan_split(m, split, name);
    if (files.empty() || ss.chunks > 0) continue;
    throw ConfigError(cfg.file.string() + ": the " + name + " split is empty: its " +
                      std::to_string(files.size()) + " file(s) gave " + std::to_string(ss.dropped) +
                      " chunk(s), all dropped for want of a class covering min_coverage = " +
                      num(cfg.min_coverage) +
                      " of a chunk (preprocess.chunk_s = " + num(cfg.preprocess.chunk_s) +
                      " s), or were skipped; check preprocess.chunk_s, " +
                      "min_coverage and the manifest's start and end times");
  }
  if (ungated > 0) {
    const std::string w =
        std::to_string(ungated) +
        " file(s) shorter than EBU R128's 0.4 s gating block were normalised by "
        "their ungated K-weighted loudness (README, \"Ingest and preprocessing\")";
    HP_LOG_WARN("{}", w);
    sum.warnings.push_back(w);
  }
  // rank 0 gives the shards their dataset names and writes prepared.json last; the others wait
  // for it, so that no rank reports a dataset that is not complete
  step(rdv, "prepare/written", [&] {
    if (!root) return std::string();
    if (!part.whole()) detail::rename_parts(cfg.output, part.world, works);
    write_bad_rows(cfg.output / "skipped.csv", sum.skipped);
    detail::write_prepared(cfg, sum);
    return std::string();
  });
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return sum;
}

PrepareSummary run_prepare(const PrepareOptions& opts, Rendezvous* rdv) {
  const bool root = rdv == nullptr || rdv->root();
  DatasetConfig cfg;
  bool new_output = false;
  // one process (rank 0 of a job) at a time builds the demo corpus and writes the shards: another
  // stops here at once naming this one, or (opts.wait: training) waits for it
  std::optional<fs::Lock> lock;
  try {
    bool demo_built = false;
    step(rdv, "prepare/start", [&] {
      cfg = load_dataset_config(opts.dataset);
      if (!root) return std::string();
      new_output = !stdfs::exists(cfg.output);
      lock.emplace(cfg.output / fs::kLockName, "dataset output '" + cfg.output.string() + "'",
                   opts.wait ? fs::Lock::kWait : fs::Lock::kFail);
      if (cfg.demo && (opts.force ||
                       !demo_corpus_present(*cfg.demo, cfg.split, cfg.audio_root, cfg.manifest))) {
        build_demo_corpus(*cfg.demo, cfg.split, cfg.audio_root, cfg.manifest);
        demo_built = true;
      }
      // voices no demo run trains on, for `hptrain evaluate-cast` (README, "Voices never heard")
      if (cfg.demo &&
          (opts.force || !demo_open_set_present(*cfg.demo, cfg.audio_root / "open-set"))) {
        build_demo_open_set(*cfg.demo, cfg.audio_root / "open-set");
      }
      return std::string();
    });
    if (opts.demo_only) {
      if (!cfg.demo) {
        throw ConfigError(opts.dataset.string() + ": --demo-only needs a [demo] table");
      }
      PrepareSummary s;
      s.shards_dir = cfg.shards_dir();
      s.demo_built = demo_built;
      return s;
    }
    PrepareSummary s = prepare(cfg, opts, rdv);
    s.demo_built = demo_built;
    return s;
  } catch (...) {
    // a failure before anything was written (a setting checked up front) leaves no output folder
    // that only the lock made; removed while the lock is still held
    if (lock) {
      std::error_code ec;
      std::vector<stdfs::path> names;
      for (stdfs::directory_iterator it(cfg.output, ec), end; !ec && it != end; it.increment(ec)) {
        names.push_back(it->path().filename());
      }
      if (new_output && !ec && names.size() == 1 && names[0] == fs::kLockName) {
        fs::remove_tree(cfg.output, ec);
      }
    }
    throw;
  }
}

std::string format_summary(const PrepareSummary& s) {
  std::ostringstream os;
  os << "shards: " << s.shards_dir.string() << (s.up_to_date ? " (up to date)" : "") << "\n";
  if (!s.up_to_date) {
    os << "written " << s.shards_written << " shard(s), kept " << s.shards_kept
       << " from an earlier run, in " << std::fixed << std::setprecision(1) << s.seconds << " s\n";
  }
  for (const auto& name : split_names()) {
    auto it = s.splits.find(name);
    if (it == s.splits.end()) continue;
    const auto& ss = it->second;
    os << name << ": " << ss.chunks << " chunks in " << ss.shards << " shard(s)";
    if (ss.dropped > 0)
      os << ", " << ss.dropped << " chunk(s) dropped (no label covering min_coverage)";
    os << "\n";
    for (const auto& t : s.tasks) {
      os << "  " << t.name << ":";
      const auto& counts = ss.class_counts.at(t.name);
      for (size_t c = 0; c < t.classes.size(); ++c) os << " " << t.classes[c] << "=" << counts[c];
      os << "\n";
    }
  }
  for (const auto& w : s.warnings) os << "warning: " << w << "\n";
  if (!s.skipped.empty()) {
    os << "skipped " << s.skipped.size() << " row(s)/file(s) (listed in skipped.csv):";
    os << describe(s.skipped, s.where) << "\n";
  }
  return os.str();
}

std::filesystem::path ensure_prepared(const std::filesystem::path& dataset_toml,
                                      Rendezvous* ranks) {
  PrepareOptions opts;
  opts.dataset = dataset_toml;
  opts.wait = true;  // runs started together on one dataset: one prepares, the others wait
  const auto s = run_prepare(opts, ranks);
  if (!s.up_to_date) HP_LOG_INFO("prepared '{}':\n{}", dataset_toml.string(), format_summary(s));
  return s.shards_dir;
}

}  // namespace hptrain::data
