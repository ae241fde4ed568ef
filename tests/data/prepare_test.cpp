// prepare() end to end on a tiny corpus of tones: shards, labels from the segments, the
// dataset TOML, bad rows, up-to-date detection, resume after a crash, and config changes.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <nlohmann/json.hpp>

#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <optional>
#include <thread>

#include "hptrain/data/dataset.h"
#include "hptrain/data/prepare.h"
#include "hptrain/data/shard.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "support/support.h"
#include "train/tone_corpus.h"

namespace hptrain::data {
namespace {

namespace stdfs = std::filesystem;

constexpr int kSr = 16000;

// the tone corpus's dataset TOML, in shards of 3 chunks, features 2 chunks per call
const std::string kToml = "shard_size = 3\nfeature_batch = 2\n" + test::kToneDatasetToml;

class PrepareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // 8 files of 3 s: f0-f3 low tones, f4-f7 high; f7 is annotated over [0, 1.2) only
    std::string csv = "path,start,end,pitch\n";
    for (int i = 0; i < 8; ++i) {
      const double hz = i < 4 ? 220.0 * (1 + 0.1 * i) : 1760.0 * (1 + 0.1 * i);
      std::vector<float> x(3 * kSr);
      for (size_t n = 0; n < x.size(); ++n)
        x[n] = 0.2f * static_cast<float>(std::sin(2 * M_PI * hz * n / kSr));
      const std::string name = "f" + std::to_string(i) + ".wav";
      stdfs::create_directories(dir_ / "audio");
      io::write_wav(dir_ / "audio" / name, x.data(), x.size(), kSr);
      csv += name + (i == 7 ? ",0,1.2," : ",,,") + (i < 4 ? "low" : "high") + "\n";
    }
    fs::write_text(dir_ / "audio" / "manifest.csv", csv);
    write_toml(kToml);
  }
  void write_toml(const std::string& text) { fs::write_text(dir_ / "dataset.toml", text); }
  PrepareSummary run(bool skip = false) {
    PrepareOptions o;
    o.dataset = dir_ / "dataset.toml";
    o.skip_bad_rows = skip;
    return run_prepare(o);
  }
  std::map<std::string, std::vector<float>> log_mels() {
    std::map<std::string, std::vector<float>> out;
    for (const auto& split : split_names()) {
      for (const auto& [i, p] : list_shards(dir_ / "shards", split)) {
        out[p.filename().string()] = read_shard(h5::File::open_read(p)).log_mel.data;
      }
    }
    return out;
  }
  test::TempDir dir_;
};

TEST_F(PrepareTest, ShardsHoldEveryLabelledChunk) {
  const PrepareSummary s = run();
  EXPECT_FALSE(s.up_to_date);
  int64_t chunks = 0, dropped = 0;
  for (const auto& [name, ss] : s.splits) {
    chunks += ss.chunks;
    dropped += ss.dropped;
    EXPECT_EQ(ss.shards, (ss.chunks + 2) / 3) << name;
    EXPECT_EQ(static_cast<int64_t>(list_shards(dir_ / "shards", name).size()), ss.shards) << name;
  }
  EXPECT_EQ(chunks, 7 * 3 + 1);  // f7: only [0, 1) is covered by its segment
  EXPECT_EQ(dropped, 2);
  EXPECT_TRUE(stdfs::exists(dir_ / "shards" / "split.csv"));
  EXPECT_TRUE(stdfs::exists(dir_ / "shards" / "prepared.json"));
  for (const auto& split : split_names()) {
    const ShardDataset ds(dir_ / "shards", split);
    EXPECT_EQ(ds.example_shape(Input::log_mel), (std::vector<int64_t>{64, 101}));
    EXPECT_EQ(ds.example_shape(Input::mfcc)[0], 60);
    EXPECT_EQ(ds.example_shape(Input::stats)[0], static_cast<int64_t>(ds.stats_columns().size()));
    EXPECT_EQ(ds.attr_string("preprocess_chunk_s"), "1");
    EXPECT_EQ(ds.attr_string("split"), split);
    for (int64_t i = 0; i < ds.size(); ++i) {
      const int file = ds.sources()[static_cast<size_t>(i)][1] - '0';
      EXPECT_EQ(ds.labels("pitch")[static_cast<size_t>(i)], file < 4 ? 0 : 1)
          << ds.sources()[static_cast<size_t>(i)];
      if (file == 7) {
        EXPECT_EQ(ds.offsets()[static_cast<size_t>(i)], 0.0);
      }
    }
    // a low tone puts its energy in lower mel bands than a high one
    const Batch b = ds.get({0}, Input::log_mel);
    int64_t peak = 0;
    for (int64_t r = 0; r < 64; ++r) {
      if (b.x[static_cast<size_t>(r * 101 + 50)] > b.x[static_cast<size_t>(peak * 101 + 50)])
        peak = r;
    }
    EXPECT_EQ(peak < 32, ds.labels("pitch")[0] == 0) << split << " peak band " << peak;
  }
  EXPECT_TRUE(run().up_to_date);
}

