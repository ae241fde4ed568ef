// HDF5 wrapper: round trips of every dataset and attribute type, row reads, clear errors.
#include "hptrain/h5.h"

#include <gtest/gtest.h>

#include <fstream>

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
    file.write("x", f.data(), {3, 2}, Storage{{1, 2}, 4});
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
    f.write("x", v.data(), {2, 3}, Storage{{1, 3}, 4});
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
