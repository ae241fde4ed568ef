// Development conversations (conversations.h): turns drawn like dialogue from voice lines,
// reference turns from each placed voice's own activity, an optional bed at an SNR.
#include "hptrain/diarization/conversations.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "hptrain/data/random.h"
#include "hptrain/demo/demo_corpus.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "hptrain/log.h"
#include "hptrain/progress.h"

namespace hptrain::diarization {

namespace stdfs = std::filesystem;
using data::SplitMix64;

namespace {

constexpr double kTrimDb = 35;        // a clip's edges below its loudest 10 ms frame by this
constexpr double kActivityDb = 30;    // reference speech: frames within this of the turn's peak
constexpr double kBridgeS = 0.4;      // pauses shorter than this stay inside a reference turn
constexpr double kFadeS = 0.01;       // fade at excerpt edges (no click)
constexpr double kSpeakerDbfs = -23;  // speech RMS of a voice, +-kSpeakerSpreadDb per speaker
constexpr double kSpeakerSpreadDb = 3;

std::vector<stdfs::path> media_files(const stdfs::path& dir) {
  std::vector<stdfs::path> out;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && io::is_media_file(e.path())) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// RMS of frames of `hop` samples (the last one may be shorter).
std::vector<double> frame_rms(const std::vector<float>& x, int hop) {
  std::vector<double> r;
  for (size_t i = 0; i < x.size(); i += static_cast<size_t>(hop)) {
    const size_t e = std::min(x.size(), i + static_cast<size_t>(hop));
    double s = 0;
    for (size_t k = i; k < e; ++k) s += static_cast<double>(x[k]) * x[k];
    r.push_back(std::sqrt(s / static_cast<double>(e - i)));
  }
  return r;
}

std::vector<float> trim(std::vector<float> x, int sr) {
  const int hop = sr / 100;
  const auto r = frame_rms(x, hop);
  if (r.empty()) return x;
  const double peak = *std::max_element(r.begin(), r.end());
  if (peak <= 0) return {};
  const double thr = peak * std::pow(10.0, -kTrimDb / 20);
  size_t a = 0, b = r.size();
  while (a < b && r[a] < thr) ++a;
  while (b > a && r[b - 1] < thr) --b;
  const size_t s0 = a * static_cast<size_t>(hop);
  const size_t s1 = std::min(x.size(), b * static_cast<size_t>(hop));
  return std::vector<float>(x.begin() + static_cast<std::ptrdiff_t>(s0),
                            x.begin() + static_cast<std::ptrdiff_t>(s1));
}

double active_rms(const std::vector<float>& x, int sr) {
  const auto r = frame_rms(x, sr / 100);
  if (r.empty()) return 0;
  const double peak = *std::max_element(r.begin(), r.end());
  double s = 0;
  int n = 0;
  for (double v : r) {
    if (v >= peak * std::pow(10.0, -kActivityDb / 20)) {
      s += v * v;
      ++n;
    }
  }
  return n > 0 ? std::sqrt(s / n) : 0;
}

void fade(std::vector<float>& x, int sr) {
  const size_t n = std::min(x.size() / 2, static_cast<size_t>(kFadeS * sr));
  for (size_t i = 0; i < n; ++i) {
    const float g = static_cast<float>(i) / static_cast<float>(n);
    x[i] *= g;
    x[x.size() - 1 - i] *= g;
  }
}

struct Voice {
  std::string name;
  std::vector<stdfs::path> files;
  std::vector<std::vector<float>> clips;  // trimmed, at unit speech RMS; loaded on first use
  void load(int sr) {
    if (!clips.empty()) return;
    for (const auto& f : files) {
      auto x = trim(io::load_mono(f.string(), sr), sr);
      if (x.size() < static_cast<size_t>(sr / 4)) continue;  // under 0.25 s
      const double rms = active_rms(x, sr);
      if (rms <= 0) continue;
      for (auto& v : x) v = static_cast<float>(v / rms);
      clips.push_back(std::move(x));
    }
    if (clips.empty())
      throw InputError("voice '" + name + "': no usable line (all silent or short)");
  }
};

// One turn of about `target` seconds: whole lines, or an excerpt of a long one, with short
// pauses between the parts.
std::vector<float> build_turn(Voice& v, double target, int sr, SplitMix64& rng) {
  std::vector<float> out;
  const size_t want = static_cast<size_t>(target * sr);
  for (int part = 0; part < 4 && out.size() < want * 9 / 10; ++part) {
    if (!out.empty()) out.resize(out.size() + static_cast<size_t>(rng.uniform(0.08, 0.25) * sr));
    const auto& clip = v.clips[rng.below(v.clips.size())];
    const size_t remaining = want > out.size() ? want - out.size() : 0;
    std::vector<float> piece;
    if (clip.size() > remaining + static_cast<size_t>(sr / 2)) {
      const size_t len = std::min(clip.size(), std::max(remaining, static_cast<size_t>(0.8 * sr)));
      const size_t off = rng.below(clip.size() - len + 1);
      piece.assign(clip.begin() + static_cast<std::ptrdiff_t>(off),
                   clip.begin() + static_cast<std::ptrdiff_t>(off + len));
      fade(piece, sr);
    } else {
      piece = clip;
    }
    out.insert(out.end(), piece.begin(), piece.end());
  }
  return out;
}

// Reference turns of one placed voice signal: 10 ms frames within kActivityDb of its peak,
// pauses under kBridgeS joined.
std::vector<std::pair<double, double>> activity(const std::vector<float>& x, int sr,
                                                double offset) {
  const int hop = sr / 100;
  const auto r = frame_rms(x, hop);
  std::vector<std::pair<double, double>> out;
  if (r.empty()) return out;
  const double thr = *std::max_element(r.begin(), r.end()) * std::pow(10.0, -kActivityDb / 20);
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i] < thr) continue;
    const double a = offset + static_cast<double>(i * hop) / sr;
    const double b = offset + static_cast<double>(std::min(x.size(), (i + 1) * hop)) / sr;
    if (!out.empty() && a - out.back().second < kBridgeS) {
      out.back().second = b;
    } else {
      out.emplace_back(a, b);
    }
  }
  return out;
}

