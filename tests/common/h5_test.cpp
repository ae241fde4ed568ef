// HDF5 wrapper: round trips of every dataset and attribute type, row reads, clear errors.
#include "hptrain/h5.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "hptrain/error.h"
#include "support/support.h"

namespace hptrain::h5 {
namespace {

TEST(H5, RoundTripsDatasetsAndAttributes) {
  test::TempDir dir;
  const std::vector<float> f = {1.5f, -2.0f, 3.25f, 4.0f, 5.0f, 6.0f};
  const std::vector<int32_t> i = {3, 1, 2};
  const std::vector<int64_t> l = {1LL << 40, -7};
  const std::vector<double> d = {0.1, 0.2};
  {
    auto file = File::create(dir / "a.h5");
    file.write("x", f.data(), {3, 2}, Storage{{1, 2}, Compression::gzip(4)});
    file.write("labels/scene", i.data(), {3});
    file.write("big", l.data(), {2});
    file.write("d", d.data(), {2});
    file.write_strings("source", {"a.wav", "", "c.wav"});
    file.set_attr("/", "name", std::string("demo"));
    file.set_attr("/", "version", int64_t{3});
    file.set_attr("x", "scale", 0.5);
    file.set_attr("labels/scene", "classes", std::vector<std::string>{"action", "dialog"});
    file.close();
  }
  const auto file = File::open_read(dir / "a.h5");
  std::vector<int64_t> shape;
  EXPECT_EQ(file.read_floats("x", &shape), f);
  EXPECT_EQ(shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(file.read_float_rows("x", 1, 2), (std::vector<float>{3.25f, 4.0f, 5.0f, 6.0f}));
  EXPECT_EQ(file.read_ints("labels/scene"), i);
  EXPECT_EQ(file.read_int64s("big"), l);
  EXPECT_EQ(file.read_doubles("d"), d);
  EXPECT_EQ(file.read_strings("source"), (std::vector<std::string>{"a.wav", "", "c.wav"}));
  EXPECT_EQ(file.attr_string("/", "name"), "demo");
  EXPECT_EQ(file.attr_int("/", "version"), 3);
  EXPECT_DOUBLE_EQ(file.attr_double("x", "scale"), 0.5);
  EXPECT_EQ(file.attr_strings("labels/scene", "classes"),
            (std::vector<std::string>{"action", "dialog"}));
  EXPECT_TRUE(file.has("labels/scene"));
  EXPECT_FALSE(file.has("labels/character"));
  EXPECT_FALSE(file.has("nothing/at/all"));
  EXPECT_TRUE(file.has_attr("x", "scale"));
  EXPECT_FALSE(file.has_attr("x", "offset"));
}

TEST(H5, CompressionParsesAndNamesTheKey) {
  EXPECT_EQ(Compression::parse("none"), Compression{});
  EXPECT_EQ(Compression::parse("gzip"), Compression::gzip(4));
  EXPECT_EQ(Compression::parse("gzip:9"), Compression::gzip(9));
  EXPECT_EQ(Compression::parse("lzf"), Compression::lzf());
  for (const char* s : {"none", "gzip:1", "gzip:6", "lzf"})
    EXPECT_EQ(Compression::parse(s).str(), s);
  for (const char* s : {"gzip:0", "gzip:10", "zstd", "", "GZIP", "gzip:"}) {
    try {
      Compression::parse(s, "data.toml: compression");
      ADD_FAILURE() << s;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("data.toml: compression = '"), std::string::npos)
          << e.what();
    }
  }
}

// Every compression gives the values back (whole and by rows); compressible data shrinks under
// gzip and lzf, and more under gzip 4 than gzip 1.
TEST(H5, EveryCompressionRoundTrips) {
  test::TempDir dir;
  std::vector<float> x(64 * 1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i % 64) * 0.25 + i / 64);
  std::map<std::string, std::uintmax_t> size;
  for (const char* c : {"none", "gzip:1", "gzip:4", "lzf"}) {
    const Compression comp = Compression::parse(c);
    std::string stem = c;
    std::replace(stem.begin(), stem.end(), ':', '-');
    const auto path = dir / (stem + ".h5");
    {
      auto f = File::create(path);
      f.write("x", x.data(), {64, 1000}, Storage{{64, 256}, comp});
      f.close();
    }
    size[c] = std::filesystem::file_size(path);
    auto f = File::open_read(path);
    std::vector<int64_t> shape;
    EXPECT_EQ(f.read_floats("x", &shape), x) << c;
    EXPECT_EQ(shape, (std::vector<int64_t>{64, 1000}));
    EXPECT_EQ(f.read_float_rows("x", 3, 2),
              std::vector<float>(x.begin() + 3 * 1000, x.begin() + 5 * 1000));
  }
  EXPECT_GT(size["none"], x.size() * 4);
  EXPECT_LT(size["gzip:1"], size["none"] / 2);
  EXPECT_LE(size["gzip:4"], size["gzip:1"]);
  EXPECT_LT(size["lzf"], size["none"] / 2);
}

// A growing dataset written in column blocks equals the same data written at once.
TEST(H5, GrowingDatasetAppendsColumns) {
  test::TempDir dir;
  const int64_t rows = 3, cols = 10;
  std::vector<float> whole(rows * cols);
  for (size_t i = 0; i < whole.size(); ++i) whole[i] = static_cast<float>(i) - 7.5f;
  {
    auto f = File::create(dir / "g.h5");
    f.create_growing("a/x", rows, 4, Compression::gzip(1));
    for (int64_t c0 = 0; c0 < cols; c0 += 3) {
      const int64_t n = std::min<int64_t>(3, cols - c0);
      std::vector<float> block(rows * n);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < n; ++c) block[r * n + c] = whole[r * cols + c0 + c];
      f.append_columns("a/x", block.data(), rows, n);
    }
    EXPECT_THROW(f.append_columns("a/x", whole.data(), rows + 1, 1), InputError);
    f.close();
  }
  auto f = File::open_read(dir / "g.h5");
  std::vector<int64_t> shape;
  EXPECT_EQ(f.read_floats("a/x", &shape), whole);
  EXPECT_EQ(shape, (std::vector<int64_t>{rows, cols}));
}

