// prepared.json: written last by prepare(), checked against its shards, read back.
#include "data/prepared_record.h"

#include <nlohmann/json.hpp>

#include <exception>

#include "hptrain/data/shard.h"
#include "hptrain/data/split.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "hptrain/log.h"

namespace hptrain::data::detail {

namespace stdfs = std::filesystem;

namespace {

nlohmann::json summary_json(const PrepareSummary& s) {
  nlohmann::json j;
  j["fingerprint"] = s.fingerprint;
  j["creator"] = std::string("hptrain ") + HP_VERSION;
  for (const auto& [split, ss] : s.splits) {
    auto& js = j["splits"][split];
    js["shards"] = ss.shards;
    js["chunks"] = ss.chunks;
    for (const auto& t : s.tasks) {
      for (size_t c = 0; c < t.classes.size(); ++c)
        js["classes"][t.name][t.classes[c]] = ss.class_counts.at(t.name)[c];
    }
  }
  j["skip_bad_rows"] = s.skip_bad_rows;
  j["skipped"] = nlohmann::json::array();
  for (const auto& b : s.skipped)
    j["skipped"].push_back({{"line", b.line}, {"path", b.path}, {"reason", b.reason}});
  return j;
}

}  // namespace

void write_prepared(const DatasetConfig& cfg, const PrepareSummary& sum) {
  fs::write_text(cfg.output / kPreparedFile, summary_json(sum).dump(2) + "\n");
}

bool prepared_skip_bad_rows(const DatasetConfig& cfg) {
  const auto path = cfg.output / kPreparedFile;
  if (!stdfs::is_regular_file(path)) return false;
  try {
    const auto j = nlohmann::json::parse(fs::read_text(path));
    const auto it = j.find("skip_bad_rows");
    return it != j.end() && it->is_boolean() && it->get<bool>();
  } catch (const std::exception&) {
    return false;
  }
}

bool prepared_complete(const DatasetConfig& cfg, const std::string& fp) {
  const auto path = cfg.output / kPreparedFile;
  if (!stdfs::exists(path)) return false;
  try {
    const auto j = nlohmann::json::parse(fs::read_text(path));
    if (j.at("fingerprint").get<std::string>() != fp) return false;
    for (const auto& split : split_names()) {
      const int64_t n =
          j.at("splits").contains(split) ? j["splits"][split].at("shards").get<int64_t>() : 0;
      const auto shards = list_shards(cfg.output, split);
      if (static_cast<int64_t>(shards.size()) != n) return false;
      for (int64_t i = 0; i < n; ++i) {
        if (shards[static_cast<size_t>(i)].first != i) return false;
        if (h5::File::open_read(shards[static_cast<size_t>(i)].second)
                .attr_string("/", "fingerprint") != fp) {
          return false;
        }
      }
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void read_prepared(const DatasetConfig& cfg, const Manifest& m, PrepareSummary& sum) {
  sum.skipped.clear();
  const auto j = nlohmann::json::parse(fs::read_text(cfg.output / kPreparedFile));
  for (const auto& split : split_names()) {
    auto& ss = sum.splits[split];
    if (!j["splits"].contains(split)) continue;
    const auto& js = j["splits"][split];
    ss.shards = js.at("shards").get<int64_t>();
    ss.chunks = js.at("chunks").get<int64_t>();
    for (const auto& t : m.tasks) {
      for (size_t c = 0; c < t.classes.size(); ++c) {
        ss.class_counts[t.name][c] = js["classes"][t.name].value(t.classes[c], int64_t{0});
      }
    }
  }
  for (const auto& b : j.value("skipped", nlohmann::json::array())) {
    sum.skipped.push_back({b.at("line").get<int64_t>(), b.at("path").get<std::string>(),
                           b.at("reason").get<std::string>()});
  }
  sum.up_to_date = true;
  sum.shards_kept =
      sum.splits["train"].shards + sum.splits["validation"].shards + sum.splits["test"].shards;
  HP_LOG_INFO("'{}' is up to date ({} shards)", cfg.output.string(), sum.shards_kept);
}

}  // namespace hptrain::data::detail