std::vector<float> make_bed(const ConversationConfig& cfg, size_t n, SplitMix64& rng) {
  std::vector<float> bed(n, 0.0f);
  if (cfg.bed == "music") {
    std::set<std::string> heard;
    for (const auto& [f, mood] : data::demo_music()) heard.insert(f);
    auto tracks = media_files(cfg.wesnoth / "music");
    std::vector<stdfs::path> unheard;
    for (const auto& t : tracks) {
      if (heard.count(t.filename().string()) == 0) unheard.push_back(t);
    }
    if (!unheard.empty()) tracks = unheard;  // music the demo does not train on, when there is
    if (tracks.empty()) {
      throw InputError("music bed: no track under '" + (cfg.wesnoth / "music").string() +
                       "' (install wesnoth-1.16-music: scripts/setup.sh)");
    }
    const auto x = io::load_mono(tracks[rng.below(tracks.size())].string(), cfg.sr);
    if (x.empty()) return bed;
    size_t k = rng.below(x.size());
    for (size_t i = 0; i < n; ++i, ++k) bed[i] = x[k % x.size()];
  } else if (cfg.bed == "effects") {
    std::vector<stdfs::path> files;
    for (const auto& e : data::demo_effects()) {
      const auto p = cfg.wesnoth / "sounds" / e;
      if (stdfs::exists(p)) files.push_back(p);
    }
    if (files.empty()) {
      throw InputError("effects bed: no effect under '" + (cfg.wesnoth / "sounds").string() +
                       "' (install wesnoth-1.16-data: scripts/setup.sh)");
    }
    for (double t = rng.uniform(0, 1); t * cfg.sr < static_cast<double>(n);
         t += rng.uniform(0.5, 3.0)) {
      const auto x = io::load_mono(files[rng.below(files.size())].string(), cfg.sr);
      const double gain = std::pow(10.0, rng.uniform(-6, 0) / 20);
      const size_t s0 = static_cast<size_t>(t * cfg.sr);
      for (size_t i = 0; i < x.size() && s0 + i < n; ++i)
        bed[s0 + i] += static_cast<float>(gain * x[i]);
    }
  }
  return bed;
}

}  // namespace

void ConversationConfig::validate() const {
  if (count < 1) throw ConfigError("count = " + std::to_string(count) + ": must be >= 1");
  if (min_speakers < 1 || max_speakers < min_speakers) {
    throw ConfigError("speakers = " + std::to_string(min_speakers) + "-" +
                      std::to_string(max_speakers) + ": must be 1 <= min <= max");
  }
  if (!(overlap >= 0 && overlap <= 1)) {
    throw ConfigError("overlap = " + std::to_string(overlap) + ": must be in [0, 1]");
  }
  if (bed != "music" && bed != "effects" && bed != "none") {
    throw ConfigError("bed = '" + bed + "': must be music, effects or none");
  }
  if (!std::isfinite(snr_db)) throw ConfigError("snr_db: must be a finite number");
  if (!(min_duration_s > 0 && max_duration_s >= min_duration_s)) {
    throw ConfigError("duration: must be 0 < min_duration_s <= max_duration_s");
  }
  if (sr < 8000) throw ConfigError("sr = " + std::to_string(sr) + ": must be >= 8000");
}

