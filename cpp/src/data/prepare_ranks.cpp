// prepare's work on the ranks of a job (prepare_ranks.h).
#include "data/prepare_ranks.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <exception>
#include <regex>
#include <tuple>

#include "hptrain/data/dataset_config.h"
#include "hptrain/error.h"

namespace hptrain::data::detail {

namespace stdfs = std::filesystem;

// The ranks' own shards of `split` under `dir`, of any world size, by world, rank and index.
std::vector<PartShard> list_part_shards(const stdfs::path& dir, const std::string& split) {
  std::vector<PartShard> out;
  if (!stdfs::is_directory(dir)) return out;
  const std::regex re(split + "-part([0-9]{1,6})of([0-9]{1,6})-([0-9]{1,12})\\.h5");
  std::smatch m;
  for (const auto& e : stdfs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && std::regex_match(name, m, re)) {
      out.push_back(
          {std::stoi(m[1].str()), std::stoi(m[2].str()), std::stoll(m[3].str()), e.path()});
    }
  }
  std::sort(out.begin(), out.end(), [](const PartShard& a, const PartShard& b) {
    return std::tie(a.world, a.rank, a.index) < std::tie(b.world, b.rank, b.index);
  });
  return out;
}

// The shards of `split` that `part` writes, by index.
std::vector<std::pair<int64_t, stdfs::path>> own_shards(const stdfs::path& dir,
                                                        const std::string& split,
                                                        const Part& part) {
  if (part.whole()) return list_shards(dir, split);
  std::vector<std::pair<int64_t, stdfs::path>> out;
  for (const auto& s : list_part_shards(dir, split)) {
    if (s.rank == part.rank && s.world == part.world) out.emplace_back(s.index, s.path);
  }
  return out;
}

// The files [begin, end) of a split that rank `rank` of `world` prepares: contiguous, in rank
// order, cut where the files' stated durations (1 s for a file whose header states none) reach
// rank/world of their sum, so that the ranks get about as much audio each.
std::pair<size_t, size_t> file_range(const std::vector<double>& durations, int rank, int world) {
  std::vector<double> start{0};  // start[i]: the duration of the files before file i
  for (double d : durations) start.push_back(start.back() + (d > 0 ? d : 1.0));
  const auto cut = [&](int r) -> size_t {
    if (r <= 0) return 0;
    if (r >= world) return durations.size();
    const double at = start.back() * r / world;
    return static_cast<size_t>(std::lower_bound(start.begin(), start.end(), at) - start.begin());
  };
  return {cut(rank), cut(rank + 1)};
}

std::string to_text(const RankWork& w) {
  nlohmann::json j;
  for (const auto& [name, ss] : w.splits) {
    j["splits"][name] = {{"shards", ss.shards},
                         {"chunks", ss.chunks},
                         {"dropped", ss.dropped},
                         {"class_counts", ss.class_counts}};
  }
  for (const auto& [name, rows] : w.skipped) {
    auto& js = j["skipped"][name];
    js = nlohmann::json::array();
    for (const auto& b : rows)
      js.push_back({{"line", b.line}, {"path", b.path}, {"reason", b.reason}});
  }
  j["kept"] = w.kept;
  j["written"] = w.written;
  j["ungated"] = w.ungated;
  return j.dump();
}

RankWork rank_work(const std::string& text) {
  const auto j = nlohmann::json::parse(text);
  RankWork w;
  for (const auto& [name, js] : j.at("splits").items()) {
    SplitSummary& ss = w.splits[name];
    ss.shards = js.at("shards").get<int64_t>();
    ss.chunks = js.at("chunks").get<int64_t>();
    ss.dropped = js.at("dropped").get<int64_t>();
    ss.class_counts = js.at("class_counts").get<std::map<std::string, std::vector<int64_t>>>();
  }
  if (j.contains("skipped")) {
    for (const auto& [name, rows] : j["skipped"].items()) {
      for (const auto& b : rows) {
        w.skipped[name].push_back({b.at("line").get<int64_t>(), b.at("path").get<std::string>(),
                                   b.at("reason").get<std::string>()});
      }
    }
  }
  w.kept = j.at("kept").get<int64_t>();
  w.written = j.at("written").get<int64_t>();
  w.ungated = j.at("ungated").get<int64_t>();
  return w;
}

// One step of prepare on every rank: `work` gives this rank's payload; returns every rank's, in
// rank order. An error on any rank is thrown on every rank (this rank's own first; another's
// with its type, ConfigError, InputError or Error, and its rank named), so that all stop with
// it and none waits for a rank that failed. A single process: `work`'s payload alone.
std::vector<std::string> step(Rendezvous* rdv, const std::string& tag,
                              const std::function<std::string()>& work) {
  if (rdv == nullptr) return {work()};
  std::string mine;
  std::exception_ptr error;
  try {
    mine = "ok\n" + work();
  } catch (const ConfigError& e) {
    error = std::current_exception();
    mine = std::string("config\n") + e.what();
  } catch (const InputError& e) {
    error = std::current_exception();
    mine = std::string("input\n") + e.what();
  } catch (const std::exception& e) {
    error = std::current_exception();
    mine = std::string("error\n") + e.what();
  }
  auto all = rdv->all_gather(tag, mine);
  if (error) std::rethrow_exception(error);
  for (size_t r = 0; r < all.size(); ++r) {
    if (all[r].rfind("ok\n", 0) == 0) continue;
    const auto nl = all[r].find('\n');
    const std::string kind = all[r].substr(0, nl);
    const std::string what = "rank " + std::to_string(r) + " of " + std::to_string(rdv->size()) +
                             " failed: " + all[r].substr(nl == std::string::npos ? 0 : nl + 1);
    if (kind == "config") throw ConfigError(what);
    if (kind == "input") throw InputError(what);
    throw Error(what);
  }
  for (auto& p : all) p.erase(0, 3);
  return all;
}

// Rank 0, once every rank is done: each rank's shards of each split, in rank order, renamed
// `<split>-<i>.h5` (the single process's names; a rank's shards hold consecutive files).
void rename_parts(const stdfs::path& dir, int world, const std::vector<RankWork>& works) {
  for (const auto& split : split_names()) {
    int64_t next = 0;
    for (int r = 0; r < world; ++r) {
      const auto own = own_shards(dir, split, Part{r, world});
      const int64_t n = works[static_cast<size_t>(r)].splits.at(split).shards;
      bool all = static_cast<int64_t>(own.size()) == n;
      for (int64_t i = 0; all && i < n; ++i) all = own[static_cast<size_t>(i)].first == i;
      if (!all) {
        throw InputError("rank " + std::to_string(r) + " wrote " + std::to_string(n) + " " + split +
                         " shard(s), but rank 0 sees " + std::to_string(own.size()) +
                         " of them in '" + dir.string() +
                         "': the dataset's output must be on a filesystem every rank shares");
      }
      for (const auto& [i, path] : own) stdfs::rename(path, dir / shard_name(split, next++));
    }
  }
}

}  // namespace hptrain::data::detail
