// Noise: the SNR of a mix against hand-computed powers, pink noise's spectral slope against a
// plain DFT fit, babble's voices (never the chunk's speaker, by label and by content), and
// determinism; the bad inputs (SNR range, kinds, empty or undecodable folders).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "hptrain/data/noise.h"
#include "hptrain/demo/demo_corpus.h"
#include "hptrain/error.h"
#include "hptrain/io/audio.h"
#include "support/support.h"

namespace hptrain::data {
namespace {

constexpr int kSr = 16000;
constexpr double kPi = 3.14159265358979323846;

std::vector<float> sine(size_t n, double hz, double amplitude) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(amplitude * std::sin(2 * kPi * hz * i / kSr));
  return x;
}

// Power of x at `hz` (Goertzel-free: a plain DFT bin, normalised by n^2).
double tone_power(const std::vector<float>& x, double hz) {
  double re = 0, im = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    re += x[i] * std::cos(2 * kPi * hz * i / kSr);
    im -= x[i] * std::sin(2 * kPi * hz * i / kSr);
  }
  return (re * re + im * im) / (static_cast<double>(x.size()) * x.size());
}

TEST(NoiseSnr, ActivePowerLeavesSilenceOut) {
  // 0.5 s of a 200 Hz sine of amplitude 0.5 (power 0.125, 5 periods per 25 ms frame), then 0.5 s
  // of zeros: the active power is the sine's, the mean power half of it.
  auto x = sine(kSr / 2, 200, 0.5);
  x.resize(kSr, 0.0f);
  EXPECT_NEAR(active_power(x.data(), x.size(), kSr), 0.125, 1e-6);
  EXPECT_NEAR(mean_power(x.data(), x.size()), 0.0625, 1e-6);
}

TEST(NoiseSnr, MixedAtTheRequestedSnr) {
  for (double snr : {20.0, 10.0, 5.0, 0.0, -5.0}) {
    auto clean = sine(kSr / 2, 200, 0.5);
    clean.resize(kSr, 0.0f);
    std::vector<float> noise(kSr);
    for (size_t i = 0; i < noise.size(); ++i) noise[i] = (i % 2 == 0) ? 2.0f : -2.0f;  // power 4
    auto mixed = clean;
    const double g = mix_at_snr(mixed.data(), mixed.size(), noise.data(), snr, kSr);
    // by hand: g^2 * 4 = 0.125 / 10^(snr/10)
    EXPECT_NEAR(g, std::sqrt(0.125 / std::pow(10.0, snr / 10) / 4), 1e-6) << snr;
    std::vector<float> added(mixed.size());
    for (size_t i = 0; i < added.size(); ++i) added[i] = mixed[i] - clean[i];
    const double measured = 10 * std::log10(0.125 / mean_power(added.data(), added.size()));
    EXPECT_NEAR(measured, snr, 1e-3) << snr;
  }
}

TEST(NoiseSnr, SilentChunkGetsTheReferenceLevel) {
  std::vector<float> x(kSr, 0.0f), noise(kSr, 1.0f);
  mix_at_snr(x.data(), x.size(), noise.data(), 10, kSr);
  EXPECT_NEAR(10 * std::log10(mean_power(x.data(), x.size())), kSilentReferenceDb - 10, 1e-3);
}

// mix_gain + add_scaled (the powers measured once for several SNRs) are mix_at_snr bit for bit:
// a speech-like chunk, a silent one (the reference level) and all-zero noise (nothing added).
TEST(NoiseSnr, GainThenAddIsMixAtSnr) {
  std::vector<float> voiced = sine(kSr / 2, 200, 0.5), noise(kSr);
  voiced.resize(kSr, 0.0f);
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<float>(std::sin(0.37 * i * i));
  std::vector<float> silent(kSr, 0.0f), zeros(kSr, 0.0f);
  for (const auto* x : {&voiced, &silent}) {
    for (const auto* nz : {&noise, &zeros}) {
      const double ps = active_power(x->data(), x->size(), kSr);
      const double pn = mean_power(nz->data(), nz->size());
      for (double snr : {20.0, 5.0, -5.0}) {
        std::vector<float> a = *x, b = *x;
        const double g = mix_at_snr(a.data(), a.size(), nz->data(), snr, kSr);
        EXPECT_EQ(mix_gain(ps, pn, snr), g) << snr;
        if (g > 0) add_scaled(b.data(), b.size(), nz->data(), g);
        EXPECT_EQ(a, b) << snr;
        EXPECT_EQ(g == 0, nz == &zeros) << snr;
      }
    }
  }
}

