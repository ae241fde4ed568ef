// The demo corpus's mixer: a planned scene's events rendered into one signal, each at its level,
// the voices through the room of the scene type (a velvet-noise reverberation), the mix's peak
// kept under 0.95. Private to the demo builder (demo_corpus.cpp plans, this mixes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hptrain/demo/demo_corpus.h"

namespace hptrain::data::demo_mix {

// Per scene type: RMS levels in the mix (dBFS) with the spread of their random gains, the
// reverberation time and wet level of the room.
struct Levels {
  double voice, music, effect, ambience, spread, rt60_lo, rt60_hi, wet_db;
};
const Levels& levels(const std::string& type);

// A decoded source: a voice line (its character), a music track (its mood), an effect or an
// ambience, mono at the corpus's rate.
struct Clip {
  std::string source;
  std::string character;  // voices
  std::string mood;       // music
  std::vector<float> x;
};

// Root mean square of n samples (0 for none).
double rms(const float* x, size_t n);

// Every clip by its source path.
std::map<std::string, const Clip*> index_clips(const std::vector<Clip>& voices,
                                               const std::vector<Clip>& music,
                                               const std::vector<Clip>& effects,
                                               const std::vector<Clip>& ambience);

// The scene's mix, seconds at `sr`; the room drawn from `seed`.
std::vector<float> render(const DemoScene& s, const std::map<std::string, const Clip*>& clips,
                          int sr, uint64_t seed);

}  // namespace hptrain::data::demo_mix
