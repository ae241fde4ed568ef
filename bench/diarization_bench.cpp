// Diarization: speed of the pipeline on a long recording (Google Benchmark), and with
// `--dev DIR` the development sweep: DER (collar 0.25) of each configuration on the
// conversations of DIR (hptrain make-conversations), which calibrates the AHC threshold.
//   bench_diarization --dev convs/ [--threshold-grid] [--with-std] [--n-mfcc N]
//   (bench/results/2026-12-06-cpu-diarization.md)
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "hptrain/diarization/diarize.h"
#include "hptrain/diarization/score.h"
#include "hptrain/io/audio.h"

namespace stdfs = std::filesystem;
using namespace hptrain::diarization;

namespace {

struct Conv {
  std::string uri;
  std::vector<float> x;
  std::vector<Turn> ref;
};

std::vector<Conv> load(const stdfs::path& dir) {
  std::vector<Conv> out;
  std::vector<stdfs::path> wavs;
  for (const auto& e : stdfs::directory_iterator(dir)) {
    if (e.path().extension() == ".wav") wavs.push_back(e.path());
  }
  std::sort(wavs.begin(), wavs.end());
  for (const auto& w : wavs) {
    Conv c;
    c.uri = w.stem().string();
    c.x = hptrain::io::load_mono(w.string(), 16000);
    const auto rttm = w.parent_path() / (c.uri + ".rttm");
    if (stdfs::exists(rttm)) c.ref = read_rttm(rttm);
    out.push_back(std::move(c));
  }
  return out;
}

// DER (percent, collar 0.25) of `cfg` over the conversations; `oracle`: the reference's number
// of speakers per conversation.
bool g_with_std = false;  // --with-std: the embedder with the deviations too
int g_n_mfcc = 20;        // --n-mfcc N: the embedder's coefficients (c0 left out)

double der(const std::vector<Conv>& convs, DiarizeConfig cfg, bool oracle, double* conf = nullptr) {
  std::map<std::string, std::vector<Turn>> ref, hyp;
  const MfccStatsEmbedder emb(g_n_mfcc, g_with_std);
  for (const auto& c : convs) {
    ref[c.uri] = c.ref;
    if (oracle) {
      std::map<std::string, int> s;
      for (const auto& t : c.ref) s[t.speaker] = 1;
      cfg.clustering.num_speakers = static_cast<int>(s.size());
    }
    hyp[c.uri] = diarize_samples(c.uri, c.x.data(), c.x.size(), emb, cfg).turns;
    hyp[c.uri];
  }
  ScoreConfig sc;
  sc.collar = 0.25;
  const ScoreReport r = score(ref, hyp, sc);
  if (conf) *conf = 100 * r.overall.confusion / r.overall.total;
  return r.overall.der_percent().value_or(0);
}

// Diagnostic: leave-one-out 1-NN speaker accuracy of the embeddings of whole reference turns
// (or of `win` seconds from each turn's start), standardised per conversation.
double turn_nn(const std::vector<Conv>& convs, double win) {
  const MfccStatsEmbedder emb(g_n_mfcc, g_with_std);
  double ok = 0, n = 0;
  for (const auto& c : convs) {
    std::vector<std::vector<float>> e;
    std::vector<std::string> who;
    for (const auto& t : c.ref) {
      if (t.duration < 0.5) continue;
      const auto s0 = static_cast<size_t>(t.onset * 16000);
      const double d = win > 0 ? std::min(win, t.duration) : t.duration;
      const auto len = std::min(c.x.size() - s0, static_cast<size_t>(d * 16000));
      const auto w = emb.embed(c.x.data() + s0, len, d, d);
      e.emplace_back(w.data.begin(), w.data.begin() + w.dim);
      who.push_back(t.speaker);
    }
    const size_t D = e.empty() ? 0 : e[0].size();
    for (size_t k = 0; k < D; ++k) {
      double m = 0, v = 0;
      for (auto& r : e) m += r[k];
      m /= e.size();
      for (auto& r : e) v += (r[k] - m) * (r[k] - m);
      v = std::sqrt(v / e.size());
      for (auto& r : e) r[k] = v > 0 ? (r[k] - m) / v : 0;
    }
    for (size_t i = 0; i < e.size(); ++i) {
      double best = -1e9;
      size_t bj = i;
      for (size_t j = 0; j < e.size(); ++j) {
        if (j == i) continue;
        double s = 0, ni = 0, nj = 0;
        for (size_t k = 0; k < D; ++k) {
          s += e[i][k] * e[j][k];
          ni += e[i][k] * e[i][k];
          nj += e[j][k] * e[j][k];
        }
        s /= std::sqrt(ni * nj) + 1e-12;
        if (s > best) {
          best = s;
          bj = j;
        }
      }
      ok += who[bj] == who[i];
      n += 1;
    }
  }
  return 100 * ok / n;
}

int dev_sweep(const stdfs::path& dir, bool grid) {
  const auto convs = load(dir);
  std::printf("%zu conversations from %s\n", convs.size(), dir.string().c_str());
  std::printf("1-NN speaker accuracy of reference turns: whole %.1f %%, first 1.5 s %.1f %%\n",
              turn_nn(convs, 0), turn_nn(convs, 1.5));
  std::printf("%-10s %-9s %-10s %8s %8s\n", "method", "resegment", "threshold", "DER", "conf.");
  for (const char* method : {"ahc", "spectral"}) {
    for (bool reseg : {false, true}) {
      DiarizeConfig cfg;
      cfg.clustering.method = method;
      cfg.resegment = reseg;
      std::vector<double> ths = {cfg.clustering.threshold};
      if (grid && std::strcmp(method, "ahc") == 0) ths = {-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3};
      for (double th : ths) {
        cfg.clustering.threshold = th;
        double conf = 0;
        const double d = der(convs, cfg, false, &conf);
        std::printf("%-10s %-9s %-10.2f %8.2f %8.2f\n", method, reseg ? "yes" : "no", th, d, conf);
      }
      double conf = 0;
      const double d = der(convs, cfg, true, &conf);
      std::printf("%-10s %-9s %-10s %8.2f %8.2f\n", method, reseg ? "yes" : "no", "oracle N", d,
                  conf);
    }
  }
  return 0;
}

// A recording of `minutes` minutes: the first conversation of HP_DIAR_DIR repeated, or tones.
void BM_diarize(benchmark::State& state) {
  const double minutes = static_cast<double>(state.range(0));
  const char* dir = std::getenv("HP_DIAR_DIR");
  std::vector<float> x;
  if (dir != nullptr) {
    const auto convs = load(dir);
    while (x.size() < minutes * 60 * 16000) {
      for (const auto& c : convs) x.insert(x.end(), c.x.begin(), c.x.end());
    }
  } else {
    x.resize(static_cast<size_t>(minutes * 60 * 16000));
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = static_cast<float>(0.1 * std::sin(0.01 * i * (1 + (i / 32000) % 3)));
  }
  const MfccStatsEmbedder emb;
  const DiarizeConfig cfg;
  for (auto _ : state) {
    auto r = diarize_samples("bench", x.data(), x.size(), emb, cfg);
    benchmark::DoNotOptimize(r.turns.data());
  }
  state.counters["audio_s"] = static_cast<double>(x.size()) / 16000;
}
BENCHMARK(BM_diarize)->Arg(10)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    g_with_std = g_with_std || std::strcmp(argv[i], "--with-std") == 0;
    if (i + 1 < argc && std::strcmp(argv[i], "--n-mfcc") == 0) g_n_mfcc = std::atoi(argv[i + 1]);
  }
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--dev") == 0) {
      bool grid = false;
      for (int k = 1; k < argc; ++k) grid = grid || std::strcmp(argv[k], "--threshold-grid") == 0;
      return dev_sweep(argv[i + 1], grid);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
