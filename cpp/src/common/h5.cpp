#include "hptrain/h5.h"

#include <hdf5.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>

#include "hptrain/error.h"
#include "hptrain/fs.h"

namespace hptrain::h5 {
namespace {

// HDF5 prints its own error stack by default; we report errors ourselves.
struct SilenceHdf5 {
  SilenceHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};
const SilenceHdf5 kSilence;

// Closes an HDF5 identifier of any kind at scope exit.
class Id {
 public:
  explicit Id(hid_t id) : id_(id) {}
  ~Id() {
    if (id_ >= 0) H5Idec_ref(id_);
  }
  Id(Id&& other) noexcept : id_(other.id_) { other.id_ = -1; }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id& operator=(Id&&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
};

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw InputError("HDF5 '" + file.string() + "': " + what);
}

void check(herr_t status, const std::filesystem::path& file, const std::string& what) {
  if (status < 0) fail(file, what);
}

// Creates the groups on the way to `name` ("a/b/c" creates "a" and "a/b").
void make_parents(hid_t file, const std::string& name, const std::filesystem::path& path) {
  for (size_t pos = name.find('/', 1); pos != std::string::npos; pos = name.find('/', pos + 1)) {
    const std::string group = name.substr(0, pos);
    if (H5Lexists(file, group.c_str(), H5P_DEFAULT) > 0) continue;
    Id g(H5Gcreate2(file, group.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (!g.ok()) fail(path, "cannot create group '" + group + "'");
  }
}

std::vector<hsize_t> dims_of(const std::vector<int64_t>& shape) {
  return std::vector<hsize_t>(shape.begin(), shape.end());
}

// Adds the shuffle and compression filters of `c` to a dataset-creation property list.
void set_filters(hid_t plist, const Compression& c, const std::filesystem::path& path,
                 const std::string& name) {
  if (c.kind == Compression::Kind::none) return;
  check(H5Pset_shuffle(plist), path, name + ": shuffle filter");
  if (c.kind == Compression::Kind::gzip) {
    if (c.level < 1 || c.level > 9) fail(path, name + ": gzip level must be 1..9");
    check(H5Pset_deflate(plist, static_cast<unsigned>(c.level)), path, name + ": gzip filter");
    return;
  }
  if (!lzf_available()) {
    throw ConfigError("HDF5 '" + path.string() + "': " + name +
                      ": compression 'lzf': HDF5 refused to register the LZF filter; choose "
                      "compression none or gzip");
  }
  check(H5Pset_filter(plist, kLzfFilter, H5Z_FLAG_OPTIONAL, 0, nullptr), path,
        name + ": lzf filter");
}

// A read that failed on a dataset whose filter HDF5 cannot load says so.
std::string filter_hint(hid_t ds) {
  Id plist(H5Dget_create_plist(ds));
  if (!plist.ok()) return {};
  const int n = H5Pget_nfilters(plist.get());
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0;
    size_t nvalues = 0;
    char fname[64] = {};
    unsigned config = 0;
    const H5Z_filter_t f = H5Pget_filter2(plist.get(), static_cast<unsigned>(i), &flags, &nvalues,
                                          nullptr, sizeof fname, fname, &config);
    if (f >= 0 && H5Zfilter_avail(f) <= 0) {
      return std::string(" (it is compressed with filter ") + std::to_string(f) +
             (f == kLzfFilter ? " 'lzf'" : "") + ", which this HDF5 cannot load)";
    }
  }
  return {};
}

void write_dataset(hid_t file, const std::filesystem::path& path, const std::string& name,
                   hid_t mem_type, hid_t file_type, const void* data,
                   const std::vector<int64_t>& shape, const Storage& storage) {
  make_parents(file, name, path);
  const auto dims = dims_of(shape);
  Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  Id plist(H5Pcreate(H5P_DATASET_CREATE));
  bool empty = false;
  for (auto d : dims) empty = empty || d == 0;
  if (!storage.chunk.empty() && !empty) {
    if (storage.chunk.size() != dims.size()) fail(path, name + ": chunk rank != dataset rank");
    auto chunk = dims_of(storage.chunk);
    for (size_t i = 0; i < chunk.size(); ++i)
      chunk[i] = std::max<hsize_t>(1, std::min(chunk[i], dims[i]));
    check(H5Pset_chunk(plist.get(), static_cast<int>(chunk.size()), chunk.data()), path,
          name + ": chunking");
    set_filters(plist.get(), storage.compression, path, name);
  }
  Id ds(H5Dcreate2(file, name.c_str(), file_type, space.get(), H5P_DEFAULT, plist.get(),
                   H5P_DEFAULT));
  if (!ds.ok()) fail(path, "cannot create dataset '" + name + "'");
  if (!empty) {
    check(H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), path,
          "cannot write dataset '" + name + "'");
  }
}

template <class T>
std::vector<T> read_all(hid_t file, const std::filesystem::path& path, const std::string& name,
                        hid_t mem_type, std::vector<int64_t>* shape) {
  Id ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
  if (!ds.ok()) fail(path, "no dataset '" + name + "'");
  Id space(H5Dget_space(ds.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  size_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<T> out(n);
  if (n > 0 && H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
    fail(path, "cannot read dataset '" + name + "'" + filter_hint(ds.get()));
  }
  if (shape != nullptr) shape->assign(dims.begin(), dims.end());
  return out;
}

// Variable-length strings in `cset` (UTF-8 when writing; when reading, the stored type's own
// character set, since HDF5 does not convert between ASCII and UTF-8).
Id var_string_type(H5T_cset_t cset = H5T_CSET_UTF8) {
  Id t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), cset);
  return t;
}

Id stored_string_type(hid_t stored) {
  Id file_type(stored);
  return var_string_type(H5Tget_cset(file_type.get()));
}

}  // namespace

File File::create(const std::filesystem::path& path) {
  lzf_available();
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) fail(path, "cannot create file");
  return File(id, path);
}

