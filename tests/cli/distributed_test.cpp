// Data-parallel training on 2 Gloo ranks on this machine (README, "Scaling out"): the final
// weights of 2 ranks equal those of one process with the same global batch within a stated
// tolerance (and a run with half the batch is far outside it); a rank killed with SIGKILL makes
// the other exit within a bounded time naming it; bad jobs fail on every rank, nothing written.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "cli/ranks.h"
#include "hptrain/fs.h"
#include "support/support.h"
#include "train/synthetic.h"

namespace hptrain::cli {
namespace {

using Clock = std::chrono::steady_clock;
using test::exited_with;
using test::free_port;
using test::rank_env;
using test::start;
using test::wait_for;

// A small LSTM without dropout or augmentation, balanced class weights (so that each rank's
// share of a batch's weighted loss matters), SGD, deterministic, one thread.
std::filesystem::path write_experiment(const std::filesystem::path& dir, const std::string& name,
                                       int epochs, int batch_size) {
  const auto shards = dir / "shards";
  if (!std::filesystem::exists(shards)) test::write_synthetic_shards(shards);
  const auto path = dir / (name + ".toml");
  fs::write_text(path, "[experiment]\nname = \"" + name + "\"\nseed = 7\n\n[data]\nshards = \"" +
                           shards.string() +
                           "\"\ninput = \"mfcc\"\n\n[model]\ntype = \"lstm\"\nhidden_size = 16\n"
                           "num_layers = 1\nbidirectional = true\npooling = \"attention\"\n"
                           "frame_stride = 2\ndropout = 0.0\n\n[train]\ndevice = \"cpu\"\n"
                           "epochs = " +
                           std::to_string(epochs) + "\nbatch_size = " + std::to_string(batch_size) +
                           "\noptimizer = \"sgd\"\nlr = 0.05\nmomentum = 0.9\nwarmup_epochs = 0\n"
                           "schedule = \"none\"\npatience = 0\nthreads = 1\ndeterministic = true\n"
                           "class_weighting = \"balanced\"\n\n[train.augment]\nenabled = false\n\n"
                           "[output]\ndir = \"" +
                           (dir / "runs" / name).string() + "\"\n");
  return path;
}

// Every tensor of an archive and of the archives inside it (one per submodule), by dotted name.
void collect(torch::serialize::InputArchive& archive, const std::string& prefix,
             std::map<std::string, torch::Tensor>& out) {
  for (const auto& key : archive.keys()) {
    torch::Tensor t;
    torch::serialize::InputArchive sub;
    if (archive.try_read(key, t)) {
      out[prefix + key] = t;
    } else if (archive.try_read(key, sub)) {
      collect(sub, prefix + key + ".", out);
    }
  }
}

// The weights in a checkpoint (checkpoint.cpp's format: LibTorch's archive, then the trailer).
std::map<std::string, torch::Tensor> weights(const std::filesystem::path& checkpoint) {
  const std::string bytes = fs::read_text(checkpoint);
  const size_t trailer = std::string("\nhptrain-fnv1a64 ").size() + 16;
  torch::serialize::InputArchive archive, model;
  archive.load_from(bytes.data(), bytes.size() - trailer);
  archive.read("model", model);
  std::map<std::string, torch::Tensor> out;
  collect(model, "", out);
  return out;
}

// max |a - b| - (atol + rtol |a|) over all weights (<= 0: within the tolerance); `worst` gets
// the weight with the largest |a - b| and that difference.
double excess(const std::map<std::string, torch::Tensor>& a,
              const std::map<std::string, torch::Tensor>& b, double atol, double rtol,
              std::string* worst) {
  double most = -1e30, largest = -1;
  for (const auto& [name, ta] : a) {
    const auto tb = b.at(name);
    most = std::max(most, ((ta - tb).abs() - (atol + rtol * ta.abs())).max().item<double>());
    const double d = (ta - tb).abs().max().item<double>();
    if (d > largest) {
      largest = d;
      *worst = name + ": max |diff| " + std::to_string(d);
    }
  }
  return most;
}

double max_diff(const std::map<std::string, torch::Tensor>& a,
                const std::map<std::string, torch::Tensor>& b) {
  double d = 0;
  for (const auto& [name, ta] : a) d = std::max(d, (ta - b.at(name)).abs().max().item<double>());
  return d;
}

// The two runs differ only in the order of float32 additions: the batch's loss summed per half
// then over ranks, and each gradient the sum of two partial sums (Gloo's all-reduce) instead of
// one. That is a few float32 ulps (~1e-7 relative) per gradient per step; SGD with momentum
// adds lr * gradient, so after 12 steps a weight may move by ~12 * 0.05 * 1e-7 * |g| from that
// alone, and the LSTM's feedback amplifies it by a small factor. 1e-5 absolute + 1e-4 relative
// leaves margin above that and stays far below what a real error costs: a lost all-reduce or
// a wrong loss share changes the weights by lr * |g| ~ 1e-3 per step, and a run with half the
// batch (checked below) differs by more than 100x the tolerance.
constexpr double kAtol = 1e-5, kRtol = 1e-4;

TEST(Distributed, TwoRanksEqualOneProcessWithTheSameGlobalBatch) {
  HP_REQUIRE_CPU_RANKS();

  test::TempDir dir;
  const auto one = write_experiment(dir.path(), "one", 2, 32);
  const auto two = write_experiment(dir.path(), "two", 2, 32);
  const auto half = write_experiment(dir.path(), "half", 2, 16);
  ASSERT_TRUE(exited_with(wait_for(start({"--experiment", one.string()}, {}, dir / "one.log")), 0))
      << fs::read_text(dir / "one.log");
  const int launched =
      wait_for(start({"launch", "--nproc-per-node", "2", "--master-port", "0", "--", "--experiment",
                      two.string(), "--set", "train.epochs=2", "--set", "train.batch_size=32"},
                     {}, dir / "two.log"));
  ASSERT_TRUE(exited_with(launched, 0)) << fs::read_text(dir / "two.log");
  ASSERT_TRUE(
      exited_with(wait_for(start({"--experiment", half.string()}, {}, dir / "half.log")), 0))
      << fs::read_text(dir / "half.log");

  const auto runs = dir / "runs";
  const auto w1 = weights(runs / "one" / "checkpoint_last.pt");
  const auto w2 = weights(runs / "two" / "checkpoint_last.pt");
  ASSERT_EQ(w1.size(), w2.size());
  std::string worst;
  EXPECT_LE(excess(w1, w2, kAtol, kRtol, &worst), 0.0) << worst;
  std::cout << "1 process vs 2 ranks: " << worst << "\n";
  // the tolerance tells batches apart: half the batch moves the weights far more
  const double d2 = max_diff(w1, w2);
  const double dh = max_diff(w1, weights(runs / "half" / "checkpoint_last.pt"));
  std::cout << "max |diff| of the weights: 2 ranks " << d2 << ", half the batch " << dh << "\n";
  EXPECT_GT(dh, 100 * kAtol) << "half the batch should differ far beyond the tolerance";

  // the same files, written once (rank 0), and the same epochs and validation results
  for (const char* f : {"metrics.json", "log.csv", "run.json", "classes.json", "model_best.pt",
                        "training_curves.png", "experiment.toml"}) {
    EXPECT_TRUE(std::filesystem::exists(runs / "two" / f)) << f;
  }
  const auto a = test::read_csv(runs / "one" / "log.csv");
  const auto b = test::read_csv(runs / "two" / "log.csv");
  ASSERT_EQ(a.size(), b.size());
  for (size_t r = 1; r < a.size(); ++r) {
    EXPECT_EQ(a[r][0], b[r][0]);  // epoch
    EXPECT_NEAR(std::stod(a[r][3]), std::stod(b[r][3]), 1e-4) << "val_loss, epoch " << r;
  }
  // rank 1 logs warnings and errors only
  EXPECT_EQ(fs::read_text(dir / "two.log").find("rank 1 of 2"), std::string::npos);
}

// Ctrl-C at `hptrain launch` reaches both ranks once; they stop after the same step, rank 0
// saves the checkpoint, the launcher exits 130; one process then resumes the 2-rank run (the
// checkpoint counts global batches) and ends where one process alone ends.
TEST(Distributed, CtrlCStopsEveryRankAndOneProcessResumes) {
  HP_REQUIRE_CPU_RANKS();

  test::TempDir dir;
  const auto alone = write_experiment(dir.path(), "alone", 6, 32);
  const auto cut = write_experiment(dir.path(), "cut", 6, 32);
  ASSERT_TRUE(exited_with(wait_for(start({"--experiment", alone.string()}, {}, dir / "a.log")), 0))
      << fs::read_text(dir / "a.log");
  const pid_t launcher = start(
      {"launch", "--nproc-per-node", "2", "--master-port", "0", "--", "--experiment", cut.string()},
      {}, dir / "cut.log");
  const auto csv = dir / "runs" / "cut" / "log.csv";
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (test::read_csv(csv).size() < 3 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(kill(launcher, SIGINT), 0);
  const int status = wait_for(launcher);
  ASSERT_TRUE(exited_with(status, 130)) << fs::read_text(dir / "cut.log");
  ASSERT_FALSE(std::filesystem::exists(dir / "runs" / "cut" / "metrics.json"));
  ASSERT_TRUE(exited_with(
      wait_for(start({"--experiment", cut.string(), "--resume"}, {}, dir / "resumed.log")), 0))
      << fs::read_text(dir / "resumed.log");
  std::string worst;
  EXPECT_LE(excess(weights(dir / "runs" / "alone" / "checkpoint_last.pt"),
                   weights(dir / "runs" / "cut" / "checkpoint_last.pt"), kAtol, kRtol, &worst),
            0.0)
      << worst;
  EXPECT_EQ(test::read_csv(csv).size(), 1u + 6u);
}

// PyTorch's own launcher: its agent serves the store on MASTER_PORT and tells the ranks so
// (TORCHELASTIC_USE_AGENT_STORE); rank 0 then joins it as a client.
TEST(Distributed, TorchrunNoPythonRunsTheRanks) {
  HP_REQUIRE_CPU_RANKS();

  std::string why;
  auto cmd = test::torchrun_command(&why);
  if (cmd.empty()) GTEST_SKIP() << why;
  test::TempDir dir;
  const auto exp = write_experiment(dir.path(), "tr", 1, 32);
  for (const char* a : {"--no_python", "--nproc_per_node", "2"}) cmd.push_back(a);
  cmd.push_back("--master_port=" + std::to_string(free_port()));
  for (const std::string& a :
       {std::string(HP_HPTRAIN_BINARY), std::string("--experiment"), exp.string()}) {
    cmd.push_back(a);
  }
  EXPECT_TRUE(exited_with(test::run_logged(cmd, dir / "tr.log"), 0))
      << fs::read_text(dir / "tr.log");
  EXPECT_TRUE(std::filesystem::exists(dir / "runs" / "tr" / "metrics.json"))
      << fs::read_text(dir / "tr.log");
  // both ranks ran (rank 1 logs warnings only, so its absence from the log proves nothing)
  const auto log = fs::read_text(dir / "tr.log");
  EXPECT_NE(log.find("rank 0 of 2"), std::string::npos) << log;
  EXPECT_NE(log.find("from torchrun"), std::string::npos) << log;
}

TEST(Distributed, AKilledRankMakesTheOtherExitNamingIt) {
  HP_REQUIRE_CPU_RANKS();

  test::TempDir dir;
  const auto exp = write_experiment(dir.path(), "long", 500, 32);
  const int port = free_port();
  auto env0 = rank_env(0, 2, port), env1 = rank_env(1, 2, port);
  env0["HPTRAIN_DIST_TIMEOUT"] = env1["HPTRAIN_DIST_TIMEOUT"] = "60";
  const pid_t r0 = start({"--experiment", exp.string()}, env0, dir / "rank0.log");
  const pid_t r1 = start({"--experiment", exp.string()}, env1, dir / "rank1.log");
  // once an epoch is done, kill rank 1 outright
  const auto csv = dir / "runs" / "long" / "log.csv";
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (test::read_csv(csv).size() < 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_LT(Clock::now(), deadline) << fs::read_text(dir / "rank0.log");
  ASSERT_EQ(kill(r1, SIGKILL), 0);
  const auto killed = Clock::now();
  // reaped at once: a zombie rank would still count as alive to a check by pid
  wait_for(r1);
  int status = 0;
  while (waitpid(r0, &status, WNOHANG) != r0) {
    if (Clock::now() - killed > std::chrono::seconds(30)) {
      kill(r0, SIGKILL);
      wait_for(r0);
      FAIL() << "rank 0 still ran 30 s after rank 1 was killed:\n"
             << fs::read_text(dir / "rank0.log");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double s = std::chrono::duration<double>(Clock::now() - killed).count();
  std::cout << "rank 0 exited " << s << " s after rank 1 was killed\n";
  const auto log = fs::read_text(dir / "rank0.log");
  EXPECT_TRUE(exited_with(status, 1)) << log;
  EXPECT_NE(log.find("rank 1 (pid " + std::to_string(r1) + ") has ended"), std::string::npos)
      << log;
}

TEST(Distributed, RanksOfDifferentExperimentsFailOnEveryRankWritingNothing) {
  test::TempDir dir;
  const auto exp = write_experiment(dir.path(), "x", 2, 32);
  const int port = free_port();
  const pid_t r0 = start({"--experiment", exp.string()}, rank_env(0, 2, port), dir / "r0.log");
  const pid_t r1 = start({"--experiment", exp.string(), "--set", "train.epochs=3"},
                         rank_env(1, 2, port), dir / "r1.log");
  EXPECT_TRUE(exited_with(wait_for(r0), 1)) << fs::read_text(dir / "r0.log");
  EXPECT_TRUE(exited_with(wait_for(r1), 1)) << fs::read_text(dir / "r1.log");
  EXPECT_NE(fs::read_text(dir / "r0.log").find("rank(s) 1 run another experiment"),
            std::string::npos)
      << fs::read_text(dir / "r0.log");
  EXPECT_NE(fs::read_text(dir / "r1.log").find("rank(s) 0 run another experiment"),
            std::string::npos)
      << fs::read_text(dir / "r1.log");
  EXPECT_FALSE(std::filesystem::exists(dir / "runs" / "x"));
}

TEST(Distributed, AnUnreachableMasterOrAPortInUseIsAClearError) {
  test::TempDir dir;
  const auto exp = write_experiment(dir.path(), "x", 2, 32);
  // rank 1 alone: no master ever listens
  auto env = rank_env(1, 2, free_port());
  env["HPTRAIN_CONNECT_TIMEOUT"] = "2";
  const auto t0 = Clock::now();
  EXPECT_TRUE(exited_with(wait_for(start({"--experiment", exp.string()}, env, dir / "r1.log")), 1));
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(30));
  EXPECT_NE(fs::read_text(dir / "r1.log").find("cannot reach the master 127.0.0.1:"),
            std::string::npos)
      << fs::read_text(dir / "r1.log");
  // rank 0 on a port another program listens on
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t n = sizeof a;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  auto env0 = rank_env(0, 2, ntohs(a.sin_port));
  env0["HPTRAIN_CONNECT_TIMEOUT"] = "2";
  EXPECT_TRUE(
      exited_with(wait_for(start({"--experiment", exp.string()}, env0, dir / "r0.log")), 1));
  close(fd);
  EXPECT_NE(fs::read_text(dir / "r0.log").find("is in use"), std::string::npos)
      << fs::read_text(dir / "r0.log");
  EXPECT_FALSE(std::filesystem::exists(dir / "runs" / "x"));
}

}  // namespace
}  // namespace hptrain::cli
