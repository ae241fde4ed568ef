// GPU feature kernels: each feature and the whole set (cuda::FeatureExtractor::run) at batch 16,
// 256 and 4096 of 3-s 16 kHz chunks, speech preset. Times are CUDA events around each iteration
// (UseManualTime) after a warm-up; "rtf" = seconds of audio per second, "GB/s" the STFT's
// achieved memory traffic and "of_peak" its fraction of the card's peak bandwidth.
// Without a CUDA device it says so and exits 0.
#include <benchmark/benchmark.h>

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hptrain/cuda/extract.h"
#include "hptrain/features/cpu.h"
#include "hptrain/features/filters.h"
#include "hptrain/features/tables.h"

#include "cuda_bench_main.h"

namespace {

using namespace hptrain;  // NOLINT: bench file

constexpr int64_t kSamples = 48000;  // 3 s at 16 kHz
constexpr double kSeconds = 3.0;

// The speech preset; chroma tuning fixed at 0 (the estimated tuning, on the device too, is its
// own case below).
features::FeatureConfig speech(bool fixed_tuning = true) {
  features::FeatureConfig c = features::preset("speech");
  if (fixed_tuning) c.chroma.tuning = 0.0;
  return c;
}

// Peak DRAM bandwidth of device 0 in bytes/s (2 transfers per memory clock); 0 when unknown.
double peak_bandwidth() {
  int khz = 0, bits = 0;
  if (cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, 0) != cudaSuccess ||
      cudaDeviceGetAttribute(&bits, cudaDevAttrGlobalMemoryBusWidth, 0) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return 2.0 * khz * 1e3 * bits / 8.0;
}

// Everything a case needs on the device: audio, every intermediate, the tables; the STFT framed
// as `framing` says (cuda::FftFraming) by the extractor and by ctx.
struct Bench {
  explicit Bench(int64_t batch, bool fixed_tuning = true, bool fft_f64 = true,
                 cuda::FftFraming framing = cuda::FftFraming::kernel)
      : cfg(speech(fixed_tuning)),
        tables(features::feature_tables(cfg)),
        extractor(cfg, tables, fft_f64, framing),
        ctx(framing),
        B(batch),
        T(features::n_frames(cfg, kSamples)),
        F(cfg.stft.n_fft / 2 + 1) {
    const cudaStream_t s = extractor.stream();
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    std::vector<float> y(static_cast<size_t>(B * kSamples));
    for (float& v : y) v = u(rng);
    audio = cuda::to_device(y, s);
    const features::FeatureTables& t = *tables;
    window = cuda::DeviceWindow(t.window, s);
    mel_fb = cuda::to_device(t.mel_fb, s);
    dct = cuda::to_device(t.dct, s);
    dev.savgol[0] = cuda::to_device(t.savgol[0], s);
    chroma_fb =
        cuda::to_device(features::chroma_filter_bank(cfg.chroma, cfg.sr, cfg.stft.n_fft, 0.0), s);
    pip = {t.pip_lo, t.pip_hi};
    auto buf = [&](int64_t rows) { return cuda::DeviceBuffer<float>(B * rows * T, s); };
    mag = buf(F);
    power = buf(F);
    mel = buf(cfg.mel.n_mels);
    log_mel = buf(cfg.mel.n_mels);
    mfcc = buf(cfg.mfcc.n_mfcc);
    delta = buf(cfg.mfcc.n_mfcc);
    chroma = buf(cfg.chroma.n_chroma);
    contrast = buf(cfg.contrast.n_bands + 1);
    frame_feature = buf(1);
    stats = cuda::DeviceBuffer<float>(B * 2 * cfg.mfcc.n_mfcc, s);
    cuda::stft_spectra(ctx, cfg.stft, window, clips(), mag.data(), power.data(), nullptr, 1.0, s,
                       fft_f64);
    cuda::mel_spectrogram(ctx, cfg.mel, mel_fb.data(), frames(power, F), mel.data(), s);
    cuda::power_to_db(cfg.db, frames(mel, cfg.mel.n_mels), log_mel.data(), s);
    HP_CUDA_CHECK(cudaStreamSynchronize(s));
  }

