// Train-free speech activity detection on 10 ms frames (embedder.h's frame_features): energy
// above a local noise floor, with hysteresis, a spectral veto and hangover. Documented in the
// README ("Diarization", "Speech activity").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hptrain::diarization {

struct VadConfig {
  double on_db = 9;           // a frame turns speech on when its energy is this far over the floor
  double off_db = 5;          // ... and stays on while it is this far over it (hysteresis)
  double floor_window_s = 3;  // the floor: the minimum of the smoothed energy over this window
  double range_db = 45;       // frames more than this under the file's loudest are never speech
  double min_band_share = 0.35;  // onset needs this share of the power in 300-3400 Hz ...
  double max_flatness = 0.6;     // ... and a spectrum less flat than this (noise, hiss)
  double hangover_s = 0.15;      // speech extended this long after its last frame
  double min_speech_s = 0.12;    // shorter bursts dropped
  double min_gap_s = 0.25;       // shorter pauses filled
  // a SpeechModel's probabilities: speech starts at `prob_on` and lasts while >= `prob_off`
  double prob_on = 0.5;
  double prob_off = 0.35;
  void validate() const;
};

// One value per frame: 1 speech, 0 not. energy_db, band_share, flatness: per frame.
std::vector<uint8_t> detect_speech(const std::vector<float>& energy_db,
                                   const std::vector<float>& band_share,
                                   const std::vector<float>& flatness, const VadConfig& cfg);

// A trained speech detector (`diarize --vad PATH`: a TorchScript model such as Silero VAD),
// fed the whole recording in order, 16 kHz mono, block by block; then asked for one speech
// probability per 10 ms frame (frame t: [0.01 t + 0.011, 0.01 (t + 1) + 0.011) s).
class SpeechModel {
 public:
  virtual ~SpeechModel() = default;
  virtual std::string name() const = 0;
  virtual void feed(const float* samples, size_t n) = 0;
  virtual std::vector<float> frame_probabilities(int64_t frames) = 0;
};

// Speech frames from probabilities: hysteresis (prob_on, prob_off), then the same hangover,
// burst and pause rules as detect_speech.
std::vector<uint8_t> speech_from_probabilities(const std::vector<float>& prob,
                                               const VadConfig& cfg);

}  // namespace hptrain::diarization
