// The demo corpus builder: sources -> per-split pools -> scene plans -> mixes (scene_mix.h) ->
// WAVs + manifest; the sources it uses are listed in demo_catalogue.cpp.
#include "hptrain/demo/demo_corpus.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <mutex>
#include <sstream>

#include "demo/scene_mix.h"
#include "demo/voice_lines.h"
#include "hptrain/csv.h"
#include "hptrain/data/random.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "hptrain/log.h"
#include "hptrain/parallel.h"
#include "hptrain/progress.h"

namespace hptrain::data {

namespace stdfs = std::filesystem;

namespace {

using demo_mix::Clip;
using demo_mix::Levels;
using demo_mix::levels;
using voice_lines::kMinLine_s;
using voice_lines::trim;
// Splits n items (n >= number of non-empty splits) by the fractions, deterministically: at least
// one item per split with a fraction > 0. Returns the split index of each item.
std::vector<int> assign_items(size_t n, const std::vector<double>& frac, uint64_t seed,
                              const std::string& what) {
  std::vector<size_t> count(3, 0);
  for (size_t s = 1; s < 3; ++s) {
    if (frac[s] > 0)
      count[s] =
          std::max<size_t>(1, static_cast<size_t>(std::lround(frac[s] * static_cast<double>(n))));
  }
  if (count[1] + count[2] + 1 > n) {
    throw InputError("demo corpus: " + what + " has " + std::to_string(n) +
                     " sources, too few for three splits");
  }
  count[0] = n - count[1] - count[2];
  const auto order = permutation(static_cast<int64_t>(n), seed);
  std::vector<int> out(n, 0);
  size_t k = 0;
  for (int s = 0; s < 3; ++s) {
    for (size_t c = 0; c < count[static_cast<size_t>(s)]; ++c)
      out[static_cast<size_t>(order[k++])] = s;
  }
  return out;
}

struct Pool {
  std::map<std::string, std::vector<const Clip*>> voices;  // character -> lines
  std::map<std::string, std::vector<const Clip*>> music;   // mood -> tracks
};

// Times are kept on a millisecond grid, as the manifest writes them.
double ms(double t) {
  return std::round(t * 1000) / 1000;
}

// Appends `e` with start and end on the millisecond grid; returns it.
const DemoEvent& add_event(DemoScene& s, DemoEvent e) {
  const double end = ms(e.start + e.duration);
  e.start = ms(e.start);
  e.duration = end - e.start;
  e.source_offset = ms(e.source_offset);
  s.events.push_back(std::move(e));
  return s.events.back();
}

template <class T>
const T& pick(SplitMix64& rng, const std::vector<T>& v) {
  return v[static_cast<size_t>(rng.below(v.size()))];
}

// Plans one scene: events, then the labelled segments from the speaker turns and the music.
class ScenePlanner {
 public:
  ScenePlanner(const Pool& pool, const std::vector<Clip>& effects,
               const std::vector<Clip>& ambience, int sr)
      : pool_(pool), effects_(effects), ambience_(ambience), sr_(sr) {}

