// `hptrain diarize`: who speaks when in audio/video files (diarization/diarize.h): one RTTM, a
// segments CSV and a timeline PNG per file. With `--vad PATH`, `--run RUN` or `--cast FILE` the
// LibTorch-free `hptrain` hands the command to `hptrain-torch`, which runs the TorchScript
// speech model or the run's embeddings (speakers/window_embedder.h) (HP_CLI_TORCH).
#include <algorithm>
#include <memory>
#include <string>

#include "cli/registry.h"
#include "hptrain/diarization/diarization_io.h"
#include "hptrain/diarization/diarize.h"

#ifdef HP_CLI_TORCH
#include <torch/script.h>
#include <torch/utils.h>

#include "hptrain/error.h"
#include "hptrain/speakers/window_embedder.h"
#else
#include "cli/core/torch_forward.h"
#endif

namespace hptrain::cli {
namespace {

#ifdef HP_CLI_TORCH
// A TorchScript voice-activity model with Silero VAD's interface: forward(x [1, 512] float32 at
// 16 kHz, sr) -> [1, 1] speech probability of those 32 ms, stateful across calls (reset_states()
// first, when the model has it); a model whose forward takes x alone is called so.
class TorchScriptVad : public diarization::SpeechModel {
 public:
  explicit TorchScriptVad(const std::string& path) : path_(path) {
    try {
      module_ = torch::jit::load(path, torch::kCPU);
      module_.eval();
      if (auto reset = module_.find_method("reset_states")) (*reset)(std::vector<c10::IValue>{});
      with_sr_ = module_.get_method("forward").function().getSchema().arguments().size() >= 3;
    } catch (const c10::Error& e) {
      throw InputError("--vad '" + path +
                       "': cannot load a TorchScript model: " + e.what_without_backtrace());
    }
  }
  std::string name() const override { return path_; }
  void feed(const float* x, size_t n) override {
    pending_.insert(pending_.end(), x, x + n);
    size_t used = 0;
    torch::NoGradGuard no_grad;
    OneThread one;
    for (; used + kChunk <= pending_.size(); used += kChunk) run(pending_.data() + used);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(used));
  }
  std::vector<float> frame_probabilities(int64_t frames) override {
    if (!pending_.empty()) {  // the last partial chunk, zero-padded
      pending_.resize(kChunk, 0.0f);
      torch::NoGradGuard no_grad;
      OneThread one;
      run(pending_.data());
      pending_.clear();
    }
    std::vector<float> p(static_cast<size_t>(frames), 0.0f);
    for (int64_t t = 0; t < frames && !probs_.empty(); ++t) {
      // frame t is centred at sample 160 t + 256
      const auto chunk = static_cast<size_t>((160 * t + 256) / kChunk);
      p[static_cast<size_t>(t)] = probs_[std::min(chunk, probs_.size() - 1)];
    }
    return p;
  }

