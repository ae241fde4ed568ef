// The demo's open-set set: hedgewars voices no demo run trained on, as enrolment clips and test
// clips kept apart (demo_corpus.h, build_demo_open_set).
#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "demo/voice_lines.h"
#include "hptrain/data/dataset.h"
#include "hptrain/data/manifest.h"
#include "hptrain/data/random.h"
#include "hptrain/demo/demo_corpus.h"
#include "hptrain/error.h"
#include "hptrain/fs.h"
#include "hptrain/io/audio.h"
#include "hptrain/log.h"

namespace hptrain::data {

namespace stdfs = std::filesystem;

const std::vector<std::string>& demo_open_set_cast() {
  static const std::vector<std::string> kCast = {"British", "Mobster", "Pirate", "Singer"};
  return kCast;
}

const std::vector<std::string>& demo_open_set_unknown() {
  static const std::vector<std::string> kUnknown = {"Russian", "Surfer"};
  return kUnknown;
}

namespace {

constexpr int kEnrolClips = 4;        // per enrolled pack: "a few lines per character"
constexpr double kEnrolClip_s = 3.0;  // an enrolment clip holds at least this much
constexpr double kTestClip_s = 2.0;   // a test clip: at least this (the default window is 1.5 s)
constexpr double kGap_s = 0.2;        // silence between two lines of a clip
using voice_lines::kMinLine_s;
using voice_lines::trim;

std::string fmt(double t) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(3) << t;
  return os.str();
}

std::string stamp(const DemoConfig& cfg) {
  std::ostringstream os;
  os << "# hptrain demo open-set set: seed " << cfg.seed << " sr " << cfg.sr << " voices "
     << cfg.voices.string();
  return os.str();
}

struct Line {
  std::string source;
  std::vector<float> x;
};

// Consecutive lines joined (kGap_s apart) into clips of at least `min_s`; a remainder shorter
// than that joins the last clip (or is a clip of its own when there is none).
std::vector<std::vector<const Line*>> group(const std::vector<const Line*>& lines, double min_s,
                                            int sr) {
  std::vector<std::vector<const Line*>> out;
  std::vector<const Line*> cur;
  double len = 0;
  for (const Line* l : lines) {
    len += (cur.empty() ? 0 : kGap_s) + static_cast<double>(l->x.size()) / sr;
    cur.push_back(l);
    if (len >= min_s) {
      out.push_back(std::move(cur));
      cur.clear();
      len = 0;
    }
  }
  if (!cur.empty()) {
    if (out.empty()) {
      out.push_back(std::move(cur));
    } else {
      out.back().insert(out.back().end(), cur.begin(), cur.end());
    }
  }
  return out;
}

}  // namespace

