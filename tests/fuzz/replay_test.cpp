// Replays every file of tests/data/fuzz/<target>/ (the seed corpus and, under crashes/, the
// inputs that once crashed a fuzzer) through the fuzz entry points of fuzz/targets.h, so that
// regressions show in the normal build without libFuzzer. A finding aborts the test binary.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <fstream>
#include <iterator>

#include "hptrain/csv.h"
#include "hptrain/data/manifest.h"
#include "hptrain/error.h"
#include "hptrain/io/audio.h"
#include "support/support.h"
#include "targets.h"

namespace hptrain::fuzz {

// gtest prints a target by its name (found by ADL), not as bytes
void PrintTo(const Target& t, std::ostream* os) {
  *os << t.name;
}

namespace {

namespace stdfs = std::filesystem;

std::vector<stdfs::path> inputs_of(const std::string& target) {
  std::vector<stdfs::path> out;
  const auto dir = test::data_path("fuzz/" + target);
  if (!stdfs::is_directory(dir)) return out;
  for (const auto& e : stdfs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string bytes_of(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class FuzzReplay : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzReplay, EveryCorpusFileRunsClean) {
  const Target& t = GetParam();
  if (!t.available) GTEST_SKIP() << t.name << " is not in this build";
  const auto files = inputs_of(t.name);
  ASSERT_FALSE(files.empty()) << "no seed corpus under tests/data/fuzz/" << t.name;
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    const std::string b = bytes_of(f);
    EXPECT_EQ(t.entry(reinterpret_cast<const uint8_t*>(b.data()), b.size()), 0);
  }
  // the empty input too (libFuzzer's first)
  const uint8_t none = 0;
  EXPECT_EQ(t.entry(&none, 0), 0);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay, ::testing::ValuesIn(targets()),
                         [](const ::testing::TestParamInfo<Target>& info) {
                           return std::string(info.param.name);
                         });

// Every corpus folder belongs to a target (a misnamed folder would never be replayed).
TEST(FuzzCorpus, EveryFolderIsATarget) {
  for (const auto& e : stdfs::directory_iterator(test::data_path("fuzz"))) {
    const std::string name = e.path().filename().string();
    const bool known = std::any_of(targets().begin(), targets().end(),
                                   [&](const Target& t) { return name == t.name; });
    EXPECT_TRUE(known) << "tests/data/fuzz/" << name << " is not a fuzz target";
  }
}

// Found by fuzz_manifest (crashes/crash-a1f7...): a path with a trailing blank (`"say "` in the
// manifest) was written unquoted to skipped.csv and read back trimmed. Every field written by
// csv_field reads back unchanged through the manifest reader.
TEST(FuzzRegression, CsvFieldReadsBackThroughParseCsv) {
  for (const std::string s : {"say ", " a", "\tb", "c\t", " ", "x", "a,b", "q\"q", "l\nm", ""}) {
    const auto rows = data::parse_csv(csv_field(s) + ",z\n", "t.csv");
    ASSERT_EQ(rows.size(), 1u) << "'" << s << "'";
    ASSERT_EQ(rows[0].fields.size(), 2u) << "'" << s << "'";
    EXPECT_EQ(rows[0].fields[0], s);
  }
}

// Found by fuzz_sndfile (crashes/crash-8bb3...): a float WAV whose channels hold finite values
// near FLT_MAX gave an infinite mono sample (the float sum overflowed), which the decoders
// promise never to return. The mean of the channels is finite, and exact here.
TEST(FuzzRegression, DownmixOfHugeFiniteSamplesStaysFinite) {
  test::TempDir dir;
  const auto path = (dir / "huge.wav").string();
  SF_INFO info{};
  info.samplerate = 8000;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE* sf = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(sf, nullptr) << sf_strerror(nullptr);
  const float frames[] = {FLT_MAX, FLT_MAX, -FLT_MAX, -FLT_MAX, FLT_MAX, -FLT_MAX, 0.5f, 0.25f};
  ASSERT_EQ(sf_writef_float(sf, frames, 4), 4);
  sf_close(sf);
  const auto mono = io::load_mono(path, 8000);
  ASSERT_EQ(mono.size(), 4u);
  EXPECT_EQ(mono[0], FLT_MAX);
  EXPECT_EQ(mono[1], -FLT_MAX);
  EXPECT_EQ(mono[2], 0.0f);
  EXPECT_EQ(mono[3], 0.375f);
}

// Found by fuzz_sndfile (crashes/crash-a7f1...): the same kind of samples through the resampler
// overflowed in soxr's filter and MonoReader returned inf. Now an InputError naming the file.
TEST(FuzzRegression, ResamplingHugeFiniteSamplesIsAnError) {
  test::TempDir dir;
  const auto path = (dir / "huge.wav").string();
  SF_INFO info{};
  info.samplerate = 8000;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE* sf = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(sf, nullptr) << sf_strerror(nullptr);
  std::vector<float> x(4000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = i % 2 ? FLT_MAX : -FLT_MAX;
  ASSERT_EQ(sf_writef_float(sf, x.data(), static_cast<sf_count_t>(x.size())),
            static_cast<sf_count_t>(x.size()));
  sf_close(sf);
  try {
    const auto mono = io::load_mono(path, 16000);
    for (float v : mono) ASSERT_TRUE(std::isfinite(v));
    FAIL() << "expected an InputError: soxr's filter overflows on +-FLT_MAX";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("huge.wav"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hptrain::fuzz
