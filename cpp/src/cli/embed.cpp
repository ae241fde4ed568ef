// `hptrain embed --run DIR --out emb.h5 FILE...`: L2-normalised speaker embeddings of sliding
// windows of whole files, from any neural run (speakers/embed.h). A file with no usable audio
// gives no row and a warning; the others go on.
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "cli/embed_options.h"
#include "cli/registry.h"
#include "hptrain/speakers/embed.h"

namespace hptrain::cli {
namespace {

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "embed",
      "Speaker embeddings of sliding windows of whole files with a neural run (CNN, LSTM, "
      "ECAPA): HDF5 with embeddings [N, D], start_s, duration_s, source");
  auto opts = std::make_shared<speakers::EmbedCommandOptions>();
  add_run_and_windows(sub, opts->run, opts->embed);
  sub->add_option("--out", opts->out, "HDF5 file to write (e.g. emb.h5)")->required();
  sub->add_option("--batch-size", opts->embed.batch_size,
                  "Windows per batch (default: the run's train.batch_size)")
      ->check(CLI::Range(1, 1000000));
  sub->add_option("--device", opts->embed.device,
                  "auto | cpu | cuda[:N] (default: the run's train.device)");
  sub->add_option("--threads", opts->embed.threads,
                  "LibTorch CPU threads (default: the run's train.threads)")
      ->check(CLI::Range(1, 4096));
  sub->add_option("--mode", opts->embed.mode,
                  "window | stream | auto: window embeds each window alone (as training saw its "
                  "chunks; what enroll and diarize use); stream runs the model once over the "
                  "audio and pools each window's frames (the CNN: about 3x faster at 50 % "
                  "overlap, cosine ~0.98 to window rows); auto: stream where the model allows it")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "stream", "window"}));
  sub->add_option("--precision", opts->embed.precision,
                  "auto | fp32 | bf16: bf16 autocast (auto: the run's train.mixed_precision on "
                  "CUDA; bf16 on CPUs with native bf16, such as AMX CPUs; else fp32)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "fp32", "bf16"}));
  sub->add_option("--segment-s", opts->embed.segment_s,
                  "Stream mode: audio per model call (s); memory grows with it")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--dither", opts->embed.dither,
                  "Gaussian noise added before the features, in 16-bit sample units (Kaldi's "
                  "dither; 1: -90 dBFS), so digital silence looks like a quiet room; 0: none")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  auto stream = std::make_shared<int>(-1);
  auto* stream_opt =
      sub->add_option("--stream", *stream,
                      "Container stream to embed, as ffprobe numbers it (Stream #0:N) (default: "
                      "the run dataset's preprocess.stream)")
          ->check(CLI::Range(-1, std::numeric_limits<int>::max()));
  sub->add_option("files", opts->files, "Audio or video files")
      ->required()
      ->check(CLI::ExistingFile);
  sub->callback([opts, stream, stream_opt] {
    if (stream_opt->count() > 0) opts->embed.stream = *stream;
    const auto results = speakers::run_embed(*opts);
    int64_t total = 0;
    for (const auto& r : results) {
      std::printf("%s: %lld windows\n", r.file.string().c_str(), static_cast<long long>(r.windows));
      total += r.windows;
    }
    std::printf("%lld embeddings -> %s\n", static_cast<long long>(total),
                opts->out.string().c_str());
  });
}

const CommandRegistrar kRegistrar("embed", setup);

}  // namespace
}  // namespace hptrain::cli
