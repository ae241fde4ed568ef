// Properties that hold whatever librosa says: Parseval, a tone's pitch class, RMS of a constant,
// ZCR of a square wave, frame counts of short clips, batched = one-by-one, frame ranges = one
// range.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "feature_checks.h"
#include "hptrain/error.h"
#include "hptrain/features/cpu.h"
#include "hptrain/features/extract.h"
#include "hptrain/features/filters.h"

namespace hptrain::features {
namespace {

constexpr double kPi = 3.14159265358979323846;

std::vector<float> noise(int64_t n, uint32_t seed, float scale = 0.3f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> y(static_cast<size_t>(n));
  for (float& v : y) v = dist(gen);
  return y;
}

std::vector<float> tone(double hz, int sr, int64_t n, float amp = 0.5f) {
  std::vector<float> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) y[i] = amp * static_cast<float>(std::sin(2 * kPi * hz * i / sr));
  return y;
}

// Parseval: sum_k c_k |X_k|^2 / n_fft = sum_n (w x)_n^2, c = 1 for DC and Nyquist, else 2.
TEST(StftProperties, ParsevalHoldsForEveryFrame) {
  for (const char* window : {"hann", "hamming", "boxcar"}) {
    StftConfig cfg = preset("speech").stft;
    cfg.window = window;
    cfg.center = false;
    const std::vector<float> y = noise(4000, 7);
    Tensor3 p;
    stft(cfg, y.data(), 1, 4000, p, 2.0);
    const std::vector<double> w = stft_window(cfg);
    for (int64_t t = 0; t < p.frames; ++t) {
      double time_energy = 0, freq_energy = 0;
      for (int i = 0; i < cfg.n_fft; ++i) {
        const double v = w[i] * y[t * cfg.hop() + i];
        time_energy += v * v;
      }
      for (int64_t k = 0; k < p.rows; ++k) {
        freq_energy += (k == 0 || k == p.rows - 1 ? 1.0 : 2.0) * p.at(0, k, t);
      }
      ASSERT_NEAR(freq_energy / cfg.n_fft, time_energy, 1e-5 * time_energy) << window << " " << t;
    }
  }
}

// A narrow window after a wide one at the same n_fft (the FFT buffers are reused per thread) gives
// the same spectrum as before: nothing of the wide window's samples is left around the narrow one.
TEST(StftProperties, WindowNarrowerThanBeforeLeavesNoStaleSamples) {
  StftConfig narrow = preset("speech").stft;  // n_fft 512, win_length 400
  StftConfig wide = narrow;
  wide.win_length = narrow.n_fft;
  const std::vector<float> y = noise(4000, 11);
  Tensor3 fresh, after_wide, w;
  stft(narrow, y.data(), 1, 4000, fresh, 1.0);
  stft(wide, y.data(), 1, 4000, w, 1.0);
  stft(narrow, y.data(), 1, 4000, after_wide, 1.0);
  EXPECT_EQ(after_wide.data, fresh.data);
}

// A pure tone's chroma peaks at its pitch class (C = row 0 with base_c), whether the tuning is
// given or estimated, and the estimate of an in-tune tone is near 0.
TEST(ChromaProperties, PureTonePeaksAtItsPitchClass) {
  const FeatureConfig cfg = preset("librosa-default");
  const struct {
    double hz;
    int pitch_class;
  } tones[] = {{440.0, 9}, {261.63, 0}, {329.63, 4}, {493.88, 11}};
  for (const auto& tn : tones) {
    const std::vector<float> y = tone(tn.hz, cfg.sr, cfg.sr);
    FeatureSelection what{false, false, false, false, false, true, false, false, false, false};
    for (bool estimate : {false, true}) {
      FeatureConfig c = cfg;
      if (!estimate) c.chroma.tuning = 0.0;
      const FeatureSet fs = extract(c, y.data(), 1, static_cast<int64_t>(y.size()), what);
      for (int64_t t = 2; t + 2 < fs.chroma_stft.frames; ++t) {  // away from the padded edges
        int best = 0;
        for (int r = 1; r < 12; ++r) {
          if (fs.chroma_stft.at(0, r, t) > fs.chroma_stft.at(0, best, t)) best = r;
        }
        ASSERT_EQ(best, tn.pitch_class) << tn.hz << " Hz, frame " << t;
        ASSERT_FLOAT_EQ(fs.chroma_stft.at(0, best, t), 1.0f);  // norm=inf
      }
      if (estimate) {
        // piptrack interpolates the power spectrum parabolically, which is biased by up to
        // ~0.1 bin for a Hann window at n_fft=2048: near 0, not 0
        EXPECT_NEAR(fs.tuning[0], 0.0, 0.15) << tn.hz << " Hz";
      }
    }
  }
}

// A tone 30 cents sharp is estimated near +0.3 bins.
TEST(ChromaProperties, TuningEstimateFollowsADetunedTone) {
  const FeatureConfig cfg = preset("librosa-default");
  const std::vector<float> y = tone(440.0 * std::pow(2.0, 0.3 / 12), cfg.sr, 2 * cfg.sr);
  Tensor3 p;
  stft(cfg.stft, y.data(), 1, static_cast<int64_t>(y.size()), p, 2.0);
  // (the same parabolic-interpolation bias as above)
  EXPECT_NEAR(estimate_tuning(p.item(0), p.rows, p.frames, cfg.sr), 0.3, 0.1);
}

TEST(RmsProperties, ConstantSignal) {
  RmsConfig cfg = preset("speech").rms;
  const std::vector<float> y(4800, -0.25f);
  Tensor3 r;
  rms(cfg, y.data(), 1, 4800, r);
  ASSERT_EQ(r.frames, 1 + 4800 / 160);
  // frame 0 is centred on sample 0: half of it is zero padding
  EXPECT_NEAR(r.at(0, 0, 0), 0.25 * std::sqrt(0.5), 1e-7);
  for (int64_t t = 2; t < r.frames - 2; ++t) EXPECT_NEAR(r.at(0, 0, t), 0.25, 1e-7) << t;
  cfg.pad_mode = "edge";
  rms(cfg, y.data(), 1, 4800, r);
  for (int64_t t = 0; t < r.frames; ++t) EXPECT_NEAR(r.at(0, 0, t), 0.25, 1e-7) << t;
}

// A square wave of half-period 16 changes sign at every multiple of 16: a 512-sample frame
// starting on one holds 31 crossings (the frame's first sample never counts).
TEST(ZcrProperties, SquareWave) {
  ZcrConfig cfg = preset("speech").zcr;
  cfg.center = false;
  std::vector<float> y(8000);
  for (size_t i = 0; i < y.size(); ++i) y[i] = (i / 16) % 2 == 0 ? 0.5f : -0.5f;
  Tensor3 z;
  zero_crossing_rate(cfg, y.data(), 1, 8000, z);
  ASSERT_EQ(z.frames, 1 + (8000 - 512) / 160);
  for (int64_t t = 0; t < z.frames; ++t) EXPECT_EQ(z.at(0, 0, t), 31.0f / 512) << t;
}

TEST(ZcrProperties, ZeroCountsAsPositiveOnlyWithZeroPos) {
  ZcrConfig cfg = preset("speech").zcr;
  std::vector<float> y(2000);
  for (size_t i = 0; i < y.size(); ++i) y[i] = i % 2 == 0 ? 1e-11f : 0.7f;  // 1e-11 is "zero"
  Tensor3 z;
  zero_crossing_rate(cfg, y.data(), 1, 2000, z);
  for (int64_t t = 0; t < z.frames; ++t) EXPECT_EQ(z.at(0, 0, t), 0.0f);
  cfg.zero_pos = false;
  zero_crossing_rate(cfg, y.data(), 1, 2000, z);
  for (int64_t t = 2; t + 2 < z.frames; ++t) EXPECT_EQ(z.at(0, 0, t), 511.0f / 512) << t;
}

// Shapes: centred framings give 1 + n // hop frames, also below n_fft; uncentred ones need a
// whole frame.
TEST(Shapes, ClipsShorterThanNfft) {
  for (const char* name : {"speech", "librosa-default"}) {
    const FeatureConfig cfg = preset(name);
    for (int64_t n : {int64_t{1}, int64_t{100}, int64_t{320}, int64_t{cfg.stft.n_fft} - 1}) {
      const std::vector<float> y = noise(n, 3);
      FeatureSelection what;
      what.deltas = what.stats = false;
      const FeatureSet fs = extract(cfg, y.data(), 1, n, what);
      const int64_t t = 1 + n / cfg.stft.hop();
      EXPECT_EQ(n_frames(cfg, n), t);
      for (const Tensor3* x : {&fs.stft_mag, &fs.melspectrogram, &fs.log_mel, &fs.mfcc,
                               &fs.chroma_stft, &fs.spectral_contrast}) {
        EXPECT_EQ(x->frames, t) << name << " n=" << n;
      }
      EXPECT_EQ(fs.zcr.frames, 1 + n / cfg.zcr.hop_length);
      EXPECT_EQ(fs.rms.frames, 1 + n / cfg.rms.hop_length);
      EXPECT_EQ(fs.stft_mag.rows, cfg.stft.n_fft / 2 + 1);
      EXPECT_EQ(fs.spectral_contrast.rows, cfg.contrast.n_bands + 1);
      for (float v : fs.log_mel.data) ASSERT_TRUE(std::isfinite(v));
    }
    FeatureConfig uncentred = cfg;
    uncentred.stft.center = false;
    EXPECT_THROW(n_frames(uncentred, cfg.stft.n_fft - 1), InputError);
    EXPECT_EQ(n_frames(uncentred, cfg.stft.n_fft), 1);
    EXPECT_THROW(n_frames(cfg, 0), InputError);
  }
}

// Each item of a batch is computed as if alone: same bits one by one, with any thread count,
// and power_to_db's top_db floor taken per item (a quiet item next to a loud one keeps its own).
TEST(Batch, BatchedEqualsOneByOne) {
  FeatureConfig cfg = preset("speech");
  const int64_t n = 16000 + 37;  // not a multiple of hop_length
  const int64_t batch = 5;
  std::vector<float> audio;
  const float scales[batch] = {0.5f, 1e-5f, 0.0f, 0.05f, 0.9f};
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<float> y = noise(n, static_cast<uint32_t>(b + 11), scales[b]);
    if (b == 3) y = tone(1000.0, cfg.sr, n, 0.05f);
    audio.insert(audio.end(), y.begin(), y.end());
  }
  auto tensors = [](const FeatureSet& f) {
    return std::vector<const Tensor3*>{
        &f.stft_mag,    &f.melspectrogram,    &f.log_mel, &f.mfcc, &f.mfcc_delta, &f.mfcc_delta2,
        &f.chroma_stft, &f.spectral_contrast, &f.zcr,     &f.rms,  &f.stats};
  };
  for (int threads : {1, 2, 3}) {
    cfg.threads = threads;
    const FeatureSet all = extract(cfg, audio.data(), batch, n);
    for (int64_t b = 0; b < batch; ++b) {
      const FeatureSet one = extract(cfg, audio.data() + b * n, 1, n);
      const auto ta = tensors(all), to = tensors(one);
      for (size_t k = 0; k < ta.size(); ++k) {
        ASSERT_EQ(ta[k]->rows, to[k]->rows);
        ASSERT_EQ(ta[k]->frames, to[k]->frames);
        const int64_t sz = to[k]->rows * to[k]->frames;
        for (int64_t j = 0; j < sz; ++j) {
          ASSERT_EQ(ta[k]->item(b)[j], to[k]->item(0)[j])
              << "threads " << threads << " item " << b << " tensor " << k << " at " << j;
        }
      }
      EXPECT_EQ(all.tuning[b], one.tuning[0]);
      // the floor of item b is its own maximum - top_db
      const float* lm = all.log_mel.item(b);
      const int64_t sz = all.log_mel.rows * all.log_mel.frames;
      const float top = *std::max_element(lm, lm + sz), low = *std::min_element(lm, lm + sz);
      EXPECT_GE(low, top - 80.0f - 1e-3f) << b;
    }
  }
  // per-item floors: the silent item reads 10 log10(amin) = -100 dB everywhere, the quiet one
  // (1e-5) reaches below the loud item's maximum - 80 dB; a floor over the batch would lift both
  cfg.threads = 0;
  const FeatureSet all = extract(cfg, audio.data(), batch, n);
  const int64_t sz = all.log_mel.rows * all.log_mel.frames;
  const float loud = *std::max_element(all.log_mel.item(0), all.log_mel.item(0) + sz);
  for (int64_t j = 0; j < sz; ++j) ASSERT_EQ(all.log_mel.item(2)[j], -100.0f);
  EXPECT_LT(*std::min_element(all.log_mel.item(1), all.log_mel.item(1) + sz), loud - 80.0f);
}

