// Zero-crossing rate and RMS of the padded signal on the CPU (twin of cuda/src/signal.cu).
#include "kernels.h"
#include "signal_kernels.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "hptrain/features/signal.h"

namespace hptrain::features::detail {

// ref: librosa/feature/spectral.py zero_crossing_rate: edge padding, frames, and
// librosa/core/audio.py zero_crossings(threshold, zero_pos, pad=False) along each frame: values
// within +-threshold are 0, a crossing is a sign change from the previous sample in the frame.
// Counted here once over the padded signal, in blocks of gcd(hop, frame) samples.
HP_CPU_CLONES
void zcr_item(const ZcrConfig& cfg, const float* y, int64_t n, int64_t frames, Workspace& ws,
              float* out) {
  const PaddedSignal padded(y, n, cfg.center ? cfg.frame_length / 2 : 0, PadMode::edge, ws.edges);
  const int64_t len = padded.size();
  // |x| <= threshold in float64 is |x| <= thr for the largest float thr <= threshold
  float thr = static_cast<float>(cfg.threshold);
  if (static_cast<double>(thr) > cfg.threshold) thr = std::nextafter(thr, 0.0f);
  // sign class of each sample: zero_pos: negative or not; else -1, 0, 1 (as 0, 1, 2)
  uint8_t* __restrict sg = Workspace::get(ws.signs, static_cast<size_t>(2 * len));
  uint8_t* __restrict cr = sg + len;  // cr[i]: a crossing between samples i - 1 and i
  constexpr int64_t kPiece = 4096;
  float* scratch = Workspace::get(ws.scratch, static_cast<size_t>(kPiece));
  for (int64_t p0 = 0; p0 < len; p0 += kPiece) {
    const int64_t m = std::min(kPiece, len - p0);
    const float* __restrict xs = padded.span(p0, m, scratch);
    uint8_t* __restrict sp = sg + p0;
    if (cfg.zero_pos) {
      for (int64_t i = 0; i < m; ++i) sp[i] = xs[i] < -thr;
    } else {
      for (int64_t i = 0; i < m; ++i)
        sp[i] = static_cast<uint8_t>(1 + (xs[i] > thr) - (xs[i] < -thr));
    }
  }
  cr[0] = 0;
  for (int64_t i = 1; i < len; ++i) cr[i] = sg[i] != sg[i - 1];
  const int g = std::gcd(cfg.hop_length, cfg.frame_length);
  const int64_t blocks = (len + g - 1) / g;
  int32_t* pb = Workspace::get(ws.crossings, static_cast<size_t>(blocks + 1));
  pb[0] = 0;
  for (int64_t b = 0; b < blocks; ++b) {  // crossings at positions [b g, (b + 1) g)
    int32_t c = 0;
    const int64_t end = std::min<int64_t>((b + 1) * g, len);
    for (int64_t i = b * g; i < end; ++i) c += cr[i];
    pb[b + 1] = pb[b] + c;
  }
  for (int64_t t = 0; t < frames; ++t) {  // positions s + 1 .. s + frame - 1
    const int64_t s = t * cfg.hop_length;
    const int32_t count = pb[(s + cfg.frame_length) / g] - pb[s / g] - cr[s];
    out[t] = static_cast<float>(double(count) / cfg.frame_length);
  }
}

// ref: librosa/feature/spectral.py rms(y=...): pad, frame, sqrt(mean(x**2)) per frame; here
// from float64 sums of the float32 squares over blocks of gcd(hop, frame) samples.
HP_CPU_CLONES
void rms_item(const RmsConfig& cfg, PadMode mode, const float* y, int64_t n, int64_t frames,
              Workspace& ws, float* out) {
  const PaddedSignal padded(y, n, cfg.center ? cfg.frame_length / 2 : 0, mode, ws.edges);
  const int64_t len = padded.size();
  const int g = std::gcd(cfg.hop_length, cfg.frame_length);
  const int64_t blocks = (len + g - 1) / g;
  // q[b]: the float64 sum of block b's squares; a frame adds its blocks left to right (not a
  // difference of prefix sums, whose rounding would depend on where the signal starts: a file
  // streamed in windows gets the same values as the whole file)
  double* q = Workspace::get(ws.prefix, static_cast<size_t>(blocks));
  float* scratch = Workspace::get(ws.scratch, static_cast<size_t>(g));
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t m = std::min<int64_t>(g, len - b * g);
    const float* x = padded.span(b * g, m, scratch);
    double lanes[4] = {0, 0, 0, 0};  // 4 independent sums: no serial chain of additions
    int64_t i = 0;
    for (; i + 4 <= m; i += 4) {
      for (int j = 0; j < 4; ++j) lanes[j] += static_cast<double>(x[i + j] * x[i + j]);
    }
    for (; i < m; ++i) lanes[0] += static_cast<double>(x[i] * x[i]);
    q[b] = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  }
  const int64_t per_frame = cfg.frame_length / g;
  for (int64_t t = 0; t < frames; ++t) {
    const double* qb = q + t * cfg.hop_length / g;
    double sum = 0;
    for (int64_t k = 0; k < per_frame; ++k) sum += qb[k];
    out[t] = static_cast<float>(std::sqrt(sum / cfg.frame_length));
  }
}

}  // namespace hptrain::features::detail

namespace hptrain::features {

using detail::for_items;
using detail::Workspace;

void zero_crossing_rate(const ZcrConfig& cfg, const float* audio, int64_t batch, int64_t n_samples,
                        Tensor3& out) {
  cfg.validate();
  const int64_t frames =
      frame_count(Framing{cfg.frame_length, cfg.hop_length, cfg.center}, n_samples, "zcr");
  out = Tensor3(batch, 1, frames);
  for_items(batch, 0, [&](int64_t i, Workspace& ws) {
    detail::zcr_item(cfg, audio + i * n_samples, n_samples, frames, ws, out.item(i));
  });
}

void rms(const RmsConfig& cfg, const float* audio, int64_t batch, int64_t n_samples, Tensor3& out) {
  cfg.validate();
  const int64_t frames =
      frame_count(Framing{cfg.frame_length, cfg.hop_length, cfg.center}, n_samples, "rms");
  const PadMode mode = parse_pad_mode(cfg.pad_mode);
  out = Tensor3(batch, 1, frames);
  for_items(batch, 0, [&](int64_t i, Workspace& ws) {
    detail::rms_item(cfg, mode, audio + i * n_samples, n_samples, frames, ws, out.item(i));
  });
}

}  // namespace hptrain::features
