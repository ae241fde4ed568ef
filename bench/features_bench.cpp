// Throughput of the CPU feature stage on batches of 3 s, 16 kHz chunks (speech config), as seconds
// of audio per second ("rtf"); compare with tests/data/reference/SPEED.md (librosa, torchaudio).
#include <benchmark/benchmark.h>

#include <string>
#include <thread>
#include <vector>

#include "hptrain/features/extract.h"
#include "hptrain/h5.h"

namespace {

using hptrain::features::FeatureConfig;
using hptrain::features::FeatureSelection;

constexpr int64_t kChunk = 48000;  // 3 s at 16 kHz

// `batch` chunks cut from the two real 16 kHz reference clips (music, speech), alternating.
std::vector<float> chunks(int64_t batch) {
  static const std::vector<std::vector<float>> clips = [] {
    std::vector<std::vector<float>> c;
    for (const char* f : {"music_wesnoth_16k.speech.h5", "speech_hedgewars_16k.speech.h5"}) {
      c.push_back(
          hptrain::h5::File::open_read(std::string(HP_SOURCE_DIR) + "/tests/data/reference/" + f)
              .read_floats("y"));
    }
    return c;
  }();
  std::vector<float> out;
  for (int64_t b = 0; b < batch; ++b) {
    const auto& c = clips[b % 2];
    out.insert(out.end(), c.begin(), c.begin() + kChunk);
  }
  return out;
}

FeatureSelection only(bool FeatureSelection::*field) {
  FeatureSelection s{false, false, false, false, false, false, false, false, false, false};
  s.*field = true;
  return s;
}

// Args: batch, threads (0 = all cores). tuning0: chroma at tuning 0 (as SPEED.md's librosa runs)
// instead of estimating it as chroma_stft(tuning=None) and the presets do. fresh: every call
// returns new tensors (extract's value form) instead of refilling one FeatureSet.
void run(benchmark::State& state, FeatureSelection what, bool tuning0, bool fresh) {
  FeatureConfig cfg = hptrain::features::preset("speech");
  if (tuning0) cfg.chroma.tuning = 0.0;
  const int64_t batch = state.range(0);
  cfg.threads = static_cast<int>(state.range(1));
  const std::vector<float> audio = chunks(batch);
  hptrain::features::FeatureSet fs;
  for (auto _ : state) {
    if (fresh) {
      fs = hptrain::features::extract(cfg, audio.data(), batch, kChunk, what);
    } else {
      hptrain::features::extract(cfg, audio.data(), batch, kChunk, what, fs);
    }
    benchmark::DoNotOptimize(fs.stft_mag.data.data());
    benchmark::ClobberMemory();
  }
  const int threads =
      cfg.threads > 0 ? cfg.threads : static_cast<int>(std::thread::hardware_concurrency());
  state.counters["rtf"] = benchmark::Counter(
      static_cast<double>(batch) * kChunk / 16000.0 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
  state.counters["threads"] = threads;
}

void BM_extract(benchmark::State& state, FeatureSelection what, bool tuning0) {
  run(state, what, tuning0, false);
}
void BM_extract_fresh_output(benchmark::State& state, FeatureSelection what, bool tuning0) {
  run(state, what, tuning0, true);
}

// One thread: rtf from the thread's CPU time, robust on a shared machine. All cores: from wall
// time (CPU time would add the threads up).
void one_thread(benchmark::internal::Benchmark* b) {
  b->ArgsProduct({{1, 16, 256}, {1}})->ArgNames({"batch", "threads"});
}
void all_threads(benchmark::internal::Benchmark* b) {
  b->ArgsProduct({{1, 16, 256}, {0}})->ArgNames({"batch", "threads"})->UseRealTime();
}

FeatureSelection mel_mfcc() {
  FeatureSelection s = only(&FeatureSelection::mfcc);
  s.melspectrogram = true;
  return s;
}
FeatureSelection mfcc_deltas() {
  FeatureSelection s = only(&FeatureSelection::deltas);
  s.mfcc = true;
  return s;
}

}  // namespace

#define HP_FEATURE_BENCH(name, what, tuning0)                            \
  BENCHMARK_CAPTURE(BM_extract, name, what, tuning0)->Apply(one_thread); \
  BENCHMARK_CAPTURE(BM_extract, name, what, tuning0)->Apply(all_threads)

HP_FEATURE_BENCH(full_set_tuning0, FeatureSelection{}, true);
HP_FEATURE_BENCH(full_set_tuning_estimated, FeatureSelection{}, false);
BENCHMARK_CAPTURE(BM_extract_fresh_output, full_set_tuning0, FeatureSelection{}, true)
    ->Apply(one_thread);
HP_FEATURE_BENCH(stft_mag, only(&FeatureSelection::stft_mag), true);
HP_FEATURE_BENCH(melspectrogram, only(&FeatureSelection::melspectrogram), true);
HP_FEATURE_BENCH(log_mel, only(&FeatureSelection::log_mel), true);
HP_FEATURE_BENCH(mel_and_mfcc, mel_mfcc(), true);
HP_FEATURE_BENCH(mfcc_and_deltas, mfcc_deltas(), true);
HP_FEATURE_BENCH(chroma_tuning0, only(&FeatureSelection::chroma), true);
HP_FEATURE_BENCH(chroma_tuning_estimated, only(&FeatureSelection::chroma), false);
HP_FEATURE_BENCH(spectral_contrast, only(&FeatureSelection::contrast), true);
HP_FEATURE_BENCH(zcr, only(&FeatureSelection::zcr), true);
HP_FEATURE_BENCH(rms, only(&FeatureSelection::rms), true);

BENCHMARK_MAIN();
