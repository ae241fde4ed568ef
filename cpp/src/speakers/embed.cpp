// Speaker embeddings of sliding windows (speakers/embed.h): the run's best model loaded as
// predict loads it, windows cut as preprocess cuts chunks, features as the shards hold them,
// models::Net::embed, L2 normalisation; `hptrain embed` writes them to HDF5 (a split's rows:
// embedder_splits.cpp; the shared state: embedder_impl.h).
#include "hptrain/speakers/embed.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "hptrain/data/dataset.h"
#include "hptrain/data/dataset_config.h"
#include "hptrain/data/random.h"
#include "hptrain/error.h"
#include "hptrain/features/extract.h"
#include "hptrain/io/audio.h"
#include "hptrain/log.h"
#include "hptrain/models/net.h"
#include "hptrain/models/torch_device.h"
#include "hptrain/preprocess/preprocess.h"
#include "hptrain/progress.h"
#include "hptrain/speakers/split_verification.h"
#include "speakers/embedder_impl.h"
#include "speakers/stream_grid.h"
#include "train/run_common.h"
#include "train/torch_run.h"

namespace hptrain::speakers {

void EmbedOptions::validate() const {
  if (!(window_s > 0) || !std::isfinite(window_s)) {
    throw ConfigError("embed: window_s = " + std::to_string(window_s) + ": must be > 0");
  }
  if (!(hop_s > 0) || !std::isfinite(hop_s)) {
    throw ConfigError("embed: hop_s = " + std::to_string(hop_s) + ": must be > 0");
  }
  if (!(min_last_fraction > 0 && min_last_fraction <= 1)) {
    throw ConfigError("embed: min_last_fraction = " + std::to_string(min_last_fraction) +
                      ": must be in (0, 1]");
  }
  if (!(segment_s > 0) || !std::isfinite(segment_s)) {
    throw ConfigError("embed: segment_s = " + std::to_string(segment_s) + ": must be > 0");
  }
  if (batch_size < 0) {
    throw ConfigError("embed: batch_size = " + std::to_string(batch_size) + ": must be >= 0");
  }
  if (threads < 0) {
    throw ConfigError("embed: threads = " + std::to_string(threads) + ": must be >= 0");
  }
  if (mode != "auto" && mode != "stream" && mode != "window") {
    throw ConfigError("embed: mode = '" + mode + "': must be one of auto, stream, window");
  }
  if (precision != "auto" && precision != "fp32" && precision != "bf16") {
    throw ConfigError("embed: precision = '" + precision + "': must be one of auto, fp32, bf16");
  }
  if (!(dither >= 0) || !std::isfinite(dither)) {
    throw ConfigError("embed: dither = " + std::to_string(dither) + ": must be >= 0");
  }
  if (stream && *stream < -1) {
    throw ConfigError("embed: stream " + std::to_string(*stream) +
                      " must be >= 0 (ffprobe's 0:N), or -1 for the first audio stream");
  }
}

std::vector<float> dither_noise(int64_t n, double dither) {
  std::vector<float> d;
  if (dither <= 0 || n <= 0) return d;
  data::SplitMix64 rng(data::derive_seed(0, "dither"));
  d.resize(static_cast<size_t>(n));
  for (auto& v : d) v = static_cast<float>(dither / 32768.0 * rng.normal());
  return d;
}

double cosine(const float* a, const float* b, int64_t dim) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < dim; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

Embedder::Embedder(const std::filesystem::path& run, const EmbedOptions& opts)
    : impl_(std::make_unique<Impl>()) {
  opts.validate();
  Impl& m = *impl_;
  m.run = run;
  m.opts = opts;
  m.cfg = train::detail::load_run(run, opts.batch_size);
  if (m.cfg.tabular()) {
    throw InputError("run '" + run.string() + "' is a " + m.cfg.model.type +
                     " run: it has no embedding (embed, enroll and --cast need a neural run: "
                     "model.type cnn, lstm or ecapa)");
  }
  if (m.cfg.dataset.empty()) {
    throw InputError("run '" + run.string() +
                     "' was trained on a folder of shards (data.shards) without its dataset "
                     "TOML, so its preprocessing and features are unknown: embeddings need a run "
                     "of a data.dataset experiment");
  }
  m.dataset = data::load_dataset_config(m.cfg.dataset);
  train::detail::check_data_settings(run, m.dataset, m.cfg.dataset);
  m.in = data::parse_input(m.cfg.input);
  std::vector<std::string> names = m.cfg.tasks;
  if (names.empty()) {
    for (const auto& t : m.dataset.tasks) names.push_back(t.name);
  }
  std::vector<std::string>& tasks = m.tasks;
  std::vector<int64_t> counts;
  for (const auto& [t, c] : train::detail::read_run_classes(run, m.cfg, names, &m.fingerprint)) {
    tasks.push_back(t);
    counts.push_back(static_cast<int64_t>(c.size()));
  }
  if (!opts.device.empty()) m.cfg.train.device = opts.device;
  if (opts.threads > 0) m.cfg.train.threads = opts.threads;
  m.device = models::resolve_device(m.cfg.train.device);
  train::detail::configure_torch(m.cfg.train, m.device);
  m.device_name = train::detail::describe(m.device);
  if (opts.precision == "auto") {
    m.bf16 = m.device.is_cuda() ? m.cfg.train.mixed_precision : models::cpu_has_bf16();
  } else {
    m.bf16 = opts.precision == "bf16";
  }
  m.oom = train::detail::out_of_memory_advice(run, "embedding", m.cfg.train.batch_size);
  m.net = train::detail::load_best(run, m.cfg, data::input_rows(m.dataset.features, m.in), tasks,
                                   counts, m.device, m.fingerprint);
  m.dim = m.net->embedding_size();
  const int sr = m.dataset.preprocess.sr;
  m.len = std::lround(opts.window_s * sr);
  m.hop = std::lround(opts.hop_s * sr);
  if (m.len < 1 || m.hop < 1) {
    throw ConfigError("embed: window_s and hop_s must each hold at least one sample at " +
                      std::to_string(sr) + " Hz");
  }
  m.dither = dither_noise(m.len, opts.dither);
  m.batch = m.cfg.train.batch_size;
  if (opts.mode != "window" && m.net->frame_stride() > 0) {
    m.grid.len = m.len;
    m.grid.hop = m.hop;
    m.grid.stride = m.net->frame_stride();
    m.grid.frame_hop = m.dataset.features.stft.hop();
    m.grid.window_frames = features::n_frames(m.dataset.features, m.len);
    m.grid.segment_windows =
        std::max<int64_t>(1, std::lround(std::floor(opts.segment_s / opts.hop_s)));
    m.grid.min_last_fraction = opts.min_last_fraction;
  } else if (opts.mode == "stream") {
    throw ConfigError("embed: mode = 'stream': the run's " + m.cfg.model.type +
                      " body has no frame-level features to pool per window (mode = 'window' "
                      "or 'auto')");
  }
  m.speaker_task = speakers::speaker_task(m.cfg, tasks).value_or("");
}

Embedder::~Embedder() = default;
Embedder::Embedder(Embedder&&) noexcept = default;
Embedder& Embedder::operator=(Embedder&&) noexcept = default;

const std::filesystem::path& Embedder::run() const {
  return impl_->run;
}
const std::string& Embedder::fingerprint() const {
  return impl_->fingerprint;
}
int64_t Embedder::dim() const {
  return impl_->dim;
}
int Embedder::sample_rate() const {
  return impl_->dataset.preprocess.sr;
}
const std::string& Embedder::device() const {
  return impl_->device_name;
}
const EmbedOptions& Embedder::options() const {
  return impl_->opts;
}
bool Embedder::streaming() const {
  return impl_->grid.stride > 0;
}
bool Embedder::bf16() const {
  return impl_->bf16;
}

// ref: preprocess's Chunker (process.cpp): full windows every hop, then the partial window
// [start, end) zero-padded when it holds at least min_last_fraction of a window.
Embeddings Embedder::embed(const float* samples, size_t n, double offset_s) {
  Impl& m = *impl_;
  Embeddings out;
  out.dim = m.dim;
  const auto total = static_cast<int64_t>(n);
  if (m.grid.stride > 0) {
    m.stream_windows(samples, 0, total, total, 0, m.grid.window_count(total), offset_s, out);
    return out;
  }
  const double sr = m.dataset.preprocess.sr;
  int64_t s = 0;
  for (; s + m.len <= total; s += m.hop) {
    m.push(samples + s, m.len, offset_s + s / sr, m.len / sr, out);
  }
  const int64_t rest = total - s;
  if (rest > 0 && rest >= m.opts.min_last_fraction * static_cast<double>(m.len)) {
    m.push(samples + s, rest, offset_s + s / sr, rest / sr, out);
  }
  m.flush(out);
  return out;
}

float Embedder::level_gain(const float* samples, size_t n) const {
  const auto& p = impl_->dataset.preprocess;
  float peak = 0;
  for (size_t i = 0; i < n; ++i) peak = std::max(peak, std::abs(samples[i]));
  if (p.normalize == "none" || n == 0 || peak <= 0) return 1.0f;
  const double peak_db = 20 * std::log10(static_cast<double>(peak));
  double gain_db = 0;
  if (p.normalize == "loudness") {
    const double lufs = preprocess::ungated_loudness(samples, n, p.sr);
    if (!std::isfinite(lufs)) return 1.0f;
    gain_db = p.target_lufs - lufs;
  } else {
    gain_db = p.peak_db - peak_db;
  }
  gain_db = std::min(gain_db, p.true_peak_db - peak_db);
  return static_cast<float>(std::pow(10.0, gain_db / 20.0));
}

Embeddings Embedder::embed_file(const std::filesystem::path& file) {
  Impl& m = *impl_;
  preprocess::PreprocessConfig p = m.dataset.preprocess;
  p.chunk_s = m.opts.window_s;
  p.chunk_hop_s = m.opts.hop_s;
  p.last_chunk = "pad";
  p.min_last_fraction = m.opts.min_last_fraction;
  if (m.opts.stream) p.stream = *m.opts.stream;
  p.validate();
  Embeddings out;
  out.dim = m.dim;
  Progress bar("embed " + file.filename().string(), 0, "windows");
  m.audio.clear();
  m.spans.clear();
  if (m.grid.stride > 0) {
    // the kept audio block by block, every sample, kept from the next segment's first sample on
    std::vector<float> buf;
    int64_t buf0 = 0, have = 0, k = 0;
    double offset_s = 0;
    preprocess::process_stream(file.string(), p, [&](const float* x, size_t n, int64_t first) {
      if (have == 0) offset_s = static_cast<double>(first) / p.sr;
      buf.insert(buf.end(), x, x + n);
      have += static_cast<int64_t>(n);
      for (; m.grid.ready(k, have); k += m.grid.segment_windows) {
        m.stream_segment(buf.data(), buf0, static_cast<int64_t>(buf.size()), have, have, k,
                         k + m.grid.segment_windows, offset_s, out);
        bar.advance(static_cast<size_t>(m.grid.segment_windows), "embedding");
        const int64_t keep = m.grid.keep_from(k + m.grid.segment_windows);
        if (keep > buf0) {
          buf.erase(buf.begin(), buf.begin() + (keep - buf0));
          buf0 = keep;
        }
      }
    });
    m.stream_windows(buf.data(), buf0, static_cast<int64_t>(buf.size()), have, k,
                     m.grid.window_count(have), offset_s, out);
    bar.set_total(static_cast<size_t>(out.size()));
    bar.finish("done");
    return out;
  }
  // ref: preprocess's Chunker (process.cpp), whose chunks these windows were: full windows
  // every hop, then the partial window when it holds min_last_fraction of one, zero-padded
  std::vector<float> buf;  // kept samples [buf0, pos)
  int64_t buf0 = 0, pos = 0, next = 0, start = 0;
  const auto at = [&](int64_t s) { return static_cast<double>(start + s) / p.sr; };
  preprocess::process_stream(file.string(), p, [&](const float* x, size_t n, int64_t first) {
    if (pos == 0) start = first;
    buf.insert(buf.end(), x, x + n);
    pos += static_cast<int64_t>(n);
    for (; next + m.len <= pos; next += m.hop) {
      m.push(buf.data() + (next - buf0), m.len, at(next), static_cast<double>(m.len) / p.sr, out);
      if (m.spans.empty()) bar.advance(static_cast<size_t>(m.batch), "embedding");
    }
    const int64_t keep = std::min(next, pos);
    if (keep > buf0) {
      buf.erase(buf.begin(), buf.begin() + (keep - buf0));
      buf0 = keep;
    }
  });
  const int64_t rest = pos - next;
  if (rest > 0 && static_cast<double>(rest) >= p.min_last_fraction * static_cast<double>(m.len)) {
    m.push(buf.data() + (next - buf0), rest, at(next), static_cast<double>(rest) / p.sr, out);
  }
  m.flush(out);
  bar.set_total(static_cast<size_t>(out.size()));
  bar.finish("done");
  return out;
}

std::vector<std::vector<float>> Embedder::read_spans(
    const std::filesystem::path& file, const std::vector<std::pair<double, double>>& spans) {
  Impl& m = *impl_;
  preprocess::PreprocessConfig p = m.dataset.preprocess;
  p.trim = false;  // the file's own time
  p.chunk_s = 1;   // blocks of 1 s, the last one kept however short
  p.chunk_hop_s = 1;
  p.last_chunk = "pad";
  p.min_last_fraction = 1e-9;
  if (m.opts.stream) p.stream = *m.opts.stream;
  p.validate();
  const double sr = p.sr;
  std::vector<std::pair<int64_t, int64_t>> want;  // sample ranges
  for (const auto& [a, b] : spans) want.emplace_back(std::llround(a * sr), std::llround(b * sr));
  std::vector<std::vector<float>> out(spans.size());
  preprocess::process_file(file.string(), p, [&](preprocess::Chunk&& c) {
    const int64_t first = std::llround(c.offset_s * sr);
    const int64_t last = first + std::llround(c.duration_s * sr);
    for (size_t i = 0; i < want.size(); ++i) {
      const int64_t a = std::max(first, want[i].first), b = std::min(last, want[i].second);
      if (a < b) {
        out[i].insert(out[i].end(), c.samples.begin() + (a - first),
                      c.samples.begin() + (b - first));
      }
    }
  });
  return out;
}

}  // namespace hptrain::speakers