File File::create_in_memory(const std::filesystem::path& path) {
  lzf_available();
  Id fapl(H5Pcreate(H5P_FILE_ACCESS));
  check(H5Pset_fapl_core(fapl.get(), 1 << 20, /*backing_store=*/0), path, "in-memory driver");
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  if (id < 0) fail(path, "cannot create file (in memory)");
  return File(id, path, true);
}

File File::open_read(const std::filesystem::path& path) {
  lzf_available();
  if (!std::filesystem::exists(path)) fail(path, "no such file");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) fail(path, "not a readable HDF5 file (corrupt or truncated?)");
  return File(id, path);
}

File::File(File&& other) noexcept
    : id_(other.id_), path_(std::move(other.path_)), in_memory_(other.in_memory_) {
  other.id_ = -1;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    try {
      close();
    } catch (...) {  // a move never throws; the old file's close error is lost with it
    }
    id_ = other.id_;
    path_ = std::move(other.path_);
    in_memory_ = other.in_memory_;
    other.id_ = -1;
  }
  return *this;
}

File::~File() {
  if (in_memory_ && id_ >= 0) {  // not closed: discarded, nothing written
    H5Fclose(id_);
    return;
  }
  try {
    close();
  } catch (...) {  // destructors never throw; call close() to see the error
  }
}

void File::close() {
  if (id_ < 0) return;
  const hid_t id = id_;
  id_ = -1;
  if (in_memory_) {
    std::vector<char> image;
    const herr_t flushed = H5Fflush(id, H5F_SCOPE_LOCAL);
    const ssize_t n = flushed < 0 ? -1 : H5Fget_file_image(id, nullptr, 0);
    if (n > 0) {
      image.resize(static_cast<size_t>(n));
      if (H5Fget_file_image(id, image.data(), image.size()) != n) image.clear();
    }
    check(H5Fclose(id), path_, "cannot close (in memory)");
    if (image.empty()) fail(path_, "cannot take the file's image from memory");
    // errors name the file atomic_write renames this one to
    std::string shown = path_.string();
    if (const auto tmp = shown.rfind(".tmp-"); tmp != std::string::npos) shown.resize(tmp);
    fs::write_bytes(path_, image.data(), image.size(), shown);
    return;
  }
  const int before = errno;
  errno = 0;
  const herr_t closed = H5Fclose(id);
  const int err = errno;
  errno = before;
  if (closed < 0) {
    fail(path_, std::string("cannot close: ") + (err != 0 ? std::strerror(err) : "unknown error"));
  }
}

