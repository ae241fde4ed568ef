// `hptrain features`: every librosa-compatible feature of one audio/video file into HDF5
// (datasets named as tests/data/reference's files; see README, "Features").
#include <iostream>
#include <memory>

#include "cli/registry.h"
#include "hptrain/features/run.h"
#include "hptrain/io/audio.h"
#include "hptrain/preprocess/preprocess.h"

namespace hptrain::cli {
namespace {

// io::load_mono, or preprocess::process_whole (with the TOML's [preprocess] table if any) at the
// feature rate. A mono file already at `sr` is decoded as it is: no resampling or gain.
std::vector<float> load_audio(const features::FeaturesOptions& opts, const std::string& path,
                              int sr, bool with_preprocess) {
  if (!with_preprocess) return io::load_mono(path, sr);
  preprocess::PreprocessConfig pc;
  if (!opts.config.empty()) {
    const toml::table root = config::parse_file(opts.config);
    const config::Section s(&root, opts.config.string());
    if (s.has("preprocess")) preprocess::from_toml(s.section("preprocess"), pc);
  }
  pc.sr = sr;
  pc.validate();
  return preprocess::process_whole(path, pc);
}

// io::MonoReader as a features::SampleSource: the file is decoded as it is read.
class ReaderSource : public features::SampleSource {
 public:
  ReaderSource(const std::string& path, int sr) : reader_(path, sr) {}
  size_t read(float* out, size_t max) override { return reader_.read(out, max); }

 private:
  io::MonoReader reader_;
};

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "features",
      "Compute every librosa-compatible feature of one audio/video file (STFT magnitude, mel, "
      "log-mel, MFCC and deltas, chroma, spectral contrast, ZCR, RMS, pooled stats) into HDF5");
  auto opts = std::make_shared<features::FeaturesOptions>();
  sub->add_option("--input", opts->input, "Audio or video file")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--out", opts->out, "Output HDF5 file (written atomically)")->required();
  sub->add_option("--preset", opts->preset, "Parameter preset: speech or librosa-default")
      ->check(CLI::IsMember({"speech", "librosa-default"}))
      ->capture_default_str();
  sub->add_option("--config", opts->config,
                  "TOML file: its [features] table (keys = field names, sub-tables [stft], [mel], "
                  "..., optional preset = \"...\") is applied on the preset")
      ->check(CLI::ExistingFile);
  sub->add_flag("--preprocess", opts->preprocess,
                "Trim silence and normalise loudness first (the TOML's [preprocess] table); off: "
                "the file's samples are used as decoded");
  sub->add_option("--compression", opts->compression,
                  "Storage of the datasets: none, gzip[:LEVEL] (1-9, shuffle + deflate) or lzf "
                  "(shuffle + LZF, h5py's filter; needs hdf5-plugin-lzf)")
      ->check([](const std::string& v) {
        try {
          h5::Compression::parse(v, "--compression");
          return std::string();
        } catch (const std::exception& e) {
          return std::string(e.what());
        }
      })
      ->capture_default_str();
  sub->add_option("--fft-precision", opts->fft_precision,
                  "The GPU path's FFT: float64 (librosa's) or float32 (faster; see README); "
                  "default: the preset's or the TOML's fft_precision (float64). The CPU's FFT "
                  "is float64 always")
      ->check(CLI::IsMember({"float32", "float64"}));
  sub->add_option("--window-frames", opts->window_frames,
                  "STFT frames per window of the stream (memory is bounded by the window; the "
                  "results do not depend on it)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--threads", opts->threads, "Worker threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->callback([opts] {
    // without --preprocess the file streams from the decoder; with it, trimming and loudness
    // need the whole file first: its samples (4 bytes each) stay in memory, the features stream
    const features::AudioOpener open =
        opts->preprocess
            ? features::memory_opener([&](const std::string& path, int sr, bool pre) {
                return load_audio(*opts, path, sr, pre);
              })
            : features::AudioOpener([](const std::string& path, int sr,
                                       bool) -> std::unique_ptr<features::SampleSource> {
                return std::make_unique<ReaderSource>(path, sr);
              });
    const features::FeaturesSummary sum = features::run_features(*opts, open);
    std::cout << "wrote " << opts->out.string() << ": " << sum.n_samples << " samples at "
              << sum.config.sr << " Hz, " << sum.n_frames << " frames"
              << (sum.deltas ? "" : " (too short for deltas and stats)") << ", chroma tuning "
              << sum.tuning << "\n";
  });
}

const CommandRegistrar registrar("features", setup);

}  // namespace
}  // namespace hptrain::cli