TEST_F(PrepareTest, ResumesAfterACrashMidShard) {
  const PrepareSummary first = run();
  const auto before = log_mels();
  const auto shards = list_shards(dir_ / "shards", "train");
  ASSERT_GE(shards.size(), 3u);
  const auto kept_time = stdfs::last_write_time(shards[1].second);
  // the crash: shards 0-1 complete, shard 2 half-written under its temporary name, no marker
  stdfs::remove(dir_ / "shards" / kPreparedFile);
  for (size_t i = 2; i < shards.size(); ++i) stdfs::remove(shards[i].second);
  fs::write_text(dir_ / "shards" / "train-2.h5.tmp-999-0", "half-written");
  EXPECT_THROW(ShardDataset(dir_ / "shards", "train"), InputError);

  const PrepareSummary again = run();
  EXPECT_FALSE(again.up_to_date);
  EXPECT_EQ(again.shards_written, static_cast<int64_t>(shards.size()) - 2);
  EXPECT_EQ(again.shards_kept + again.shards_written, first.shards_written);
  EXPECT_EQ(stdfs::last_write_time(shards[1].second), kept_time);
  EXPECT_FALSE(stdfs::exists(dir_ / "shards" / "train-2.h5.tmp-999-0"));
  EXPECT_EQ(log_mels(), before);
  EXPECT_EQ(again.splits.at("train").chunks, first.splits.at("train").chunks);
  EXPECT_EQ(again.splits.at("train").class_counts, first.splits.at("train").class_counts);
  EXPECT_EQ(ShardDataset(dir_ / "shards", "train").size(), first.splits.at("train").chunks);
}

TEST_F(PrepareTest, ChangedConfigurationPreparesAgain) {
  run();
  std::string toml = kToml;
  toml += "\n[features.mel]\nn_mels = 32\n";
  write_toml(toml);
  const PrepareSummary s = run();
  EXPECT_FALSE(s.up_to_date);
  EXPECT_EQ(s.shards_kept, 0);
  EXPECT_EQ(ShardDataset(dir_ / "shards", "test").example_shape(Input::log_mel)[0], 32);
  // labelling rules are part of the configuration too
  write_toml(toml + "\n[background]\npitch = \"low\"\n");
  EXPECT_FALSE(run().up_to_date);
}

TEST_F(PrepareTest, BadRowsStopUnlessSkippedAndAreListed) {
  fs::write_text(dir_ / "audio" / "manifest.csv", fs::read_text(dir_ / "audio" / "manifest.csv") +
                                                      "f0.wav,,,medium\nnothere.wav,,,low\n");
  try {
    run();
    ADD_FAILURE() << "bad rows were accepted";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("manifest.csv:10: 'f0.wav': unknown label 'medium'"), std::string::npos)
        << what;
    EXPECT_NE(what.find("manifest.csv:11: 'nothere.wav': file not found"), std::string::npos)
        << what;
    EXPECT_NE(what.find("--skip-bad-rows"), std::string::npos) << what;
  }
  EXPECT_FALSE(stdfs::exists(dir_ / "shards" / kPreparedFile));
  const PrepareSummary s = run(true);
  ASSERT_EQ(s.skipped.size(), 2u);
  // skipped.csv: a header, then line, path, reason per row (RFC 4180: quoted where needed)
  const std::string listed = fs::read_text(dir_ / "shards" / "skipped.csv");
  const auto rows = parse_csv(listed, "skipped.csv");
  ASSERT_EQ(rows.size(), 3u) << listed;
  EXPECT_EQ(rows[1].fields.at(0), "10") << listed;
  EXPECT_EQ(rows[1].fields.at(1), "f0.wav") << listed;
  EXPECT_EQ(rows[1].fields.at(2).rfind("unknown label 'medium'", 0), 0u) << listed;
  EXPECT_NE(format_summary(s).find("nothere.wav"), std::string::npos);
}

