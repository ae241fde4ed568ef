// The `hptrain` program as a user runs it: exit codes, error messages that name the file, line
// or key, --set overrides, train -> evaluate -> predict -> report on synthetic shards, Ctrl-C
// during training saving a checkpoint that --resume continues from.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
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
#include "speakers/speaker_runs.h"
#include "support/support.h"
#include "train/synthetic.h"
#include "train/tone_corpus.h"

namespace hptrain::cli {
namespace {

using Result = test::CommandResult;

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `program` with `args` (each quoted for the shell), waiting for it to end.
Result run_program(const std::string& program, const std::vector<std::string>& args) {
  std::string cmd = quote(program);
  for (const auto& a : args) cmd += " " + quote(a);
  return test::run_command(cmd);
}

Result hptrain(const std::vector<std::string>& args) {
  return run_program(HP_HPTRAIN_BINARY, args);
}

// hptrain with `args`, stopped (exit code 124) after `seconds`: for inputs that could block.
Result hptrain_within(int seconds, const std::vector<std::string>& args) {
  std::vector<std::string> all = {"-k", "5", std::to_string(seconds), HP_HPTRAIN_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  return run_program("timeout", all);
}

using test::contains;

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

using test::lines_of;

TEST(Cli, VersionAndHelp) {
  const auto v = hptrain({"--version"});
  EXPECT_EQ(v.code, 0) << v.out;
  EXPECT_TRUE(contains(v.out, std::string("hptrain ") + HP_VERSION)) << v.out;
  const auto h = hptrain({});
  EXPECT_EQ(h.code, 0) << h.out;
  for (const char* sub :
       {"preprocess", "features", "prepare", "train", "evaluate", "report", "embed", "enroll"}) {
    EXPECT_TRUE(contains(h.out, sub)) << "help does not list " << sub << ":\n" << h.out;
  }
}

// `hptrain` loads no LibTorch (its start-up was 0.9 s, most of it the loader relocating
// LibTorch): the dynamic loader's own list of what it opened for `--version` and `features
// --help` names no libtorch, while `train --help` runs hptrain-torch, which does.
TEST(Cli, CommandsWithoutLibTorchDoNotLoadIt) {
  auto loaded = [](const std::string& args) {
    return test::run_command("LD_DEBUG=files " + quote(HP_HPTRAIN_BINARY) + " " + args).out;
  };
  EXPECT_FALSE(contains(loaded("--version"), "libtorch"));
  EXPECT_FALSE(contains(loaded("features --help"), "libtorch"));
  const std::string train = loaded("train --help");
  EXPECT_TRUE(contains(train, "libtorch")) << train.substr(0, 2000);
  EXPECT_TRUE(contains(train, "--experiment"));  // hptrain-torch's own help for train
}

TEST(Cli, UnknownOptionAndMissingFileAreUsageErrors) {
  const auto u = hptrain({"--no-such-option"});
  EXPECT_NE(u.code, 0);
  EXPECT_TRUE(contains(u.out, "--no-such-option")) << u.out;
  const auto m = hptrain({"--experiment", "/nonexistent/exp.toml"});
  EXPECT_NE(m.code, 0);
  EXPECT_TRUE(contains(m.out, "/nonexistent/exp.toml")) << m.out;
}

// README, "Exit codes": 0 success and help, 2 the command line, 1 input and configuration.
TEST(Cli, ExitCodesSayWhatKindOfErrorItWas) {
  EXPECT_EQ(hptrain({"report", "--help"}).code, 0);
  test::TempDir dir;
  const std::vector<std::vector<std::string>> usage = {
      {"--no-such-option"},                               // CLI11's code: 109
      {"train"},                                          // a required option missing: 106
      {"--experiment", (dir / "nothere.toml").string()},  // a path naming nothing: 105
      {"predict", "--run", dir.path().string(), "--batch-size", "zero", "x.wav"}};  // bad value
  for (const auto& args : usage) {
    const auto r = hptrain(args);
    EXPECT_EQ(r.code, 2) << args.front() << ":\n" << r.out;
  }
  // a file that exists but is not a TOML: an input error
  fs::write_text(dir / "exp.toml", "[experiment\n");
  const auto bad = hptrain({"--experiment", (dir / "exp.toml").string()});
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_FALSE(contains(bad.out, "internal error")) << bad.out;
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

// A FIFO with no writer (or a device) given as an input is refused with its name, at once.
TEST(Cli, AFifoIsRefusedNotWaitedFor) {
  test::TempDir dir;
  const auto fifo = dir / "pipe.wav";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const auto pre = hptrain_within(
      20, {"preprocess", "--input", fifo.string(), "--out", (dir / "chunks").string()});
  EXPECT_EQ(pre.code, 1) << pre.out;
  EXPECT_TRUE(contains(pre.out, "'" + fifo.string() + "': not a regular file (a FIFO)")) << pre.out;
  const auto feat =
      hptrain_within(20, {"features", "--input", fifo.string(), "--out", (dir / "f.h5").string()});
  EXPECT_EQ(feat.code, 1) << feat.out;
  EXPECT_TRUE(contains(feat.out, "'" + fifo.string() + "': not a regular file (a FIFO)"))
      << feat.out;
  EXPECT_FALSE(std::filesystem::exists(dir / "f.h5"));
  const auto dev =
      hptrain_within(20, {"features", "--input", "/dev/zero", "--out", (dir / "z.h5").string()});
  EXPECT_EQ(dev.code, 1) << dev.out;
  EXPECT_TRUE(contains(dev.out, "'/dev/zero': not a regular file (a character device)")) << dev.out;
  // a configuration file too
  const auto exp = hptrain_within(20, {"--experiment", fifo.string()});
  EXPECT_EQ(exp.code, 1) << exp.out;
  EXPECT_TRUE(contains(exp.out, "cannot read '" + fifo.string() + "': not a regular file"))
      << exp.out;
}

// One metrics.json with a field of the wrong type: that run is skipped with a warning naming
// its file and the key, the others make the table.
TEST(Cli, ReportSkipsAMetricsFileWithAMistypedField) {
  test::TempDir dir;
  const std::string good =
      R"({"experiment": "good", "model": "cnn", "device": "cpu", "train_seconds": 12.5,
          "tasks": {"scene": {"accuracy": 0.875, "f1_macro": 0.5, "roc_auc": null}}})";
  std::string nulled = good, texty = good;
  nulled.replace(nulled.find("12.5"), 4, "null");
  nulled.replace(nulled.find("good"), 4, "nulled");
  texty.replace(texty.find("0.875"), 5, "\"high\"");
  texty.replace(texty.find("good"), 4, "texty");
  std::filesystem::create_directories(dir / "runs" / "folder" / "metrics.json");  // unreadable
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"good", good}, {"nulled", nulled}, {"texty", texty}}) {
    std::filesystem::create_directories(dir / "runs" / name);
    fs::write_text(dir / "runs" / name / "metrics.json", text);
  }
  const auto r = hptrain({"report", "--runs", (dir / "runs").string()});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "| good | cnn | scene | 0.875 | 0.500 | n/a |  | 12.5s | cpu |"))
      << r.out;
  EXPECT_FALSE(contains(r.out, "| nulled")) << r.out;
  EXPECT_FALSE(contains(r.out, "| texty")) << r.out;
  EXPECT_TRUE(contains(r.out, "skipping '" + (dir / "runs" / "nulled" / "metrics.json").string() +
                                  "': train_seconds is null, expected a number"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "skipping '" + (dir / "runs" / "texty" / "metrics.json").string() +
                                  "': tasks.scene.accuracy is string, expected a number"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "skipping: cannot read '" +
                                  (dir / "runs" / "folder" / "metrics.json").string() +
                                  "': is a directory"))
      << r.out;
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

  // a FIFO with no writer: refused with its name, not waited for
  const auto fifo = dir / "pipe.wav";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const auto piped = hptrain_within(60, {"predict", "--run", (dir / "runs" / "rf").string(),
                                         "--out", out.string(), fifo.string()});
  EXPECT_EQ(piped.code, 1) << piped.out;
  EXPECT_TRUE(contains(piped.out, "'" + fifo.string() + "': not a regular file (a FIFO)"))
      << piped.out;
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
  // wait until two epochs are logged, however long that takes on a loaded machine (ctest's
  // timeout bounds it), or until the program ends on its own; then interrupt as Ctrl-C does
  int status = 0;
  bool ended_early = false;
  while (lines_of(run_dir / "log.csv") < 1 + 2) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      ended_early = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!ended_early) {
    kill(pid, SIGINT);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
  }
  std::ifstream in(log_file);
  const std::string printed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(ended_early) << "hptrain ended before two epochs were logged:\n" << printed;
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

