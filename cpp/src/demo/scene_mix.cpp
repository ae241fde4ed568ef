// The demo corpus's mixer (scene_mix.h).
#include "demo/scene_mix.h"

#include <algorithm>
#include <cmath>

#include "hptrain/data/random.h"

namespace hptrain::data::demo_mix {

namespace {

// Reverb: velvet noise (sparse +-1 taps, exponentially decaying) of this density and length.
constexpr double kTapsPerSecond = 700;
constexpr double kMaxTail_s = 0.45;

// Velvet-noise room response: sparse +-1 taps decaying by 60 dB over rt60, energy 1.
struct Reverb {
  std::vector<int64_t> delay;
  std::vector<float> gain;
};
Reverb make_reverb(SplitMix64& rng, double rt60, int sr) {
  Reverb r;
  const double len = std::min(rt60, kMaxTail_s);
  const double td = 1.0 / kTapsPerSecond;
  double energy = 0;
  for (double t = 0.002; t < len; t += td) {
    const double at = t + rng.uniform(0, td);
    const double g = (rng.uniform() < 0.5 ? -1 : 1) * std::exp(-6.9078 * at / rt60);
    r.delay.push_back(static_cast<int64_t>(at * sr));
    r.gain.push_back(static_cast<float>(g));
    energy += g * g;
  }
  const float norm = static_cast<float>(1 / std::sqrt(std::max(energy, 1e-12)));
  for (auto& g : r.gain) g *= norm;
  return r;
}

}  // namespace

const Levels& levels(const std::string& type) {
  static const Levels kDialog{-20, -33, -20, -38, 3, 0.25, 0.5, -12};
  static const Levels kAction{-16, -19, -14, -32, 3, 0.5, 0.9, -10};
  static const Levels kEmotional{-22, -23, -20, -38, 2, 0.4, 0.8, -11};
  return type == "dialog" ? kDialog : type == "action" ? kAction : kEmotional;
}

double rms(const float* x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return n > 0 ? std::sqrt(s / static_cast<double>(n)) : 0.0;
}

std::map<std::string, const Clip*> index_clips(const std::vector<Clip>& voices,
                                               const std::vector<Clip>& music,
                                               const std::vector<Clip>& effects,
                                               const std::vector<Clip>& ambience) {
  std::map<std::string, const Clip*> by_source;
  for (const auto* v : {&voices, &music, &effects, &ambience}) {
    for (const auto& c : *v) by_source[c.source] = &c;
  }
  return by_source;
}

std::vector<float> render(const DemoScene& s, const std::map<std::string, const Clip*>& clips,
                          int sr, uint64_t seed) {
  const int64_t n = static_cast<int64_t>(std::llround(s.duration * sr));
  std::vector<float> mix(static_cast<size_t>(n), 0.0f);
  SplitMix64 rng(seed);
  const Levels& lv = levels(s.type);
  const Reverb room = make_reverb(rng, rng.uniform(lv.rt60_lo, lv.rt60_hi), sr);
  const float wet = static_cast<float>(std::pow(10.0, lv.wet_db / 20));
  std::vector<float> x;
  for (const auto& e : s.events) {
    const Clip& c = *clips.at(e.source);
    const int64_t first = static_cast<int64_t>(std::llround(e.source_offset * sr));
    const int64_t len = std::min<int64_t>(static_cast<int64_t>(std::llround(e.duration * sr)),
                                          static_cast<int64_t>(c.x.size()) - first);
    const int64_t at = static_cast<int64_t>(std::llround(e.start * sr));
    if (len <= 0 || at >= n) continue;
    x.assign(c.x.begin() + first, c.x.begin() + first + len);
    const double level = rms(x.data(), x.size());
    if (level <= 0) continue;
    const float g = static_cast<float>(std::pow(10.0, e.level_db / 20) / level);
    // fades against clicks: music fades in/out over 0.25 s, the rest over 5 ms
    const int64_t fade =
        std::min<int64_t>(len / 2, static_cast<int64_t>((e.kind == "music" ? 0.25 : 0.005) * sr));
    for (int64_t i = 0; i < fade; ++i) {
      const float w = static_cast<float>(
          0.5 - 0.5 * std::cos(M_PI * static_cast<double>(i) / static_cast<double>(fade)));
      x[static_cast<size_t>(i)] *= w;
      x[static_cast<size_t>(len - 1 - i)] *= w;
    }
    for (auto& v : x) v *= g;
    const int64_t end = std::min(n, at + len);
    for (int64_t i = at; i < end; ++i)
      mix[static_cast<size_t>(i)] += x[static_cast<size_t>(i - at)];
    if (e.kind == "voice") {
      for (size_t k = 0; k < room.delay.size(); ++k) {
        const float gk = wet * room.gain[k];
        const int64_t start = at + room.delay[k];
        const int64_t stop = std::min(n, start + len);
        for (int64_t i = start; i < stop; ++i)
          mix[static_cast<size_t>(i)] += gk * x[static_cast<size_t>(i - start)];
      }
    }
  }
  float peak = 0;
  for (float v : mix) peak = std::max(peak, std::abs(v));
  if (peak > 0.95f) {
    for (auto& v : mix) v *= 0.95f / peak;
  }
  return mix;
}

}  // namespace hptrain::data::demo_mix
