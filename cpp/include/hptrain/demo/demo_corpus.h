// The demo corpus (datasets/demo/README.md): film-like scenes (dialog, action, emotional) mixed
// from Debian's hedgewars voices and wesnoth music/effects, as WAVs plus a labelled manifest.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hptrain/data/dataset_config.h"

namespace hptrain::data {

// The cast (hedgewars voice packs, one character each) and the music moods, as in the README.
const std::vector<std::string>& demo_cast();
const std::vector<std::pair<std::string, std::string>>& demo_music();  // track file -> mood
const std::vector<std::string>& demo_effects();                        // under <wesnoth>/sounds/
const std::vector<std::string>& demo_ambience();  // under <wesnoth>/sounds/ambient/

// One sound placed in a scene: [start, start + duration) of the scene's time.
struct DemoEvent {
  std::string kind;       // voice | music | effect | ambience
  std::string source;     // the file it comes from
  std::string character;  // voice: the pack; else empty
  double start = 0;
  double duration = 0;
  double source_offset = 0;  // seconds into the (trimmed) source
  double level_db = 0;       // RMS level in the mix (dBFS)
};

// A manifest row: labels constant over [start, end).
struct DemoSegment {
  double start = 0;
  double end = 0;
  std::string character;  // a cast member or "none"
  std::string music;      // yes | no
};

struct DemoScene {
  std::string name;   // "<split>-<type>-<nnn>"
  std::string split;  // train | validation | test
  std::string type;   // dialog | action | emotional
  double duration = 0;
  std::vector<DemoEvent> events;
  std::vector<DemoSegment> segments;  // a partition of [0, duration)
  std::string path;                   // the WAV, relative to the audio root
};

struct DemoCorpus {
  std::vector<DemoScene> scenes;
  // Voice lines and music tracks each split drew from (disjoint across splits).
  std::map<std::string, std::set<std::string>> sources;
};

// Builds the corpus: scene WAVs under audio_root/<split>/ and then the manifest (written last,
// so that its presence means the corpus is complete). Deterministic for cfg.seed. Throws
// InputError when the Debian packages' files are missing.
DemoCorpus build_demo_corpus(const DemoConfig& cfg, const SplitPolicy& split,
                             const std::filesystem::path& audio_root,
                             const std::filesystem::path& manifest);

// The manifest's first line, a CSV comment naming what the corpus was built from (minutes,
// seeds, rate, split fractions, source folders).
std::string demo_corpus_stamp(const DemoConfig& cfg, const SplitPolicy& split);

// True when `manifest` was written by build_demo_corpus with these parameters (its stamp) and
// every scene it names is under audio_root: a corpus built with other settings is built again.
bool demo_corpus_present(const DemoConfig& cfg, const SplitPolicy& split,
                         const std::filesystem::path& audio_root,
                         const std::filesystem::path& manifest);

}  // namespace hptrain::data
