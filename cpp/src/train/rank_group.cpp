// The process group of a data-parallel run (rank_group.h). LibTorch 1.13's c10d backends derive
// from c10d::ProcessGroup, 2.x's from c10d::Backend, with the same collectives.
#include "train/rank_group.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

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
#include "train/distributed_store.h"

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

}  // namespace

struct RankGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> backend;
  std::vector<std::pair<std::string, long>> procs;  // host and pid of each rank
  std::chrono::milliseconds timeout;
  bool cuda = false;
};

bool cpu_ranks_supported() {
#if HP_WITH_GLOO
  return true;
#else
  return false;
#endif
}

RankGroup::RankGroup(RankEnv env) : env_(std::move(env)), impl_(std::make_unique<Impl>()) {}

RankGroup::~RankGroup() = default;

std::unique_ptr<RankGroup> RankGroup::join(const RankEnv& env, bool cuda,
                                           const std::string& fingerprint) {
  std::unique_ptr<RankGroup> g(new RankGroup(env));
  Impl& s = *g->impl_;
  s.timeout = std::chrono::seconds(collective_timeout_s());
  const std::string me =
      "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + ": ";
  // the store, and every rank's experiment and options the same (distributed_store.h)
  StoreConnection conn = connect_store(env, fingerprint);
  s.store = conn.store;
  s.procs = std::move(conn.procs);
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
  // a killed rank's sockets close while it exits, a moment before it is gone: look for up to
  // a second
  for (int attempt = 0; attempt < 20 && gone.empty(); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    gone = ended_ranks(impl_->procs, env_.rank);
  }
  throw RankFailure("rank " + std::to_string(env_.rank) + " of " + std::to_string(env_.world_size) +
                    ": " + what + " failed: " +
                    (gone.empty() ? std::string("a rank died or stalled (no rank on this "
                                                "machine has ended; another machine's?)")
                                  : "rank " + gone + " has ended") +
                    ": " + what_of(e));
}

std::unique_ptr<data::Rendezvous> RankGroup::rendezvous() const {
  return std::make_unique<StoreRendezvous>(env_, StoreConnection{impl_->store, impl_->procs});
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