OpenSet build_demo_open_set(const DemoConfig& cfg, const stdfs::path& dir) {
  // every recording of every pack by content: one found in two packs is left out (it may be a
  // training voice's, or says nothing of who speaks)
  std::map<size_t, std::set<std::string>> packs_of_content;
  std::map<std::string, std::vector<std::pair<stdfs::path, size_t>>> files;
  if (!stdfs::is_directory(cfg.voices)) {
    throw InputError("demo open-set set: no voice folder '" + cfg.voices.string() +
                     "' (install hedgewars-data: scripts/setup.sh)");
  }
  for (const auto& d : stdfs::directory_iterator(cfg.voices)) {
    if (!d.is_directory()) continue;
    const std::string pack = d.path().filename().string();
    for (const auto& e : stdfs::directory_iterator(d.path())) {
      if (e.path().extension() != ".ogg" && e.path().extension() != ".wav") continue;
      const size_t hash = std::hash<std::string>{}(fs::read_text(e.path()));
      files[pack].emplace_back(e.path(), hash);
      packs_of_content[hash].insert(pack);
    }
  }
  std::vector<std::string> packs = demo_open_set_cast();
  for (const auto& p : demo_open_set_unknown()) packs.push_back(p);
  OpenSet set;
  stdfs::create_directories(dir / "enrol");
  stdfs::create_directories(dir / "test");
  for (const auto* sub : {"enrol", "test"}) {
    for (const auto& e : stdfs::directory_iterator(dir / sub)) {
      if (e.path().extension() == ".wav") stdfs::remove(e.path());
    }
  }
  for (const auto& pack : packs) {
    if (files[pack].empty()) {
      throw InputError("demo open-set set: no voice pack '" + (cfg.voices / pack).string() +
                       "' (install hedgewars-data: scripts/setup.sh)");
    }
    std::vector<stdfs::path> paths;
    for (const auto& [f, hash] : files[pack]) {
      if (packs_of_content[hash].size() == 1) paths.push_back(f);
    }
    std::sort(paths.begin(), paths.end());
    std::vector<Line> lines;
    for (const auto& p : paths) {
      Line l{p.string(), trim(io::load_mono(p.string(), cfg.sr))};
      if (static_cast<double>(l.x.size()) >= kMinLine_s * cfg.sr) lines.push_back(std::move(l));
    }
    const auto order =
        permutation(static_cast<int64_t>(lines.size()), derive_seed(cfg.seed, pack.c_str()));
    std::vector<const Line*> shuffled;
    for (int64_t i : order) shuffled.push_back(&lines[static_cast<size_t>(i)]);
    const bool enrolled = std::find(demo_open_set_cast().begin(), demo_open_set_cast().end(),
                                    pack) != demo_open_set_cast().end();
    std::vector<const Line*> rest = shuffled;
    std::vector<std::vector<const Line*>> enrol_clips;
    if (enrolled) {
      // the first lines of the shuffled order, up to kEnrolClips clips of kEnrolClip_s
      double len = 0;
      size_t k = 0;
      std::vector<const Line*> cur;
      while (k < shuffled.size() && static_cast<int>(enrol_clips.size()) < kEnrolClips) {
        len += (cur.empty() ? 0 : kGap_s) + static_cast<double>(shuffled[k]->x.size()) / cfg.sr;
        cur.push_back(shuffled[k++]);
        if (len >= kEnrolClip_s) {
          enrol_clips.push_back(std::move(cur));
          cur.clear();
          len = 0;
        }
      }
      rest.assign(shuffled.begin() + static_cast<std::ptrdiff_t>(k), shuffled.end());
      if (static_cast<int>(enrol_clips.size()) < kEnrolClips || rest.empty()) {
        throw InputError("demo open-set set: voice pack '" + pack + "' has too few lines (" +
                         std::to_string(lines.size()) + ") for " + std::to_string(kEnrolClips) +
                         " enrolment clips and a test clip");
      }
    }
    const auto test_clips = group(rest, kTestClip_s, cfg.sr);
    const auto write = [&](const std::vector<std::vector<const Line*>>& clips, const char* sub,
                           std::vector<OpenSetClip>& out) {
      for (size_t c = 0; c < clips.size(); ++c) {
        std::vector<float> x;
        OpenSetClip clip;
        for (const Line* l : clips[c]) {
          if (!x.empty()) x.resize(x.size() + static_cast<size_t>(std::lround(kGap_s * cfg.sr)));
          x.insert(x.end(), l->x.begin(), l->x.end());
          clip.lines.push_back(l->source);
        }
        std::ostringstream name;
        name << sub << "/" << pack << "-" << std::setw(2) << std::setfill('0') << c << ".wav";
        clip.path = name.str();
        clip.voice = pack;
        clip.duration = static_cast<double>(x.size()) / cfg.sr;
        io::write_wav(dir / clip.path, x.data(), x.size(), cfg.sr);
        out.push_back(std::move(clip));
      }
    };
    write(enrol_clips, "enrol", set.enrol);
    write(test_clips, "test", set.test);
  }
  // end times on the millisecond grid, never past the clip
  const auto end = [](double d) { return fmt(std::floor(d * 1000) / 1000); };
  std::ostringstream cast;
  cast << stamp(cfg) << "\n"
       << "path,start,end,character\n";
  for (const auto& c : set.enrol)
    cast << c.path << ",0.000," << end(c.duration) << "," << c.voice << "\n";
  fs::write_text(dir / "cast.csv", cast.str());
  std::ostringstream test;
  test << stamp(cfg) << "\n"
       << "path,start,end,character,voice\n";
  for (const auto& c : set.test) {
    const bool enrolled = std::find(demo_open_set_cast().begin(), demo_open_set_cast().end(),
                                    c.voice) != demo_open_set_cast().end();
    test << c.path << ",0.000," << end(c.duration) << "," << (enrolled ? c.voice : "unknown") << ","
         << c.voice << "\n";
  }
  fs::write_text(dir / "test.csv", test.str());
  HP_LOG_INFO("demo open-set set: {} enrolment and {} test clips of {} voices in '{}'",
              set.enrol.size(), set.test.size(), packs.size(), dir.string());
  return set;
}

bool demo_open_set_present(const DemoConfig& cfg, const stdfs::path& dir) {
  for (const char* name : {"cast.csv", "test.csv"}) {
    const auto manifest = dir / name;
    if (!stdfs::exists(manifest)) return false;
    const std::string text = fs::read_text(manifest);
    if (text.compare(0, text.find('\n'), stamp(cfg)) != 0) return false;
    const auto rows = parse_csv(text, manifest.string());
    if (rows.size() < 2) return false;
    for (size_t i = 1; i < rows.size(); ++i) {
      if (rows[i].fields.empty() || !stdfs::exists(dir / rows[i].fields[0])) return false;
    }
  }
  return true;
}

}  // namespace hptrain::data
