// The job's rank variables (distributed.h).
#include <cerrno>
#include <cstdlib>
#include <limits>

#include "hptrain/error.h"
#include "hptrain/train/distributed.h"

namespace hptrain::train {
namespace {

// The value of `name` as a whole number, or `fallback` when unset; ConfigError otherwise.
long whole(const std::function<const char*(const char*)>& env, const char* name, long fallback,
           bool* present = nullptr) {
  const char* v = env(name);
  if (present != nullptr) *present = v != nullptr && *v != '\0';
  if (v == nullptr || *v == '\0') return fallback;
  errno = 0;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (errno != 0 || *end != '\0' || x < 0 || x > std::numeric_limits<int>::max()) {
    throw ConfigError(std::string("distributed environment: ") + name + "='" + v +
                      "' is not a whole number >= 0");
  }
  return x;
}

int env_seconds(const char* name, int fallback) {
  const long s = whole([](const char* n) { return std::getenv(n); }, name, fallback);
  if (s <= 0) throw ConfigError(std::string(name) + " = 0: must be > 0 seconds");
  return static_cast<int>(s);
}

}  // namespace

std::string RankEnv::describe() const {
  if (!distributed()) return "a single process";
  return "rank " + std::to_string(rank) + " of " + std::to_string(world_size) + " (local " +
         std::to_string(local_rank) + "), master " + master_addr + ":" +
         std::to_string(master_port) + ", from " + source;
}

RankEnv read_rank_env(const std::function<const char*(const char*)>& getenv) {
  const auto env = getenv ? getenv : [](const char* n) -> const char* { return std::getenv(n); };
  const std::string where = "distributed environment: ";
  RankEnv e;
  bool has_world = false, has_ntasks = false, has_rank = false, has_procid = false;
  const long world = whole(env, "WORLD_SIZE", 1, &has_world);
  const long ntasks = whole(env, "SLURM_NTASKS", 1, &has_ntasks);
  const long rank = whole(env, "RANK", 0, &has_rank);
  const long procid = whole(env, "SLURM_PROCID", 0, &has_procid);
  if (has_world && has_ntasks && world != ntasks) {
    throw ConfigError(where + "WORLD_SIZE=" + std::to_string(world) + " but SLURM_NTASKS=" +
                      std::to_string(ntasks) + ": launch with torchrun or with srun, not a mix");
  }
  if (has_rank && has_procid && has_world && has_ntasks && rank != procid) {
    throw ConfigError(where + "RANK=" + std::to_string(rank) +
                      " but SLURM_PROCID=" + std::to_string(procid));
  }
  if (has_world) {
    e.source = "torchrun";
    e.world_size = static_cast<int>(world);
    e.rank = static_cast<int>(rank);
    e.local_rank = static_cast<int>(whole(env, "LOCAL_RANK", rank));
    if (world > 1 && !has_rank) {
      throw ConfigError(where + "WORLD_SIZE=" + std::to_string(world) + " but RANK is not set");
    }
  } else if (has_ntasks) {
    e.source = "slurm";
    e.world_size = static_cast<int>(ntasks);
    e.rank = static_cast<int>(procid);
    e.local_rank = static_cast<int>(whole(env, "SLURM_LOCALID", 0));
    if (ntasks > 1 && !has_procid) {
      throw ConfigError(where + "SLURM_NTASKS=" + std::to_string(ntasks) +
                        " but SLURM_PROCID is not set");
    }
  }
  if (e.world_size < 1) throw ConfigError(where + "the world size is 0: must be >= 1");
  if (e.rank >= e.world_size) {
    throw ConfigError(where + "rank " + std::to_string(e.rank) + " is not below the world size " +
                      std::to_string(e.world_size));
  }
  if (e.local_rank > e.rank) {
    throw ConfigError(where + "local rank " + std::to_string(e.local_rank) + " is above the rank " +
                      std::to_string(e.rank));
  }
  const char* addr = env("MASTER_ADDR");
  const bool torchrun_of_one = e.world_size == 1 && e.source == "torchrun" && addr != nullptr &&
                               *addr != '\0' && env("MASTER_PORT") != nullptr;
  if (e.world_size == 1 && !torchrun_of_one) return RankEnv{};
  e.group = true;
  if (addr == nullptr || *addr == '\0') {
    throw ConfigError(where +
                      "MASTER_ADDR is not set (the host of rank 0; torchrun sets it, "
                      "under srun export it)");
  }
  e.master_addr = addr;
  bool has_port = false;
  const long port = whole(env, "MASTER_PORT", 0, &has_port);
  if (!has_port) throw ConfigError(where + "MASTER_PORT is not set");
  if (port < 1 || port > 65535) {
    throw ConfigError(where + "MASTER_PORT=" + std::to_string(port) + ": must be in 1..65535");
  }
  e.master_port = static_cast<int>(port);
  return e;
}

int connect_timeout_s() {
  return env_seconds("HPTRAIN_CONNECT_TIMEOUT", 60);
}

int collective_timeout_s() {
  return env_seconds("HPTRAIN_DIST_TIMEOUT", 600);
}

}  // namespace hptrain::train
