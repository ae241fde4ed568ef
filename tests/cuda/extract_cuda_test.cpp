// cuda::FeatureExtractor (the GPU features::extract) against the CPU extract: the four librosa
// reference clips, a ragged batch against each clip alone, batched = one-by-one, and the
// resources' errors. Skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "gpu_fixture.h"
#include "hptrain/cuda/extract.h"
#include "hptrain/features/extract.h"
#include "hptrain/features/tables.h"

namespace hptrain::cuda::test {
namespace {

// Whole-set tolerances: every feature inherits the STFT's last-bit differences (both FFTs are
// float64) on top of its own kernel's (see features_cuda_test.cpp).
constexpr double kSpecAtol = 1e-6, kSpecRtol = 5e-5;    // |STFT|, mel, chroma
constexpr double kDbAtol = 2e-3, kDbRtol = 1e-5;        // log-mel, MFCC and deltas, contrast (dB)
constexpr double kFrameAtol = 1e-7, kFrameRtol = 1e-6;  // ZCR, RMS
constexpr double kStatsAtol = 2e-4, kStatsRtol = 1e-4;  // means and stds of the above

// features::extract on the CPU even where it would dispatch to this GPU.
features::FeatureSet cpu_extract(const features::FeatureConfig& cfg, const float* y, int64_t batch,
                                 int64_t n, const features::FeatureSelection& w) {
  const char* old = std::getenv("HP_FORCE_CPU");
  const std::string saved = old != nullptr ? old : "";
  setenv("HP_FORCE_CPU", "1", 1);
  features::FeatureSet fs = features::extract(cfg, y, batch, n, w);
  if (old != nullptr) {
    setenv("HP_FORCE_CPU", saved.c_str(), 1);
  } else {
    unsetenv("HP_FORCE_CPU");
  }
  return fs;
}

struct Named {
  const char* name;
  const Tensor3 features::FeatureSet::*member;
  double atol, rtol;
};
const Named kOutputs[] = {
    {"stft_mag", &features::FeatureSet::stft_mag, kSpecAtol, kSpecRtol},
    {"melspectrogram", &features::FeatureSet::melspectrogram, kSpecAtol, kSpecRtol},
    {"log_mel", &features::FeatureSet::log_mel, kDbAtol, kDbRtol},
    {"mfcc", &features::FeatureSet::mfcc, kDbAtol, kDbRtol},
    {"mfcc_delta", &features::FeatureSet::mfcc_delta, kDbAtol, kDbRtol},
    {"mfcc_delta2", &features::FeatureSet::mfcc_delta2, kDbAtol, kDbRtol},
    {"chroma_stft", &features::FeatureSet::chroma_stft, kSpecAtol, kSpecRtol},
    {"spectral_contrast", &features::FeatureSet::spectral_contrast, kDbAtol, kDbRtol},
    {"zcr", &features::FeatureSet::zcr, kFrameAtol, kFrameRtol},
    {"rms", &features::FeatureSet::rms, kFrameAtol, kFrameRtol},
    {"stats", &features::FeatureSet::stats, kStatsAtol, kStatsRtol},
};

// Item b (its first `frames` frames; all when -1) of every output of gpu against cpu's item c.
void expect_same(const features::FeatureSet& gpu, int64_t b, const features::FeatureSet& cpu,
                 int64_t c, const std::string& what) {
  ASSERT_EQ(gpu.tuning.size() > 0, cpu.tuning.size() > 0) << what;
  if (!cpu.tuning.empty()) {
    EXPECT_NEAR(gpu.tuning[b], cpu.tuning[c], 1e-9) << what << " tuning";
  }
  for (const Named& o : kOutputs) {
    const Tensor3& g = gpu.*o.member;
    const Tensor3& r = cpu.*o.member;
    ASSERT_EQ(g.batch == 0, r.batch == 0) << what << " " << o.name;
    if (r.batch == 0) continue;
    ASSERT_EQ(g.rows, r.rows) << what << " " << o.name;
    ASSERT_LE(r.frames, g.frames) << what << " " << o.name;
    const std::vector<float> got = item_frames(g, b, r.frames);
    const std::vector<float> want(r.item(c), r.item(c) + r.rows * r.frames);
    ASSERT_TRUE(all_close(what + " " + o.name, got, want, o.atol, o.rtol));
  }
}

struct RefFile {
  std::string name, preset;
};
std::ostream& operator<<(std::ostream& os, const RefFile& f) {
  return os << f.name;
}

class Reference : public ::testing::TestWithParam<RefFile> {};

TEST_P(Reference, GpuExtractMatchesCpu) {
  HP_REQUIRE_GPU();
  const RefFile& f = GetParam();
  const hptrain::test::H5File h5(
      hptrain::test::data_path("reference/" + f.name + "." + f.preset + ".h5"));
  const std::vector<float> y = h5.floats("y");
  const features::FeatureConfig cfg = features::preset(f.preset);
  const int64_t n = static_cast<int64_t>(y.size());
  features::FeatureSelection what;
  what.deltas = what.stats = features::n_frames(cfg, n) >= cfg.delta.width;
  const features::FeatureSet cpu = cpu_extract(cfg, y.data(), 1, n, what);
  for (const FftFraming framing : {FftFraming::kernel, FftFraming::callbacks}) {
    FeatureExtractor gpu(cfg, features::feature_tables(cfg), true, framing);
    const features::FeatureSet g = gpu.extract(y.data(), 1, n, what);
    expect_same(g, 0, cpu, 0, f.name + (framing == FftFraming::kernel ? " kernel" : " callbacks"));
  }
}

INSTANTIATE_TEST_SUITE_P(Clips, Reference,
                         ::testing::Values(RefFile{"speech_hedgewars_16k", "speech"},
                                           RefFile{"music_wesnoth_16k", "speech"},
                                           RefFile{"short_wesnoth_16k", "speech"},
                                           RefFile{"music_wesnoth_22k", "librosa-default"}),
                         [](const auto& info) { return info.param.name; });

class Extract : public ::testing::TestWithParam<Case> {};

TEST_P(Extract, BatchedEqualsEachClipAlone) {
  HP_REQUIRE_GPU();
  const Case& c = GetParam();
  const std::vector<float> y = random_audio(c);
  const std::vector<int64_t> lengths =
      c.ragged ? random_lengths(c) : std::vector<int64_t>(c.batch, c.n_samples);
  features::FeatureSelection what;
  int64_t shortest = c.n_samples;
  for (const int64_t n : lengths) shortest = std::min(shortest, n);
  what.deltas = what.stats = features::n_frames(c.cfg, shortest) >= c.cfg.delta.width;
  if (!c.cfg.zcr.center && shortest < c.cfg.zcr.frame_length) GTEST_SKIP() << "clip too short";
  FeatureExtractor gpu(c.cfg, features::feature_tables(c.cfg));
  const features::FeatureSet batched =
      gpu.extract(y.data(), c.batch, c.n_samples, what, c.ragged ? lengths.data() : nullptr);
  // Every item, not the first few: item 256 of 257 is where a batch-stride or grid-size slip
  // shows. Equal lengths: the CPU reference is one batched call (the CPU's batched = one-by-one
  // is its own test); ragged: one CPU call per item.
  const features::FeatureSet cpu_all =
      c.ragged ? features::FeatureSet{} : cpu_extract(c.cfg, y.data(), c.batch, c.n_samples, what);
  for (int64_t b = 0; b < c.batch; ++b) {
    const float* item = y.data() + b * c.n_samples;
    const std::string what_item = c.name + " item " + std::to_string(b);
    if (c.ragged) {
      expect_same(batched, b, cpu_extract(c.cfg, item, 1, lengths[b], what), 0, what_item + " cpu");
    } else {
      expect_same(batched, b, cpu_all, b, what_item + " cpu");
    }
    expect_same(batched, b, gpu.extract(item, 1, lengths[b], what), 0, what_item + " gpu alone");
  }
}

// The mel chain alone (no chroma, no |STFT| or contrast): the extractor fuses |X|^2 into the mel
// product when mel.power is 2, and power_to_db into the DCT, and must still equal the CPU,
// whichever frames the STFT, with the mel and log-mel spectrograms kept or MFCC alone (the
// log-mel spectrogram then never written).
TEST_P(Extract, MelChainAloneEqualsCpu) {
  HP_REQUIRE_GPU();
  const Case& c = GetParam();
  const std::vector<float> y = random_audio(c);
  const std::vector<int64_t> lengths =
      c.ragged ? random_lengths(c) : std::vector<int64_t>(c.batch, c.n_samples);
  const features::FeatureSelection chain{false, true,  true,  true,  false,
                                         false, false, false, false, false};
  const features::FeatureSelection mfcc_alone{false, false, false, true,  false,
                                              false, false, false, false, false};
  for (const features::FeatureSelection& what : {chain, mfcc_alone}) {
    const std::string selection = what.log_mel ? " mel chain" : " mfcc alone";
    // every item (see BatchedEqualsEachClipAlone): one batched CPU call for equal lengths
    std::vector<features::FeatureSet> cpu;
    if (!c.ragged) cpu.push_back(cpu_extract(c.cfg, y.data(), c.batch, c.n_samples, what));
    for (int64_t b = 0; b < c.batch && c.ragged; ++b) {
      cpu.push_back(cpu_extract(c.cfg, y.data() + b * c.n_samples, 1, lengths[b], what));
    }
    for (const FftFraming framing : {FftFraming::kernel, FftFraming::callbacks}) {
      FeatureExtractor gpu(c.cfg, features::feature_tables(c.cfg), true, framing);
      const features::FeatureSet batched =
          gpu.extract(y.data(), c.batch, c.n_samples, what, c.ragged ? lengths.data() : nullptr);
      EXPECT_TRUE(batched.tuning.empty());
      EXPECT_EQ(batched.log_mel.batch, what.log_mel ? c.batch : 0) << c.name << selection;
      for (int64_t b = 0; b < c.batch; ++b) {
        expect_same(batched, b, c.ragged ? cpu[static_cast<size_t>(b)] : cpu[0], c.ragged ? 0 : b,
                    c.name + selection +
                        (framing == FftFraming::kernel ? " kernel" : " callbacks") + " item " +
                        std::to_string(b));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Extract, ::testing::ValuesIn(twin_cases()),
                         [](const auto& info) { return info.param.name; });

// CudaErrors provoke API errors on purpose: run compute-sanitizer with
// --gtest_filter=-CudaErrors.* (it reports every failed API call).
TEST(CudaErrors, OutOfMemorySaysHowMuch) {
  HP_REQUIRE_GPU();
  try {
    DeviceBuffer<char> huge(size_t{1} << 50, nullptr);
    FAIL() << "a 1 PiB allocation succeeded";
  } catch (const DeviceOutOfMemory& e) {
    EXPECT_NE(std::string(e.what()).find("out of device memory: asked 1048576.00 GiB"),
              std::string::npos)
        << e.what();
  }
  DeviceBuffer<float> after(1024, nullptr);  // the pool still works
  EXPECT_NE(after.data(), nullptr);
}

TEST(CudaErrors, ErrorsNameTheCallAndCode) {
  HP_REQUIRE_GPU();
  try {
    HP_CUDA_CHECK(cudaSetDevice(1 << 20));
    FAIL() << "cudaSetDevice on a missing device succeeded";
  } catch (const CudaError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cudaSetDevice(1 << 20): cudaErrorInvalidDevice at "), std::string::npos) << m;
    EXPECT_NE(m.find("extract_cuda_test.cpp:"), std::string::npos) << m;
  }
  cudaGetLastError();
}

TEST(CudaResources, PlansAreCachedPerShape) {
  HP_REQUIRE_GPU();
  Context ctx;
  const FftPlan& a = ctx.fft(FftKey{512, 301, true});
  EXPECT_EQ(&a, &ctx.fft(FftKey{512, 301, true}));
  EXPECT_NE(&a, &ctx.fft(FftKey{512, 302, true}));
  EXPECT_NE(&a, &ctx.fft(FftKey{512, 301, false}));
}

// Where cuFFT cannot make the callbacks' plan (here: no GPU), `automatic` frames with the kernel
// and `callbacks` says which call failed.
TEST(CudaResources, AutomaticFramingFallsBackWhereCallbacksCannotBeMade) {
  if (gpu_available()) GTEST_SKIP() << "cuFFT makes the plan on this machine (next test)";
  Context automatic(FftFraming::automatic);
  EXPECT_EQ(automatic.stft_callback_plan(512, 301, true, nullptr), nullptr);
  EXPECT_EQ(automatic.stft_callback_plan(512, 301, true, nullptr), nullptr);  // no second try
  Context callbacks(FftFraming::callbacks);
  try {
    callbacks.stft_callback_plan(512, 301, true, nullptr);
    FAIL() << "no error";
  } catch (const CudaError& e) {
    EXPECT_NE(std::string(e.what()).find(" at "), std::string::npos) << e.what();
  }
}

// Plans with callbacks: one per shape and stream (their arguments are set in the stream's order),
// none at all for the framing kernel; linking them works on this machine's cuFFT and nvJitLink,
// so the default (automatic) frames with them.
TEST(CudaResources, CallbackPlansPerShapeAndStream) {
  HP_REQUIRE_GPU();
  Context framed_by_kernel(FftFraming::kernel);
  EXPECT_EQ(framed_by_kernel.stft_callback_plan(512, 301, true, nullptr), nullptr);
  Context by_default;
  EXPECT_NE(by_default.stft_callback_plan(512, 301, true, nullptr), nullptr);
  Context ctx(FftFraming::callbacks);
  Stream other;
  const FftPlan* a = ctx.stft_callback_plan(512, 301, true, nullptr);
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a->callback_info(), nullptr);
  EXPECT_EQ(a, ctx.stft_callback_plan(512, 301, true, nullptr));
  EXPECT_NE(a, ctx.stft_callback_plan(512, 301, true, other.get()));
  EXPECT_NE(a, ctx.stft_callback_plan(480, 301, false, nullptr));
  EXPECT_NE(a, &ctx.fft(FftKey{512, 301, true}));
}

}  // namespace
}  // namespace hptrain::cuda::test