// Prepared with --skip-bad-rows, the dataset stays usable by training (ensure_prepared, which
// takes no options): prepared.json records the choice; --force starts from the command line.
TEST_F(PrepareTest, SkipBadRowsIsRecordedAndHonouredByTraining) {
  fs::write_text(dir_ / "audio" / "manifest.csv",
                 fs::read_text(dir_ / "audio" / "manifest.csv") + "nothere.wav,,,low\n");
  const PrepareSummary s = run(true);
  EXPECT_TRUE(s.skip_bad_rows);
  const auto prepared = nlohmann::json::parse(fs::read_text(dir_ / "shards" / kPreparedFile));
  EXPECT_EQ(prepared.at("skip_bad_rows"), true) << prepared.dump(1);
  EXPECT_EQ(ensure_prepared(dir_ / "dataset.toml"), (dir_ / "shards").lexically_normal());
  // a change that prepares again (not up to date) keeps the choice too
  write_toml(kToml + "\n[features.mel]\nn_mels = 32\n");
  const PrepareSummary again = run(false);
  EXPECT_FALSE(again.up_to_date);
  EXPECT_TRUE(again.skip_bad_rows);
  ASSERT_EQ(again.skipped.size(), 1u);
  EXPECT_EQ(again.skipped[0].path, "nothere.wav");
  PrepareOptions forced;
  forced.dataset = dir_ / "dataset.toml";
  forced.force = true;
  EXPECT_THROW(run_prepare(forced), InputError);
}

