// `hptrain prepare` as 2 ranks on this machine (README, "Scaling out"): the dataset equals one
// process's example for example (sources, offsets, labels, every input); both ranks wrote part
// of it; a rank killed mid-way makes the other exit naming it, and the next 2-rank prepare
// resumes the killed rank's complete shards and still gives the one-process dataset. A 2-rank
// training job prepares its dataset the same way, on both ranks.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/ranks.h"
#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/data/shard.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "support/support.h"
#include "train/tone_corpus.h"

namespace hptrain::cli {
namespace {

namespace stdfs = std::filesystem;
using Clock = std::chrono::steady_clock;
using test::exited_with;
using test::start;
using test::wait_for;

// 12 files of 4 s (low and high tones), 1-s chunks in shards of 2, features 2 chunks at a time:
// each rank's part ends in a partial shard, so the 2-rank layout differs from one process's.
stdfs::path write_corpus(const stdfs::path& dir) {
  std::string csv = "path,pitch\n";
  stdfs::create_directories(dir / "audio");
  for (int i = 0; i < 12; ++i) {
    const bool low = i % 2 == 0;
    const auto x = test::tone((low ? 220.0 : 1760.0) * (1 + 0.1 * (i / 2)), 4.0);
    const std::string name = "f" + std::to_string(i) + ".wav";
    io::write_wav(dir / "audio" / name, x.data(), x.size(), 16000);
    csv += name + "," + (low ? "low" : "high") + "\n";
  }
  fs::write_text(dir / "audio" / "manifest.csv", csv);
  for (const char* out : {"one", "two"}) {
    std::string toml = "shard_size = 2\nfeature_batch = 2\n" + test::kToneDatasetToml;
    toml.replace(toml.find("output = \"shards\""), 17, std::string("output = \"") + out + "\"");
    fs::write_text(dir / (std::string(out) + ".toml"), toml);
  }
  return dir;
}

// `hptrain prepare` of one.toml by one process: the reference dataset `dir`/one.
void prepare_alone(const stdfs::path& dir) {
  ASSERT_TRUE(exited_with(
      wait_for(start({"prepare", "--dataset", (dir / "one.toml").string()}, {}, dir / "one.log")),
      0))
      << fs::read_text(dir / "one.log");
}

// Inputs of one process and of 2 ranks are extracted in batches of other compositions: on the
// CPU every example is computed alone (bit-equal); a GPU's batched FFTs may round differently by
// a few float32 ulps of the log-mel's dB range (~100), hence 1e-4 absolute + 1e-5 relative, far
// below the difference of two neighbouring chunks (whole dB).
constexpr float kAtol = 1e-4f, kRtol = 1e-5f;

// Every split of `b` holds the examples of `a` in the same order, with the same inputs.
void expect_same_dataset(const stdfs::path& a, const stdfs::path& b) {
  for (const auto& split : data::split_names()) {
    const data::ShardDataset da(a, split), db(b, split);
    ASSERT_EQ(da.size(), db.size()) << split;
    ASSERT_GT(da.size(), 0) << split;
    EXPECT_EQ(da.tasks(), db.tasks());
    EXPECT_EQ(da.classes("pitch"), db.classes("pitch"));
    EXPECT_EQ(da.sources(), db.sources()) << split;
    EXPECT_EQ(da.offsets(), db.offsets()) << split;
    EXPECT_EQ(da.labels("pitch"), db.labels("pitch")) << split;
    std::vector<int64_t> all(static_cast<size_t>(da.size()));
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
    for (auto in : {data::Input::log_mel, data::Input::mfcc, data::Input::stats}) {
      const auto xa = da.get(all, in), xb = db.get(all, in);
      ASSERT_EQ(xa.shape, xb.shape);
      float worst = 0;
      size_t at = 0;
      for (size_t k = 0; k < xa.x.size(); ++k) {
        const float excess = std::fabs(xa.x[k] - xb.x[k]) - (kAtol + kRtol * std::fabs(xa.x[k]));
        if (excess > worst) worst = excess, at = k;
      }
      EXPECT_LE(worst, 0.0f) << split << " input " << static_cast<int>(in) << " at " << at << ": "
                             << xa.x[at] << " vs " << xb.x[at];
    }
  }
}

// The ranks (the shards' "rank" attribute) that wrote the shards of `dir`.
std::set<int64_t> writers(const stdfs::path& dir) {
  std::set<int64_t> out;
  for (const auto& split : data::split_names()) {
    for (const auto& [i, p] : data::list_shards(dir, split)) {
      const auto f = h5::File::open_read(p);
      out.insert(f.has_attr("/", "rank") ? f.attr_int("/", "rank") : -1);
    }
  }
  return out;
}

ino_t inode(const stdfs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST(DistributedPrepare, TwoRanksGiveTheOneProcessDatasetAndResumeAfterAKill) {
  test::TempDir tmp;
  const auto dir = write_corpus(tmp.path());
  const auto two = dir / "two.toml";
  ASSERT_NO_FATAL_FAILURE(prepare_alone(dir));

  // rank 1 killed once its first shard is written: rank 0 exits, naming it, without a hang
  const int port = test::free_port();
  const pid_t r0 =
      start({"prepare", "--dataset", two.string()}, test::rank_env(0, 2, port), dir / "r0.log");
  const pid_t r1 =
      start({"prepare", "--dataset", two.string()}, test::rank_env(1, 2, port), dir / "r1.log");
  const auto first = dir / "two" / "train-part1of2-0.h5";
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!stdfs::exists(first) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(kill(r1, SIGKILL), 0);
  const auto killed = Clock::now();
  wait_for(r1);  // reaped: a zombie would still count as alive to a check by pid
  ASSERT_TRUE(stdfs::exists(first)) << fs::read_text(dir / "r1.log");
  int status = 0;
  while (waitpid(r0, &status, WNOHANG) != r0) {
    if (Clock::now() - killed > std::chrono::seconds(30)) {
      kill(r0, SIGKILL);
      wait_for(r0);
      FAIL() << "rank 0 still ran 30 s after rank 1 was killed:\n" << fs::read_text(dir / "r0.log");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cout << "rank 0 exited " << std::chrono::duration<double>(Clock::now() - killed).count()
            << " s after rank 1 was killed\n";
  const auto log0 = fs::read_text(dir / "r0.log");
  EXPECT_TRUE(exited_with(status, 1)) << log0;
  EXPECT_NE(log0.find("rank 1 (pid " + std::to_string(r1) + ") has ended"), std::string::npos)
      << log0;
  EXPECT_FALSE(stdfs::exists(dir / "two" / data::kPreparedFile));
  const ino_t kept = inode(first);

  // the next 2-rank prepare keeps rank 1's complete shards and ends with one process's dataset
  const int launched = wait_for(start({"launch", "--nproc-per-node", "2", "--master-port", "0",
                                       "--", "prepare", "--dataset", two.string()},
                                      {}, dir / "two.log"));
  const auto log = fs::read_text(dir / "two.log");
  ASSERT_TRUE(exited_with(launched, 0)) << log;
  EXPECT_EQ(log.find("rank 1 of 2"), std::string::npos) << "rank 1 logs warnings only:\n" << log;
  bool found = false;
  for (const auto& [i, p] : data::list_shards(dir / "two", "train")) found |= inode(p) == kept;
  EXPECT_TRUE(found) << "rank 1's first shard was written again:\n" << log;
  EXPECT_EQ(writers(dir / "two"), (std::set<int64_t>{0, 1}));
  for (const auto& e : stdfs::directory_iterator(dir / "two")) {
    EXPECT_EQ(e.path().filename().string().find("part"), std::string::npos) << e.path();
  }
  expect_same_dataset(dir / "one", dir / "two");

  // and once complete, it is up to date for 2 ranks as for one process
  ASSERT_TRUE(exited_with(wait_for(start({"launch", "--nproc-per-node", "2", "--master-port", "0",
                                          "--", "prepare", "--dataset", two.string()},
                                         {}, dir / "again.log")),
                          0))
      << fs::read_text(dir / "again.log");
  EXPECT_NE(fs::read_text(dir / "again.log").find("(up to date)"), std::string::npos)
      << fs::read_text(dir / "again.log");
  ASSERT_TRUE(
      exited_with(wait_for(start({"prepare", "--dataset", two.string()}, {}, dir / "a1.log")), 0));
  EXPECT_NE(fs::read_text(dir / "a1.log").find("(up to date)"), std::string::npos);
}

// A 2-rank training job whose dataset is not prepared yet: both ranks prepare it (through the
// training's own store) into one process's dataset, then train on it.
TEST(DistributedPrepare, ATwoRankTrainingPreparesItsDatasetOnBothRanks) {
  HP_REQUIRE_CPU_RANKS();

  test::TempDir tmp;
  const auto dir = write_corpus(tmp.path());
  ASSERT_NO_FATAL_FAILURE(prepare_alone(dir));
  const auto experiment = dir / "lstm.toml";
  fs::write_text(experiment, "[experiment]\nname = \"lstm\"\n\n[data]\ndataset = \"" +
                                 (dir / "two.toml").string() +
                                 "\"\ninput = \"mfcc\"\n\n[model]\ntype = \"lstm\"\n"
                                 "hidden_size = 8\nnum_layers = 1\n\n[train]\ndevice = \"cpu\"\n"
                                 "epochs = 1\nwarmup_epochs = 0\nbatch_size = 4\nthreads = 1\n\n"
                                 "[train.augment]\nenabled = false\n\n[output]\ndir = \"" +
                                 (dir / "runs" / "lstm").string() + "\"\n");
  const auto log = dir / "train.log";
  ASSERT_TRUE(exited_with(wait_for(start({"launch", "--nproc-per-node", "2", "--master-port", "0",
                                          "--", "--experiment", experiment.string()},
                                         {}, log)),
                          0))
      << fs::read_text(log);
  EXPECT_EQ(writers(dir / "two"), (std::set<int64_t>{0, 1})) << fs::read_text(log);
  expect_same_dataset(dir / "one", dir / "two");
  EXPECT_TRUE(stdfs::exists(dir / "runs" / "lstm" / "metrics.json")) << fs::read_text(log);
}

// Under PyTorch's launcher the ranks meet at its agent's store (TORCHELASTIC_USE_AGENT_STORE).
TEST(DistributedPrepare, TorchrunStartsThePrepareRanks) {
  std::string why;
  auto cmd = test::torchrun_command(&why);
  if (cmd.empty()) GTEST_SKIP() << why;
  test::TempDir tmp;
  const auto dir = write_corpus(tmp.path());
  ASSERT_NO_FATAL_FAILURE(prepare_alone(dir));
  for (const char* a : {"--no_python", "--nproc_per_node", "2"}) cmd.push_back(a);
  cmd.push_back("--master_port=" + std::to_string(test::free_port()));
  for (const std::string& a : {std::string(HP_HPTRAIN_BINARY), std::string("prepare"),
                               std::string("--dataset"), (dir / "two.toml").string()}) {
    cmd.push_back(a);
  }
  const auto log = dir / "two.log";
  ASSERT_TRUE(exited_with(test::run_logged(cmd, log), 0)) << fs::read_text(log);
  EXPECT_NE(fs::read_text(log).find("from torchrun"), std::string::npos) << fs::read_text(log);
  EXPECT_EQ(writers(dir / "two"), (std::set<int64_t>{0, 1}));
  expect_same_dataset(dir / "one", dir / "two");
}

}  // namespace
}  // namespace hptrain::cli
