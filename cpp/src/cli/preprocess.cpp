// `hptrain preprocess`: audio/video files to 16 kHz mono chunk WAVs plus chunks.csv.
// Options mirror PreprocessConfig (kebab-case); --config reads a [preprocess] table first.
#include <iostream>
#include <memory>

#include "cli/registry.h"
#include "hptrain/preprocess/preprocess.h"

namespace hptrain::cli {
namespace {

using preprocess::PreprocessConfig;

struct PreprocessCli {
  preprocess::PreprocessOptions opts;
  std::string config_file;
  PreprocessConfig given;  // values of the options, applied only when given
  std::vector<std::pair<CLI::Option*, std::function<void(PreprocessConfig&)>>> overrides;
};

template <class T>
void field(CLI::App* sub, PreprocessCli* st, const std::string& name, T PreprocessConfig::*member,
           const std::string& help) {
  CLI::Option* o = sub->add_option(name, st->given.*member, help)->capture_default_str();
  st->overrides.emplace_back(o,
                             [st, member](PreprocessConfig& c) { c.*member = st->given.*member; });
}

void run(PreprocessCli& st) {
  PreprocessConfig& cfg = st.opts.config;
  if (!st.config_file.empty()) {
    const toml::table root = config::parse_file(st.config_file);
    const config::Section s = config::Section(&root, st.config_file).section("preprocess");
    preprocess::from_toml(s, cfg);
    s.check_unknown();
  }
  for (auto& [opt, apply] : st.overrides) {
    if (opt->count() > 0) apply(cfg);
  }
  cfg.validate();
  const preprocess::PreprocessSummary sum = preprocess::run_preprocess(st.opts);
  std::cout << "converted " << sum.converted << " of " << sum.files << " files into " << sum.chunks
            << " chunks in " << st.opts.out.string();
  if (sum.converted > 0) std::cout << " (index: " << (st.opts.out / "chunks.csv").string() << ")";
  std::cout << "\n";
  if (!sum.skipped.empty()) {
    std::cout << "skipped " << sum.skipped.size() << " files:\n";
    for (const auto& s : sum.skipped) std::cout << "  " << s.source << ": " << s.reason << "\n";
  }
  if (sum.converted == 0) set_exit_code(kExitInput);
}

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "preprocess",
      "Convert audio and video files to mono chunks (float32 WAV) plus OUT/chunks.csv: decode, "
      "resample, trim silence, normalise loudness, cut into chunks (see the README, 'Ingest and "
      "preprocessing')");
  auto st = std::make_shared<PreprocessCli>();
  PreprocessCli* p = st.get();
  sub->add_option("--input", p->opts.input, "An audio/video file, or a folder searched recursively")
      ->required()
      ->check(CLI::ExistingPath);
  sub->add_option("--out", p->opts.out, "Output folder for the chunk WAVs and chunks.csv")
      ->required();
  sub->add_option("--config", p->config_file,
                  "TOML file whose [preprocess] table sets the options below (keys = field "
                  "names, e.g. top_db); options given here override it")
      ->check(CLI::ExistingFile);
  field(sub, p, "--sr", &PreprocessConfig::sr, "Output sample rate (Hz)");
  field(sub, p, "--stream", &PreprocessConfig::stream,
        "Stream index as ffprobe lists it (0:N); -1 = the first audio stream");
  CLI::Option* trim =
      sub->add_flag("--trim,!--no-trim", p->given.trim,
                    "Trim leading/trailing silence like librosa.effects.trim (default: on)");
  p->overrides.emplace_back(trim, [p](PreprocessConfig& c) { c.trim = p->given.trim; });
  field(sub, p, "--top-db", &PreprocessConfig::top_db,
        "Trim: frames more than this many dB below the loudest frame's RMS are silence");
  field(sub, p, "--frame-length", &PreprocessConfig::frame_length,
        "Trim: RMS frame length (samples at --sr)");
  field(sub, p, "--hop-length", &PreprocessConfig::hop_length, "Trim: RMS hop (samples at --sr)");
  field(sub, p, "--normalize", &PreprocessConfig::normalize,
        "loudness (EBU R128 to --target-lufs), peak (sample peak to --peak-db) or none");
  sub->get_option("--normalize")->check(CLI::IsMember({"loudness", "peak", "none"}));
  field(sub, p, "--target-lufs", &PreprocessConfig::target_lufs,
        "Integrated loudness target (LUFS) for --normalize loudness");
  field(sub, p, "--peak-db", &PreprocessConfig::peak_db,
        "Sample peak target (dBFS) for --normalize peak");
  field(sub, p, "--true-peak-db", &PreprocessConfig::true_peak_db,
        "Ceiling (dBTP): the gain never lifts the true peak above it");
  field(sub, p, "--chunk-s", &PreprocessConfig::chunk_s, "Chunk length (s)");
  field(sub, p, "--chunk-hop-s", &PreprocessConfig::chunk_hop_s,
        "Distance between chunk starts (s); not tied to --chunk-s: give both for "
        "back-to-back chunks");
  field(sub, p, "--last-chunk", &PreprocessConfig::last_chunk,
        "The partial chunk after the last full one: pad (zero-pad when long enough) or drop");
  sub->get_option("--last-chunk")->check(CLI::IsMember({"pad", "drop"}));
  field(sub, p, "--min-last-fraction", &PreprocessConfig::min_last_fraction,
        "pad: keep the partial chunk when it is at least this fraction of --chunk-s");
  sub->callback([st] { run(*st); });
}

const CommandRegistrar kRegistrar("preprocess", setup);

}  // namespace
}  // namespace hptrain::cli