  // The clips on the device, and a device batch of `rows` rows in the STFT's frames.
  features::Signal clips() const { return {audio.data(), nullptr, B, kSamples}; }
  features::FrameBatch frames(const cuda::DeviceBuffer<float>& d, int64_t rows) const {
    return {d.data(), B, static_cast<int>(rows), T,
            features::ValidFrames{nullptr, kSamples, features::stft_framing(cfg.stft)}};
  }

  // Times fn() with events on the extractor's stream: one warm-up, then one per iteration.
  void time(benchmark::State& state, const std::function<void()>& fn, double bytes = 0) {
    const cudaStream_t s = extractor.stream();
    fn();
    HP_CUDA_CHECK(cudaStreamSynchronize(s));
    cuda::Event start, stop;
    double total = 0;
    for (auto _ : state) {
      start.record(s);
      fn();
      stop.record(s);
      stop.synchronize();
      const double sec = stop.elapsed_ms(start) / 1e3;
      state.SetIterationTime(sec);
      total += sec;
    }
    const double iters = static_cast<double>(state.iterations());
    state.counters["rtf"] = B * kSeconds * iters / total;
    if (bytes > 0) {
      state.counters["GB/s"] = bytes * iters / total / 1e9;
      const double peak = peak_bandwidth();
      if (peak > 0) state.counters["of_peak"] = bytes * iters / total / peak;
    }
  }

  features::FeatureConfig cfg;
  std::shared_ptr<const features::FeatureTables> tables;
  cuda::FeatureExtractor extractor;
  cuda::Context ctx;
  int64_t B, T, F;
  cuda::DeviceBuffer<float> audio, mel_fb, dct, chroma_fb, mag, power, mel, log_mel, mfcc, delta,
      chroma, contrast, frame_feature, stats;
  cuda::DeviceWindow window;
  cuda::DeviceTables dev;  // the delta weights of order 1
  struct {
    int lo, hi;
  } pip;
};

// Runs a case; an error (cuFFT unable to link the callbacks, a framing that does not take the
// configuration) becomes that case's error instead of ending the program and the cases after it.
void guarded(benchmark::State& state, const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    state.SkipWithError(e.what());
  }
}

// The STFT's |X| and |X|^2 (stft_spectra) with its global-memory traffic: audio in, then
// kernel: float64 frames out and back in, the complex128 FFT output out and back in;
// callbacks (float64 FFT) and radix (the own FFT, float32): |X|^2 out of the FFT's kernel and
// back in; then |X| and |X|^2 out.
void stft(benchmark::State& state, cuda::FftFraming framing) {
  guarded(state, [&] {
    const bool f64 = framing != cuda::FftFraming::radix;
    Bench b(state.range(0), true, f64, framing);
    const cudaStream_t s = b.extractor.stream();
    const double rows = static_cast<double>(b.B * b.T);
    const double middle = framing == cuda::FftFraming::kernel
                              ? rows * b.cfg.stft.n_fft * 8.0 * 2 + rows * b.F * 16.0 * 2
                              : rows * b.F * 4.0 * 2;
    const double bytes = b.B * kSamples * 4.0 + middle + 2 * rows * b.F * 4.0;
    b.time(
        state,
        [&] {
          cuda::stft_spectra(b.ctx, b.cfg.stft, b.window, b.clips(), b.mag.data(), b.power.data(),
                             nullptr, 1.0, s, f64);
        },
        bytes);
  });
}
void BM_stft(benchmark::State& state) {
  stft(state, cuda::FftFraming::kernel);
}
void BM_stft_callbacks(benchmark::State& state) {
  stft(state, cuda::FftFraming::callbacks);
}
void BM_stft_radix(benchmark::State& state) {
  stft(state, cuda::FftFraming::radix);
}

void BM_mel(benchmark::State& state) {
  Bench b(state.range(0));
  b.time(state, [&] {
    cuda::mel_spectrogram(b.ctx, b.cfg.mel, b.mel_fb.data(), b.frames(b.power, b.F), b.mel.data(),
                          b.extractor.stream());
  });
}