std::vector<std::pair<std::string, std::vector<stdfs::path>>> find_voices(
    const ConversationConfig& cfg) {
  std::map<std::string, std::vector<stdfs::path>> by;
  if (cfg.voices.empty()) {
    const std::set<std::string> cast(data::demo_cast().begin(), data::demo_cast().end());
    std::error_code ec;
    for (const auto& e : stdfs::directory_iterator(cfg.hedgewars_voices, ec)) {
      const std::string name = e.path().filename().string();
      if (e.is_directory() && cast.count(name) == 0) by[name] = media_files(e.path());
    }
    if (ec) {
      throw InputError("no hedgewars voices at '" + cfg.hedgewars_voices.string() +
                       "' (install hedgewars-data: scripts/setup.sh), or give --voices");
    }
  } else {
    if (!stdfs::is_directory(cfg.voices)) {
      throw InputError("voices '" + cfg.voices.string() + "': not a folder");
    }
    for (const auto& e : stdfs::directory_iterator(cfg.voices)) {
      if (e.is_directory()) {
        auto f = media_files(e.path());
        if (!f.empty()) by[e.path().filename().string()] = std::move(f);
      }
    }
    if (by.empty()) {  // flat: the speaker is the file name up to its first '-'
      for (const auto& f : media_files(cfg.voices)) {
        const std::string stem = f.stem().string();
        by[stem.substr(0, stem.find('-'))].push_back(f);
      }
    }
  }
  std::vector<std::pair<std::string, std::vector<stdfs::path>>> out;
  for (auto& [k, v] : by) {
    if (!v.empty()) out.emplace_back(k, std::move(v));
  }
  const stdfs::path where = cfg.voices.empty() ? cfg.hedgewars_voices : cfg.voices;
  if (static_cast<int>(out.size()) < cfg.max_speakers) {
    throw InputError("voices '" + where.string() + "': " + std::to_string(out.size()) +
                     " speakers, fewer than --speakers asks (" + std::to_string(cfg.max_speakers) +
                     ")");
  }
  return out;
}

