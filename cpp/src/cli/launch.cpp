// `hptrain launch --nproc-per-node N -- ARGS...`: starts N local ranks of `hptrain ARGS...` with
// torchrun's variables set (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), forwards SIGINT and SIGTERM to them, and exits with the code of the first rank
// that failed (others still running get SIGTERM after a grace period, then SIGKILL).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/registry.h"
#include "hptrain/error.h"
#include "hptrain/log.h"

namespace hptrain::cli {
namespace {

struct LaunchOptions {
  int nproc_per_node = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;  // torchrun's default; 0: a free port of this machine
  double grace_s = 30;      // after a rank failed, how long the others may take to exit
  std::vector<std::string> args;
};

std::atomic<int> g_signal{0};
void on_signal(int sig) {
  g_signal.store(sig);
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error(std::string("launch: socket(): ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t n = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw Error("launch: cannot find a free port: " + why);
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "exited with " + std::to_string(WEXITSTATUS(status));
}

int exit_code_of(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int launch(const LaunchOptions& o) {
  if (o.nproc_per_node < 1) throw ConfigError("--nproc-per-node must be >= 1");
  if (o.args.empty())
    throw ConfigError("launch: nothing to run: give hptrain's arguments after --");
  const int port = o.master_port == 0 ? free_port() : o.master_port;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("launch: cannot find this program (/proc/self/exe): " + ec.message());
  // the ranks get the signals from here alone (their own process group): a Ctrl-C at the
  // terminal reaches each rank once, as in a single process
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  std::vector<pid_t> pids;
  for (int r = 0; r < o.nproc_per_node; ++r) {
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(std::string("launch: fork(): ") + std::strerror(errno));
    if (pid == 0) {
      ::setpgid(0, 0);
      sigaction(SIGINT, &old_int, nullptr);
      sigaction(SIGTERM, &old_term, nullptr);
      const auto n = std::to_string(o.nproc_per_node), rank = std::to_string(r);
      ::setenv("RANK", rank.c_str(), 1);
      ::setenv("LOCAL_RANK", rank.c_str(), 1);
      ::setenv("WORLD_SIZE", n.c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", n.c_str(), 1);
      ::setenv("MASTER_ADDR", o.master_addr.c_str(), 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      for (const char* v : {"SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"}) ::unsetenv(v);
      std::vector<std::string> args{self.string()};
      args.insert(args.end(), o.args.begin(), o.args.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(self.c_str(), argv.data());
      std::fprintf(stderr, "launch: cannot run %s: %s\n", self.c_str(), std::strerror(errno));
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  HP_LOG_INFO("launch: {} ranks, master {}:{}", o.nproc_per_node, o.master_addr, port);
  int first_code = 0, running = o.nproc_per_node, forwarded = 0;
  auto failed_at = std::chrono::steady_clock::time_point::max();
  bool termed = false, killed = false;
  while (running > 0) {
    if (const int sig = g_signal.exchange(0); sig != 0) {
      ++forwarded;
      for (pid_t p : pids) {
        if (p > 0) ::kill(p, sig);
      }
    }
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, WNOHANG);
    if (done > 0) {
      for (size_t r = 0; r < pids.size(); ++r) {
        if (pids[r] != done) continue;
        pids[r] = -1;
        --running;
        const int code = exit_code_of(status);
        if (code != 0 && first_code == 0) {
          first_code = code;
          failed_at = std::chrono::steady_clock::now();
          HP_LOG_ERROR("launch: rank {} (pid {}) {}: the first rank to fail", r, done,
                       describe_status(status));
        } else if (code != 0) {
          HP_LOG_INFO("launch: rank {} (pid {}) {}", r, done, describe_status(status));
        }
      }
      continue;
    }
    const double since =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - failed_at).count();
    if (first_code != 0 && !termed && since > o.grace_s) {
      HP_LOG_WARN("launch: {} rank(s) still running {} s after the first failure: SIGTERM", running,
                  o.grace_s);
      for (pid_t p : pids)
        if (p > 0) ::kill(p, SIGTERM);
      termed = true;
    } else if (termed && !killed && since > o.grace_s + 10) {
      for (pid_t p : pids)
        if (p > 0) ::kill(p, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  (void)forwarded;
  return first_code;
}

void setup(CLI::App& root) {
  auto o = std::make_shared<LaunchOptions>();
  auto* sub = root.add_subcommand(
      "launch",
      "Start N local ranks of a data-parallel run: hptrain launch --nproc-per-node 2 -- "
      "--experiment X (as torchrun --no-python --nproc-per-node 2 hptrain --experiment X)");
  sub->add_option("--nproc-per-node", o->nproc_per_node, "Ranks to start on this machine")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--master-addr", o->master_addr, "Address of rank 0 (this machine)")
      ->capture_default_str();
  sub->add_option("--master-port", o->master_port, "Port of rank 0's store (0: a free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  sub->add_option("--grace", o->grace_s,
                  "Seconds the other ranks may take to exit after one failed, before SIGTERM")
      ->capture_default_str();
  sub->add_option("args", o->args, "hptrain's arguments for every rank, after --")->required();
  sub->callback([o] { set_exit_code(launch(*o)); });
}

const CommandRegistrar kRegistrar("launch", setup);

}  // namespace
}  // namespace hptrain::cli
