// A run's embeddings behind diarization::WindowEmbedder (window_embedder.h).
#include "hptrain/speakers/window_embedder.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/h5.h"
#include "hptrain/log.h"
#include "hptrain/speakers/cast.h"

namespace hptrain::speakers {

namespace {
constexpr int kPipelineSr = 16000;
}

RunWindowEmbedder::RunWindowEmbedder(const std::filesystem::path& run, double window_s,
                                     double hop_s, EmbedOptions opts)
    : window_s_(window_s), hop_s_(hop_s) {
  // embed() hands the Embedder the grid's windows one after another, each at the level the run
  // trained on (level_gain), so the Embedder's windows are back to back
  opts.window_s = window_s;
  opts.hop_s = window_s;
  // windows back to back are not a contiguous signal: each is embedded alone
  opts.mode = "window";
  // a signal shorter than one window is one window over all of it (window_grid): keep any rest
  opts.min_last_fraction = 1e-9;
  emb_ = std::make_unique<Embedder>(run, opts);
  if (emb_->sample_rate() != kPipelineSr) {
    throw InputError("run '" + run.string() + "' was trained on audio at " +
                     std::to_string(emb_->sample_rate()) +
                     " Hz (its dataset's preprocess.sr): diarize runs at 16000 Hz, so --run "
                     "needs a run of a 16 kHz dataset");
  }
}

RunWindowEmbedder::~RunWindowEmbedder() = default;

std::string RunWindowEmbedder::name() const {
  // the dither changes the embeddings: part of the name an embedding cache keys on
  char d[32];
  std::snprintf(d, sizeof d, "%g", emb_->options().dither);
  return "run " + emb_->run().string() + " (dither " + d + ")";
}
int RunWindowEmbedder::sample_rate() const {
  return emb_->sample_rate();
}
int64_t RunWindowEmbedder::dim() const {
  return emb_->dim();
}

diarization::WindowEmbeddings RunWindowEmbedder::embed(const float* samples, size_t n,
                                                       double window_s, double hop_s) const {
  if (std::abs(window_s - window_s_) > 1e-9 || std::abs(hop_s - hop_s_) > 1e-9) {
    throw ConfigError("diarize: windows of " + std::to_string(window_s) + " s every " +
                      std::to_string(hop_s) + " s asked of an embedder made for " +
                      std::to_string(window_s_) + " s every " + std::to_string(hop_s_) + " s");
  }
  const auto grid = diarization::window_grid(n, sample_rate(), window_s, hop_s);
  diarization::WindowEmbeddings out;
  out.dim = dim();
  if (grid.empty()) return out;
  // each window at the run's level (a window-local gain, so a window's embedding does not
  // depend on its block), back to back; a short signal: one window, zero-padded by the Embedder
  std::vector<float> buf;
  for (const auto& [s0, len] : grid) {
    const float g = emb_->level_gain(samples + s0, len);
    for (size_t i = 0; i < len; ++i) buf.push_back(samples[s0 + i] * g);
  }
  const Embeddings e = emb_->embed(buf.data(), buf.size());
  if (e.size() != static_cast<int64_t>(grid.size())) {
    throw Error("diarize: the run's embedder gave " + std::to_string(e.size()) + " windows for " +
                std::to_string(grid.size()) + " on the grid");
  }
  out.n = e.size();
  out.data = e.data;
  const double sr = sample_rate();
  for (const auto& [s, len] : grid) {
    out.start_s.push_back(static_cast<double>(s) / sr);
    out.duration_s.push_back(static_cast<double>(len) / sr);
  }
  return out;
}

diarization::Whitening fit_run_whitening(Embedder& emb) {
  const auto file = emb.run() / kWhiteningFile;
  if (std::filesystem::exists(file)) {
    try {
      const h5::File f = h5::File::open_read(file);
      if (f.attr_string("/", "fingerprint") == emb.fingerprint()) {
        diarization::Whitening w;
        w.dim = emb.dim();
        w.mean = f.read_doubles("mean");
        w.matrix = f.read_doubles("matrix");
        if (static_cast<int64_t>(w.mean.size()) == w.dim &&
            static_cast<int64_t>(w.matrix.size()) == w.dim * w.dim) {
          HP_LOG_INFO("within-speaker whitening read from {}", file.string());
          return w;
        }
      }
    } catch (const std::exception& e) {  // damaged: fitted again
      HP_LOG_WARN("{}: {}; fitting the whitening again", file.string(), e.what());
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto rows = emb.embed_training_split();
  auto w = diarization::fit_whitening(rows.data.data(), rows.n, rows.dim, rows.labels);
  HP_LOG_INFO("within-speaker whitening fitted on {} training chunks in {:.1f} s", rows.n,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  try {
    fs::atomic_write(file, [&](const std::filesystem::path& tmp) {
      h5::File f = h5::File::create_in_memory(tmp);
      f.write("mean", w.mean.data(), {w.dim});
      f.write("matrix", w.matrix.data(), {w.dim, w.dim});
      f.set_attr("/", "fingerprint", emb.fingerprint());
      f.set_attr("/", "rows", rows.n);
      f.close();
    });
  } catch (const std::exception& e) {  // a read-only run folder: fitted again next time
    HP_LOG_WARN("cannot keep the whitening in {}: {}", file.string(), e.what());
  }
  return w;
}

diarization::Enrolment read_enrolment(const std::filesystem::path& cast_file, const Embedder& emb) {
  const Cast cast = read_cast(cast_file);
  check_cast(cast, cast_file, emb);
  diarization::Enrolment e;
  e.characters = cast.characters;
  e.dim = cast.dim;
  e.centroids = cast.centroids;
  e.scoring = cast.scoring;
  e.cohort = cast.cohort;
  e.cohort_n = cast.cohort_n;
  e.threshold = cast.threshold;
  return e;
}

}  // namespace hptrain::speakers
