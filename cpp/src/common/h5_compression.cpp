// The storage filters of h5.h: Compression's text form, and h5py's LZF filter registered in this
// process on liblzf.
#include <hdf5.h>
#include <lzf.h>

#include <cstdlib>
#include <string>

#include "hptrain/error.h"
#include "hptrain/h5.h"

namespace hptrain::h5 {

Compression Compression::parse(const std::string& text, const std::string& key) {
  auto bad = [&]() -> ConfigError {
    return ConfigError(key + " = '" + text + "': expected none, gzip, gzip:LEVEL (1-9) or lzf");
  };
  if (text == "none") return {};
  if (text == "lzf") return lzf();
  if (text == "gzip") return gzip(4);
  if (text.rfind("gzip:", 0) == 0 && text.size() == 6 && text[5] >= '1' && text[5] <= '9') {
    return gzip(text[5] - '0');
  }
  throw bad();
}

std::string Compression::str() const {
  switch (kind) {
    case Kind::none:
      return "none";
    case Kind::gzip:
      return "gzip:" + std::to_string(level);
    case Kind::lzf:
      return "lzf";
  }
  return "none";
}

namespace {

// h5py's LZF filter, registered in-process on liblzf (Debian's hdf5-plugin-lzf 3.7.0-8 is not
// linked with liblzf and fails to load). Same id and parameters, so h5py reads our files and we
// read h5py's. ref: h5py lzf/lzf_filter.c (lzf_set_local, lzf_filter)
herr_t lzf_set_local(hid_t dcpl, hid_t type, hid_t) {
  unsigned flags = 0;
  size_t nelements = 8;
  unsigned values[8] = {};
  if (H5Pget_filter_by_id2(dcpl, kLzfFilter, &flags, &nelements, values, 0, nullptr, nullptr) < 0)
    return -1;
  nelements = std::max<size_t>(nelements, 3);
  if (values[0] == 0) values[0] = 4;            // H5PY_FILTER_LZF_VERSION
  if (values[1] == 0) values[1] = LZF_VERSION;  // 0x0105
  hsize_t chunk[32];
  const int ndims = H5Pget_chunk(dcpl, 32, chunk);
  if (ndims < 0) return -1;
  size_t bytes = H5Tget_size(type);
  if (bytes == 0) return -1;
  for (int i = 0; i < ndims; ++i) bytes *= chunk[i];
  values[2] = static_cast<unsigned>(bytes);  // the decompressed chunk size, a buffer guess
  return H5Pmodify_filter(dcpl, kLzfFilter, flags, nelements, values) < 0 ? -1 : 1;
}

size_t lzf_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                  size_t* buf_size, void** buf) {
  void* out = nullptr;
  size_t out_size = 0;
  unsigned status = 0;
  if (!(flags & H5Z_FLAG_REVERSE)) {
    // no larger than the input: an incompressible chunk returns 0 and, the filter being
    // optional, HDF5 stores it as it is
    out_size = *buf_size;
    out = std::malloc(out_size);
    if (out == nullptr) return 0;
    status =
        lzf_compress(*buf, static_cast<unsigned>(nbytes), out, static_cast<unsigned>(out_size));
  } else {
    out_size = cd_nelmts >= 3 && cd_values[2] != 0 ? cd_values[2] : *buf_size;
    while (status == 0) {
      std::free(out);
      out = std::malloc(out_size);
      if (out == nullptr) return 0;
      status =
          lzf_decompress(*buf, static_cast<unsigned>(nbytes), out, static_cast<unsigned>(out_size));
      if (status == 0) {
        if (errno != E2BIG) break;
        out_size += *buf_size;
      }
    }
  }
  if (status == 0) {
    std::free(out);
    return 0;
  }
  std::free(*buf);
  *buf = out;
  *buf_size = out_size;
  return status;
}

// Registers the LZF filter once per process; false when HDF5 refuses it.
bool register_lzf() {
  static const bool ok = [] {
    if (H5Zfilter_avail(kLzfFilter) > 0) return true;  // h5py or a plugin came first
    static const H5Z_class2_t cls = {H5Z_CLASS_T_VERS, kLzfFilter,    1,         1, "lzf",
                                     nullptr,          lzf_set_local, lzf_filter};
    return H5Zregister(&cls) >= 0;
  }();
  return ok;
}

}  // namespace

bool lzf_available() {
  return register_lzf();
}

}  // namespace hptrain::h5
