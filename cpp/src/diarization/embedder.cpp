// Frame features and the train-free MFCC-statistics window embedder (embedder.h).
#include "hptrain/diarization/embedder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "hptrain/error.h"
#include "hptrain/features/cpu.h"
#include "hptrain/fs.h"
#include "hptrain/tensor.h"

namespace hptrain::diarization {

namespace {
// a window's frames more than this under its loudest are left out of its statistics
constexpr double kVoicedDb = 20;
}  // namespace

std::vector<std::pair<size_t, size_t>> window_grid(size_t n, int sr, double window_s,
                                                   double hop_s) {
  std::vector<std::pair<size_t, size_t>> w;
  if (n == 0) return w;
  const auto win = static_cast<size_t>(std::llround(window_s * sr));
  const auto hop = std::max<size_t>(1, static_cast<size_t>(std::llround(hop_s * sr)));
  if (n < win) {
    w.emplace_back(0, n);
    return w;
  }
  for (size_t s = 0; s + win <= n; s += hop) w.emplace_back(s, win);
  return w;
}

FrameFeatures frame_features(const float* samples, size_t n, int n_mfcc) {
  FrameFeatures ff;
  ff.n_mfcc = n_mfcc;
  if (n < static_cast<size_t>(kFrameLength)) {
    // too short for one frame: one frame of the signal padded with zeros
    std::vector<float> pad(kFrameLength, 0.0f);
    std::copy(samples, samples + n, pad.begin());
    if (n == 0) return ff;
    return frame_features(pad.data(), pad.size(), n_mfcc);
  }
  const int sr = 16000;
  features::StftConfig st;
  st.n_fft = kFrameLength;
  st.win_length = 400;
  st.hop_length = kFrameHop;
  st.center = false;
  Tensor3 power;
  features::stft(st, samples, 1, static_cast<int64_t>(n), power, 2.0);
  features::MelConfig mc;
  mc.n_mels = 40;
  mc.fmin = 20;
  mc.fmax = 7600;
  Tensor3 mel, logmel, mf;
  features::mel_spectrogram(mc, sr, power, mel);
  features::DbConfig db;
  db.top_db = std::nullopt;  // per block a floor would differ from block to block
  features::power_to_db(db, mel, logmel);
  features::MfccConfig mfc;
  mfc.n_mfcc = n_mfcc;
  features::mfcc(mfc, logmel, mf);
  const int64_t T = power.frames, bins = power.rows;
  ff.frames = T;
  ff.data.assign(static_cast<size_t>(ff.rows() * T), 0.0f);
  std::copy(mf.data.begin(), mf.data.begin() + n_mfcc * T, ff.data.begin());
  const double bin_hz = static_cast<double>(sr) / kFrameLength;
  const auto b300 = static_cast<int64_t>(300 / bin_hz), b3400 = static_cast<int64_t>(3400 / bin_hz);
  const auto b100 = static_cast<int64_t>(100 / bin_hz), b4000 = static_cast<int64_t>(4000 / bin_hz);
  for (int64_t t = 0; t < T; ++t) {
    double total = 0, band = 0, logsum = 0, sum = 0;
    for (int64_t b = 0; b < bins; ++b) {
      const double p = power.at(0, b, t);
      total += p;
      if (b >= b300 && b <= b3400) band += p;
      if (b >= b100 && b <= b4000) {
        logsum += std::log(p + 1e-12);
        sum += p + 1e-12;
      }
    }
    const double nb = static_cast<double>(b4000 - b100 + 1);
    ff.data[static_cast<size_t>(n_mfcc * T + t)] =
        static_cast<float>(10 * std::log10(total / bins + 1e-10));
    ff.data[static_cast<size_t>((n_mfcc + 1) * T + t)] =
        static_cast<float>(total > 0 ? band / total : 0);
    ff.data[static_cast<size_t>((n_mfcc + 2) * T + t)] =
        static_cast<float>(std::exp(logsum / nb) / (sum / nb));
  }
  return ff;
}

WindowEmbeddings MfccStatsEmbedder::embed(const float* samples, size_t n, double window_s,
                                          double hop_s) const {
  WindowEmbeddings e;
  const int sr = sample_rate();
  const auto grid = window_grid(n, sr, window_s, hop_s);
  e.dim = dim();
  e.n = static_cast<int64_t>(grid.size());
  e.data.assign(static_cast<size_t>(e.n * e.dim), 0.0f);
  if (grid.empty()) return e;
  const FrameFeatures ff = frame_features(samples, n, n_mfcc_);
  const int64_t T = ff.frames;
  const int64_t D = n_mfcc_ - 1;
  const float* energy = ff.data.data() + static_cast<size_t>(n_mfcc_) * T;
  const double drop_db = kVoicedDb;
  std::vector<double> m(static_cast<size_t>(D)), q(static_cast<size_t>(D));
  for (size_t w = 0; w < grid.size(); ++w) {
    const auto [s0, len] = grid[w];
    e.start_s.push_back(static_cast<double>(s0) / sr);
    e.duration_s.push_back(static_cast<double>(len) / sr);
    // frames that lie inside the window (at least one)
    int64_t f0 = static_cast<int64_t>(s0) / kFrameHop;
    int64_t f1 = (static_cast<int64_t>(s0 + len) - kFrameLength) / kFrameHop + 1;
    f0 = std::min(f0, T - 1);
    f1 = std::clamp(f1, f0 + 1, T);
    // the window's loud frames only: pauses and breaths would otherwise weigh as much as voice
    float loudest = energy[f0];
    for (int64_t t = f0; t < f1; ++t) loudest = std::max(loudest, energy[t]);
    std::fill(m.begin(), m.end(), 0.0);
    std::fill(q.begin(), q.end(), 0.0);
    double nf = 0;
    for (int64_t t = f0; t < f1; ++t) {
      if (energy[t] < loudest - drop_db) continue;
      nf += 1;
      for (int64_t c = 0; c < D; ++c) {
        const double v = ff.data[static_cast<size_t>((c + 1) * T + t)];
        m[static_cast<size_t>(c)] += v;
        q[static_cast<size_t>(c)] += v * v;
      }
    }
    float* out = e.data.data() + w * static_cast<size_t>(e.dim);
    double norm = 0;
    for (int64_t c = 0; c < D; ++c) {
      const double mc = m[static_cast<size_t>(c)] / nf;
      const double v = std::max(0.0, q[static_cast<size_t>(c)] / nf - mc * mc);
      out[c] = static_cast<float>(mc);
      if (with_std_) out[D + c] = static_cast<float>(std::sqrt(v));
      norm += mc * mc + (with_std_ ? v : 0.0);
    }
    if (norm > 0) {
      const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (int64_t k = 0; k < e.dim; ++k) out[k] *= inv;
    }
  }
  return e;
}

FusedWindowEmbedder::FusedWindowEmbedder(const WindowEmbedder& first, const WindowEmbedder& second)
    : first_(first), second_(second) {
  if (first.sample_rate() != second.sample_rate()) {
    throw ConfigError("embedders '" + first.name() + "' and '" + second.name() +
                      "' take audio at different rates (" + std::to_string(first.sample_rate()) +
                      " and " + std::to_string(second.sample_rate()) +
                      " Hz): they cannot be fused");
  }
}

WindowEmbeddings FusedWindowEmbedder::embed(const float* samples, size_t n, double window_s,
                                            double hop_s) const {
  const WindowEmbeddings a = first_.embed(samples, n, window_s, hop_s);
  const WindowEmbeddings b = second_.embed(samples, n, window_s, hop_s);
  if (a.n != b.n) {
    throw Error("fused embedders gave " + std::to_string(a.n) + " and " + std::to_string(b.n) +
                " windows for the same samples");
  }
  WindowEmbeddings e;
  e.n = a.n;
  e.dim = a.dim + b.dim;
  e.start_s = a.start_s;
  e.duration_s = a.duration_s;
  e.data.reserve(static_cast<size_t>(e.n * e.dim));
  for (int64_t i = 0; i < e.n; ++i) {
    e.data.insert(e.data.end(), a.data.begin() + i * a.dim, a.data.begin() + (i + 1) * a.dim);
    e.data.insert(e.data.end(), b.data.begin() + i * b.dim, b.data.begin() + (i + 1) * b.dim);
  }
  return e;
}

namespace {

// file layout: int64 n, int64 dim, then n starts, n durations (float64), then n*dim float32
bool read_cached(const std::filesystem::path& f, int64_t dim, WindowEmbeddings& e) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(f, ec)) return false;
  const std::string b = fs::read_bytes(f);
  if (b.size() < 16) return false;
  int64_t hdr[2];
  std::memcpy(hdr, b.data(), 16);
  const int64_t n = hdr[0];
  if (n < 0 || hdr[1] != dim) return false;
  const size_t want = 16 + static_cast<size_t>(n) * (16 + static_cast<size_t>(dim) * 4);
  if (b.size() != want) return false;
  e.n = n;
  e.dim = dim;
  e.start_s.resize(static_cast<size_t>(n));
  e.duration_s.resize(static_cast<size_t>(n));
  e.data.resize(static_cast<size_t>(n * dim));
  const char* p = b.data() + 16;
  std::memcpy(e.start_s.data(), p, static_cast<size_t>(n) * 8);
  p += static_cast<size_t>(n) * 8;
  std::memcpy(e.duration_s.data(), p, static_cast<size_t>(n) * 8);
  p += static_cast<size_t>(n) * 8;
  std::memcpy(e.data.data(), p, e.data.size() * 4);
  return true;
}

}  // namespace

