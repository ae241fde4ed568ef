#include "hptrain/fs.h"

#include <ftw.h>
#include <unistd.h>

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>

#include "hptrain/error.h"

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
  atomic_write(path, [&](const stdfs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw InputError("cannot write '" + path.string() + "'");
  });
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