bool File::has(const std::string& name) const {
  if (name == "/") return true;
  // H5Lexists fails on a missing intermediate group; walk the path.
  for (size_t pos = name.find('/', 1);; pos = name.find('/', pos + 1)) {
    const std::string part = name.substr(0, pos);
    if (H5Lexists(id_, part.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

std::vector<int64_t> File::shape(const std::string& dataset) const {
  Id ds(H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT));
  if (!ds.ok()) fail(path_, "no dataset '" + dataset + "'");
  Id space(H5Dget_space(ds.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

void File::write(const std::string& name, const float* data, const std::vector<int64_t>& shape,
                 const Storage& storage) {
  write_dataset(id_, path_, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, data, shape, storage);
}
void File::write(const std::string& name, const double* data, const std::vector<int64_t>& shape,
                 const Storage& storage) {
  write_dataset(id_, path_, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, data, shape, storage);
}
void File::write(const std::string& name, const int32_t* data, const std::vector<int64_t>& shape,
                 const Storage& storage) {
  write_dataset(id_, path_, name, H5T_NATIVE_INT32, H5T_STD_I32LE, data, shape, storage);
}
void File::write(const std::string& name, const int64_t* data, const std::vector<int64_t>& shape,
                 const Storage& storage) {
  write_dataset(id_, path_, name, H5T_NATIVE_INT64, H5T_STD_I64LE, data, shape, storage);
}

void File::write_strings(const std::string& name, const std::vector<std::string>& values) {
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& v : values) ptrs.push_back(v.c_str());
  const Id type = var_string_type();
  write_dataset(id_, path_, name, type.get(), type.get(), ptrs.data(),
                {static_cast<int64_t>(values.size())}, {});
}

void File::create_growing(const std::string& name, int64_t rows, int64_t chunk_cols,
                          const Compression& compression) {
  make_parents(id_, name, path_);
  const hsize_t dims[2] = {static_cast<hsize_t>(rows), 0};
  const hsize_t maxdims[2] = {static_cast<hsize_t>(rows), H5S_UNLIMITED};
  const hsize_t chunk[2] = {static_cast<hsize_t>(std::max<int64_t>(rows, 1)),
                            static_cast<hsize_t>(std::max<int64_t>(chunk_cols, 1))};
  Id space(H5Screate_simple(2, dims, maxdims));
  Id plist(H5Pcreate(H5P_DATASET_CREATE));
  check(H5Pset_chunk(plist.get(), 2, chunk), path_, name + ": chunking");
  set_filters(plist.get(), compression, path_, name);
  Id ds(H5Dcreate2(id_, name.c_str(), H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, plist.get(),
                   H5P_DEFAULT));
  if (!ds.ok()) fail(path_, "cannot create dataset '" + name + "'");
}

void File::append_columns(const std::string& name, const float* data, int64_t rows, int64_t cols) {
  if (cols <= 0) return;
  Id ds(H5Dopen2(id_, name.c_str(), H5P_DEFAULT));
  if (!ds.ok()) fail(path_, "no dataset '" + name + "'");
  hsize_t dims[2] = {0, 0};
  {
    Id space(H5Dget_space(ds.get()));
    if (H5Sget_simple_extent_ndims(space.get()) != 2) fail(path_, name + ": not 2-D");
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  }
  if (dims[0] != static_cast<hsize_t>(rows)) fail(path_, name + ": appended rows differ");
  const hsize_t grown[2] = {dims[0], dims[1] + static_cast<hsize_t>(cols)};
  check(H5Dset_extent(ds.get(), grown), path_, "cannot grow dataset '" + name + "'");
  Id space(H5Dget_space(ds.get()));
  const hsize_t start[2] = {0, dims[1]};
  const hsize_t count[2] = {dims[0], static_cast<hsize_t>(cols)};
  check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), path_,
        name + ": column selection");
  Id mem(H5Screate_simple(2, count, nullptr));
  check(H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, mem.get(), space.get(), H5P_DEFAULT, data), path_,
        "cannot write dataset '" + name + "'");
}

void File::read_columns(const std::string& name, int64_t first, int64_t count, float* out) const {
  Id ds(H5Dopen2(id_, name.c_str(), H5P_DEFAULT));
  if (!ds.ok()) fail(path_, "no dataset '" + name + "'");
  Id space(H5Dget_space(ds.get()));
  if (H5Sget_simple_extent_ndims(space.get()) != 2) fail(path_, name + ": not 2-D");
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  if (first < 0 || count < 0 || static_cast<hsize_t>(first + count) > dims[1]) {
    fail(path_, name + ": columns [" + std::to_string(first) + ", " +
                    std::to_string(first + count) + ") out of range (" + std::to_string(dims[1]) +
                    " columns)");
  }
  if (count == 0 || dims[0] == 0) return;
  const hsize_t start[2] = {0, static_cast<hsize_t>(first)};
  const hsize_t extent[2] = {dims[0], static_cast<hsize_t>(count)};
  check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr), path_,
        name + ": column selection");
  Id mem(H5Screate_simple(2, extent, nullptr));
  if (H5Dread(ds.get(), H5T_NATIVE_FLOAT, mem.get(), space.get(), H5P_DEFAULT, out) < 0) {
    fail(path_, "cannot read columns of '" + name + "'" + filter_hint(ds.get()));
  }
}