// extract(..., out) reuses out's memory and gives what a fresh extract gives, also after a call
// with other inputs and another selection.
TEST(Batch, ReusedOutputEqualsFreshOutput) {
  const FeatureConfig cfg = preset("speech");
  const std::vector<float> a = noise(3 * 16000, 21), b = noise(3 * 16000, 22, 0.01f);
  FeatureSet out;
  FeatureSelection few{true, false, false, false, false, true, false, false, false, false};
  extract(cfg, a.data(), 3, 16000, few, out);
  extract(cfg, b.data(), 3, 16000, FeatureSelection{}, out);
  const FeatureSet fresh = extract(cfg, b.data(), 3, 16000);
  EXPECT_EQ(out.stft_mag.data, fresh.stft_mag.data);
  EXPECT_EQ(out.log_mel.data, fresh.log_mel.data);
  EXPECT_EQ(out.mfcc_delta2.data, fresh.mfcc_delta2.data);
  EXPECT_EQ(out.chroma_stft.data, fresh.chroma_stft.data);
  EXPECT_EQ(out.spectral_contrast.data, fresh.spectral_contrast.data);
  EXPECT_EQ(out.stats.data, fresh.stats.data);
  EXPECT_EQ(out.tuning, fresh.tuning);
  extract(cfg, a.data(), 3, 16000, few, out);  // deselected outputs are emptied
  EXPECT_EQ(out.mfcc.batch, 0);
  EXPECT_EQ(out.chroma_stft.batch, 3);
}

