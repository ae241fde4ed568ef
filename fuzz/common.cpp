// Scratch files and the target table of the fuzz entry points.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include "hptrain/error.h"
#include "hptrain/log.h"
#include "targets.h"

namespace hptrain::fuzz {
namespace {

namespace stdfs = std::filesystem;

// One folder per process (parallel fuzzers and ctest -j do not share), removed at exit.
struct Scratch {
  stdfs::path dir;
  Scratch() {
    dir = stdfs::temp_directory_path() / ("hp-fuzz-" + std::to_string(::getpid()));
    stdfs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    stdfs::remove_all(dir, ec);
  }
};

}  // namespace

stdfs::path scratch_path(const std::string& name) {
  static Scratch scratch;
  return scratch.dir / name;
}

stdfs::path scratch_file(const std::string& name, const uint8_t* data, size_t size) {
  const stdfs::path path = scratch_path(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) throw std::runtime_error("fuzz: cannot write the scratch file " + path.string());
  return path;
}

void quiet() {
  static const bool once = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)once;
}

void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

const std::vector<Target>& targets() {
#ifdef HP_WITH_FFMPEG
  constexpr bool kFfmpeg = true;
#else
  constexpr bool kFfmpeg = false;
#endif
  static const std::vector<Target> list = {
      {"manifest", fuzz_manifest, true}, {"toml", fuzz_toml, true}, {"sndfile", fuzz_sndfile, true},
      {"ffmpeg", fuzz_ffmpeg, kFfmpeg},  {"rttm", fuzz_rttm, true},
  };
  return list;
}

}  // namespace hptrain::fuzz