  DemoScene plan(const std::string& name, const std::string& split, const std::string& type,
                 double duration, SplitMix64& rng) {
    DemoScene s;
    s.name = name;
    s.split = split;
    s.type = type;
    s.duration = duration;
    const Levels& lv = levels(type);
    turns_.clear();
    music0_ = music1_ = -1;
    // ambience bed over the whole scene
    const Clip& amb = pick(rng, ambience_);
    const double amb_level = lv.ambience + rng.uniform(-lv.spread, lv.spread);
    const double amb_len = static_cast<double>(amb.x.size()) / sr_;
    for (double t = 0; t < duration; t += amb_len) {
      add_event(s, {"ambience", amb.source, "", t, std::min(amb_len, duration - t), 0, amb_level});
    }
    // music
    if (type == "dialog") {
      if (rng.uniform() < 0.5) {
        const double a = rng.uniform() < 0.3 ? 0.0 : rng.uniform(0, duration / 2);
        const double b =
            rng.uniform() < 0.5 ? duration : rng.uniform(a + 0.5 * (duration - a), duration);
        add_music(s, rng, rng.uniform() < 0.6 ? "neutral" : "emotional", a, b, lv);
      }
    } else if (type == "action") {
      add_music(s, rng, "action",
                rng.uniform() < 0.7 ? 0.0 : rng.uniform(0, std::min(5.0, duration / 3)), duration,
                lv);
    } else {
      add_music(
          s, rng, "emotional",
          rng.uniform() < 0.6 ? 0.0 : rng.uniform(0, std::min(4.0, duration / 4)),
          duration - (rng.uniform() < 0.5 ? 0.0 : rng.uniform(0, std::min(4.0, duration / 4))), lv);
    }
    // effects
    if (type == "action") {
      for (double t = rng.uniform(0, 1); t < duration - 0.1;
           t += 0.2 - 0.7 * std::log(1 - rng.uniform())) {
        const Clip& e = pick(rng, effects_);
        const double len = std::min(static_cast<double>(e.x.size()) / sr_, duration - t);
        add_event(
            s, {"effect", e.source, "", t, len, 0, lv.effect + rng.uniform(-lv.spread, lv.spread)});
      }
    }
    // speaker turns
    std::vector<std::string> cast;
    for (const auto& [c, lines] : pool_.voices) cast.push_back(c);
    const size_t n_chars = type == "emotional" ? 1 + rng.below(2) : 2 + rng.below(2);
    // the characters that have spoken least in this split so far (random among equals)
    std::vector<std::pair<double, std::string>> by_use;
    for (const auto& c : cast) by_use.emplace_back(spoken_[c] + rng.uniform(0, 1), c);
    std::sort(by_use.begin(), by_use.end());
    std::vector<std::string> chars;
    for (size_t i = 0; i < n_chars && i < by_use.size(); ++i) chars.push_back(by_use[i].second);
    struct Style {
      int max_lines;
      double pause_lo, pause_hi, gap_lo, gap_hi, overlap_p;
    };
    const Style st = type == "dialog"   ? Style{4, 0.15, 0.5, 0.3, 1.5, 0.2}
                     : type == "action" ? Style{3, 0.1, 0.4, 0.5, 2.5, 0.1}
                                        : Style{2, 0.3, 0.8, 1.5, 5.0, 0.0};
    double t = rng.uniform(0.2, 1.5);
    std::string prev;
    for (;;) {
      std::string who = pick(rng, chars);
      if (chars.size() > 1) {
        while (who == prev) who = pick(rng, chars);
      }
      const int n = 1 + static_cast<int>(rng.below(static_cast<uint64_t>(st.max_lines)));
      double start = t, end = t, last_start = t;
      for (int i = 0; i < n; ++i) {
        const Clip& line = *pick(rng, pool_.voices.at(who));
        const double len = static_cast<double>(line.x.size()) / sr_;
        if (t + len > duration - 0.1) break;
        const DemoEvent e = add_event(s, {"voice", line.source, who, t, len, 0,
                                          lv.voice + rng.uniform(-lv.spread, lv.spread)});
        spoken_[who] += len;
        if (end == start) start = e.start;
        last_start = e.start;
        end = e.start + e.duration;
        t = end + rng.uniform(st.pause_lo, st.pause_hi);
      }
      if (end == start) break;
      turns_.push_back({start, end, who});
      prev = who;
      t = rng.uniform() < st.overlap_p ? std::max(end - rng.uniform(0.1, 0.4), last_start + 0.25)
                                       : end + rng.uniform(st.gap_lo, st.gap_hi);
    }
    s.segments = segments(duration);
    return s;
  }

 private:
  struct Turn {
    double start, end;
    std::string who;
  };

