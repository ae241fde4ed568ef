// `hptrain diarize`: who speaks when in audio/video files (diarization/diarize.h): one RTTM, a
// segments CSV and a timeline PNG per file.
#include <memory>

#include "cli/registry.h"
#include "hptrain/diarization/diarize.h"

namespace hptrain::cli {
namespace {

struct DiarizeCli {
  diarization::DiarizeOptions opts;
  int num_speakers = 0;
  int min_speakers = 1;
  int max_speakers = 20;
};

void run(DiarizeCli& st, CLI::App* sub) {
  auto& c = st.opts.config.clustering;
  if (sub->count("--min-speakers") > 0 && sub->count("--max-speakers") > 0 &&
      st.min_speakers > st.max_speakers) {
    throw CLI::ValidationError("--min-speakers", "must be <= --max-speakers");
  }
  c.num_speakers = st.num_speakers;
  c.min_speakers = st.min_speakers;
  c.max_speakers = std::max(st.max_speakers, st.min_speakers);
  if (diarization::run_diarize(st.opts) > 0) set_exit_code(kExitInput);
}

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "diarize",
      "Who speaks when: one RTTM, a segments CSV and a timeline PNG per audio/video file, "
      "from train-free MFCC-statistics embeddings (README, 'Diarization')");
  auto st = std::make_shared<DiarizeCli>();
  DiarizeCli* p = st.get();
  auto& cfg = p->opts.config;
  sub->add_option("files", p->opts.files, "Audio or video files")->required();
  sub->add_option("--out", p->opts.out, "Output folder")->required();
  auto* num =
      sub->add_option("--num-speakers", p->num_speakers, "The number of speakers, when known")
          ->check(CLI::Range(1, 1000));
  auto* lo = sub->add_option("--min-speakers", p->min_speakers, "At least this many speakers")
                 ->capture_default_str()
                 ->check(CLI::Range(1, 1000));
  auto* hi = sub->add_option("--max-speakers", p->max_speakers, "At most this many speakers")
                 ->capture_default_str()
                 ->check(CLI::Range(1, 1000));
  num->excludes(lo)->excludes(hi);
  sub->add_option("--clustering", cfg.clustering.method,
                  "ahc (agglomerative, average linkage, stopped at --threshold) or spectral "
                  "(number of speakers from the eigengap)")
      ->capture_default_str()
      ->check(CLI::IsMember({"ahc", "spectral"}));
  sub->add_option("--threshold", cfg.clustering.threshold,
                  "ahc: stop merging when the average cosine similarity of the closest clusters "
                  "falls below this (calibrated on development conversations)")
      ->capture_default_str();
  sub->add_option("--stream", cfg.stream,
                  "Audio stream index as ffprobe lists it (0:N); -1 = the first audio stream")
      ->capture_default_str();
  sub->callback([st, sub] { run(*st, sub); });
}

const CommandRegistrar kRegistrar("diarize", setup);

}  // namespace
}  // namespace hptrain::cli
