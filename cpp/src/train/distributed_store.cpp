// The job's store and the Rendezvous over it (distributed_store.h).
#include "train/distributed_store.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "hptrain/error.h"

namespace hptrain::train::detail {
namespace {

using Clock = std::chrono::steady_clock;

std::string what_of(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

std::string host_name() {
  char h[256] = {};
  gethostname(h, sizeof h - 1);
  return h;
}

// Whether process `pid` on this machine has ended (gone, or a zombie not yet reaped).
bool process_gone(long pid) {
  if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

std::vector<uint8_t> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

std::string text(const std::vector<uint8_t>& b) {
  return {b.begin(), b.end()};
}

}  // namespace

StoreConnection connect_store(const RankEnv& env, const std::string& fingerprint) {
  StoreConnection c;
  const auto connect = std::chrono::seconds(connect_timeout_s());
  const std::string me =
      "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + ": ";
  const std::string master = env.master_addr + ":" + std::to_string(env.master_port);
  // torchrun's agent already serves a store on MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE):
  // then every rank is its client, as in PyTorch's env:// initialisation
  const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
  const bool agent_store = agent != nullptr && std::string(agent) == "True";
  c10d::TCPStoreOptions o;
  o.port = static_cast<uint16_t>(env.master_port);
  o.isServer = env.rank == 0 && !agent_store;
  if (!agent_store) o.numWorkers = static_cast<size_t>(env.world_size);
  o.waitWorkers = !agent_store;
  o.timeout = connect;
  try {
    // our keys under a prefix of their own (the agent's store holds torchrun's), per restart
    const char* restart = std::getenv("TORCHELASTIC_RESTART_COUNT");
    c.store = c10::make_intrusive<c10d::PrefixStore>(
        std::string("hptrain/") + (restart != nullptr ? restart : "0"),
        c10::make_intrusive<c10d::TCPStore>(env.master_addr, o));
  } catch (const std::exception& e) {
    const std::string why = what_of(e);
    if (env.rank == 0 &&
        (why.find("in use") != std::string::npos || why.find("EADDRINUSE") != std::string::npos)) {
      throw ConfigError(me + "MASTER_PORT " + std::to_string(env.master_port) +
                        " is in use on this machine (another job?): choose another (" + why + ")");
    }
    throw InputError(
        me +
        (env.rank == 0
             ? "not all " + std::to_string(env.world_size) + " ranks reached the master " + master
             : "cannot reach the master " + master) +
        " within " + std::to_string(connect.count()) + " s (HPTRAIN_CONNECT_TIMEOUT): " + why);
  }
  // every rank's job must be the same; each rank reports all that differ
  try {
    c.store->setTimeout(connect);
    const std::string key = "hptrain/rank/";
    c.store->set(key + std::to_string(env.rank),
                 bytes(fingerprint + " " + host_name() + " " + std::to_string(getpid())));
    std::string differ;
    for (int r = 0; r < env.world_size; ++r) {
      std::istringstream is(text(c.store->get(key + std::to_string(r))));
      std::string fp, host;
      long pid = 0;
      is >> fp >> host >> pid;
      c.procs.emplace_back(host, pid);
      if (fp != fingerprint) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
    }
    // rank 0 hosts the store (unless torchrun's agent does): it leaves (with an error) only once
    // every rank has read all. The others do not wait for one another: a rank still waiting
    // when rank 0 left would lose its answer with the store (LibTorch 2.x: "Failed to recv").
    c.store->set("hptrain/read/" + std::to_string(env.rank), bytes("1"));
    if (env.rank == 0) {
      std::vector<std::string> read;
      for (int r = 0; r < env.world_size; ++r) read.push_back("hptrain/read/" + std::to_string(r));
      c.store->wait(read);
    }
    if (!differ.empty()) {
      throw ConfigError(me + "rank(s) " + differ +
                        " run another experiment or dataset, or other options, than this one "
                        "(fingerprint " +
                        fingerprint +
                        "): start every rank with the same files and options (--set, --resume)");
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(me + "the ranks did not all report to the master " + master + " within " +
                     std::to_string(connect.count()) + " s: " + what_of(e));
  }
  return c;
}

std::string ended_ranks(const std::vector<std::pair<std::string, long>>& procs, int self,
                        const std::vector<int>& among) {
  std::string gone;
  const std::string here = host_name();
  for (size_t r = 0; r < procs.size(); ++r) {
    if (static_cast<int>(r) == self || procs[r].first != here) continue;
    if (!among.empty() && std::find(among.begin(), among.end(), static_cast<int>(r)) == among.end())
      continue;
    if (process_gone(procs[r].second)) {
      gone += (gone.empty() ? "" : ", ") + std::to_string(r) + " (pid " +
              std::to_string(procs[r].second) + ")";
    }
  }
  return gone;
}

StoreRendezvous::StoreRendezvous(const RankEnv& env, const std::string& fingerprint)
    : StoreRendezvous(env, connect_store(env, fingerprint)) {}

StoreRendezvous::StoreRendezvous(const RankEnv& env, StoreConnection conn)
    : env_(env), conn_(std::move(conn)) {
  // the heartbeat: a counter per rank, raised once a second while this process runs (TCPStore
  // serialises the operations of its threads)
  heartbeat_ = std::thread([this] {
    const std::string key = "hptrain/heartbeat/" + std::to_string(env_.rank);
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      try {
        conn_.store->add(key, 1);
      } catch (const std::exception&) {
        return;  // the master is gone: the next all_gather says so
      }
      wake_.wait_for(lock, std::chrono::duration<double>(kHeartbeatS), [this] { return stop_; });
    }
  });
}

StoreRendezvous::~StoreRendezvous() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  heartbeat_.join();
}

void StoreRendezvous::lost_master(const std::string& what, const std::exception& e) const {
  throw Error("rank " + std::to_string(env_.rank) + " of " + std::to_string(env_.world_size) +
              ": " + what + ": lost the master " + env_.master_addr + ":" +
              std::to_string(env_.master_port) +
              " (rank 0, which serves the store, has ended?): " + what_of(e));
}

void StoreRendezvous::wait_for(const std::vector<std::string>& keys, const std::string& what) {
  const int n = env_.world_size;
  const double stale = connect_timeout_s();
  std::vector<int64_t> beats(static_cast<size_t>(n), -1);
  std::vector<Clock::time_point> beat_at(static_cast<size_t>(n), Clock::now());
  auto checked = Clock::now() - std::chrono::hours(1);
  for (;;) {
    try {
      if (conn_.store->check(keys)) return;
      const auto now = Clock::now();
      if (now - checked >= std::chrono::duration<double>(kHeartbeatS)) {
        checked = now;
        std::vector<int> missing;
        for (int r = 0; r < n; ++r) {
          if (!conn_.store->check({keys[static_cast<size_t>(r)]})) missing.push_back(r);
        }
        const std::string gone = ended_ranks(conn_.procs, env_.rank, missing);
        if (!gone.empty()) {
          throw Error("rank " + std::to_string(env_.rank) + " of " + std::to_string(n) + ": " +
                      what + " failed: rank " + gone + " has ended");
        }
        for (int r : missing) {
          const auto i = static_cast<size_t>(r);
          const int64_t b = conn_.store->add("hptrain/heartbeat/" + std::to_string(r), 0);
          if (b != beats[i]) {
            beats[i] = b;
            beat_at[i] = now;
          } else if (std::chrono::duration<double>(now - beat_at[i]).count() > stale) {
            throw Error("rank " + std::to_string(env_.rank) + " of " + std::to_string(n) + ": " +
                        what + " failed: rank " + std::to_string(r) + " (" + conn_.procs[i].first +
                        ", pid " + std::to_string(conn_.procs[i].second) +
                        ") has not answered for " + std::to_string(static_cast<int>(stale)) +
                        " s (HPTRAIN_CONNECT_TIMEOUT): it has ended or hangs");
          }
        }
      }
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      lost_master(what, e);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::string> StoreRendezvous::all_gather(const std::string& tag,
                                                     const std::string& mine) {
  const std::string key = "hptrain/gather/" + tag + "/";
  std::vector<std::string> keys, read;
  for (int r = 0; r < env_.world_size; ++r) {
    keys.push_back(key + std::to_string(r));
    read.push_back(key + "read/" + std::to_string(r));
  }
  std::vector<std::string> out;
  try {
    conn_.store->set(keys[static_cast<size_t>(env_.rank)], bytes(mine));
  } catch (const std::exception& e) {
    lost_master("'" + tag + "'", e);
  }
  wait_for(keys, "'" + tag + "'");
  try {
    for (const auto& k : keys) out.push_back(text(conn_.store->get(k)));
    conn_.store->set(read[static_cast<size_t>(env_.rank)], bytes("1"));
  } catch (const std::exception& e) {
    lost_master("'" + tag + "'", e);
  }
  // the store lives in rank 0's process: it leaves no rank reading a value it would take along
  if (env_.rank == 0) wait_for(read, "'" + tag + "' (read)");
  return out;
}

}  // namespace hptrain::train::detail