std::vector<float> File::read_floats(const std::string& name, std::vector<int64_t>* shape) const {
  return read_all<float>(id_, path_, name, H5T_NATIVE_FLOAT, shape);
}
std::vector<double> File::read_doubles(const std::string& name) const {
  return read_all<double>(id_, path_, name, H5T_NATIVE_DOUBLE, nullptr);
}
std::vector<int32_t> File::read_ints(const std::string& name) const {
  return read_all<int32_t>(id_, path_, name, H5T_NATIVE_INT32, nullptr);
}
std::vector<int64_t> File::read_int64s(const std::string& name) const {
  return read_all<int64_t>(id_, path_, name, H5T_NATIVE_INT64, nullptr);
}

std::vector<std::string> File::read_strings(const std::string& name) const {
  Id ds(H5Dopen2(id_, name.c_str(), H5P_DEFAULT));
  if (!ds.ok()) fail(path_, "no dataset '" + name + "'");
  Id space(H5Dget_space(ds.get()));
  const auto n = static_cast<size_t>(H5Sget_simple_extent_npoints(space.get()));
  std::vector<char*> ptrs(n, nullptr);
  const Id type = stored_string_type(H5Dget_type(ds.get()));
  std::vector<std::string> out;
  if (n == 0) return out;
  check(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), path_,
        "cannot read strings '" + name + "'");
  out.reserve(n);
  for (char* p : ptrs) out.emplace_back(p != nullptr ? p : "");
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, ptrs.data());
  return out;
}

void File::read_float_rows(const std::string& name, int64_t first, int64_t count,
                           float* out) const {
  Id ds(H5Dopen2(id_, name.c_str(), H5P_DEFAULT));
  if (!ds.ok()) fail(path_, "no dataset '" + name + "'");
  Id space(H5Dget_space(ds.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 1) fail(path_, name + ": a scalar has no rows");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  if (first < 0 || count < 0 || static_cast<hsize_t>(first + count) > dims[0]) {
    std::ostringstream m;
    m << name << ": rows [" << first << ", " << first + count << ") out of range (" << dims[0]
      << " rows)";
    fail(path_, m.str());
  }
  std::vector<hsize_t> start(dims.size(), 0), extent = dims;
  start[0] = static_cast<hsize_t>(first);
  extent[0] = static_cast<hsize_t>(count);
  check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(),
                            nullptr),
        path_, name + ": row selection");
  Id mem(H5Screate_simple(rank, extent.data(), nullptr));
  if (H5Dread(ds.get(), H5T_NATIVE_FLOAT, mem.get(), space.get(), H5P_DEFAULT, out) < 0) {
    fail(path_, "cannot read rows of '" + name + "'" + filter_hint(ds.get()));
  }
}

std::vector<float> File::read_float_rows(const std::string& name, int64_t first,
                                         int64_t count) const {
  const auto s = shape(name);
  int64_t per_row = 1;
  for (size_t i = 1; i < s.size(); ++i) per_row *= s[i];
  std::vector<float> out(static_cast<size_t>(count * per_row));
  read_float_rows(name, first, count, out.data());
  return out;
}

