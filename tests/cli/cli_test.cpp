// The `hptrain` program as a user runs it: exit codes, error messages that name the file, line
// or key, --set overrides, train -> evaluate -> predict -> report on synthetic shards, Ctrl-C
// during training saving a checkpoint that --resume continues from.
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
#include "hptrain/io/audio.h"
#include "support/support.h"
#include "train/synthetic.h"
#include "train/tone_corpus.h"

namespace hptrain::cli {
namespace {

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr together
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs hptrain with `args` (each quoted for the shell), waiting for it to end.
Result hptrain(const std::vector<std::string>& args) {
  std::string cmd = quote(HP_HPTRAIN_BINARY);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A CNN experiment on synthetic shards in `dir` (tiny model, CPU, a few epochs).
std::filesystem::path write_experiment(const test::TempDir& dir, int epochs) {
  const auto shards = dir / "shards";
  if (!std::filesystem::exists(shards)) test::write_synthetic_shards(shards);
  const auto path = dir / "cnn.toml";
  fs::write_text(path, "[experiment]\nname = \"cnn\"\nseed = 3\n\n[data]\nshards = \"" +
                           shards.string() +
                           "\"\ninput = \"log_mel\"\n\n[model]\ntype = \"cnn\"\n"
                           "channels = [8, 16]\n\n[train]\ndevice = \"cpu\"\nepochs = " +
                           std::to_string(epochs) +
                           "\nbatch_size = 16\nthreads = 1\nwarmup_epochs = 0\npatience = 0\n\n"
                           "[train.augment]\nfreq_mask_width = 2\ntime_mask_width = 4\n\n"
                           "[output]\ndir = \"" +
                           (dir / "runs" / "cnn").string() + "\"\n");
  return path;
}

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

int64_t lines_of(const std::filesystem::path& p) {
  std::ifstream in(p);
  int64_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

TEST(Cli, VersionAndHelp) {
  const auto v = hptrain({"--version"});
  EXPECT_EQ(v.code, 0) << v.out;
  EXPECT_TRUE(contains(v.out, std::string("hptrain ") + HP_VERSION)) << v.out;
  const auto h = hptrain({});
  EXPECT_EQ(h.code, 0) << h.out;
  for (const char* sub : {"preprocess", "features", "prepare", "train", "evaluate", "report"}) {
    EXPECT_TRUE(contains(h.out, sub)) << "help does not list " << sub << ":\n" << h.out;
  }
}

TEST(Cli, UnknownOptionAndMissingFileAreUsageErrors) {
  const auto u = hptrain({"--no-such-option"});
  EXPECT_NE(u.code, 0);
  EXPECT_TRUE(contains(u.out, "--no-such-option")) << u.out;
  const auto m = hptrain({"--experiment", "/nonexistent/exp.toml"});
  EXPECT_NE(m.code, 0);
  EXPECT_TRUE(contains(m.out, "/nonexistent/exp.toml")) << m.out;
}

TEST(Cli, BadExperimentNamesFileLineAndKey) {
  test::TempDir dir;
  const auto exp = write_experiment(dir, 1);
  // a malformed file: the parser's line
  const auto broken = dir / "broken.toml";
  fs::write_text(broken, "[experiment]\nname = \"x\"\nseed = = 3\n");
  const auto b = hptrain({"--experiment", broken.string()});
  EXPECT_EQ(b.code, 1) << b.out;
  EXPECT_TRUE(contains(b.out, "broken.toml")) << b.out;
  EXPECT_TRUE(contains(b.out, ":3")) << b.out;
  // an unknown key given with --set: named, with where it came from
  const auto k = hptrain({"--experiment", exp.string(), "--set", "train.epochz=3"});
  EXPECT_EQ(k.code, 1) << k.out;
  EXPECT_TRUE(contains(k.out, "epochz")) << k.out;
  EXPECT_TRUE(contains(k.out, "--set")) << k.out;
  // a value out of range
  const auto r = hptrain({"--experiment", exp.string(), "--set", "train.batch_size=0"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "batch_size")) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir / "runs" / "cnn" / "metrics.json"));
}

TEST(Cli, TrainEvaluateReport) {
  test::TempDir dir;
  const auto exp = write_experiment(dir, 8);
  const auto run_dir = dir / "runs" / "cnn";
  // --set overrides the file's 8 epochs
  const auto t = hptrain({"--experiment", exp.string(), "--set", "train.epochs=2"});
  ASSERT_EQ(t.code, 0) << t.out;
  EXPECT_TRUE(contains(t.out, "run folder: " + run_dir.string())) << t.out;
  EXPECT_EQ(lines_of(run_dir / "log.csv"), 1 + 2);  // header + one row per epoch
  const auto metrics = read_json(run_dir / "metrics.json");
  for (const char* task : {"scene", "music"}) {
    const auto& m = metrics.at("tasks").at(task);
    for (const char* key : {"accuracy", "precision_macro", "recall_macro", "f1_macro",
                            "f1_weighted", "roc_auc", "confusion"}) {
      EXPECT_TRUE(m.contains(key)) << task << " lacks " << key;
    }
  }

  const auto e = hptrain({"evaluate", "--run", run_dir.string(), "--split", "validation"});
  ASSERT_EQ(e.code, 0) << e.out;
  EXPECT_TRUE(contains(e.out, "scene")) << e.out;
  EXPECT_TRUE(contains(e.out, "[info]")) << e.out;
  // the log level after the subcommand as before it: the results, no info lines
  const auto quiet = hptrain(
      {"evaluate", "--run", run_dir.string(), "--split", "validation", "--log-level", "warn"});
  ASSERT_EQ(quiet.code, 0) << quiet.out;
  EXPECT_TRUE(contains(quiet.out, "scene")) << quiet.out;
  EXPECT_FALSE(contains(quiet.out, "[info]")) << quiet.out;
  const auto bad = hptrain({"evaluate", "--run", run_dir.string(), "--split", "holdout"});
  EXPECT_NE(bad.code, 0);
  EXPECT_TRUE(contains(bad.out, "holdout")) << bad.out;

  // predict needs the run's dataset TOML (its preprocessing); a run on bare shards says so
  const std::vector<float> silence(16000, 0.0f);
  io::write_wav(dir / "clip.wav", silence.data(), silence.size(), 16000);
  const auto p = hptrain({"predict", "--run", run_dir.string(), (dir / "clip.wav").string()});
  EXPECT_EQ(p.code, 1) << p.out;
  EXPECT_TRUE(contains(p.out, "data.shards")) << p.out;
  const auto missing = hptrain({"predict", "--run", run_dir.string(), "no-such-film.mkv"});
  EXPECT_NE(missing.code, 0);
  EXPECT_TRUE(contains(missing.out, "no-such-film.mkv")) << missing.out;

  const auto out = dir / "table.md";
  const auto rep = hptrain({"report", "--runs", (dir / "runs").string(), "--out", out.string()});
  ASSERT_EQ(rep.code, 0) << rep.out;
  EXPECT_TRUE(contains(rep.out, "| cnn")) << rep.out;
  EXPECT_TRUE(std::filesystem::exists(dir / "table.md"));
  EXPECT_TRUE(std::filesystem::exists(dir / "table.csv"));
}

// predict over several recordings: a corrupt one is named and skipped, the others are written,
// and the exit code says that something failed.
TEST(Cli, PredictGoesOnPastAFileThatFails) {
  test::TempDir dir;
  const auto dataset = test::write_tone_corpus(dir.path());
  const auto exp = dir / "rf.toml";
  fs::write_text(exp, "[experiment]\nname = \"rf\"\n\n[data]\ndataset = \"" + dataset.string() +
                          "\"\ninput = \"stats\"\n\n[model]\ntype = \"rf\"\nn_estimators = 20\n"
                          "\n[output]\ndir = \"" +
                          (dir / "runs" / "rf").string() + "\"\n");
  const auto t = hptrain({"--experiment", exp.string()});
  ASSERT_EQ(t.code, 0) << t.out;
  fs::write_text(dir / "corrupt.wav", "RIFF, but not a WAV file");
  const auto out = dir / "preds";
  const auto p = hptrain({"predict", "--run", (dir / "runs" / "rf").string(), "--out", out.string(),
                          (dir / "corrupt.wav").string(), (dir / "film.wav").string()});
  EXPECT_EQ(p.code, 1) << p.out;
  EXPECT_TRUE(contains(p.out, "film.wav: 4 chunks, 4.0 s")) << p.out;
  EXPECT_TRUE(contains(p.out, "pitch: high 50% low 50% (2 segments)")) << p.out;
  EXPECT_TRUE(contains(p.out, "1 of 2 files failed")) << p.out;
  EXPECT_TRUE(contains(p.out, (dir / "corrupt.wav").string())) << p.out;
  EXPECT_EQ(lines_of(out / "film.csv"), 1 + 4);
  EXPECT_EQ(lines_of(out / "film.segments.csv"), 1 + 2);
  EXPECT_FALSE(std::filesystem::exists(out / "corrupt.csv"));

  const auto alone = hptrain({"predict", "--run", (dir / "runs" / "rf").string(), "--out",
                              out.string(), (dir / "corrupt.wav").string()});
  EXPECT_EQ(alone.code, 1) << alone.out;
  EXPECT_TRUE(contains(alone.out, "the file failed (nothing written for it)")) << alone.out;
  EXPECT_FALSE(std::filesystem::exists(out / "corrupt.csv"));
}

// Ctrl-C during training: exit code 130, the epochs done so far kept, and --resume finishing the
// run with every epoch logged once.
// issue 22, case 3: two processes on one run folder or dataset output. This test process holds
// the lock as a running hptrain would; the program stops at once, exit 1, naming the holder.
TEST(Cli, ASecondProcessOnALockedFolderStopsAtOnce) {
  test::TempDir dir;
  const auto exp = write_experiment(dir, 2);
  const auto run_dir = dir / "runs" / "cnn";
  std::filesystem::create_directories(run_dir);
  {
    const fs::Lock held(run_dir / fs::kLockName, "test");
    const auto r = hptrain({"--experiment", exp.string()});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "run folder '" + run_dir.string() +
                                    "' is in use by another hptrain process (pid " +
                                    std::to_string(getpid())))
        << r.out;
    EXPECT_FALSE(std::filesystem::exists(run_dir / "classes.json")) << "nothing written";
  }
  const auto dataset = test::write_tone_corpus(dir.path());
  const auto shards = dir / "shards";
  std::filesystem::create_directories(shards);
  {
    const fs::Lock held(shards / fs::kLockName, "test");
    const auto r = hptrain({"prepare", "--dataset", dataset.string()});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "is in use by another hptrain process (pid ")) << r.out;
  }
  const auto ok = hptrain({"prepare", "--dataset", dataset.string()});
  EXPECT_EQ(ok.code, 0) << ok.out;
}

