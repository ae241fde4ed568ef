#include "support/support.h"

#include <hdf5.h>

#include <cmath>
#include <random>
#include <sstream>

namespace hptrain::test {

namespace stdfs = std::filesystem;

stdfs::path data_path(const std::string& rel) {
  return stdfs::path(HP_SOURCE_DIR) / "tests" / "data" / rel;
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
  stdfs::remove_all(path_, ec);
}

H5File::H5File(const stdfs::path& path) {
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file_ < 0) throw std::runtime_error("cannot open HDF5 file " + path.string());
}

H5File::~H5File() {
  H5Fclose(file_);
}

bool H5File::has(const std::string& dataset) const {
  return H5Lexists(file_, dataset.c_str(), H5P_DEFAULT) > 0;
}

namespace {
template <class T>
std::vector<T> read_all(hid_t file, const std::string& name, hid_t mem_type,
                        std::vector<int64_t>* shape) {
  const hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  if (ds < 0) throw std::runtime_error("no dataset " + name);
  const hid_t sp = H5Dget_space(ds);
  const int rank = H5Sget_simple_extent_ndims(sp);
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(sp, dims.data(), nullptr);
  size_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<T> out(n);
  if (n > 0) H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
  if (shape != nullptr) shape->assign(dims.begin(), dims.end());
  H5Sclose(sp);
  H5Dclose(ds);
  return out;
}
}  // namespace

std::vector<float> H5File::floats(const std::string& dataset, std::vector<int64_t>* shape) const {
  return read_all<float>(file_, dataset, H5T_NATIVE_FLOAT, shape);
}

std::vector<int64_t> H5File::ints(const std::string& dataset) const {
  return read_all<int64_t>(file_, dataset, H5T_NATIVE_INT64, nullptr);
}

double H5File::attr_double(const std::string& name, const std::string& object) const {
  const hid_t a = H5Aopen_by_name(file_, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) throw std::runtime_error("no attribute " + name);
  double v = 0;
  H5Aread(a, H5T_NATIVE_DOUBLE, &v);
  H5Aclose(a);
  return v;
}

std::string H5File::attr_string(const std::string& name, const std::string& object) const {
  const hid_t a = H5Aopen_by_name(file_, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) throw std::runtime_error("no attribute " + name);
  const hid_t t = H5Aget_type(a);
  std::string out;
  if (H5Tis_variable_str(t) > 0) {
    char* s = nullptr;
    const hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Aread(a, mt, &s);
    if (s != nullptr) out = s;
    H5free_memory(s);
    H5Tclose(mt);
  } else {
    out.resize(H5Tget_size(t));
    H5Aread(a, t, out.data());
    out = out.c_str();
  }
  H5Tclose(t);
  H5Aclose(a);
  return out;
}

}  // namespace hptrain::test
