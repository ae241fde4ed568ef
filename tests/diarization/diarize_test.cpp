// The diarization pipeline on synthetic speakers (harmonic tones with their own pitch and
// formant-like colour, in turns separated by pauses): DER against the known turns, block size
// not changing the answer, silence giving no turn, two embedders fused; clustering against a naive
// average-linkage and on separated blobs; the speech detector's hangover and gap filling; the CLI's
// usage errors and its "no speech" warning.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "hptrain/diarization/clustering.h"
#include "hptrain/diarization/diarize.h"
#include "hptrain/diarization/score.h"
#include "hptrain/diarization/vad.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "support/support.h"

namespace hptrain::diarization {
namespace {

constexpr int kSr = 16000;

// A voice: harmonics of f0 (vibrato, syllable-like 4 Hz amplitude modulation) shaped by one
// resonance; speakers differ in f0 and resonance.
void add_voice(std::vector<float>& x, double t0, double t1, double f0, double formant,
               std::mt19937& rng) {
  std::normal_distribution<double> jitter(0, 0.002);
  double phase = 0;
  for (auto i = static_cast<size_t>(t0 * kSr); i < static_cast<size_t>(t1 * kSr) && i < x.size();
       ++i) {
    const double t = static_cast<double>(i) / kSr;
    const double f = f0 * (1 + 0.03 * std::sin(2 * M_PI * 5 * t));
    phase += 2 * M_PI * f / kSr;
    double v = 0;
    for (int h = 1; h * f0 < 7000; ++h) {
      const double fh = h * f0;
      const double gain = 1.0 / (1 + std::pow((fh - formant) / 300.0, 2)) + 0.05 / h;
      v += gain * std::sin(h * phase);
    }
    const double env = 0.6 + 0.4 * std::sin(2 * M_PI * 4 * t);
    x[i] += static_cast<float>(0.05 * env * v + jitter(rng));
  }
}

struct Scene {
  std::vector<float> x;
  std::vector<Turn> ref;
};

// Two or three speakers taking turns of 1.5-3.5 s with 0.3-0.8 s pauses.
Scene scene(int speakers, double seconds, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> len(1.5, 3.5), gap(0.3, 0.8);
  const double f0[] = {110, 210, 150}, formant[] = {700, 2200, 1400};
  Scene s;
  s.x.assign(static_cast<size_t>(seconds * kSr), 0.0f);
  std::normal_distribution<double> noise(0, 1e-4);
  for (auto& v : s.x) v = static_cast<float>(noise(rng));
  int who = 0;
  for (double t = 0.5; t < seconds - 2;) {
    const double e = std::min(seconds - 0.5, t + len(rng));
    add_voice(s.x, t, e, f0[who], formant[who], rng);
    s.ref.push_back({"scene", t, e - t, "s" + std::to_string(who)});
    t = e + gap(rng);
    who = (who + 1 + static_cast<int>(rng() % static_cast<unsigned>(speakers - 1))) % speakers;
  }
  return s;
}

double der_of(const Scene& s, const DiarizeResult& r) {
  std::map<std::string, std::vector<Turn>> ref{{"scene", s.ref}}, hyp{{"scene", r.turns}};
  ScoreConfig sc;
  sc.collar = 0.25;
  return *score(ref, hyp, sc).overall.der_percent();
}

TEST(Diarize, TwoAndThreeSyntheticSpeakers) {
  const MfccStatsEmbedder emb;
  for (int n : {2, 3}) {
    const Scene s = scene(n, 40, 7 + n);
    DiarizeConfig cfg;
    cfg.clustering.method = "spectral";  // the eigengap finds the number
    const DiarizeResult r = diarize_samples("scene", s.x.data(), s.x.size(), emb, cfg);
    EXPECT_EQ(r.speakers, n);
    EXPECT_LT(der_of(s, r), 5.0) << n << " speakers";
    cfg.clustering.num_speakers = n;
    EXPECT_LT(der_of(s, diarize_samples("scene", s.x.data(), s.x.size(), emb, cfg)), 5.0);
  }
  // AHC at the threshold calibrated on voices. (Known weakness, README: on three tones it
  // stops at two clusters, and with a fixed number it splits one tone; spectral does not.)
  const Scene s = scene(2, 40, 9);
  DiarizeConfig cfg;
  const DiarizeResult r = diarize_samples("scene", s.x.data(), s.x.size(), emb, cfg);
  EXPECT_EQ(r.speakers, 2);
  EXPECT_LT(der_of(s, r), 5.0);
  // resegmentation off: the window labels alone
  cfg.resegment = false;
  EXPECT_LT(der_of(s, diarize_samples("scene", s.x.data(), s.x.size(), emb, cfg)), 5.0);
}

TEST(Diarize, BlocksDoNotChangeTheAnswer) {
  const MfccStatsEmbedder emb;
  const Scene s = scene(2, 30, 3);
  DiarizeConfig a, b;
  a.block_s = 60;
  b.block_s = 1.7;  // not a multiple of the hop or of the frame hop
  const auto ra = diarize_samples("scene", s.x.data(), s.x.size(), emb, a);
  const auto rb = diarize_samples("scene", s.x.data(), s.x.size(), emb, b);
  EXPECT_EQ(format_rttm(ra.turns), format_rttm(rb.turns));
  EXPECT_FALSE(ra.turns.empty());
}

TEST(Diarize, SilenceAndShortInputsGiveNoTurnOrOne) {
  const MfccStatsEmbedder emb;
  const DiarizeConfig cfg;
  std::vector<float> quiet(kSr * 5, 0.0f);
  EXPECT_TRUE(diarize_samples("q", quiet.data(), quiet.size(), emb, cfg).turns.empty());
  EXPECT_TRUE(diarize_samples("q", quiet.data(), 100, emb, cfg).turns.empty());
  // one second of voice: shorter than a window, one speaker
  std::vector<float> x(kSr * 1, 0.0f);
  std::mt19937 rng(1);
  add_voice(x, 0.1, 0.9, 140, 1000, rng);
  const auto r = diarize_samples("v", x.data(), x.size(), emb, cfg);
  EXPECT_EQ(r.speakers, 1);
  ASSERT_FALSE(r.turns.empty());
  EXPECT_NEAR(r.turns.front().onset, 0.1, 0.05);
}

// Naive average linkage: all pairwise window similarities, O(m^3).
std::vector<double> naive_heights(const std::vector<std::vector<double>>& x) {
  const size_t m = x.size();
  std::vector<std::vector<size_t>> cl(m);
  for (size_t i = 0; i < m; ++i) cl[i] = {i};
  std::vector<double> h;
  while (cl.size() > 1) {
    double best = -1e300;
    size_t ba = 0, bb = 1;
    for (size_t a = 0; a < cl.size(); ++a) {
      for (size_t b = a + 1; b < cl.size(); ++b) {
        double s = 0;
        for (size_t i : cl[a]) {
          for (size_t j : cl[b])
            s += std::inner_product(x[i].begin(), x[i].end(), x[j].begin(), 0.0);
        }
        s /= static_cast<double>(cl[a].size() * cl[b].size());
        if (s > best) {
          best = s;
          ba = a;
          bb = b;
        }
      }
    }
    h.push_back(best);
    cl[ba].insert(cl[ba].end(), cl[bb].begin(), cl[bb].end());
    cl.erase(cl.begin() + static_cast<std::ptrdiff_t>(bb));
  }
  return h;
}

TEST(DiarizeClustering, AverageLinkageMatchesNaive) {
  std::mt19937 rng(11);
  std::normal_distribution<double> g(0, 1);
  for (int m : {2, 5, 17, 40}) {
    const int d = 6;
    std::vector<std::vector<double>> x(static_cast<size_t>(m), std::vector<double>(d));
    std::vector<double> sums, counts(static_cast<size_t>(m), 1.0);
    for (auto& r : x) {
      double n = 0;
      for (auto& v : r) {
        v = g(rng);
        n += v * v;
      }
      for (auto& v : r) v /= std::sqrt(n);
      sums.insert(sums.end(), r.begin(), r.end());
    }
    const auto merges = average_linkage(sums, counts, m, d);
    const auto ref = naive_heights(x);
    ASSERT_EQ(merges.size(), ref.size());
    for (size_t i = 0; i < ref.size(); ++i)
      EXPECT_NEAR(merges[i].similarity, ref[i], 1e-9) << m << " " << i;
  }
}

TEST(DiarizeClustering, SeparatedBlobsAndFixedNumbers) {
  std::mt19937 rng(2);
  std::normal_distribution<double> g(0, 0.15);
  const int d = 8, per = 30, k = 4;
  std::vector<float> x;
  std::vector<int> truth;
  for (int i = 0; i < per * k; ++i) {
    const int c = (i / 5) % k;  // runs of 5 consecutive rows per cluster, as turns
    std::vector<double> v(d, 0.0);
    v[static_cast<size_t>(c)] = 1;
    double n = 0;
    for (auto& e : v) {
      e += g(rng);
      n += e * e;
    }
    for (auto& e : v) x.push_back(static_cast<float>(e / std::sqrt(n)));
    truth.push_back(c);
  }
  for (const char* method : {"ahc", "spectral"}) {
    for (int cap : {1000, 30}) {  // 30: the adjacency pre-merge does the first steps
      ClusterConfig cfg;
      cfg.method = method;
      cfg.threshold = 0.5;
      cfg.max_items_ahc = cfg.max_items_spectral = cap;
      cfg.min_cluster_size = 3;
      const auto lab = cluster(x.data(), per * k, d, cfg);
      // the same partition as the truth (labels by first appearance: equal here)
      EXPECT_EQ(lab, truth) << method << " cap " << cap;
    }
    ClusterConfig fixed;
    fixed.method = method;
    fixed.min_cluster_size = 3;
    fixed.num_speakers = 2;
    const auto two = cluster(x.data(), per * k, d, fixed);
    EXPECT_EQ(*std::max_element(two.begin(), two.end()), 1) << method;
    fixed.num_speakers = 0;
    fixed.min_speakers = fixed.max_speakers = 3;
    fixed.threshold = 0.5;
    const auto three = cluster(x.data(), per * k, d, fixed);
    EXPECT_EQ(*std::max_element(three.begin(), three.end()), 2) << method;
  }
}

TEST(DiarizeVad, HangoverBurstsAndGaps) {
  // 10 ms frames: silence at -80 dB, speech at -20 dB
  std::vector<float> e(300, -80.0f), band(300, 0.8f), flat(300, 0.1f);
  for (int t = 50; t < 100; ++t) e[t] = -20;   // 0.5 s of speech
  for (int t = 115; t < 150; ++t) e[t] = -20;  // after a 0.15 s pause: filled
  for (int t = 200; t < 205; ++t) e[t] = -20;  // a 50 ms burst: dropped
  VadConfig cfg;
  cfg.hangover_s = 0.05;
  const auto sp = detect_speech(e, band, flat, cfg);
  EXPECT_EQ(sp[49], 0);
  EXPECT_EQ(sp[50], 1);
  EXPECT_EQ(sp[105], 1);  // hangover + filled pause
  EXPECT_EQ(sp[154], 1);  // hangover: 5 frames after the last speech frame
  EXPECT_EQ(sp[155], 0);
  EXPECT_EQ(sp[202], 0);
  // a noise-like spectrum never starts speech
  std::vector<float> noisy(300, 0.9f);
  const auto none = detect_speech(e, band, noisy, cfg);
  EXPECT_EQ(std::accumulate(none.begin(), none.end(), 0), 0);
}

TEST(DiarizeVad, ProbabilitiesWithHysteresis) {
  VadConfig cfg;
  cfg.hangover_s = 0;
  cfg.min_speech_s = 0;
  cfg.min_gap_s = 0;
  std::vector<float> p(100, 0.1f);
  for (int t = 10; t < 20; ++t) p[t] = 0.4f;  // under prob_on: never starts
  for (int t = 30; t < 40; ++t) p[t] = 0.6f;  // starts
  for (int t = 40; t < 50; ++t) p[t] = 0.4f;  // stays (>= prob_off)
  for (int t = 50; t < 60; ++t) p[t] = 0.3f;  // ends
  const auto sp = speech_from_probabilities(p, cfg);
  for (int t = 0; t < 100; ++t) EXPECT_EQ(sp[t], t >= 30 && t < 50 ? 1 : 0) << t;
}

// Counts the calls that reach the embedder under the cache.
class CountingEmbedder : public WindowEmbedder {
 public:
  std::string name() const override { return "counting"; }
  int64_t dim() const override { return inner_.dim(); }
  WindowEmbeddings embed(const float* x, size_t n, double w, double h) const override {
    ++calls;
    return inner_.embed(x, n, w, h);
  }
  mutable int calls = 0;