TEST(Cli, InterruptSavesACheckpointThatResumeContinues) {
  test::TempDir dir;
  constexpr int kEpochs = 400;  // far more than run before the signal
  const auto exp = write_experiment(dir, kEpochs);
  const auto run_dir = dir / "runs" / "cnn";
  const auto log_file = dir / "interrupted.log";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    FILE* f = freopen(log_file.c_str(), "w", stdout);
    if (f == nullptr || dup2(fileno(stdout), 2) < 0) _exit(99);
    execl(HP_HPTRAIN_BINARY, HP_HPTRAIN_BINARY, "--experiment", exp.c_str(), nullptr);
    _exit(98);
  }
  // wait until two epochs are logged, then interrupt as Ctrl-C does
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (lines_of(run_dir / "log.csv") < 1 + 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  std::ifstream in(log_file);
  const std::string printed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status)) << printed;
  ASSERT_EQ(WEXITSTATUS(status), 130) << printed;
  EXPECT_TRUE(contains(printed, "--resume")) << printed;
  EXPECT_TRUE(std::filesystem::exists(run_dir / "checkpoint_last.pt"));
  EXPECT_FALSE(std::filesystem::exists(run_dir / "metrics.json"));
  const int64_t done = lines_of(run_dir / "log.csv") - 1;
  ASSERT_GE(done, 2);
  ASSERT_LT(done, kEpochs);

  // resume with a shorter schedule end: the run picks up after the last saved epoch
  const int64_t epochs = done + 2;
  const auto r = hptrain({"--experiment", exp.string(), "--resume", "--set",
                          "train.epochs=" + std::to_string(epochs)});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(lines_of(run_dir / "log.csv"), 1 + epochs);
  EXPECT_TRUE(std::filesystem::exists(run_dir / "metrics.json"));
}

}  // namespace
}  // namespace hptrain::cli