CachedWindowEmbedder::CachedWindowEmbedder(const WindowEmbedder& inner, std::filesystem::path dir)
    : inner_(inner), dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    throw InputError("--embedding-cache '" + dir_.string() + "': cannot create: " + ec.message());
  }
}

WindowEmbeddings CachedWindowEmbedder::embed(const float* samples, size_t n, double window_s,
                                             double hop_s) const {
  const std::string nm = inner_.name();
  const auto n64 = static_cast<uint64_t>(n);
  uint64_t h = fs::fnv1a64(nm.data(), nm.size());
  h = fs::fnv1a64(&window_s, sizeof window_s, h);
  h = fs::fnv1a64(&hop_s, sizeof hop_s, h);
  h = fs::fnv1a64(&n64, sizeof n64, h);
  h = fs::fnv1a64(samples, n * sizeof(float), h);
  const auto file = dir_ / (fs::hex64(h) + ".emb");
  WindowEmbeddings e;
  if (read_cached(file, inner_.dim(), e)) {
    ++hits_;
    return e;
  }
  ++misses_;
  e = inner_.embed(samples, n, window_s, hop_s);
  std::string b(16, '\0');
  const int64_t hdr[2] = {e.n, e.dim};
  std::memcpy(b.data(), hdr, 16);
  b.append(reinterpret_cast<const char*>(e.start_s.data()), e.start_s.size() * 8);
  b.append(reinterpret_cast<const char*>(e.duration_s.data()), e.duration_s.size() * 8);
  b.append(reinterpret_cast<const char*>(e.data.data()), e.data.size() * 4);
  fs::atomic_write(
      file, [&](const std::filesystem::path& tmp) { fs::write_bytes(tmp, b.data(), b.size()); });
  return e;
}

}  // namespace hptrain::diarization
