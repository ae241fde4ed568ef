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
  sub->add_option("--threads", opts->threads, "Worker threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->callback([opts] {
    const features::FeaturesSummary sum =
        features::run_features(*opts, [&](const std::string& path, int sr, bool pre) {
          return load_audio(*opts, path, sr, pre);
        });
    std::cout << "wrote " << opts->out.string() << ": " << sum.n_samples << " samples at "
              << sum.config.sr << " Hz, " << sum.n_frames << " frames"
              << (sum.deltas ? "" : " (too short for deltas and stats)") << ", chroma tuning "
              << sum.tuning << "\n";
  });
}

const CommandRegistrar registrar("features", setup);

}  // namespace
}  // namespace hptrain::cli