namespace {

void write_attr(hid_t file, const std::filesystem::path& path, const std::string& object,
                const std::string& name, hid_t type, hid_t space, const void* data) {
  if (H5Aexists_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT) > 0) {
    H5Adelete_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT);
  }
  Id a(H5Acreate_by_name(file, object.c_str(), name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT));
  if (!a.ok()) fail(path, "cannot create attribute '" + name + "' on '" + object + "'");
  check(H5Awrite(a.get(), type, data), path, "cannot write attribute '" + name + "'");
}

Id open_attr(hid_t file, const std::filesystem::path& path, const std::string& object,
             const std::string& name) {
  Id a(H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.ok()) fail(path, "no attribute '" + name + "' on '" + object + "'");
  return a;
}

}  // namespace

void File::set_attr(const std::string& object, const std::string& name, const std::string& value) {
  const Id type = var_string_type();
  Id space(H5Screate(H5S_SCALAR));
  const char* p = value.c_str();
  write_attr(id_, path_, object, name, type.get(), space.get(), &p);
}

void File::set_attr(const std::string& object, const std::string& name, double value) {
  Id space(H5Screate(H5S_SCALAR));
  write_attr(id_, path_, object, name, H5T_NATIVE_DOUBLE, space.get(), &value);
}

void File::set_attr(const std::string& object, const std::string& name, int64_t value) {
  Id space(H5Screate(H5S_SCALAR));
  write_attr(id_, path_, object, name, H5T_NATIVE_INT64, space.get(), &value);
}

void File::set_attr(const std::string& object, const std::string& name,
                    const std::vector<std::string>& values) {
  const Id type = var_string_type();
  const hsize_t n = values.size();
  Id space(H5Screate_simple(1, &n, nullptr));
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  write_attr(id_, path_, object, name, type.get(), space.get(), ptrs.data());
}

bool File::has_attr(const std::string& object, const std::string& name) const {
  return has(object) && H5Aexists_by_name(id_, object.c_str(), name.c_str(), H5P_DEFAULT) > 0;
}

std::string File::attr_string(const std::string& object, const std::string& name) const {
  const Id a = open_attr(id_, path_, object, name);
  Id ftype(H5Aget_type(a.get()));
  if (H5Tget_class(ftype.get()) != H5T_STRING) fail(path_, "attribute '" + name + "' is not text");
  if (H5Tis_variable_str(ftype.get()) > 0) {
    char* s = nullptr;
    const Id type = var_string_type(H5Tget_cset(ftype.get()));
    check(H5Aread(a.get(), type.get(), &s), path_, "cannot read attribute '" + name + "'");
    std::string out = s != nullptr ? s : "";
    H5free_memory(s);
    return out;
  }
  std::string out(H5Tget_size(ftype.get()), '\0');
  check(H5Aread(a.get(), ftype.get(), out.data()), path_, "cannot read attribute '" + name + "'");
  return out.c_str();
}

double File::attr_double(const std::string& object, const std::string& name) const {
  const Id a = open_attr(id_, path_, object, name);
  double v = 0;
  check(H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v), path_, "cannot read attribute '" + name + "'");
  return v;
}

int64_t File::attr_int(const std::string& object, const std::string& name) const {
  const Id a = open_attr(id_, path_, object, name);
  int64_t v = 0;
  check(H5Aread(a.get(), H5T_NATIVE_INT64, &v), path_, "cannot read attribute '" + name + "'");
  return v;
}

std::vector<std::string> File::attr_strings(const std::string& object,
                                            const std::string& name) const {
  const Id a = open_attr(id_, path_, object, name);
  Id space(H5Aget_space(a.get()));
  const auto n = static_cast<size_t>(H5Sget_simple_extent_npoints(space.get()));
  std::vector<char*> ptrs(n, nullptr);
  const Id type = stored_string_type(H5Aget_type(a.get()));
  check(H5Aread(a.get(), type.get(), ptrs.data()), path_, "cannot read attribute '" + name + "'");
  std::vector<std::string> out;
  for (char* p : ptrs) out.emplace_back(p != nullptr ? p : "");
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, ptrs.data());
  return out;
}

}  // namespace hptrain::h5
