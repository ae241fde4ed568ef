// prepare() on the ranks of a job without processes or LibTorch: ranks are threads meeting at an
// in-memory Rendezvous. 5 ranks (some with no file of a split) give one process's dataset; the
// files are cut by duration; an error on one rank stops every rank naming it. The 2-process
// test with c10d's store, a killed rank and resume is tests/cli/distributed_prepare_test.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "data/prepare_ranks.h"
#include "hptrain/data/dataset.h"
#include "hptrain/data/prepare.h"
#include "hptrain/data/rendezvous.h"
#include "hptrain/data/shard.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "hptrain/io/audio.h"
#include "support/support.h"
#include "train/tone_corpus.h"

namespace hptrain::data {
namespace {

namespace stdfs = std::filesystem;

// The ranks of one job as threads of this process (a wait longer than a minute is an error:
// a test must not hang).
class Threads {
 public:
  explicit Threads(int n) : n_(n) {}
  std::vector<std::string> gather(int rank, const std::string& tag, const std::string& mine) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto& slot = values_[tag];
    slot.resize(static_cast<size_t>(n_));
    slot[static_cast<size_t>(rank)] = mine;
    changed_.notify_all();
    const bool all = changed_.wait_for(lock, std::chrono::minutes(1), [&] {
      for (const auto& v : slot)
        if (!v) return false;
      return true;
    });
    if (!all) throw Error("rank " + std::to_string(rank) + ": '" + tag + "' timed out");
    std::vector<std::string> out;
    for (const auto& v : slot) out.push_back(*v);
    return out;
  }
  int size() const { return n_; }

 private:
  int n_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::vector<std::optional<std::string>>> values_;
};

class ThreadRendezvous : public Rendezvous {
 public:
  ThreadRendezvous(Threads& t, int rank) : t_(t), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return t_.size(); }
  std::vector<std::string> all_gather(const std::string& tag, const std::string& mine) override {
    return t_.gather(rank_, tag, mine);
  }

 private:
  Threads& t_;
  int rank_;
};