  void add_music(DemoScene& s, SplitMix64& rng, const std::string& mood, double a, double b,
                 const Levels& lv) {
    const Clip& track = *pick(rng, pool_.music.at(mood));
    const double avail = static_cast<double>(track.x.size()) / sr_;
    const double len = std::min(b - a, avail);
    if (len < 1.0) return;
    const double offset = rng.uniform(0, avail - len);
    const DemoEvent e = add_event(s, {"music", track.source, "", a, len, offset,
                                      lv.music + rng.uniform(-lv.spread, lv.spread)});
    music0_ = e.start;
    music1_ = e.start + e.duration;
  }

  // Speaker of turn i holds the floor from its start to its end, or to the next turn's start
  // when that one overlaps it.
  std::vector<DemoSegment> segments(double duration) const {
    std::vector<double> cuts = {0, duration};
    std::vector<std::pair<double, double>> held;
    for (size_t i = 0; i < turns_.size(); ++i) {
      const double end =
          i + 1 < turns_.size() ? std::min(turns_[i].end, turns_[i + 1].start) : turns_[i].end;
      held.emplace_back(turns_[i].start, end);
      cuts.push_back(turns_[i].start);
      cuts.push_back(end);
    }
    if (music0_ >= 0) {
      cuts.push_back(music0_);
      cuts.push_back(music1_);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(
        std::unique(cuts.begin(), cuts.end(), [](double a, double b) { return b - a < 1e-6; }),
        cuts.end());
    std::vector<DemoSegment> out;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      const double a = cuts[i], b = cuts[i + 1], mid = (a + b) / 2;
      if (b <= a || a >= duration) continue;
      DemoSegment seg{a, std::min(b, duration), "none",
                      mid >= music0_ && mid < music1_ ? "yes" : "no"};
      for (size_t k = 0; k < held.size(); ++k) {
        if (mid >= held[k].first && mid < held[k].second) seg.character = turns_[k].who;
      }
      if (!out.empty() && out.back().character == seg.character && out.back().music == seg.music) {
        out.back().end = seg.end;
      } else {
        out.push_back(seg);
      }
    }
    return out;
  }

  const Pool& pool_;
  const std::vector<Clip>& effects_;
  const std::vector<Clip>& ambience_;
  int sr_;
  std::vector<Turn> turns_;
  std::map<std::string, double> spoken_;  // seconds of speech per character in this split
  double music0_ = -1, music1_ = -1;
};

std::string fmt(double t) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(3) << t;
  return os.str();
}

}  // namespace

