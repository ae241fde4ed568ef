// The GPU's estimate_tuning (cuda/src/tuning.cu) against the CPU's. Skips without a GPU.
#include <gtest/gtest.h>

#include "twin_fixture.h"

namespace hptrain::cuda::test {
namespace {

// The tuning of every item equals the CPU's exactly: both run the same float32/float64
// operations per peak (features/tuning.h, no FMA contraction), the same median and the same
// histogram; only log2 comes from two libms, each within an ulp of float64 before the rounding
// to float32, so that a residual could differ only within 1e-16 of a float32 rounding boundary.
TEST_P(Twin, EstimateTuningEqualsCpu) {
  std::vector<Tensor3> items;
  const Tensor3 power = cpu_spec(2.0, &items);
  const DeviceBuffer<float> d_power = upload(power.data);
  DeviceBuffer<double> tuning(static_cast<size_t>(c_.batch), nullptr);
  DeviceBuffer<int> bank(static_cast<size_t>(c_.batch), nullptr);
  estimate_tuning(frames(d_power.data(), F_), cfg_.sr, tables_->pip_lo, tables_->pip_hi,
                  cfg_.chroma.n_chroma, tuning.data(), bank.data(), nullptr);
  const std::vector<double> gpu = download(tuning);
  const std::vector<int> gpu_bank = download(bank);
  for (int64_t b = 0; b < c_.batch; ++b) {
    const std::vector<float> own = c_.ragged ? items[b].data : item_frames(power, b, T_);
    const double cpu =
        features::estimate_tuning(own.data(), F_, valid(b), cfg_.sr, cfg_.chroma.n_chroma);
    EXPECT_EQ(gpu[b], cpu) << "item " << b << " seed " << c_.seed;
    const double of_bank =
        gpu_bank[b] < features::tuning::kBins ? features::tuning::edge(gpu_bank[b]) : 0.0;
    EXPECT_EQ(of_bank, gpu[b]) << "item " << b << ": bank " << gpu_bank[b];
  }
}

}  // namespace
}  // namespace hptrain::cuda::test
