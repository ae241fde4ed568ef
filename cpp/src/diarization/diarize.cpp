// The diarization pipeline (diarize.h).
#include "hptrain/diarization/diarize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "diarization/resegment.h"
#include "hptrain/diarization/diarization_io.h"
#include "hptrain/error.h"
#include "hptrain/io/audio.h"
#include "hptrain/log.h"
#include "hptrain/progress.h"

namespace hptrain::diarization {

namespace stdfs = std::filesystem;

namespace {

constexpr int kSr = 16000;
constexpr double kFrameS = 0.01;
// frame j's 400-sample window is centred at sample 160 j + 256: its 10 ms share of the time
// line starts 11 ms after 160 j
constexpr double kFrameOffsetS = 0.011;
constexpr int kMfcc = 20;

// What the streaming pass keeps: per-frame features and per-window embeddings.
struct Analysis {
  int64_t frames = 0;
  std::vector<float> mfcc;  // [frames, kMfcc]
  std::vector<float> energy, band, flat;
  std::vector<float> emb;  // [windows, dim]
  std::vector<double> win_start, win_len;
  int64_t dim = 0;
  double duration_s = 0;
};

// Feeds samples block by block; frames and windows come out in order, independent of blocks.
class Streamer {
 public:
  Streamer(const WindowEmbedder& e, const DiarizeConfig& cfg, Analysis& a, SpeechModel* vad)
      : emb_(e), cfg_(cfg), a_(a), vad_(vad) {
    a_.dim = e.dim();
    win_ = static_cast<int64_t>(std::llround(cfg.window_s * kSr));
    hop_ = std::max<int64_t>(1, std::llround(cfg.hop_s * kSr));
  }
  void push(const float* x, size_t n) {
    buf_.insert(buf_.end(), x, x + n);
    total_ += static_cast<int64_t>(n);
    if (vad_ != nullptr) vad_->feed(x, n);
    drain(false);
  }
  void finish() {
    drain(true);
    a_.duration_s = static_cast<double>(total_) / kSr;
  }

 private:
  void add_windows(const WindowEmbeddings& w, int64_t offset) {
    a_.emb.insert(a_.emb.end(), w.data.begin(), w.data.end());
    for (int64_t i = 0; i < w.n; ++i) {
      a_.win_start.push_back(static_cast<double>(offset) / kSr + w.start_s[i]);
      a_.win_len.push_back(w.duration_s[i]);
    }
  }
  void drain(bool end) {
    const int64_t buf_end = buf_start_ + static_cast<int64_t>(buf_.size());
    // frames
    const int64_t j_end = buf_end >= kFrameLength ? (buf_end - kFrameLength) / kFrameHop + 1 : 0;
    if (j_end > next_frame_) {
      const int64_t s0 = next_frame_ * kFrameHop;
      const int64_t len = (j_end - next_frame_ - 1) * kFrameHop + kFrameLength;
      const FrameFeatures ff =
          frame_features(buf_.data() + (s0 - buf_start_), static_cast<size_t>(len), kMfcc);
      const int64_t T = ff.frames;
      for (int64_t t = 0; t < T; ++t) {
        for (int c = 0; c < kMfcc; ++c) a_.mfcc.push_back(ff.data[static_cast<size_t>(c * T + t)]);
        a_.energy.push_back(ff.data[static_cast<size_t>(kMfcc * T + t)]);
        a_.band.push_back(ff.data[static_cast<size_t>((kMfcc + 1) * T + t)]);
        a_.flat.push_back(ff.data[static_cast<size_t>((kMfcc + 2) * T + t)]);
      }
      next_frame_ += T;
      a_.frames = next_frame_;
    }
    // windows
    const int64_t w_end = buf_end >= win_ ? (buf_end - win_) / hop_ + 1 : 0;
    if (w_end > next_win_) {
      const int64_t s0 = next_win_ * hop_;
      const int64_t len = (w_end - next_win_ - 1) * hop_ + win_;
      add_windows(emb_.embed(buf_.data() + (s0 - buf_start_), static_cast<size_t>(len),
                             cfg_.window_s, cfg_.hop_s),
                  s0);
      next_win_ = w_end;
    }
    if (end) {
      const int64_t last_end = next_win_ > 0 ? (next_win_ - 1) * hop_ + win_ : 0;
      if (total_ > 0 && (next_win_ == 0 || last_end < total_)) {
        // a file shorter than a window: one window over all of it; else one more window that
        // ends with the file
        const int64_t s0 = next_win_ == 0 ? 0 : total_ - win_;
        add_windows(emb_.embed(buf_.data() + (s0 - buf_start_), static_cast<size_t>(total_ - s0),
                               cfg_.window_s, cfg_.hop_s),
                    s0);
      }
      return;
    }
    // keep what the next frame and window (and a possible final window) still need
    const int64_t keep =
        std::min({next_frame_ * kFrameHop, next_win_ * hop_, std::max<int64_t>(0, buf_end - win_)});
    if (keep > buf_start_) {
      buf_.erase(buf_.begin(), buf_.begin() + (keep - buf_start_));
      buf_start_ = keep;
    }
  }

