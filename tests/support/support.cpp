#include "support/support.h"

#include <sys/wait.h>

#include <cstdio>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "hptrain/fs.h"

namespace hptrain::test {

namespace stdfs = std::filesystem;

stdfs::path data_path(const std::string& rel) {
  return stdfs::path(HP_SOURCE_DIR) / "tests" / "data" / rel;
}

CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::vector<std::string>> read_csv(const stdfs::path& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

::testing::AssertionResult all_close(const std::string& what, const float* got, const float* ref,
                                     size_t n, double atol, double rtol) {
  size_t bad = 0;
  double max_err = 0.0;
  size_t max_at = 0;
  std::ostringstream first;
  for (size_t i = 0; i < n; ++i) {
    const double g = got[i], r = ref[i];
    const double err = std::fabs(g - r);
    const bool ok = err <= atol + rtol * std::fabs(r) && std::isfinite(g) == std::isfinite(r);
    if (std::isfinite(err) && err > max_err) {
      max_err = err;
      max_at = i;
    }
    if (!ok) {
      if (bad < 5)
        first << "\n  [" << i << "] got " << g << ", want " << r << " (err " << err << ")";
      ++bad;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": " << bad << " of " << n << " values outside atol " << atol << " + rtol "
         << rtol << "; max err " << max_err << " at [" << max_at << "]" << first.str();
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = stdfs::temp_directory_path() /
          ("hptrain-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
  stdfs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_tree(path_, ec);
}

}  // namespace hptrain::test