// One long signal, batch 1: the same frames as its 3 s pieces where the frames do not reach
// across a piece's edge and no clip-global floor is involved (|STFT|, mel, chroma at tuning 0).
TEST(LongSignal, FramesMatchPiecewiseComputation) {
  FeatureConfig cfg = preset("speech");
  cfg.chroma.tuning = 0.0;
  const int64_t piece = 48000, n = 10 * piece;
  const std::vector<float> y = noise(n, 5);
  FeatureSelection what{true, true, false, false, false, true, false, false, false, false};
  const FeatureSet whole = extract(cfg, y.data(), 1, n, what);
  ASSERT_EQ(whole.stft_mag.frames, 1 + n / 160);
  const FeatureSet parts = extract(cfg, y.data(), n / piece, piece, what);
  for (int64_t b = 0; b < n / piece; ++b) {
    for (int64_t t = 2; t < parts.stft_mag.frames - 2; ++t) {  // frames inside the piece
      const int64_t tw = b * piece / 160 + t;
      for (int64_t k = 0; k < parts.stft_mag.rows; ++k) {
        ASSERT_EQ(parts.stft_mag.at(b, k, t), whole.stft_mag.at(0, k, tw));
      }
      for (int64_t r = 0; r < 12; ++r) {
        ASSERT_EQ(parts.chroma_stft.at(b, r, t), whole.chroma_stft.at(0, r, tw));
      }
    }
  }
}