// The dataset file's `compression` picks the shards' filter (gzip: deflate, id 1; none: no
// filter), the values read back are the same either way, and a bad value names the key.
TEST_F(PrepareTest, CompressionKeyChoosesTheShardsStorage) {
  run();
  const auto lzf = log_mels();
  std::map<std::string, int> filters;  // compression -> filter id of train-0's log_mel
  for (const char* c : {"none", "gzip:9"}) {
    write_toml("compression = \"" + std::string(c) + "\"\n" + std::string(kToml));
    PrepareOptions o;
    o.dataset = dir_ / "dataset.toml";
    o.force = true;
    run_prepare(o);
    EXPECT_EQ(log_mels(), lzf) << c;
    const hid_t file =
        H5Fopen((dir_ / "shards" / "train-0.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    const hid_t ds = H5Dopen2(file, "log_mel", H5P_DEFAULT);
    const hid_t plist = H5Dget_create_plist(ds);
    int id = 0;
    for (int k = 0; k < H5Pget_nfilters(plist); ++k) {
      unsigned flags = 0;
      size_t nelem = 0;
      const int f = H5Pget_filter2(plist, static_cast<unsigned>(k), &flags, &nelem, nullptr, 0,
                                   nullptr, nullptr);
      if (f != H5Z_FILTER_SHUFFLE) id = f;
    }
    filters[c] = id;
    H5Pclose(plist);
    H5Dclose(ds);
    H5Fclose(file);
  }
  EXPECT_EQ(filters["none"], 0);
  EXPECT_EQ(filters["gzip:9"], H5Z_FILTER_DEFLATE);
  write_toml("compression = \"zstd\"\n" + std::string(kToml));
  try {
    load_dataset_config(dir_ / "dataset.toml");
    ADD_FAILURE() << "compression = zstd accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("compression = 'zstd'"), std::string::npos) << e.what();
  }
}

TEST_F(PrepareTest, DatasetTomlErrorsNameTheKey) {
  auto expect_error = [&](const std::string& text, const std::string& what) {
    write_toml(text);
    try {
      load_dataset_config(dir_ / "dataset.toml");
      ADD_FAILURE() << "accepted: " << what;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error(std::string(kToml) + "\n[extra]\nx = 1\n", "extra");
  expect_error(std::string(kToml) + "sr = 22050\n", "preprocess.sr");
  std::string t = kToml;
  t.replace(t.find("seed = 3"), 8, "seed = 3\nstratify = \"colour\"");
  expect_error(t, "colour");
  t = kToml;
  t.replace(t.find("test = 0.25"), 11, "test = 0.5");
  expect_error(t, "must be 1");
  expect_error(std::string(kToml) + "\n[background]\ncolour = \"none\"\n",
               "background.colour: 'colour' is not a task of [tasks]");
  expect_error(std::string(kToml) + "\n[background]\npitch = \"silent\"\n",
               "background.pitch: 'silent' is not a class of task 'pitch'");
  expect_error("min_foreground = 0\n" + std::string(kToml), "min_foreground: must lie in (0, 1]");
  const DatasetConfig cfg = [&] {
    write_toml(kToml);
    return load_dataset_config(dir_ / "dataset.toml");
  }();
  EXPECT_EQ(cfg.tasks.at(0).background, "");
  write_toml("min_foreground = 0.3\n" + std::string(kToml) + "\n[background]\npitch = \"low\"\n");
  const DatasetConfig with_bg = load_dataset_config(dir_ / "dataset.toml");
  EXPECT_EQ(with_bg.tasks.at(0).background, "low");
  EXPECT_EQ(with_bg.min_foreground, 0.3);
  EXPECT_EQ(cfg.shards_dir(), (dir_ / "shards").lexically_normal());
  EXPECT_EQ(cfg.features.sr, 16000);
  EXPECT_EQ(cfg.tasks.at(0).classes, (std::vector<std::string>{"low", "high"}));
}

// Settings out of range are refused when the dataset file is read, naming the key and the
// reason, instead of a library's message in the middle of prepare (after split.csv).
TEST_F(PrepareTest, RangesAreCheckedUpFrontWithTheKey) {
  auto expect_error = [&](const std::string& from, const std::string& to,
                          const std::vector<std::string>& parts) {
    std::string t = kToml;
    ASSERT_NE(t.find(from), std::string::npos) << from;
    t.replace(t.find(from), from.size(), to);
    write_toml(t);
    try {
      run();
      ADD_FAILURE() << "accepted: " << to;
    } catch (const ConfigError& e) {
      for (const auto& part : parts) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      }
    }
    EXPECT_FALSE(stdfs::exists(dir_ / "shards")) << to;
  };
  // 16 samples: one frame, where the MFCC deltas need 9
  expect_error("chunk_s = 1\n", "chunk_s = 0.001\n",
               {"dataset.toml:", "preprocess.chunk_s", "1 feature frame(s)", "features.delta.width",
                "at least 0.08 s"});
  expect_error("sr = 16000\n", "sr = 2000000000\n",
               {"preprocess.sr", "must lie in [16, 2822400] Hz"});
  expect_error("chunk_s = 1\n", "chunk_s = 1e9\n", {"preprocess.chunk_s", "at most 2^31 - 1"});
  // the frames rule follows the features: 0.05 s is enough for width 3 (a 160-sample hop)
  std::string t = kToml;
  t.replace(t.find("chunk_s = 1\n"), 12, "chunk_s = 0.05\n");
  write_toml(t + "\n[features.delta]\nwidth = 3\n");
  EXPECT_NO_THROW(load_dataset_config(dir_ / "dataset.toml"));
}

// A split that could hold no chunk is an error naming the setting, before anything is written;
// one whose chunks were all dropped is an error before prepared.json.
TEST_F(PrepareTest, AnEmptySplitIsAnError) {
  std::string t = kToml;
  t.replace(t.find("chunk_s = 1\n"), 12, "chunk_s = 10\n");  // the files are 3 s long
  write_toml(t);
  try {
    run();
    ADD_FAILURE() << "an empty dataset was prepared";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("dataset.toml: preprocess.chunk_s = 10: the train split would be empty"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("the longest file is 3 s"), std::string::npos) << what;
  }
  EXPECT_FALSE(stdfs::exists(dir_ / "shards"));
  // annotations too short for min_coverage: every chunk is dropped
  write_toml(kToml);
  std::string csv = "path,start,end,pitch\n";
  for (int i = 0; i < 8; ++i) {
    csv += "f" + std::to_string(i) + ".wav,0,0.2," + (i < 4 ? "low" : "high") + "\n";
  }
  fs::write_text(dir_ / "audio" / "manifest.csv", csv);
  try {
    run();
    ADD_FAILURE() << "an empty dataset was prepared";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("split is empty"), std::string::npos) << what;
    EXPECT_NE(what.find("min_coverage = 0.5"), std::string::npos) << what;
  }
  EXPECT_FALSE(stdfs::exists(dir_ / "shards" / kPreparedFile));
}

// The dataset named by a relative path is the one prepared under its absolute path.
TEST_F(PrepareTest, RelativeAndAbsoluteDatasetPathsAreTheSameDataset) {
  run();
  const stdfs::path cwd = stdfs::current_path();
  stdfs::current_path(dir_.path().parent_path());
  PrepareOptions o;
  o.dataset = dir_.path().filename() / "dataset.toml";
  const PrepareSummary s = run_prepare(o);
  stdfs::current_path(cwd);
  EXPECT_TRUE(s.up_to_date);
}

// issue 22, case 3: two prepare runs on one output deleted each other's temporaries; the
// second now stops at once naming the first (another lock file description stands for it)
TEST_F(PrepareTest, ASecondPrepareOnTheSameOutputStopsAtOnce) {
  std::optional<fs::Lock> held;
  held.emplace(dir_ / "shards" / fs::kLockName, "test");
  try {
    run();
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("dataset output '" + (dir_ / "shards").string() +
                     "' is in use by another hptrain process (pid " + std::to_string(::getpid())),
              std::string::npos)
        << m;
  }
  EXPECT_TRUE(list_shards(dir_ / "shards", "train").empty()) << "nothing written";
  held.reset();
  EXPECT_GT(run().splits.at("train").shards, 0);
}

// issue 22, case 5: the output's disk fills while a shard is written. Before: HDF5's failed
// close said "disk full?" at best and left the file half-open, and the process crashed at exit
// (status 139). Now: the OS's reason naming the shard, no temporary left, and prepare resumes to
// the shards of an uninterrupted run once there is room.
TEST_F(PrepareTest, AFullDiskFailsWithTheOsReasonAndResumes) {
  run();  // the reference, in shards/
  const auto disk = dir_ / "disk";
  stdfs::create_directories(disk);
  if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=100k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  }
  struct Unmount {
    stdfs::path dir;
    ~Unmount() { ::umount2(dir.c_str(), MNT_DETACH); }
  } unmount{disk};
  std::string toml = kToml;
  const std::string output = "output = \"shards\"";
  ASSERT_NE(toml.find(output), std::string::npos);
  write_toml(toml.replace(toml.find(output), output.size(), "output = \"disk/shards\""));
  try {
    run();
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("No space left on device"), std::string::npos) << m;
    EXPECT_NE(m.find("cannot write '" + (disk / "shards").string()), std::string::npos) << m;
    EXPECT_NE(m.find(".h5'"), std::string::npos) << m;
  }
  for (const auto& f : stdfs::directory_iterator(disk / "shards")) {
    EXPECT_EQ(f.path().filename().string().find(".tmp-"), std::string::npos) << f.path();
  }
  EXPECT_FALSE(stdfs::exists(disk / "shards" / kPreparedFile));
  ASSERT_EQ(::mount("tmpfs", disk.c_str(), "tmpfs", MS_REMOUNT, "size=16m"), 0);
  const auto s = run();
  EXPECT_GT(s.shards_kept, 0) << "the shards written before the disk filled are kept";
  for (const auto& split : split_names()) {
    const auto a = list_shards(dir_ / "shards", split), b = list_shards(disk / "shards", split);
    ASSERT_EQ(a.size(), b.size()) << split;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(read_shard(h5::File::open_read(a[i].second)).log_mel.data,
                read_shard(h5::File::open_read(b[i].second)).log_mel.data)
          << b[i].second;
    }
  }
}