void BM_log_mel(benchmark::State& state) {
  Bench b(state.range(0));
  b.time(state, [&] {
    cuda::power_to_db(b.cfg.db, b.frames(b.mel, b.cfg.mel.n_mels), b.log_mel.data(),
                      b.extractor.stream());
  });
}

void BM_mfcc(benchmark::State& state) {
  Bench b(state.range(0));
  b.time(state, [&] {
    cuda::mfcc(b.ctx, b.cfg.mfcc, b.dct.data(), b.frames(b.log_mel, b.cfg.mel.n_mels),
               b.mfcc.data(), b.extractor.stream());
  });
}

// BM_log_mel and BM_mfcc's work in one kernel, the log-mel spectrogram not written (as in the
// extractor when only MFCC is selected), with its own pass for the items' maxima (which the
// extractor's mel kernel finds instead: BM_mel_mfcc_*).
void BM_mfcc_from_mel(benchmark::State& state) {
  Bench b(state.range(0));
  b.time(state, [&] {
    cuda::mfcc_from_mel(b.ctx, b.cfg.db, b.cfg.mfcc, b.dct.data(),
                        b.frames(b.mel, b.cfg.mel.n_mels), nullptr, b.mfcc.data(),
                        b.extractor.stream());
  });
}

void BM_delta(benchmark::State& state) {
  Bench b(state.range(0));
  b.time(state, [&] {
    cuda::delta({b.cfg.delta, 1}, b.dev, b.frames(b.mfcc, b.cfg.mfcc.n_mfcc), b.delta.data(),
                b.extractor.stream());
  });
}

void BM_chroma(benchmark::State& state) {
  Bench b(state.range(0));
  b.time(state, [&] {
    cuda::chroma_stft(b.ctx, b.cfg.chroma, b.chroma_fb.data(), nullptr, b.frames(b.power, b.F),
                      b.chroma.data(), b.extractor.stream());
  });
}

// estimate_tuning of every item from its power spectrogram (piptrack, median, histogram).
void BM_tuning(benchmark::State& state) {
  Bench b(state.range(0));
  const cudaStream_t s = b.extractor.stream();
  cuda::DeviceBuffer<double> tuning(static_cast<size_t>(b.B), s);
  cuda::DeviceBuffer<int> bank(static_cast<size_t>(b.B), s);
  b.time(state, [&] {
    cuda::estimate_tuning(b.frames(b.power, b.F), b.cfg.sr, b.pip.lo, b.pip.hi,
                          b.cfg.chroma.n_chroma, tuning.data(), bank.data(), s);
  });
}

void BM_contrast(benchmark::State& state) {
  Bench b(state.range(0));
  b.time(state, [&] {
    cuda::spectral_contrast(b.cfg.contrast, b.tables->bands, b.frames(b.mag, b.F),
                            b.contrast.data(), b.extractor.stream());
  });
}

void BM_zcr(benchmark::State& state) {
  Bench b(state.range(0));
  b.time(state, [&] {
    cuda::zero_crossing_rate(b.cfg.zcr, b.clips(), b.frame_feature.data(), b.extractor.stream());
  });
}

void BM_rms(benchmark::State& state) {
  Bench b(state.range(0));
  b.time(state,
         [&] { cuda::rms(b.cfg.rms, b.clips(), b.frame_feature.data(), b.extractor.stream()); });
}

void BM_stats(benchmark::State& state) {
  Bench b(state.range(0));
  b.time(state, [&] {
    cuda::row_stats(b.frames(b.mfcc, b.cfg.mfcc.n_mfcc), b.stats.data(), 2 * b.cfg.mfcc.n_mfcc,
                    b.extractor.stream());
  });
}