TEST(NoiseSnr, RangeAndKindsChecked) {
  EXPECT_NO_THROW(check_snr(-20, "snr"));
  EXPECT_NO_THROW(check_snr(60, "snr"));
  EXPECT_THROW(check_snr(-20.5, "snr"), ConfigError);
  EXPECT_THROW(check_snr(61, "snr"), ConfigError);
  EXPECT_THROW(check_snr(std::nan(""), "snr"), ConfigError);
  try {
    check_snr(70, "--snr");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--snr = 70: must be in [-20, 60] dB"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(parse_noise_kind("babble").name, "babble");
  EXPECT_EQ(parse_noise_kind("folder:/x/y").folder, "/x/y");
  EXPECT_EQ(parse_noise_kind("folder:/x/y").text(), "folder:/x/y");
  EXPECT_THROW(parse_noise_kind("brown"), ConfigError);
  EXPECT_THROW(parse_noise_kind("folder:"), ConfigError);
}

// Least-squares slope of 10 log10(band power density) against log10(f), over octave bands
// from 62.5 Hz to 4 kHz of a plain DFT periodogram averaged over 1024-sample blocks.
double spectral_slope_db_per_decade(const std::vector<float>& x) {
  const size_t block = 1024;
  std::vector<double> psd(block / 2 + 1, 0.0), c(block), s(block), w(block);
  for (size_t i = 0; i < block; ++i) {
    c[i] = std::cos(2 * kPi * i / block);
    s[i] = std::sin(2 * kPi * i / block);
    w[i] = 0.5 - 0.5 * c[i];  // Hann
  }
  for (size_t b = 0; b + block <= x.size(); b += block) {
    for (size_t k = 1; k <= block / 2; ++k) {
      double re = 0, im = 0;
      for (size_t i = 0; i < block; ++i) {
        re += w[i] * x[b + i] * c[(k * i) % block];
        im -= w[i] * x[b + i] * s[(k * i) % block];
      }
      psd[k] += re * re + im * im;
    }
  }
  std::vector<double> lf, lp;
  for (double lo = 62.5; lo < 4000; lo *= 2) {
    double sum = 0;
    int count = 0;
    for (size_t k = 1; k <= block / 2; ++k) {
      const double f = static_cast<double>(k) * kSr / block;
      if (f >= lo && f < 2 * lo) {
        sum += psd[k];
        ++count;
      }
    }
    lf.push_back(std::log10(lo * std::sqrt(2.0)));
    lp.push_back(10 * std::log10(sum / count));
  }
  double mf = 0, mp = 0;
  for (size_t i = 0; i < lf.size(); ++i) {
    mf += lf[i] / lf.size();
    mp += lp[i] / lp.size();
  }
  double num = 0, den = 0;
  for (size_t i = 0; i < lf.size(); ++i) {
    num += (lf[i] - mf) * (lp[i] - mp);
    den += (lf[i] - mf) * (lf[i] - mf);
  }
  return num / den;
}

TEST(NoiseKinds, PinkFallsTenDbPerDecadeWhiteIsFlat) {
  const NoiseSource pink({"pink", {}}, kSr, 3);
  const NoiseSource white({"white", {}}, kSr, 3);
  const auto p = pink.draw(64 * 1024, 11);
  const auto w = white.draw(64 * 1024, 11);
  // 1/f power: -10 dB per decade; the estimate's spread over 64 blocks is well under 1 dB
  EXPECT_NEAR(spectral_slope_db_per_decade(p), -10.0, 1.0);
  EXPECT_NEAR(spectral_slope_db_per_decade(w), 0.0, 1.0);
  EXPECT_NEAR(mean_power(p.data(), p.size()), 1.0, 1e-3);  // scaled to unit power
  EXPECT_NEAR(mean_power(w.data(), w.size()), 1.0, 0.05);
}

// Six speakers, each a pure tone of its own frequency (two clips each).
std::vector<NoiseClip> tone_speakers(std::vector<double>& freqs) {
  std::vector<NoiseClip> clips;
  const char* names[] = {"A", "B", "C", "D", "E", "F"};
  for (int s = 0; s < 6; ++s) {
    freqs.push_back(250.0 * (s + 1));
    for (int c = 0; c < 2; ++c) {
      clips.push_back(
          {names[s], std::string(names[s]) + std::to_string(c),
           sine(static_cast<size_t>(kSr * (0.7 + 0.3 * c)), freqs.back(), 0.1 + 0.2 * s)});
    }
  }
  return clips;
}

TEST(NoiseKinds, BabbleNeverHoldsTheChunksSpeaker) {
  std::vector<double> freqs;
  const NoiseSource babble({"babble", {}}, kSr, 5, tone_speakers(freqs));
  std::set<size_t> sizes;
  for (uint64_t key = 0; key < 60; ++key) {
    const std::string own = std::string(1, static_cast<char>('A' + key % 6));
    std::vector<std::string> voices;
    const auto x = babble.draw(kSr, key, own, &voices);
    sizes.insert(voices.size());
    ASSERT_GE(voices.size(), 3u);
    ASSERT_LE(voices.size(), 6u);
    std::set<std::string> distinct(voices.begin(), voices.end());
    EXPECT_EQ(distinct.count(own), 0u) << key;
    EXPECT_EQ(distinct.size(), std::min<size_t>(voices.size(), 5)) << key;
    // by content: the own speaker's tone is absent (leakage from the other tones' phase jumps
    // at clip boundaries stays far below 1e-4), every voice summed is present (its bin keeps
    // more than 1 % of the power despite those jumps)
    const double total = mean_power(x.data(), x.size());
    for (int s = 0; s < 6; ++s) {
      const double share = 2 * tone_power(x, freqs[s]) / total;
      const std::string name(1, static_cast<char>('A' + s));
      if (name == own) {
        EXPECT_LT(share, 1e-4) << key << " " << name;
      } else if (std::count(voices.begin(), voices.end(), name) == 1) {
        // (a label summed twice, when 6 voices share 5 speakers, can cancel its own tone)
        EXPECT_GT(share, 0.01) << key << " " << name;
      }
    }
  }
  EXPECT_GE(sizes.size(), 3u);  // 3, 4, 5 and 6 voices all occur
}

TEST(NoiseKinds, DeterministicPerSeedAndKeyWhateverTheOrder) {
  std::vector<double> freqs;
  for (const char* kind : {"white", "pink", "babble", "music", "demo-music", "effects"}) {
    const NoiseSource a({kind, {}}, kSr, 9, tone_speakers(freqs));
    const NoiseSource b({kind, {}}, kSr, 9, tone_speakers(freqs));
    const NoiseSource c({kind, {}}, kSr, 10, tone_speakers(freqs));
    const auto first = a.draw(8000, 42, "A");
    (void)b.draw(8000, 7, "A");  // another chunk first: no effect on key 42
    EXPECT_EQ(first, b.draw(8000, 42, "A")) << kind;
    EXPECT_NE(first, a.draw(8000, 43, "A")) << kind;
    EXPECT_NE(first, c.draw(8000, 42, "A")) << kind;
  }
  EXPECT_NE(chunk_key("a.wav", 3.0), chunk_key("a.wav", 6.0));
  EXPECT_NE(chunk_key("a.wav", 3.0), chunk_key("b.wav", 3.0));
  EXPECT_EQ(chunk_key("a.wav", 3.0), chunk_key("a.wav", 3.0000001));
}

// Clips are copied as runs that wrap around: with ramps (sample j of a clip holds base + j),
// music is one clip from some offset, looped; effects are whole clips (each from its own offset,
// wrapping) one after the other, the last cut at n.
TEST(NoiseKinds, ClipsAreCopiedAsWrappedRuns) {
  auto ramp = [](float base, size_t len) {
    std::vector<float> x(len);
    for (size_t j = 0; j < len; ++j) x[j] = base + static_cast<float>(j);
    return x;
  };
  const std::vector<NoiseClip> clips = {{"a", "a", ramp(0, 700)}, {"b", "b", ramp(10000, 1100)}};
  for (uint64_t key = 0; key < 8; ++key) {
    const auto music = NoiseSource({"music", {}}, kSr, 3, clips).draw(2500, key);
    ASSERT_EQ(music.size(), 2500u);
    const bool b = music[0] >= 10000;
    const float base = b ? 10000.0f : 0.0f;
    const size_t len = b ? 1100 : 700;
    const auto start = static_cast<size_t>(music[0] - base);
    for (size_t i = 0; i < music.size(); ++i) {
      ASSERT_EQ(music[i], base + static_cast<float>((start + i) % len)) << key << " " << i;
    }
    const auto fx = NoiseSource({"effects", {}}, kSr, 3, clips).draw(5000, key);
    ASSERT_EQ(fx.size(), 5000u);
    size_t runs = 0;
    for (size_t at = 0; at < fx.size(); ++runs) {
      const bool rb = fx[at] >= 10000;
      const float rbase = rb ? 10000.0f : 0.0f;
      const size_t rlen = rb ? 1100 : 700;
      const auto s0 = static_cast<size_t>(fx[at] - rbase);
      for (size_t i = 0; i < rlen && at < fx.size(); ++i, ++at) {
        ASSERT_EQ(fx[at], rbase + static_cast<float>((s0 + i) % rlen)) << key << " " << at;
      }
    }
    EXPECT_GE(runs, 5u);  // at most 1100 samples a run
  }
}

TEST(NoiseFolder, EmptyAndUndecodableFilesAreNamed) {
  test::TempDir dir;
  DatasetConfig ds;
  ds.file = "d.toml";
  ds.preprocess.sr = kSr;
  std::filesystem::create_directories(dir / "noise");
  const NoiseKind kind{"folder", dir / "noise"};
  try {
    load_noise(kind, ds, 1);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has no files"), std::string::npos) << e.what();
  }
  const auto tone = sine(kSr, 440, 0.3);
  io::write_wav(dir / "noise" / "hum.wav", tone.data(), tone.size(), kSr);
  { std::ofstream(dir / "noise" / "junk.wav") << "not audio at all"; }
  try {
    load_noise(kind, ds, 1);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.wav"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("hum.wav"), std::string::npos) << e.what();
  }
  std::filesystem::remove(dir / "noise" / "junk.wav");
  const auto src = load_noise(kind, ds, 1);
  EXPECT_EQ(src.clips(), 1u);
  const auto x = src.draw(4000, 1);
  EXPECT_NEAR(mean_power(x.data(), x.size()), 0.045, 1e-3);  // the tone's 0.3^2 / 2
}

// demo-music: only the tracks the demo corpus trains on (demo_music()), under [demo]'s wesnoth
// folder; another track there (as make-conversations' beds use) is never drawn.
TEST(NoiseDemoMusic, OnlyTheDemosTracks) {
  test::TempDir dir;
  DatasetConfig ds;
  ds.file = "d.toml";
  ds.preprocess.sr = kSr;
  ds.demo = DemoConfig{};
  ds.demo->wesnoth = dir.path();
  std::filesystem::create_directories(dir / "music");
  try {
    load_noise({"demo-music", {}}, ds, 1);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("wesnoth-1.16-music"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find((dir / "music").string()), std::string::npos) << e.what();
  }
  const auto demo = sine(kSr, 440, 0.3), other = sine(kSr, 440, 0.03);
  io::write_wav(dir / "music" / demo_music().front().first, demo.data(), demo.size(), kSr);
  io::write_wav(dir / "music" / "not_a_demo_track.ogg", other.data(), other.size(), kSr);
  const auto src = load_noise({"demo-music", {}}, ds, 1);
  EXPECT_EQ(src.clips(), 1u);
  for (uint64_t key = 0; key < 5; ++key) {
    const auto x = src.draw(4000, key);
    EXPECT_NEAR(mean_power(x.data(), x.size()), 0.045, 1e-3) << key;  // the demo track's
  }
  EXPECT_EQ(parse_noise_kind("demo-music").text(), "demo-music");
}

}  // namespace
}  // namespace hptrain::data