TEST(H5, ReadsTheLibrosaReferenceFiles) {
  const auto file = File::open_read(test::data_path("reference/speech_hedgewars_16k.speech.h5"));
  EXPECT_EQ(file.shape("log_mel"), (std::vector<int64_t>{64, 301}));
  EXPECT_EQ(file.attr_int("/", "n_fft"), 512);
  EXPECT_EQ(file.attr_string("/", "window"), "hann");
}

TEST(H5, ErrorsNameTheFileAndObject) {
  test::TempDir dir;
  try {
    File::open_read(dir / "missing.h5");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.h5"), std::string::npos);
  }
  {
    auto f = File::create(dir / "a.h5");
    const float v = 1;
    f.write("x", &v, {1});
  }
  const auto f = File::open_read(dir / "a.h5");
  try {
    f.read_floats("y");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no dataset 'y'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(f.read_float_rows("x", 0, 2), InputError);
  std::ofstream(dir / "junk.h5") << "not hdf5";
  EXPECT_THROW(File::open_read(dir / "junk.h5"), InputError);
}

// A file built in memory is written by close() (and reads back as any other), never by the
// destructor alone; a full disk (/dev/full) is the OS's reason, naming the file.
TEST(H5, InMemoryFileIsWrittenByCloseOnly) {
  test::TempDir dir;
  const std::vector<float> v = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  {
    File f = File::create_in_memory(dir / "kept.h5");
    f.write("x", v.data(), {2, 3}, Storage{{1, 3}, Compression::gzip(4)});
    f.set_attr("/", "name", std::string("kept"));
    EXPECT_FALSE(std::filesystem::exists(dir / "kept.h5"));
    f.close();
  }
  const File r = File::open_read(dir / "kept.h5");
  std::vector<int64_t> shape;
  EXPECT_EQ(r.read_floats("x", &shape), v);
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r.attr_string("/", "name"), "kept");
  {
    File f = File::create_in_memory(dir / "dropped.h5");
    f.write("x", v.data(), {6});
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "dropped.h5"));
  File full = File::create_in_memory("/dev/full");
  full.write("x", v.data(), {6});
  try {
    full.close();
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write '/dev/full': No space left on device");
  }
}

}  // namespace
}  // namespace hptrain::h5
