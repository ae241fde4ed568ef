#include "hptrain/fs.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

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
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read '" + path.string() + "': no such file or not readable");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace hptrain::fs