 private:
  MfccStatsEmbedder inner_;
};

TEST(DiarizeCache, ReadsBackWhatItComputedAndRecomputesABrokenFile) {
  test::TempDir dir;
  const Scene s = scene(2, 8, 3);
  CountingEmbedder inner;
  CachedWindowEmbedder cached(inner, dir / "cache");
  const auto a = cached.embed(s.x.data(), s.x.size(), 1.5, 0.25);
  const auto b = cached.embed(s.x.data(), s.x.size(), 1.5, 0.25);
  EXPECT_EQ(inner.calls, 1);
  EXPECT_EQ(cached.hits(), 1);
  ASSERT_EQ(a.n, b.n);
  EXPECT_GT(a.n, 20);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.start_s, b.start_s);
  EXPECT_EQ(a.duration_s, b.duration_s);
  // other samples, another hop: computed
  std::vector<float> y(s.x);
  y[100] += 1e-3f;
  cached.embed(y.data(), y.size(), 1.5, 0.25);
  cached.embed(s.x.data(), s.x.size(), 1.5, 0.5);
  EXPECT_EQ(inner.calls, 3);
  // a truncated file is not taken for embeddings: computed again, rewritten
  for (const auto& f : std::filesystem::directory_iterator(dir / "cache"))
    std::filesystem::resize_file(f.path(), 40);
  const auto c = cached.embed(s.x.data(), s.x.size(), 1.5, 0.25);
  EXPECT_EQ(inner.calls, 4);
  EXPECT_EQ(c.data, a.data);
  cached.embed(s.x.data(), s.x.size(), 1.5, 0.25);
  EXPECT_EQ(inner.calls, 4);
}

// Two embedders side by side (FusedWindowEmbedder): each row is [first | second] as each gives
// it, on the same windows; the pipeline weighs the two blocks (RecordingClusterConfig::blocks)
// and takes the speakers' centroids from the first block only (a run's own space, where a cast
// lives). Blocks that do not cover the row are a ConfigError.
TEST(Diarize, FusedEmbeddersKeepTheFirstBlocksSpaceForCentroids) {
  const Scene s = scene(2, 20, 4);
  const MfccStatsEmbedder first(20, true), second;
  const FusedWindowEmbedder fused(first, second);
  EXPECT_EQ(fused.dim(), 38 + 19);
  EXPECT_EQ(fused.name(), "mfcc-mean-std + mfcc-mean");
  const auto a = first.embed(s.x.data(), s.x.size(), 1.5, 0.25);
  const auto b = second.embed(s.x.data(), s.x.size(), 1.5, 0.25);
  const auto f = fused.embed(s.x.data(), s.x.size(), 1.5, 0.25);
  ASSERT_EQ(f.n, a.n);
  EXPECT_EQ(f.start_s, a.start_s);
  for (int64_t i = 0; i < f.n; ++i) {
    EXPECT_EQ(std::vector<float>(f.data.begin() + i * 57, f.data.begin() + i * 57 + 38),
              std::vector<float>(a.data.begin() + i * 38, a.data.begin() + (i + 1) * 38));
    EXPECT_EQ(std::vector<float>(f.data.begin() + i * 57 + 38, f.data.begin() + (i + 1) * 57),
              std::vector<float>(b.data.begin() + i * 19, b.data.begin() + (i + 1) * 19));
  }
  DiarizeConfig cfg;
  cfg.recording.blocks = {{38, 0.5}, {19, 0.5}};
  const auto r = diarize_samples("scene", s.x.data(), s.x.size(), fused, cfg);
  EXPECT_EQ(r.speakers, 2);
  EXPECT_LT(der_of(s, r), 5.0);
  ASSERT_EQ(r.dim, 38);
  ASSERT_EQ(r.centroids.size(), 2u * 38);
  for (int k = 0; k < 2; ++k) {
    double nrm = 0;
    for (int c = 0; c < 38; ++c) nrm += r.centroids[k * 38 + c] * r.centroids[k * 38 + c];
    EXPECT_NEAR(nrm, 1.0, 1e-5) << k;
  }
  cfg.recording.blocks = {{38, 0.5}, {18, 0.5}};
  EXPECT_THROW(diarize_samples("scene", s.x.data(), s.x.size(), fused, cfg), ConfigError);
  cfg.recording.blocks.clear();
  cfg.mfcc_weight = 1.0;
  EXPECT_THROW(cfg.validate(), ConfigError);
}

test::CommandResult hptrain(const std::string& args) {
  return test::run_command(std::string(HP_HPTRAIN_BINARY) + " " + args);
}

TEST(DiarizeCli, UsageErrorsAndAFileWithoutSpeech) {
  test::TempDir dir;
  const Scene s = scene(2, 12, 5);
  io::write_wav(dir / "talk.wav", s.x.data(), s.x.size(), kSr);
  std::vector<float> quiet(kSr * 3, 0.0f);
  io::write_wav(dir / "quiet.wav", quiet.data(), quiet.size(), kSr);
  const std::string files = (dir / "quiet.wav").string() + " " + (dir / "talk.wav").string();
  const std::string out = " --out " + (dir / "out").string();
  EXPECT_EQ(hptrain("diarize " + files + out + " --num-speakers 2 --min-speakers 1").code, 2);
  EXPECT_EQ(hptrain("diarize " + files + out + " --num-speakers 0").code, 2);
  EXPECT_EQ(hptrain("diarize " + files + out + " --min-speakers 3 --max-speakers 2").code, 2);
  EXPECT_EQ(hptrain("diarize " + files + out + " --mfcc-weight 0.5").code, 2);  // needs --run
  const std::string run = " --run " + dir.path().string();
  EXPECT_EQ(hptrain("diarize " + files + out + run + " --mfcc-weight 1").code, 2);
  EXPECT_EQ(hptrain("diarize " + files + out + run + " --mfcc-weight x").code, 2);
  const auto r = hptrain("diarize " + files + out + " --log-level warn");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("quiet.wav': no speech found"), std::string::npos) << r.out;
  EXPECT_EQ(fs::read_text(dir / "out" / "quiet.rttm"), "");
  const auto turns = read_rttm(dir / "out" / "talk.rttm");
  ASSERT_FALSE(turns.empty());
  EXPECT_EQ(turns.front().uri, "talk");
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "talk.segments.csv"));
  // score-diarization on the result, and a malformed reference naming file and line
  io::write_wav(dir / "x.wav", quiet.data(), 10, kSr);
  fs::write_text(dir / "bad.rttm", "SPEAKER talk 1 0.0 1.0 <NA> <NA>\n");
  const auto bad = hptrain("score-diarization --ref " + (dir / "bad.rttm").string() + " --hyp " +
                           (dir / "out").string());
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("bad.rttm:1:"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace hptrain::diarization