// mel + MFCC from audio, as torchaudio's MFCC computes them (scripts/compare_torchaudio_gpu.py):
// the extractor's fused STFT + mel kernel, then power_to_db and the DCT in one kernel; the FFT in
// float64 or float32 (FeatureExtractor's fft_f64 = false: faster, further from librosa), framed by
// a kernel or by cuFFT's callbacks, or the own FFT (radix, float32).
void mel_mfcc(benchmark::State& state, bool f64, cuda::FftFraming framing) {
  guarded(state, [&] {
    Bench b(state.range(0), true, f64, framing);
    features::FeatureSelection what{};
    what = {false, false, false, true, false, false, false, false, false, false};
    b.time(state, [&] { b.extractor.run(b.audio.data(), nullptr, b.B, kSamples, what); });
  });
}
void BM_mel_mfcc(benchmark::State& state) {
  mel_mfcc(state, true, cuda::FftFraming::kernel);
}
void BM_mel_mfcc_f32(benchmark::State& state) {
  mel_mfcc(state, false, cuda::FftFraming::kernel);
}
void BM_mel_mfcc_callbacks(benchmark::State& state) {
  mel_mfcc(state, true, cuda::FftFraming::callbacks);
}
void BM_mel_mfcc_f32_callbacks(benchmark::State& state) {
  mel_mfcc(state, false, cuda::FftFraming::callbacks);
}
void BM_mel_mfcc_f32_radix(benchmark::State& state) {
  mel_mfcc(state, false, cuda::FftFraming::radix);
}

// The same stage by stage (before the fusions; the whole set's path, where chroma needs the power
// spectrogram, still has the first): STFT to |X|^2 in memory, cuBLAS mel product, power_to_db,
// cuBLAS DCT.
void BM_mel_mfcc_staged(benchmark::State& state) {
  Bench b(state.range(0));
  const cudaStream_t s = b.extractor.stream();
  b.time(state, [&] {
    cuda::stft_spectra(b.ctx, b.cfg.stft, b.window, b.clips(), nullptr, b.power.data(), nullptr,
                       2.0, s);
    cuda::mel_spectrogram(b.ctx, b.cfg.mel, b.mel_fb.data(), b.frames(b.power, b.F), b.mel.data(),
                          s);
    cuda::power_to_db(b.cfg.db, b.frames(b.mel, b.cfg.mel.n_mels), b.log_mel.data(), s);
    cuda::mfcc(b.ctx, b.cfg.mfcc, b.dct.data(), b.frames(b.log_mel, b.cfg.mel.n_mels),
               b.mfcc.data(), s);
  });
}

// The fused STFT + mel alone (BM_stft + BM_mel's work without the power spectrogram), with a
// float64 or a float32 FFT, framed by a kernel or by cuFFT's callbacks, or the own FFT (radix,
// float32).
void stft_mel(benchmark::State& state, bool f64, cuda::FftFraming framing) {
  guarded(state, [&] {
    Bench b(state.range(0), true, f64, framing);
    const std::vector<int> range =
        cuda::mel_bin_ranges(b.tables->mel_fb, b.cfg.mel.n_mels, static_cast<int>(b.F));
    const cuda::DeviceBuffer<int> d_range = cuda::to_device(range, b.extractor.stream());
    b.time(state, [&] {
      cuda::stft_mel(b.ctx, b.cfg.stft, b.window, b.clips(), b.mel_fb.data(), d_range.data(),
                     b.cfg.mel.n_mels, b.mel.data(), b.extractor.stream(), f64);
    });
  });
}
void BM_stft_mel(benchmark::State& state) {
  stft_mel(state, true, cuda::FftFraming::kernel);
}
void BM_stft_mel_f32(benchmark::State& state) {
  stft_mel(state, false, cuda::FftFraming::kernel);
}
void BM_stft_mel_callbacks(benchmark::State& state) {
  stft_mel(state, true, cuda::FftFraming::callbacks);
}
void BM_stft_mel_f32_callbacks(benchmark::State& state) {
  stft_mel(state, false, cuda::FftFraming::callbacks);
}
void BM_stft_mel_f32_radix(benchmark::State& state) {
  stft_mel(state, false, cuda::FftFraming::radix);
}

