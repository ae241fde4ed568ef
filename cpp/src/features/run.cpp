// `hptrain features` in the library: configuration, extraction of a whole file, HDF5 output.
#include "hptrain/features/run.h"

#include <algorithm>
#include <sstream>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "hptrain/log.h"
#include "hptrain/toml_config.h"

namespace hptrain::features {

FeatureConfig resolve_config(const FeaturesOptions& opts) {
  FeatureConfig cfg = preset(opts.preset);
  if (!opts.config.empty()) {
    const toml::table root = config::parse_file(opts.config);
    const config::Section s = config::Section(&root, opts.config.string()).section("features");
    from_toml(s, cfg);
    s.check_unknown();
  }
  if (opts.threads > 0) cfg.threads = opts.threads;
  cfg.validate();
  return cfg;
}

FeaturesSummary run_features(const FeaturesOptions& opts, const AudioLoader& load) {
  FeaturesSummary sum;
  sum.config = resolve_config(opts);
  const FeatureConfig& cfg = sum.config;
  std::ostringstream printed;
  printed << cfg;
  HP_LOG_INFO("features of '{}' -> '{}', parameters:\n{}", opts.input.string(), opts.out.string(),
              printed.str());
  const std::vector<float> y = load(opts.input.string(), cfg.sr, opts.preprocess);
  if (y.empty()) throw InputError("'" + opts.input.string() + "': no audio samples");
  sum.n_samples = static_cast<int64_t>(y.size());
  sum.n_frames = n_frames(cfg, sum.n_samples);
  FeatureSelection what;
  if (cfg.delta.mode == "interp" && sum.n_frames < cfg.delta.width) {
    HP_LOG_WARN("'{}': {} frames are fewer than delta.width={}: no deltas and no stats",
                opts.input.string(), sum.n_frames, cfg.delta.width);
    what.deltas = what.stats = false;
    sum.deltas = false;
  }
  const FeatureSet fs = extract(cfg, y.data(), 1, sum.n_samples, what);
  sum.tuning = fs.tuning.at(0);
  write_features_h5(opts.out, cfg, fs, sum.n_samples);
  HP_LOG_INFO("wrote '{}': {} samples, {} frames, chroma tuning {}", opts.out.string(),
              sum.n_samples, sum.n_frames, sum.tuning);
  return sum;
}

void write_features_h5(const std::filesystem::path& path, const FeatureConfig& cfg,
                       const FeatureSet& fs, int64_t n_samples) {
  fs::atomic_write(path, [&](const std::filesystem::path& tmp) {
    h5::File f = h5::File::create(tmp);
    const std::pair<const char*, const Tensor3*> datasets[] = {
        {"stft_mag", &fs.stft_mag},
        {"melspectrogram", &fs.melspectrogram},
        {"log_mel", &fs.log_mel},
        {"mfcc", &fs.mfcc},
        {"mfcc_delta", &fs.mfcc_delta},
        {"mfcc_delta2", &fs.mfcc_delta2},
        {"chroma_stft", &fs.chroma_stft},
        {"spectral_contrast", &fs.spectral_contrast},
        {"zcr", &fs.zcr},
        {"rms", &fs.rms}};
    for (const auto& [name, t] : datasets) {
      if (t->batch == 0) continue;
      h5::Storage storage;  // chunks of whole rows x 4096 frames, gzip: long files stay small
      storage.chunk = {t->rows, std::min<int64_t>(t->frames, 4096)};
      storage.gzip = 4;
      f.write(name, t->item(0), {t->rows, t->frames}, storage);
    }
    if (fs.stats.batch > 0) {
      f.write("stats", fs.stats.item(0), {fs.stats.frames});
      f.set_attr("stats", "columns", stats_columns(cfg));
    } else {
      f.set_attr(
          "/", "delta_error",
          "when mode='interp', width=" + std::to_string(cfg.delta.width) +
              " cannot exceed the number of frames=" + std::to_string(n_frames(cfg, n_samples)));
    }
    write_attrs(f, "/", cfg);
    f.set_attr("/", "n_samples", n_samples);
    f.set_attr("/", "n_frames", n_frames(cfg, n_samples));
    if (!fs.tuning.empty()) f.set_attr("/", "tuning_chroma_stft", fs.tuning[0]);
    f.set_attr("/", "hptrain_version", std::string(HP_VERSION));
    f.close();
  });
}

}  // namespace hptrain::features