// Runs `f(rendezvous)` on `n` threads; each thread's error message, or "" when it returned.
std::vector<std::string> on_ranks(int n, const std::function<void(Rendezvous&)>& f) {
  Threads t(n);
  std::vector<std::string> errors(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      ThreadRendezvous rdv(t, r);
      try {
        f(rdv);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = std::string("error: ") + e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  return errors;
}

TEST(PrepareRanks, FilesAreCutContiguouslyByDuration) {
  // 10 s, 1, 1, 1, 1, 6: half of 20 s is reached at the second file
  const std::vector<double> d = {10, 1, 1, 1, 1, 6};
  EXPECT_EQ(detail::file_range(d, 0, 2), (std::pair<size_t, size_t>{0, 1}));
  EXPECT_EQ(detail::file_range(d, 1, 2), (std::pair<size_t, size_t>{1, 6}));
  // every world size: contiguous, in rank order, covering every file once
  for (int world = 1; world <= 8; ++world) {
    size_t next = 0;
    for (int r = 0; r < world; ++r) {
      const auto [b, e] = detail::file_range(d, r, world);
      EXPECT_EQ(b, next) << world;
      EXPECT_LE(b, e);
      next = e;
    }
    EXPECT_EQ(next, d.size()) << world;
  }
  // unknown lengths count 1 s each: 4 files on 2 ranks, 2 each
  EXPECT_EQ(detail::file_range({-1, -1, -1, -1}, 1, 2), (std::pair<size_t, size_t>{2, 4}));
}

TEST(PrepareRanks, AnErrorOnOneRankIsAnErrorOnEveryRankNamingIt) {
  std::vector<std::string> seen(3);
  const auto errors = on_ranks(3, [&](Rendezvous& rdv) {
    detail::step(&rdv, "work", [&]() -> std::string {
      if (rdv.rank() == 1) throw InputError("'f3.wav': no audio stream");
      return "fine";
    });
  });
  EXPECT_EQ(errors[1], "error: 'f3.wav': no audio stream");
  for (int r : {0, 2}) {
    EXPECT_EQ(errors[static_cast<size_t>(r)],
              "error: rank 1 of 3 failed: 'f3.wav': no audio stream");
  }
  // and payloads come back in rank order when all went well
  on_ranks(3, [&](Rendezvous& rdv) {
    const auto all = detail::step(&rdv, "ok", [&] { return std::to_string(rdv.rank() * 10); });
    seen[static_cast<size_t>(rdv.rank())] = all[0] + "," + all[1] + "," + all[2];
  });
  EXPECT_EQ(seen, (std::vector<std::string>(3, "0,10,20")));
}

TEST(PrepareRanks, FiveRanksGiveOneProcessesDataset) {
  test::TempDir dir;
  test::write_tone_corpus(dir.path());  // 12 files of 3 s; 6 train, 3 validation, 3 test
  std::string toml = "shard_size = 2\nfeature_batch = 3\n" + test::kToneDatasetToml;
  fs::write_text(dir / "one.toml", toml);
  toml.replace(toml.find("output = \"shards\""), 17, "output = \"ranks\"");
  fs::write_text(dir / "ranks.toml", toml);
  PrepareOptions one;
  one.dataset = dir / "one.toml";
  run_prepare(one);
  // shards of a 2-rank job that died: not this world size's, so they go
  stdfs::create_directories(dir / "ranks");
  fs::write_text(dir / "ranks" / "train-part1of2-0.h5", "of another job");
  PrepareOptions opts;
  opts.dataset = dir / "ranks.toml";
  // 5 ranks: the 3 files of validation and test leave some ranks without a file
  std::vector<PrepareSummary> sums(5);
  const auto errors = on_ranks(
      5, [&](Rendezvous& rdv) { sums[static_cast<size_t>(rdv.rank())] = run_prepare(opts, &rdv); });
  for (const auto& e : errors) ASSERT_EQ(e, "");
  EXPECT_FALSE(stdfs::exists(dir / "ranks" / "train-part1of2-0.h5"));
  for (const auto& e : stdfs::directory_iterator(dir / "ranks")) {
    EXPECT_EQ(e.path().filename().string().find("part"), std::string::npos) << e.path();
  }
  std::set<int64_t> writers;  // the ranks that wrote train shards (6 files on 5 ranks)
  for (const auto& [i, p] : list_shards(dir / "ranks", "train"))
    writers.insert(h5::File::open_read(p).attr_int("/", "rank"));
  EXPECT_EQ(writers, (std::set<int64_t>{0, 1, 2, 3, 4}));
  for (const auto& split : split_names()) {
    const ShardDataset a(dir / "shards", split), b(dir / "ranks", split);
    ASSERT_EQ(a.size(), b.size()) << split;
    EXPECT_EQ(a.sources(), b.sources()) << split;
    EXPECT_EQ(a.offsets(), b.offsets()) << split;
    EXPECT_EQ(a.labels("pitch"), b.labels("pitch")) << split;
    std::vector<int64_t> all(static_cast<size_t>(a.size()));
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
    EXPECT_EQ(a.get(all, Input::log_mel).x, b.get(all, Input::log_mel).x) << split;  // CPU: exact
    EXPECT_EQ(a.get(all, Input::stats).x, b.get(all, Input::stats).x) << split;
    // every rank returns the whole dataset's summary
    for (const auto& s : sums) EXPECT_EQ(s.splits.at(split).chunks, a.size()) << split;
  }
  // up to date for every rank now
  const auto again = on_ranks(3, [&](Rendezvous& rdv) {
    if (!run_prepare(opts, &rdv).up_to_date) throw Error("not up to date");
  });
  for (const auto& e : again) EXPECT_EQ(e, "");
}

// Ranks that read other dataset settings stop, each naming the others, before writing anything.
TEST(PrepareRanks, RanksOfOtherDatasetSettingsFailOnEveryRankWritingNothing) {
  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  fs::write_text(dir / "a.toml", "shard_size = 2\n" + test::kToneDatasetToml);
  fs::write_text(dir / "b.toml", "shard_size = 3\n" + test::kToneDatasetToml);
  const auto errors = on_ranks(2, [&](Rendezvous& rdv) {
    PrepareOptions opts;
    opts.dataset = dir / (rdv.rank() == 0 ? "a.toml" : "b.toml");
    run_prepare(opts, &rdv);
  });
  EXPECT_NE(errors[0].find("rank 0 of 2: rank(s) 1 read another manifest, other settings"),
            std::string::npos)
      << errors[0];
  EXPECT_NE(errors[1].find("rank 1 of 2: rank(s) 0 read another manifest"), std::string::npos)
      << errors[1];
  EXPECT_FALSE(stdfs::exists(dir / "shards")) << "rank 0's lock folder is left behind";
}

}  // namespace
}  // namespace hptrain::data