// One long item on more threads than items is split by frame ranges (the STFT, mel and dB of
// each, then the top_db floor from the whole item's maximum, then the MFCC): the same bits as the
// item loop on one thread, for each selection the split serves, at mel power 2, 1 and 1.5,
// without a top_db, and with a frame count that is no multiple of the ranges' 64-frame blocks. The
// signal's quiet first half lies in other ranges than its loud second half, whose maximum sets the
// floor.
TEST(LongSignal, FrameRangesOnThreadsEqualOneThread) {
  const int64_t half = 10 * 16000 + 123;
  std::vector<float> y = noise(half, 7, 1e-5f);
  const std::vector<float> loud = noise(half, 8, 0.5f);
  y.insert(y.end(), loud.begin(), loud.end());
  const int64_t n = 2 * half;
  FeatureSelection none{false, false, false, false, false, false, false, false, false, false};
  FeatureSelection log_mel = none, mfcc = none, spectra = none, all = none;
  log_mel.log_mel = true;
  mfcc.mfcc = true;
  spectra.stft_mag = spectra.melspectrogram = true;
  all.stft_mag = all.melspectrogram = all.log_mel = all.mfcc = true;
  for (int variant = 0; variant < 4; ++variant) {
    FeatureConfig cfg = preset("speech");
    if (variant == 1) cfg.mel.power = 1.0;
    if (variant == 2) cfg.db.top_db.reset();
    if (variant == 3) cfg.mel.power = 1.5;
    ASSERT_NE(n_frames(cfg, n) % 64, 0);
    for (const FeatureSelection& what : {log_mel, mfcc, spectra, all}) {
      cfg.threads = 1;
      ASSERT_EQ(cpu_frame_ranges(cfg, what, 1, n), 1);
      const FeatureSet ref = extract(cfg, y.data(), 1, n, what);
      for (int threads : {2, 3, 7}) {
        cfg.threads = threads;
        ASSERT_EQ(cpu_frame_ranges(cfg, what, 1, n), threads);
        const FeatureSet fs = extract(cfg, y.data(), 1, n, what);
        const std::string where =
            "variant " + std::to_string(variant) + ", threads " + std::to_string(threads);
        EXPECT_EQ(fs.stft_mag.data, ref.stft_mag.data) << where;
        EXPECT_EQ(fs.melspectrogram.data, ref.melspectrogram.data) << where;
        EXPECT_EQ(fs.log_mel.data, ref.log_mel.data) << where;
        EXPECT_EQ(fs.mfcc.data, ref.mfcc.data) << where;
      }
    }
    // the quiet half sits on the loud half's floor (80 dB below the item's maximum)
    if (variant == 0) {
      const FeatureSet fs = extract(cfg, y.data(), 1, n, log_mel);
      const float* lm = fs.log_mel.item(0);
      const int64_t T = fs.log_mel.frames;
      const float top = *std::max_element(lm, lm + fs.log_mel.rows * T);
      EXPECT_EQ(lm[T / 4], static_cast<float>(static_cast<double>(top) - *cfg.db.top_db));
    }
  }
  // what the split does not serve, and batches that fill the threads, stay with the item loop
  FeatureConfig cfg = preset("speech");
  cfg.threads = 4;
  EXPECT_EQ(cpu_frame_ranges(cfg, all, 4, n), 1);
  EXPECT_EQ(cpu_frame_ranges(cfg, FeatureSelection{}, 1, n), 1);
  EXPECT_EQ(cpu_frame_ranges(cfg, all, 1, 3 * 16000), 1);  // 301 frames: one range of 256+
  EXPECT_EQ(cpu_frame_ranges(cfg, all, 2, n), 4);
}

