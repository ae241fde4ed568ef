// The rank variables of torchrun and SLURM (train::read_rank_env) and each rank's part of an
// epoch (rank_batches): the parts are the single process's batches, cut in rank order.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "hptrain/data/dataset.h"
#include "hptrain/error.h"
#include "hptrain/train/distributed.h"

namespace hptrain::train {
namespace {

RankEnv read(const std::map<std::string, std::string>& vars) {
  return read_rank_env([&vars](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string error_of(const std::map<std::string, std::string>& vars) {
  try {
    read(vars);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(RankEnv, NoVariablesIsOneProcess) {
  const auto e = read({});
  EXPECT_FALSE(e.distributed());
  EXPECT_EQ(e.rank, 0);
  EXPECT_EQ(e.world_size, 1);
  EXPECT_FALSE(read({{"WORLD_SIZE", "1"}, {"RANK", "0"}}).distributed());
  EXPECT_FALSE(read({{"SLURM_NTASKS", "1"},
                     {"SLURM_PROCID", "0"},
                     {"MASTER_ADDR", "h"},
                     {"MASTER_PORT", "1"}})
                   .distributed());
  // torchrun with one process: a group of one (NCCL's cost measured alone)
  EXPECT_TRUE(read({{"WORLD_SIZE", "1"}, {"RANK", "0"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}})
                  .distributed());
}

TEST(RankEnv, ReadsTorchrunsVariables) {
  const auto e = read({{"RANK", "3"},
                       {"WORLD_SIZE", "4"},
                       {"LOCAL_RANK", "1"},
                       {"MASTER_ADDR", "node7"},
                       {"MASTER_PORT", "29511"}});
  EXPECT_TRUE(e.distributed());
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "node7");
  EXPECT_EQ(e.master_port, 29511);
  EXPECT_EQ(e.source, "torchrun");
}

TEST(RankEnv, MapsSlurmsVariablesTheSameWay) {
  const auto e = read({{"SLURM_PROCID", "5"},
                       {"SLURM_NTASKS", "8"},
                       {"SLURM_LOCALID", "1"},
                       {"MASTER_ADDR", "10.0.0.1"},
                       {"MASTER_PORT", "29500"}});
  EXPECT_EQ(e.rank, 5);
  EXPECT_EQ(e.world_size, 8);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.source, "slurm");
  // torchrun inside an allocation: WORLD_SIZE wins where both agree
  EXPECT_EQ(read({{"RANK", "1"},
                  {"WORLD_SIZE", "2"},
                  {"SLURM_NTASKS", "2"},
                  {"SLURM_PROCID", "1"},
                  {"MASTER_ADDR", "a"},
                  {"MASTER_PORT", "1"}})
                .source,
            "torchrun");
}

TEST(RankEnv, InconsistentVariablesAreErrorsNamingThem) {
  const std::map<std::string, std::string> master = {{"MASTER_ADDR", "h"},
                                                     {"MASTER_PORT", "29500"}};
  auto with = [&master](std::map<std::string, std::string> v) {
    v.insert(master.begin(), master.end());
    return v;
  };
  EXPECT_NE(error_of(with({{"RANK", "2"}, {"WORLD_SIZE", "2"}})).find("rank 2 is not below"),
            std::string::npos);
  EXPECT_NE(error_of(with({{"WORLD_SIZE", "2"}})).find("RANK is not set"), std::string::npos);
  EXPECT_NE(error_of(with({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"SLURM_NTASKS", "4"}}))
                .find("WORLD_SIZE=2 but SLURM_NTASKS=4"),
            std::string::npos);
  EXPECT_NE(error_of(with({{"RANK", "x"}, {"WORLD_SIZE", "2"}})).find("RANK='x'"),
            std::string::npos);
  EXPECT_NE(error_of(with({{"RANK", "-1"}, {"WORLD_SIZE", "2"}})).find("RANK='-1'"),
            std::string::npos);
  EXPECT_NE(error_of(with({{"RANK", "0"}, {"WORLD_SIZE", "0"}})).find("world size is 0"),
            std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}}).find("MASTER_ADDR is not set"),
            std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}})
                .find("MASTER_PORT is not set"),
            std::string::npos);
  EXPECT_NE(
      error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})
          .find("1..65535"),
      std::string::npos);
  EXPECT_NE(error_of(with({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "2"}}))
                .find("local rank 2"),
            std::string::npos);
}

TEST(RankBatches, PartsAreTheSingleProcessBatchesCutInRankOrder) {
  for (const int world : {1, 2, 3, 4}) {
    for (const int64_t n : {int64_t{1}, int64_t{10}, int64_t{37}}) {
      const int64_t batch = 8;
      const auto one = rank_batches(n, batch, true, 99, 0, 1);
      // the single process's order is data::Prefetcher's: permutation(n, seed) in batches
      const auto order = data::permutation(n, 99);
      ASSERT_EQ(static_cast<int64_t>(one.size()), (n + batch - 1) / batch);
      for (size_t b = 0; b < one.size(); ++b) {
        const std::vector<int64_t> want(
            order.begin() + static_cast<int64_t>(b) * batch,
            order.begin() + std::min(n, static_cast<int64_t>(b + 1) * batch));
        EXPECT_EQ(one[b].global, want);
        EXPECT_EQ(one[b].local, want);
        std::vector<int64_t> joined;
        for (int r = 0; r < world; ++r) {
          const auto part = rank_batches(n, batch, true, 99, r, world);
          ASSERT_EQ(part.size(), one.size());
          EXPECT_EQ(part[b].global, want);
          joined.insert(joined.end(), part[b].local.begin(), part[b].local.end());
          EXPECT_LE(part[b].local.size(), (want.size() + world - 1) / world);
        }
        EXPECT_EQ(joined, want) << "world " << world << " n " << n << " batch " << b;
      }
    }
  }
}

TEST(RankBatches, RangesCoverEveryIndexOnceInOrder) {
  for (const int world : {1, 2, 3, 7}) {
    int64_t next = 0;
    for (int r = 0; r < world; ++r) {
      const auto [lo, hi] = rank_range(20, r, world);
      EXPECT_EQ(lo, next);
      EXPECT_GE(hi - lo, 20 / world);
      EXPECT_LE(hi - lo, 20 / world + 1);
      next = hi;
    }
    EXPECT_EQ(next, 20);
  }
}

}  // namespace
}  // namespace hptrain::train
