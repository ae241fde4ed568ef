// Splits by the manifest's group column when groups and files do not line up: one group spans
// two files, one file holds two groups. The manifest keeps the column's groups, and the prepared
// shards never put chunks of one group in two splits.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/data/manifest.h"
#include "hptrain/data/prepare.h"
#include "hptrain/data/shard.h"
#include "hptrain/data/split.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "support/support.h"
#include "train/tone_corpus.h"

namespace hptrain::data {
namespace {

namespace stdfs = std::filesystem;

// 12 files of 3 s (even: low tone, odd: high). Groups: g0..g4 each span two files (f0+f1, ...,
// f8+f9); f10 holds g5 over [0, 2) and g6 over [2, 3); g6 goes on over all of f11.
struct Row {
  std::string path;
  double start, end;
  std::string group;
};

std::vector<Row> rows() {
  std::vector<Row> r;
  for (int i = 0; i < 10; ++i) {
    r.push_back({"f" + std::to_string(i) + ".wav", 0, 3, "g" + std::to_string(i / 2)});
  }
  r.push_back({"f10.wav", 0, 2, "g5"});
  r.push_back({"f10.wav", 2, 3, "g6"});
  r.push_back({"f11.wav", 0, 3, "g6"});
  return r;
}

std::string write_corpus(const stdfs::path& dir) {
  stdfs::create_directories(dir / "audio");
  std::string csv = "path,start,end,pitch,group\n";
  for (int i = 0; i < 12; ++i) {
    const bool low = i % 2 == 0;
    const auto x = test::tone((low ? 220.0 : 1760.0) * (1 + 0.1 * (i / 2)), 3.0);
    io::write_wav(dir / "audio" / ("f" + std::to_string(i) + ".wav"), x.data(), x.size(), 16000);
  }
  for (const auto& r : rows()) {
    const bool low = (r.path[1] - '0') % 2 == 0 && r.path != "f11.wav";
    csv += r.path + "," + std::to_string(r.start) + "," + std::to_string(r.end) + "," +
           (low ? "low" : "high") + "," + r.group + "\n";
  }
  fs::write_text(dir / "audio" / "manifest.csv", csv);
  fs::write_text(dir / "dataset.toml", test::kToneDatasetToml);
  return csv;
}

// The group of the chunk [offset, offset + 1) of `path`.
std::string group_of(const std::string& path, double offset) {
  for (const auto& r : rows()) {
    if (stdfs::path(path).filename() == r.path && offset >= r.start && offset + 1 <= r.end) {
      return r.group;
    }
  }
  return "?";
}

TEST(GroupSplit, ManifestKeepsTheGroupColumnAcrossFiles) {
  test::TempDir dir;
  write_corpus(dir.path());
  const auto cfg = dataset_config_from_toml(toml::parse_file((dir / "dataset.toml").string()),
                                            dir / "dataset.toml");
  const Manifest m = read_manifest(cfg);
  ASSERT_TRUE(m.bad.empty()) << describe(m.bad, m.where);
  const auto expect = rows();
  ASSERT_EQ(m.segments.size(), expect.size());
  for (size_t i = 0; i < expect.size(); ++i) {
    EXPECT_EQ(m.segments[i].path, expect[i].path) << i;
    EXPECT_EQ(m.segments[i].group, expect[i].group) << i;
  }
  // the split works on the 7 groups, not the 12 files
  const SplitResult r = assign_splits(m, cfg.split);
  EXPECT_EQ(r.group_split.size(), 7u);
  EXPECT_EQ(r.segment_split[0], r.segment_split[1]);    // g0 over f0 and f1
  EXPECT_EQ(r.segment_split[11], r.segment_split[12]);  // g6 over f10 and f11
}

TEST(GroupSplit, PreparedSplitsNeverShareAGroup) {
  test::TempDir dir;
  write_corpus(dir.path());
  PrepareOptions o;
  o.dataset = dir / "dataset.toml";
  run_prepare(o);
  std::map<std::string, std::set<std::string>> splits_of_group;
  std::map<std::string, std::set<std::string>> groups_of_split;
  int64_t chunks = 0;
  for (const auto& split : split_names()) {
    if (list_shards(dir / "shards", split).empty()) continue;
    const ShardDataset ds(dir / "shards", split);
    for (int64_t i = 0; i < ds.size(); ++i) {
      const std::string g =
          group_of(ds.sources()[static_cast<size_t>(i)], ds.offsets()[static_cast<size_t>(i)]);
      ASSERT_NE(g, "?") << ds.sources()[static_cast<size_t>(i)] << " at "
                        << ds.offsets()[static_cast<size_t>(i)];
      splits_of_group[g].insert(split);
      groups_of_split[split].insert(g);
      ++chunks;
    }
  }
  EXPECT_EQ(chunks, 36);
  EXPECT_EQ(splits_of_group.size(), 7u);
  for (const auto& [g, s] : splits_of_group) EXPECT_EQ(s.size(), 1u) << g << " in several splits";
  // the 0.5/0.25/0.25 target leaves no split empty with 7 groups
  EXPECT_EQ(groups_of_split.size(), 3u);
  // split.csv records the column's groups
  const auto csv = parse_csv(fs::read_text(dir / "shards" / "split.csv"), "split.csv");
  std::set<std::string> recorded;
  for (size_t i = 1; i < csv.size(); ++i) recorded.insert(csv[i].fields[0]);
  EXPECT_EQ(recorded, (std::set<std::string>{"g0", "g1", "g2", "g3", "g4", "g5", "g6"}));
}

}  // namespace
}  // namespace hptrain::data