  const WindowEmbedder& emb_;
  const DiarizeConfig& cfg_;
  Analysis& a_;
  SpeechModel* vad_;
  std::vector<float> buf_;
  int64_t buf_start_ = 0, total_ = 0, next_frame_ = 0, next_win_ = 0, win_ = 0, hop_ = 0;
};

int64_t frame_of(double t) {
  return static_cast<int64_t>(std::floor((t - kFrameOffsetS) / kFrameS));
}

DiarizeResult finish(const std::string& uri, Analysis& a, const DiarizeConfig& cfg,
                     SpeechModel* vad) {
  DiarizeResult res;
  res.uri = uri;
  res.duration_s = a.duration_s;
  const int64_t T = a.frames;
  std::vector<uint8_t> speech =
      vad != nullptr ? speech_from_probabilities(vad->frame_probabilities(T), cfg.vad)
                     : detect_speech(a.energy, a.band, a.flat, cfg.vad);
  if (static_cast<int64_t>(speech.size()) != T) {
    throw InputError("speech model '" + (vad ? vad->name() : std::string()) +
                     "': " + std::to_string(speech.size()) + " frame probabilities for " +
                     std::to_string(T) + " frames");
  }
  int64_t n_speech = 0;
  for (auto v : speech) n_speech += v;
  res.speech_s = static_cast<double>(n_speech) * kFrameS;
  if (n_speech == 0) return res;
  // windows with enough speech
  const int64_t W = static_cast<int64_t>(a.win_start.size());
  std::vector<int64_t> kept;
  std::vector<std::pair<int64_t, int64_t>> span(static_cast<size_t>(W));
  for (int64_t w = 0; w < W; ++w) {
    const int64_t f0 = std::clamp<int64_t>(frame_of(a.win_start[w]) + 1, 0, T);
    const int64_t f1 = std::clamp<int64_t>(frame_of(a.win_start[w] + a.win_len[w]), f0, T);
    span[w] = {f0, f1};
    int64_t s = 0;
    for (int64_t t = f0; t < f1; ++t) s += speech[t];
    if (f1 > f0 && static_cast<double>(s) >= cfg.min_window_speech * static_cast<double>(f1 - f0))
      kept.push_back(w);
  }
  const int64_t D = a.dim;
  std::vector<int> wlab;
  int K = 1;
  if (kept.size() >= 2) {
    std::vector<float> x(static_cast<size_t>(kept.size() * D));
    for (size_t i = 0; i < kept.size(); ++i) {
      std::copy(&a.emb[static_cast<size_t>(kept[i] * D)],
                &a.emb[static_cast<size_t>((kept[i] + 1) * D)], &x[i * D]);
    }
    ClusterConfig cc = cfg.clustering;
    // a speaker needs min_cluster_s of windows, whatever the hop
    cc.min_cluster_size = std::max(1.0, std::round(cfg.min_cluster_s / cfg.hop_s));
    std::vector<double> starts(kept.size());
    for (size_t i = 0; i < kept.size(); ++i) starts[i] = a.win_start[kept[i]];
    wlab = cluster_recording(x, starts, D, a.duration_s, cfg.recording, cc);
    K = *std::max_element(wlab.begin(), wlab.end()) + 1;
  } else {
    wlab.assign(kept.size(), 0);
  }
  // votes of the clustered windows per frame
  std::vector<float> votes(static_cast<size_t>(T * K), 0.0f);
  for (size_t i = 0; i < kept.size(); ++i) {
    for (int64_t t = span[kept[i]].first; t < span[kept[i]].second; ++t)
      votes[static_cast<size_t>(t * K + wlab[i])] += 1;
  }
  std::vector<int> label(static_cast<size_t>(T), -1);
  for (int64_t t = 0; t < T; ++t) {
    if (!speech[t]) continue;
    float best = 0;
    for (int k = 0; k < K; ++k) {
      if (votes[static_cast<size_t>(t * K + k)] > best) {
        best = votes[static_cast<size_t>(t * K + k)];
        label[t] = k;
      }
    }
  }
  // speech frames no clustered window covers: the label of the nearest labelled frame
  {
    std::vector<int> fwd(label), bwd(label);
    std::vector<int64_t> df(static_cast<size_t>(T), INT64_MAX),
        db(static_cast<size_t>(T), INT64_MAX);
    for (int64_t t = 0, last = -1; t < T; ++t) {
      if (label[t] >= 0) last = t;
      if (last >= 0) {
        fwd[t] = label[last];
        df[t] = t - last;
      }
    }
    for (int64_t t = T - 1, last = -1; t >= 0; --t) {
      if (label[t] >= 0) last = t;
      if (last >= 0) {
        bwd[t] = label[last];
        db[t] = last - t;
      }
    }
    for (int64_t t = 0; t < T; ++t) {
      if (speech[t] && label[t] < 0) label[t] = df[t] <= db[t] ? fwd[t] : bwd[t];
      if (speech[t] && label[t] < 0) label[t] = 0;
    }
  }
  if (cfg.resegment && K > 1) resegment(a.mfcc, kMfcc, speech, votes, K, cfg, kFrameS, label);
  // turns: runs of one label over speech frames; speakers named by first appearance
  std::map<int, std::string> names;
  std::vector<int> order;  // cluster label of spk_1, spk_2, ...
  for (int64_t t = 0; t < T;) {
    if (!speech[t]) {
      ++t;
      continue;
    }
    int64_t e = t;
    while (e < T && speech[e] && label[e] == label[t]) ++e;
    auto it = names.find(label[t]);
    if (it == names.end()) {
      it = names.emplace(label[t], "spk_" + std::to_string(names.size() + 1)).first;
      order.push_back(label[t]);
    }
    const double on = std::max(0.0, static_cast<double>(t) * kFrameS + kFrameOffsetS);
    const double off = std::min(a.duration_s, static_cast<double>(e) * kFrameS + kFrameOffsetS);
    if (off > on) res.turns.push_back({uri, on, off - on, it->second});
    t = e;
  }
  res.speakers = static_cast<int>(names.size());
  // each speaker's centroid: the unit mean of the raw embeddings of the clustered windows whose
  // speech lies within its final turns (a window across a change of speaker holds two voices);
  // without such a window, of the windows clustered to it
  // of the first block's columns: a fused row's own run embedding, in the cast's space
  const int64_t C = cfg.recording.blocks.empty() ? D : cfg.recording.blocks.front().dim;
  res.dim = C;
  res.centroids.assign(order.size() * static_cast<size_t>(C), 0.0f);
  std::vector<int> pure(kept.size(), -1);  // the one final label of a window's speech frames
  for (size_t i = 0; i < kept.size(); ++i) {
    int l = -1;
    bool one = true;
    for (int64_t t = span[kept[i]].first; t < span[kept[i]].second && one; ++t) {
      if (!speech[t]) continue;
      if (l < 0) l = label[t];
      one = label[t] == l;
    }
    if (one) pure[i] = l;
  }
  for (size_t s = 0; s < order.size(); ++s) {
    res.names.push_back(names[order[s]]);
    std::vector<double> m(static_cast<size_t>(C), 0.0);
    const bool any_pure = std::find(pure.begin(), pure.end(), order[s]) != pure.end();
    for (size_t i = 0; i < kept.size(); ++i) {
      if ((any_pure ? pure[i] : wlab[i]) != order[s]) continue;
      for (int64_t k = 0; k < C; ++k) m[k] += a.emb[static_cast<size_t>(kept[i] * D + k)];
    }
    double nrm = 0;
    for (double v : m) nrm += v * v;
    nrm = std::sqrt(nrm);
    for (int64_t k = 0; k < C && nrm > 0; ++k)
      res.centroids[s * static_cast<size_t>(C) + k] = static_cast<float>(m[k] / nrm);
  }
  return res;
}

}  // namespace

void DiarizeConfig::validate() const {
  if (!(window_s > 0.1 && hop_s > 0 && hop_s <= window_s)) {
    throw ConfigError("window_s/hop_s: must be window_s > 0.1 and 0 < hop_s <= window_s");
  }
  if (!(min_window_speech >= 0 && min_window_speech <= 1)) {
    throw ConfigError("min_window_speech: must be in [0, 1]");
  }
  if (!(min_turn_s >= 0) || !(acoustic_weight >= 0) || !(switch_penalty >= 0)) {
    throw ConfigError("min_turn_s, acoustic_weight, switch_penalty: must be >= 0");
  }
  if (!(block_s >= window_s)) throw ConfigError("block_s: must be >= window_s");
  if (!(min_cluster_s > 0)) throw ConfigError("min_cluster_s: must be > 0");
  if (!(mfcc_weight >= 0 && mfcc_weight < 1)) throw ConfigError("mfcc_weight: must be in [0, 1)");
  recording.validate();
  clustering.validate();
  vad.validate();
}

namespace {
void check_rate(const WindowEmbedder& e) {
  if (e.sample_rate() != kSr) {
    throw ConfigError("embedder '" + e.name() + "' takes audio at " +
                      std::to_string(e.sample_rate()) +
                      " Hz: the diarization pipeline runs at 16000 Hz");
  }
}
}  // namespace

DiarizeResult diarize_samples(const std::string& uri, const float* samples, size_t n,
                              const WindowEmbedder& embedder, const DiarizeConfig& cfg,
                              SpeechModel* vad) {
  cfg.validate();
  check_rate(embedder);
  Analysis a;
  Streamer s(embedder, cfg, a, vad);
  const auto block = static_cast<size_t>(cfg.block_s * kSr);
  for (size_t i = 0; i < n; i += block) s.push(samples + i, std::min(block, n - i));
  s.finish();
  return finish(uri, a, cfg, vad);
}

DiarizeResult diarize_file(const std::string& path, const WindowEmbedder& embedder,
                           const DiarizeConfig& cfg, bool progress, SpeechModel* vad) {
  cfg.validate();
  check_rate(embedder);
  io::MonoReader reader(path, kSr, cfg.stream);
  const auto& info = reader.info();
  const auto total_s = info.frames > 0 && info.sample_rate > 0
                           ? static_cast<size_t>(info.frames / info.sample_rate)
                           : size_t{0};
  std::unique_ptr<Progress> bar;
  if (progress)
    bar = std::make_unique<Progress>("diarize " + stdfs::path(path).filename().string(), total_s,
                                     "s");
  Analysis a;
  Streamer s(embedder, cfg, a, vad);
  std::vector<float> block(static_cast<size_t>(cfg.block_s * kSr));
  double done = 0;
  for (size_t got; (got = reader.read(block.data(), block.size())) > 0;) {
    s.push(block.data(), got);
    const double now = done + static_cast<double>(got) / kSr;
    if (bar) bar->advance(static_cast<size_t>(now) - static_cast<size_t>(done));
    done = now;
  }
  s.finish();
  if (bar) bar->finish();
  return finish(stdfs::path(path).stem().string(), a, cfg, vad);
}

int run_diarize(const DiarizeOptions& opts) {
  opts.config.validate();
  HP_LOG_INFO(
      "diarize: window {} s, hop {} s, clustering {} (threshold {}, speakers {}..{}{}), "
      "resegment {} (min turn {} s), {} file(s) -> {}",
      opts.config.window_s, opts.config.hop_s, opts.config.clustering.method,
      opts.config.clustering.threshold, opts.config.clustering.min_speakers,
      opts.config.clustering.max_speakers,
      opts.config.clustering.num_speakers > 0
          ? ", fixed " + std::to_string(opts.config.clustering.num_speakers)
          : std::string(),
      opts.config.resegment, opts.config.min_turn_s, opts.files.size(), opts.out.string());
  const MfccStatsEmbedder mfcc;
  DiarizeConfig cfg = opts.config;
  std::optional<FusedWindowEmbedder> fused;
  if (opts.embedder && cfg.mfcc_weight > 0) {
    fused.emplace(*opts.embedder, mfcc);
    cfg.recording.blocks = {{opts.embedder->dim(), 1 - cfg.mfcc_weight},
                            {mfcc.dim(), cfg.mfcc_weight}};
  }
  const WindowEmbedder& inner = fused ? *fused : opts.embedder ? *opts.embedder : mfcc;
  std::optional<CachedWindowEmbedder> cached;
  if (!opts.embedding_cache.empty()) cached.emplace(inner, opts.embedding_cache);
  const WindowEmbedder& embedder = cached ? static_cast<const WindowEmbedder&>(*cached) : inner;
  HP_LOG_INFO(
      "diarize: standardise {}{}; embeddings {} ({} dimensions{}){}", cfg.recording.standardise,
      cfg.recording.whitening ? fmt::format(", whitened (weight {:g})", cfg.recording.whiten_weight)
                              : std::string(),
      embedder.name(), embedder.dim(),
      fused ? ", MFCC statistics weighted " + std::to_string(cfg.mfcc_weight) : std::string(),
      opts.cast ? ", cast of " + std::to_string(opts.cast->characters.size()) +
                      " characters (threshold " + std::to_string(opts.cast->threshold) + ")"
                : std::string());
  int failed = 0;
  for (const auto& f : opts.files) {
    try {
      std::unique_ptr<SpeechModel> vad = opts.vad ? opts.vad() : nullptr;
      DiarizeResult r = diarize_file(f, embedder, cfg, true, vad.get());
      if (opts.cast) name_speakers(r, *opts.cast);
      if (r.turns.empty()) {
        HP_LOG_WARN("'{}': no speech found: empty RTTM", f);
      }
      write_diarization(opts.out, r);
      std::printf("%s: %d speakers, %zu turns, %.1f s of speech in %.1f s -> %s\n", f.c_str(),
                  r.speakers, r.turns.size(), r.speech_s, r.duration_s,
                  (opts.out / (r.uri + ".rttm")).string().c_str());
    } catch (const Error& e) {
      HP_LOG_ERROR("{}", e.what());
      ++failed;
    }
  }
  if (cached) {
    HP_LOG_INFO("diarize: embedding cache '{}': {} block(s) read back, {} computed",
                opts.embedding_cache.string(), cached->hits(), cached->misses());
  }
  return failed;
}

}  // namespace hptrain::diarization