 private:
  static constexpr size_t kChunk = 512;
  // The model runs on one LibTorch thread, then the count goes back to what the run's embedder
  // set: its calls are a few small operations per 32 ms, where a second thread only spins (on two
  // busy cores, 5x the time of one thread).
  struct OneThread {
    int before = torch::get_num_threads();
    OneThread() { torch::set_num_threads(1); }
    ~OneThread() { torch::set_num_threads(before); }
  };
  void run(const float* x) {
    const torch::Tensor in =
        torch::from_blob(const_cast<float*>(x), {1, static_cast<int64_t>(kChunk)}, torch::kFloat32);
    std::vector<c10::IValue> args{in};
    if (with_sr_) args.emplace_back(static_cast<int64_t>(16000));
    try {
      const torch::Tensor out = module_.forward(args).toTensor();
      probs_.push_back(out.reshape({-1})[0].item<float>());
    } catch (const c10::Error& e) {
      throw InputError("--vad '" + path_ +
                       "': the model failed on a 512-sample chunk: " + e.what_without_backtrace());
    }
  }
  std::string path_;
  torch::jit::Module module_;
  bool with_sr_ = true;
  std::vector<float> pending_;
  std::vector<float> probs_;  // one per 32 ms chunk
};
#endif

struct DiarizeCli {
  diarization::DiarizeOptions opts;
  std::string vad;
  std::string run_dir;
  std::string cast;
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
  if (st.opts.config.whiten && st.run_dir.empty()) {
    throw CLI::ValidationError("--whiten", "whitens a run's embeddings: give --run");
  }
  if (!st.vad.empty()) {
#ifdef HP_CLI_TORCH
    const std::string path = st.vad;
    st.opts.vad = [path] { return std::make_unique<TorchScriptVad>(path); };
#else
    run_torch_binary();  // the model needs LibTorch
#endif
  }
  if (!st.run_dir.empty() || !st.cast.empty()) {
#ifdef HP_CLI_TORCH
    // the clustering settings calibrated for this run's embeddings, unless given here
    const std::filesystem::path settings = std::filesystem::path(st.run_dir) / "diarization.toml";
    if (!st.run_dir.empty() && std::filesystem::exists(settings)) {
      const diarization::DiarizeConfig given = st.opts.config;
      diarization::read_diarize_settings(settings, st.opts.config);
      if (sub->count("--threshold") > 0) c.threshold = given.clustering.threshold;
      if (sub->count("--clustering") > 0) c.method = given.clustering.method;
      auto& r = st.opts.config.recording;
      if (sub->count("--standardise") > 0) r.standardise = given.recording.standardise;
      if (sub->count("--whiten") > 0) st.opts.config.whiten = given.whiten;
      if (sub->count("--whiten-weight") > 0) r.whiten_weight = given.recording.whiten_weight;
      if (sub->count("--piece") > 0) r.piece_s = given.recording.piece_s;
      if (sub->count("--link-threshold") > 0) r.link_threshold = given.recording.link_threshold;
      if (sub->count("--mfcc-weight") > 0) st.opts.config.mfcc_weight = given.mfcc_weight;
    }
    auto emb = std::make_shared<speakers::RunWindowEmbedder>(st.run_dir, st.opts.config.window_s,
                                                             st.opts.config.hop_s);
    if (!st.cast.empty()) st.opts.cast = speakers::read_enrolment(st.cast, emb->embedder());
    if (st.opts.config.whiten) {
      st.opts.config.recording.whitening = std::make_shared<const diarization::Whitening>(
          speakers::fit_run_whitening(emb->embedder()));
    }
    st.opts.embedder = std::move(emb);
#else
    run_torch_binary();  // the run's model needs LibTorch
#endif
  }
  if (diarization::run_diarize(st.opts) > 0) set_exit_code(kExitInput);
}

void setup(CLI::App& root) {
  auto* sub = root.add_subcommand(
      "diarize",
      "Who speaks when: one RTTM, a segments CSV and a timeline PNG per audio/video file, "
      "from train-free MFCC-statistics embeddings or a trained run's (README, 'Diarization')");
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
  sub->add_option("--standardise", cfg.recording.standardise,
                  "z-score the window embeddings per recording before the cosine (a run's "
                  "diarization.toml may set it; the train-free embedder needs it)")
      ->capture_default_str();
  sub->add_option("--whiten", cfg.whiten,
                  "With --run: whiten the run's embeddings by the spread of its own training "
                  "voices (within-speaker covariance, fitted on its training chunks) before the "
                  "cosine (a run's diarization.toml may set it)")
      ->capture_default_str();
  sub->add_option("--whiten-weight", cfg.recording.whiten_weight,
                  "With --whiten: the whitened cosine's share of the window pairs' similarity; "
                  "the rest is the cosine without the whitening (1: whitened alone)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--hop", cfg.hop_s,
                  "Seconds between the starts of the 1.5-s embedding windows (a larger hop embeds "
                  "fewer windows: faster with a slow run)")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 1.5));
  sub->add_option("--piece", cfg.recording.piece_s,
                  "Recordings longer than twice this (s) are clustered in two stages: each piece "
                  "alone, then the pieces' speakers joined down to --link-threshold (0: one stage)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  sub->add_option("--link-threshold", cfg.recording.link_threshold,
                  "Two-stage clustering: stop joining the pieces' speakers when the closest "
                  "pair's average centroid cosine falls below this")
      ->capture_default_str();
  sub->add_option("--embedding-cache", p->opts.embedding_cache,
                  "Keep the window embeddings in this folder and read them back when the same "
                  "audio is diarized again with the same embedder (threshold sweeps)");
  sub->add_option("--vad", p->vad,
                  "A TorchScript voice-activity model with Silero VAD's interface (e.g. "
                  "silero_vad.jit from the PyPI package silero-vad) instead of the energy and "
                  "spectral detector [runs in hptrain-torch]")
      ->check(CLI::ExistingFile);
  auto* run_opt =
      sub->add_option("--run", p->run_dir,
                      "A trained neural run (cnn, lstm, ecapa, ...) whose embeddings replace the "
                      "train-free MFCC statistics [runs in hptrain-torch]")
          ->check(CLI::ExistingDirectory);
  sub->add_option("--cast", p->cast,
                  "A cast (hptrain enroll) made with --run: clusters take the characters' names "
                  "(one-to-one on centroid cosine, above the cast's threshold), the rest "
                  "unknown_1, unknown_2, ...")
      ->check(CLI::ExistingFile)
      ->needs(run_opt);
  sub->add_option("--mfcc-weight", cfg.mfcc_weight,
                  "With --run: weight of the train-free MFCC statistics fused beside the run's "
                  "embedding (each window pair's cosine is the weighted sum; 0: the run's alone; "
                  "a run's diarization.toml may set it)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](const std::string& v) {
            double w = -1;
            try {
              w = std::stod(v);
            } catch (const std::exception&) {
              return std::string("must be a number in [0, 1)");
            }
            return w >= 0 && w < 1 ? std::string() : std::string("must be in [0, 1)");
          },
          "in [0, 1)"))
      ->needs(run_opt);
  sub->add_option("--stream", cfg.stream,
                  "Audio stream index as ffprobe lists it (0:N); -1 = the first audio stream")
      ->capture_default_str();
  sub->callback([st, sub] { run(*st, sub); });
}

const CommandRegistrar kRegistrar("diarize", setup);

}  // namespace
}  // namespace hptrain::cli
