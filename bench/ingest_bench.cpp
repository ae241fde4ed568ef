// Decode + downmix + resample throughput of hptrain::io::MonoReader, and of the whole
// preprocess pipeline, in seconds of audio per second of wall time (counter "rtf").
#include <benchmark/benchmark.h>
#include <sndfile.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <vector>

#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "hptrain/preprocess/preprocess.h"

namespace {

namespace stdfs = std::filesystem;

constexpr double kSeconds = 60.0;

// Generated inputs (a tone plus noise, 60 s), in a temporary folder removed at exit.
class Inputs {
 public:
  Inputs() : dir_(stdfs::temp_directory_path() / ("hptrain-bench-" + std::to_string(getpid()))) {
    stdfs::create_directories(dir_);
    write("stereo44k.wav", 44100, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    write("stereo44k.flac", 44100, 2, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
    write("mono16k.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    write("mono16kf.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    // film-like: AAC stereo 48 kHz in MP4 beside a tiny video stream, through FFmpeg
    const std::string mp4 = (dir_ / "film48k.mp4").string();
    const std::string cmd =
        "ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc=size=32x32:rate=1:duration=60 "
        "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=60 -ac 2 -c:v mpeg4 "
        "-c:a aac '" +
        mp4 + "' 2>/dev/null";
    if (std::system(cmd.c_str()) == 0) mp4_ = mp4;
  }
  ~Inputs() {
    std::error_code ignore;
    hptrain::fs::remove_tree(dir_, ignore);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  const std::string& mp4() const { return mp4_; }  // empty without the ffmpeg command

 private:
  void write(const std::string& name, int sr, int channels, int format) {
    const auto frames = static_cast<size_t>(kSeconds * sr);
    std::vector<float> x(frames * static_cast<size_t>(channels));
    std::mt19937 gen(1);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    for (size_t i = 0; i < frames; ++i) {
      for (int c = 0; c < channels; ++c) {
        x[i * static_cast<size_t>(channels) + static_cast<size_t>(c)] =
            0.3f * static_cast<float>(std::sin(2 * M_PI * (440.0 + 110 * c) * i / sr)) + noise(gen);
      }
    }
    SF_INFO info{};
    info.samplerate = sr;
    info.channels = channels;
    info.format = format;
    SNDFILE* sf = sf_open((dir_ / name).c_str(), SFM_WRITE, &info);
    sf_writef_float(sf, x.data(), static_cast<sf_count_t>(frames));
    sf_close(sf);
  }

  stdfs::path dir_;
  std::string mp4_;
};

const Inputs& inputs() {
  static const Inputs in;
  return in;
}

// One OGG Vorbis track of the Wesnoth music (Debian package wesnoth-1.16-music), if installed.
std::string wesnoth_ogg() {
  const stdfs::path p = "/usr/share/games/wesnoth/1.16/data/core/music/battle.ogg";
  return stdfs::exists(p) ? p.string() : std::string();
}

// Streams the whole file through MonoReader at 16 kHz.
void decode(benchmark::State& state, const std::string& path) {
  if (path.empty()) {
    state.SkipWithError("input not available (wesnoth music or the ffmpeg command missing)");
    return;
  }
  std::vector<float> buf(1 << 16);
  double seconds = 0;
  for (auto _ : state) {
    hptrain::io::MonoReader r(path, 16000);
    size_t total = 0;
    for (size_t n; (n = r.read(buf.data(), buf.size())) > 0;) total += n;
    benchmark::DoNotOptimize(total);
    seconds = static_cast<double>(total) / 16000;
  }
  state.counters["rtf"] =
      benchmark::Counter(seconds, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["audio_s"] = seconds;
}

void BM_Decode_Wav44kStereo(benchmark::State& s) {
  decode(s, inputs().path("stereo44k.wav"));
}
void BM_Decode_Flac44kStereo(benchmark::State& s) {
  decode(s, inputs().path("stereo44k.flac"));
}
void BM_Decode_Wav16kMonoNoResample(benchmark::State& s) {
  decode(s, inputs().path("mono16k.wav"));
}
void BM_Decode_Wav16kMonoFloat(benchmark::State& s) {
  decode(s, inputs().path("mono16kf.wav"));
}
void BM_Decode_Mp4Aac48kStereo(benchmark::State& s) {
  decode(s, inputs().mp4());
}
void BM_Decode_OggWesnoth(benchmark::State& s) {
  decode(s, wesnoth_ogg());
}

// The process's CPU time (user + sys, every thread), s.
double process_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Preprocesses `path` with `cfg` each iteration; counters: audio seconds per wall second
// (`rtf`) and per CPU second of every thread (`rtf_cpu`: the analysis uses two).
void preprocess_file(benchmark::State& state, const std::string& path,
                     const hptrain::preprocess::PreprocessConfig& cfg) {
  double seconds = 0;
  const double cpu0 = process_cpu_s();
  for (auto _ : state) {
    int64_t chunks = 0;
    const auto rep = hptrain::preprocess::process_file(
        path, cfg, [&](hptrain::preprocess::Chunk&&) { ++chunks; });
    benchmark::DoNotOptimize(chunks);
    seconds = rep.duration_s;
  }
  state.counters["rtf"] =
      benchmark::Counter(seconds, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["rtf_cpu"] =
      seconds * static_cast<double>(state.iterations()) / (process_cpu_s() - cpu0);
}

// The whole preprocess of one file (analysis passes, trim, loudness, 3 s chunks), defaults.
void BM_Preprocess_Wav44kStereo(benchmark::State& state) {
  preprocess_file(state, inputs().path("stereo44k.wav"), hptrain::preprocess::PreprocessConfig{});
}

// What `hptrain embed` runs in stream mode on a 16 kHz float WAV (io::write_wav's format): the
// preprocess in blocks of 10 s, every sample kept.
void BM_Preprocess_Wav16kMonoBlocks(benchmark::State& state) {
  const std::string path = inputs().path("mono16kf.wav");
  hptrain::preprocess::PreprocessConfig cfg;
  cfg.chunk_s = 10;
  cfg.chunk_hop_s = 10;
  cfg.min_last_fraction = 1e-9;
  preprocess_file(state, path, cfg);
}

BENCHMARK(BM_Decode_Wav44kStereo)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Decode_Flac44kStereo)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Decode_Wav16kMonoNoResample)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Decode_Wav16kMonoFloat)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Decode_Mp4Aac48kStereo)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Decode_OggWesnoth)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Preprocess_Wav44kStereo)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Preprocess_Wav16kMonoBlocks)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
