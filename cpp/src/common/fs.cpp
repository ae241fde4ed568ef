#include "hptrain/fs.h"

#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/log.h"

namespace hptrain::fs {

namespace stdfs = std::filesystem;

void atomic_write(const stdfs::path& path, const std::function<void(const stdfs::path&)>& write) {
  static std::atomic<unsigned> counter{0};
  if (path.has_parent_path()) stdfs::create_directories(path.parent_path());
  stdfs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  try {
    write(tmp);
    std::error_code ec;
    stdfs::rename(tmp, path, ec);
    if (ec) throw InputError("cannot write '" + path.string() + "': " + ec.message());
  } catch (...) {
    std::error_code ignore;
    stdfs::remove(tmp, ignore);
    throw;
  }
}

void write_text(const stdfs::path& path, const std::string& text) {
  atomic_write(path,
               [&](const stdfs::path& tmp) { write_bytes(tmp, text.data(), text.size(), path); });
}

namespace {

[[noreturn]] void throw_os(const std::string& doing, const stdfs::path& path, int err) {
  throw InputError("cannot " + doing + " '" + path.string() + "': " + std::strerror(err));
}

}  // namespace

void write_bytes(const stdfs::path& path, const void* data, size_t n, const stdfs::path& shown) {
  const stdfs::path& name = shown.empty() ? path : shown;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_os("write", name, errno);
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int err = w < 0 ? errno : ENOSPC;
      ::close(fd);
      throw_os("write", name, err);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  // delayed allocation reports a full disk here, if not at write
  if (::close(fd) != 0) throw_os("write", name, errno);
}

std::string read_bytes(const stdfs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_os("read", path, errno);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      ::close(fd);
      throw_os("read", path, err);
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return out;
}

int remove_temporaries(const stdfs::path& dir) {
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) return 0;
  std::vector<stdfs::path> litter;
  for (const auto& e : stdfs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().find(".tmp-") != std::string::npos) {
      litter.push_back(e.path());
    }
  }
  int n = 0;
  for (const auto& p : litter) n += stdfs::remove(p, ec) ? 1 : 0;
  return n;
}

uint64_t fnv1a64(const void* data, size_t n, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

std::string hex64(uint64_t v) {
  char s[17];
  std::snprintf(s, sizeof s, "%016llx", static_cast<unsigned long long>(v));
  return s;
}

namespace {

// "pid 123 on host h, command 'hptrain train ...', since 2026-01-01T10:00:00Z"
std::string holder_line() {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  std::string cmd;
  {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string arg;
    while (std::getline(in, arg, '\0')) cmd += (cmd.empty() ? "" : " ") + arg;
  }
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return "pid " + std::to_string(::getpid()) + " on host " + host + ", command '" + cmd +
         "', since " + when;
}

}  // namespace

Lock::Lock(const stdfs::path& file, const std::string& what, Wait wait) {
  std::error_code ec;
  if (file.has_parent_path() && !stdfs::create_directories(file.parent_path(), ec) && ec) {
    throw_os("create the folder of", file, ec.value());
  }
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_os("open the lock file", file, errno);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder;
    char buf[1024];
    const ssize_t n = ::pread(fd_, buf, sizeof buf, 0);
    if (n > 0) holder.assign(buf, static_cast<size_t>(n));
    while (!holder.empty() && holder.back() == '\n') holder.pop_back();
    if (holder.empty()) holder = "holder unknown";
    if (err == EWOULDBLOCK && wait == kWait) {
      HP_LOG_INFO("{} is in use by another hptrain process ({}): waiting for it (lock file '{}')",
                  what, holder, file.string());
      do {
        err = ::flock(fd_, LOCK_EX) == 0 ? 0 : errno;
      } while (err == EINTR);
    }
    if (err != 0) {
      ::close(fd_);
      fd_ = -1;
      if (err != EWOULDBLOCK) throw_os("lock", file, err);
      throw InputError(what + " is in use by another hptrain process (" + holder +
                       "); wait for it to end (lock file '" + file.string() + "')");
    }
  }
  const std::string line = holder_line() + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, line.data(), line.size(), 0) < 0) {
    // the lock holds without the note; only the message of a second process is poorer
  }
}

Lock::~Lock() {
  if (fd_ < 0) return;
  if (::ftruncate(fd_, 0) != 0) {
    // nothing to do: the lock goes with the descriptor
  }
  ::close(fd_);
}

std::string read_text(const stdfs::path& path) {
  // the OS's reason (Permission denied, ...); a folder or a FIFO is refused before opening
  const auto fail = [&](const std::string& why) {
    throw InputError("cannot read '" + path.string() + "': " + why);
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(std::generic_category().message(errno));
  if (S_ISDIR(st.st_mode)) fail("is a directory");
  if (!S_ISREG(st.st_mode)) fail("not a regular file");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(errno != 0 ? std::generic_category().message(errno) : "cannot be opened");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail("read error");
  return ss.str();
}

void remove_tree(const stdfs::path& path, std::error_code& ec) noexcept {
  ec.clear();
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) ec.assign(errno, std::generic_category());
    return;
  }
  // children before their folder (FTW_DEPTH), links as links (FTW_PHYS)
  static thread_local int first_error;
  first_error = 0;
  const auto remove_one = [](const char* p, const struct stat*, int, struct FTW*) {
    if (::remove(p) != 0 && first_error == 0) first_error = errno;
    return 0;
  };
  if (::nftw(path.c_str(), remove_one, 32, FTW_DEPTH | FTW_PHYS) != 0 && first_error == 0)
    first_error = errno;
  if (first_error != 0) ec.assign(first_error, std::generic_category());
}

}  // namespace hptrain::fs