DemoCorpus build_demo_corpus(const DemoConfig& cfg, const SplitPolicy& split,
                             const stdfs::path& audio_root, const stdfs::path& manifest) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto& names = split_names();
  const auto frac = split.fractions();
  // 1. sources, and which split each voice line / music track belongs to
  std::vector<Clip> voices, music, effects, ambience;
  std::vector<int> voice_split, music_split;
  // a recording found in two packs (e.g. Default/PoisonMoan.ogg = HillBilly/PoisonMoan.ogg)
  // cannot say who speaks: such files are left out
  std::map<std::string, std::vector<std::pair<stdfs::path, size_t>>>
      pack_files;  // file, content hash
  std::map<size_t, std::set<std::string>> packs_of_content;
  for (const auto& pack : demo_cast()) {
    const auto dir = cfg.voices / pack;
    if (!stdfs::is_directory(dir)) {
      throw InputError("demo corpus: no voice pack '" + dir.string() +
                       "' (install hedgewars-data: scripts/setup.sh)");
    }
    for (const auto& e : stdfs::directory_iterator(dir)) {
      if (e.path().extension() != ".ogg") continue;
      const size_t hash = std::hash<std::string>{}(fs::read_text(e.path()));
      pack_files[pack].emplace_back(e.path(), hash);
      packs_of_content[hash].insert(pack);
    }
  }
  for (const auto& pack : demo_cast()) {
    std::vector<stdfs::path> files;
    for (const auto& [f, hash] : pack_files[pack]) {
      if (packs_of_content[hash].size() == 1) files.push_back(f);
    }
    std::sort(files.begin(), files.end());
    const auto s =
        assign_items(files.size(), frac, derive_seed(cfg.seed, pack.c_str()), "voice pack " + pack);
    for (size_t i = 0; i < files.size(); ++i) {
      voices.push_back({files[i].string(), pack, "", {}});
      voice_split.push_back(s[i]);
    }
  }
  std::map<std::string, size_t> tracks_per_mood;
  for (const auto& [file, mood] : demo_music()) ++tracks_per_mood[mood];
  for (const auto& [mood, n] : tracks_per_mood) {
    const auto s = assign_items(n, frac, derive_seed(cfg.seed, mood.c_str()), mood + " music");
    size_t k = 0;
    for (const auto& [file, m] : demo_music()) {
      if (m != mood) continue;
      music.push_back({(cfg.wesnoth / "music" / file).string(), "", mood, {}});
      music_split.push_back(s[k++]);
    }
  }
  for (const auto& f : demo_effects())
    effects.push_back({(cfg.wesnoth / "sounds" / f).string(), "", "", {}});
  for (const auto& f : demo_ambience())
    ambience.push_back({(cfg.wesnoth / "sounds" / "ambient" / f).string(), "", "", {}});

  // 2. decode (music: only as much as the corpus can use)
  const double music_limit_s =
      std::clamp(15 + cfg.minutes * 60 / static_cast<double>(music.size()), 20.0, 600.0);
  std::vector<Clip*> all;
  for (auto* v : {&voices, &music, &effects, &ambience}) {
    for (auto& c : *v) all.push_back(&c);
  }
  {
    Progress progress("demo sources", all.size(), "files");
    std::mutex m;
    parallel_for(static_cast<int64_t>(all.size()), resolve_threads(0), [&](int64_t i) {
      Clip& c = *all[i];
      if (!stdfs::is_regular_file(c.source)) {
        throw InputError("demo corpus: missing '" + c.source +
                         "' (install the wesnoth/hedgewars data: scripts/setup.sh)");
      }
      if (c.mood.empty()) {
        c.x = io::load_mono(c.source, cfg.sr);
      } else {
        io::MonoReader reader(c.source, cfg.sr);
        c.x.resize(static_cast<size_t>(music_limit_s * cfg.sr));
        size_t got = 0;
        for (size_t r;
             got < c.x.size() && (r = reader.read(c.x.data() + got, c.x.size() - got)) > 0;)
          got += r;
        c.x.resize(got);
      }
      c.x = trim(c.x);
      std::lock_guard<std::mutex> lock(m);
      progress.advance();
    });
  }
  auto long_enough = [&](const Clip& c) {
    return static_cast<double>(c.x.size()) >= kMinLine_s * cfg.sr;
  };
  std::vector<Pool> pools(3);
  for (size_t i = 0; i < voices.size(); ++i) {
    if (long_enough(voices[i]))
      pools[static_cast<size_t>(voice_split[i])].voices[voices[i].character].push_back(&voices[i]);
  }
  for (size_t i = 0; i < music.size(); ++i) {
    if (long_enough(music[i]))
      pools[static_cast<size_t>(music_split[i])].music[music[i].mood].push_back(&music[i]);
  }
  effects.erase(
      std::remove_if(effects.begin(), effects.end(), [&](const Clip& c) { return c.x.empty(); }),
      effects.end());

  // 3. plan the scenes of each split from its own pool
  DemoCorpus corpus;
  for (size_t s = 0; s < 3; ++s) {
    if (frac[s] <= 0) continue;
    for (const auto& c : demo_cast()) {
      if (pools[s].voices[c].empty())
        throw InputError("demo corpus: no voice line of '" + c + "' for " + names[s]);
    }
    for (const auto& [mood, n] : tracks_per_mood) {
      if (pools[s].music[mood].empty())
        throw InputError("demo corpus: no " + mood + " music track for " + names[s]);
    }
    SplitMix64 rng(derive_seed(cfg.seed, names[s].c_str()));
    ScenePlanner planner(pools[s], effects, ambience, cfg.sr);
    const double target = cfg.minutes * 60 * frac[s];
    static const char* kCycle[] = {"dialog",    "action", "emotional", "dialog",
                                   "emotional", "action", "dialog"};
    double total = 0;
    for (int i = 0; target - total >= 6.0; ++i) {
      const std::string type = kCycle[(static_cast<size_t>(i) + rng.below(2)) % 7];
      const double want = type == "dialog"   ? rng.uniform(25, 50)
                          : type == "action" ? rng.uniform(20, 40)
                                             : rng.uniform(25, 45);
      const double len = std::floor(std::min(want, target - total) * 10) / 10;
      std::ostringstream name;
      name << names[s] << "-" << type << "-" << std::setw(3) << std::setfill('0') << i;
      auto scene = planner.plan(name.str(), names[s], type, len, rng);
      scene.path = names[s] + "/" + scene.name + ".wav";
      for (const auto& e : scene.events) {
        if (e.kind == "voice" || e.kind == "music") corpus.sources[names[s]].insert(e.source);
      }
      corpus.scenes.push_back(std::move(scene));
      total += len;
    }
  }

  // 4. render and write the WAVs, then the manifest
  for (const auto& n : names) {
    const auto dir = audio_root / n;
    if (stdfs::is_directory(dir)) {
      for (const auto& e : stdfs::directory_iterator(dir)) {
        if (e.path().extension() == ".wav") stdfs::remove(e.path());
      }
    }
  }
  const auto clips = demo_mix::index_clips(voices, music, effects, ambience);
  {
    Progress progress("demo scenes", corpus.scenes.size(), "scenes");
    std::mutex m;
    parallel_for(static_cast<int64_t>(corpus.scenes.size()), resolve_threads(0), [&](int64_t i) {
      const DemoScene& s = corpus.scenes[i];
      const auto mix = demo_mix::render(s, clips, cfg.sr, derive_seed(cfg.seed, s.name.c_str()));
      io::write_wav(audio_root / s.path, mix.data(), mix.size(), cfg.sr);
      std::lock_guard<std::mutex> lock(m);
      progress.advance();
    });
  }
  std::ostringstream csv;
  csv << demo_corpus_stamp(cfg, split) << "\n"
      << "path,start,end,character,music,scene,group,split\n";
  double seconds = 0;
  for (const auto& s : corpus.scenes) {
    for (const auto& seg : s.segments) {
      csv << s.path << "," << fmt(seg.start) << "," << fmt(seg.end) << "," << seg.character << ","
          << seg.music << "," << s.type << "," << s.name << "," << s.split << "\n";
    }
    seconds += s.duration;
  }
  fs::write_text(manifest, csv.str());
  HP_LOG_INFO("demo corpus: {} scenes, {:.1f} min of audio in '{}' ({:.1f} s)",
              corpus.scenes.size(), seconds / 60, audio_root.string(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return corpus;
}

std::string demo_corpus_stamp(const DemoConfig& cfg, const SplitPolicy& split) {
  std::ostringstream os;
  os << "# hptrain demo corpus: minutes " << cfg.minutes << " seed " << cfg.seed << " sr " << cfg.sr
     << " split " << split.train << "/" << split.validation << "/" << split.test << " seed "
     << split.seed << " voices " << cfg.voices.string() << " wesnoth " << cfg.wesnoth.string();
  return os.str();
}

bool demo_corpus_present(const DemoConfig& cfg, const SplitPolicy& split,
                         const stdfs::path& audio_root, const stdfs::path& manifest) {
  if (!stdfs::exists(manifest)) return false;
  const std::string text = fs::read_text(manifest);
  if (text.compare(0, text.find('\n'), demo_corpus_stamp(cfg, split)) != 0) return false;
  const auto rows = parse_csv(text, manifest.string());
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].fields.empty() || !stdfs::exists(audio_root / rows[i].fields[0])) return false;
  }
  return rows.size() > 1;
}

}  // namespace hptrain::data
