// Starting hptrain as the ranks of a job on this machine, for the distributed tests: a process
// with extra environment variables and its output in a file, torchrun's variables of a rank,
// a free TCP port, a torchrun that works here.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "train/rank_group.h"

// Skips a test that needs CPU ranks to communicate where this build has none (no Gloo:
// train::detail::cpu_ranks_supported, a build against PyPI's LibTorch).
#define HP_REQUIRE_CPU_RANKS()                                                \
  do {                                                                        \
    if (!::hptrain::train::detail::cpu_ranks_supported())                     \
      GTEST_SKIP() << "this build has no Gloo: CPU ranks cannot communicate"; \
  } while (0)

namespace hptrain::test {

// Starts hptrain with `args` and the extra environment `env`, its output to `log`.
inline pid_t start(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env,
                   const std::filesystem::path& log) {
  std::fflush(nullptr);  // else the child's freopen writes out what this process buffered
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = freopen(log.c_str(), "w", stdout);
    if (f == nullptr || dup2(fileno(stdout), 2) < 0) _exit(99);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv = {const_cast<char*>(HP_HPTRAIN_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(HP_HPTRAIN_BINARY, argv.data());
    _exit(98);
  }
  return pid;
}

inline int wait_for(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

inline bool exited_with(int status, int code) {
  return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  close(fd);
  return ntohs(a.sin_port);
}

// torchrun's variables for rank `rank` of `world` on this machine, master 127.0.0.1:`port`.
inline std::map<std::string, std::string> rank_env(int rank, int world, int port) {
  return {{"RANK", std::to_string(rank)},        {"WORLD_SIZE", std::to_string(world)},
          {"LOCAL_RANK", std::to_string(rank)},  {"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", std::to_string(port)}, {"HPTRAIN_CONNECT_TIMEOUT", "20"}};
}

// Runs `argv` (a program and its arguments, no shell) with its output to `log`; its exit status.
inline int run_logged(const std::vector<std::string>& args, const std::filesystem::path& log) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = freopen(log.c_str(), "w", stdout);
    if (f == nullptr || dup2(fileno(stdout), 2) < 0) _exit(99);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(98);
  }
  return wait_for(pid);
}

// PyTorch's launcher with the options it needs to start processes here, or empty (with the
// reason in `why`): $HP_TORCHRUN, else Debian's /usr/bin/torchrun. It must come with the
// LibTorch hptrain was built against (scripts/build_torch2.sh --test names its venv's): the
// TCPStore its agent serves speaks that version's protocol. Debian's torchrun 1.13 under
// Python 3.11 starts nothing with its defaults:
// its Std.from_str("0") returns None, since Python 3.11's IntFlag no longer lists a member of
// value 0 (AttributeError "'NoneType' object has no attribute 'get'" in to_map); with the
// workers' stdout redirected and teed (`--redirects 1 --tee 1`) it never parses a "0".
inline std::vector<std::string> torchrun_command(std::string* why) {
  // probed once per test program (each probe starts Python and imports torch)
  static const auto found = [] {
    std::pair<std::vector<std::string>, std::string> out;
    const char* env = std::getenv("HP_TORCHRUN");
    const std::string torchrun = env != nullptr && *env != '\0' ? env : "/usr/bin/torchrun";
    if (access(torchrun.c_str(), X_OK) != 0) {
      out.second = "no " + torchrun + (env != nullptr ? " (HP_TORCHRUN)" : " (python3-torch)");
      return out;
    }
    // its agent looks at the workers every --monitor_interval seconds (5 by default); the
    // redirection works on every version, so it is always given (no second probe)
    const std::vector<std::string> c = {
        torchrun, "--monitor_interval", "0.2", "--redirects", "1", "--tee", "1"};
    auto probe = c;
    for (const char* a : {"--no_python", "--nproc_per_node", "1"}) probe.push_back(a);
    probe.push_back("--master_port=" + std::to_string(free_port()));
    probe.push_back("/bin/true");
    if (exited_with(run_logged(probe, "/dev/null"), 0)) {
      out.first = c;
      return out;
    }
    out.second = torchrun + " --redirects 1 --tee 1 cannot start /bin/true";
    return out;
  }();
  *why = found.second;
  return found.first;
}

}  // namespace hptrain::test