// Runs started together on one dataset: while another process prepares it (holds its lock),
// training's ensure_prepared waits, then uses the shards; `prepare` itself stops at once (above).
TEST_F(PrepareTest, EnsurePreparedWaitsForAnotherPrepare) {
  std::optional<fs::Lock> held;
  held.emplace(dir_ / "shards" / fs::kLockName, "test");
  std::atomic<bool> done{false};
  stdfs::path got;
  std::thread training([&] {
    got = ensure_prepared(dir_ / "dataset.toml");
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(done) << "returned while the lock was held";
  EXPECT_TRUE(list_shards(dir_ / "shards", "train").empty()) << "wrote while the lock was held";
  held.reset();
  training.join();
  EXPECT_TRUE(done);
  EXPECT_EQ(got, (dir_ / "shards").lexically_normal());
  EXPECT_FALSE(list_shards(dir_ / "shards", "train").empty());
}

TEST_F(PrepareTest, EnsurePreparedPreparesOnce) {
  const auto dir = ensure_prepared(dir_ / "dataset.toml");
  EXPECT_EQ(dir, (dir_ / "shards").lexically_normal());
  const auto t = stdfs::last_write_time(dir / kPreparedFile);
  EXPECT_EQ(ensure_prepared(dir_ / "dataset.toml"), dir);
  EXPECT_EQ(stdfs::last_write_time(dir / kPreparedFile), t);
}

}  // namespace
}  // namespace hptrain::data
