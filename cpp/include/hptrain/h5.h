// A small RAII layer over the HDF5 C API: typed datasets (optionally chunked + compressed), row
// ranges of the first dimension, datasets that grow along their last dimension, string datasets
// and attributes. Group paths ("labels/scene") are created on write. Every error is an
// InputError naming the file and the object.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hptrain::h5 {

// Compression filter of a chunked dataset, with HDF5's byte-shuffle filter before it. gzip
// (deflate) is built into HDF5; lzf is h5py's filter (id 32000, its parameters), registered
// in-process on liblzf (Debian liblzf-dev), so no plugin is needed. h5py reads all three.
struct Compression {
  enum class Kind { none, gzip, lzf };
  Kind kind = Kind::none;
  int level = 4;  // gzip only, 1..9

  static Compression gzip(int level) { return {Kind::gzip, level}; }
  static Compression lzf() { return {Kind::lzf, 0}; }
  // "none", "gzip" (level 4), "gzip:N" (N in 1..9) or "lzf". Throws ConfigError naming `key`.
  static Compression parse(const std::string& text, const std::string& key = "compression");
  std::string str() const;  // parse(str()) == *this
  bool operator==(const Compression& o) const {
    return kind == o.kind && (kind != Kind::gzip || level == o.level);
  }
};

// Registers the LZF filter (once); true when HDF5 has it.
bool lzf_available();
// h5py's registered id of the LZF filter (lzf_filter.h: H5PY_FILTER_LZF).
inline constexpr int kLzfFilter = 32000;

// Storage of a new dataset: chunk shape (empty = contiguous, and then no compression).
struct Storage {
  std::vector<int64_t> chunk;
  Compression compression;
};

class File {
 public:
  static File create(const std::filesystem::path& path);  // new file, truncates
  // A new file built in memory (HDF5's core driver, no backing store) that close() writes to
  // `path` in one go (fs::write_bytes: on a full disk, an InputError with the OS's reason and
  // nothing of HDF5 left open); destroyed without close(), nothing is written. For files that
  // fit in memory (shards), so that a full disk never fails inside HDF5 (whose failed close
  // left the file half-open and crashed the process at exit).
  static File create_in_memory(const std::filesystem::path& path);
  static File open_read(const std::filesystem::path& path);  // read-only
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();
  void close();  // flushes and closes; errors throw (the destructor swallows them)

  const std::filesystem::path& path() const { return path_; }
  bool has(const std::string& name) const;  // dataset, group or attribute holder
  std::vector<int64_t> shape(const std::string& dataset) const;

  // Datasets of a given shape (product of shape == number of values).
  void write(const std::string& name, const float* data, const std::vector<int64_t>& shape,
             const Storage& storage = {});
  void write(const std::string& name, const double* data, const std::vector<int64_t>& shape,
             const Storage& storage = {});
  void write(const std::string& name, const int32_t* data, const std::vector<int64_t>& shape,
             const Storage& storage = {});
  void write(const std::string& name, const int64_t* data, const std::vector<int64_t>& shape,
             const Storage& storage = {});
  void write_strings(const std::string& name, const std::vector<std::string>& values);

  // A float32 dataset [rows, 0] that grows along its second dimension, chunked
  // [rows, chunk_cols]; append_columns adds `cols` columns of `data` ([rows, cols], row-major).
  void create_growing(const std::string& name, int64_t rows, int64_t chunk_cols,
                      const Compression& compression);
  void append_columns(const std::string& name, const float* data, int64_t rows, int64_t cols);
  // Columns [first, first+count) of a 2-D float dataset [rows, cols], into out [rows, count].
  void read_columns(const std::string& name, int64_t first, int64_t count, float* out) const;

  // Whole datasets (converted to the requested type by HDF5).
  std::vector<float> read_floats(const std::string& name,
                                 std::vector<int64_t>* shape = nullptr) const;
  std::vector<double> read_doubles(const std::string& name) const;
  std::vector<int32_t> read_ints(const std::string& name) const;
  std::vector<int64_t> read_int64s(const std::string& name) const;
  std::vector<std::string> read_strings(const std::string& name) const;
  // Rows [first, first+count) of the first dimension, all of the other dimensions.
  std::vector<float> read_float_rows(const std::string& name, int64_t first, int64_t count) const;
  void read_float_rows(const std::string& name, int64_t first, int64_t count, float* out) const;

  // Attributes on `object` ("/" for the file, or a dataset/group path).
  void set_attr(const std::string& object, const std::string& name, const std::string& value);
  void set_attr(const std::string& object, const std::string& name, double value);
  void set_attr(const std::string& object, const std::string& name, int64_t value);
  void set_attr(const std::string& object, const std::string& name,
                const std::vector<std::string>& values);
  bool has_attr(const std::string& object, const std::string& name) const;
  std::string attr_string(const std::string& object, const std::string& name) const;
  double attr_double(const std::string& object, const std::string& name) const;
  int64_t attr_int(const std::string& object, const std::string& name) const;
  std::vector<std::string> attr_strings(const std::string& object, const std::string& name) const;

 private:
  File(int64_t id, std::filesystem::path path, bool in_memory = false)
      : id_(id), path_(std::move(path)), in_memory_(in_memory) {}
  int64_t id_ = -1;
  std::filesystem::path path_;
  bool in_memory_ = false;  // create_in_memory: close() writes the image to path_
};

}  // namespace hptrain::h5
