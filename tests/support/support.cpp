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

template <class T>
::testing::AssertionResult all_close(const std::string& what, const T* got, const T* ref, size_t n,
                                     double atol, double rtol, const double* scale,
                                     double* max_err) {
  size_t bad = 0;
  double worst = 0.0;  // largest |got - ref| / scale
  size_t worst_at = 0;
  bool worst_nan = false;
  std::ostringstream first;
  for (size_t i = 0; i < n; ++i) {
    const double g = got[i], r = ref[i];
    const double sc = scale == nullptr || !(scale[i] > 0) ? 1.0 : scale[i];
    const double err = std::fabs(g - r);
    const bool ok = err <= atol * sc + rtol * std::fabs(r) && std::isfinite(g) == std::isfinite(r);
    if (std::isnan(err) && !worst_nan) {
      worst_nan = true;
      worst_at = i;
    }
    if (std::isfinite(err) && err / sc > worst) {
      worst = err / sc;
      if (!worst_nan) worst_at = i;
    }
    if (!ok) {
      if (bad < 5)
        first << "\n  [" << i << "] got " << g << ", want " << r << " (err " << err << ")";
      ++bad;
    }
  }
  if (max_err != nullptr) *max_err = worst_nan ? std::nan("") : worst;
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": " << bad << " of " << n << " values outside atol " << atol
         << (scale != nullptr ? " x scale" : "") << " + rtol " << rtol << "; max err "
         << (worst_nan ? std::nan("") : worst) << " at [" << worst_at << "]" << first.str();
}

template ::testing::AssertionResult all_close<float>(const std::string&, const float*, const float*,
                                                     size_t, double, double, const double*,
                                                     double*);
template ::testing::AssertionResult all_close<double>(const std::string&, const double*,
                                                      const double*, size_t, double, double,
                                                      const double*, double*);

int64_t lines_of(const stdfs::path& path) {
  std::ifstream in(path);
  int64_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
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
