// Shared test helpers: the tolerance check (all_close) that prints the first mismatches,
// temporary folders, the reference (librosa) HDF5 files, plain CSV files, text checks (contains,
// message_of, lines_of) and the GPU-skip guard.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "hptrain/device.h"
#include "hptrain/h5.h"

// Skips the current test when no CUDA device is usable.
#define HP_REQUIRE_GPU()                                               \
  do {                                                                 \
    if (!::hptrain::gpu_available()) GTEST_SKIP() << "no CUDA device"; \
  } while (0)

namespace hptrain::test {

// tests/data/<rel> in the source tree.
std::filesystem::path data_path(const std::string& rel);

// A shell command's exit code (-1 when it did not exit normally) and its output, stderr
// included: `cmd 2>&1` through popen, waiting for it to end.
struct CommandResult {
  int code = -1;
  std::string out;
};
CommandResult run_command(const std::string& cmd);

// The cells of a CSV file without quoted fields, row by row (header included).
std::vector<std::vector<std::string>> read_csv(const std::filesystem::path& path);

// The one tolerance check of the tests: |got - ref| <= atol * scale[i] + rtol * |ref| for every
// element (scale null: 1), and got finite exactly where ref is. On failure it reports `what`
// (with the seed, when the caller puts it there), how many values fail, the first few indices
// with both values, and the largest error. max_err, when not null, receives the largest
// |got - ref| / scale[i] (scale 0 counts as 1), so that a caller can print the tolerance reached.
template <class T>
::testing::AssertionResult all_close(const std::string& what, const T* got, const T* ref, size_t n,
                                     double atol, double rtol, const double* scale = nullptr,
                                     double* max_err = nullptr);
template <class T>
::testing::AssertionResult all_close(const std::string& what, const std::vector<T>& got,
                                     const std::vector<T>& ref, double atol, double rtol) {
  if (got.size() != ref.size()) {
    return ::testing::AssertionFailure() << what << ": size " << got.size() << " != " << ref.size();
  }
  return all_close(what, got.data(), ref.data(), got.size(), atol, rtol);
}

// Whether `text` holds `part`.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The message of the E that f() throws, or "(no error)" when it returns (other exceptions go
// through).
template <class E>
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no error)";
}

// The number of lines of a text file (0 when it cannot be read).
int64_t lines_of(const std::filesystem::path& path);

// A fresh folder under the system temp dir, removed with its contents at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Read-only access to one HDF5 file (the librosa reference vectors, or shards in tests), with
// the file's root as the default attribute holder.
class H5File {
 public:
  explicit H5File(const std::filesystem::path& path) : file_(h5::File::open_read(path)) {}

  bool has(const std::string& dataset) const { return file_.has(dataset); }
  // Dataset as float32 (converted by HDF5), and its shape.
  std::vector<float> floats(const std::string& dataset,
                            std::vector<int64_t>* shape = nullptr) const {
    return file_.read_floats(dataset, shape);
  }
  std::vector<int64_t> ints(const std::string& dataset) const { return file_.read_int64s(dataset); }
  double attr_double(const std::string& name, const std::string& object = "/") const {
    return file_.attr_double(object, name);
  }
  std::string attr_string(const std::string& name, const std::string& object = "/") const {
    return file_.attr_string(object, name);
  }

 private:
  h5::File file_;
};

}  // namespace hptrain::test