std::vector<Conversation> make_conversations(const ConversationConfig& cfg,
                                             const stdfs::path& out) {
  cfg.validate();
  auto found = find_voices(cfg);
  std::vector<Voice> voices;
  for (auto& [name, files] : found) voices.push_back({name, std::move(files), {}});
  std::vector<Conversation> convs;
  std::ostringstream csv;
  csv << "name,duration_s,speakers,turns,speech_s,overlap_s,bed,snr_db\n";
  Progress progress("conversations", static_cast<size_t>(cfg.count), "files");
  for (int c = 0; c < cfg.count; ++c) {
    Conversation conv;
    char name[32];
    std::snprintf(name, sizeof name, "conv-%03d", c);
    conv.name = name;
    SplitMix64 rng(data::derive_seed(cfg.seed, name));
    const int n_spk =
        cfg.min_speakers + static_cast<int>(rng.below(cfg.max_speakers - cfg.min_speakers + 1));
    std::vector<size_t> pool(voices.size());
    for (size_t i = 0; i < pool.size(); ++i) pool[i] = i;
    for (size_t i = pool.size() - 1; i > 0; --i) std::swap(pool[i], pool[rng.below(i + 1)]);
    pool.resize(static_cast<size_t>(n_spk));
    std::sort(pool.begin(), pool.end());
    std::vector<double> gain(pool.size());
    for (size_t i = 0; i < pool.size(); ++i) {
      voices[pool[i]].load(cfg.sr);
      conv.speakers.push_back(voices[pool[i]].name);
      gain[i] =
          std::pow(10.0, (kSpeakerDbfs + rng.uniform(-kSpeakerSpreadDb, kSpeakerSpreadDb)) / 20);
    }
    const double target = rng.uniform(cfg.min_duration_s, cfg.max_duration_s);
    std::vector<float> speech, active;  // the voices' mix; 1 where a reference turn is
    std::vector<Turn> turns;
    int prev = -1, prevprev = -1;
    for (double t = rng.uniform(0.3, 1.0); t < target;) {
      int s;  // back-and-forth: often the one who spoke before the last
      if (prevprev >= 0 && prevprev != prev && rng.uniform() < 0.6) {
        s = prevprev;
      } else {
        do {
          s = static_cast<int>(rng.below(pool.size()));
        } while (s == prev && pool.size() > 1);
      }
      const double len = std::clamp(std::exp(std::log(2.0) + 0.6 * rng.normal()), 0.6, 7.0);
      auto x = build_turn(voices[pool[static_cast<size_t>(s)]], len, cfg.sr, rng);
      for (auto& v : x) v = static_cast<float>(v * gain[static_cast<size_t>(s)]);
      const size_t s0 = static_cast<size_t>(t * cfg.sr);
      if (speech.size() < s0 + x.size()) {
        speech.resize(s0 + x.size(), 0.0f);
        active.resize(s0 + x.size(), 0.0f);
      }
      for (size_t i = 0; i < x.size(); ++i) speech[s0 + i] += x[i];
      for (const auto& [a, b] : activity(x, cfg.sr, static_cast<double>(s0) / cfg.sr)) {
        turns.push_back({conv.name, a, b - a, voices[pool[static_cast<size_t>(s)]].name});
        for (size_t i = static_cast<size_t>(a * cfg.sr);
             i < static_cast<size_t>(b * cfg.sr) && i < active.size(); ++i)
          active[i] = 1;
      }
      const double dur = static_cast<double>(x.size()) / cfg.sr;
      const double end = static_cast<double>(s0) / cfg.sr + dur;
      if (rng.uniform() < cfg.overlap) {
        t = end - rng.uniform(0.25, std::max(0.3, std::min(1.0, 0.5 * dur)));
      } else if (rng.uniform() < 0.1) {
        t = end + rng.uniform(1.5, 4.0);  // a longer silence
      } else {
        t = end + rng.uniform(0.15, 1.0);
      }
      prevprev = prev;
      prev = s;
    }
    speech.resize(speech.size() + static_cast<size_t>(0.5 * cfg.sr), 0.0f);
    active.resize(speech.size(), 0.0f);
    conv.duration_s = static_cast<double>(speech.size()) / cfg.sr;
    std::vector<float> mix = speech;
    if (cfg.bed != "none") {
      const auto bed = make_bed(cfg, mix.size(), rng);
      double ps = 0, pb = 0, ns = 0;
      for (size_t i = 0; i < mix.size(); ++i) {
        if (active[i] > 0) {
          ps += static_cast<double>(speech[i]) * speech[i];
          ns += 1;
        }
        pb += static_cast<double>(bed[i]) * bed[i];
      }
      pb /= static_cast<double>(mix.size());
      if (ns > 0 && pb > 0) {
        const double g = std::sqrt(ps / ns / pb * std::pow(10.0, -cfg.snr_db / 10));
        for (size_t i = 0; i < mix.size(); ++i) mix[i] += static_cast<float>(g * bed[i]);
      }
    }
    float peak = 0;
    for (float v : mix) peak = std::max(peak, std::fabs(v));
    if (peak > 0.99f) {
      for (auto& v : mix) v *= 0.99f / peak;
    }
    std::sort(turns.begin(), turns.end(),
              [](const Turn& a, const Turn& b) { return a.onset < b.onset; });
    conv.turns = turns;
    io::write_wav(out / (conv.name + ".wav"), mix.data(), mix.size(), cfg.sr);
    write_rttm(out / (conv.name + ".rttm"), conv.turns);
    double speech_s = 0, overlap_s = 0;
    {
      // seconds with at least one / two speakers, from the reference turns at 10 ms
      std::vector<int> cnt(static_cast<size_t>(conv.duration_s * 100) + 1, 0);
      for (const auto& t : conv.turns) {
        for (auto i = static_cast<size_t>(std::lround(t.onset * 100));
             i < static_cast<size_t>(std::lround((t.onset + t.duration) * 100)) && i < cnt.size();
             ++i)
          ++cnt[i];
      }
      for (int k : cnt) {
        speech_s += k >= 1 ? 0.01 : 0;
        overlap_s += k >= 2 ? 0.01 : 0;
      }
    }
    char row[256];
    std::snprintf(row, sizeof row, "%s,%.3f,%d,%zu,%.2f,%.2f,%s,%g\n", conv.name.c_str(),
                  conv.duration_s, n_spk, conv.turns.size(), speech_s, overlap_s, cfg.bed.c_str(),
                  cfg.snr_db);
    csv << row;
    convs.push_back(std::move(conv));
    progress.advance();
  }
  progress.finish();
  fs::write_text(out / "conversations.csv", csv.str());
  return convs;
}

}  // namespace hptrain::diarization
