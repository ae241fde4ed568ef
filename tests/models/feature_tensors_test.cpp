// models::to_tensor / to_tensors: host features become CPU tensors over the same memory; the GPU
// extractor's outputs become CUDA tensors over the device memory (LibTorch with CUDA) or one
// host copy each, equal to FeatureExtractor::extract's. The GPU case skips without a device.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "hptrain/features/config.h"
#include "hptrain/features/extract.h"
#include "hptrain/models/feature_tensors.h"
#include "support/support.h"

#ifdef HP_WITH_CUDA
#include "hptrain/cuda/extract.h"
#include "hptrain/features/tables.h"
#endif

namespace hptrain::models {
namespace {

std::vector<float> noise(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<float> y(static_cast<size_t>(n));
  for (float& v : y) v = u(rng);
  return y;
}

// t [batch, rows, frames] float32 on the CPU holds exactly `want`.
void expect_values(const torch::Tensor& t, const Tensor3& want, const std::string& what) {
  ASSERT_TRUE(t.defined()) << what;
  ASSERT_EQ(t.sizes(), torch::IntArrayRef({want.batch, want.rows, want.frames})) << what;
  const torch::Tensor c = t.to(torch::kCPU).contiguous();
  ASSERT_EQ(c.scalar_type(), torch::kFloat) << what;
  const float* p = c.data_ptr<float>();
  for (size_t i = 0; i < want.data.size(); ++i) {
    ASSERT_EQ(p[i], want.data[i]) << what << " at " << i;
  }
}

// Every output of `want` but the magnitude STFT, which the callers check themselves.
void expect_outputs(const FeatureTensors& t, const features::FeatureSet& want) {
  expect_values(t.melspectrogram, want.melspectrogram, "melspectrogram");
  expect_values(t.log_mel, want.log_mel, "log_mel");
  expect_values(t.mfcc, want.mfcc, "mfcc");
  expect_values(t.mfcc_delta, want.mfcc_delta, "mfcc_delta");
  expect_values(t.mfcc_delta2, want.mfcc_delta2, "mfcc_delta2");
  expect_values(t.chroma_stft, want.chroma_stft, "chroma_stft");
  expect_values(t.spectral_contrast, want.spectral_contrast, "spectral_contrast");
  expect_values(t.zcr, want.zcr, "zcr");
  expect_values(t.rms, want.rms, "rms");
  expect_values(t.stats, want.stats, "stats");
}

TEST(FeatureTensors, HostTensorTakesOverTheMemory) {
  Tensor3 t(3, 4, 5);
  for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = static_cast<float>(i) * 0.5f;
  const Tensor3 copy = t;
  const float* before = t.data.data();
  const torch::Tensor x = to_tensor(std::move(t));
  EXPECT_EQ(x.data_ptr<float>(), before);  // no copy
  EXPECT_TRUE(t.data.empty());
  EXPECT_EQ(t.batch, 0);
  expect_values(x, copy, "tensor");
  EXPECT_FALSE(to_tensor(Tensor3()).defined());
}

TEST(FeatureTensors, FeatureSetMovesEveryOutput) {
  const features::FeatureConfig cfg = features::preset("speech");
  const int64_t batch = 2, n = 16000;
  const std::vector<float> y = noise(batch * n, 3);
  features::FeatureSelection what;
  what.stft_mag = false;  // stays undefined
  features::FeatureSet fs = features::extract(cfg, y.data(), batch, n, what);
  const features::FeatureSet want = fs;
  const float* mfcc = fs.mfcc.data.data();
  FeatureTensors t = to_tensors(std::move(fs));
  EXPECT_FALSE(t.stft_mag.defined());
  EXPECT_EQ(t.mfcc.data_ptr<float>(), mfcc);
  expect_outputs(t, want);
  ASSERT_EQ(t.tuning.numel(), batch);
  for (int64_t b = 0; b < batch; ++b) EXPECT_EQ(t.tuning[b].item<double>(), want.tuning[b]);
}

#ifdef HP_WITH_CUDA
TEST(FeatureTensors, DeviceOutputsEqualTheHostExtract) {
  HP_REQUIRE_GPU();
  const features::FeatureConfig cfg = features::preset("speech");  // tuning estimated
  const int64_t batch = 3, n = 24000;
  const std::vector<float> y = noise(batch * n, 5);
  cuda::FeatureExtractor ex(cfg, features::feature_tables(cfg));
  const features::FeatureSet want = ex.extract(y.data(), batch, n, {});
  const cuda::DeviceBuffer<float> d_y = cuda::to_device(y, ex.stream());
  cuda::DeviceFeatures d = ex.run(d_y.data(), nullptr, batch, n, {});
  const float* mfcc = d.mfcc.data();
  FeatureTensors t = to_tensors(std::move(d), ex.stream());
#ifdef HP_TORCH_CUDA
  EXPECT_TRUE(t.mfcc.is_cuda());
  EXPECT_EQ(t.mfcc.data_ptr<float>(), mfcc);  // no copy
#else
  EXPECT_FALSE(t.mfcc.is_cuda());
  EXPECT_NE(t.mfcc.data_ptr<float>(), mfcc);
#endif
  EXPECT_TRUE(d.mfcc.empty());
  // the same kernels on the same input: the same values (torch orders itself after the stream)
  expect_values(t.stft_mag, want.stft_mag, "stft_mag");
  expect_outputs(t, want);
  const torch::Tensor tuning = t.tuning.to(torch::kCPU);
  ASSERT_EQ(tuning.numel(), batch);
  for (int64_t b = 0; b < batch; ++b) EXPECT_EQ(tuning[b].item<double>(), want.tuning[b]);
  t = FeatureTensors();  // the buffers go back to the pool in torch's stream order
  HP_CUDA_CHECK(cudaDeviceSynchronize());
}
#endif

}  // namespace
}  // namespace hptrain::models
