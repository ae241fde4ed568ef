// features::feature_tables (the GPU twins' one door to the CPU's tables) and the shared tuning
// arithmetic of features/tuning.h: the tables are the CPU's own, cached per config; the
// histogram bins follow np.histogram's edges.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "hptrain/features/config.h"
#include "hptrain/features/filters.h"
#include "hptrain/features/tables.h"
#include "hptrain/features/tuning.h"

namespace hptrain::features {
namespace {

TEST(FeatureTables, AreTheCpuTablesCachedPerConfig) {
  for (const char* name : {"speech", "librosa-default"}) {
    const FeatureConfig cfg = preset(name);
    const auto t = feature_tables(cfg);
    EXPECT_EQ(t.get(), feature_tables(cfg).get()) << name;
    const int n_bins = cfg.stft.n_fft / 2 + 1;
    EXPECT_EQ(t->window, stft_window(cfg.stft)) << name;
    EXPECT_EQ(t->mel_fb, mel_filter_bank(cfg.mel, cfg.sr, cfg.stft.n_fft)) << name;
    EXPECT_EQ(t->dct.size(), static_cast<size_t>(cfg.mfcc.n_mfcc * cfg.mel.n_mels)) << name;
    const size_t w = static_cast<size_t>(cfg.delta.width);
    EXPECT_EQ(t->savgol[0].size(), w * w) << name;
    EXPECT_EQ(t->savgol[1].size(), w * w) << name;
    const size_t bands = static_cast<size_t>(cfg.contrast.n_bands + 1);
    EXPECT_EQ(t->bands.first.size(), bands) << name;
    EXPECT_EQ(t->bands.count.size(), bands) << name;
    EXPECT_EQ(t->bands.q.size(), bands) << name;
    EXPECT_EQ(t->bands.first.back() + t->bands.count.back(), n_bins) << name;  // up to Nyquist
    // piptrack: 150 Hz <= f < min(4000, sr / 2)
    const double hz = static_cast<double>(cfg.sr) / cfg.stft.n_fft;
    EXPECT_GE(t->pip_lo * hz, tuning::kFmin) << name;
    EXPECT_LT((t->pip_lo - 1) * hz, tuning::kFmin) << name;
    EXPECT_LT((t->pip_hi - 1) * hz, tuning::kFmax) << name;
    EXPECT_GE(t->pip_hi * hz, tuning::kFmax) << name;
    // the presets estimate the tuning: a bank per tuning estimate_tuning can return
    EXPECT_TRUE(t->chroma_fixed.empty()) << name;
    const size_t bank = static_cast<size_t>(cfg.chroma.n_chroma * n_bins);
    ASSERT_EQ(t->chroma_banks.size(), kTuningBanks * bank) << name;
    for (const int i : {0, tuning::kBins / 2, 67, tuning::kBins}) {
      const double tuning = i < tuning::kBins ? tuning::edge(i) : 0.0;
      const auto first = t->chroma_banks.begin() + static_cast<std::ptrdiff_t>(i * bank);
      EXPECT_EQ(std::vector<float>(first, first + static_cast<std::ptrdiff_t>(bank)),
                chroma_filter_bank(cfg.chroma, cfg.sr, cfg.stft.n_fft, tuning))
          << name << " tuning " << tuning;
    }
    FeatureConfig fixed = cfg;
    fixed.chroma.tuning = 0.17;
    const auto f = feature_tables(fixed);
    EXPECT_TRUE(f->chroma_banks.empty()) << name;
    EXPECT_EQ(f->chroma_fixed, chroma_filter_bank(cfg.chroma, cfg.sr, cfg.stft.n_fft, 0.17))
        << name;
  }
}

TEST(TuningArithmetic, BinsFollowNumpyHistogramEdges) {
  EXPECT_EQ(tuning::edge(0), -0.5);
  EXPECT_EQ(tuning::edge(tuning::kBins / 2), 0.0);  // the "no pitch" tuning is a bin edge too
  EXPECT_EQ(tuning::edge(tuning::kBins), 0.5);
  // A4 = 440 Hz: 12 log2(440 / 27.5) = 48, residual 0: the bin whose left edge is 0
  EXPECT_EQ(tuning::bin_of(440.0f, 12), tuning::kBins / 2);
  // a quarter of a semitone sharp: residual 0.25, bin 75
  EXPECT_EQ(tuning::bin_of(static_cast<float>(440.0 * std::pow(2.0, 0.25 / 12)), 12), 75);
  // residuals fold into [-0.5, 0.5): 0.6 of a bin sharp is 0.4 flat, bin 10
  EXPECT_EQ(tuning::bin_of(static_cast<float>(440.0 * std::pow(2.0, 0.6 / 12)), 12), 10);
}

}  // namespace
}  // namespace hptrain::features
