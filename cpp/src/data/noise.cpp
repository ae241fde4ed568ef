// Noise kinds, the active-power SNR and the noise pools read from a dataset (data/noise.h).
#include "hptrain/data/noise.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "hptrain/data/manifest.h"
#include "hptrain/data/random.h"
#include "hptrain/data/split.h"
#include "hptrain/demo/demo_corpus.h"
#include "hptrain/error.h"
#include "hptrain/io/audio.h"
#include "hptrain/log.h"

namespace hptrain::data {
namespace stdfs = std::filesystem;

namespace {

// FFTW's planner is not thread-safe; execution is.
std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

// Gaussian noise with power spectral density ~ 1/f: random complex bins scaled by 1/sqrt(k),
// then an inverse real FFT; unit mean square.
std::vector<float> pink(size_t n, SplitMix64& rng) {
  std::vector<float> out(n, 0.0f);
  if (n < 2) return out;
  const size_t bins = n / 2 + 1;
  auto* spec = static_cast<fftw_complex*>(fftw_malloc(sizeof(fftw_complex) * bins));
  double* time = static_cast<double*>(fftw_malloc(sizeof(double) * n));
  fftw_plan plan;
  {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    plan = fftw_plan_dft_c2r_1d(static_cast<int>(n), spec, time, FFTW_ESTIMATE);
  }
  spec[0][0] = spec[0][1] = 0.0;
  for (size_t k = 1; k < bins; ++k) {
    const double scale = 1.0 / std::sqrt(static_cast<double>(k));
    spec[k][0] = rng.normal() * scale;
    spec[k][1] = rng.normal() * scale;
  }
  if (n % 2 == 0) spec[bins - 1][1] = 0.0;  // the Nyquist bin is real
  fftw_execute(plan);
  {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fftw_destroy_plan(plan);
  }
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(time[i]);
  fftw_free(time);
  fftw_free(spec);
  const double p = mean_power(out.data(), n);
  if (p > 0) {
    const auto g = static_cast<float>(1.0 / std::sqrt(p));
    for (auto& v : out) v *= g;
  }
  return out;
}

// Appends clip samples from `start`, wrapping around, until `out` holds n (or `len` samples);
// whole runs at a time (a sample at a time with a division each was most of babble's draw).
void copy_wrapped(const std::vector<float>& clip, size_t start, size_t len, std::vector<float>& out,
                  size_t n) {
  len = std::min(len, n - std::min(n, out.size()));
  size_t at = start % clip.size();
  while (len > 0) {
    const size_t run = std::min(len, clip.size() - at);
    out.insert(out.end(), clip.begin() + static_cast<long>(at),
               clip.begin() + static_cast<long>(at + run));
    len -= run;
    at = 0;
  }
}

// Random clips of `pool` (indices into clips) from random offsets, one after the other.
std::vector<float> clip_run(const std::vector<NoiseClip>& clips, const std::vector<size_t>& pool,
                            size_t n, SplitMix64& rng) {
  std::vector<float> out;
  out.reserve(n);
  while (out.size() < n) {
    const auto& clip = clips[pool[rng.below(pool.size())]].samples;
    const size_t start = rng.below(clip.size());
    copy_wrapped(clip, start, clip.size(), out, n);
  }
  return out;
}

void scale_to_unit_active(std::vector<float>& x, int sr) {
  const double p = active_power(x.data(), x.size(), sr);
  if (p <= 0) return;
  const auto g = static_cast<float>(1.0 / std::sqrt(p));
  for (auto& v : x) v *= g;
}

int class_index(const Task& t, const std::string& name) {
  for (size_t i = 0; i < t.classes.size(); ++i) {
    if (t.classes[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

void check_snr(double snr_db, const std::string& where) {
  if (!std::isfinite(snr_db) || snr_db < kMinSnrDb || snr_db > kMaxSnrDb) {
    std::ostringstream s;
    s << where << " = " << snr_db << ": must be in [" << kMinSnrDb << ", " << kMaxSnrDb << "] dB";
    throw ConfigError(s.str());
  }
}

std::string NoiseKind::text() const {
  return name == "folder" ? "folder:" + folder.string() : name;
}

NoiseKind parse_noise_kind(const std::string& text) {
  static const std::set<std::string> kPlain = {"white", "pink",       "babble",
                                               "music", "demo-music", "effects"};
  if (kPlain.count(text) != 0) return {text, {}};
  if (text.rfind("folder:", 0) == 0 && text.size() > 7) return {"folder", text.substr(7)};
  throw ConfigError("noise kind '" + text +
                    "' is not one of: white, pink, babble, music, demo-music, effects, "
                    "folder:PATH");
}

double mean_power(const float* x, size_t n) {
  if (n == 0) return 0;
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s / static_cast<double>(n);
}

double active_power(const float* x, size_t n, int sr) {
  const size_t frame = std::max<size_t>(1, static_cast<size_t>(std::lround(kActiveFrameS * sr)));
  std::vector<double> power;  // per frame: mean square
  std::vector<size_t> length;
  for (size_t i = 0; i < n; i += frame) {
    const size_t len = std::min(frame, n - i);
    power.push_back(mean_power(x + i, len));
    length.push_back(len);
  }
  if (power.empty()) return 0;
  const double loudest = *std::max_element(power.begin(), power.end());
  const double threshold =
      std::max(loudest * std::pow(10.0, -kActiveTopDb / 10), std::pow(10.0, kActiveFloorDb / 10));
  double sum = 0;
  size_t count = 0;
  for (size_t f = 0; f < power.size(); ++f) {
    if (power[f] >= threshold && power[f] > 0) {
      sum += power[f] * static_cast<double>(length[f]);
      count += length[f];
    }
  }
  return count == 0 ? 0.0 : sum / static_cast<double>(count);
}

double mix_gain(double signal_power, double noise_power, double snr_db) {
  if (noise_power <= 0) return 0;
  const double ps = signal_power > 0 ? signal_power : std::pow(10.0, kSilentReferenceDb / 10);
  return std::sqrt(ps / (noise_power * std::pow(10.0, snr_db / 10)));
}

void add_scaled(float* signal, size_t n, const float* noise, double g) {
  for (size_t i = 0; i < n; ++i) signal[i] += static_cast<float>(g * noise[i]);
}

double mix_at_snr(float* signal, size_t n, const float* noise, double snr_db, int sr) {
  const double g = mix_gain(active_power(signal, n, sr), mean_power(noise, n), snr_db);
  if (g > 0) add_scaled(signal, n, noise, g);
  return g;
}

NoiseSource::NoiseSource(NoiseKind kind, int sr, uint64_t seed, std::vector<NoiseClip> clips)
    : kind_(std::move(kind)), sr_(sr), seed_(seed) {
  clips.erase(std::remove_if(clips.begin(), clips.end(),
                             [](const NoiseClip& c) { return c.samples.empty(); }),
              clips.end());
  if (kind_.name != "white" && kind_.name != "pink" && clips.empty()) {
    throw InputError("noise '" + kind_.text() + "': no recording to draw it from");
  }
  std::set<std::string> labels;
  for (const auto& c : clips) labels.insert(c.label);
  labels_.assign(labels.begin(), labels.end());
  if (kind_.name == "babble" && labels_.size() < 2) {
    throw InputError("noise 'babble' needs the voices of at least two speakers (found " +
                     std::to_string(labels_.size()) + ")");
  }
  clips_ = std::make_shared<const std::vector<NoiseClip>>(std::move(clips));
}

std::vector<float> NoiseSource::draw(size_t n, uint64_t key, const std::string& speaker,
                                     std::vector<std::string>* voices) const {
  SplitMix64 rng(SplitMix64(seed_ ^ SplitMix64(key).next()).next());
  if (voices != nullptr) voices->clear();
  const auto& clips = *clips_;
  if (kind_.name == "white") {
    std::vector<float> out(n);
    for (auto& v : out) v = static_cast<float>(rng.normal());
    return out;
  }
  if (kind_.name == "pink") return pink(n, rng);
  if (kind_.name == "babble") {
    std::vector<std::string> others;
    for (const auto& l : labels_) {
      if (l != speaker) others.push_back(l);
    }
    if (others.empty()) {
      throw InputError("noise 'babble': no voice other than '" + speaker + "'");
    }
    const size_t k = 3 + rng.below(4);  // 3-6 voices
    // distinct labels while there are enough (a shuffled order, then around again)
    for (size_t i = others.size(); i > 1; --i) std::swap(others[i - 1], others[rng.below(i)]);
    std::vector<float> sum(n, 0.0f);
    for (size_t v = 0; v < k; ++v) {
      const std::string& who = others[v % others.size()];
      std::vector<size_t> pool;
      for (size_t c = 0; c < clips.size(); ++c) {
        if (clips[c].label == who) pool.push_back(c);
      }
      auto voice = clip_run(clips, pool, n, rng);
      scale_to_unit_active(voice, sr_);
      for (size_t i = 0; i < n; ++i) sum[i] += voice[i];
      if (voices != nullptr) voices->push_back(who);
    }
    return sum;
  }
  std::vector<size_t> all(clips.size());
  for (size_t c = 0; c < clips.size(); ++c) all[c] = c;
  if (kind_.name == "music" || kind_.name == "demo-music") {  // one track, looped
    const auto& clip = clips[rng.below(clips.size())].samples;
    std::vector<float> out;
    out.reserve(n);
    copy_wrapped(clip, rng.below(clip.size()), n, out, n);
    return out;
  }
  return clip_run(clips, all, n, rng);  // effects, folder
}

uint64_t chunk_key(const std::string& source, double offset_s) {
  const auto ms = static_cast<long long>(std::llround(offset_s * 1000));
  return derive_seed(static_cast<uint64_t>(ms), source.c_str());
}

std::string speaker_task(const DatasetConfig& dataset) {
  for (const char* name : {"speaker", "character"}) {
    if (dataset.task_index(name) >= 0) return name;
  }
  for (const auto& t : dataset.tasks) {
    if (!t.background.empty()) return t.name;
  }
  return {};
}

NoiseSource load_noise(const NoiseKind& kind, const DatasetConfig& dataset, uint64_t seed,
                       const NoisePoolOptions& opts) {
  const int sr = dataset.preprocess.sr;
  if (kind.name == "white" || kind.name == "pink") return NoiseSource(kind, sr, seed);
  std::vector<NoiseClip> clips;
  if (kind.name == "folder") {
    if (!stdfs::is_directory(kind.folder)) {
      throw InputError("noise folder '" + kind.folder.string() + "' is not a folder");
    }
    std::vector<stdfs::path> files;
    for (const auto& e : stdfs::recursive_directory_iterator(kind.folder)) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      throw InputError("noise folder '" + kind.folder.string() + "' has no files");
    }
    std::vector<std::string> bad;
    for (const auto& f : files) {
      try {
        auto x = io::load_mono(f.string(), sr, dataset.preprocess.stream);
        if (x.empty()) {
          bad.push_back("'" + f.string() + "': no samples");
          continue;
        }
        clips.push_back({"", f.string(), std::move(x)});
      } catch (const Error& e) {
        bad.push_back(e.what());
      }
    }
    if (!bad.empty()) {
      std::string msg = "noise folder '" + kind.folder.string() +
                        "': " + std::to_string(bad.size()) + " of " + std::to_string(files.size()) +
                        " files cannot be used (remove them or convert them):";
      for (const auto& b : bad) msg += "\n  " + b;
      throw InputError(msg);
    }
    return NoiseSource(kind, sr, seed, std::move(clips));
  }
  // the demo corpus's files of `names` under `folder` (those present); InputError when none is
  const auto demo_files = [&](const stdfs::path& folder, const std::vector<std::string>& names,
                              const std::string& what, const std::string& package) {
    for (const auto& f : names) {
      const auto path = folder / f;
      if (!stdfs::is_regular_file(path)) continue;
      clips.push_back({"", path.string(), io::load_mono(path.string(), sr)});
    }
    if (clips.empty()) {
      throw InputError("noise '" + kind.name + "': no demo " + what + " under '" + folder.string() +
                       "' (install " + package + ": scripts/setup.sh)");
    }
    return NoiseSource(kind, sr, seed, std::move(clips));
  };
  if (kind.name == "effects") {
    if (!dataset.demo) {
      throw InputError("noise 'effects': dataset '" + dataset.file.string() +
                       "' has no effect recordings (only the demo corpus names its sources): "
                       "use --noise folder:PATH with your own");
    }
    return demo_files(dataset.demo->wesnoth / "sounds", demo_effects(), "effect",
                      "the wesnoth data");
  }
  if (kind.name == "demo-music") {
    // the tracks the demo corpus trains on; make-conversations' music beds use the others
    std::vector<std::string> tracks;
    for (const auto& [f, mood] : demo_music()) tracks.push_back(f);
    return demo_files((dataset.demo ? dataset.demo->wesnoth : DemoConfig{}.wesnoth) / "music",
                      tracks, "track", "wesnoth-1.16-music");
  }
  // babble, music: segments of the training split
  ManifestOptions mo;
  mo.probe_audio = false;
  const Manifest m = read_manifest(dataset, mo);
  const SplitResult splits = assign_splits(m, dataset.split);
  const std::string who = speaker_task(dataset);
  int speaker = -1, music = -1;
  for (size_t t = 0; t < m.tasks.size(); ++t) {
    if (m.tasks[t].name == who) speaker = static_cast<int>(t);
    if (m.tasks[t].name == "music") music = static_cast<int>(t);
  }
  if (speaker < 0) {
    throw InputError("noise '" + kind.name + "': dataset '" + dataset.file.string() +
                     "' has no task that says who speaks (speaker, character, or a task with a "
                     "background class)");
  }
  const Task& st = m.tasks[static_cast<size_t>(speaker)];
  const int silent = class_index(st, st.background);
  int no_music = -1;
  if (kind.name == "music") {
    if (music < 0) {
      throw InputError("noise 'music': dataset '" + dataset.file.string() +
                       "' has no task 'music' to find music in: use --noise folder:PATH");
    }
    const Task& mt = m.tasks[static_cast<size_t>(music)];
    no_music = class_index(mt, mt.background);
  }
  // candidates per label, then a seeded choice of at most max_clips_per_label of each
  std::map<std::string, std::vector<const Segment*>> by_label;
  for (size_t i = 0; i < m.segments.size(); ++i) {
    const Segment& s = m.segments[i];
    if (splits.segment_split[i] != "train") continue;
    if (s.end && *s.end - s.start < opts.min_clip_s) continue;
    const int spk = s.labels[static_cast<size_t>(speaker)];
    if (kind.name == "babble") {
      if (spk == silent) continue;
      by_label[st.classes[static_cast<size_t>(spk)]].push_back(&s);
    } else {
      if (spk != silent || s.labels[static_cast<size_t>(music)] == no_music) continue;
      by_label["music"].push_back(&s);
    }
  }
  std::map<stdfs::path, std::vector<std::pair<std::string, const Segment*>>> by_file;
  for (auto& [label, segs] : by_label) {
    SplitMix64 rng(derive_seed(seed, label.c_str()));
    for (size_t i = segs.size(); i > 1; --i) std::swap(segs[i - 1], segs[rng.below(i)]);
    if (segs.size() > opts.max_clips_per_label) segs.resize(opts.max_clips_per_label);
    for (const auto* s : segs) by_file[s->file].emplace_back(label, s);
  }
  for (const auto& [file, segs] : by_file) {
    const auto x = io::load_mono(file.string(), sr, dataset.preprocess.stream);
    for (const auto& [label, s] : segs) {
      const auto a = std::min(x.size(), static_cast<size_t>(std::lround(s->start * sr)));
      double end_s = s->end ? *s->end : static_cast<double>(x.size()) / sr;
      end_s = std::min(end_s, s->start + opts.max_clip_s);
      const auto b = std::min(x.size(), static_cast<size_t>(std::lround(end_s * sr)));
      if (b <= a) continue;
      clips.push_back(
          {label, s->path,
           std::vector<float>(x.begin() + static_cast<long>(a), x.begin() + static_cast<long>(b))});
    }
  }
  if (clips.empty()) {
    throw InputError("noise '" + kind.name + "': no training segment of dataset '" +
                     dataset.file.string() + "' gives " +
                     (kind.name == "babble" ? "a voice" : "music without dialogue"));
  }
  HP_LOG_INFO("noise '{}': {} clips from {} training files of {}", kind.name, clips.size(),
              by_file.size(), dataset.name);
  return NoiseSource(kind, sr, seed, std::move(clips));
}

}  // namespace hptrain::data