// `hptrain embed` and `enroll` run through hptrain-torch: a short file among good ones gives a
// warning and exit 0; a line shorter than the window and --cast with a forest run exit 1 with
// the row and the run named.
TEST(Cli, EmbedEnrollAndPredictCast) {
  test::TempDir dir;
  test::write_tone_corpus(dir.path());
  const auto cnn = test::train_tone_run(dir.path(), "cnn", test::kToneCnn);
  const auto rf = test::train_tone_run(dir.path(), "rf", test::kToneForest);
  const auto tiny = test::tone(300, 0.2);
  io::write_wav(dir / "tiny.wav", tiny.data(), tiny.size(), 16000);
  const auto e = hptrain({"embed", "--run", cnn.string(), "--out", (dir / "emb.h5").string(),
                          (dir / "film.wav").string(), (dir / "tiny.wav").string()});
  EXPECT_EQ(e.code, 0) << e.out;
  EXPECT_TRUE(contains(e.out, "5 embeddings")) << e.out;
  EXPECT_TRUE(contains(e.out, "tiny.wav': no usable audio")) << e.out;
  fs::write_text(dir / "cast.csv",
                 "path,start,end,character\naudio/f0.wav,0,3,low\naudio/f1.wav,0,1,high\n");
  const auto bad = hptrain({"enroll", "--run", cnn.string(), "--manifest",
                            (dir / "cast.csv").string(), "--out", (dir / "cast.h5").string()});
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_TRUE(contains(bad.out, "cast.csv:3")) << bad.out;
  fs::write_text(dir / "cast.csv",
                 "path,start,end,character\naudio/f0.wav,0,3,low\naudio/f1.wav,0,2,high\n");
  const auto ok = hptrain({"enroll", "--run", cnn.string(), "--manifest",
                           (dir / "cast.csv").string(), "--out", (dir / "cast.h5").string()});
  ASSERT_EQ(ok.code, 0) << ok.out;
  EXPECT_TRUE(contains(ok.out, "threshold")) << ok.out;
  const auto p = hptrain({"predict", "--run", rf.string(), "--cast", (dir / "cast.h5").string(),
                          (dir / "film.wav").string()});
  EXPECT_EQ(p.code, 1) << p.out;
  EXPECT_TRUE(contains(p.out, rf.string())) << p.out;
}

}  // namespace
}  // namespace hptrain::cli
