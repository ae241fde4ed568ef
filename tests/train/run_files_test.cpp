// A run folder that cannot lie: checkpoints load strictly (the same keys and shapes), carry the
// run's fingerprint and a checksum, so an edited experiment.toml, a checkpoint of another model
// or a flipped byte is an error naming the file, not another answer; every saved state resumes
// (Ctrl-C in the first epoch included); one process per run folder; a full disk while writing a
// checkpoint fails with the OS's reason, leaves no temporary, and the run resumes afterwards.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/models/net.h"
#include "hptrain/train/run.h"
#include "support/support.h"
#include "train/synthetic.h"

namespace hptrain::train {
namespace {

namespace stdfs = std::filesystem;

// A tiny CNN (or `model` = rf) experiment on the synthetic shards of `dir`, into `out`.
stdfs::path experiment(const test::TempDir& dir, const std::string& name, const std::string& model,
                       const stdfs::path& out = {}) {
  const auto shards = dir / "shards";
  // fewer examples than the learning tests: these check files and errors, not accuracy
  test::SyntheticSizes sizes;
  sizes.train = 48;
  sizes.validation = sizes.test = 16;
  if (!stdfs::exists(shards)) test::write_synthetic_shards(shards, 5, sizes);
  std::string text = "[experiment]\nname = \"" + name + "\"\nseed = 7\n\n[data]\nshards = \"" +
                     shards.string() + "\"\n";
  if (model == "rf") {
    text += "input = \"stats\"\n[model]\ntype = \"rf\"\nn_estimators = 10\nseed = 1\n";
  } else {
    text += "input = \"log_mel\"\n[model]\ntype = \"cnn\"\nchannels = " + model +
            "\ndropout = 0.1\n[train]\ndevice = \"cpu\"\nepochs = 2\nbatch_size = 16\n"
            "threads = 2\nwarmup_epochs = 0\npatience = 0\n[train.augment]\n"
            "freq_mask_width = 2\ntime_mask_width = 4\n";
  }
  text += "[output]\ndir = \"" + (out.empty() ? dir / "runs" / name : out).string() + "\"\n";
  const auto path = dir / (name + ".toml");
  fs::write_text(path, text);
  return path;
}

const auto message_of = test::message_of<InputError>;

using test::contains;

void flip_byte(const stdfs::path& file, double where) {
  std::string bytes = fs::read_bytes(file);
  bytes[static_cast<size_t>(where * static_cast<double>(bytes.size()))] ^= 0x10;
  fs::write_bytes(file, bytes.data(), bytes.size());
}

TEST(LoadStrict, RefusesMissingAndUnexpectedKeysAndOtherShapes) {
  models::ModelConfig four, two;
  four.channels = {4, 8, 16, 32};
  two.channels = {4, 8};
  const std::vector<int64_t> heads = {3, 2}, other_heads = {3, 3};
  models::Net big(four, 16, heads), small(two, 16, heads), other(two, 16, other_heads);
  std::ostringstream saved;
  {
    torch::serialize::OutputArchive a;
    big->save(a);
    a.save_to(saved);
  }
  const auto archive = [&saved] {
    torch::serialize::InputArchive a;
    std::istringstream in(saved.str());
    a.load_from(in);
    return a;
  };
  // what went wrong before: torch's own load takes the 4-block file into a 2-block model (and
  // gives its projection the file's shape)
  models::Net victim(two, 16, heads);
  auto loose = archive();
  EXPECT_NO_THROW(victim->load(loose));
  auto a = archive();
  const std::string more = message_of([&] { models::load_strict(*small, a); });
  EXPECT_TRUE(contains(more, "body.block2: in the file, not in the model")) << more;

  std::ostringstream two_saved;
  {
    torch::serialize::OutputArchive o;
    small->save(o);
    o.save_to(two_saved);
  }
  torch::serialize::InputArchive b;
  std::istringstream in(two_saved.str());
  b.load_from(in);
  const std::string shape = message_of([&] { models::load_strict(*other, b); });
  EXPECT_TRUE(contains(shape, "head1.weight")) << shape;
  EXPECT_TRUE(contains(shape, "in the file")) << shape;
  // and the model's own archive loads, to the same weights
  models::Net copy(two, 16, heads);
  torch::serialize::InputArchive c;
  std::istringstream in2(two_saved.str());
  c.load_from(in2);
  models::load_strict(*copy, c);
  EXPECT_TRUE(torch::equal(copy->parameters()[0], small->parameters()[0]));
}

// issue 22, case 2: channels = [4, 8] in experiment.toml, weights of a 4-block model
TEST(RunFiles, EditedModelOrACheckpointOfAnotherRunIsRefused) {
  test::TempDir dir;
  const std::vector<std::string> one = {"train.epochs=1"};
  const auto big = run_experiment({experiment(dir, "big", "[4, 8, 16, 32]"), one, false, 0});
  const auto small = run_experiment({experiment(dir, "small", "[4, 8]"), one, false, 0});
  ASSERT_NO_THROW(run_evaluate({small.run_dir, "test", {}}));

  // the big run's experiment.toml edited to the small model
  const auto toml = big.run_dir / "experiment.toml";
  std::string text = fs::read_text(toml);
  const auto at = text.find("channels = ");
  ASSERT_NE(at, std::string::npos) << text;
  fs::write_text(toml, text.replace(at, text.find('\n', at) - at, "channels = [4, 8]"));
  std::string e = message_of([&] { run_evaluate({big.run_dir, "test", {}}); });
  EXPECT_TRUE(contains(e, "not what the run was trained with")) << e;

  // the big run's weights copied into the small run
  stdfs::copy_file(big.run_dir / "model_best.pt", small.run_dir / "model_best.pt",
                   stdfs::copy_options::overwrite_existing);
  e = message_of([&] { run_evaluate({small.run_dir, "test", {}}); });
  EXPECT_TRUE(contains(e, (small.run_dir / "model_best.pt").string())) << e;
  EXPECT_TRUE(contains(e, "of another model or classes")) << e;
}

TEST(RunFiles, FlippedOrLostBytesInACheckpointAreAnErrorNamingIt) {
  test::TempDir dir;
  const auto r = run_experiment({experiment(dir, "cnn", "[4, 8]"), {"train.epochs=1"}, false, 0});
  const auto best = r.run_dir / "model_best.pt";
  const std::string good = fs::read_bytes(best);
  for (double where : {0.02, 0.5, 0.9}) {
    SCOPED_TRACE(where);
    flip_byte(best, where);
    const std::string e = message_of([&] { run_evaluate({r.run_dir, "test", {}}); });
    EXPECT_TRUE(contains(e, best.string())) << e;
    EXPECT_TRUE(contains(e, "damaged")) << e;
    fs::write_bytes(best, good.data(), good.size());
  }
  fs::write_bytes(best, good.data(), good.size() / 2);
  const std::string e = message_of([&] { run_evaluate({r.run_dir, "test", {}}); });
  EXPECT_TRUE(contains(e, "checksum")) << e;
  fs::write_bytes(best, good.data(), good.size());
  EXPECT_EQ(run_evaluate({r.run_dir, "test", {}}).at("tasks"), r.metrics.at("tasks"));

  // the tasks named in another order than the model's heads: each head still answers its task
  const auto toml = r.run_dir / "experiment.toml";
  std::string text = fs::read_text(toml);
  const auto at = text.find("[experiment]\n");
  ASSERT_NE(at, std::string::npos) << text;
  fs::write_text(toml, text.insert(at + 13, "tasks = [\"music\", \"scene\"]\n"));
  EXPECT_EQ(run_evaluate({r.run_dir, "test", {}}).at("tasks"), r.metrics.at("tasks"));
}

TEST(RunFiles, ForestModelFilesAndClassesAreChecked) {
  test::TempDir dir;
  const auto r = run_experiment({experiment(dir, "rf", "rf"), {}, false, 0});
  const auto model = r.run_dir / "model_scene.h5";
  const std::string good = fs::read_bytes(model);
  flip_byte(model, 0.7);
  std::string e = message_of([&] { run_evaluate({r.run_dir, "test", {}}); });
  EXPECT_TRUE(contains(e, model.string())) << e;
  EXPECT_TRUE(contains(e, "damaged")) << e;
  fs::write_bytes(model, good.data(), good.size());
  // classes reordered in classes.json: another meaning of the outputs
  const auto classes = r.run_dir / "classes.json";
  const std::string saved = fs::read_text(classes);
  fs::write_text(classes,
                 R"({"music": ["yes", "no"], "scene": ["dialog", "action", "emotional"]})");
  e = message_of([&] { run_evaluate({r.run_dir, "test", {}}); });
  EXPECT_TRUE(contains(e, "not what the run was trained with")) << e;
  fs::write_text(classes, saved);
  EXPECT_EQ(run_evaluate({r.run_dir, "test", {}}).at("tasks"), r.metrics.at("tasks"));
}

// issue 22, case 4: Ctrl-C in the first epoch (best_loss still infinite, written as null)
TEST(RunFiles, InterruptedInTheFirstEpochResumesToTheUninterruptedResult) {
  test::TempDir dir;
  const std::vector<std::string> one = {"train.epochs=1"};
  const auto whole = run_experiment({experiment(dir, "whole", "[4, 8]"), one, false, 0});
  const auto cut = experiment(dir, "cut", "[4, 8]");
  const auto first = run_experiment({cut, one, false, 2});  // of 3 steps in the epoch
  ASSERT_TRUE(first.interrupted);
  // a temporary of a killed write, which the resumed run removes
  const auto stale = first.run_dir / "checkpoint_last.pt.tmp-999999-0";
  fs::write_text(stale, "half a checkpoint");
  const auto resumed = run_experiment({cut, one, true, 0});
  ASSERT_FALSE(resumed.interrupted);
  EXPECT_EQ(resumed.metrics.at("tasks"), whole.metrics.at("tasks"));
  EXPECT_EQ(resumed.metrics.at("test_loss"), whole.metrics.at("test_loss"));
  EXPECT_FALSE(stdfs::exists(stale));
  // a finished run's checkpoint resumes too (nothing left to train: the same test result)
  const auto again = run_experiment({cut, one, true, 0});
  EXPECT_EQ(again.metrics.at("tasks"), whole.metrics.at("tasks"));
}

TEST(RunFiles, ASecondProcessOnARunFolderStopsAtOnceNamingTheHolder) {
  test::TempDir dir;
  const auto exp = experiment(dir, "locked", "[4, 8]");
  stdfs::create_directories(dir / "runs" / "locked");
  // another open file description of the lock file, as another process would hold it
  const fs::Lock held(dir / "runs" / "locked" / fs::kLockName, "test");
  fs::write_text(dir / "runs" / "locked" / "experiment.toml", fs::read_text(exp));
  const std::string e = message_of([&] { run_experiment({exp, {}, false, 0}); });
  EXPECT_TRUE(contains(e, "in use by another hptrain process")) << e;
  EXPECT_TRUE(contains(e, "pid " + std::to_string(::getpid()))) << e;
  EXPECT_EQ(fs::read_text(dir / "runs" / "locked" / "experiment.toml"), fs::read_text(exp));
  EXPECT_FALSE(stdfs::exists(dir / "runs" / "locked" / "classes.json")) << "nothing written";
  const std::string ev = message_of([&] { run_evaluate({dir / "runs" / "locked", "test", {}}); });
  EXPECT_TRUE(contains(ev, "in use by another hptrain process")) << ev;
}

// A tmpfs of `kib` KiB at `dir`, unmounted at scope exit; empty() when mounting is not allowed.
class SmallDisk {
 public:
  SmallDisk(const stdfs::path& dir, int64_t kib) : dir_(dir) {
    stdfs::create_directories(dir);
    const std::string opts = "size=" + std::to_string(kib) + "k";
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool mounted() const { return mounted_; }

 private:
  stdfs::path dir_;
  bool mounted_ = false;
};

// issue 22, case 5: the disk fills while a checkpoint is written
TEST(RunFiles, FullDiskWhileCheckpointingFailsWithTheOsReasonAndResumes) {
  test::TempDir dir;
  const std::vector<std::string> set = {"train.epochs=2"};
  // a model whose checkpoints (about 40 and 110 KiB) outweigh the small files (4 KiB pages)
  const std::string model = "[16, 32]";
  const auto whole = run_experiment({experiment(dir, "whole", model), set, false, 0});
  const auto size = [&](const char* f) {
    return static_cast<int64_t>(stdfs::file_size(whole.run_dir / f)) / 1024 + 1;
  };
  // room for the small files, both checkpoints and a new model_best.pt, but not for a second
  // checkpoint_last.pt beside the first (atomic_write's temporary)
  const int64_t kib =
      32 + 2 * size("model_best.pt") + size("checkpoint_last.pt") + size("checkpoint_last.pt") / 2;
  const auto disk = dir / "disk";
  SmallDisk small(disk, kib);
  if (!small.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  const auto exp = experiment(dir, "full", model, disk / "run");
  const std::string e = message_of([&] { run_experiment({exp, set, false, 0}); });
  EXPECT_TRUE(contains(e, "No space left on device")) << e;
  EXPECT_TRUE(contains(e, (disk / "run" / "checkpoint_last.pt").string())) << e;
  for (const auto& f : stdfs::directory_iterator(disk / "run")) {
    EXPECT_FALSE(contains(f.path().filename().string(), ".tmp-")) << f.path();
  }
  // room again (the disk grows): the run resumes from its last good checkpoint
  ASSERT_EQ(::mount("tmpfs", disk.c_str(), "tmpfs", MS_REMOUNT, "size=16m"), 0);
  const auto resumed = run_experiment({exp, set, true, 0});
  EXPECT_EQ(resumed.metrics.at("tasks"), whole.metrics.at("tasks"));
  EXPECT_EQ(resumed.metrics.at("test_loss"), whole.metrics.at("test_loss"));
}

}  // namespace
}  // namespace hptrain::train
