// Shards: write-read round trip of every dataset and attribute, the HDF5 layout (one example
// per gzip chunk), the multi-shard reader, and the prefetcher's epochs.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <set>
#include <thread>

#include "hptrain/data/dataset.h"
#include "hptrain/data/random.h"
#include "hptrain/data/shard.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "support/support.h"

namespace hptrain::data {
namespace {

namespace stdfs = std::filesystem;

ShardInfo info(const std::string& split, int64_t index) {
  ShardInfo i;
  i.split = split;
  i.index = index;
  i.fingerprint = "f00d";
  i.tasks = {"music", "scene"};
  i.classes = {{"music", {"no", "yes"}}, {"scene", {"dialog", "action", "emotional"}}};
  i.resume_file = 7;
  i.resume_chunk = 12;
  return i;
}

// n examples whose values encode (first + example, row, frame), so any mix-up shows.
ShardContents contents(int64_t first, int64_t n) {
  ShardContents c;
  c.log_mel = Tensor3(n, 4, 5);
  c.mfcc = Tensor3(n, 6, 5);
  c.stats = Tensor3(n, 1, 3);
  for (int64_t b = 0; b < n; ++b) {
    const float id = static_cast<float>(first + b);
    for (int64_t r = 0; r < 4; ++r)
      for (int64_t t = 0; t < 5; ++t)
        c.log_mel.at(b, r, t) = id * 100 + static_cast<float>(r * 10 + t);
    for (int64_t r = 0; r < 6; ++r)
      for (int64_t t = 0; t < 5; ++t)
        c.mfcc.at(b, r, t) = -id * 100 - static_cast<float>(r * 10 + t);
    for (int64_t d = 0; d < 3; ++d) c.stats.at(b, 0, d) = id + 0.25f * static_cast<float>(d);
    c.labels["music"].push_back((first + b) % 2);
    c.labels["scene"].push_back((first + b) % 3);
    c.source.push_back("film" + std::to_string((first + b) / 4) + ".wav");
    c.offset.push_back(3.0 * static_cast<double>((first + b) % 4));
  }
  c.stats_columns = {"rms_00_mean", "rms_00_std", "zcr_00_mean"};
  return c;
}

// Writes the shards of a split and records them in prepared.json, as prepare() does.
void write_split(const stdfs::path& dir, const std::string& split,
                 const std::vector<int64_t>& sizes) {
  int64_t first = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    write_shard(dir / shard_name(split, static_cast<int64_t>(i)), contents(first, sizes[i]),
                info(split, static_cast<int64_t>(i)),
                [](h5::File& f) { f.set_attr("/", "n_mels", int64_t{4}); });
    first += sizes[i];
  }
  const auto marker = dir / kPreparedFile;
  auto j = stdfs::exists(marker) ? nlohmann::json::parse(fs::read_text(marker))
                                 : nlohmann::json{{"fingerprint", "f00d"}};
  j["splits"][split] = {{"shards", sizes.size()}, {"chunks", first}};
  fs::write_text(marker, j.dump());
}

TEST(Shard, RoundTripOfEveryDatasetAndAttribute) {
  test::TempDir dir;
  const auto path = dir / "train-0.h5";
  const ShardContents c = contents(0, 5);
  write_shard(path, c, info("train", 0),
              [](h5::File& f) { f.set_attr("/", "sr", int64_t{16000}); });
  const auto f = h5::File::open_read(path);
  const ShardContents r = read_shard(f);
  EXPECT_EQ(r.log_mel.data, c.log_mel.data);
  EXPECT_EQ(r.log_mel.rows, 4);
  EXPECT_EQ(r.mfcc.data, c.mfcc.data);
  EXPECT_EQ(r.mfcc.rows, 6);
  EXPECT_EQ(r.stats.data, c.stats.data);
  EXPECT_EQ(f.shape("stats"), (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(r.stats_columns, c.stats_columns);
  EXPECT_EQ(r.labels, c.labels);
  EXPECT_EQ(r.source, c.source);
  EXPECT_EQ(r.offset, c.offset);
  const ShardInfo i = read_shard_info(f);
  EXPECT_EQ(i.split, "train");
  EXPECT_EQ(i.fingerprint, "f00d");
  EXPECT_EQ(i.tasks, info("train", 0).tasks);
  EXPECT_EQ(i.classes, info("train", 0).classes);
  EXPECT_EQ(i.resume_file, 7);
  EXPECT_EQ(i.resume_chunk, 12);
  EXPECT_EQ(f.attr_string("/", "creator"), std::string("hptrain ") + HP_VERSION);
  EXPECT_EQ(f.attr_int("/", "sr"), 16000);
  EXPECT_EQ(f.attr_string("offset", "units"), "seconds");
}

TEST(Shard, OneExamplePerCompressedChunk) {
  test::TempDir dir;
  write_split(dir.path(), "train", {6});
  const hid_t file = H5Fopen((dir / "train-0.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  for (const char* name : {"log_mel", "mfcc", "stats"}) {
    const hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    const hid_t plist = H5Dget_create_plist(ds);
    hsize_t chunk[3] = {0, 0, 0};
    const int rank = H5Pget_chunk(plist, 3, chunk);
    EXPECT_GE(rank, 2) << name;
    EXPECT_EQ(chunk[0], 1u) << name;
    EXPECT_GT(H5Pget_nfilters(plist), 0) << name;
    // the default compression: shuffle, then LZF (h5py's filter id 32000)
    bool lzf = false;
    for (int k = 0; k < H5Pget_nfilters(plist); ++k) {
      unsigned flags = 0;
      size_t nelem = 0;
      lzf = lzf || H5Pget_filter2(plist, static_cast<unsigned>(k), &flags, &nelem, nullptr, 0,
                                  nullptr, nullptr) == 32000;
    }
    EXPECT_TRUE(lzf) << name;
    H5Pclose(plist);
    H5Dclose(ds);
  }
  H5Fclose(file);
}

TEST(Shard, ListingIgnoresTemporariesAndOtherSplits) {
  test::TempDir dir;
  write_split(dir.path(), "train", {2, 2, 2});
  write_split(dir.path(), "test", {2});
  fs::write_text(dir / "train-3.h5.tmp-123-0", "half-written");
  fs::write_text(dir / "train-x.h5", "not a shard name");
  const auto shards = list_shards(dir.path(), "train");
  ASSERT_EQ(shards.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(shards[i].first, static_cast<int64_t>(i));
}

class ShardDatasetCache : public ::testing::TestWithParam<int64_t> {};

TEST_P(ShardDatasetCache, ManyShardsAsOneDataset) {
  test::TempDir dir;
  write_split(dir.path(), "train", {4, 3, 5});
  ShardDataset ds(dir.path(), "train");
  ds.set_cache_budget(GetParam());
  ASSERT_EQ(ds.size(), 12);
  EXPECT_EQ(ds.tasks(), (std::vector<std::string>{"music", "scene"}));
  EXPECT_EQ(ds.classes("scene"), (std::vector<std::string>{"dialog", "action", "emotional"}));
  EXPECT_EQ(ds.example_shape(Input::log_mel), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(ds.example_shape(Input::mfcc), (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(ds.example_shape(Input::stats), (std::vector<int64_t>{3}));
  EXPECT_EQ(ds.stats_columns().size(), 3u);
  EXPECT_EQ(ds.labels("scene")[11], 11 % 3);
  EXPECT_EQ(ds.sources()[9], "film2.wav");
  EXPECT_EQ(ds.offsets()[9], 3.0);
  EXPECT_EQ(ds.attr_double("n_mels"), 4.0);

  // a batch across shard borders, with a run of consecutive indices and a repeat
  const std::vector<int64_t> idx = {11, 3, 4, 5, 0, 3};
  const Batch b = ds.get(idx, Input::log_mel);
  EXPECT_EQ(b.shape, (std::vector<int64_t>{6, 4, 5}));
  EXPECT_EQ(b.indices, idx);
  for (size_t i = 0; i < idx.size(); ++i) {
    EXPECT_EQ(b.x[i * 20 + 7], static_cast<float>(idx[i] * 100 + 12)) << i;  // row 1, frame 2
    EXPECT_EQ(b.labels.at("music")[i], idx[i] % 2);
  }
  const Batch s = ds.get({7}, Input::stats);
  EXPECT_EQ(s.shape, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(s.x, (std::vector<float>{7.0f, 7.25f, 7.5f}));
  EXPECT_EQ(ds.get({2}, Input::mfcc).x[6], -211.0f);  // row 1, frame 1 of the stacked MFCC
  EXPECT_THROW(ds.get({12}, Input::stats), InputError);
  EXPECT_THROW(ds.classes("nope"), ConfigError);
  EXPECT_EQ(parse_input("mfcc"), Input::mfcc);
  EXPECT_THROW(parse_input("wave"), ConfigError);
}

// 0: every example read from the shards; 1 GiB: each input read whole once, then from memory
INSTANTIATE_TEST_SUITE_P(StreamedOrCached, ShardDatasetCache,
                         ::testing::Values(int64_t{0}, int64_t{1} << 30));

TEST(ShardDataset, IncompleteMissingOrForeignShardsAreAnError) {
  test::TempDir dir;
  write_split(dir.path(), "train", {2, 2, 2});
  EXPECT_THROW(ShardDataset(dir.path(), "validation"), InputError);
  stdfs::remove(dir / kPreparedFile);  // an interrupted prepare: shards without the marker
  EXPECT_THROW(ShardDataset(dir.path(), "train"), InputError);
  write_split(dir.path(), "train", {2, 2, 2});
  stdfs::remove(dir / "train-1.h5");
  try {
    ShardDataset ds(dir.path(), "train");
    ADD_FAILURE() << "a gap in the shard indices was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("train-1.h5"), std::string::npos) << e.what();
  }
  ShardInfo other = info("train", 1);
  other.fingerprint = "beef";
  write_shard(dir / "train-1.h5", contents(2, 2), other, [](h5::File&) {});
  EXPECT_THROW(ShardDataset(dir.path(), "train"), InputError);
}

TEST(Permutation, IsAPermutationAndDependsOnlyOnTheSeed) {
  const auto p = permutation(1000, 5);
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[static_cast<size_t>(i)], i);
  EXPECT_EQ(p, permutation(1000, 5));
  EXPECT_NE(p, permutation(1000, 6));
  EXPECT_TRUE(permutation(0, 1).empty());
}

class PrefetcherTest : public ::testing::Test {
 protected:
  void SetUp() override { write_split(dir_.path(), "train", {10, 7, 13}); }
  // The indices of one epoch, batch by batch, checking each batch's values and labels.
  std::vector<std::vector<int64_t>> epoch(const ShardDataset& ds, int64_t batch, bool shuffle,
                                          uint64_t seed, int depth = 2) {
    Prefetcher p(ds, Input::stats, batch, shuffle, seed, depth);
    std::vector<std::vector<int64_t>> out;
    Batch b;
    while (p.next(b)) {
      EXPECT_EQ(b.shape[0], static_cast<int64_t>(b.indices.size()));
      for (size_t i = 0; i < b.indices.size(); ++i) {
        EXPECT_EQ(b.x[i * 3], static_cast<float>(b.indices[i]));
        EXPECT_EQ(b.labels.at("scene")[i], b.indices[i] % 3);
      }
      out.push_back(b.indices);
    }
    EXPECT_EQ(static_cast<int64_t>(out.size()), p.batches());
    EXPECT_FALSE(p.next(b));
    return out;
  }
  test::TempDir dir_;
};

TEST_F(PrefetcherTest, EveryExampleExactlyOncePerEpoch) {
  const ShardDataset ds(dir_.path(), "train");
  for (bool shuffle : {false, true}) {
    const auto batches = epoch(ds, 8, shuffle, 3);
    ASSERT_EQ(batches.size(), 4u);
    EXPECT_EQ(batches.back().size(), 6u);  // 30 = 3 * 8 + 6
    std::multiset<int64_t> seen;
    for (const auto& b : batches) seen.insert(b.begin(), b.end());
    ASSERT_EQ(seen.size(), 30u);
    for (int64_t i = 0; i < 30; ++i) EXPECT_EQ(seen.count(i), 1u) << i;
    if (!shuffle) {
      EXPECT_EQ(batches[1].front(), 8);
    }
  }
}

TEST_F(PrefetcherTest, ShuffleIsDeterministicForASeed) {
  const ShardDataset ds(dir_.path(), "train");
  const auto a = epoch(ds, 7, true, 11, 1);
  EXPECT_EQ(a, epoch(ds, 7, true, 11, 4));
  EXPECT_NE(a, epoch(ds, 7, true, 12));
  EXPECT_NE(a, epoch(ds, 7, false, 11));
}

// The stage hook sees every batch once, off the caller's thread, and what it stages travels with
// the batch; an error in it reaches next().
TEST_F(PrefetcherTest, StageRunsOnEveryBatchOnTheReadersThread) {
  const ShardDataset ds(dir_.path(), "train");
  const auto caller = std::this_thread::get_id();
  std::atomic<int> staged{0}, on_caller{0};
  Prefetcher p(ds, Input::stats, 8, true, 3, 2, [&](Batch& b) {
    ++staged;
    if (std::this_thread::get_id() == caller) ++on_caller;
    b.staged = std::make_shared<std::vector<float>>(b.x.rbegin(), b.x.rend());
  });
  Batch b;
  int batches = 0;
  while (p.next(b)) {
    ++batches;
    ASSERT_NE(b.staged, nullptr);
    const auto& reversed = *std::static_pointer_cast<std::vector<float>>(b.staged);
    EXPECT_EQ(reversed, std::vector<float>(b.x.rbegin(), b.x.rend()));
  }
  EXPECT_EQ(batches, 4);
  EXPECT_EQ(staged.load(), 4);
  EXPECT_EQ(on_caller.load(), 0);

  Prefetcher failing(ds, Input::stats, 8, false, 0, 2, [](Batch& b) {
    if (b.indices.front() == 16) throw InputError("staging batch 3 failed");
  });
  ASSERT_TRUE(failing.next(b));
  ASSERT_TRUE(failing.next(b));
  EXPECT_EQ(b.staged, nullptr);
  try {
    failing.next(b);
    ADD_FAILURE() << "no error from the stage hook";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "staging batch 3 failed");
  }
}

TEST_F(PrefetcherTest, StoppingEarlyAndBadArguments) {
  const ShardDataset ds(dir_.path(), "train");
  {
    Prefetcher p(ds, Input::log_mel, 2, true, 1, 1);
    Batch b;
    ASSERT_TRUE(p.next(b));
  }  // destroyed with a full queue and a blocked reader: must not hang
  EXPECT_THROW(Prefetcher(ds, Input::stats, 0, true, 1), ConfigError);
  EXPECT_THROW(Prefetcher(ds, Input::stats, 4, true, 1, 0), ConfigError);
}

}  // namespace
}  // namespace hptrain::data