TEST(Stats, ColumnsNameEveryValue) {
  const FeatureConfig cfg = preset("speech");
  const std::vector<std::string> cols = stats_columns(cfg);
  ASSERT_EQ(cols.size(), 2u * (3 * 20 + 12 + 7 + 1 + 1));
  EXPECT_EQ(cols[0], "mfcc_00_mean");
  EXPECT_EQ(cols[7], "mfcc_03_std");
  EXPECT_EQ(cols[40], "mfcc_delta_00_mean");
  EXPECT_EQ(cols.back(), "rms_00_std");
  const std::vector<float> y = noise(48000, 9);
  const FeatureSet fs = extract(cfg, y.data(), 1, 48000);
  ASSERT_EQ(fs.stats.frames, static_cast<int64_t>(cols.size()));
  // mfcc_03_mean / std and rms_00_mean recomputed from the feature rows
  double sum = 0, ss = 0;
  for (int64_t t = 0; t < fs.mfcc.frames; ++t) sum += fs.mfcc.at(0, 3, t);
  const double mean = sum / fs.mfcc.frames;
  for (int64_t t = 0; t < fs.mfcc.frames; ++t) ss += std::pow(fs.mfcc.at(0, 3, t) - mean, 2);
  EXPECT_NEAR(fs.stats.at(0, 0, 6), mean, 1e-4 * std::abs(mean));
  EXPECT_NEAR(fs.stats.at(0, 0, 7), std::sqrt(ss / fs.mfcc.frames), 1e-4);
  double rsum = 0;
  for (float v : fs.rms.data) rsum += v;
  EXPECT_NEAR(fs.stats.at(0, 0, cols.size() - 2), rsum / fs.rms.frames, 1e-6);
}

}  // namespace
}  // namespace hptrain::features