// The whole feature set, intermediates from the pool, outputs kept on the device.
void all(benchmark::State& state, bool f64, cuda::FftFraming framing) {
  guarded(state, [&] {
    Bench b(state.range(0), true, f64, framing);
    b.time(state, [&] { b.extractor.run(b.audio.data(), nullptr, b.B, kSamples, {}); });
  });
}
void BM_all(benchmark::State& state) {
  all(state, true, cuda::FftFraming::kernel);
}
void BM_all_f32(benchmark::State& state) {
  all(state, false, cuda::FftFraming::kernel);
}
void BM_all_callbacks(benchmark::State& state) {
  all(state, true, cuda::FftFraming::callbacks);
}
void BM_all_f32_callbacks(benchmark::State& state) {
  all(state, false, cuda::FftFraming::callbacks);
}
void BM_all_f32_radix(benchmark::State& state) {
  all(state, false, cuda::FftFraming::radix);
}

// The whole set with chroma tuning estimated per item (speech preset as is), on the device.
void BM_all_estimated_tuning(benchmark::State& state) {
  Bench b(state.range(0), false);
  b.time(state, [&] { b.extractor.run(b.audio.data(), nullptr, b.B, kSamples, {}); });
}

// What the callbacks cost once per shape and stream: nvJitLink linking them into a new cuFFT plan
// (a shape's first call; a Context caches the plan). Host time, a new frame count each time.
void BM_callback_plan(benchmark::State& state) {
  guarded(state, [&] {
    const cuda::Stream stream;
    const int n_fft = speech().stft.n_fft;
    int64_t rows = 301;
    for (auto _ : state) {
      cuda::Context ctx(cuda::FftFraming::callbacks);
      benchmark::DoNotOptimize(ctx.stft_callback_plan(n_fft, rows++, false, stream.get()));
    }
  });
}
BENCHMARK(BM_callback_plan)->Unit(benchmark::kMillisecond)->UseRealTime();

#define HP_GPU_BENCH(fn) \
  BENCHMARK(fn)->Arg(16)->Arg(256)->Arg(4096)->UseManualTime()->Unit(benchmark::kMillisecond)
HP_GPU_BENCH(BM_stft);
HP_GPU_BENCH(BM_stft_callbacks);
HP_GPU_BENCH(BM_stft_radix);
HP_GPU_BENCH(BM_mel);
HP_GPU_BENCH(BM_log_mel);
HP_GPU_BENCH(BM_mfcc);
HP_GPU_BENCH(BM_mfcc_from_mel);
HP_GPU_BENCH(BM_delta);
HP_GPU_BENCH(BM_chroma);
HP_GPU_BENCH(BM_tuning);
HP_GPU_BENCH(BM_contrast);
HP_GPU_BENCH(BM_zcr);
HP_GPU_BENCH(BM_rms);
HP_GPU_BENCH(BM_stats);
HP_GPU_BENCH(BM_stft_mel);
HP_GPU_BENCH(BM_stft_mel_f32);
HP_GPU_BENCH(BM_stft_mel_callbacks);
HP_GPU_BENCH(BM_stft_mel_f32_callbacks);
HP_GPU_BENCH(BM_stft_mel_f32_radix);
HP_GPU_BENCH(BM_mel_mfcc_staged);
HP_GPU_BENCH(BM_mel_mfcc);
HP_GPU_BENCH(BM_mel_mfcc_f32);
HP_GPU_BENCH(BM_mel_mfcc_callbacks);
HP_GPU_BENCH(BM_mel_mfcc_f32_callbacks);
HP_GPU_BENCH(BM_mel_mfcc_f32_radix);
HP_GPU_BENCH(BM_all);
HP_GPU_BENCH(BM_all_f32);
HP_GPU_BENCH(BM_all_callbacks);
HP_GPU_BENCH(BM_all_f32_callbacks);
HP_GPU_BENCH(BM_all_f32_radix);
HP_GPU_BENCH(BM_all_estimated_tuning);

}  // namespace

HP_CUDA_BENCHMARK_MAIN("bench_cuda_features")
