// The process group of a data-parallel run (rank_group.h). LibTorch 1.13's c10d backends derive
// from c10d::ProcessGroup, 2.x's from c10d::Backend, with the same collectives.
#include "train/rank_group.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#if HP_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#define HP_WITH_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#else
#define HP_WITH_NCCL 0
#endif

#include "hptrain/log.h"

namespace hptrain::train::detail {
namespace {

#if HP_TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif

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

struct RankGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> backend;
  std::vector<std::pair<std::string, long>> procs;  // host and pid of each rank
  std::chrono::milliseconds timeout;
  bool cuda = false;
};

RankGroup::RankGroup(RankEnv env) : env_(std::move(env)), impl_(std::make_unique<Impl>()) {}

RankGroup::~RankGroup() = default;

std::unique_ptr<RankGroup> RankGroup::join(const RankEnv& env, bool cuda,
                                           const std::string& fingerprint) {
  std::unique_ptr<RankGroup> g(new RankGroup(env));
  Impl& s = *g->impl_;
  const auto connect = std::chrono::seconds(connect_timeout_s());
  s.timeout = std::chrono::seconds(collective_timeout_s());
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
    s.store = c10::make_intrusive<c10d::PrefixStore>(
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
  // every rank's experiment and options must be the same; each rank reports all that differ
  try {
    s.store->setTimeout(connect);
    const std::string key = "hptrain/rank/";
    s.store->set(key + std::to_string(env.rank),
                 bytes(fingerprint + " " + host_name() + " " + std::to_string(getpid())));
    std::string differ;
    for (int r = 0; r < env.world_size; ++r) {
      std::istringstream is(text(s.store->get(key + std::to_string(r))));
      std::string fp, host;
      long pid = 0;
      is >> fp >> host >> pid;
      s.procs.emplace_back(host, pid);
      if (fp != fingerprint) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
    }
    // rank 0 hosts the store: no rank leaves (with an error) before every rank has read all
    s.store->set("hptrain/read/" + std::to_string(env.rank), bytes("1"));
    std::vector<std::string> read;
    for (int r = 0; r < env.world_size; ++r) read.push_back("hptrain/read/" + std::to_string(r));
    s.store->wait(read);
    if (!differ.empty()) {
      throw ConfigError(me + "rank(s) " + differ +
                        " run another experiment or other options than this one (fingerprint " +
                        fingerprint +
                        "): start every rank with the same experiment file, --set and --resume");
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(me + "the ranks did not all report to the master " + master + " within " +
                     std::to_string(connect.count()) + " s: " + what_of(e));
  }
  s.cuda = cuda;
  try {
    if (cuda) {
#if HP_WITH_NCCL
      auto nccl = c10d::ProcessGroupNCCL::Options::create();
      nccl->timeout = s.timeout;
      s.backend =
          c10::make_intrusive<c10d::ProcessGroupNCCL>(s.store, env.rank, env.world_size, nccl);
#else
      throw ConfigError(me +
                        "this LibTorch has no NCCL: train on the CPU (train.device = "
                        "\"cpu\") or build against a LibTorch with CUDA");
#endif
    } else {
#if HP_WITH_GLOO
      auto gloo = c10d::ProcessGroupGloo::Options::create(s.timeout);
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      if (ifname != nullptr && *ifname != '\0') {
        gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      } else if (env.master_addr == "localhost" || env.master_addr.rfind("127.", 0) == 0) {
        gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      gloo->threads = 2;
      s.backend =
          c10::make_intrusive<c10d::ProcessGroupGloo>(s.store, env.rank, env.world_size, gloo);
#else
      throw ConfigError(me +
                        "this build has no Gloo (its headers were not found beside "
                        "LibTorch's): CPU ranks cannot communicate");
#endif
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(me + "cannot set up the " + (cuda ? "NCCL" : "Gloo") +
                     " process group: " + what_of(e));
  }
  s.store->setTimeout(s.timeout);
  g->barrier("start-up");
  HP_LOG_INFO("joined the process group: {} on {}", env.describe(), cuda ? "NCCL" : "Gloo");
  return g;
}

void RankGroup::fail(const char* what, const std::exception& e) const {
  std::string gone;
  const std::string here = host_name();
  // a killed rank's sockets close while it exits, a moment before it is gone: look for up to
  // a second
  for (int attempt = 0; attempt < 20 && gone.empty(); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (size_t r = 0; r < impl_->procs.size(); ++r) {
      if (static_cast<int>(r) == env_.rank || impl_->procs[r].first != here) continue;
      if (process_gone(impl_->procs[r].second)) {
        gone += (gone.empty() ? "" : ", ") + std::to_string(r) + " (pid " +
                std::to_string(impl_->procs[r].second) + ")";
      }
    }
  }
  throw RankFailure("rank " + std::to_string(env_.rank) + " of " + std::to_string(env_.world_size) +
                    ": " + what + " failed: " +
                    (gone.empty() ? std::string("a rank died or stalled (no rank on this "
                                                "machine has ended; another machine's?)")
                                  : "rank " + gone + " has ended") +
                    ": " + what_of(e));
}

torch::Device RankGroup::device() const {
  return impl_->cuda ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env_.local_rank))
                     : torch::Device(torch::kCPU);
}

bool RankGroup::any(bool flag) {
  auto v =
      torch::full({1}, flag ? 1.0f : 0.0f, torch::TensorOptions(torch::kFloat32).device(device()));
  all_reduce_sum(v, "agreeing on Ctrl-C");
  return v.item<float>() > 0.5f;
}

void RankGroup::average_buffers(torch::nn::Module& net) {
  torch::NoGradGuard no_grad;
  for (auto& item : net.named_buffers()) {
    // the running statistics of BatchNorm; the input normalisation is the same on every rank
    const auto& name = item.key();
    auto& b = item.value();
    const bool running =
        name.size() >= 12 && (name.compare(name.size() - 12, 12, "running_mean") == 0 ||
                              name.compare(name.size() - 11, 11, "running_var") == 0);
    if (!running || !b.is_floating_point()) continue;
    all_reduce_sum(b, "averaging the buffers");
    b.div_(static_cast<double>(size()));
  }
}

void RankGroup::barrier(const char* what) {
  try {
    impl_->backend->barrier()->wait(impl_->timeout);
  } catch (const std::exception& e) {
    fail((std::string("the barrier of ") + what).c_str(), e);
  }
}

void RankGroup::all_reduce_sum(torch::Tensor& t, const char* what) {
  try {
    std::vector<torch::Tensor> v{t};
    impl_->backend->allreduce(v)->wait(impl_->timeout);
  } catch (const std::exception& e) {
    fail(what, e);
  }
}

bool RankGroup::all_reduce_gradients(const std::vector<torch::Tensor>& params, bool flag) {
  // buckets of consecutive parameters of one dtype and device, the flag appended to the last
  struct Bucket {
    std::vector<torch::Tensor> grads;
    torch::Tensor flat;
    c10::intrusive_ptr<c10d::Work> work;
  };
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Bucket> buckets;
  int64_t bytes_in = 0, total = 0;
  for (const auto& p : params) {
    if (!p.requires_grad()) continue;
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    const auto& g = p.grad();
    if (buckets.empty() || bytes_in >= kBucketBytes ||
        buckets.back().grads.front().scalar_type() != g.scalar_type()) {
      buckets.emplace_back();
      bytes_in = 0;
    }
    buckets.back().grads.push_back(g);
    bytes_in += g.numel() * static_cast<int64_t>(g.element_size());
    total += g.numel() * static_cast<int64_t>(g.element_size());
  }
  torch::Tensor stop;
  try {
    for (size_t k = 0; k < buckets.size(); ++k) {
      auto& b = buckets[k];
      std::vector<torch::Tensor> flat;
      for (const auto& g : b.grads) flat.push_back(g.reshape({-1}));
      if (k + 1 == buckets.size()) {
        flat.push_back(torch::full({1}, flag ? 1.0 : 0.0, b.grads.front().options()));
      }
      b.flat = torch::cat(flat);
      std::vector<torch::Tensor> v{b.flat};
      b.work = impl_->backend->allreduce(v);
    }
    for (size_t k = 0; k < buckets.size(); ++k) {
      auto& b = buckets[k];
      b.work->wait(impl_->timeout);
      int64_t at = 0;
      for (auto& g : b.grads) {
        g.copy_(b.flat.narrow(0, at, g.numel()).view_as(g));
        at += g.numel();
      }
      if (k + 1 == buckets.size()) stop = b.flat.narrow(0, at, 1);
    }
  } catch (const std::exception& e) {
    fail("the gradients' all-reduce", e);
  }
  const bool any = stop.defined() && stop.item<double>() > 0.5;
  reduce_time_.seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++reduce_time_.calls;
  reduce_time_.bytes = total;
  reduce_time_.buckets = static_cast<int64_t>(buckets.size());
  return any;
}

RankGroup::ReduceTime RankGroup::take_reduce_time() {
  const auto r = reduce_time_;
  reduce_time_ = {};
  return r;
}

void RankGroup::broadcast_from_root(std::vector<torch::Tensor> tensors, const char* what) {
  try {
    for (auto& t : tensors) {
      auto c = t.contiguous();
      std::vector<torch::Tensor> v{c};
      impl_->backend->broadcast(v)->wait(impl_->timeout);
      if (!c.is_same(t)) t.copy_(c);
    }
  } catch (const std::exception& e) {
    fail(what, e);
  }
}

torch::Tensor RankGroup::all_gather_rows(const torch::Tensor& local, const char* what) {
  try {
    auto n = torch::tensor({local.size(0)}, torch::TensorOptions(torch::kInt64)).to(local.device());
    std::vector<std::vector<torch::Tensor>> counts(1);
    for (int r = 0; r < size(); ++r) counts[0].push_back(torch::empty_like(n));
    std::vector<torch::Tensor> in{n};
    impl_->backend->allgather(counts, in)->wait(impl_->timeout);
    int64_t most = 0;
    std::vector<int64_t> rows;
    for (const auto& c : counts[0]) {
      rows.push_back(c.item<int64_t>());
      most = std::max(most, rows.back());
    }
    auto shape = local.sizes().vec();
    shape[0] = most;
    auto padded = torch::zeros(shape, local.options());
    if (local.size(0) > 0) padded.narrow(0, 0, local.size(0)).copy_(local);
    std::vector<std::vector<torch::Tensor>> parts(1);
    for (int r = 0; r < size(); ++r) parts[0].push_back(torch::empty_like(padded));
    std::vector<torch::Tensor> in2{padded};
    impl_->backend->allgather(parts, in2)->wait(impl_->timeout);
    std::vector<torch::Tensor> out;
    for (int r = 0; r < size(); ++r) out.push_back(parts[0][r].narrow(0, 0, rows[r]));
    return torch::cat(out);
  } catch (const std::exception& e) {
    fail(what, e);
  }
}

}  // namespace hptrain::train::detail
