// `hptrain --experiment X --resume` after the training process was killed outright (SIGKILL:
// no handler runs, no checkpoint is written on the way out): the resumed run ends with the same
// test metrics, per-epoch losses and best weights as a run that was never interrupted.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "hptrain/fs.h"
#include "support/support.h"
#include "train/synthetic.h"

namespace hptrain::cli {
namespace {

constexpr int kEpochs = 5;

// The CNN experiment of cli_test.cpp on synthetic shards in `dir`, writing runs/cnn there.
std::filesystem::path write_experiment(const test::TempDir& dir) {
  const auto shards = dir / "shards";
  test::write_synthetic_shards(shards);
  const auto path = dir / "cnn.toml";
  fs::write_text(path, "[experiment]\nname = \"cnn\"\nseed = 3\n\n[data]\nshards = \"" +
                           shards.string() +
                           "\"\ninput = \"log_mel\"\n\n[model]\ntype = \"cnn\"\n"
                           "channels = [8, 16]\n\n[train]\ndevice = \"cpu\"\nepochs = " +
                           std::to_string(kEpochs) +
                           "\nbatch_size = 16\nthreads = 1\nwarmup_epochs = 1\npatience = 0\n\n"
                           "[train.augment]\nfreq_mask_width = 2\ntime_mask_width = 4\n\n"
                           "[output]\ndir = \"" +
                           (dir / "runs" / "cnn").string() + "\"\n");
  return path;
}

using test::lines_of;

// Runs hptrain with `args`, its output to `log`; returns the wait status.
int run(const std::vector<std::string>& args, const std::filesystem::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = freopen(log.c_str(), "w", stdout);
    if (f == nullptr || dup2(fileno(stdout), 2) < 0) _exit(99);
    std::vector<char*> argv = {const_cast<char*>(HP_HPTRAIN_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(HP_HPTRAIN_BINARY, argv.data());
    _exit(98);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// Column `col` of every row of a CSV without quoted fields.
std::vector<std::string> column(const std::filesystem::path& csv, size_t col) {
  std::vector<std::string> out;
  for (const auto& row : test::read_csv(csv)) out.push_back(col < row.size() ? row[col] : "");
  return out;
}

TEST(CliResume, AfterSigkillEqualsAnUninterruptedRun) {
  test::TempDir whole_dir, cut_dir;
  const auto whole_exp = write_experiment(whole_dir);
  const int whole = run({"--experiment", whole_exp.string()}, whole_dir / "out.log");
  ASSERT_TRUE(WIFEXITED(whole) && WEXITSTATUS(whole) == 0) << fs::read_text(whole_dir / "out.log");

  const auto exp = write_experiment(cut_dir);
  const auto run_dir = cut_dir / "runs" / "cnn";
  const auto log = cut_dir / "killed.log";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    FILE* f = freopen(log.c_str(), "w", stdout);
    if (f == nullptr || dup2(fileno(stdout), 2) < 0) _exit(99);
    execl(HP_HPTRAIN_BINARY, HP_HPTRAIN_BINARY, "--experiment", exp.c_str(), nullptr);
    _exit(98);
  }
  // kill it outright once two epochs are logged (or learn that it ended on its own)
  int status = 0;
  bool ended = false;
  while (lines_of(run_dir / "log.csv") < 1 + 2) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      ended = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!ended) {
    kill(pid, SIGKILL);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
  }
  ASSERT_FALSE(ended) << "hptrain ended before two epochs were logged:\n" << fs::read_text(log);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_FALSE(std::filesystem::exists(run_dir / "metrics.json")) << "killed after the end";
  ASSERT_TRUE(std::filesystem::exists(run_dir / "checkpoint_last.pt"));

  const int resumed = run({"--experiment", exp.string(), "--resume"}, cut_dir / "resumed.log");
  ASSERT_TRUE(WIFEXITED(resumed) && WEXITSTATUS(resumed) == 0)
      << fs::read_text(cut_dir / "resumed.log");

  const auto whole_run = whole_dir / "runs" / "cnn";
  const auto a = nlohmann::json::parse(fs::read_text(run_dir / "metrics.json"));
  const auto b = nlohmann::json::parse(fs::read_text(whole_run / "metrics.json"));
  EXPECT_EQ(a.at("tasks"), b.at("tasks"));
  EXPECT_EQ(a.at("test_loss"), b.at("test_loss"));
  // every epoch once, with the same learning rate, training and validation losses
  EXPECT_EQ(lines_of(run_dir / "log.csv"), 1 + kEpochs);
  for (size_t col : {0, 1, 2, 3, 4}) {
    EXPECT_EQ(column(run_dir / "log.csv", col), column(whole_run / "log.csv", col))
        << "log.csv column " << col;
  }
  // and the same best weights, byte for byte
  EXPECT_EQ(fs::read_text(run_dir / "model_best.pt"), fs::read_text(whole_run / "model_best.pt"));
}

}  // namespace
}  // namespace hptrain::cli
