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

// The open-set check (issue 24, README "Voices never heard"): hedgewars packs no demo run
// trained on. Packs that share a recording with one of demo_cast() (Classic and Default_uk with
// Default, Russian_pl with Default_pl: maybe the same actor) are not among them.
const std::vector<std::string>& demo_open_set_cast();     // enrolled: the cast to name
const std::vector<std::string>& demo_open_set_unknown();  // not enrolled: to be named `unknown`

// One clip of the open-set set: voice lines of one pack (trimmed, kept apart by 0.2 s of
// silence) in one WAV at DemoConfig::sr.
struct OpenSetClip {
  std::string path;   // relative to the open-set folder: enrol/<pack>-<n>.wav, test/<pack>-<n>.wav
  std::string voice;  // the pack
  double duration = 0;
  std::vector<std::string> lines;  // the source files it was made of
};

struct OpenSet {
  std::vector<OpenSetClip> enrol, test;  // no source line in both
};

// Builds the open-set set under `dir`: per pack of demo_open_set_cast(), four
// clips of at least 3 s (the enrolment) and the pack's other lines as test clips of at least
// 2 s; every line of demo_open_set_unknown() as test clips. Writes the WAVs, then
// dir/cast.csv (path,start,end,character: the enrolment, as `hptrain enroll` reads it) and
// last dir/test.csv (path,start,end,character,voice: character is the pack for enrolled voices
// and `unknown` for the others, voice always the pack), stamped like the corpus's manifest.
// Recordings found in two packs are left out. Deterministic for cfg.seed.
OpenSet build_demo_open_set(const DemoConfig& cfg, const std::filesystem::path& dir);

// True when dir/test.csv was written by build_demo_open_set with cfg and every clip it and
// dir/cast.csv name is there.
bool demo_open_set_present(const DemoConfig& cfg, const std::filesystem::path& dir);

}  // namespace hptrain::data
